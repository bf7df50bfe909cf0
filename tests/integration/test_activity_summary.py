"""GetActivitySummary: the officers' overview figures aggregated at the node, over real mTLS gRPC."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from share_gateway.domain.events import Event, EventKind, Outcome
from share_gateway.node import Node
from share_gateway.store.activity import count_activity_of
from share_gateway.store.repositories import Store
from share_gateway.v1 import compliance_pb2
from tests.conftest import ChannelFactory
from tests.integration.test_compliance import activity, officer
from tests.support import REGION, error_reason, field_violations


def stamp(at: datetime) -> Timestamp:
    wire = Timestamp()
    wire.FromDatetime(at)
    return wire


def today_range(days: int = 1) -> compliance_pb2.GetActivitySummaryRequest:
    now = datetime.now(UTC)
    return compliance_pb2.GetActivitySummaryRequest(
        since=stamp(now - timedelta(days=days)), until=stamp(now + timedelta(hours=1))
    )


async def test_counts_per_day_kind_purpose_and_outcome(node: Node, connect: ChannelFactory) -> None:
    await activity(node, connect)
    answer = await officer(connect).GetActivitySummary(today_range(), timeout=5)
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    counts = {(c.day, c.kind, c.purpose, c.outcome): c.count for c in answer.counts}
    assert counts[(day, "inquiry", "loan_underwriting", "allowed")] == 4
    assert counts[(day, "inquiry", "loan_underwriting", "denied")] == 1
    assert counts[(day, "record_submitted", "", "allowed")] == 2
    assert answer.log_size == sum(counts.values()) > 0
    assert answer.checkpoint.startswith(b"share-gateway/node/")


async def test_a_range_before_the_events_counts_nothing(node: Node, connect: ChannelFactory) -> None:
    await activity(node, connect)
    old = datetime(2020, 1, 1, tzinfo=UTC)
    request = compliance_pb2.GetActivitySummaryRequest(since=stamp(old), until=stamp(old + timedelta(days=30)))
    answer = await officer(connect).GetActivitySummary(request, timeout=5)
    assert list(answer.counts) == []
    assert answer.log_size > 0


async def test_only_officers_get_the_summary(node: Node, connect: ChannelFactory) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await officer(connect, "bank").GetActivitySummary(today_range(), timeout=5)
    assert raised.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert error_reason(raised.value) == "NOT_A_COMPLIANCE_OFFICER"


@pytest.mark.parametrize(
    ("request_", "violations"),
    [
        (compliance_pb2.GetActivitySummaryRequest(), {"since": "is required", "until": "is required"}),
        (
            compliance_pb2.GetActivitySummaryRequest(
                since=stamp(datetime(2026, 2, 1, tzinfo=UTC)), until=stamp(datetime(2026, 1, 1, tzinfo=UTC))
            ),
            {"until": "must be after since"},
        ),
        (
            compliance_pb2.GetActivitySummaryRequest(
                since=stamp(datetime(2024, 1, 1, tzinfo=UTC)), until=stamp(datetime(2026, 1, 1, tzinfo=UTC))
            ),
            {"until": "at most 366 days after since"},
        ),
    ],
)
async def test_a_bad_range_is_invalid_argument_naming_the_field(
    node: Node, connect: ChannelFactory, request_: compliance_pb2.GetActivitySummaryRequest, violations: dict[str, str]
) -> None:
    before = node.gateway.store.events.read()
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await officer(connect).GetActivitySummary(request_, timeout=5)
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(raised.value) == violations
    # Nothing but the logged review step was written.
    after = node.gateway.store.events.read()
    assert len(after) == len(before) + 1
    assert b'"action":"activity_summary"' in after[-1][1]


def test_one_requester_s_days_are_counted_from_the_search_index(store: Store) -> None:
    """Counted in UTC days on SQLite and PostgreSQL alike: a requester's events either side of midnight fall on
    their own days, and another requester's are not among them."""
    bank, other = "sgw://institution/91110000MA0000001L", "sgw://institution/91110000MA00000064"
    late = datetime(2026, 3, 2, 23, 59, tzinfo=UTC)
    early = late + timedelta(minutes=2)

    def event(actor: str, at: datetime, outcome: Outcome = Outcome.ALLOWED) -> Event:
        return Event(str(uuid.uuid4()), EventKind.INQUIRY, at, REGION, actor, outcome, purpose="loan_underwriting")

    store.append([event(bank, late), event(bank, early), event(bank, early, Outcome.DENIED), event(other, early)])
    store.log.integrate()
    counts = count_activity_of(store.database, bank, late - timedelta(hours=1), early + timedelta(hours=1))
    assert [(c.day, c.kind, c.purpose, c.outcome, c.count) for c in counts] == [
        ("2026-03-02", "inquiry", "loan_underwriting", "allowed", 1),
        ("2026-03-03", "inquiry", "loan_underwriting", "allowed", 1),
        ("2026-03-03", "inquiry", "loan_underwriting", "denied", 1),
    ]
    assert count_activity_of(store.database, bank, early + timedelta(hours=1), early + timedelta(hours=2)) == []


async def test_the_summary_of_one_requester_counts_only_its_events(node: Node, connect: ChannelFactory) -> None:
    await activity(node, connect)
    request = today_range()
    request.actor = "sgw://institution/91110000MA0000001L"
    answer = await officer(connect).GetActivitySummary(request, timeout=5)
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    counts = {(c.day, c.kind, c.purpose, c.outcome): c.count for c in answer.counts}
    assert counts == {
        (day, "inquiry", "loan_underwriting", "allowed"): 4,
        (day, "inquiry", "loan_underwriting", "denied"): 1,
    }


@pytest.mark.parametrize("actor", ["x" * 100_000, "sgw://institution/" + "9" * 300, "bank"])
async def test_a_bad_actor_is_invalid_argument_and_nothing_is_logged(
    node: Node, connect: ChannelFactory, actor: str
) -> None:
    """The actor would go into the review step's event: one that is no identity URI is refused first, so nobody
    can write a megabyte into the signed log by asking for a summary."""
    before = node.gateway.store.events.read()
    request = today_range()
    request.actor = actor
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await officer(connect).GetActivitySummary(request, timeout=5)
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert set(field_violations(raised.value)) == {"actor"}
    assert node.gateway.store.events.read() == before
