"""What crosses between regions is checked on both sides, every node in its own process.

The asking node relays only what a region may answer (the origin's signature, the types asked for, the
purpose's fields); the answering node logs every refusal, counted per region and reason; and clocks a few
seconds apart do not stop an exchange.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from sqlalchemy import select

from share_gateway.client import verify_record_disclosure
from share_gateway.config import NodeConfig
from share_gateway.crypto.keys import KeyRing
from share_gateway.devkit import Layout
from share_gateway.domain.events import EventKind
from share_gateway.federation.messages import digest
from share_gateway.store import schema
from share_gateway.store.database import open_database
from share_gateway.v1 import inquiry_pb2, inquiry_pb2_grpc
from tests.federation import (
    INVALID,
    OK,
    REGIONS,
    channel,
    federated,
    peer_call,
    seed,
    signed_inquiry,
    statuses,
)
from tests.processes import Cluster, federation_cluster, logged, serve_skewed_node
from tests.support import CALLERS, error_reason, inquiry
from tests.waiting import PROCESS_TEST_SECONDS

ASKER, HONEST, FAULTY = REGIONS
BANK = CALLERS["bank"][0].uri

pytestmark = pytest.mark.timeout(PROCESS_TEST_SECONDS)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    """Three regions, prepared but not started; refusal windows last an hour, so only a stop logs what they hold."""
    with federation_cluster(tmp_path / "federation", start=(), settings={"refusal_window_seconds": 3600}) as running:
        yield running


def ledger(layout: Layout, region: str) -> set[tuple[str, str]]:
    """(record id, origin) of every row of the region's disclosure ledger."""
    database = open_database(NodeConfig.load(layout.node_config(region)).database)
    try:
        with database.reader.connect() as connection:
            table = schema.disclosure_ledger.c
            return {
                (r.record_id, r.origin_region) for r in connection.execute(select(table.record_id, table.origin_region))
            }
    finally:
        database.dispose()


def region_detail(answer: inquiry_pb2.InquireResponse, region: str) -> str:
    return next(r.detail for r in answer.regions if r.region == region)


def nothing_of_the_faulty_region_is_used(cluster: Cluster, answer: inquiry_pb2.InquireResponse) -> None:
    """The bank got the honest records only; the asking node's log and ledger name only those."""
    keys = KeyRing(cluster.layout.node_verifying_key(region) for region in REGIONS)
    received = {
        (s.record_id, s.origin_region) for s in (verify_record_disclosure(r, keys).statement for r in answer.records)
    }
    assert all(origin != FAULTY for _, origin in received)
    assert not answer.measures
    [asked] = [e for e in logged(cluster.layout, ASKER) if e.kind is EventKind.INQUIRY and e.actor == BANK]
    assert {(r.record_id, r.origin_region) for r in asked.records} == received
    assert asked.details[f"region:{FAULTY}"].startswith("invalid")
    assert "measures" not in asked.details
    assert ledger(cluster.layout, ASKER) == received


async def test_a_record_claiming_a_third_regions_origin_is_invalid_and_never_relayed(cluster: Cluster) -> None:
    cluster.start(*REGIONS)
    await seed(cluster.layout, cluster.ports)
    # A nationally shared debtor record "from" the honest region, signed with the faulty region's own key:
    # relayed, it would put the company under a measure (restrict_high_consumption) on the word of a forger.
    cluster.replace(FAULTY, f"third-origin:{HONEST}")
    answer = await federated(cluster.layout, cluster.ports[ASKER])
    assert statuses(answer) == {ASKER: OK, HONEST: OK, FAULTY: INVALID}
    assert f"not signed by region {HONEST}, its origin" in region_detail(answer, FAULTY)
    assert len(answer.records) == 2
    nothing_of_the_faulty_region_is_used(cluster, answer)


async def test_fields_the_purpose_may_not_see_make_a_region_invalid(cluster: Cluster) -> None:
    cluster.start(*REGIONS)
    await seed(cluster.layout, cluster.ports)
    cluster.replace(FAULTY, "overreach")  # its own penalty, with violation_facts, which underwriting may not see
    answer = await federated(cluster.layout, cluster.ports[ASKER])
    assert statuses(answer) == {ASKER: OK, HONEST: OK, FAULTY: INVALID}
    assert "violation_facts" in region_detail(answer, FAULTY)
    nothing_of_the_faulty_region_is_used(cluster, answer)


async def test_a_record_of_a_type_not_asked_for_makes_a_region_invalid(cluster: Cluster) -> None:
    cluster.start(*REGIONS)
    cluster.replace(FAULTY, "unasked")  # a penalty, when only debtor records were asked for
    request = inquiry("loan_underwriting", consent="AUTH-1", record_types=("dishonest_judgment_debtor",))
    request.scope = inquiry_pb2.INQUIRY_SCOPE_FEDERATION
    async with channel(cluster.layout, cluster.ports[ASKER], "bank") as bank:
        answer = await inquiry_pb2_grpc.InquiryServiceStub(bank).Inquire(request, timeout=30)
    assert statuses(answer) == {ASKER: OK, HONEST: OK, FAULTY: INVALID}
    assert "not asked for" in region_detail(answer, FAULTY)
    nothing_of_the_faulty_region_is_used(cluster, answer)
    assert list(answer.records) == []


async def test_refused_peer_inquiries_are_logged_once_per_region_and_reason_with_their_count(cluster: Cluster) -> None:
    cluster.start(HONEST)
    honest = peer_call(cluster.layout, cluster.ports[HONEST], ASKER)
    genuine = signed_inquiry(cluster.layout, ASKER)
    await honest.Inquire(genuine, timeout=30)
    refused = {
        "REPLAYED": [genuine, genuine, genuine]
        + [signed_inquiry(cluster.layout, ASKER, at=datetime.now(UTC) - timedelta(minutes=10)) for _ in range(2)],
        "CATALOG_MISMATCH": [signed_inquiry(cluster.layout, ASKER, catalog_digest="0" * 64) for _ in range(2)],
    }
    for reason, requests in refused.items():
        for request in requests:
            with pytest.raises(grpc.aio.AioRpcError) as raised:
                await honest.Inquire(request, timeout=30)
            assert error_reason(raised.value) == reason
    cluster.processes.pop(HONEST).stop()  # a graceful stop logs the counts of the windows still open

    # The first of each reason was logged at once; the rest, held by its window, at the stop.
    events = [e for e in logged(cluster.layout, HONEST) if e.kind is EventKind.PEER_REFUSED]
    assert sorted((e.reason, e.details["count"]) for e in events) == [
        ("CATALOG_MISMATCH", "1"),
        ("CATALOG_MISMATCH", "1"),
        ("REPLAYED", "1"),
        ("REPLAYED", "4"),
    ]
    for event in events:
        assert event.actor == f"sgw://node/{ASKER}"
        assert event.details["region"] == ASKER
        assert event.details["calls"] == "Inquire"
    for reason, sent in refused.items():
        first, held = sorted((e for e in events if e.reason == reason), key=lambda e: e.details["first_at"])
        assert first.details["first_digest"] == digest(sent[0].inquiry.payload)
        assert held.details["first_digest"] == digest(sent[1].inquiry.payload)
        assert held.details.get("last_digest", held.details["first_digest"]) == digest(sent[-1].inquiry.payload)


async def test_a_node_whose_clock_runs_ahead_within_the_skew_gets_answers(cluster: Cluster) -> None:
    cluster.start(HONEST, FAULTY)
    ahead = serve_skewed_node(cluster.layout.node_config(ASKER), 20)
    ahead.wait_ready()
    cluster.processes[ASKER] = ahead
    await seed(cluster.layout, cluster.ports)
    answer = await federated(cluster.layout, cluster.ports[ASKER])
    assert statuses(answer) == {ASKER: OK, HONEST: OK, FAULTY: OK}, [r.detail for r in answer.regions]
    assert len(answer.records) == 3
