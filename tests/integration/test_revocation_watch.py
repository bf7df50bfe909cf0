"""Revocations pushed, not only polled (issue 12): InquiryService.WatchRevocations and AcknowledgeRevocations on a
real node, over real gRPC, on SQLite and PostgreSQL.

Source of the rule: 2025 No. 22 (DOMAIN.md, "Credit repair"): a repair result reaches every platform "at the
same time" and no sharing platform may show the record afterwards; DESIGN.md section 7: a signed revocation goes
to every requester that received the record, acknowledged.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import grpc
import pytest

from share_gateway.client import verify_revocation
from share_gateway.config import NodeConfig, RevocationWatchSettings
from share_gateway.crypto.keys import KeyRing, SigningKey
from share_gateway.devkit import Layout
from share_gateway.domain.events import Event, EventKind
from share_gateway.domain.records import RecordStatus, change_status
from share_gateway.node import Node, start_node
from share_gateway.store.unit_of_work import UnitOfWork
from share_gateway.v1 import compliance_pb2, compliance_pb2_grpc, inquiry_pb2, inquiry_pb2_grpc
from share_gateway.v1 import registry_pb2_grpc as registry_grpc
from tests.conftest import ChannelFactory, channels_to, seed_grants
from tests.support import error_reason, field_violations, inquiry, penalty_request, withdrawal
from tests.waiting import eventually

Stream = grpc.aio.UnaryStreamCall[inquiry_pb2.WatchRevocationsRequest, inquiry_pb2.WatchRevocationsResponse]


class Clock:
    """The node's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


async def revoked_for_bank(connect: ChannelFactory, count: int, first: int = 0, withdrawn: bool = True) -> list[str]:
    """``count`` penalties about the company, disclosed to the bank in one inquiry, then each withdrawn."""
    registry = registry_grpc.RegistryServiceStub(connect("regulator"))
    ids = [
        (await registry.SubmitRecord(penalty_request(f"watch-{first + n}"), timeout=10)).record.record_id
        for n in range(count)
    ]
    bank = inquiry_pb2_grpc.InquiryServiceStub(connect("bank"))
    answer = await bank.Inquire(inquiry("loan_underwriting", consent="AUTH-1"), timeout=10)
    assert len(answer.records) >= count
    for record_id in ids if withdrawn else ():
        await withdraw(connect, record_id)
    return ids


async def withdraw(connect: ChannelFactory, record_id: str) -> None:
    await registry_grpc.RegistryServiceStub(connect("regulator")).WithdrawRecord(
        withdrawal(record_id, "penalty decision revoked on administrative reconsideration", issued=1),
        timeout=10,
    )


def watch(connect: ChannelFactory, caller: str = "bank", after: int = 0) -> Stream:
    stub = inquiry_pb2_grpc.InquiryServiceStub(connect(caller))
    return stub.WatchRevocations(inquiry_pb2.WatchRevocationsRequest(after=after), timeout=60)


async def take(stream: Stream, count: int) -> list[inquiry_pb2.RevocationEntry]:
    entries = []
    for _ in range(count):
        message = await stream.read()
        assert isinstance(message, inquiry_pb2.WatchRevocationsResponse)
        entries.append(message.entry)
    return entries


def keys(node: Node) -> KeyRing:
    key = SigningKey.load(node.config.key_name, node.config.signing_key)
    return KeyRing([key.verifying_key])


def logged(node: Node, kind: EventKind) -> list[Event]:
    return [e for e in (Event.from_bytes(body) for _, body in node.gateway.store.events.read()) if e.kind is kind]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def watched_node(request: pytest.FixtureRequest, node_config: NodeConfig) -> AsyncIterator[Node]:
    """A node (SQLite, PostgreSQL) whose clock the test moves and whose watchers hold at most 2 entries each."""
    config = dataclasses.replace(
        node_config,
        revocation_watch=RevocationWatchSettings(acknowledge_within_seconds=3600, queue_size=2),
    )
    if request.param == "postgresql":
        config = dataclasses.replace(config, database=request.getfixturevalue("fresh_postgres"))
    node = await start_node(config, clock=CLOCK)
    seed_grants(node.gateway.store)
    yield node
    if node not in STOPPED:
        await node.stop(grace=0)


CLOCK = Clock()
STOPPED: list[Node] = []


async def shut_down(node: Node) -> None:
    """Stop the node as a SIGTERM does (with a grace period); the fixture then leaves it alone."""
    STOPPED.append(node)
    await node.stop(grace=5)


@pytest.fixture
async def connect_to(watched_node: Node, federation: Layout) -> AsyncIterator[ChannelFactory]:
    CLOCK.now = datetime.now(UTC)
    async with channels_to(watched_node.port, federation) as factory:
        yield factory


async def test_revocation_pushed_to_past_recipient(watched_node: Node, connect_to: ChannelFactory) -> None:
    """A requester that received a record gets its origin's signed revocation pushed as soon as it is kept;
    a requester that never received it gets nothing (2025 No. 22, DOMAIN.md "Credit repair"; DESIGN.md 7)."""
    bank, utility = watch(connect_to), watch(connect_to, "utility")
    await eventually(lambda: watched_node.gateway.revocation_watch.watching == 2)
    [record_id] = await revoked_for_bank(connect_to, 1)
    [entry] = await take(bank, 1)
    revocation = verify_revocation(entry.revocation, keys(watched_node))
    assert (revocation.record_id, revocation.status.value) == (record_id, "withdrawn")
    assert entry.position >= 1
    # The same entry ListRevocations gives the bank.
    listed = await inquiry_pb2_grpc.InquiryServiceStub(connect_to("bank")).ListRevocations(
        inquiry_pb2.ListRevocationsRequest(), timeout=5
    )
    assert [e.position for e in listed.revocations] == [entry.position]
    await watched_node.gateway.runtime.event_log.drain()
    assert [e.details.get("via") for e in logged(watched_node, EventKind.REVOCATIONS_READ)] == ["watch", None]
    await shut_down(watched_node)
    with pytest.raises(grpc.aio.AioRpcError) as ended:
        await utility.read()
    assert ended.value.code() is grpc.StatusCode.UNAVAILABLE


async def test_stream_resumes_from_cursor_without_gaps_or_duplicates(
    watched_node: Node, connect_to: ChannelFactory
) -> None:
    """A watcher that reconnects with its last cursor gets what was revoked while it was away, then what comes,
    each once (2025 No. 22: the result reaches every recipient; DESIGN.md 7: delivery is durable)."""
    first = watch(connect_to)
    await eventually(lambda: watched_node.gateway.revocation_watch.watching == 1)
    ids = await revoked_for_bank(connect_to, 1)
    [seen] = await take(first, 1)
    first.cancel()
    await eventually(lambda: watched_node.gateway.revocation_watch.watching == 0)
    ids += await revoked_for_bank(connect_to, 2, first=1)  # while disconnected
    again = watch(connect_to, after=seen.position)
    missed = await take(again, 2)
    ids += await revoked_for_bank(connect_to, 1, first=3)  # while connected again
    live = await take(again, 1)
    entries = [seen, *missed, *live]
    positions = [e.position for e in entries]
    assert positions == sorted(set(positions))
    assert [verify_revocation(e.revocation, keys(watched_node)).record_id for e in entries] == ids
    again.cancel()


async def test_late_acknowledgement_reported_to_officers(watched_node: Node, connect_to: ChannelFactory) -> None:
    """An acknowledgement later than the configured time after the revocation was kept is an event officers find
    and a line of the delivery backlog; a timely one is recorded only (config revocation_watch, README)."""
    inquiries = inquiry_pb2_grpc.InquiryServiceStub(connect_to("bank"))
    await revoked_for_bank(connect_to, 1)
    [timely] = (await inquiries.ListRevocations(inquiry_pb2.ListRevocationsRequest(), timeout=5)).revocations
    receipt = await inquiries.AcknowledgeRevocations(
        inquiry_pb2.AcknowledgeRevocationsRequest(cursor=timely.position), timeout=5
    )
    assert (receipt.acknowledged, receipt.late) == (1, 0)
    await revoked_for_bank(connect_to, 2, first=1)
    officer = compliance_pb2_grpc.ComplianceServiceStub(connect_to("officer"))
    CLOCK.now += timedelta(seconds=3601)
    backlog = await officer.GetDeliveryBacklog(compliance_pb2.GetDeliveryBacklogRequest(), timeout=5)
    bank_uri = "sgw://institution/91110000MA0000001L"
    assert [(r.requester, r.overdue, r.late) for r in backlog.requesters] == [(bank_uri, 2, 0)]
    listed = (await inquiries.ListRevocations(inquiry_pb2.ListRevocationsRequest(), timeout=5)).revocations
    receipt = await inquiries.AcknowledgeRevocations(
        inquiry_pb2.AcknowledgeRevocationsRequest(cursor=listed[-1].position), timeout=5
    )
    assert (receipt.acknowledged, receipt.late) == (2, 2)
    again = await inquiries.AcknowledgeRevocations(
        inquiry_pb2.AcknowledgeRevocationsRequest(cursor=listed[-1].position), timeout=5
    )
    assert (again.acknowledged, again.late) == (0, 0)
    backlog = await officer.GetDeliveryBacklog(compliance_pb2.GetDeliveryBacklogRequest(), timeout=5)
    assert [(r.requester, r.overdue, r.late) for r in backlog.requesters] == [(bank_uri, 0, 2)]
    await watched_node.gateway.runtime.event_log.drain()
    await watched_node.gateway.sequencer.step(force=True)
    search = compliance_pb2.SearchEventsRequest(filter=compliance_pb2.EventFilter(kind="revocation_acknowledged_late"))
    pages = [m async for m in officer.SearchEvents(search, timeout=5)]
    found = [Event.from_bytes(e.event) for m in pages for e in m.events]
    assert len(found) == 1
    assert (found[0].actor, found[0].details["count"], found[0].details["allowed_seconds"]) == (bank_uri, "2", "3600")
    # Every acknowledgement is recorded, a repeated one too (it acknowledged nothing new).
    acknowledged = logged(watched_node, EventKind.REVOCATIONS_ACKNOWLEDGED)
    assert [e.details["count"] for e in acknowledged] == ["1", "2", "0"]


async def test_an_acknowledgement_beyond_the_feed_is_refused_and_changes_nothing(
    watched_node: Node, connect_to: ChannelFactory
) -> None:
    """Bad input is INVALID_ARGUMENT with its field, and writes nothing (README, "Errors")."""
    inquiries = inquiry_pb2_grpc.InquiryServiceStub(connect_to("bank"))
    before = watched_node.gateway.store.count("events")
    for cursor in (0, 1):
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await inquiries.AcknowledgeRevocations(inquiry_pb2.AcknowledgeRevocationsRequest(cursor=cursor), timeout=5)
        assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert "cursor" in field_violations(raised.value)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await watch(connect_to, after=5).read()
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "after" in field_violations(raised.value)
    assert watched_node.gateway.store.count("events") == before
    assert watched_node.gateway.store.count("revocation_acknowledgements") == 0


async def test_shutdown_ends_stream_with_unavailable(watched_node: Node, connect_to: ChannelFactory) -> None:
    """At shutdown every watch ends UNAVAILABLE (reason NODE_SHUTTING_DOWN) so its client resumes elsewhere from
    its cursor, instead of being cut off (DESIGN.md 9a: drain on SIGTERM)."""
    stream = watch(connect_to)
    await eventually(lambda: watched_node.gateway.revocation_watch.watching == 1)
    await shut_down(watched_node)
    with pytest.raises(grpc.aio.AioRpcError) as ended:
        await stream.read()
    assert ended.value.code() is grpc.StatusCode.UNAVAILABLE
    assert "resume after position 0" in (ended.value.details() or "")


async def test_slow_consumer_does_not_block_others(watched_node: Node, connect_to: ChannelFactory) -> None:
    """A watcher that does not read holds at most its queue (2 here) and falls back to reading from its cursor;
    another watcher meanwhile gets every revocation, and the slow one still gets each once when it reads
    (DESIGN.md 9a; issue 12: a slow consumer must not hold memory unboundedly or block others)."""
    count = 40
    ids = await revoked_for_bank(connect_to, count, withdrawn=False)
    slow, quick = watch(connect_to), watch(connect_to)
    await eventually(lambda: watched_node.gateway.revocation_watch.watching == 2)
    await withdraw_at_once(watched_node, ids)  # one commit: more at once than any queue holds
    got = await take(quick, count)
    assert [verify_revocation(e.revocation, keys(watched_node)).record_id for e in got] == ids
    assert watched_node.gateway.revocation_watch.fallbacks >= 1
    late = await take(slow, count)
    assert [e.position for e in late] == [e.position for e in got]
    ids += await revoked_for_bank(connect_to, 1, first=count)
    assert [e.position for e in await take(slow, 1)] == [e.position for e in await take(quick, 1)]
    for stream in (slow, quick):
        stream.cancel()


async def withdraw_at_once(node: Node, ids: list[str]) -> None:
    """Withdraw records in one transaction, as registry.withdraw does each: status, revocation, event."""
    runtime, store = node.gateway.runtime, node.gateway.store
    records = [store.records.get(runtime.region, record_id) for record_id in ids]
    now = runtime.clock()

    def withdraw_all(tx: UnitOfWork) -> None:
        for stored in records:
            assert stored is not None
            changed = change_status(stored.record, RecordStatus.WITHDRAWN)
            store.records.change_status(tx, changed, "decisions revoked together", now)
            runtime.revoke(tx, changed, "decisions revoked together", now, ())

    await runtime.write(withdraw_all)


async def test_a_requester_holds_a_bounded_number_of_watches(watched_node: Node, connect_to: ChannelFactory) -> None:
    """Memory stays bounded per requester too: beyond ``watches_per_requester`` (4 by default) a watch is
    RESOURCE_EXHAUSTED, and another requester is not affected (issue 12: no unbounded memory)."""
    streams = [watch(connect_to) for _ in range(4)]
    await eventually(lambda: watched_node.gateway.revocation_watch.watching == 4)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await watch(connect_to).read()
    assert raised.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert error_reason(raised.value) == "WATCHES_PER_REQUESTER"
    other = watch(connect_to, "utility")
    await eventually(lambda: watched_node.gateway.revocation_watch.watching == 5)
    for stream in (*streams, other):
        stream.cancel()
