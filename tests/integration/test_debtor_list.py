"""The courts' list of dishonest judgment debtors across three regions: real nodes, real gRPC, real SQLite.

Only the court that made an entry ends it, at the entry's origin: by reporting performance (the entry is
deleted within 3 working days, counted on the node's working calendar with its holidays) or by upholding the
party's correction application; either way the revocation reaches every region and every past recipient.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta

import grpc
import pytest

from share_gateway.config import NodeConfig
from share_gateway.devkit import Layout
from share_gateway.domain.events import EventKind
from share_gateway.domain.records import RecordStatus
from share_gateway.node import start_node
from share_gateway.v1 import common_pb2, inquiry_pb2, registry_pb2
from tests.conftest import seed_grants
from tests.federation import REGIONS, Nodes, events
from tests.integration.test_listings import proposal
from tests.integration.test_repair import ORIGIN, PEERS, debtor_ids, inquiries, registry, revoked_for, status
from tests.support import debtor_request, error_reason, field_violations, inquiry, penalty_request, text
from tests.waiting import eventually

GROUNDS = "名单记载的失信情形有误：被执行人已于立案前提供足额担保"
LIST = "dishonest_judgment_debtors"


def performed_friday() -> date:
    """A Friday from today on: performance that day, then a weekend and two holidays (Monday, Tuesday)."""
    today = date.today()
    return today + timedelta(days=(4 - today.weekday()) % 7)


def working_day_after(start: date, days: int, holidays: frozenset[date]) -> date:
    """A deliberately naive oracle: the ``days``-th day after ``start`` that is neither weekend nor holiday."""
    day = start
    while days:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in holidays:
            days -= 1
    return day


PERFORMED = performed_friday()
HOLIDAYS = frozenset({PERFORMED + timedelta(days=3), PERFORMED + timedelta(days=4)})


@pytest.fixture
async def holiday_nodes(layout: Layout) -> AsyncIterator[Nodes]:
    """The three regions, each with the two holidays after ``PERFORMED`` in its configured calendar."""
    started: Nodes = {}
    try:
        for region in REGIONS:
            config = NodeConfig.load(layout.node_config(region))
            procedures = dataclasses.replace(config.procedures, holidays=tuple(d.isoformat() for d in HOLIDAYS))
            started[region] = await start_node(dataclasses.replace(config, procedures=procedures))
            seed_grants(started[region].gateway.store)
        yield started
    finally:
        for node in started.values():
            await node.stop(grace=0)


def entry_request(request_id: str = "entry-1") -> registry_pb2.SubmitRecordRequest:
    """The court's entry for conduct under Art. 1 item (1): no fixed term, it lasts until performance."""
    request = debtor_request(request_id)
    request.fields["conduct_code"].CopyFrom(text("able_but_refuses"))
    return request


async def published_entry(layout: Layout, nodes: Nodes) -> str:
    """The court's entry at the origin, once every peer holds it and the bank received it on every node."""
    response = await registry(layout, nodes[ORIGIN]).SubmitRecord(entry_request(), timeout=5)
    record_id = response.record.record_id
    await eventually(lambda: all(status(nodes[p], record_id) is RecordStatus.ACTIVE for p in PEERS))
    for region in (ORIGIN, *PEERS):
        assert await debtor_ids(layout, nodes, region) == [record_id]
    return record_id


async def lists_in_answer(layout: Layout, nodes: Nodes, region: str) -> list[str]:
    request = inquiry("loan_underwriting", consent="AUTH-1", record_types=("dishonest_judgment_debtor",))
    answer = await inquiries(layout, nodes[region], "bank").Inquire(request, timeout=10)
    return [m.list_name for m in answer.lists]


def at_noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


async def test_debtor_record_deleted_three_working_days_after_performance_across_a_holiday(
    layout: Layout, holiday_nodes: Nodes
) -> None:
    """Fa Shi [2017] No. 7 Art. 10: an entry is deleted within 3 working days of performance (DOMAIN.md,
    "deleted within 3 working days of performance or of the term's end"), counted on the working calendar with
    its holidays, by the court's report and not the generic repair procedure; the entry leaves every answer
    and list, and its revocation reaches every region and every past recipient."""
    nodes = holiday_nodes
    record_id = await published_entry(layout, nodes)
    assert LIST in await lists_in_answer(layout, nodes, ORIGIN)
    # The report comes on the Thursday after: without the holidays the third working day was the Wednesday,
    # so the deletion would be late; counted with them it is due on the Friday, and in time.
    due = working_day_after(PERFORMED, 3, HOLIDAYS)
    assert due == PERFORMED + timedelta(days=7)
    assert working_day_after(PERFORMED, 3, frozenset()) < PERFORMED + timedelta(days=6)
    nodes[ORIGIN].gateway.runtime.clock = lambda: at_noon(PERFORMED + timedelta(days=6))
    court = registry(layout, nodes[ORIGIN])
    reported = await court.ReportPerformance(
        registry_pb2.ReportPerformanceRequest(record_id=record_id, performed_on=PERFORMED.isoformat()), timeout=5
    )
    assert (reported.performed_on, reported.deletion_due, reported.late) == (
        PERFORMED.isoformat(),
        due.isoformat(),
        False,
    )
    # Gone from every answer and list at the origin at once, then at each peer when the revocation arrives.
    assert status(nodes[ORIGIN], record_id) is RecordStatus.REPAIRED
    await eventually(lambda: all(status(nodes[p], record_id) is RecordStatus.REPAIRED for p in PEERS))
    for region in (ORIGIN, *PEERS):
        assert await debtor_ids(layout, nodes, region) == []
        assert LIST not in await lists_in_answer(layout, nodes, region)
        [revocation] = await revoked_for(layout, nodes[region])
        assert (revocation.record_id, revocation.status) == (record_id, RecordStatus.REPAIRED)
    # Logged with the dates, and no repair application was involved.
    [logged] = [e for e in events(nodes[ORIGIN]) if e.kind is EventKind.DEBTOR_PERFORMED]
    assert logged.details == {"performed_on": PERFORMED.isoformat(), "deletion_due": due.isoformat(), "late": "false"}
    assert nodes[ORIGIN].gateway.store.count("repair_applications") == 0
    # Reported again: the entry is no longer active.
    with pytest.raises(grpc.aio.AioRpcError) as again:
        await court.ReportPerformance(
            registry_pb2.ReportPerformanceRequest(record_id=record_id, performed_on=PERFORMED.isoformat()), timeout=5
        )
    assert (again.value.code(), error_reason(again.value)) == (grpc.StatusCode.FAILED_PRECONDITION, "RECORD_NOT_ACTIVE")


async def test_a_late_performance_report_is_shown_late(layout: Layout, nodes: Nodes) -> None:
    """Fa Shi [2017] No. 7 Art. 10: deletion within 3 working days of performance; a court reporting after
    that day still ends the entry, and the deletion is shown late (like a late withdrawal)."""
    record_id = await published_entry(layout, nodes)
    performed = date.today() - timedelta(days=10)
    reported = await registry(layout, nodes[ORIGIN]).ReportPerformance(
        registry_pb2.ReportPerformanceRequest(record_id=record_id, performed_on=performed.isoformat()), timeout=5
    )
    assert (reported.deletion_due, reported.late) == (working_day_after(performed, 3, frozenset()).isoformat(), True)
    assert status(nodes[ORIGIN], record_id) is RecordStatus.REPAIRED


async def test_performance_reported_by_a_non_maker_is_refused_and_nothing_changes(layout: Layout, nodes: Nodes) -> None:
    """Fa Shi [2017] No. 7 Art. 10: the court that made the entry deletes it. Any other institution, the
    listed party itself, or the court at a node holding only a copy: refused, and nothing changes."""
    record_id = await published_entry(layout, nodes)
    request = registry_pb2.ReportPerformanceRequest(record_id=record_id, performed_on=date.today().isoformat())
    before = len(events(nodes[ORIGIN]))
    for caller in ("regulator", "company"):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await registry(layout, nodes[ORIGIN], caller).ReportPerformance(request, timeout=5)
        assert (refused.value.code(), error_reason(refused.value)) == (
            grpc.StatusCode.PERMISSION_DENIED,
            "NOT_A_LIST_MAKER",
        )
    # The maker, at a peer holding its copy: not its entry there (only the origin ends it).
    with pytest.raises(grpc.aio.AioRpcError) as elsewhere:
        await registry(layout, nodes[PEERS[0]]).ReportPerformance(request, timeout=5)
    assert elsewhere.value.code() is grpc.StatusCode.NOT_FOUND
    # The maker with a date in the future, or before its own decision: INVALID_ARGUMENT.
    court = registry(layout, nodes[ORIGIN])
    for day in (date.today() + timedelta(days=1), date.today() - timedelta(days=365)):
        with pytest.raises(grpc.aio.AioRpcError) as invalid:
            await court.ReportPerformance(
                registry_pb2.ReportPerformanceRequest(record_id=record_id, performed_on=day.isoformat()), timeout=5
            )
        assert set(field_violations(invalid.value)) == {"performed_on"}
    for region in (ORIGIN, *PEERS):
        assert status(nodes[region], record_id) is RecordStatus.ACTIVE
        assert await debtor_ids(layout, nodes, region) == [record_id]
        assert await revoked_for(layout, nodes[region]) == []
    kinds = [e.kind for e in events(nodes[ORIGIN])[before:]]
    assert EventKind.DEBTOR_PERFORMED not in kinds
    assert nodes[ORIGIN].gateway.store.count("revocations") == 0


async def test_correction_upheld_revokes_the_entry_to_a_past_recipient(layout: Layout, nodes: Nodes) -> None:
    """Fa Shi [2017] No. 7 Art. 12: the party applies for correction and the court reviews it; upheld, the
    entry is withdrawn and, like any withdrawal, revoked to every region and every requester that received
    it (the bank, on every node)."""
    record_id = await published_entry(layout, nodes)
    company = inquiries(layout, nodes[ORIGIN], "company")
    # Only the listed party, and only at the entry's origin.
    with pytest.raises(grpc.aio.AioRpcError) as not_party:
        await inquiries(layout, nodes[ORIGIN], "bank").ApplyForCorrection(
            inquiry_pb2.ApplyForCorrectionRequest(record_id=record_id, grounds=GROUNDS), timeout=5
        )
    assert not_party.value.code() is grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as at_peer:
        await inquiries(layout, nodes[PEERS[0]], "company").ApplyForCorrection(
            inquiry_pb2.ApplyForCorrectionRequest(record_id=record_id, grounds=GROUNDS), timeout=5
        )
    assert error_reason(at_peer.value) == "NOT_THE_ORIGIN"
    applied = (
        await company.ApplyForCorrection(
            inquiry_pb2.ApplyForCorrectionRequest(record_id=record_id, grounds=GROUNDS), timeout=5
        )
    ).application
    assert (applied.state, applied.record_id, applied.grounds) == (
        common_pb2.CORRECTION_STATE_APPLIED,
        record_id,
        GROUNDS,
    )
    assert applied.review_due == (date.today() + timedelta(days=15)).isoformat()
    assert "unverified" in applied.basis
    court = registry(layout, nodes[ORIGIN])
    pending = await court.ListCorrectionApplications(registry_pb2.ListCorrectionApplicationsRequest(), timeout=5)
    assert [a.application_id for a in pending.applications] == [applied.application_id]
    # Another agency neither sees nor reviews it.
    regulator = registry(layout, nodes[ORIGIN], "regulator")
    seen = await regulator.ListCorrectionApplications(registry_pb2.ListCorrectionApplicationsRequest(), timeout=5)
    assert list(seen.applications) == []

    reviewed = (
        await court.ReviewCorrection(
            registry_pb2.ReviewCorrectionRequest(
                application_id=applied.application_id, upheld=True, reason="经审查，纳入依据有误，予以纠正"
            ),
            timeout=5,
        )
    ).application
    assert (reviewed.state, reviewed.reviewed_on) == (common_pb2.CORRECTION_STATE_UPHELD, date.today().isoformat())
    assert reviewed.deletion_due
    assert status(nodes[ORIGIN], record_id) is RecordStatus.WITHDRAWN
    await eventually(lambda: all(status(nodes[p], record_id) is RecordStatus.WITHDRAWN for p in PEERS))
    for region in (ORIGIN, *PEERS):
        assert await debtor_ids(layout, nodes, region) == []
        [revocation] = await revoked_for(layout, nodes[region])
        assert (revocation.record_id, revocation.status, revocation.origin_region) == (
            record_id,
            RecordStatus.WITHDRAWN,
            ORIGIN,
        )
    assert await revoked_for(layout, nodes[ORIGIN], "utility") == []
    kinds = [e.kind for e in events(nodes[ORIGIN])]
    assert EventKind.DEBTOR_CORRECTION_APPLIED in kinds
    assert EventKind.DEBTOR_CORRECTION_REVIEWED in kinds


async def test_correction_rejected_keeps_the_entry_with_reasons(layout: Layout, nodes: Nodes) -> None:
    """Fa Shi [2017] No. 7 Art. 12: the court reviews the party's correction application; dismissed, the
    entry stands and the party reads the reasons. A review needs reasons, and is made once."""
    record_id = await published_entry(layout, nodes)
    company = inquiries(layout, nodes[ORIGIN], "company")
    applied = (
        await company.ApplyForCorrection(
            inquiry_pb2.ApplyForCorrectionRequest(record_id=record_id, grounds=GROUNDS), timeout=5
        )
    ).application
    court = registry(layout, nodes[ORIGIN])
    with pytest.raises(grpc.aio.AioRpcError) as no_reason:
        await court.ReviewCorrection(
            registry_pb2.ReviewCorrectionRequest(application_id=applied.application_id, upheld=False), timeout=5
        )
    assert set(field_violations(no_reason.value)) == {"reason"}
    reason = "担保财产不足以清偿债务，纳入名单并无不当"
    dismissed = (
        await court.ReviewCorrection(
            registry_pb2.ReviewCorrectionRequest(application_id=applied.application_id, upheld=False, reason=reason),
            timeout=5,
        )
    ).application
    assert (dismissed.state, dismissed.reason, dismissed.deletion_due) == (
        common_pb2.CORRECTION_STATE_DISMISSED,
        reason,
        "",
    )
    mine = await company.ListMyCorrections(inquiry_pb2.ListMyCorrectionsRequest(), timeout=5)
    assert [(a.state, a.reason) for a in mine.applications] == [(common_pb2.CORRECTION_STATE_DISMISSED, reason)]
    with pytest.raises(grpc.aio.AioRpcError) as twice:
        await court.ReviewCorrection(
            registry_pb2.ReviewCorrectionRequest(application_id=applied.application_id, upheld=True, reason="改判"),
            timeout=5,
        )
    assert (twice.value.code(), error_reason(twice.value)) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "ILLEGAL_TRANSITION",
    )
    for region in (ORIGIN, *PEERS):
        assert status(nodes[region], record_id) is RecordStatus.ACTIVE
        assert await debtor_ids(layout, nodes, region) == [record_id]
    assert nodes[ORIGIN].gateway.store.count("revocations") == 0


async def test_correction_review_overdue_is_shown(layout: Layout, nodes: Nodes) -> None:
    """Fa Shi [2017] No. 7 Art. 12: the court reviews the party's application; a review not made by its due
    day shows overdue, to the court and to the party (the 15-day review period is unverified)."""
    record_id = await published_entry(layout, nodes)
    applied = (
        await inquiries(layout, nodes[ORIGIN], "company").ApplyForCorrection(
            inquiry_pb2.ApplyForCorrectionRequest(record_id=record_id, grounds=GROUNDS), timeout=5
        )
    ).application
    court = registry(layout, nodes[ORIGIN])
    overdue_only = registry_pb2.ListCorrectionApplicationsRequest(overdue_only=True)
    assert list((await court.ListCorrectionApplications(overdue_only, timeout=5)).applications) == []
    due = date.fromisoformat(applied.review_due)
    nodes[ORIGIN].gateway.runtime.clock = lambda: at_noon(due + timedelta(days=1))
    late = (await court.ListCorrectionApplications(overdue_only, timeout=5)).applications
    assert [(a.application_id, a.overdue) for a in late] == [(applied.application_id, True)]
    mine = await inquiries(layout, nodes[ORIGIN], "company").ListMyCorrections(
        inquiry_pb2.ListMyCorrectionsRequest(), timeout=5
    )
    assert [a.overdue for a in mine.applications] == [True]
    # A compliance officer oversees every court's overdue reviews; the review is itself logged.
    officer = registry(layout, nodes[ORIGIN], "officer")
    overseen = (await officer.ListCorrectionApplications(overdue_only, timeout=5)).applications
    assert [a.application_id for a in overseen] == [applied.application_id]
    [review] = [e for e in events(nodes[ORIGIN]) if e.kind is EventKind.AUDIT]
    assert review.details == {"action": "debtor_corrections", "overdue_only": "True"}


async def test_a_listing_on_the_courts_list_by_a_non_court_maker_is_refused(layout: Layout, nodes: Nodes) -> None:
    """Fa Shi [2017] No. 7: entries on the courts' list are made by courts (the catalog's ``makers``). A
    listing on it by any other institution is refused PERMISSION_DENIED and nothing is stored; a court's
    entry is its record, not a proposal."""
    regulator = registry(layout, nodes[ORIGIN], "regulator")
    penalty = (await regulator.SubmitRecord(penalty_request("p-courts-list"), timeout=5)).record.record_id
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await regulator.ProposeListing(proposal(penalty, LIST), timeout=5)
    assert (refused.value.code(), error_reason(refused.value)) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "NOT_A_LIST_MAKER",
    )
    assert "court" in (refused.value.details() or "")
    record_id = await published_entry(layout, nodes)
    with pytest.raises(grpc.aio.AioRpcError) as by_court:
        await registry(layout, nodes[ORIGIN]).ProposeListing(proposal(record_id, LIST), timeout=5)
    assert (by_court.value.code(), error_reason(by_court.value)) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "NOT_BY_PROPOSAL",
    )
    assert nodes[ORIGIN].gateway.store.count("listings") == 0


async def test_a_fixed_term_entry_is_deleted_at_its_terms_end(layout: Layout, nodes: Nodes) -> None:
    """Fa Shi [2017] No. 7 Arts. 2 and 10: conduct under Art. 1 items (2)-(6) is listed for two years and the
    entry deleted within 3 working days of the term's end (DOMAIN.md): the sweeper ends it on that day, its
    event stating the deletion day; the day before, it stands."""
    request = entry_request("entry-term")
    request.fields["conduct_code"].CopyFrom(text("obstructs_enforcement"))
    record_id = (await registry(layout, nodes[ORIGIN]).SubmitRecord(request, timeout=5)).record.record_id
    stored = nodes[ORIGIN].gateway.store.records.get(ORIGIN, record_id)
    assert stored is not None
    term_end = stored.record.share_until
    assert term_end == date.fromisoformat(request.legal_document.issued_on) + timedelta(days=730)
    gateway = nodes[ORIGIN].gateway
    gateway.runtime.clock = lambda: at_noon(term_end - timedelta(days=1))
    await gateway.sweeper.sweep()
    assert status(nodes[ORIGIN], record_id) is RecordStatus.ACTIVE
    gateway.runtime.clock = lambda: at_noon(term_end)
    await gateway.sweeper.sweep()
    assert status(nodes[ORIGIN], record_id) is RecordStatus.EXPIRED
    [expired] = [e for e in events(nodes[ORIGIN]) if e.kind is EventKind.RECORD_EXPIRED]
    due = working_day_after(term_end, 3, frozenset())
    assert (expired.details["deletion_due"], expired.details["late"]) == (due.isoformat(), "false")
