"""The disclosure windows over real gRPC: each answer honours the end of its purpose, a record without a decision
shows none, the end of the conduct is submitted, and a withdrawal is counted from the revoking decision.

Sources: State Council General Office 2025 No. 22 (minor information may stay unpublished); NDRC Order No. 36 of
2025 (publication and sharing end apart; the subject always sees its records); Credit Reporting Industry
Regulation Art. 16 (five years from the end of the conduct); SAMR Order 45 Art. 11 (a revoked decision withdrawn
within 3 working days).
"""

from __future__ import annotations

from datetime import date, timedelta

import grpc
import pytest

from share_gateway.client import verify_record_disclosure
from share_gateway.crypto.keys import KeyRing
from share_gateway.devkit import Layout
from share_gateway.domain.calendar import WorkingCalendar
from share_gateway.domain.events import Event, EventKind
from share_gateway.node import Node
from share_gateway.v1 import (
    catalog_pb2,
    catalog_pb2_grpc,
    compliance_pb2,
    compliance_pb2_grpc,
    inquiry_pb2_grpc,
    registry_pb2,
    registry_pb2_grpc,
)
from share_gateway.v1 import common_pb2 as pb
from tests.conftest import ChannelFactory
from tests.support import (
    PERSON,
    REGION,
    days_ago,
    field_violations,
    inquiry,
    loan_default_request,
    penalty_request,
    person,
    withdrawal,
)


def registry(connect: ChannelFactory) -> registry_pb2_grpc.RegistryServiceAsyncStub:
    return registry_pb2_grpc.RegistryServiceStub(connect("regulator"))


async def record_types_seen(
    connect: ChannelFactory, caller: str, purpose: str, keys: KeyRing, consent: str = ""
) -> set[str]:
    request = inquiry(purpose, subject=person(PERSON), consent=consent)
    answer = await inquiry_pb2_grpc.InquiryServiceStub(connect(caller)).Inquire(request, timeout=5)
    return {verify_record_disclosure(r, keys).statement.record_type for r in answer.records}


@pytest.fixture
def keys(federation: Layout) -> KeyRing:
    return KeyRing([federation.node_verifying_key(REGION)])


async def test_minor_record_never_published_yet_visible_to_its_subject(
    node: Node, connect: ChannelFactory, keys: KeyRing
) -> None:
    """2025 No. 22: minor information is not published by default; NDRC Order No. 36: it is still shared for a
    lawful purpose, and its subject sees it."""
    submitted = await registry(connect).SubmitRecord(penalty_request(subject=person(PERSON), severity="minor"))
    assert submitted.record.publish_until == days_ago(30)  # published for 0 days from its decision
    assert submitted.record.share_until == (date.fromisoformat(days_ago(30)) + timedelta(days=90)).isoformat()
    assert await record_types_seen(connect, "bank", "public_lookup", keys) == set()
    assert await record_types_seen(connect, "bank", "loan_underwriting", keys, consent="A") == {
        "administrative_penalty"
    }
    assert await record_types_seen(connect, "person", "self_inquiry", keys) == {"administrative_penalty"}


async def test_a_published_record_reaches_public_lookup(node: Node, connect: ChannelFactory, keys: KeyRing) -> None:
    """The contrast: a general penalty inside its period is published (public lookup sees it)."""
    await registry(connect).SubmitRecord(penalty_request(subject=person(PERSON), severity="general"))
    assert await record_types_seen(connect, "bank", "public_lookup", keys) == {"administrative_penalty"}


async def test_loan_default_runs_from_settlement_and_shows_no_decision_date(
    node: Node, connect: ChannelFactory
) -> None:
    """Credit Reporting Industry Regulation Art. 16: five years from the day the debt was settled; a record without
    a decision shows none (never today), and an unsettled one has no end yet."""
    settled = loan_default_request("settled")
    settled.settled_on = days_ago(100)
    record = (await registry(connect).SubmitRecord(settled, timeout=5)).record
    assert (record.decided_on, record.period_start) == ("", days_ago(100))
    assert record.share_until == (date.fromisoformat(days_ago(100)) + timedelta(days=1825)).isoformat()
    open_ended = (await registry(connect).SubmitRecord(loan_default_request("unsettled"), timeout=5)).record
    assert (open_ended.decided_on, open_ended.period_start, open_ended.share_until) == ("", "", "")


async def test_settled_on_refused_where_the_period_runs_from_the_decision(node: Node, connect: ChannelFactory) -> None:
    request = penalty_request()
    request.settled_on = days_ago(1)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await registry(connect).SubmitRecord(request, timeout=5)
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert set(field_violations(raised.value)) == {"settled_on"}
    assert node.gateway.store.count("records") == 0


async def test_late_withdrawal_counted_from_revoking_decision_shown_late(node: Node, connect: ChannelFactory) -> None:
    """SAMR Order 45 Art. 11: withdrawn within 3 working days of the revoking decision (the catalog's number),
    counted from that decision's date: a withdrawal 10 days after it is late, in the record and to officers."""
    submitted = (await registry(connect).SubmitRecord(penalty_request(), timeout=5)).record
    withdrawn = (await registry(connect).WithdrawRecord(withdrawal(submitted.record_id, issued=10), timeout=5)).record
    due = WorkingCalendar().add_working_days(date.fromisoformat(days_ago(10)), 3)
    assert withdrawn.withdrawal == pb.Withdrawal(
        revoked_on=days_ago(10), due=due.isoformat(), withdrawn_on=days_ago(0), late=True
    )
    read = await registry(connect).GetRecord(registry_pb2.GetRecordRequest(record_id=submitted.record_id), timeout=5)
    assert read.record.withdrawal == withdrawn.withdrawal
    await node.gateway.sequencer.step(force=True)
    search = compliance_pb2.SearchEventsRequest(filter=compliance_pb2.EventFilter(kind="record_withdrawn"))
    stub = compliance_pb2_grpc.ComplianceServiceStub(connect("officer"))
    [found] = [
        Event.from_bytes(e.event) for m in [m async for m in stub.SearchEvents(search, timeout=5)] for e in m.events
    ]
    assert found.kind is EventKind.RECORD_WITHDRAWN
    assert (found.details["late"], found.details["withdrawal_due"]) == ("true", due.isoformat())


async def test_a_withdrawal_on_the_day_of_the_revocation_is_in_time(node: Node, connect: ChannelFactory) -> None:
    submitted = (await registry(connect).SubmitRecord(penalty_request(), timeout=5)).record
    withdrawn = (await registry(connect).WithdrawRecord(withdrawal(submitted.record_id), timeout=5)).record
    assert (withdrawn.withdrawal.revoked_on, withdrawn.withdrawal.late) == (days_ago(0), False)


async def test_revoking_document_required_to_withdraw_a_decision(node: Node, connect: ChannelFactory) -> None:
    """SAMR Order 45 Art. 11 counts from the revoking decision: a record resting on a decision is withdrawn on it."""
    submitted = (await registry(connect).SubmitRecord(penalty_request(), timeout=5)).record
    request = registry_pb2.WithdrawRecordRequest(record_id=submitted.record_id, reason="revoked")
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await registry(connect).WithdrawRecord(request, timeout=5)
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert set(field_violations(raised.value)) == {"revoking_document"}
    stored = node.gateway.store.records.get(REGION, submitted.record_id)
    assert stored is not None
    assert stored.record.version == 1
    assert node.gateway.store.count("events") == 1


async def test_a_record_without_a_decision_is_withdrawn_without_a_revoking_document(
    node: Node, connect: ChannelFactory
) -> None:
    submitted = (await registry(connect).SubmitRecord(loan_default_request(), timeout=5)).record
    request = registry_pb2.WithdrawRecordRequest(record_id=submitted.record_id, reason="entered in error")
    withdrawn = (await registry(connect).WithdrawRecord(request, timeout=5)).record
    assert withdrawn.status == pb.RECORD_STATUS_WITHDRAWN
    assert not withdrawn.HasField("withdrawal")


async def test_catalog_answer_states_each_types_publication_and_sharing_periods(connect: ChannelFactory) -> None:
    """CatalogService states each record type's periods: per severity the range, what publication and sharing
    last, when the clock starts, the maximum and its source (2025 No. 22: minor may stay unpublished, general 3
    months to 1 year, serious 1 to 3 years; NDRC Order No. 36 of 2025: publication and sharing end apart, every
    record has a maximum unless its own rule sets none; Credit Reporting Industry Regulation Art. 16: five years
    from the end of the conduct)."""
    answer = await catalog_pb2_grpc.CatalogServiceStub(connect("person")).GetCatalog(
        catalog_pb2.GetCatalogRequest(), timeout=5
    )
    types = {t.name: t.periods for t in answer.record_types}
    penalty = types["administrative_penalty"]
    tiers = {
        s.severity: (s.minimum_days, s.maximum_days, s.publication_maximum_days, s.sharing_maximum_days)
        for s in penalty.severities
    }
    # Minor information is not published by default, yet shared for its period.
    assert tiers == {"minor": (0, 90, 0, 90), "general": (90, 365, 365, 365), "serious": (365, 1095, 1095, 1095)}
    assert (penalty.starts, penalty.HasField("maximum_days"), penalty.maximum_days) == ("decision", True, 1095)
    assert "2025 No. 22" in penalty.maximum_source
    assert not penalty.minor_published
    assert (penalty.withdrawal_working_days, "Art. 11" in penalty.withdrawal_source) == (3, True)
    # The clock of a loan default starts at the end of the conduct, by the rule that says so.
    loan = types["loan_default"]
    assert (loan.starts, loan.maximum_days) == ("conduct_end", 1825)
    assert "Art. 16" in loan.starts_source
    # Art. 1(1) debtors last until performance: no maximum, and the rule that sets none.
    debtor = types["dishonest_judgment_debtor"]
    assert not debtor.HasField("maximum_days")
    assert "Fa Shi [2017] No. 7" in debtor.maximum_source
    assert not types["business_registration"].severities
