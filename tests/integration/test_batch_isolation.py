"""One event that cannot be stored fails alone: the group commit never takes everyone's events with it."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from share_gateway.domain.events import Event, EventKind, Outcome
from share_gateway.domain.quotas import DEFAULT_QUOTA, meter_specs
from share_gateway.gateway.group_commit import Batch, GroupCommit
from share_gateway.store.repositories import Store
from tests.support import REGION

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
# A lone surrogate no driver can encode (SQLite or PostgreSQL); PostgreSQL refuses NUL as well.
UNSTORABLE = {"sqlite": ["\ud800"], "postgresql": ["\ud800", "\x00"]}


def event(purpose: str, at: datetime) -> Event:
    return Event(
        str(uuid.uuid4()),
        EventKind.INQUIRY,
        at,
        REGION,
        "sgw://institution/91110000MA0000001L",
        Outcome.DENIED,
        purpose=purpose,
    )


def group_commit(store: Store) -> GroupCommit:
    """The group commit as a node runs it: a batch in one transaction, each event alone if that fails."""

    async def write(batch: Batch) -> None:
        await asyncio.to_thread(store.append, batch.events, carried=batch.carried)

    async def write_each(batch: Batch) -> Sequence[Exception | None]:
        return await asyncio.to_thread(store.append_each, batch.events, carried=batch.carried)

    return GroupCommit(write, write_each)


async def test_an_unstorable_event_fails_alone_and_the_batch_is_written(store: Store) -> None:
    dialect = store.database.writer.dialect.name
    log = group_commit(store)
    good = [event("loan_underwriting", NOW + timedelta(microseconds=i)) for i in range(60)]
    bad = [event(f"loan{c}underwriting", NOW) for c in UNSTORABLE[dialect]]
    arrivals = [*good[:30], *bad, *good[30:]]
    results = await asyncio.gather(*(log.append(e) for e in arrivals), return_exceptions=True)
    failed = [e.event_id for e, r in zip(arrivals, results, strict=True) if isinstance(r, Exception)]
    assert failed == [e.event_id for e in bad]
    stored = [Event.from_bytes(body).event_id for _, body in store.events.read(limit=1000)]
    assert stored == [e.event_id for e in good]
    # The store is still usable: the next batch commits as usual.
    later = event("loan_underwriting", NOW + timedelta(seconds=1))
    await log.append(later)
    assert Event.from_bytes(store.events.read(limit=1000)[-1][1]).event_id == later.event_id


@pytest.mark.parametrize("count", [1, 5])
async def test_a_batch_of_only_unstorable_events_writes_nothing(store: Store, count: int) -> None:
    log = group_commit(store)
    results = await asyncio.gather(*(log.append(event("x\ud800", NOW)) for _ in range(count)), return_exceptions=True)
    assert all(isinstance(r, Exception) for r in results)
    assert store.events.read() == []


async def test_carried_work_commits_with_the_batch_and_one_that_fails_fails_alone(store: Store) -> None:
    """A quota lease rides in a batch's transaction, its caller getting its result once the batch committed; work
    that fails fails its own caller only, and the batch's events and other work are written."""
    log = group_commit(store)
    daily = meter_specs(DEFAULT_QUOTA, NOW, 100)[1]

    def broken(cursor: Any) -> None:
        raise ValueError("this work fails")

    events = [event("loan_underwriting", NOW + timedelta(microseconds=i)) for i in range(20)]
    results = await asyncio.gather(
        *(log.append(e) for e in events[:10]),
        log.carry(lambda cursor: store.quotas.lease_on(cursor, [("daily|p|a", daily, 7)], NOW)),
        log.carry(broken),
        *(log.append(e) for e in events[10:]),
        return_exceptions=True,
    )
    assert isinstance(results[11], ValueError)
    leased = results[10]
    assert isinstance(leased, list)
    assert [lease.taken for lease in leased] == [7]
    assert [r for i, r in enumerate(results) if i not in (10, 11)] == [None] * 20
    stored = [Event.from_bytes(body).event_id for _, body in store.events.read(limit=1000)]
    assert stored == [e.event_id for e in events]
    bucket = store.quotas.level("daily|p|a")
    assert bucket is not None
    assert bucket.level == daily.capacity - 7
    # Work alone makes a batch of its own.
    assert [
        lease.taken for lease in await log.carry(lambda c: store.quotas.lease_on(c, [("daily|p|a", daily, 3)], NOW))
    ] == [3]
    assert store.quotas.level("daily|p|a") == dataclasses.replace(bucket, level=daily.capacity - 10)
