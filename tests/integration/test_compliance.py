"""ComplianceService and "who looked at me" over real mTLS gRPC, with the node's own sequencer running."""

from __future__ import annotations

import base64

import grpc
import pytest

from share_gateway.crypto.keys import KeyRing
from share_gateway.devkit import Layout
from share_gateway.domain.canonical import canonical_json, parse_json
from share_gateway.domain.events import Event, EventKind, Outcome
from share_gateway.ledger.bundle import BundleError, verify_bundle
from share_gateway.ledger.checkpoint import TlogProof, open_checkpoint
from share_gateway.ledger.hashing import leaf_hash
from share_gateway.ledger.verify import verify_consistency, verify_inclusion
from share_gateway.node import Node
from share_gateway.v1 import compliance_pb2, compliance_pb2_grpc, inquiry_pb2, inquiry_pb2_grpc, registry_pb2_grpc
from tests.conftest import ChannelFactory
from tests.support import (
    COMPANY,
    PERSON,
    REGION,
    entity,
    error_reason,
    inquiry,
    loan_default_request,
    penalty_request,
    person,
)
from tests.waiting import eventually

ORIGIN = f"share-gateway/node/{REGION}"


@pytest.fixture
def keys(federation: Layout) -> KeyRing:
    return KeyRing([federation.node_verifying_key(REGION)])


def officer(connect: ChannelFactory, caller: str = "officer") -> compliance_pb2_grpc.ComplianceServiceAsyncStub:
    return compliance_pb2_grpc.ComplianceServiceStub(connect(caller))


async def activity(node: Node, connect: ChannelFactory) -> None:
    """Submissions and inquiries, allowed and denied, then everything integrated and checkpointed."""
    registry = registry_pb2_grpc.RegistryServiceStub(connect("regulator"))
    await registry.SubmitRecord(penalty_request(), timeout=5)
    await registry.SubmitRecord(loan_default_request(subject=person(PERSON)), timeout=5)
    bank = inquiry_pb2_grpc.InquiryServiceStub(connect("bank"))
    for _ in range(3):
        await bank.Inquire(inquiry("loan_underwriting", consent="AUTH-1"), timeout=5)
    await bank.Inquire(inquiry("loan_underwriting", subject=person(PERSON), consent="AUTH-2"), timeout=5)
    with pytest.raises(grpc.aio.AioRpcError):
        await bank.Inquire(inquiry("loan_underwriting"), timeout=5)
    await node.gateway.sequencer.step(force=True)


async def test_search_streams_pages_of_matching_events(node: Node, connect: ChannelFactory) -> None:
    await activity(node, connect)
    stub = officer(connect)
    request = compliance_pb2.SearchEventsRequest(
        filter=compliance_pb2.EventFilter(actor="sgw://institution/91110000MA0000001L", kind="inquiry"), page_size=3
    )
    first = [m async for m in stub.SearchEvents(request, timeout=5)]
    events = [e for m in first for e in m.events]
    assert len(events) == 3
    assert first[-1].next_page_token
    request.page_token = first[-1].next_page_token
    rest = [e for m in [m async for m in stub.SearchEvents(request, timeout=5)] for e in m.events]
    assert len(rest) == 2
    found = [Event.from_bytes(e.event) for e in events + rest]
    assert [e.outcome for e in found].count(Outcome.DENIED) == 1
    assert all(e.kind is EventKind.INQUIRY for e in found)
    denied = [
        m
        async for m in stub.SearchEvents(
            compliance_pb2.SearchEventsRequest(filter=compliance_pb2.EventFilter(outcome="denied", kind="inquiry")),
            timeout=5,
        )
    ]
    assert len([e for m in denied for e in m.events]) == 1


async def test_a_search_says_how_many_events_match_in_all_when_asked(node: Node, connect: ChannelFactory) -> None:
    """The count comes on the first message of the page that asked for it, beside a page of 2 of the 5; a search
    that did not ask carries none (the count costs a scan of the index)."""
    await activity(node, connect)
    stub = officer(connect)
    inquiries = compliance_pb2.EventFilter(actor="sgw://institution/91110000MA0000001L", kind="inquiry")
    request = compliance_pb2.SearchEventsRequest(filter=inquiries, page_size=2, count_matching=True)
    counted = [m async for m in stub.SearchEvents(request, timeout=5)]
    assert [len(m.events) for m in counted] == [2]
    assert counted[0].HasField("matching")
    assert counted[0].matching == 5
    request.count_matching = False
    uncounted = [m async for m in stub.SearchEvents(request, timeout=5)]
    assert not any(m.HasField("matching") for m in uncounted)
    request.filter.outcome, request.count_matching = "denied", True
    denied = [m async for m in stub.SearchEvents(request, timeout=5)]
    assert denied[0].matching == 1


async def test_proofs_verify_with_only_the_checkpoint_and_the_key(
    node: Node, connect: ChannelFactory, keys: KeyRing
) -> None:
    await activity(node, connect)
    stub = officer(connect)
    head = await stub.GetCheckpoint(compliance_pb2.GetCheckpointRequest(), timeout=5)
    checkpoint = open_checkpoint(head.checkpoint, keys, ORIGIN)
    assert checkpoint.size == head.size > 0
    proof = await stub.GetInclusionProof(compliance_pb2.GetInclusionProofRequest(leaf_index=2), timeout=5)
    verify_inclusion(2, checkpoint.size, leaf_hash(proof.event), list(proof.proof), checkpoint.root)
    tlog = TlogProof.parse(proof.tlog_proof)
    assert tlog.verify(proof.event, keys, ORIGIN) == checkpoint
    # A receipt names its event: the requester can ask for that event's proof by id.
    answer = await inquiry_pb2_grpc.InquiryServiceStub(connect("bank")).Inquire(
        inquiry("loan_underwriting", consent="A"), timeout=5
    )
    await node.gateway.sequencer.step(force=True)
    by_id = await stub.GetInclusionProof(compliance_pb2.GetInclusionProofRequest(event_id=answer.inquiry_id), timeout=5)
    assert by_id.event == answer.receipt.payload
    later = open_checkpoint(by_id.checkpoint, keys, ORIGIN)
    consistency = await stub.GetConsistencyProof(
        compliance_pb2.GetConsistencyProofRequest(from_size=checkpoint.size), timeout=5
    )
    verify_consistency(checkpoint.size, later.size, checkpoint.root, later.root, list(consistency.proof))


async def test_an_exported_bundle_verifies_offline_and_tampering_breaks_it(
    node: Node, connect: ChannelFactory, keys: KeyRing
) -> None:
    await activity(node, connect)
    export = await officer(connect).ExportBundle(
        compliance_pb2.ExportBundleRequest(filter=compliance_pb2.EventFilter(subject_identifier=COMPANY)), timeout=5
    )
    verified = verify_bundle(export.bundle, keys, ORIGIN)
    assert len(verified.events) == export.events >= 5
    assert all(e.subject is not None and e.subject.identifier == COMPANY for e in verified.events)
    doc = parse_json(export.bundle)
    body = base64.b64decode(doc["entries"][0]["event"]).replace(b'"node":"110000"', b'"node":"110001"')
    doc["entries"][0]["event"] = base64.b64encode(body).decode()
    with pytest.raises(BundleError, match="entry 0"):
        verify_bundle(canonical_json(doc), keys, ORIGIN)


async def test_only_compliance_officers_review_the_log_and_refusals_are_logged(
    node: Node, connect: ChannelFactory
) -> None:
    await activity(node, connect)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await officer(connect, "bank").GetCheckpoint(compliance_pb2.GetCheckpointRequest(), timeout=5)
    assert raised.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert error_reason(raised.value) == "NOT_A_COMPLIANCE_OFFICER"
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        _ = [m async for m in officer(connect, "bank").SearchEvents(compliance_pb2.SearchEventsRequest(), timeout=5)]
    assert raised.value.code() is grpc.StatusCode.PERMISSION_DENIED
    audits = [Event.from_bytes(b) for _, b in node.gateway.store.events.read() if b'"kind":"audit"' in b]
    assert [e.outcome for e in audits] == [Outcome.DENIED, Outcome.DENIED]
    assert audits[0].actor == "sgw://institution/91110000MA0000001L"


async def test_a_proof_refers_only_to_a_published_checkpoint(node: Node, connect: ChannelFactory) -> None:
    """A size the log passed but never published a checkpoint of (the sequencer publishes by the clock too, so
    which sizes those are is read, not assumed): sizes only grow, so none of it is published later."""
    await activity(node, connect)
    published = {c.size for c in node.gateway.store.log.checkpoints()}
    unpublished = max(set(range(1, max(published))) - published)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await officer(connect).GetInclusionProof(
            compliance_pb2.GetInclusionProofRequest(leaf_index=0, tree_size=unpublished), timeout=5
        )
    assert raised.value.code() is grpc.StatusCode.NOT_FOUND


async def test_a_subject_sees_who_looked_at_it(node: Node, connect: ChannelFactory) -> None:
    await activity(node, connect)
    history = await inquiry_pb2_grpc.InquiryServiceStub(connect("person")).GetInquiryHistory(
        inquiry_pb2.GetInquiryHistoryRequest(subject=person(PERSON), purpose="self_inquiry"), timeout=5
    )
    assert history.days == 730
    assert [(e.institution, e.purpose, e.outcome) for e in history.entries] == [
        ("sgw://institution/91110000MA0000001L", "loan_underwriting", "allowed")
    ]
    assert history.entries[0].node == REGION


async def test_nobody_reads_another_subject_s_history(node: Node, connect: ChannelFactory) -> None:
    await activity(node, connect)
    stub = inquiry_pb2_grpc.InquiryServiceStub(connect("bank"))
    for request, reason in (
        (inquiry_pb2.GetInquiryHistoryRequest(subject=entity(COMPANY), purpose="self_inquiry"), "NOT_THE_SUBJECT"),
        (inquiry_pb2.GetInquiryHistoryRequest(subject=entity(COMPANY), purpose="loan_underwriting"), "NOT_SELF_ONLY"),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.GetInquiryHistory(request, timeout=5)
        assert raised.value.code() is grpc.StatusCode.PERMISSION_DENIED
        assert error_reason(raised.value) == reason


async def test_the_sequencer_checkpoints_activity_within_a_second(node: Node, connect: ChannelFactory) -> None:
    await inquiry_pb2_grpc.InquiryServiceStub(connect("bank")).Inquire(inquiry("loan_underwriting", consent="A"))

    def checkpointed() -> bool:
        latest = node.gateway.log.latest_checkpoint()
        return latest is not None and latest.size >= 1

    # "Within a second" is a bench figure (the sequencer's interval); a test waits for the checkpoint itself.
    await eventually(checkpointed)
