"""Repair and disputes across regions, every node in its own process (issue 12, "Repair at any node, by an agent,
with notice"; DOMAIN.md "Disputes, notice and repair channels"): an agent's mandate travels with the application
to the record's origin, which verifies it itself; a record disputed at its origin is marked "under dispute" by
every other region that answers with it, on the origin's signed word only, until the origin answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import grpc
import pytest

from share_gateway.catalog import open_catalog
from share_gateway.crypto.consent import SignedConsent
from share_gateway.crypto.envelope import Envelope
from share_gateway.crypto.keys import KeyRing, SigningKey
from share_gateway.devkit import Layout
from share_gateway.domain.dispute_marks import DISPUTE_MARK_TYPE, DisputeMark
from share_gateway.domain.disputes import DisputeState
from share_gateway.domain.events import EventKind
from share_gateway.domain.identifiers import Subject
from share_gateway.federation.repair_request import APPLY, PEER_REPAIR_TYPE, PeerRepairRequest
from share_gateway.federation.wire import envelope_from_wire, envelope_to_wire
from share_gateway.v1 import common_pb2, inquiry_pb2, inquiry_pb2_grpc, peer_pb2, registry_pb2, registry_pb2_grpc
from tests.consents import consent_to_wire, signed_consent
from tests.federation import REGIONS, channel, peer_call, signed_inquiry
from tests.processes import Cluster, federation_cluster, logged
from tests.support import CALLERS, COMPANY, debtor_request, entity, error_reason, inquiry
from tests.waiting import PROCESS_TEST_SECONDS, eventually

ORIGIN, INTAKE, OTHER = REGIONS
AGENT = CALLERS["bank"][0].uri
EVIDENCE = "(2026)京0105执567号 结案通知书：已全部履行"
COMMITMENT = "本单位承诺依法履行生效法律文书确定的义务"

pytestmark = pytest.mark.timeout(PROCESS_TEST_SECONDS)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """One federation of three nodes, each in its own process, shared by this module's tests."""
    with federation_cluster(tmp_path_factory.mktemp("repair-regions")) as running:
        yield running


def inquiries(cluster: Cluster, region: str, caller: str) -> inquiry_pb2_grpc.InquiryServiceAsyncStub:
    return inquiry_pb2_grpc.InquiryServiceStub(channel(cluster.layout, cluster.ports[region], caller))


def received(cluster: Cluster, region: str, record_id: str) -> bool:
    return any(
        e.kind is EventKind.RECORD_RECEIVED and any(r.record_id == record_id for r in e.records)
        for e in logged(cluster.layout, region)
    )


async def shared_debtor(cluster: Cluster, request_id: str, subject: str = COMPANY) -> str:
    """A court's debtor record at the origin (a type shared nationwide), once both other regions hold it."""
    async with channel(cluster.layout, cluster.ports[ORIGIN], "court") as court:
        submitted = await registry_pb2_grpc.RegistryServiceStub(court).SubmitRecord(
            debtor_request(request_id, subject=entity(subject)), timeout=10
        )
    record_id = submitted.record.record_id
    await eventually(lambda: all(received(cluster, r, record_id) for r in (INTAKE, OTHER)))
    return record_id


def mandate(layout: Layout, signer: str = "company", purposes: tuple[str, ...] = ("credit_repair",)) -> SignedConsent:
    return signed_consent(layout.client(signer), entity(), AGENT, purposes, attested=signer != "company")


def carried(layout: Layout, record_id: str, with_mandate: SignedConsent | None) -> peer_pb2.ForwardRepairRequest:
    """An application for the agent as the intake region's node itself signs one: what the origin must not take
    on that node's word."""
    catalog = open_catalog(layout.catalog.read_bytes(), KeyRing([layout.authority().verifying_key]))
    request = PeerRepairRequest.new(
        origin=INTAKE,
        requester_uri=AGENT,
        subject=Subject.parse("legal_entity", COMPANY),
        action=APPLY,
        record_id=record_id,
        application_id="",
        evidence=EVIDENCE,
        commitment=COMMITMENT,
        claim="",
        catalog_digest=catalog.digest,
        at=datetime.now(UTC),
        mandate=with_mandate,
    )
    key = SigningKey.load(f"share-gateway/node/{INTAKE}", layout.node_dir(INTAKE) / "signing.key")
    envelope = Envelope.seal(key, PEER_REPAIR_TYPE, request.to_bytes())
    return peer_pb2.ForwardRepairRequest(request=envelope_to_wire(envelope))


def applications_at_origin(cluster: Cluster) -> list[str]:
    return [
        e.details["application_id"]
        for e in logged(cluster.layout, ORIGIN)
        if e.kind is EventKind.REPAIR_APPLIED and "application_id" in e.details
    ]


async def test_agents_mandate_travels_to_the_origin_which_verifies_it_itself(cluster: Cluster) -> None:
    """An agent applies for repair at a region that holds only a copy, with the subject's signed mandate: the
    mandate travels with the application and the origin verifies it itself; a forged, wrong or missing mandate
    is refused at the origin even when a genuine node vouches for the request (2025 No. 22, "an agent may apply
    with the subject's mandate"; DOMAIN.md "Disputes, notice and repair channels": any node, forwarded to the
    origin)."""
    layout = cluster.layout
    record_id = await shared_debtor(cluster, "debtor-mandate")
    agent = inquiries(cluster, INTAKE, "bank")
    applying = inquiry_pb2.ApplyForRepairRequest(record_id=record_id, evidence=EVIDENCE, commitment=COMMITMENT)

    # Without a mandate the agent is nobody's applicant, here as at the origin.
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await agent.ApplyForRepair(applying, timeout=30)
    assert raised.value.code() is grpc.StatusCode.NOT_FOUND
    # A mandate the agent attested itself, or one for another purpose, is no mandate.
    for wrong in (mandate(layout, signer="bank"), mandate(layout, purposes=("loan_underwriting",))):
        refused = inquiry_pb2.ApplyForRepairRequest()
        refused.CopyFrom(applying)
        refused.mandate.CopyFrom(consent_to_wire(wrong))
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await agent.ApplyForRepair(refused, timeout=30)
        assert error_reason(raised.value) == "MANDATE_INVALID"

    # The origin does not take the intake node's word: signed by that genuine node, a request for the agent
    # without a mandate, with the agent's own attestation, or with a mandate whose statement was altered.
    origin = peer_call(layout, cluster.ports[ORIGIN], INTAKE)
    good = mandate(layout)
    altered = replace(good, statement=good.statement.replace(b"credit_repair", b"credit_rebuild"))
    for forged, reason in (
        (None, "NOT_THE_SUBJECT"),
        (mandate(layout, signer="bank"), "MANDATE_INVALID"),
        (altered, "CONSENT_FORGED"),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await origin.ForwardRepair(carried(layout, record_id, forged), timeout=30)
        assert (raised.value.code(), error_reason(raised.value)) == (grpc.StatusCode.PERMISSION_DENIED, reason)
    assert applications_at_origin(cluster) == []

    # With the subject's own mandate, made at the intake region: the origin holds and decides the application.
    applying.mandate.CopyFrom(consent_to_wire(good))
    applied = (await agent.ApplyForRepair(applying, timeout=30)).application
    assert (applied.state, applied.origin_region, applied.applicant, applied.mandate_id) == (
        common_pb2.REPAIR_STATE_SUBMITTED,
        ORIGIN,
        AGENT,
        good.consent_id,
    )
    assert applications_at_origin(cluster) == [applied.application_id]
    [at_origin] = [e for e in logged(layout, ORIGIN) if e.kind is EventKind.REPAIR_APPLIED]
    assert at_origin.details["via"].endswith(INTAKE)
    assert at_origin.subject == Subject.parse("legal_entity", COMPANY)
    [forwarded] = [e for e in logged(layout, INTAKE) if e.kind is EventKind.REPAIR_FORWARDED]
    assert forwarded.subject == Subject.parse("legal_entity", COMPANY)


async def marks(cluster: Cluster, region: str, record_id: str, federated: bool = False) -> list[tuple[str, str]]:
    """How the bank's answer at ``region`` marks the record under dispute: (dispute id, answer day)."""
    request = inquiry("loan_underwriting", consent="AUTH-1", record_types=("dishonest_judgment_debtor",))
    if federated:
        request.scope = inquiry_pb2.INQUIRY_SCOPE_FEDERATION
    answer = await inquiries(cluster, region, "bank").Inquire(request, timeout=30)
    return [(d.dispute_id, d.answer_due) for d in answer.disputed if d.record_id == record_id]


def mark_taken(cluster: Cluster, region: str, dispute_id: str, state: str) -> bool:
    """Whether ``region`` logged taking the origin's statement that the dispute is in ``state``."""
    return any(
        e.kind is EventKind.DISPUTE_MARK_RECEIVED
        and e.details.get("dispute_id") == dispute_id
        and e.details.get("state") == state
        for e in logged(cluster.layout, region)
    )


def forged_mark(layout: Layout, record_id: str, dispute_id: str, origin: str) -> peer_pb2.ShareDisputeRequest:
    """A statement that the dispute was answered, claiming ``origin`` but signed by the intake region's node."""
    mark = DisputeMark(
        dispute_id=dispute_id,
        origin_region=origin,
        record_id=record_id,
        record_type="dishonest_judgment_debtor",
        subject=Subject.parse("legal_entity", COMPANY),
        state=DisputeState.REJECTED,
        filed_at=datetime.now(UTC),
        answer_due=datetime.now(UTC).date(),
        answered_at=datetime.now(UTC),
        version=99,
    )
    key = SigningKey.load(f"share-gateway/node/{INTAKE}", layout.node_dir(INTAKE) / "signing.key")
    return peer_pb2.ShareDisputeRequest(mark=envelope_to_wire(Envelope.seal(key, DISPUTE_MARK_TYPE, mark.to_bytes())))


async def test_copies_at_other_regions_are_marked_under_dispute_on_the_origins_word(cluster: Cluster) -> None:
    """A record disputed at any node is marked "under dispute" in the answers of every other region that carries
    it, its copies and federated answers alike, until its origin answers; only the origin's signed statement
    sets or clears the mark (DOMAIN.md "Disputes, notice and repair channels": marked as under dispute
    meanwhile; Credit Reporting Industry Regulation Art. 25: answered within 20 days)."""
    layout = cluster.layout
    record_id = await shared_debtor(cluster, "debtor-disputed")
    for region in REGIONS:
        assert await marks(cluster, region, record_id) == []

    # Disputed by the subject at a region holding a copy: carried to the origin, which files it.
    async with channel(layout, cluster.ports[OTHER], "company") as company:
        filed = await inquiry_pb2_grpc.InquiryServiceStub(company).FileDispute(
            inquiry_pb2.FileDisputeRequest(record_id=record_id, claim="被执行人已于立案前全部履行"), timeout=30
        )
    dispute = filed.dispute
    assert (dispute.origin_region, dispute.state) == (ORIGIN, common_pb2.DISPUTE_STATE_FILED)
    expected = [(dispute.dispute_id, dispute.answer_due)]
    # The origin's own answer to a peer carries its signed mark for the records it relays.
    answered = await peer_call(layout, cluster.ports[ORIGIN], INTAKE).Inquire(
        signed_inquiry(layout, INTAKE, record_types=("dishonest_judgment_debtor",)), timeout=30
    )
    keys = KeyRing([layout.node_verifying_key(ORIGIN)])
    signed = [envelope_from_wire(e).open(keys, DISPUTE_MARK_TYPE, DisputeMark.from_bytes) for e in answered.disputes]
    assert [(m.record_id, m.dispute_id, m.state) for m in signed] == [
        (record_id, dispute.dispute_id, DisputeState.FILED)
    ]
    # Each other region takes the origin's statement through its outbox, and its answers mark the copy.
    await eventually(lambda: all(mark_taken(cluster, r, dispute.dispute_id, "filed") for r in (INTAKE, OTHER)))
    for region in REGIONS:
        assert await marks(cluster, region, record_id) == expected, region
    assert await marks(cluster, INTAKE, record_id, federated=True) == expected

    # No other region's word clears it: a statement claiming the origin but signed by another node is refused,
    # and one a region makes about its "own" dispute of that id touches nothing of the origin's.
    other = peer_call(layout, cluster.ports[OTHER], INTAKE)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await other.ShareDispute(forged_mark(layout, record_id, dispute.dispute_id, ORIGIN), timeout=30)
    assert raised.value.code() is grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await other.ShareDispute(forged_mark(layout, record_id, dispute.dispute_id, INTAKE), timeout=30)
    assert error_reason(raised.value) == "DISPUTE_OF_ANOTHER_REGION"
    assert await marks(cluster, OTHER, record_id) == expected

    # The court keeps the record, stating why: the origin's answer clears the mark everywhere.
    async with channel(layout, cluster.ports[ORIGIN], "court") as court:
        await registry_pb2_grpc.RegistryServiceStub(court).AnswerDispute(
            registry_pb2.AnswerDisputeRequest(dispute_id=dispute.dispute_id, answer="经核查，记载无误"), timeout=30
        )
    await eventually(lambda: all(mark_taken(cluster, r, dispute.dispute_id, "rejected") for r in (INTAKE, OTHER)))
    for region in REGIONS:
        assert await marks(cluster, region, record_id) == [], region
    assert await marks(cluster, INTAKE, record_id, federated=True) == []


async def test_agent_disputes_at_another_region_under_the_subjects_mandate(cluster: Cluster) -> None:
    """An agent disputes a record (异议) for the subject at a region holding only a copy: its mandate goes with
    the dispute to the origin, which verifies it itself and files the dispute; without one, or with one the
    agent attested itself, nothing is filed (issue 12, "Repair at any node, by an agent"; DOMAIN.md "Disputes,
    notice and repair channels")."""
    layout = cluster.layout
    record_id = await shared_debtor(cluster, "debtor-agent-dispute")
    agent = inquiries(cluster, INTAKE, "bank")
    disputing = inquiry_pb2.FileDisputeRequest(record_id=record_id, claim="履行情况记载有误")
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await agent.FileDispute(disputing, timeout=30)
    assert raised.value.code() is grpc.StatusCode.NOT_FOUND
    disputing.mandate.CopyFrom(consent_to_wire(mandate(layout, signer="bank")))
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await agent.FileDispute(disputing, timeout=30)
    assert error_reason(raised.value) == "MANDATE_INVALID"
    good = mandate(layout)
    disputing.mandate.CopyFrom(consent_to_wire(good))
    dispute = (await agent.FileDispute(disputing, timeout=30)).dispute
    assert (dispute.origin_region, dispute.record_id, dispute.applicant, dispute.state) == (
        ORIGIN,
        record_id,
        AGENT,
        common_pb2.DISPUTE_STATE_FILED,
    )
    [filed] = [
        e
        for e in logged(layout, ORIGIN)
        if e.kind is EventKind.DISPUTE_FILED and e.details.get("dispute_id") == dispute.dispute_id
    ]
    assert filed.details["via"].endswith(INTAKE)
    assert filed.subject == Subject.parse("legal_entity", COMPANY)
