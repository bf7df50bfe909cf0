"""Peers witness each other's logs: cosigned checkpoints, and an alarm when a log's history was rewritten."""

from __future__ import annotations

import base64
import functools
from datetime import UTC, datetime

import grpc
import pytest

from share_gateway.config import NodeConfig
from share_gateway.crypto.keys import KeyRing, SigningKey
from share_gateway.crypto.note import NoteSignature, open_note, parse_note
from share_gateway.devkit import Layout
from share_gateway.domain.events import EventKind
from share_gateway.federation.peers import error_info
from share_gateway.ledger.checkpoint import Checkpoint, open_checkpoint_signed
from share_gateway.ledger.cosignatures import Status, check_cosignatures
from share_gateway.ledger.witness import Witnessed
from share_gateway.node import Node, start_node
from share_gateway.rotation import rotate_key
from share_gateway.v1 import compliance_pb2, compliance_pb2_grpc, peer_pb2, registry_pb2_grpc
from tests.federation import REGIONS, Nodes, channel, events, peer_call
from tests.support import penalty_request
from tests.waiting import eventually

ORIGIN, WITNESS = "110000", "310000"
ORIGIN_KEY = f"share-gateway/node/{ORIGIN}"


def key_of(layout: Layout, region: str) -> SigningKey:
    return SigningKey.load(f"share-gateway/node/{region}", layout.node_dir(region) / "signing.key")


def signers(node: Node, note: bytes) -> list[str]:
    """The origin (by its log key) and every witness whose C2SP cosignature verifies, by region."""
    manifest = node.gateway.manifest.manifest  # type: ignore[union-attr]
    _, keys = open_note(note, manifest.keys)
    witnessing = check_cosignatures(note, manifest.witnesses_of(node.config.region))
    assert not witnessing.invalid, witnessing
    return sorted([k.name.rsplit("/", 1)[-1] for k in keys] + list(witnessing.valid))


async def activity(layout: Layout, nodes: Nodes) -> None:
    for region, node in nodes.items():
        async with channel(layout, node, "regulator") as agency:
            await registry_pb2_grpc.RegistryServiceStub(agency).SubmitRecord(penalty_request(f"p-{region}"), timeout=5)


def latest_note(node: Node) -> bytes:
    latest = node.gateway.log.latest_checkpoint()
    return b"" if latest is None else latest.note


def fully_cosigned(node: Node) -> bool:
    """The latest checkpoint carries a signature by every region (the origin's own included)."""
    note = latest_note(node)
    return note != b"" and len(signers(node, note)) == len(REGIONS)


async def witnessed_then_quiet(layout: Layout, nodes: Nodes) -> Witnessed:
    """Wait until the witness cosigned something of the origin, then stop the origin asking for more."""
    await activity(layout, nodes)
    witness = nodes[WITNESS].gateway.store.witness
    await eventually(lambda: witness.witnessed(ORIGIN) is not None)
    await nodes[ORIGIN].gateway.cosigner.loop.stop()  # type: ignore[union-attr]
    known = witness.witnessed(ORIGIN)
    assert known is not None
    return known


async def test_every_checkpoint_is_cosigned_by_the_other_regions(layout: Layout, nodes: Nodes) -> None:
    await activity(layout, nodes)
    for region in REGIONS:
        node = nodes[region]
        await eventually(functools.partial(fully_cosigned, node))
        assert signers(node, latest_note(node)) == sorted(REGIONS)
    # Each witness holds what it cosigned, and a compliance officer reads the cosigned checkpoint.
    witnessed = nodes[WITNESS].gateway.store.witness.witnessed(ORIGIN)
    assert witnessed is not None
    assert nodes[ORIGIN].gateway.log.root(witnessed.size) == witnessed.root
    async with channel(layout, nodes[ORIGIN], "officer") as officer:
        head = await compliance_pb2_grpc.ComplianceServiceStub(officer).GetCheckpoint(
            compliance_pb2.GetCheckpointRequest(), timeout=5
        )
    assert signers(nodes[ORIGIN], head.checkpoint) == sorted(REGIONS)


async def test_a_rewritten_history_raises_the_witness_alarm(layout: Layout, nodes: Nodes) -> None:
    before = await witnessed_then_quiet(layout, nodes)
    witness = nodes[WITNESS]
    # The origin's operator signs another history with the origin's own key: same size, other root.
    forged = Checkpoint(f"share-gateway/node/{ORIGIN}", before.size, bytes(32)).sign(key_of(layout, ORIGIN))
    stub = peer_call(layout, witness, ORIGIN)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.Witness(peer_pb2.WitnessRequest(checkpoint=forged, old_size=before.size), timeout=5)
    assert raised.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    info = error_info(raised.value)
    assert info is not None
    assert info.reason == "INCONSISTENT_CHECKPOINT"
    # A bigger tree whose proof cannot lead from the cosigned root.
    bigger = Checkpoint(f"share-gateway/node/{ORIGIN}", before.size + 5, bytes(32)).sign(key_of(layout, ORIGIN))
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.Witness(
            peer_pb2.WitnessRequest(checkpoint=bigger, old_size=before.size, consistency_proof=[bytes(32)] * 3),
            timeout=5,
        )
    assert error_info(raised.value).reason == "INCONSISTENT_CHECKPOINT"  # type: ignore[union-attr]
    # Nothing moved, and the alarm is in the witness's log with the evidence.
    assert witness.gateway.store.witness.witnessed(ORIGIN) == before
    alarms = [e for e in events(witness) if e.kind is EventKind.CHECKPOINT_INCONSISTENT]
    assert [base64.b64decode(a.details["presented"]) for a in alarms] == [forged, bigger]
    assert {a.actor for a in alarms} == {f"sgw://node/{ORIGIN}"}


async def test_a_wrong_old_size_or_a_checkpoint_of_another_log_is_refused(layout: Layout, nodes: Nodes) -> None:
    known = await witnessed_then_quiet(layout, nodes)
    witness = nodes[WITNESS]
    latest = nodes[ORIGIN].gateway.log.latest_checkpoint()
    assert latest is not None
    stub = peer_call(layout, witness, ORIGIN)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.Witness(peer_pb2.WitnessRequest(checkpoint=latest.note, old_size=0), timeout=5)
    info = error_info(raised.value)
    assert info is not None
    assert info.reason == "WITNESS_SIZE_MISMATCH"
    assert int(info.metadata["known_size"]) == known.size
    # Region 440000's checkpoint, sent as 110000's: not signed by the log it claims (its first one may still be
    # on its way on a loaded machine).
    guangdong = nodes["440000"].gateway.log
    await eventually(lambda: guangdong.latest_checkpoint() is not None)
    other = guangdong.latest_checkpoint()
    assert other is not None
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.Witness(peer_pb2.WitnessRequest(checkpoint=other.note, old_size=known.size), timeout=5)
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT


async def test_a_checkpoint_cosigned_the_old_way_is_witnessed_again_in_c2sp_form(layout: Layout, nodes: Nodes) -> None:
    """A line stored before cosignature/v1 (a plain signature by the peer's log key) verifies as legacy only;
    the cosigner asks that peer again, and the same checkpoint gains its C2SP cosignature."""
    await witnessed_then_quiet(layout, nodes)
    origin = nodes[ORIGIN].gateway
    async with channel(layout, nodes[ORIGIN], "officer") as officer:  # a review step: one more event to log
        await compliance_pb2_grpc.ComplianceServiceStub(officer).GetCheckpoint(
            compliance_pb2.GetCheckpointRequest(), timeout=5
        )
    await origin.runtime.event_log.drain()
    await origin.sequencer.step(force=True)
    latest = origin.log.latest_checkpoint()
    assert latest is not None
    assert signers(nodes[ORIGIN], latest.note) == [ORIGIN]
    peer_log_key = key_of(layout, WITNESS)
    text = parse_note(latest.note).text
    origin.log.add_cosignature(
        latest.size, NoteSignature(peer_log_key.name, peer_log_key.key_id, peer_log_key.sign(text.encode()))
    )
    manifest = origin.manifest.manifest  # type: ignore[union-attr]
    legacy = check_cosignatures(origin.log.latest_checkpoint().note, manifest.witnesses_of(ORIGIN))  # type: ignore[union-attr]
    assert [(c.witness, c.status) for c in legacy.cosigned] == [("310000", Status.LEGACY), ("440000", Status.MISSING)]
    assert await origin.cosigner.collect() == 2  # type: ignore[union-attr]
    now = check_cosignatures(origin.log.latest_checkpoint().note, manifest.witnesses_of(ORIGIN))  # type: ignore[union-attr]
    assert now.valid == {"310000", "440000"}
    assert Status.LEGACY in {c.status for c in now.cosigned}, "the old line stays, as what it is"


async def test_a_node_without_a_witness_key_refuses_to_witness(layout: Layout, nodes: Nodes) -> None:
    """It never falls back to its log key: that would be the plain signature nobody can tell from its own."""
    witness = nodes[WITNESS]
    await witnessed_then_quiet(layout, nodes)
    witness.gateway.runtime.witness_key = None
    latest = nodes[ORIGIN].gateway.log.latest_checkpoint()
    assert latest is not None
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await peer_call(layout, witness, ORIGIN).Witness(peer_pb2.WitnessRequest(checkpoint=latest.note), timeout=5)
    assert raised.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(raised.value).reason == "NO_WITNESS_KEY"  # type: ignore[union-attr]


async def test_a_witness_refuses_a_checkpoint_signed_by_a_log_key_retired_by_a_rotation(layout: Layout) -> None:
    """Key history: a retired key signs nothing newer, and a witness cosigns now (issue 13) (unverified)."""
    old = key_of(layout, ORIGIN)
    rotate_key(layout, ORIGIN, "signing", datetime.now(UTC))
    new = key_of(layout, ORIGIN)
    witness = await start_node(NodeConfig.load(layout.node_config(WITNESS)))
    try:
        stub = peer_call(layout, witness, ORIGIN)
        checkpoint = Checkpoint(old.name, 1, bytes(32))
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.Witness(peer_pb2.WitnessRequest(checkpoint=checkpoint.sign(old), old_size=0), timeout=5)
        assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert "retired" in (raised.value.details() or "")
        answer = await stub.Witness(peer_pb2.WitnessRequest(checkpoint=checkpoint.sign(new), old_size=0), timeout=5)
        assert answer.cosignature.startswith(f"\u2014 share-gateway/witness/{WITNESS} ")
    finally:
        await witness.stop(grace=0)


async def test_a_witness_tells_each_origin_only_what_it_cosigned_of_its_own_log(layout: Layout, nodes: Nodes) -> None:
    """``GetWitnessed``: the checkpoint of the caller's log the witness last cosigned, as the caller signed it (what a
    restored node compares its log with); a region it never cosigned anything of gets nothing."""
    known = await witnessed_then_quiet(layout, nodes)
    witness = nodes[WITNESS]
    answer = await peer_call(layout, witness, ORIGIN).GetWitnessed(peer_pb2.GetWitnessedRequest(), timeout=5)
    assert answer.checkpoint == witness.gateway.store.witness.note(ORIGIN)
    checkpoint, _ = open_checkpoint_signed(
        answer.checkpoint, KeyRing([key_of(layout, ORIGIN).verifying_key]), ORIGIN_KEY
    )
    assert (checkpoint.size, checkpoint.root) == (known.size, known.root)
    # Asked by the witness about its own log (it witnesses nothing of itself): empty.
    own = await peer_call(layout, witness, WITNESS).GetWitnessed(peer_pb2.GetWitnessedRequest(), timeout=5)
    assert own.checkpoint == b""
