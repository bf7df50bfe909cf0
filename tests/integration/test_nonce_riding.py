"""A forwarded inquiry's nonce commits with the event that answers it, in that event's batch of the group commit."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from share_gateway.crypto.keys import SigningKey
from share_gateway.domain.events import Event, EventKind, Outcome
from share_gateway.gateway.group_commit import riding
from share_gateway.gateway.runtime import NodeRuntime
from share_gateway.store.nonces import NonceSeen, PeerNonce
from share_gateway.store.repositories import Store
from tests.support import REGION

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ASKING = "310000"


def event(at: datetime) -> Event:
    return Event(str(uuid.uuid4()), EventKind.INQUIRY, at, REGION, "sgw://node/310000", Outcome.ALLOWED)


def nonce(value: str) -> PeerNonce:
    return PeerNonce(ASKING, value, NOW, NOW - timedelta(minutes=10))


def stored(store: Store) -> list[str]:
    return [Event.from_bytes(body).event_id for _, body in store.events.read(limit=1000)]


@pytest.fixture
async def runtime(store: Store) -> NodeRuntime:
    return NodeRuntime(REGION, SigningKey.generate(f"share-gateway/node/{REGION}"), store, clock=lambda: NOW)


async def test_a_nonce_is_kept_with_the_first_event_its_call_logs(runtime: NodeRuntime, store: Store) -> None:
    first, second = event(NOW), event(NOW + timedelta(seconds=1))
    assert not store.nonces.seen(ASKING, "n1")
    with riding(nonce("n1")) as rider:
        await runtime.event_log.append(first)
        assert store.nonces.seen(ASKING, "n1")
        assert rider.committed is not None
        assert rider.committed.done()
        await runtime.event_log.append(second)  # the nonce rode once: a second event is logged as any other
    assert stored(store) == [first.event_id, second.event_id]
    assert not store.nonces.seen(ASKING, "n2")


async def test_a_nonce_kept_meanwhile_fails_only_the_event_it_rides_with(runtime: NodeRuntime, store: Store) -> None:
    # Another replica answered n1 first: its nonce is in the store.
    store.write(lambda tx: store.nonces.keep_one(tx, nonce("n1")))
    replayed, others = event(NOW), [event(NOW + timedelta(seconds=i)) for i in range(1, 6)]

    async def answer_replay() -> None:
        with riding(nonce("n1")):
            await runtime.event_log.append(replayed)

    async def answer_fresh() -> None:
        with riding(nonce("n2")):
            await runtime.event_log.append(others[0])

    results = await asyncio.gather(
        answer_replay(), answer_fresh(), *(runtime.event_log.append(e) for e in others[1:]), return_exceptions=True
    )
    assert isinstance(results[0], NonceSeen)
    assert results[1:] == [None] * 5
    assert stored(store) == [e.event_id for e in others]
    assert store.nonces.seen(ASKING, "n2")
