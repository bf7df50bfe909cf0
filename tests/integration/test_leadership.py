"""The region's leader election on the real databases: one candidate leads; a leader whose lock session ended
takes no further step (its sequencer integrates nothing more); another candidate takes over and goes on."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy

from share_gateway.config import NodeConfig
from share_gateway.gateway.leadership import CONFIRM_EVERY, Leadership
from share_gateway.gateway.periodic import Periodic
from share_gateway.gateway.sequencer import Sequencer, SequencerSettings
from share_gateway.node import start_node
from share_gateway.store.database import migrate, open_database
from share_gateway.store.locks import LEADER_LOCK, SCHEMA_KEY, LeaderLock
from share_gateway.store.log import LogStore
from share_gateway.store.repositories import Store
from tests.integration.test_log_store import KEY, NOW, event, run
from tests.waiting import PATIENCE, eventually


@dataclass
class Clock:
    """Monotonic seconds the test moves on by hand."""

    now: float = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Counter:
    count: int = 0

    async def step(self) -> None:
        self.count += 1


@dataclass
class Candidate:
    leadership: Leadership
    sequencer: Sequencer
    counter: Counter

    @property
    def steps(self) -> int:
        return self.counter.count


@asynccontextmanager
async def candidate(url: str, clock: Callable[[], float] | None = None) -> AsyncIterator[Candidate]:
    """A process's share of the election: a periodic loop that counts its steps and a sequencer."""
    database = open_database(url, pool_size=2)
    sequencer = Sequencer(LogStore(database), KEY, run, lambda: NOW, SequencerSettings(interval=0.05))
    counter = Counter()
    loop = Periodic("counting", counter.step, 0.05)
    leadership = Leadership(url, [loop], sequencer, 0.05, **({"monotonic": clock} if clock else {}))
    made = Candidate(leadership, sequencer, counter)
    try:
        yield made
    finally:
        await made.leadership.end_campaign()
        await sequencer.halt()
        await loop.stop()
        await made.leadership.release()
        database.dispose()


def end_the_leaders_session(url: str) -> None:
    """What the database does to a leader it lost (or an operator's pg_terminate_backend): the session ends."""
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.begin() as connection:
            ended = connection.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                f" AND classid = {LEADER_LOCK} AND objid = ({SCHEMA_KEY})::oid AND objsubid = 2"
            ).all()
        assert ended == [(True,)]
    finally:
        engine.dispose()


async def test_a_leader_whose_session_ended_stops_before_its_next_step_and_another_takes_over(
    fresh_postgres: str,
) -> None:
    database = open_database(fresh_postgres)
    migrate(database)
    store, log = Store(database), LogStore(database)
    clock = Clock()
    try:
        async with candidate(fresh_postgres, clock) as first, candidate(fresh_postgres) as second:
            first.leadership.start()
            second.leadership.start()
            assert first.leadership.leads, "the first to try leads"
            await eventually(lambda: first.steps > 0)
            assert not second.leadership.leads
            # Both pause their campaigns while the old leader's next step is watched: the other would otherwise take
            # the freed lock and integrate the events first, and the old leader, once it stood down, would take the
            # lock back before the other could; the steps' own checks are what is watched here.
            await second.leadership.end_campaign()
            await first.leadership.end_campaign()
            end_the_leaders_session(fresh_postgres)
            clock.now += CONFIRM_EVERY  # the leader's last confirmation is too old: its next step must ask
            steps = first.steps
            store.append([event(i) for i in range(7)])
            # Before its next step (and each batch of its sequencer) the leader asks, and learns it lost the lock.
            assert await first.sequencer.step(force=True) is None
            assert log.pending() == 7, "the old leader integrated nothing"
            assert not first.leadership.leads
            second.leadership.start()
            await eventually(lambda: second.leadership.leads)
            await eventually(lambda: second.steps > 0)
            # The new leader's sequencer integrates and checkpoints what the old one left.
            await eventually(lambda: log.pending() == 0 and getattr(log.latest_checkpoint(), "size", 0) == 7)
            assert first.steps == steps, "the old leader took no step after it lost its lock"
    finally:
        database.dispose()


async def sqlite_database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'node.db'}"
    database = open_database(url)
    migrate(database)
    database.dispose()
    return url


@pytest.mark.parametrize("turns", range(4))
async def test_a_campaign_ends_when_told_to_even_as_it_wakes(tmp_path: Path, turns: int) -> None:
    """Ending the campaign just as it wakes (after a stand-down, or a try's answer) ends it: Python 3.11's
    ``asyncio.wait_for`` swallowed a cancellation that came as its awaited call finished, and the campaign went on
    while ``end_campaign`` (a closing node) waited for it for ever. Each ``turns`` is one interleaving."""
    async with candidate(await sqlite_database(tmp_path), Clock()) as alone:
        alone.leadership.start()
        assert alone.leadership.leads
        await asyncio.sleep(0)  # the campaign waits (its clock stands still: its confirmations never age)
        alone.leadership._wake.set()
        for _ in range(turns):
            await asyncio.sleep(0)
        ending = asyncio.ensure_future(alone.leadership.end_campaign())
        done, _ = await asyncio.wait([ending], timeout=PATIENCE)
        assert done, "the campaign went on"


async def test_a_campaign_ended_while_it_tries_holds_no_lock_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A try that takes the lock after its campaign was ended gives it back: the process does not lead, and holding
    the lock it would keep every other candidate from leading until it closed."""
    url = await sqlite_database(tmp_path)
    gate, inside, done = threading.Event(), threading.Event(), threading.Event()
    gate.set()
    real_try = LeaderLock.try_acquire

    def held_at_the_gate(lock: LeaderLock) -> bool:
        inside.set()
        gate.wait()
        try:
            return real_try(lock)
        finally:
            done.set()

    monkeypatch.setattr(LeaderLock, "try_acquire", held_at_the_gate)
    async with candidate(url) as leader, candidate(url) as late, candidate(url) as third:
        leader.leadership.start()
        late.leadership.start()
        assert leader.leadership.leads
        assert not late.leadership.leads
        gate.clear()
        inside.clear()
        await eventually(inside.is_set)  # the late one's next try waits at the gate
        await leader.leadership.end_campaign()
        await leader.sequencer.halt()
        await leader.leadership.release()
        done.clear()
        await late.leadership.end_campaign()  # while its try is in flight
        gate.set()  # the try goes on, and takes the free lock
        await eventually(done.is_set)
        third.leadership.start()
        await eventually(lambda: third.leadership.leads)
        assert not late.leadership.leads


async def test_on_sqlite_one_process_holds_the_file_lock_until_it_releases_it(tmp_path: Path) -> None:
    url = await sqlite_database(tmp_path)
    async with candidate(url) as first, candidate(url) as second:
        first.leadership.start()
        second.leadership.start()
        assert first.leadership.leads
        await eventually(lambda: first.steps > 0)
        assert not second.leadership.leads
        assert await first.leadership.confirm()
        # A node closing: its loops stop, then it gives the lock up.
        await first.leadership.end_campaign()
        await first.sequencer.halt()
        await first.leadership.release()
        await eventually(lambda: second.leadership.leads)
        await eventually(lambda: second.steps > 0)


async def test_nodes_on_one_database_elect_one_leader_and_one_with_log_sequencer_false_never_leads(
    node_config: NodeConfig,
) -> None:
    """Two nodes on one SQLite file: the first leads, the second waits; one configured never to lead does not take
    the free lock once the leader stopped (its sequencer and sweepers stay still), while a candidate does."""
    never = dataclasses.replace(node_config, log=dataclasses.replace(node_config.log, sequencer=False))
    leader = await start_node(node_config)
    candidate_node = await start_node(node_config)
    bystander = await start_node(never)
    try:
        assert leader.gateway.leadership.leads
        assert not candidate_node.gateway.leadership.leads
        await leader.stop(grace=0)
        await eventually(lambda: candidate_node.gateway.leadership.leads)
        assert not bystander.gateway.leadership.leads
        assert bystander.gateway.sequencer.guard is None, "its sequencer was never started"
    finally:
        for node in (candidate_node, bystander):
            await node.stop(grace=0)
