"""ComplianceService.GetDeliveryBacklog: pending deliveries and dead letters per peer, for officers only, logged."""

from __future__ import annotations

from datetime import UTC, datetime

import grpc
import pytest

from share_gateway.domain.events import Event, EventKind, Outcome
from share_gateway.node import Node
from share_gateway.store.deliveries import DeliveryKind
from share_gateway.v1 import compliance_pb2, compliance_pb2_grpc
from tests.conftest import ChannelFactory
from tests.support import error_reason

# Queued far ahead, so that the node's own courier never takes them meanwhile.
LATER = datetime(2099, 1, 1, tzinfo=UTC)


def reviews(node: Node) -> list[Event]:
    events = (Event.from_bytes(body) for _, body in node.gateway.store.events.read())
    return [e for e in events if e.kind is EventKind.AUDIT and e.details.get("action") == "delivery_backlog"]


async def test_an_officer_sees_pending_and_dead_deliveries_per_peer(node: Node, connect: ChannelFactory) -> None:
    store = node.gateway.store
    store.write(lambda tx: store.outbox.queue(tx, DeliveryKind.RECORD, "r-1", ["310000", "440000"], LATER))
    store.write(lambda tx: store.outbox.queue(tx, DeliveryKind.RECORD, "r-2", ["440000"], LATER))
    [dead] = [d for d in store.outbox.undelivered("440000") if d.record_id == "r-1"]
    store.write(lambda tx: store.outbox.dead_lettered(tx, dead.seq, LATER, "NOT_SHARED: refused"))
    officer = compliance_pb2_grpc.ComplianceServiceStub(connect("officer"))
    answer = await officer.GetDeliveryBacklog(compliance_pb2.GetDeliveryBacklogRequest(), timeout=5)
    assert [(p.region, p.pending, p.dead_letters) for p in answer.peers] == [("310000", 1, 0), ("440000", 1, 1)]
    await node.gateway.runtime.event_log.drain()
    assert [e.outcome for e in reviews(node)] == [Outcome.ALLOWED]


async def test_anyone_else_is_refused_and_the_attempt_logged(node: Node, connect: ChannelFactory) -> None:
    bank = compliance_pb2_grpc.ComplianceServiceStub(connect("bank"))
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await bank.GetDeliveryBacklog(compliance_pb2.GetDeliveryBacklogRequest(), timeout=5)
    assert raised.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert error_reason(raised.value) == "NOT_A_COMPLIANCE_OFFICER"
    await node.gateway.runtime.event_log.drain()
    assert [e.outcome for e in reviews(node)] == [Outcome.DENIED]
