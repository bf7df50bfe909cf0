"""Peer refusals in the log: counted at the PeerService edge for every method, the first logged at once and
the rest of its window as one event with their count (the clock in the test's hands), not lost when the node
stops."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta

import grpc
import pytest

from share_gateway.crypto.keys import SigningKey
from share_gateway.devkit import Layout
from share_gateway.domain.events import Event, EventKind
from share_gateway.domain.principals import Identity, IdentityKind
from share_gateway.federation.messages import digest
from share_gateway.gateway import NodeRuntime
from share_gateway.gateway.refusals import Refusals
from share_gateway.store.repositories import Store
from share_gateway.v1 import common_pb2, peer_pb2, peer_pb2_grpc
from tests.federation import Nodes, channel, peer_call, signed_inquiry
from tests.support import CALLERS

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
SHANGHAI = Identity(IdentityKind.NODE, "310000")


def refusal_events(store: Store) -> list[Event]:
    events = (Event.from_bytes(body) for _, body in store.events.read())
    return [e for e in events if e.kind is EventKind.PEER_REFUSED]


async def test_the_first_refusal_is_logged_at_once_the_rest_per_window_and_what_is_open_at_close(
    store: Store,
) -> None:
    now = [T0]
    runtime = NodeRuntime("110000", SigningKey.generate("share-gateway/node/110000"), store, clock=lambda: now[0])
    refusals = Refusals(runtime, timedelta(seconds=10))

    async def refuse(reason: str, message: bytes, detail: str) -> None:
        await refusals.refused(
            EventKind.PEER_REFUSED, SHANGHAI, reason, detail, call="Inquire", message_digest=digest(message)
        )

    try:
        for message in (b"first", b"second", b"third"):
            await refuse("REPLAYED", message, "this inquiry was already answered")
            now[0] += timedelta(seconds=1)
        await runtime.event_log.drain()
        [first] = refusal_events(store)
        assert (first.actor, first.reason, first.at) == ("sgw://node/310000", "REPLAYED", T0)
        assert first.details == {
            "count": "1",
            "calls": "Inquire",
            "region": "310000",
            "detail": "this inquiry was already answered",
            "first_digest": hashlib.sha256(b"first").hexdigest(),
            "first_at": "2026-11-26T10:00:00.000000Z",
        }
        now[0] = T0 + timedelta(seconds=9)
        assert await refusals.log_ended() == 0
        now[0] = T0 + timedelta(seconds=10)
        assert await refusals.log_ended() == 1
        held = refusal_events(store)[1]
        assert (held.reason, held.at) == ("REPLAYED", now[0])
        assert held.details == {
            "count": "2",
            "calls": "Inquire",
            "region": "310000",
            "detail": "this inquiry was already answered",
            "first_digest": hashlib.sha256(b"second").hexdigest(),
            "first_at": "2026-11-26T10:00:01.000000Z",
            "last_digest": hashlib.sha256(b"third").hexdigest(),
            "last_at": "2026-11-26T10:00:02.000000Z",
        }
        await refuse("CATALOG_MISMATCH", b"fourth", "different catalogs")
        await refuse("CATALOG_MISMATCH", b"fifth", "different catalogs")
        assert await refusals.log_ended() == 0
    finally:
        await refusals.close()  # what a stopping node does: what the open window held back is logged
        await runtime.close()
    assert [(e.reason, e.details["count"]) for e in refusal_events(store)] == [
        ("REPLAYED", "1"),
        ("REPLAYED", "2"),
        ("CATALOG_MISMATCH", "1"),
        ("CATALOG_MISMATCH", "1"),
    ]


async def test_every_peer_service_method_counts_what_it_refuses(layout: Layout, nodes: Nodes) -> None:
    # Earlier tests' windows are closed: what follows is counted from here.
    nodes["310000"].gateway.refusals.tallies.drain()
    started = nodes["310000"].gateway.runtime.clock()
    stub = peer_call(layout, nodes["310000"], "110000")
    wrong_catalog = signed_inquiry(layout, "110000", catalog_digest="00" * 32)
    unsigned = common_pb2.SignedEnvelope(payload=b"{}", payload_type="x", key_id="1234abcd", signature=b"")
    calls: list[Awaitable[object]] = [
        stub.Inquire(wrong_catalog, timeout=5),
        stub.Publish(peer_pb2.PublishRequest(record=common_pb2.RecordDisclosure(statement=unsigned)), timeout=5),
        stub.Revoke(peer_pb2.RevokeRequest(revocation=unsigned), timeout=5),
        stub.ShareListing(peer_pb2.ShareListingRequest(listing=unsigned), timeout=5),
        stub.Witness(peer_pb2.WitnessRequest(checkpoint=b"not a checkpoint"), timeout=5),
    ]
    for call in calls:
        with pytest.raises(grpc.aio.AioRpcError):
            await call
    # A forwarded inquiry the policy denies (no grant for the purpose) is a denied inquiry event, not a refusal.
    ungranted = signed_inquiry(layout, "110000", granted=False)
    with pytest.raises(grpc.aio.AioRpcError) as denied:
        await stub.Inquire(ungranted, timeout=5)
    assert denied.value.code() is grpc.StatusCode.PERMISSION_DENIED
    forwarded = signed_inquiry(layout, "110000")
    async with channel(layout, nodes["310000"], "bank") as bank:  # a requester's certificate is no peer's
        with pytest.raises(grpc.aio.AioRpcError):
            await peer_pb2_grpc.PeerServiceStub(bank).Inquire(forwarded, timeout=5)
    # Logged at once (the first of a window) or held in the window's tally: every refusal is counted once.
    gateway = nodes["310000"].gateway
    await gateway.runtime.event_log.drain()
    counted: dict[tuple[str, str], tuple[set[str], int, set[str]]] = {}
    logged = [
        (e.actor, e.reason, set(e.details["calls"].split(",")), int(e.details["count"]), e.details["first_digest"])
        for e in refusal_events(gateway.store)
        if e.at >= started
    ]
    held = [(t.caller.uri, t.reason, t.calls, t.count, t.first_digest) for t in gateway.refusals.tallies.drain()]
    for actor, reason, methods, count, first_digest in logged + held:
        seen_methods, seen_count, digests = counted.get((actor, reason), (set(), 0, set()))
        counted[(actor, reason)] = (seen_methods | methods, seen_count + count, digests | {first_digest})
    assert counted == {
        ("sgw://node/110000", "CATALOG_MISMATCH"): ({"Inquire"}, 1, {digest(wrong_catalog.inquiry.payload)}),
        ("sgw://node/110000", "PEER_NOT_ADMITTED"): ({"Publish", "Revoke", "ShareListing"}, 3, {digest(b"{}")}),
        ("sgw://node/110000", "INVALID_ARGUMENT"): ({"Witness"}, 1, {digest(b"not a checkpoint")}),
        (CALLERS["bank"][0].uri, "PEER_NOT_ADMITTED"): ({"Inquire"}, 1, {digest(forwarded.inquiry.payload)}),
    }
