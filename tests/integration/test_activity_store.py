"""The overview's figures as the store reads them, on both databases: counts per UTC day, last cosignatures."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert

from share_gateway.crypto.keys import SigningKey
from share_gateway.crypto.note import parse_note, sign_note
from share_gateway.domain.events import EventKind, Outcome
from share_gateway.ledger.hashing import leaf_hash
from share_gateway.store import schema
from share_gateway.store.activity import ActivityCount, count_activity, last_cosigned
from share_gateway.store.database import migrate, open_database
from share_gateway.store.events import _event_row
from share_gateway.store.log import LogStore
from share_gateway.store.repositories import Store
from tests.integration.test_log_store import KEY, NOW, event, stores

__all__ = ["stores"]

MIDNIGHT = NOW.replace(hour=0, minute=0)


def test_events_are_counted_per_utc_day_kind_purpose_and_outcome(stores: tuple[Store, LogStore]) -> None:
    store, log = stores
    inquiries = [dataclasses.replace(event(i), at=MIDNIGHT - timedelta(seconds=1 + i)) for i in range(3)]
    later = [dataclasses.replace(event(i), at=MIDNIGHT + timedelta(hours=i)) for i in range(4)]
    quota = dataclasses.replace(event(0), kind=EventKind.QUOTA_REFUSED, outcome=Outcome.DENIED, purpose="", at=MIDNIGHT)
    outside = dataclasses.replace(event(0), at=MIDNIGHT + timedelta(days=3))
    store.append([*inquiries, *later, quota, outside])
    log.integrate()
    counts = count_activity(log.database, MIDNIGHT - timedelta(days=1), MIDNIGHT + timedelta(days=1))
    yesterday, today = (MIDNIGHT - timedelta(days=1)).date().isoformat(), MIDNIGHT.date().isoformat()
    assert counts == [
        ActivityCount(yesterday, "inquiry", "loan_underwriting", "allowed", 2),
        ActivityCount(yesterday, "inquiry", "loan_underwriting", "denied", 1),
        ActivityCount(today, "inquiry", "loan_underwriting", "allowed", 2),
        ActivityCount(today, "inquiry", "loan_underwriting", "denied", 2),
        ActivityCount(today, "quota_refused", "", "denied", 1),
    ]


def test_each_cosigner_s_newest_cosigned_checkpoint_is_found(stores: tuple[Store, LogStore]) -> None:
    _, log = stores
    witnesses = {region: SigningKey.generate(f"share-gateway/witness/{region}") for region in ("310000", "440000")}
    for size in range(1, 6):
        log.add_checkpoint(size, leaf_hash(b"%d" % size), sign_note(f"{KEY.name}\n{size}\nroot\n", KEY).encode(), NOW)
        text = parse_note(log.checkpoint(size).note).text  # type: ignore[union-attr]
        if size <= 4:
            log.add_cosignature(size, sign_note(text, witnesses["310000"]).signatures[0])
        if size <= 2:
            log.add_cosignature(size, sign_note(text, witnesses["440000"]).signatures[0])
    names = frozenset(w.name for w in witnesses.values())
    found = last_cosigned(log.database, names)
    assert {name: c.size for name, c in found.items()} == {
        "share-gateway/witness/310000": 4,
        "share-gateway/witness/440000": 2,
    }
    assert last_cosigned(log.database, frozenset()) == {}


def test_counts_add_up_across_integrations(stores: tuple[Store, LogStore]) -> None:
    store, log = stores
    day = NOW.date().isoformat()
    for batch in range(3):
        store.append([dataclasses.replace(event(1), at=NOW + timedelta(minutes=batch)) for _ in range(2 + batch)])
        log.integrate()
    counts = count_activity(log.database, NOW - timedelta(hours=1), NOW + timedelta(hours=1))
    assert counts == [ActivityCount(day, "inquiry", "loan_underwriting", "allowed", 9)]


def test_the_migration_counts_the_log_it_finds(tmp_path: Path) -> None:
    """A database integrated before migration 0020 has its log counted by the migration, once."""
    database = open_database(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        migrate(database, "0019")
        rows = [
            {
                "leaf_index": i,
                "event_seq": i + 1,
                **_event_row(dataclasses.replace(event(i), at=MIDNIGHT + timedelta(hours=i))),
            }
            for i in range(30)
        ]
        with database.writer.begin() as connection:
            connection.execute(insert(schema.log_entries), [{k: v for k, v in r.items() if k != "body"} for r in rows])
        migrate(database)
        counts = count_activity(database, MIDNIGHT, MIDNIGHT + timedelta(days=2))
    finally:
        database.dispose()
    today, tomorrow = MIDNIGHT.date().isoformat(), (MIDNIGHT + timedelta(days=1)).date().isoformat()
    assert counts == [
        ActivityCount(today, "inquiry", "loan_underwriting", "allowed", 16),
        ActivityCount(today, "inquiry", "loan_underwriting", "denied", 8),
        ActivityCount(tomorrow, "inquiry", "loan_underwriting", "allowed", 4),
        ActivityCount(tomorrow, "inquiry", "loan_underwriting", "denied", 2),
    ]
