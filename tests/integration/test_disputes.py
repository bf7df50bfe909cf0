"""Disputes about wrong records (异议) and issue 12's repair rules across three regions: real nodes, real gRPC.

The subject disputes a record at its origin; answers mark it under dispute meanwhile; the origin's agency
answers, and a correction replaces the record with a new signed one while the old one is revoked to every
peer and every requester that received it.
"""

from __future__ import annotations

from datetime import date, timedelta

import grpc
import pytest

from share_gateway.devkit import Layout
from share_gateway.domain.events import EventKind
from share_gateway.domain.listings import ListingState, RemovalCause
from share_gateway.domain.records import RecordStatus, change_status
from share_gateway.v1 import common_pb2, inquiry_pb2, registry_pb2
from tests.consents import consent_to_wire, signed_consent
from tests.federation import Nodes, events
from tests.integration.test_listings import approve as regulator_approves
from tests.integration.test_listings import listable_penalty, listed_after_hearing
from tests.integration.test_repair import (
    COMMITMENT,
    EVIDENCE,
    ORIGIN,
    PEERS,
    apply,
    approve,
    debtor_ids,
    inquiries,
    published_debtor,
    registry,
    revoked_for,
    status,
)
from tests.support import debtor_request, entity, error_reason, field_violations, inquiry, penalty_request, text
from tests.waiting import eventually

BANK_URI = "sgw://institution/91110000MA0000001L"
CLAIM = "被执行人已于立案前全部履行，名单记载的履行情况有误"


async def disputed_marks(layout: Layout, nodes: Nodes, region: str = ORIGIN) -> list[tuple[str, str, bool]]:
    """How the bank's answer at ``region`` marks records under dispute: (record id, answer day, overdue)."""
    request = inquiry("loan_underwriting", consent="AUTH-1", record_types=("dishonest_judgment_debtor",))
    answer = await inquiries(layout, nodes[region], "bank").Inquire(request, timeout=10)
    return [(d.record_id, d.answer_due, d.overdue) for d in answer.disputed]


async def file(layout: Layout, nodes: Nodes, record_id: str, region: str = ORIGIN) -> common_pb2.Dispute:
    request = inquiry_pb2.FileDisputeRequest(record_id=record_id, claim=CLAIM)
    return (await inquiries(layout, nodes[region], "company").FileDispute(request, timeout=5)).dispute


async def test_record_under_dispute_marked_in_answers(layout: Layout, nodes: Nodes) -> None:
    """While its origin has not answered, every answer marks the disputed record "under dispute", with the day
    the answer is due (issue 12, "Disputes about wrong records"; DOMAIN.md: "marked as under dispute
    meanwhile"). The subject alone disputes, at any node (carried to the origin); an answer clears the mark."""
    record_id = await published_debtor(layout, nodes)
    assert await disputed_marks(layout, nodes) == []
    # Not the subject: the record does not exist; at a node holding a copy: where to turn.
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await inquiries(layout, nodes[ORIGIN], "bank").FileDispute(
            inquiry_pb2.FileDisputeRequest(record_id=record_id, claim=CLAIM), timeout=5
        )
    assert raised.value.code() is grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await inquiries(layout, nodes[ORIGIN], "company").FileDispute(
            inquiry_pb2.FileDisputeRequest(record_id=record_id), timeout=5
        )
    assert field_violations(raised.value) == {"claim": "what is wrong and why, 1 to 4000 characters"}
    assert nodes[ORIGIN].gateway.store.count("disputes") == 0

    # Filed at a node holding only a copy: carried to the origin, which files it and signs it back.
    dispute = await file(layout, nodes, record_id, region=PEERS[0])
    # The intake node files none of its own (the origin's signed mark may reach it as a copy meanwhile).
    assert nodes[PEERS[0]].gateway.store.disputes.find(origin=PEERS[0]) == []
    assert nodes[ORIGIN].gateway.store.disputes.get(dispute.dispute_id) is not None
    assert [e.kind for e in events(nodes[PEERS[0]])].count(EventKind.REPAIR_FORWARDED) == 1
    due = (date.today() + timedelta(days=20)).isoformat()
    assert (dispute.state, dispute.answer_due, dispute.overdue) == (common_pb2.DISPUTE_STATE_FILED, due, False)
    assert await disputed_marks(layout, nodes) == [(record_id, due, False)]
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await file(layout, nodes, record_id)
    assert error_reason(raised.value) == "DISPUTE_PENDING"
    # The court sees it among its open disputes; another agency does not.
    court = registry(layout, nodes[ORIGIN])
    pending = await court.ListDisputes(registry_pb2.ListDisputesRequest(), timeout=5)
    assert [d.dispute_id for d in pending.disputes] == [dispute.dispute_id]
    other = await registry(layout, nodes[ORIGIN], "regulator").ListDisputes(registry_pb2.ListDisputesRequest())
    assert list(other.disputes) == []
    # The court keeps the record, stating why: the mark goes, the subject reads the answer.
    kept = await court.AnswerDispute(
        registry_pb2.AnswerDisputeRequest(dispute_id=dispute.dispute_id, answer="经核查，记载无误"), timeout=5
    )
    assert (kept.dispute.state, kept.HasField("record")) == (common_pb2.DISPUTE_STATE_REJECTED, False)
    assert await disputed_marks(layout, nodes) == []
    mine = await inquiries(layout, nodes[ORIGIN], "company").ListMyDisputes(inquiry_pb2.ListMyDisputesRequest())
    assert [(d.state, d.answer) for d in mine.disputes] == [(common_pb2.DISPUTE_STATE_REJECTED, "经核查，记载无误")]
    assert await debtor_ids(layout, nodes, ORIGIN) == [record_id]


async def test_correction_revokes_predecessor_to_every_recipient(layout: Layout, nodes: Nodes) -> None:
    """A correction is a new signed version of the record, and its predecessor is revoked to every recipient:
    every peer and every requester that received it (issue 12, "Disputes about wrong records"; GDPR Art. 19 as
    the DOMAIN.md anchor: tell recipients of erasure)."""
    record_id = await published_debtor(layout, nodes)
    dispute = await file(layout, nodes, record_id)
    court = registry(layout, nodes[ORIGIN])
    # A "correction" about another subject is no correction: refused, nothing changes.
    wrong = debtor_request("debtor-other", subject=entity("91110000MA0000001L"))
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await court.AnswerDispute(
            registry_pb2.AnswerDisputeRequest(dispute_id=dispute.dispute_id, answer="更正", correction=wrong),
            timeout=5,
        )
    assert set(field_violations(raised.value)) == {"correction"}
    assert status(nodes[ORIGIN], record_id) is RecordStatus.ACTIVE

    correction = debtor_request("debtor-corrected")
    correction.fields["performance"].CopyFrom(text("已部分履行：已支付执行款 40 万元"))
    answered = await court.AnswerDispute(
        registry_pb2.AnswerDisputeRequest(dispute_id=dispute.dispute_id, answer="履行情况更正", correction=correction),
        timeout=5,
    )
    corrected_id = answered.record.record_id
    assert corrected_id != record_id
    assert (answered.dispute.state, answered.dispute.corrected_record_id) == (
        common_pb2.DISPUTE_STATE_CORRECTED,
        corrected_id,
    )
    assert answered.record.fields["performance"].text == "已部分履行：已支付执行款 40 万元"
    # The predecessor: withdrawn at the origin, then at each peer; the new version published to them.
    assert status(nodes[ORIGIN], record_id) is RecordStatus.WITHDRAWN
    await eventually(lambda: all(status(nodes[p], record_id) is RecordStatus.WITHDRAWN for p in PEERS))
    await eventually(lambda: all(status(nodes[p], corrected_id) is RecordStatus.ACTIVE for p in PEERS))
    for region in (ORIGIN, *PEERS):
        assert await debtor_ids(layout, nodes, region) == [corrected_id]
        # The bank received the predecessor on every node: every node's feed tells it, signed by the origin.
        assert [(r.record_id, r.status) for r in await revoked_for(layout, nodes[region])] == [
            (record_id, RecordStatus.WITHDRAWN)
        ]
    assert await disputed_marks(layout, nodes) == []


async def test_dispute_answered_late_shown_overdue(layout: Layout, nodes: Nodes) -> None:
    """The origin answers within the configured days (20 here); a dispute past its day is listed as overdue,
    and an answer after it stays marked late (issue 12, "Disputes about wrong records")."""
    record_id = await published_debtor(layout, nodes)
    dispute = await file(layout, nodes, record_id)
    court = registry(layout, nodes[ORIGIN])
    overdue = registry_pb2.ListDisputesRequest(overdue_only=True)
    assert list((await court.ListDisputes(overdue, timeout=5)).disputes) == []
    runtime = nodes[ORIGIN].gateway.runtime
    today = runtime.clock()
    runtime.clock = lambda: today + timedelta(days=21)
    assert [d.dispute_id for d in (await court.ListDisputes(overdue, timeout=5)).disputes] == [dispute.dispute_id]
    assert [mark[2] for mark in await disputed_marks(layout, nodes)] == [True]
    late = await court.AnswerDispute(
        registry_pb2.AnswerDisputeRequest(dispute_id=dispute.dispute_id, answer="经核查，记载无误"), timeout=5
    )
    assert (late.dispute.state, late.dispute.overdue) == (common_pb2.DISPUTE_STATE_REJECTED, True)


async def test_expired_record_repairable_while_listing_in_force(layout: Layout, nodes: Nodes) -> None:
    """Repair must be possible wherever a measure still bites (issue 12 item 1; NDRC Order No. 36 Art. 2): an
    expired record a listing still rests on is repaired, and the listing ends with it."""
    record_id = await listable_penalty(layout, nodes, issued=400)  # past the serious tier's minimum of a year
    listing_id = await listed_after_hearing(layout, nodes, record_id)
    store = nodes[ORIGIN].gateway.store
    stored = store.records.get(ORIGIN, record_id)
    assert stored is not None
    expired = change_status(stored.record, RecordStatus.EXPIRED)
    store.write(lambda tx: store.records.change_status(tx, expired, "disclosure period ended", expired.recorded_at))
    application = await apply(layout, nodes, record_id)
    assert application.state == common_pb2.REPAIR_STATE_SUBMITTED
    await regulator_approves(layout, nodes, application.application_id)
    assert status(nodes[ORIGIN], record_id) is RecordStatus.REPAIRED
    listing = store.listings.get(ORIGIN, listing_id)
    assert listing is not None
    assert (listing.state, listing.removal_cause) == (ListingState.REMOVED, RemovalCause.REPAIR)


async def test_agent_needs_subject_mandate(layout: Layout, nodes: Nodes) -> None:
    """An agent applies for the subject only with a mandate the subject itself signed for credit repair,
    naming the agent (issue 12, "Repair at any node, by an agent, with notice"; DOMAIN.md: "An agent may apply
    with the subject's mandate")."""
    record_id = await published_debtor(layout, nodes)
    agent = inquiries(layout, nodes[ORIGIN], "bank")

    def request(signer: str, purposes: tuple[str, ...], attested: bool = False) -> inquiry_pb2.ApplyForRepairRequest:
        mandate = signed_consent(layout.client(signer), entity(), BANK_URI, purposes, attested=attested)
        return inquiry_pb2.ApplyForRepairRequest(
            record_id=record_id, evidence=EVIDENCE, commitment=COMMITMENT, mandate=consent_to_wire(mandate)
        )

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await agent.ApplyForRepair(
            inquiry_pb2.ApplyForRepairRequest(record_id=record_id, evidence=EVIDENCE, commitment=COMMITMENT)
        )
    assert raised.value.code() is grpc.StatusCode.NOT_FOUND
    for refused in (request("bank", ("credit_repair",), attested=True), request("company", ("loan_underwriting",))):
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await agent.ApplyForRepair(refused, timeout=5)
        assert (raised.value.code(), error_reason(raised.value)) == (
            grpc.StatusCode.PERMISSION_DENIED,
            "MANDATE_INVALID",
        )
    assert nodes[ORIGIN].gateway.store.count("repair_applications") == 0
    applied = (await agent.ApplyForRepair(request("company", ("credit_repair",)), timeout=5)).application
    assert (applied.state, applied.applicant, bool(applied.mandate_id)) == (
        common_pb2.REPAIR_STATE_SUBMITTED,
        BANK_URI,
        True,
    )
    # Both deadlines stated: the whole course's, and the decision's rule until the department receives it.
    assert (applied.result_due, applied.total_working_days, applied.decision_working_days) == (
        applied.reply_due,
        10,
        3,
    )
    # The agent follows its application; the subject too.
    got = await agent.GetRepairApplication(
        inquiry_pb2.GetRepairApplicationRequest(application_id=applied.application_id), timeout=5
    )
    assert got.application.application_id == applied.application_id


async def test_penalty_decision_served_with_repair_notice(layout: Layout, nodes: Nodes) -> None:
    """Two documents together (两书同达, 2025 No. 22): the agency recording a penalty gets, with it, the repair
    notice to serve: when repair becomes possible and how, from the catalog (DOMAIN.md "Disputes, notice and
    repair channels")."""
    regulator = registry(layout, nodes[ORIGIN], "regulator")
    submitted = await regulator.SubmitRecord(penalty_request(issued=30), timeout=5)
    notice = submitted.repair_notice
    decided = date.fromisoformat(submitted.record.decided_on)
    assert (notice.repairable, notice.repairable_from) == (True, (decided + timedelta(days=90)).isoformat())
    assert (notice.total_working_days, notice.decision_working_days) == (10, 3)
    assert "credit commitment" in notice.how
    again = await regulator.GetRepairNotice(
        registry_pb2.GetRepairNoticeRequest(record_id=submitted.record.record_id), timeout=5
    )
    assert again.notice == notice
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await registry(layout, nodes[ORIGIN]).GetRepairNotice(
            registry_pb2.GetRepairNoticeRequest(record_id=submitted.record.record_id), timeout=5
        )
    assert raised.value.code() is grpc.StatusCode.NOT_FOUND


async def test_rejection_states_reasons_and_remedy_over_the_wire(layout: Layout, nodes: Nodes) -> None:
    """A rejection states its reasons and the remedy: the agency's, or the catalog's for the record type when it
    names none (issue 12, "Repair at any node, by an agent, with notice")."""
    record_id = await published_debtor(layout, nodes)
    application = await apply(layout, nodes, record_id)
    court = registry(layout, nodes[ORIGIN])
    rejected = await court.DecideRepair(
        registry_pb2.DecideRepairRequest(
            application_id=application.application_id, approve=False, reason="尚未全部履行"
        ),
        timeout=5,
    )
    remedy = nodes[ORIGIN].gateway.catalog.catalog.record_types["dishonest_judgment_debtor"].repair_rules.remedy
    assert (rejected.application.state, rejected.application.reason, rejected.application.remedy) == (
        common_pb2.REPAIR_STATE_REJECTED,
        "尚未全部履行",
        remedy,
    )
    assert "Art. 12" in remedy


async def test_repair_applied_at_any_node_travels_to_the_origin_and_its_status_comes_back(
    layout: Layout, nodes: Nodes
) -> None:
    """A subject applies at any node; the application travels to the record's origin and its status comes back
    (issue 12, "Repair at any node, by an agent, with notice"; DOMAIN.md: "any node, forwarded to the origin")."""
    record_id = await published_debtor(layout, nodes)
    intake = inquiries(layout, nodes[PEERS[0]], "company")
    applied = (
        await intake.ApplyForRepair(
            inquiry_pb2.ApplyForRepairRequest(record_id=record_id, evidence=EVIDENCE, commitment=COMMITMENT),
            timeout=10,
        )
    ).application
    assert (applied.state, applied.origin_region, applied.record_id) == (
        common_pb2.REPAIR_STATE_SUBMITTED,
        ORIGIN,
        record_id,
    )
    # The application lives at the origin, where the court decides it; both sides log the exchange, each
    # naming the digest of the request the intake node signed.
    assert nodes[PEERS[0]].gateway.store.count("repair_applications") == 0
    assert nodes[ORIGIN].gateway.store.repairs.get(applied.application_id) is not None
    [carried] = [e for e in events(nodes[PEERS[0]]) if e.kind is EventKind.REPAIR_FORWARDED]
    [taken] = [e for e in events(nodes[ORIGIN]) if e.kind is EventKind.REPAIR_APPLIED]
    assert carried.details["request_digest"] == taken.details["request_digest"]
    assert (carried.details["origin_region"], taken.details["via"]) == (ORIGIN, f"sgw://node/{PEERS[0]}")
    decided = await approve(layout, nodes, applied.application_id)
    assert decided.state == common_pb2.REPAIR_STATE_APPROVED
    status_request = inquiry_pb2.GetRepairApplicationRequest(
        application_id=applied.application_id, origin_region=ORIGIN
    )
    back = (await intake.GetRepairApplication(status_request, timeout=10)).application
    assert (back.state, back.reason, back.origin_region) == (
        common_pb2.REPAIR_STATE_APPROVED,
        "judgment performed",
        ORIGIN,
    )
    # Someone else cannot learn of it through a peer either.
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await inquiries(layout, nodes[PEERS[0]], "bank").GetRepairApplication(status_request, timeout=10)
    assert raised.value.code() is grpc.StatusCode.NOT_FOUND
    await eventually(lambda: all(status(nodes[p], record_id) is RecordStatus.REPAIRED for p in PEERS))
