"""Three regions exchange signed, filtered records: fan-out, verification, per-region status, refusals."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from share_gateway.client import verify_record_disclosure
from share_gateway.config import NodeConfig
from share_gateway.crypto.keys import SigningKey
from share_gateway.devkit import Layout, add_node, write_manifest
from share_gateway.domain.events import Event, EventKind
from share_gateway.federation.messages import PeerInquiry, digest
from share_gateway.gateway import federation as federation_desk
from share_gateway.node import start_node
from share_gateway.v1 import inquiry_pb2_grpc, peer_pb2_grpc
from tests.conftest import seed_grants
from tests.federation import (
    INVALID,
    OK,
    REGIONS,
    TIMEOUT,
    UNAVAILABLE,
    Nodes,
    channel,
    events,
    federated,
    peer_call,
    seed,
    signed_inquiry,
    statuses,
)
from tests.support import COMPANY, entity, error_reason, inquiry

# A client's deadline in the slow-peer test: the peers get half of it, the asker keeps the other half.
DEADLINE = 8.0


async def test_a_bank_gets_one_verified_answer_from_three_regions(layout: Layout, nodes: Nodes) -> None:
    await seed(layout, nodes)
    answer = await federated(layout, nodes["110000"])
    assert statuses(answer) == dict.fromkeys(REGIONS, OK)
    assert [r.records for r in answer.regions] == [1, 1, 1]
    keys = nodes["110000"].gateway.manifest.manifest.keys  # type: ignore[union-attr]
    origins = sorted(verify_record_disclosure(r, keys).statement.origin_region for r in answer.records)
    assert origins == sorted(REGIONS)
    # Both sides log the exchange, each holding the digest of the other side's signed message.
    [asked] = [e for e in events(nodes["110000"]) if e.kind is EventKind.INQUIRY]
    [answered] = [e for e in events(nodes["310000"]) if e.kind is EventKind.INQUIRY]
    assert answered.details["via"] == "sgw://node/110000"
    assert asked.details["region:310000"].split() == ["ok", digest(Event.canonical_bytes(answered))]
    assert {r.origin_region for r in asked.records} == set(REGIONS)


async def test_a_stopped_peer_is_reported_unavailable(layout: Layout, nodes: Nodes) -> None:
    await seed(layout, nodes)
    await nodes.pop("440000").stop(grace=0)
    answer = await federated(layout, nodes["110000"])
    assert statuses(answer) == {"110000": OK, "310000": OK, "440000": UNAVAILABLE}
    assert len(answer.records) == 2


async def test_a_slow_peer_never_stalls_the_answer_past_the_deadline(
    layout: Layout, nodes: Nodes, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed(layout, nodes)
    slow = nodes["440000"].gateway.federation
    assert slow is not None
    accept = slow.accept

    async def late(*args: object) -> object:
        await asyncio.Event().wait()  # later than any deadline: the asker must stop waiting on its own
        return await accept(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(slow, "accept", late)
    asker = nodes["110000"].gateway.federation
    assert asker is not None
    # Only the client's deadline can end the wait: the asker's own limit for a peer is far beyond it.
    monkeypatch.setattr(asker, "peer_timeout", 10 * DEADLINE)
    # The asker keeps a margin of the client's deadline for merging, logging and replying. Its 50 ms
    # are not enough on a loaded machine (the client saw DEADLINE_EXCEEDED); a generous margin keeps
    # the test about the deadline, not about how busy the machine is.
    monkeypatch.setattr(federation_desk, "DEADLINE_MARGIN", DEADLINE / 2)
    started = asyncio.get_running_loop().time()
    answer = await federated(layout, nodes["110000"], deadline=DEADLINE)
    assert asyncio.get_running_loop().time() - started < DEADLINE
    assert statuses(answer)["440000"] == TIMEOUT
    assert statuses(answer)["310000"] == OK


async def test_a_peer_with_a_bad_signature_is_invalid_and_nothing_of_it_is_used(layout: Layout, nodes: Nodes) -> None:
    forger = nodes["310000"].gateway.runtime
    forger.signing_key = SigningKey.generate(forger.signing_key.name)  # not the key the manifest lists
    await seed(layout, nodes)
    answer = await federated(layout, nodes["110000"])
    assert statuses(answer)["310000"] == INVALID
    keys = nodes["110000"].gateway.manifest.manifest.keys  # type: ignore[union-attr]
    assert sorted(verify_record_disclosure(r, keys).statement.origin_region for r in answer.records) == [
        "110000",
        "440000",
    ]


async def test_a_replayed_peer_request_is_refused(layout: Layout, nodes: Nodes) -> None:
    await seed(layout, nodes)
    request = signed_inquiry(layout, "110000")
    stub = peer_call(layout, nodes["310000"], "110000")
    first = await stub.Inquire(request, timeout=5)
    assert len(first.records) == 1
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.Inquire(request, timeout=5)
    assert error_reason(raised.value) == "REPLAYED"
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.Inquire(signed_inquiry(layout, "110000", at=datetime.now(UTC) - timedelta(minutes=5)), timeout=5)
    assert error_reason(raised.value) == "REPLAYED"


async def test_a_request_replayed_while_its_first_answer_is_being_logged_is_refused(
    layout: Layout, nodes: Nodes
) -> None:
    await seed(layout, nodes)
    request = signed_inquiry(layout, "110000")
    stub = peer_call(layout, nodes["310000"], "110000")
    results = await asyncio.gather(*(stub.Inquire(request, timeout=5) for _ in range(3)), return_exceptions=True)
    answered = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(answered) == 1
    assert len(answered[0].records) == 1
    assert [error_reason(r) for r in refused] == ["REPLAYED", "REPLAYED"]
    assert nodes["310000"].gateway.store.nonces.seen("110000", PeerInquiry.from_bytes(request.inquiry.payload).nonce)


async def test_peers_refuse_another_catalog_and_a_certificate_not_pinned(layout: Layout, nodes: Nodes) -> None:
    stub = peer_call(layout, nodes["310000"], "110000")
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.Inquire(signed_inquiry(layout, "110000", catalog_digest="00" * 32), timeout=5)
    assert error_reason(raised.value) == "CATALOG_MISMATCH"
    # A second certificate for region 110000, from the same CA but not the one the manifest pins.
    add_node(layout, "110000", datetime.now(UTC))
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await peer_call(layout, nodes["310000"], "110000").Inquire(signed_inquiry(layout, "110000"), timeout=5)
    assert raised.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert error_reason(raised.value) == "CERTIFICATE_NOT_PINNED"
    # A requester's certificate is no peer's.
    async with channel(layout, nodes["310000"], "bank") as bank:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await peer_pb2_grpc.PeerServiceStub(bank).Inquire(signed_inquiry(layout, "110000"), timeout=5)
    assert error_reason(raised.value) == "PEER_NOT_ADMITTED"


async def test_an_expired_manifest_fails_closed(layout: Layout, tmp_path: Path) -> None:
    write_manifest(layout, 3, datetime.now(UTC) - timedelta(seconds=1))
    node = await start_node(NodeConfig.load(layout.node_config("110000")))
    try:
        seed_grants(node.gateway.store)
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await federated(layout, node)
        assert raised.value.code() is grpc.StatusCode.FAILED_PRECONDITION
        assert "expired" in (raised.value.details() or "")
        # Local inquiries go on.
        async with channel(layout, node, "bank") as bank:
            local = await inquiry_pb2_grpc.InquiryServiceStub(bank).Inquire(
                inquiry("loan_underwriting", subject=entity(COMPANY), consent="A"), timeout=5
            )
        assert local.regions == []
        # Health says so.
        async with channel(layout, node, "bank") as probe:
            reply = await health_pb2_grpc.HealthStub(probe).Check(
                health_pb2.HealthCheckRequest(service="share_gateway.v1.PeerService"), timeout=5
            )
        assert reply.status == health_pb2.HealthCheckResponse.NOT_SERVING
    finally:
        await node.stop(grace=0)
