"""Publication of nationally shared records: a durable outbox, signed acknowledgements, nothing lost."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta

import grpc
import pytest
from sqlalchemy import select, update

from share_gateway.client import verify_record_disclosure
from share_gateway.config import NodeConfig
from share_gateway.crypto.disclosure import disclose, seal_record
from share_gateway.devkit import Layout
from share_gateway.domain.events import EventKind
from share_gateway.federation.messages import digest
from share_gateway.federation.wire import disclosure_to_wire
from share_gateway.node import Node, start_node
from share_gateway.store import schema
from share_gateway.v1 import inquiry_pb2_grpc, peer_pb2, registry_pb2_grpc
from tests.conftest import seed_grants
from tests.federation import Nodes, channel, events, peer_call
from tests.support import debtor_request, error_reason, inquiry, penalty_request
from tests.waiting import PATIENCE, eventually

ORIGIN, PEERS = "110000", ("310000", "440000")


async def submit(layout: Layout, node: Node, request_id: str, agency: str = "court") -> str:
    request = debtor_request(request_id) if agency == "court" else penalty_request(request_id)
    async with channel(layout, node, agency) as connection:
        response = await registry_pb2_grpc.RegistryServiceStub(connection).SubmitRecord(request, timeout=5)
    return response.record.record_id


def holds(node: Node, *record_ids: str, origin: str = ORIGIN) -> bool:
    return all(node.gateway.store.records.get(origin, record_id) is not None for record_id in record_ids)


def outbox(node: Node) -> list[tuple[str, str, int, bool, str | None]]:
    """(peer, record id, attempts, delivered, last error) for every queued delivery."""
    box = schema.outbox.c
    with node.gateway.store.database.reader.connect() as connection:
        rows = connection.execute(
            select(box.peer, box.record_id, box.attempts, box.delivered_at, box.last_error).order_by(box.seq)
        )
        return [(r.peer, r.record_id, r.attempts, r.delivered_at is not None, r.last_error) for r in rows]


async def test_a_shared_record_reaches_every_region_with_a_signed_acknowledgement(layout: Layout, nodes: Nodes) -> None:
    debtor = await submit(layout, nodes[ORIGIN], "debtor-1")
    penalty = await submit(layout, nodes[ORIGIN], "penalty-1", agency="regulator")
    await eventually(lambda: all(holds(nodes[p], debtor) for p in PEERS))
    await eventually(lambda: all(delivered for *_, delivered, _ in outbox(nodes[ORIGIN])))
    # Only the nationally shared type is queued, once per peer; the penalty stays home.
    assert sorted((peer, record) for peer, record, *_ in outbox(nodes[ORIGIN])) == [(p, debtor) for p in PEERS]
    assert not any(holds(nodes[p], penalty) for p in PEERS)
    # The peer answers local inquiries with the origin's own signed statement.
    keys = nodes[ORIGIN].gateway.manifest.manifest.keys  # type: ignore[union-attr]
    async with channel(layout, nodes["440000"], "bank") as bank:
        answer = await inquiry_pb2_grpc.InquiryServiceStub(bank).Inquire(
            inquiry("loan_underwriting", consent="AUTH-1"), timeout=5
        )
    [record] = answer.records
    verified = verify_record_disclosure(record, keys)
    assert (verified.statement.record_id, verified.statement.origin_region) == (debtor, ORIGIN)
    assert "sex" not in verified.fields  # the peer applies the policy: only what loan underwriting needs
    # Both sides log it: the origin's entry holds the digest of the peer's signed receipt.
    published = {e.details["to"]: e for e in events(nodes[ORIGIN]) if e.kind is EventKind.RECORD_PUBLISHED}
    assert sorted(published) == [f"sgw://node/{p}" for p in PEERS]
    for peer in PEERS:
        [received] = [e for e in events(nodes[peer]) if e.kind is EventKind.RECORD_RECEIVED]
        assert received.actor == f"sgw://node/{ORIGIN}"
        assert published[f"sgw://node/{peer}"].details["receipt_digest"] == digest(received.canonical_bytes())


async def test_a_peer_that_was_down_receives_everything_when_it_returns(layout: Layout, nodes: Nodes) -> None:
    await nodes.pop("440000").stop(grace=0)
    first = await submit(layout, nodes[ORIGIN], "debtor-1")
    second = await submit(layout, nodes[ORIGIN], "debtor-2")
    await eventually(lambda: holds(nodes["310000"], first, second))
    await eventually(lambda: any(peer == "440000" and attempts > 0 for peer, _, attempts, *_ in outbox(nodes[ORIGIN])))
    failed = [row for row in outbox(nodes[ORIGIN]) if row[0] == "440000"]
    assert not any(delivered for *_, delivered, _ in failed)
    assert any("UNAVAILABLE" in (error or "") for *_, error in failed)
    returned = await start_node(NodeConfig.load(layout.node_config("440000")))
    nodes["440000"] = returned
    await eventually(lambda: holds(returned, first, second))
    await eventually(lambda: all(delivered for *_, delivered, _ in outbox(nodes[ORIGIN])))


async def test_a_returning_peer_is_served_at_once_not_after_the_couriers_backoff(layout: Layout, nodes: Nodes) -> None:
    """The witness loop hears the peer answer again; the courier ends the peer's rest and delivers."""
    await nodes.pop("440000").stop(grace=0)
    record = await submit(layout, nodes[ORIGIN], "debtor-1")
    await eventually(lambda: any(peer == "440000" and attempts > 0 for peer, _, attempts, *_ in outbox(nodes[ORIGIN])))
    # As after many failures in a row: the peer rests for ten minutes, in memory and in the outbox.
    rest = timedelta(minutes=10)
    assert rest.total_seconds() > PATIENCE, "the wait below must give up long before the rest ends"
    origin = nodes[ORIGIN].gateway
    courier = origin.courier
    assert courier is not None
    courier._resting_until["440000"] = time.monotonic() + rest.total_seconds()
    with origin.store.database.writer.begin() as connection:
        box = schema.outbox.c
        connection.execute(
            update(schema.outbox).where(box.peer == "440000").values(next_attempt_at=origin.runtime.clock() + rest)
        )
    nodes["440000"] = await start_node(NodeConfig.load(layout.node_config("440000")))
    await eventually(lambda: holds(nodes["440000"], record))


async def test_an_origin_restarted_with_undelivered_records_loses_nothing(layout: Layout, nodes: Nodes) -> None:
    for peer in PEERS:
        await nodes.pop(peer).stop(grace=0)
    record = await submit(layout, nodes[ORIGIN], "debtor-1")
    await eventually(lambda: all(attempts > 0 for _, _, attempts, *_ in outbox(nodes[ORIGIN])))
    assert not any(delivered for *_, delivered, _ in outbox(nodes[ORIGIN]))
    await nodes.pop(ORIGIN).stop(grace=0)
    for peer in PEERS:
        nodes[peer] = await start_node(NodeConfig.load(layout.node_config(peer)))
        seed_grants(nodes[peer].gateway.store)
    nodes[ORIGIN] = await start_node(NodeConfig.load(layout.node_config(ORIGIN)))
    await eventually(lambda: all(holds(nodes[p], record) for p in PEERS))


def published_wire(node: Node, record_id: str) -> peer_pb2.PublishRequest:
    stored = node.gateway.store.records.get(node.gateway.runtime.region, record_id)
    assert stored is not None
    return peer_pb2.PublishRequest(record=disclosure_to_wire(disclose(stored.sealed, frozenset(stored.record.fields))))


async def test_a_peer_publishes_only_its_own_complete_records_of_shared_types(layout: Layout, nodes: Nodes) -> None:
    debtor = await submit(layout, nodes[ORIGIN], "debtor-1")
    penalty = await submit(layout, nodes["310000"], "penalty-1", agency="regulator")
    receiver = nodes["440000"]
    # Another region's record, passed on by a node that does not hold its key.
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await peer_call(layout, receiver, "310000").Publish(published_wire(nodes[ORIGIN], debtor), timeout=5)
    assert error_reason(raised.value) == "PEER_NOT_ADMITTED"
    # A type the catalog does not share nationwide.
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await peer_call(layout, receiver, "310000").Publish(published_wire(nodes["310000"], penalty), timeout=5)
    assert error_reason(raised.value) == "NOT_SHARED"
    # A record with a field withheld is not a publication.
    stored = nodes[ORIGIN].gateway.store.records.get(ORIGIN, debtor)
    assert stored is not None
    partial = disclose(stored.sealed, frozenset(stored.record.fields) - {"court"})
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await peer_call(layout, receiver, ORIGIN).Publish(
            peer_pb2.PublishRequest(record=disclosure_to_wire(partial)), timeout=5
        )
    assert error_reason(raised.value) == "NOT_SHARED"
    # A changed value does not verify.
    forged = published_wire(nodes[ORIGIN], debtor)
    forged.record.fields[0].value = "someone else"
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await peer_call(layout, receiver, ORIGIN).Publish(forged, timeout=5)
    assert error_reason(raised.value) == "PEER_NOT_ADMITTED"
    # Signed by the origin, but with a field the catalog in force here does not list (as from a region
    # still on another catalog version): refused, so it is never stored or disclosed here.
    unlisted = replace(stored.record, record_id="unlisted-1", fields={**stored.record.fields, "nickname": "x"})
    resealed = seal_record(unlisted, nodes[ORIGIN].gateway.runtime.signing_key)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await peer_call(layout, receiver, ORIGIN).Publish(
            peer_pb2.PublishRequest(record=disclosure_to_wire(disclose(resealed, frozenset(unlisted.fields)))),
            timeout=5,
        )
    assert error_reason(raised.value) == "CATALOG_MISMATCH"
    assert receiver.gateway.store.records.get(ORIGIN, "unlisted-1") is None
    # An id no node keeps (longer than 36 characters, or odd characters), signed by its origin: refused as
    # invalid on every database alike, where PostgreSQL would fail to store it.
    for odd in ("x" * 37, "id with spaces", "\u202eevil"):
        renamed = seal_record(replace(stored.record, record_id=odd), nodes[ORIGIN].gateway.runtime.signing_key)
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await peer_call(layout, receiver, ORIGIN).Publish(
                peer_pb2.PublishRequest(record=disclosure_to_wire(disclose(renamed, frozenset(stored.record.fields)))),
                timeout=5,
            )
        assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT, odd
    # The courier's own delivery arrives intact; the same publication again is acknowledged, stored once.
    await eventually(lambda: holds(receiver, debtor))
    kept = receiver.gateway.store.records.get(ORIGIN, debtor)
    assert kept is not None
    assert kept.record.fields == stored.record.fields
    again = await peer_call(layout, receiver, ORIGIN).Publish(published_wire(nodes[ORIGIN], debtor), timeout=5)
    assert again.receipt.payload
    assert len([e for e in events(receiver) if e.kind is EventKind.RECORD_RECEIVED]) == 2
    assert not holds(receiver, penalty, origin="310000")
