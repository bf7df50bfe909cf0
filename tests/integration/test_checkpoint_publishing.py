"""Publishing checkpoints on both databases: two writers of one checkpoint do not crash, a long integration
publishes on the way, and a stopping sequencer with a backlog publishes what it has and stops."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from share_gateway.crypto.keys import KeyRing
from share_gateway.domain.errors import InvalidState
from share_gateway.gateway.sequencer import Sequencer, SequencerSettings
from share_gateway.ledger.checkpoint import Checkpoint, open_checkpoint
from share_gateway.ledger.verify import verify_consistency
from share_gateway.store.database import migrate, open_database
from share_gateway.store.log import LogStore
from share_gateway.store.repositories import Store
from tests.integration.test_log_store import KEY, NOW, event, run
from tests.waiting import PATIENCE

WRITERS = 6


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, LogStore]]:
    url = f"sqlite:///{tmp_path / 'log.db'}" if request.param == "sqlite" else request.getfixturevalue("fresh_postgres")
    database = open_database(url)
    migrate(database)
    yield Store(database), LogStore(database)
    database.dispose()


def test_writers_of_the_same_checkpoint_at_once_all_succeed(stores: tuple[Store, LogStore]) -> None:
    """Two sequencers (a leader that lost its lock finishing a step, and the one taking over) may publish the same
    size at the same moment: each insert finds or skips the other's, none fails."""
    store, log = stores
    store.append([event(i) for i in range(5)])
    head = log.integrate()
    note = Checkpoint(KEY.name, head.size, head.root).sign(KEY)
    writers = [LogStore(open_database(store.database.url, pool_size=1)) for _ in range(WRITERS)]
    start = threading.Barrier(WRITERS)
    failures: list[BaseException] = []

    def publish(writer: LogStore) -> None:
        start.wait()
        try:
            writer.add_checkpoint(head.size, head.root, note, NOW)
        except BaseException as error:  # noqa: BLE001 - the test reports every failure
            failures.append(error)

    threads = [threading.Thread(target=publish, args=(writer,), daemon=True) for writer in writers]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(PATIENCE)
    finally:
        for writer in writers:
            writer.database.dispose()
    assert failures == []
    assert [c.size for c in log.checkpoints()] == [head.size]
    with pytest.raises(InvalidState):
        log.add_checkpoint(head.size, bytes(32), note, NOW)


async def test_a_long_integration_publishes_a_checkpoint_at_least_every_checkpoint_leaves(
    stores: tuple[Store, LogStore],
) -> None:
    store, log = stores
    store.append([event(i) for i in range(100)])
    settings = SequencerSettings(checkpoint_interval=3600, checkpoint_leaves=30, batch=10)
    last = await Sequencer(log, KEY, run, lambda: NOW, settings).step()
    sizes = [c.size for c in log.checkpoints()]
    # The first at once (none was published before), then every 30 leaves: never more than 30 apart.
    assert sizes == [10, 40, 70, 100]
    assert last is not None
    assert last.size == 100
    ring = KeyRing([KEY.verifying_key])
    roots = {c.size: open_checkpoint(c.note, ring, KEY.name).root for c in log.checkpoints()}
    for old, new in itertools.pairwise(sizes):
        verify_consistency(old, new, roots[old], roots[new], log.consistency_proof(old, new))


async def test_a_stopping_sequencer_with_a_backlog_publishes_what_it_integrated_and_stops(
    stores: tuple[Store, LogStore],
) -> None:
    """The last step on stopping integrates for at most ``stop_within`` seconds (here none: one batch) and publishes
    that; the rest waits for the next leader instead of holding up the stop."""
    store, log = stores
    store.append([event(i) for i in range(100)])
    settings = SequencerSettings(checkpoint_interval=3600, checkpoint_leaves=10_000, batch=10, stop_within=0)
    await Sequencer(log, KEY, run, lambda: NOW, settings).stop()
    assert [c.size for c in log.checkpoints()] == [10]
    assert log.pending() == 90
    # The next leader goes on from there.
    await Sequencer(log, KEY, run, lambda: NOW, SequencerSettings(batch=10)).step(force=True)
    assert log.checkpoints()[-1].size == 100
