"""The overview's figures as the store reads them, on both databases: counts per UTC day, last cosignatures."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from share_gateway.crypto.keys import SigningKey
from share_gateway.crypto.note import parse_note, sign_note
from share_gateway.domain.events import EventKind, Outcome
from share_gateway.ledger.hashing import leaf_hash
from share_gateway.store.activity import ActivityCount, count_activity, last_cosigned
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
