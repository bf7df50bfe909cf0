"""A requester proves its own receipt over real mTLS gRPC: the proof of its event, and of no one else's."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import grpc
import pytest

from share_gateway.config import NodeConfig
from share_gateway.crypto.keys import KeyRing
from share_gateway.devkit import Layout
from share_gateway.domain.events import Event, EventKind, Outcome
from share_gateway.ledger.bundle import BundleEntry, encode_bundle, verify_bundle
from share_gateway.ledger.checkpoint import TlogProof, open_checkpoint
from share_gateway.node import Node, start_node
from share_gateway.store.repositories import Store
from share_gateway.v1 import inquiry_pb2, inquiry_pb2_grpc, registry_pb2_grpc
from tests.conftest import ChannelFactory, seed_grants
from tests.support import REGION, error_reason, inquiry, penalty_request

ORIGIN = f"share-gateway/node/{REGION}"


@pytest.fixture
def keys(federation: Layout) -> KeyRing:
    return KeyRing([federation.node_verifying_key(REGION)])


@pytest.fixture
async def quiet_node(node_config: NodeConfig) -> AsyncIterator[Node]:
    """A node whose log the test integrates and checkpoints by hand (no sequencer of its own)."""
    config = dataclasses.replace(node_config, log=dataclasses.replace(node_config.log, sequencer=False))
    started = await start_node(config)
    seed_grants(started.gateway.store)
    yield started
    await started.stop(grace=0)


def requester(connect: ChannelFactory, caller: str = "bank") -> inquiry_pb2_grpc.InquiryServiceAsyncStub:
    return inquiry_pb2_grpc.InquiryServiceStub(connect(caller))


async def inquired(connect: ChannelFactory) -> inquiry_pb2.InquireResponse:
    await registry_pb2_grpc.RegistryServiceStub(connect("regulator")).SubmitRecord(penalty_request(), timeout=5)
    answer: inquiry_pb2.InquireResponse = await requester(connect).Inquire(
        inquiry("loan_underwriting", consent="AUTH-1"), timeout=5
    )
    return answer


async def receipt_proof(
    connect: ChannelFactory, event_id: str, caller: str = "bank", tree_size: int = 0
) -> inquiry_pb2.GetReceiptProofResponse:
    response: inquiry_pb2.GetReceiptProofResponse = await requester(connect, caller).GetReceiptProof(
        inquiry_pb2.GetReceiptProofRequest(event_id=event_id, tree_size=tree_size), timeout=5
    )
    return response


async def test_a_requester_proves_its_own_inquiry_with_the_receipt_and_the_node_key(
    node: Node, connect: ChannelFactory, keys: KeyRing
) -> None:
    answer = await inquired(connect)
    await node.gateway.sequencer.step(force=True)
    proved = await receipt_proof(connect, answer.inquiry_id)
    assert proved.event == answer.receipt.payload
    assert not proved.redacted
    # What the requester holds suffices: its receipt's payload, the tlog-proof, the node's public key.
    checkpoint = TlogProof.parse(proved.tlog_proof).verify(answer.receipt.payload, keys, ORIGIN)
    assert checkpoint == open_checkpoint(proved.checkpoint, keys, ORIGIN)
    assert checkpoint.size == proved.tree_size > proved.leaf_index
    assert Event.from_bytes(proved.event).event_id == answer.inquiry_id
    # The same proof, as an offline bundle, passes the officers' verifier.
    bundle = encode_bundle(ORIGIN, [BundleEntry(proved.leaf_index, TlogProof.parse(proved.tlog_proof), proved.event)])
    assert verify_bundle(bundle, keys, ORIGIN).events[0].event_id == answer.inquiry_id


async def test_another_callers_event_is_not_found_like_an_unknown_id(node: Node, connect: ChannelFactory) -> None:
    answer = await inquired(connect)
    await node.gateway.sequencer.step(force=True)
    refusals = []
    asked = (("utility", answer.inquiry_id), ("officer", answer.inquiry_id), ("bank", str(uuid.uuid4())))
    for caller, event_id in asked:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await receipt_proof(connect, event_id, caller)
        refusals.append((refused.value.code(), refused.value.details() or ""))
    # One status and one message for all three: no oracle of what others did.
    assert refusals == [(grpc.StatusCode.NOT_FOUND, refusals[0][1])] * 3
    assert answer.inquiry_id not in refusals[0][1]


async def test_an_event_waiting_for_the_log_is_retryable_and_still_only_its_makers(
    quiet_node: Node, connect: ChannelFactory, keys: KeyRing
) -> None:
    answer = await inquired(connect)
    gateway = quiet_node.gateway

    async def refused(caller: str) -> grpc.aio.AioRpcError:
        with pytest.raises(grpc.aio.AioRpcError) as error:
            await receipt_proof(connect, answer.inquiry_id, caller)
        return error.value

    # Appended, not yet a leaf: the maker is told to ask again; anyone else is told nothing exists.
    pending = await refused("bank")
    assert pending.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_reason(pending) == "NOT_YET_IN_LOG"
    assert (await refused("utility")).code() == grpc.StatusCode.NOT_FOUND
    # A leaf, but no checkpoint over it yet: still retryable.
    await gateway.runtime.off_loop(gateway.store.log.integrate)
    assert error_reason(await refused("bank")) == "NOT_YET_IN_LOG"
    assert (await refused("utility")).code() == grpc.StatusCode.NOT_FOUND
    await gateway.sequencer.step(force=True)
    proved = await receipt_proof(connect, answer.inquiry_id)
    TlogProof.parse(proved.tlog_proof).verify(answer.receipt.payload, keys, ORIGIN)
    # A later inquiry against that earlier checkpoint, which does not cover it: a bad argument, named.
    later = await requester(connect).Inquire(inquiry("loan_underwriting", consent="AUTH-2"), timeout=5)
    await gateway.sequencer.step(force=True)
    with pytest.raises(grpc.aio.AioRpcError) as early:
        await receipt_proof(connect, later.inquiry_id, tree_size=proved.tree_size)
    assert early.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "tree_size" in (early.value.details() or "")
    # The first inquiry still proves against the checkpoint it was proved under, and against the latest.
    for size in (proved.tree_size, 0):
        again = await receipt_proof(connect, answer.inquiry_id, tree_size=size)
        TlogProof.parse(again.tlog_proof).verify(answer.receipt.payload, keys, ORIGIN)


@pytest.mark.parametrize("event_id", ["", "x" * 37])
async def test_a_missing_or_overlong_event_id_is_a_bad_argument(
    node: Node, connect: ChannelFactory, event_id: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await receipt_proof(connect, event_id)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_the_store_finds_the_maker_of_an_event_only_while_it_waits_for_its_leaf(store: Store) -> None:
    """Both databases: the pending tail is read by sequence number, an integrated event is the log's to find."""
    actors = ("sgw://institution/91110000MA0000001L", "sgw://institution/91310000MA00000025")
    events = [
        Event(str(uuid.uuid4()), EventKind.INQUIRY, datetime.now(UTC), REGION, actors[i % 2], Outcome.ALLOWED)
        for i in range(3)
    ]
    store.append(events)
    assert store.log.integrate(limit=1).added == 1
    assert store.events.pending_actor(events[0].event_id) is None
    assert [store.events.pending_actor(e.event_id) for e in events[1:]] == [actors[1], actors[0]]
    assert store.events.pending_actor(str(uuid.uuid4())) is None
    store.log.integrate()
    assert store.events.pending_actor(events[2].event_id) is None
    logged = store.log.entry(events[2].event_id)
    assert logged is not None
    assert logged.body == events[2].canonical_bytes()
