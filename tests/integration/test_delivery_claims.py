"""Deliveries claimed by one replica's courier, on SQLite and PostgreSQL: a row with a live claim is due for no
one else, a dead replica's claim lapses, and two replicas claiming at once take different rows."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from share_gateway.store.database import migrate, open_database
from share_gateway.store.deliveries import DeliveryKind
from share_gateway.store.repositories import Store
from share_gateway.store.unit_of_work import UnitOfWork

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
LEASE = timedelta(seconds=20)
PEER, OTHER = "310000", "440000"
ONE, TWO = "replica-one", "replica-two"


def queue(store: Store, count: int, peer: str = PEER) -> None:
    def add(tx: UnitOfWork) -> None:
        for n in range(count):
            store.outbox.queue(tx, DeliveryKind.RECORD, f"r-{n}", [peer], NOW)

    store.write(add)


def claim(store: Store, owner: str, at: datetime = NOW, limit: int = 100) -> list[int]:
    return [d.seq for d in store.write(lambda tx: store.outbox.claim(tx, owner, at, at + LEASE, limit))]


def test_a_claimed_delivery_is_due_for_no_other_courier_until_closed_or_released(store: Store) -> None:
    queue(store, 3)
    first = claim(store, ONE, limit=2)
    assert len(first) == 2
    assert claim(store, TWO) == [max(d.seq for d in store.outbox.undelivered())]
    assert claim(store, TWO) == []
    assert store.outbox.due(NOW) == []
    # Closing a delivery ends its claim; releasing makes the rest due for anyone at once.
    assert store.write(lambda tx: store.outbox.delivered(tx, first[0], NOW))
    assert store.write(lambda tx: store.outbox.release(tx, ONE)) == 1
    assert claim(store, TWO) == [first[1]]


def test_a_dead_replicas_claim_lapses_and_another_takes_the_row(store: Store) -> None:
    queue(store, 1)
    [seq] = claim(store, ONE)
    assert claim(store, TWO, NOW + LEASE - timedelta(seconds=1)) == []
    assert claim(store, TWO, NOW + LEASE) == [seq]
    # The lapsed claim is lost: renewing it gives nothing back, and the row is the other courier's.
    assert store.write(lambda tx: store.outbox.renew(tx, ONE, [seq], NOW + 2 * LEASE)) == set()
    assert store.write(lambda tx: store.outbox.renew(tx, TWO, [seq], NOW + 2 * LEASE)) == {seq}
    assert claim(store, ONE, NOW + LEASE + timedelta(seconds=1)) == []


def test_a_failed_attempt_ends_the_claim_so_the_retry_is_anyones(store: Store) -> None:
    queue(store, 1)
    [seq] = claim(store, ONE)
    store.write(lambda tx: store.outbox.failed(tx, seq, NOW + timedelta(seconds=1), "UNAVAILABLE: down"))
    assert claim(store, TWO, NOW + timedelta(seconds=1)) == [seq]


@pytest.mark.postgres
def test_replicas_claiming_at_once_take_different_rows(fresh_postgres: str) -> None:
    """Each replica claims on its own connection at the same moment: SKIP LOCKED hands each row to one of them."""
    database = open_database(fresh_postgres)
    try:
        migrate(database)
        store = Store(database)
        queue(store, 60)
        queue(store, 60, OTHER)
        owners = [f"replica-{n}" for n in range(6)]
        start = threading.Barrier(len(owners))
        taken: dict[str, list[int]] = {}

        def take(owner: str) -> None:
            start.wait()
            mine: list[int] = []
            while batch := claim(store, owner, limit=7):
                mine.extend(batch)
            taken[owner] = mine

        threads = [threading.Thread(target=take, args=(owner,)) for owner in owners]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        every = [seq for seqs in taken.values() for seq in seqs]
        assert len(every) == len(set(every)) == 120
    finally:
        database.dispose()
