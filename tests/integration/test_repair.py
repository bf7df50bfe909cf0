"""Credit repair across three regions: the subject applies at the origin, the agency decides, and the record
stops being disclosed on every node and reaches every past recipient as a signed revocation."""

from __future__ import annotations

from datetime import UTC, datetime

import grpc
import pytest

from share_gateway.client import verify_record_disclosure, verify_revocation
from share_gateway.config import NodeConfig
from share_gateway.crypto.disclosure import disclose
from share_gateway.crypto.envelope import Envelope
from share_gateway.crypto.keys import KeyRing
from share_gateway.devkit import Layout
from share_gateway.domain.events import EventKind
from share_gateway.domain.records import RecordStatus
from share_gateway.domain.repair import REVOCATION_TYPE, Revocation
from share_gateway.federation.wire import disclosure_to_wire, envelope_to_wire
from share_gateway.node import Node, start_node
from share_gateway.v1 import common_pb2, inquiry_pb2, inquiry_pb2_grpc, peer_pb2, registry_pb2, registry_pb2_grpc
from tests.conftest import seed_grants
from tests.federation import Nodes, Target, channel, events, peer_call
from tests.support import debtor_request, error_reason, field_violations, inquiry, penalty_request
from tests.waiting import eventually

ORIGIN, PEERS = "110000", ("310000", "440000")
EVIDENCE = "(2026)京0105执567号 结案通知书：已全部履行"
COMMITMENT = "本单位承诺依法履行生效法律文书确定的义务"


def keys(nodes: Nodes) -> KeyRing:
    return nodes[ORIGIN].gateway.manifest.manifest.keys  # type: ignore[union-attr]


def registry(layout: Layout, target: Target, agency: str = "court") -> registry_pb2_grpc.RegistryServiceAsyncStub:
    return registry_pb2_grpc.RegistryServiceStub(channel(layout, target, agency))


def inquiries(layout: Layout, target: Target, caller: str) -> inquiry_pb2_grpc.InquiryServiceAsyncStub:
    return inquiry_pb2_grpc.InquiryServiceStub(channel(layout, target, caller))


async def debtor_ids(layout: Layout, nodes: Nodes, region: str, federated: bool = False) -> list[str]:
    """The debtor records the bank is shown about the company at ``region``'s node."""
    request = inquiry("loan_underwriting", consent="AUTH-1", record_types=("dishonest_judgment_debtor",))
    if federated:
        request.scope = inquiry_pb2.INQUIRY_SCOPE_FEDERATION
    answer = await inquiries(layout, nodes[region], "bank").Inquire(request, timeout=10)
    return [verify_record_disclosure(r, keys(nodes)).statement.record_id for r in answer.records]


def status(node: Node, record_id: str) -> RecordStatus | None:
    stored = node.gateway.store.records.get(ORIGIN, record_id)
    return None if stored is None else stored.record.status


async def published_debtor(layout: Layout, nodes: Nodes) -> str:
    """The court's debtor listing at the origin, once every peer holds it and the bank saw it everywhere."""
    response = await registry(layout, nodes[ORIGIN]).SubmitRecord(debtor_request(), timeout=5)
    record_id = response.record.record_id
    await eventually(lambda: all(status(nodes[p], record_id) is RecordStatus.ACTIVE for p in PEERS))
    for region in (ORIGIN, *PEERS):
        assert await debtor_ids(layout, nodes, region) == [record_id]
    return record_id


async def apply(layout: Layout, nodes: Nodes, record_id: str, region: str = ORIGIN) -> common_pb2.RepairApplication:
    request = inquiry_pb2.ApplyForRepairRequest(record_id=record_id, evidence=EVIDENCE, commitment=COMMITMENT)
    return (await inquiries(layout, nodes[region], "company").ApplyForRepair(request, timeout=5)).application


async def approve(layout: Layout, nodes: Nodes, application_id: str) -> common_pb2.RepairApplication:
    court = registry(layout, nodes[ORIGIN])
    accepted = await court.AcceptRepair(registry_pb2.AcceptRepairRequest(application_id=application_id), timeout=5)
    assert accepted.application.state == common_pb2.REPAIR_STATE_ACCEPTED
    assert accepted.application.decision_due
    decided = await court.DecideRepair(
        registry_pb2.DecideRepairRequest(application_id=application_id, approve=True, reason="judgment performed"),
        timeout=5,
    )
    return decided.application


async def revoked_for(layout: Layout, node: Node, caller: str = "bank") -> list[Revocation]:
    feed = await inquiries(layout, node, caller).ListRevocations(inquiry_pb2.ListRevocationsRequest(), timeout=5)
    assert [e.position for e in feed.revocations] == sorted(e.position for e in feed.revocations)
    keys = node.gateway.manifest.manifest.keys  # type: ignore[union-attr]
    return [verify_revocation(e.revocation, keys) for e in feed.revocations]


async def test_an_approved_repair_stops_disclosure_everywhere_and_reaches_every_recipient(
    layout: Layout, nodes: Nodes
) -> None:
    record_id = await published_debtor(layout, nodes)
    application = await apply(layout, nodes, record_id)
    assert application.state == common_pb2.REPAIR_STATE_SUBMITTED
    assert application.reply_due
    decided = await approve(layout, nodes, application.application_id)
    assert (decided.state, decided.reason) == (common_pb2.REPAIR_STATE_APPROVED, "judgment performed")
    # The origin stopped at once; each peer as soon as its revocation arrived.
    assert status(nodes[ORIGIN], record_id) is RecordStatus.REPAIRED
    await eventually(lambda: all(status(nodes[p], record_id) is RecordStatus.REPAIRED for p in PEERS))
    for region in (ORIGIN, *PEERS):
        assert await debtor_ids(layout, nodes, region) == []
    assert await debtor_ids(layout, nodes, "440000", federated=True) == []
    # The bank received the record on every node, so every node's feed tells it, signed by the origin.
    for region in (ORIGIN, *PEERS):
        [revocation] = await revoked_for(layout, nodes[region])
        assert (revocation.record_id, revocation.status, revocation.origin_region) == (
            record_id,
            RecordStatus.REPAIRED,
            ORIGIN,
        )
    read = [e for e in events(nodes[ORIGIN]) if e.kind is EventKind.REVOCATIONS_READ]
    assert read[-1].details["records"] == f"{ORIGIN}/{record_id}", "the read is logged with each record's origin"
    # A requester that never received it is told nothing.
    assert await revoked_for(layout, nodes[ORIGIN], "utility") == []
    # Every step is logged: the decision at the origin, each peer's receipt, each acknowledged delivery.
    origin_kinds = [e.kind for e in events(nodes[ORIGIN])]
    for kind in (EventKind.REPAIR_APPLIED, EventKind.REPAIR_ACCEPTED, EventKind.RECORD_REPAIRED):
        assert origin_kinds.count(kind) == 1
    await eventually(lambda: [e.kind for e in events(nodes[ORIGIN])].count(EventKind.REVOCATION_DELIVERED) == 2)
    for peer in PEERS:
        assert [e.kind for e in events(nodes[peer])].count(EventKind.RECORD_REVOKED) == 1


async def test_a_peer_down_during_approval_receives_the_revocation_when_it_returns(
    layout: Layout, nodes: Nodes
) -> None:
    record_id = await published_debtor(layout, nodes)
    await nodes.pop("440000").stop(grace=0)
    application = await apply(layout, nodes, record_id)
    await approve(layout, nodes, application.application_id)
    await eventually(lambda: status(nodes["310000"], record_id) is RecordStatus.REPAIRED)
    returned = await start_node(NodeConfig.load(layout.node_config("440000")))
    nodes["440000"] = returned
    await eventually(lambda: status(returned, record_id) is RecordStatus.REPAIRED)
    assert await debtor_ids(layout, nodes, "440000") == []
    assert [r.record_id for r in await revoked_for(layout, returned)] == [record_id]


async def test_repair_is_refused_with_the_reason_and_changes_nothing(layout: Layout, nodes: Nodes) -> None:
    record_id = await published_debtor(layout, nodes)
    company = inquiries(layout, nodes[ORIGIN], "company")
    # Someone else's application for the company's record: the record does not exist for them.
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await inquiries(layout, nodes[ORIGIN], "bank").ApplyForRepair(
            inquiry_pb2.ApplyForRepairRequest(record_id=record_id, evidence=EVIDENCE, commitment=COMMITMENT),
            timeout=5,
        )
    assert raised.value.code() is grpc.StatusCode.NOT_FOUND
    # At a node holding only a copy, the application travels to the origin, which refuses it the same way.
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await inquiries(layout, nodes["310000"], "company").ApplyForRepair(
            inquiry_pb2.ApplyForRepairRequest(record_id=record_id), timeout=5
        )
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    # No proof, no commitment.
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await company.ApplyForRepair(inquiry_pb2.ApplyForRepairRequest(record_id=record_id), timeout=5)
    assert set(field_violations(raised.value)) == {"evidence", "commitment"}
    # A general penalty decided 30 days ago: not before its 90-day minimum.
    penalty = await registry(layout, nodes[ORIGIN], "regulator").SubmitRecord(penalty_request(issued=30), timeout=5)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await apply(layout, nodes, penalty.record.record_id)
    assert error_reason(raised.value) == "MINIMUM_PERIOD_NOT_REACHED"
    assert nodes[ORIGIN].gateway.store.count("repair_applications") == 0
    # A decision before acceptance, and a decision by an agency that did not make the record.
    application = await apply(layout, nodes, record_id)
    court = registry(layout, nodes[ORIGIN])
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await court.DecideRepair(
            registry_pb2.DecideRepairRequest(application_id=application.application_id, approve=True, reason="x"),
            timeout=5,
        )
    assert raised.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert error_reason(raised.value) == "ILLEGAL_TRANSITION"
    # One open application per record at a time.
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await apply(layout, nodes, record_id)
    assert (raised.value.code(), error_reason(raised.value)) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "APPLICATION_PENDING",
    )
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await registry(layout, nodes[ORIGIN], "regulator").AcceptRepair(
            registry_pb2.AcceptRepairRequest(application_id=application.application_id), timeout=5
        )
    assert raised.value.code() is grpc.StatusCode.NOT_FOUND
    # Nothing moved: the application waits for the intake, the record is still disclosed.
    got = await company.GetRepairApplication(
        inquiry_pb2.GetRepairApplicationRequest(application_id=application.application_id), timeout=5
    )
    assert got.application.state == common_pb2.REPAIR_STATE_SUBMITTED
    assert await debtor_ids(layout, nodes, ORIGIN) == [record_id]
    pending = await court.ListRepairApplications(registry_pb2.ListRepairApplicationsRequest(), timeout=5)
    assert [a.application_id for a in pending.applications] == [application.application_id]
    overdue = await court.ListRepairApplications(
        registry_pb2.ListRepairApplicationsRequest(overdue_only=True), timeout=5
    )
    assert list(overdue.applications) == []
    # Another agency sees none of them; a compliance officer oversees them all, and that review is logged.
    regulator = registry(layout, nodes[ORIGIN], "regulator")
    assert (
        list((await regulator.ListRepairApplications(registry_pb2.ListRepairApplicationsRequest())).applications) == []
    )
    officer = registry(layout, nodes[ORIGIN], "officer")
    overseen = await officer.ListRepairApplications(registry_pb2.ListRepairApplicationsRequest(), timeout=5)
    assert [a.application_id for a in overseen.applications] == [application.application_id]
    reviews = [e.details["action"] for e in events(nodes[ORIGIN]) if e.kind is EventKind.AUDIT]
    assert reviews == ["repair_applications"]


def forged_revocation(nodes: Nodes, record_id: str, signer: str, origin: str | None = None) -> peer_pb2.RevokeRequest:
    """A revocation of another region's record id, signed by ``signer`` and naming ``origin`` (itself unless
    given) as the origin."""
    stored = nodes[ORIGIN].gateway.store.records.get(ORIGIN, record_id)
    assert stored is not None
    record = stored.record
    claim = Revocation(
        record_id,
        origin or signer,
        record.record_type,
        record.subject,
        RecordStatus.REPAIRED,
        "forged",
        datetime.now(UTC),
    )
    envelope = Envelope.seal(nodes[signer].gateway.runtime.signing_key, REVOCATION_TYPE, claim.to_bytes())
    return peer_pb2.RevokeRequest(revocation=envelope_to_wire(envelope))


async def test_a_peer_cannot_revoke_a_record_another_region_made(layout: Layout, nodes: Nodes) -> None:
    record_id = await published_debtor(layout, nodes)
    # Shanghai, admitted and signing with its own key, revokes Beijing's record id at Guangdong and at Beijing:
    # a revocation is its origin's, so this one names Shanghai's record of that id (kept, should Shanghai ever
    # publish one) and Beijing's record is another record, untouched.
    for target in ("440000", ORIGIN):
        await peer_call(layout, nodes[target], "310000").Revoke(forged_revocation(nodes, record_id, "310000"))
        assert status(nodes[target], record_id) is RecordStatus.ACTIVE
        # Claiming Beijing as the origin is refused: a region revokes only its own records.
        claim = forged_revocation(nodes, record_id, "310000", origin=ORIGIN)
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await peer_call(layout, nodes[target], "310000").Revoke(claim)
        assert (raised.value.code(), error_reason(raised.value)) == (
            grpc.StatusCode.PERMISSION_DENIED,
            "PEER_NOT_ADMITTED",
        )
        assert status(nodes[target], record_id) is RecordStatus.ACTIVE
    assert await debtor_ids(layout, nodes, "440000") == [record_id]
    # The real origin's revocation still applies afterwards: the forgery took nobody's place.
    application = await apply(layout, nodes, record_id)
    await approve(layout, nodes, application.application_id)
    await eventually(lambda: status(nodes["440000"], record_id) is RecordStatus.REPAIRED)


async def test_a_record_repaired_before_its_publication_left_never_becomes_disclosable_at_a_peer(
    layout: Layout, nodes: Nodes
) -> None:
    await nodes.pop("440000").stop(grace=0)
    record_id = (await registry(layout, nodes[ORIGIN]).SubmitRecord(debtor_request(), timeout=5)).record.record_id
    application = await apply(layout, nodes, record_id)
    await approve(layout, nodes, application.application_id)
    nodes["440000"] = await start_node(NodeConfig.load(layout.node_config("440000")))
    seed_grants(nodes["440000"].gateway.store)
    # The queued publication is closed unsent; the revocation is delivered and kept for the feed.
    await eventually(lambda: nodes["440000"].gateway.store.revocations.get(ORIGIN, record_id) is not None)
    assert nodes["440000"].gateway.store.records.get(ORIGIN, record_id) is None
    assert await debtor_ids(layout, nodes, "440000") == []
    # Deliveries that crossed: the publication arriving after the revocation is stored as repaired.
    stored = nodes[ORIGIN].gateway.store.records.get(ORIGIN, record_id)
    assert stored is not None
    publication = peer_pb2.PublishRequest(
        record=disclosure_to_wire(disclose(stored.sealed, frozenset(stored.record.fields)))
    )
    await peer_call(layout, nodes["440000"], ORIGIN).Publish(publication, timeout=5)
    assert status(nodes["440000"], record_id) is RecordStatus.REPAIRED
    assert await debtor_ids(layout, nodes, "440000") == []


async def test_a_subject_lists_its_own_repair_applications_at_the_node_that_holds_them(
    layout: Layout, nodes: Nodes
) -> None:
    record_id = (await registry(layout, nodes[ORIGIN]).SubmitRecord(debtor_request(), timeout=5)).record.record_id
    applied = await apply(layout, nodes, record_id)
    listing = inquiry_pb2.ListMyRepairApplicationsRequest()
    mine = await inquiries(layout, nodes[ORIGIN], "company").ListMyRepairApplications(listing, timeout=5)
    assert [(a.application_id, a.state, a.origin_region) for a in mine.applications] == [
        (applied.application_id, common_pb2.REPAIR_STATE_SUBMITTED, ORIGIN)
    ]
    assert mine.applications[0].result_due == applied.result_due
    # Another subject sees none of it; a peer holds none (the origin decides).
    others = await inquiries(layout, nodes[ORIGIN], "person").ListMyRepairApplications(listing, timeout=5)
    assert list(others.applications) == []
    elsewhere = await inquiries(layout, nodes[PEERS[0]], "company").ListMyRepairApplications(listing, timeout=5)
    assert list(elsewhere.applications) == []
