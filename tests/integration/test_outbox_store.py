"""The outbox's states and order, on SQLite and PostgreSQL: only what causally follows an item waits for it.

A revocation waits for its record's publication, a listing for its record's publication and for its own
earlier delivery; a dead letter holds back only those, and redelivering it makes it due again.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import column, insert, select, table

from share_gateway.domain.errors import InvalidState, NotFound
from share_gateway.store import schema
from share_gateway.store.database import migrate, open_database
from share_gateway.store.deliveries import DeliveryKind, DeliveryState, PeerBacklog
from share_gateway.store.repositories import Store

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
PEER, OTHER = "310000", "440000"
RECORD, REVOCATION, LISTING = DeliveryKind.RECORD, DeliveryKind.REVOCATION, DeliveryKind.LISTING


def queue(store: Store, kind: DeliveryKind, record_id: str, listing_id: str | None = None, peer: str = PEER) -> int:
    store.write(lambda tx: store.outbox.queue(tx, kind, record_id, [peer], NOW, listing_id))
    return max(d.seq for d in store.outbox.undelivered())


def due(store: Store, at: datetime = NOW) -> list[tuple[DeliveryKind, str]]:
    return [(d.kind, d.listing_id or d.record_id) for d in store.outbox.due(at)]


def fail(store: Store, seq: int, seconds: float) -> None:
    store.write(lambda tx: store.outbox.failed(tx, seq, NOW + timedelta(seconds=seconds), "PERMISSION_DENIED: x"))


def bury(store: Store, seq: int) -> bool:
    return store.write(lambda tx: store.outbox.dead_lettered(tx, seq, NOW, "NOT_SHARED: refused"))


def test_an_item_backing_off_holds_back_only_what_follows_it(store: Store) -> None:
    first = queue(store, RECORD, "r-1")
    queue(store, REVOCATION, "r-1")
    queue(store, LISTING, "r-1", "l-1")
    queue(store, RECORD, "r-2")
    queue(store, LISTING, "r-2", "l-2")
    queue(store, LISTING, "r-2", "l-2")
    queue(store, RECORD, "r-1", peer=OTHER)
    # Only publications are due at first: every revocation and listing waits for its record's publication.
    assert due(store) == [(RECORD, "r-1"), (RECORD, "r-2"), (RECORD, "r-1")]
    fail(store, first, 60)
    assert due(store) == [(RECORD, "r-2"), (RECORD, "r-1")]
    [r2] = [d for d in store.outbox.due(NOW) if d.record_id == "r-2"]
    store.write(lambda tx: store.outbox.delivered(tx, r2.seq, NOW))
    # The first delivery of listing l-2 goes; its later one waits for it.
    assert due(store) == [(LISTING, "l-2"), (RECORD, "r-1")]
    assert due(store, NOW + timedelta(seconds=60)) == [(RECORD, "r-1"), (LISTING, "l-2"), (RECORD, "r-1")]


def test_a_dead_letter_holds_back_its_successors_until_it_is_redelivered(store: Store) -> None:
    publication = queue(store, RECORD, "r-1")
    revocation = queue(store, REVOCATION, "r-1")
    later = queue(store, RECORD, "r-2")
    assert bury(store, publication)
    assert not bury(store, publication)  # no longer pending: nothing changes, no second alarm
    assert due(store) == [(RECORD, "r-2")]
    [dead] = store.outbox.undelivered(dead_only=True)
    assert (dead.seq, dead.state, dead.dead_reason, dead.dead_at, dead.attempts) == (
        publication,
        DeliveryState.DEAD,
        "NOT_SHARED: refused",
        NOW,
        1,
    )
    waiting = {d.seq: d.waiting_on for d in store.outbox.undelivered(PEER)}
    assert waiting == {publication: None, revocation: publication, later: None}
    assert store.outbox.backlog() == [PeerBacklog(PEER, 2, 1)]
    store.write(lambda tx: store.outbox.redeliver(tx, publication, NOW + timedelta(seconds=5)))
    assert due(store, NOW + timedelta(seconds=5)) == [(RECORD, "r-1"), (RECORD, "r-2")]
    assert store.outbox.get(publication) is not None
    assert store.outbox.get(publication).attempts == 0  # type: ignore[union-attr]
    store.write(lambda tx: store.outbox.skipped(tx, publication, NOW, "withdrawn before it left"))
    assert due(store, NOW + timedelta(seconds=5)) == [(REVOCATION, "r-1"), (RECORD, "r-2")]
    assert store.outbox.backlog() == [PeerBacklog(PEER, 2, 0)]


def test_only_a_dead_letter_is_redelivered(store: Store) -> None:
    pending = queue(store, RECORD, "r-1")
    with pytest.raises(NotFound):
        store.write(lambda tx: store.outbox.redeliver(tx, pending + 100, NOW))
    with pytest.raises(InvalidState, match="only a dead letter"):
        store.write(lambda tx: store.outbox.redeliver(tx, pending, NOW))


def test_a_peer_back_makes_its_pending_deliveries_due_but_leaves_dead_letters_dead(store: Store) -> None:
    waiting, dead = queue(store, RECORD, "r-1"), queue(store, RECORD, "r-2")
    fail(store, waiting, 30)
    bury(store, dead)
    assert store.write(lambda tx: store.outbox.retry_now(tx, PEER, NOW)) == 1
    assert due(store) == [(RECORD, "r-1")]


def test_a_resting_peer_takes_no_place_in_the_batch(store: Store) -> None:
    for record_id in ("r-1", "r-2", "r-3"):
        queue(store, RECORD, record_id)
    queue(store, RECORD, "r-1", peer=OTHER)
    assert [d.peer for d in store.outbox.due(NOW, limit=1)] == [PEER]
    assert store.write(lambda tx: store.outbox.rest_peer(tx, PEER, NOW + timedelta(seconds=8))) == 3
    assert [d.peer for d in store.outbox.due(NOW, limit=1)] == [OTHER]
    assert [d.peer for d in store.outbox.due(NOW + timedelta(seconds=8), limit=1)] == [PEER]


def test_a_delivery_is_closed_once_so_its_acknowledgement_is_logged_once(store: Store) -> None:
    """Two replicas' couriers may both deliver an item: only the first to close it logs the acknowledgement."""
    seq = queue(store, RECORD, "r-1")
    assert store.write(lambda tx: store.outbox.delivered(tx, seq, NOW))
    assert not store.write(lambda tx: store.outbox.delivered(tx, seq, NOW))


def test_a_publication_closed_unsent_is_known_per_peer(store: Store) -> None:
    """A listing resting on a record never published to a peer can never be taken there."""
    skipped, sent = queue(store, RECORD, "r-1"), queue(store, RECORD, "r-1", peer=OTHER)
    store.write(lambda tx: store.outbox.skipped(tx, skipped, NOW, "not published: the record is withdrawn"))
    store.write(lambda tx: store.outbox.delivered(tx, sent, NOW))
    assert store.outbox.skipped_publication(PEER, "r-1")
    assert not store.outbox.skipped_publication(OTHER, "r-1")
    assert not store.outbox.skipped_publication(PEER, "r-2")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("fresh_postgres"))


def test_upgrading_keeps_queued_deliveries_due_and_done_ones_done(database_url: str) -> None:
    database = open_database(database_url)
    try:
        migrate(database, "0007")
        # The outbox as revision 0007 left it: no state column yet.
        columns = (
            "peer",
            "kind",
            "record_id",
            "created_at",
            "attempts",
            "next_attempt_at",
            "delivered_at",
            "last_error",
        )
        old_outbox = table("outbox", *(column(name) for name in columns))
        row = {"peer": PEER, "kind": "record", "created_at": NOW, "attempts": 2, "next_attempt_at": NOW}
        row |= {"delivered_at": None, "last_error": None}
        with database.writer.begin() as connection:
            connection.execute(
                insert(old_outbox),
                [
                    row | {"record_id": "queued", "last_error": "UNAVAILABLE: down"},
                    row | {"record_id": "done", "delivered_at": NOW},
                    row | {"record_id": "skipped", "delivered_at": NOW, "last_error": "not published"},
                    row | {"record_id": "revoked", "kind": "revocation"},
                ],
            )
        migrate(database)
        store = Store(database)
        box = schema.outbox.c
        with database.reader.connect() as connection:
            states = {r.record_id: r.state for r in connection.execute(select(box.record_id, box.state))}
        assert states == {"queued": "pending", "done": "delivered", "skipped": "skipped", "revoked": "pending"}
        assert [(d.record_id, d.attempts) for d in store.outbox.due(NOW)] == [("queued", 2), ("revoked", 2)]
    finally:
        database.dispose()
