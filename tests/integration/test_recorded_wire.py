"""Every peer message, as nodes of earlier versions sent it, is still taken by a node of this version.

Regions upgrade one at a time (docs/operations.md, "Upgrading one region ..."), so a node must accept the previous
wire version of every PeerService call. ``tests/data/wire/<version>/`` holds one recording per version, made by
``tests/wire_records/record.py`` from a development federation whose keys are kept beside it: each call one
region's node received, in order. A fresh node of that region, started from the recorded federation with its
clock at each call's recorded time, takes every one again through its real PeerService (mTLS, the caller's
certificate): verified signatures, parsed statements, stored. A call the replayed region never receives (a repair
forwarded to the record's origin) is checked by the node's own verification of a peer's signed message.
"""

from __future__ import annotations

import json
import shutil
import stat
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

from share_gateway.client import credentials, open_channel
from share_gateway.config import NodeConfig
from share_gateway.crypto.cosignature import CosignerKey, open_cosignature
from share_gateway.crypto.disclosure import verify_disclosure
from share_gateway.crypto.note import parse_note
from share_gateway.domain.deliveries import DeliveryKind
from share_gateway.domain.dispute_marks import DISPUTE_MARK_TYPE, DisputeMark
from share_gateway.domain.errors import Refused
from share_gateway.domain.events import EVENT_MEDIA_TYPE, Event
from share_gateway.domain.history import HISTORY_PAGE_TYPE, HistoryPage
from share_gateway.domain.repair_status import REPAIR_STATUS_TYPE, RepairStatus
from share_gateway.federation.repair_request import PEER_REPAIR_TYPE, PeerRepairRequest
from share_gateway.federation.wire import disclosure_from_wire, envelope_from_wire
from share_gateway.gateway.federation import FederationDesk
from share_gateway.ledger.checkpoint import open_checkpoint
from share_gateway.node import Node, start_node
from share_gateway.v1 import common_pb2, peer_pb2, peer_pb2_grpc
from tests.wire_records import DELIVERED_BY

RECORDINGS = Path(__file__).resolve().parents[1] / "data" / "wire"
VERSIONS = sorted(p.name for p in RECORDINGS.iterdir() if (p / "index.json").exists())
PEER_SERVICE = peer_pb2.DESCRIPTOR.services_by_name["PeerService"]
REQUESTS = {m.name: GetMessageClass(m.input_type) for m in PEER_SERVICE.methods}
RESPONSES = {m.name: GetMessageClass(m.output_type) for m in PEER_SERVICE.methods}
# What a signed payload in an answer holds, read as a peer of this version reads it.
PARSERS: dict[str, Callable[[bytes], object]] = {
    EVENT_MEDIA_TYPE: Event.from_bytes,
    DISPUTE_MARK_TYPE: DisputeMark.from_bytes,
    HISTORY_PAGE_TYPE: HistoryPage.from_bytes,
    REPAIR_STATUS_TYPE: RepairStatus.from_bytes,
}


@dataclass(frozen=True)
class Recorded:
    version: str
    method: str
    request: bytes
    response: bytes
    caller: str
    callee: str
    received_at: datetime
    replayed: bool


def index(version: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((RECORDINGS / version / "index.json").read_text())
    return loaded


def recorded(version: str) -> list[Recorded]:
    folder = RECORDINGS / version

    def read(entry: dict[str, Any]) -> Recorded:
        request, response = (folder / entry["request"]).read_bytes(), (folder / entry["response"]).read_bytes()
        at = datetime.fromisoformat(entry["received_at"])
        return Recorded(
            version, entry["method"], request, response, entry["caller"], entry["callee"], at, entry["replayed"]
        )

    return [read(entry) for entry in index(version)["messages"]]


class Clock:
    """The replayed node's clock: each call arrives at the time it was recorded (its nonce, its freshness)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Replay:
    version: str
    federation: Path
    node: Node
    clock: Clock

    def stub(self, caller: str) -> peer_pb2_grpc.PeerServiceAsyncStub:
        """PeerService of the replayed node, called with the recorded caller node's own certificate."""
        node_dir = self.federation / "nodes" / caller
        creds = credentials(node_dir / "tls.crt", node_dir / "tls.key", self.federation / "ca" / "ca.crt")
        return peer_pb2_grpc.PeerServiceStub(open_channel(f"localhost:{self.node.port}", creds))


def unpack(source: Path, target: Path) -> Path:
    """The recorded federation, as a node reads it: private keys its owner's alone (a checkout makes them 0644)."""
    shutil.copytree(source, target)
    for key in target.rglob("*.key"):
        key.chmod(stat.S_IRUSR | stat.S_IWUSR)
    return target


@pytest.fixture(params=VERSIONS)
async def replay(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Replay]:
    version: str = request.param
    federation = unpack(RECORDINGS / version / "federation", tmp_path / "federation")
    config_path = federation / "nodes" / index(version)["replayed_region"] / "node.yaml"
    config = yaml.safe_load(config_path.read_text())
    config |= {"listen": "127.0.0.1:0", "public_listen": "127.0.0.1:0"}
    config_path.write_text(yaml.safe_dump(config))
    clock = Clock(recorded(version)[0].received_at)
    node = await start_node(NodeConfig.load(config_path), clock=clock)
    try:
        yield Replay(version, federation, node, clock)
    finally:
        await node.stop(grace=0)


async def call(replay: Replay, message: Recorded, request: Message) -> Message:
    method = getattr(replay.stub(message.caller), message.method)
    response: Message = await method(request, timeout=30)
    return response


def signed_payload(request: Message) -> tuple[Message, str]:
    """The part of a request its sender signed (the checkpoint of a witness request, else the one envelope)."""
    if isinstance(request, peer_pb2.WitnessRequest):
        return request, "checkpoint"
    if isinstance(request, peer_pb2.PublishRequest):
        return request.record.statement, "payload"
    [(_, envelope)] = request.ListFields()
    assert isinstance(envelope, common_pb2.SignedEnvelope)
    return envelope, "payload"


def corrupted(message: Recorded) -> Message | None:
    """The recorded request with one byte of what its sender signed flipped; None for a request that carries
    nothing signed (GetWitnessed: the caller is its certificate)."""
    request = REQUESTS[message.method].FromString(message.request)
    if not request.ListFields():
        return None
    holder, field = signed_payload(request)
    signed = bytearray(getattr(holder, field))
    signed[len(signed) // 2] ^= 0x01
    setattr(holder, field, bytes(signed))
    return request


def envelopes(message: Message) -> list[common_pb2.SignedEnvelope]:
    """Every signed envelope a message carries, at any depth."""
    if isinstance(message, common_pb2.SignedEnvelope):
        return [message]
    found = []
    for field, value in message.ListFields():
        if field.message_type is not None:
            for item in value if field.is_repeated else [value]:
                found.extend(envelopes(item))
    return found


def read_answer(replay: Replay, message: Recorded, answer: Message) -> list[bytes]:
    """An answer, as the calling node would read it: each envelope (a cosignature) by the callee; its receipts."""
    manifest = replay.node.gateway.manifest.manifest  # type: ignore[union-attr]
    keys = manifest.keys
    federation = replay.node.gateway.federation
    assert federation is not None
    if isinstance(answer, peer_pb2.WitnessResponse):
        witness_key = manifest.nodes[message.callee].witness_key
        assert witness_key is not None
        request = peer_pb2.WitnessRequest.FromString(message.request)
        open_cosignature(parse_note(request.checkpoint).text, answer.cosignature, CosignerKey.of(witness_key))
    if isinstance(answer, peer_pb2.GetWitnessedResponse) and answer.checkpoint:
        # The caller's own checkpoint, as the callee cosigned it: signed by the caller's log key.
        open_checkpoint(answer.checkpoint, keys, manifest.nodes[message.caller].signing_key.name)
    if isinstance(answer, peer_pb2.PeerServiceInquireResponse):
        for record in answer.records:
            verify_disclosure(disclosure_from_wire(record), keys)
    for envelope in envelopes(answer):
        opened = envelope_from_wire(envelope)
        if envelope.payload_type == "application/vnd.share-gateway.record-statement+json":
            continue  # a disclosure: verified as a whole below
        assert opened.key_id == federation.key_id(message.callee), (message.method, envelope.payload_type)
        opened.open(keys, envelope.payload_type, PARSERS.get(envelope.payload_type, lambda b: b))
    return [e.payload for e in envelopes(answer) if e.payload_type == EVENT_MEDIA_TYPE]


def open_repair(federation: FederationDesk, caller: str, request: peer_pb2.ForwardRepairRequest) -> PeerRepairRequest:
    """A forwarded repair as the record's origin opens it (``Refused`` unless the caller's key signed it)."""
    envelope = envelope_from_wire(request.request)
    return federation.opened(caller, envelope, PEER_REPAIR_TYPE, PeerRepairRequest.from_bytes, "repair")


@pytest.mark.parametrize("version", VERSIONS)
def test_the_recording_covers_every_peer_call_and_every_delivery_kind(version: str) -> None:
    """A new PeerService call or a new kind of delivery, unrecorded, fails here: record a new version."""
    assert set(DELIVERED_BY) == set(DeliveryKind), "a new delivery kind: name its call in tests/wire_records"
    methods = {m["method"] for m in index(version)["messages"]}
    if version == VERSIONS[-1]:
        assert methods == set(REQUESTS), f"unrecorded calls: {sorted(set(REQUESTS) - methods)}"
    assert set(DELIVERED_BY.values()) <= methods
    for message in recorded(version):
        # Each recorded call decodes, and re-encodes to the same bytes: nothing the current code drops.
        assert REQUESTS[message.method].FromString(message.request).SerializeToString() == message.request


async def test_a_node_takes_every_recorded_peer_call_and_refuses_each_one_altered(replay: Replay) -> None:
    messages = recorded(replay.version)
    receipts: list[bytes] = []
    for message in (m for m in messages if m.replayed):
        replay.clock.now = message.received_at
        altered = corrupted(message)
        if altered is not None:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await call(replay, message, altered)
            assert refused.value.code() in (
                grpc.StatusCode.PERMISSION_DENIED,
                grpc.StatusCode.INVALID_ARGUMENT,
                grpc.StatusCode.FAILED_PRECONDITION,
            ), (message.method, refused.value.code(), refused.value.details())
        answer = await call(replay, message, REQUESTS[message.method].FromString(message.request))
        receipts += read_answer(replay, message, answer)
        read_answer(replay, message, RESPONSES[message.method].FromString(message.response))
    # Each call taken is in the node's log, as the receipt it signed says.
    logged = {body for _, body in replay.node.gateway.store.events.read()}
    assert receipts
    assert set(receipts) <= logged
    federation = replay.node.gateway.federation
    assert federation is not None
    for message in (m for m in messages if not m.replayed):
        # Sent to another region: checked as that node checks a peer's signed message, then its answer.
        assert message.method == "ForwardRepair", message.method
        request = peer_pb2.ForwardRepairRequest.FromString(message.request)
        open_repair(federation, message.caller, request)
        altered = corrupted(message)
        assert isinstance(altered, peer_pb2.ForwardRepairRequest)
        with pytest.raises(Refused):
            open_repair(federation, message.caller, altered)
        read_answer(replay, message, peer_pb2.ForwardRepairResponse.FromString(message.response))
