"""Origin-scoped identity in the store, on both databases: two regions' records (and listings) under one id are two
records, each found, changed and revoked as its own; and a database holding data upgrades to that key."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, inspect

from share_gateway.catalog import sample_catalog_text
from share_gateway.crypto.disclosure import SealedRecord, seal_record
from share_gateway.crypto.envelope import Envelope
from share_gateway.crypto.keys import SigningKey
from share_gateway.domain.calendar import WorkingCalendar
from share_gateway.domain.catalog import Catalog
from share_gateway.domain.events import Event, EventKind, Outcome
from share_gateway.domain.listing_grounds import propose
from share_gateway.domain.listings import Listing, ListingState
from share_gateway.domain.records import Record, RecordStatus, admit_record, change_status
from share_gateway.store import schema
from share_gateway.store.database import Database, migrate, open_database
from share_gateway.store.listings import _row as listing_row
from share_gateway.store.nonces import PeerNonce
from share_gateway.store.records import StoredRecord, publication_key
from share_gateway.store.repositories import Store
from share_gateway.synthetic import Population
from tests.integration.records_before_0015 import records_before_0015, row_before_0015

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
CATALOG = Catalog.from_yaml(sample_catalog_text())
HERE, PEER, OTHER = "110000", "310000", "440000"
KEYS = {region: SigningKey.generate(f"share-gateway/node/{region}") for region in (HERE, PEER, OTHER)}
SHARED_ID = "0f0e0d0c-0000-4000-8000-000000000001"


def debtor(origin: str, record_id: str = SHARED_ID, seed: int = 3) -> tuple[Record, SealedRecord]:
    population = Population(seed=seed, today=NOW.date())
    draft = population.record_draft(population.company(origin), "dishonest_judgment_debtor")
    record = admit_record(
        CATALOG, draft, record_id=record_id, origin_region=origin, submitted_by=f"sgw://x/{origin}", now=NOW
    )
    return record, seal_record(record, KEYS[origin])


def logged(kind: EventKind = EventKind.RECORD_RECEIVED) -> Event:
    return Event(str(uuid.uuid4()), kind, NOW, HERE, "sgw://node/310000", Outcome.ALLOWED)


def keep(store: Store, record: Record, sealed: SealedRecord, key: str) -> StoredRecord:
    return store.write(lambda tx: store.records.add(tx, record, sealed, key))


def listing_on(record: Record, listing_id: str) -> Listing:
    """A listing in force on ``record`` as the store keeps it (which records ground one is tested elsewhere:
    here the listing is proposed on a listable penalty of the same id and subject, then put on the record)."""
    listable = dataclasses.replace(
        record, record_type="administrative_penalty", fields={"conduct_code": "refuses_statutory_obligation"}
    )
    proposed = propose(
        CATALOG,
        listable,
        "serious_untrustworthy",
        listing_id=listing_id,
        actor=record.submitted_by,
        document="决定书",
        reason="失信",
        removal_conditions="履行",
        remedies="复议",
        now=NOW,
        calendar=WorkingCalendar(),
    )
    return dataclasses.replace(
        proposed, record_type=record.record_type, state=ListingState.LISTED, listed_on=NOW.date(), version=2
    )


def test_two_origins_records_under_one_id_are_two_records(store: Store) -> None:
    ours, ours_sealed = debtor(HERE)
    theirs, theirs_sealed = debtor(OTHER, seed=4)
    assert keep(store, ours, ours_sealed, "sgw://agency#1").record is ours
    # Another region's record under the same id is no duplicate of ours, and does not replace it.
    assert keep(store, theirs, theirs_sealed, publication_key(OTHER, SHARED_ID)).record is theirs
    # A retried publication finds the copy it stored, not another region's record.
    assert keep(store, theirs, theirs_sealed, publication_key(OTHER, SHARED_ID)).record == theirs
    assert store.count("records") == 2
    assert store.records.get(HERE, SHARED_ID) == StoredRecord(ours, ours_sealed)
    assert store.records.get(OTHER, SHARED_ID) == StoredRecord(theirs, theirs_sealed)
    assert store.records.get(PEER, SHARED_ID) is None
    # A revocation by one origin stops that origin's record only.
    revoked = store.write(lambda tx: store.records.revoke_copy(tx, SHARED_ID, OTHER, RecordStatus.WITHDRAWN, NOW))
    assert revoked is not None
    assert revoked.origin_region == OTHER
    statuses = [store.records.get(origin, SHARED_ID) for origin in (HERE, OTHER)]
    assert [None if s is None else s.record.status for s in statuses] == [RecordStatus.ACTIVE, RecordStatus.WITHDRAWN]
    # And a status change of ours leaves theirs as it is.
    repaired = change_status(ours, RecordStatus.REPAIRED)
    store.write(lambda tx: store.records.change_status(tx, repaired, "repaired", NOW))
    again = store.records.get(OTHER, SHARED_ID)
    assert again is not None
    assert (again.record.status, again.record.version) == (RecordStatus.WITHDRAWN, revoked.version)


def test_a_conformance_sweep_pages_through_records_sharing_an_id(store: Store) -> None:
    for seed, origin in enumerate((HERE, PEER, OTHER)):
        record, sealed = debtor(origin, seed=seed)
        keep(store, record, sealed, publication_key(origin, SHARED_ID))
    seen, after = [], ("", "")
    while batch := store.records.active(after, limit=1):
        seen += [(r.origin_region, r.record_id) for r in batch]
        after = (batch[-1].record_id, batch[-1].origin_region)
    assert sorted(seen) == [(HERE, SHARED_ID), (PEER, SHARED_ID), (OTHER, SHARED_ID)]


def test_two_origins_listings_under_one_id_are_two_listings(store: Store) -> None:
    ours_record, ours_sealed = debtor(HERE)
    theirs_record, theirs_sealed = debtor(OTHER, seed=4)
    keep(store, ours_record, ours_sealed, "sgw://agency#1")
    keep(store, theirs_record, theirs_sealed, publication_key(OTHER, SHARED_ID))
    ours, theirs = listing_on(ours_record, "L-1"), listing_on(theirs_record, "L-1")
    store.write_logged(lambda tx: store.listings.add(tx, ours, NOW), logged(EventKind.LISTING_PROPOSED))
    assert store.write_logged(lambda tx: store.listings.receive(tx, theirs, NOW), logged())
    assert store.listings.get(HERE, "L-1") == ours
    assert store.listings.get(OTHER, "L-1") == theirs
    # A newer version of theirs changes theirs only.
    ended = dataclasses.replace(theirs, state=ListingState.REMOVED, version=3)
    assert store.write_logged(lambda tx: store.listings.receive(tx, ended, NOW), logged())
    assert store.listings.get(HERE, "L-1") == ours
    assert store.listings.get(OTHER, "L-1") == ended
    # The listings resting on one record are those of its origin.
    assert store.listings.find(record_ids=(SHARED_ID,), origin=HERE) == [ours]


# --- the upgrade of a database holding data ------------------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_at_0007(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A database migrated only as far as revision 0007, the last before origin-scoped keys."""
    url = f"sqlite:///{tmp_path / 'old.db'}" if request.param == "sqlite" else request.getfixturevalue("fresh_postgres")
    database = open_database(url)
    migrate(database, "0007")
    yield database
    database.dispose()


def test_0010_a_database_holding_records_and_listings_upgrades_to_origin_scoped_keys(
    database_at_0007: Database,
) -> None:
    ours, ours_sealed = debtor(HERE)
    received, received_sealed = debtor(PEER, record_id="peer-record", seed=5)
    ours_listing = listing_on(ours, "L-1")
    old_records = records_before_0015()
    with database_at_0007.writer.begin() as connection:
        # As revision 0007 kept them: a peer's publication under "publication:{record id}".
        connection.execute(insert(old_records).values(**row_before_0015(ours, ours_sealed, "sgw://agency#1")))
        connection.execute(
            insert(old_records).values(**row_before_0015(received, received_sealed, "publication:peer-record"))
        )
        connection.execute(insert(schema.listings).values(**listing_row(ours_listing, NOW)))
    migrate(database_at_0007)
    store = Store(database_at_0007)
    keys = inspect(database_at_0007.writer)
    assert keys.get_pk_constraint("records")["constrained_columns"] == ["origin_region", "record_id"]
    assert keys.get_pk_constraint("listings")["constrained_columns"] == ["origin_region", "listing_id"]
    # Every record is kept, the local one under its agency's key and the received one under its origin's.
    assert store.records.get(HERE, SHARED_ID) == StoredRecord(ours, ours_sealed)
    assert store.records.by_request_key("sgw://agency#1") == StoredRecord(ours, ours_sealed)
    assert store.records.by_request_key(publication_key(PEER, "peer-record")) == StoredRecord(received, received_sealed)
    assert store.listings.get(HERE, "L-1") == ours_listing
    # A retried delivery of the record held before the upgrade writes nothing; another region's record under an
    # id already held, and its listing, are stored beside it.
    assert keep(store, received, received_sealed, publication_key(PEER, "peer-record")).record == received
    theirs, theirs_sealed = debtor(OTHER, seed=4)
    assert keep(store, theirs, theirs_sealed, publication_key(OTHER, SHARED_ID)).record is theirs
    assert store.write_logged(lambda tx: store.listings.receive(tx, listing_on(theirs, "L-1"), NOW), logged())
    assert (store.count("records"), store.count("listings")) == (3, 2)


def test_0011_a_nonce_is_its_origins_and_held_nonces_survive_the_upgrade(tmp_path: Path) -> None:
    """One region replaying another's nonce first must not get that region's genuine inquiry refused."""
    database = open_database(f"sqlite:///{tmp_path / 'nonces.db'}")
    try:
        migrate(database, "0010")
        with database.writer.begin() as connection:
            connection.execute(insert(schema.peer_nonces).values(nonce="n-1", origin=PEER, seen_at=NOW))
        migrate(database)
        store = Store(database)
        assert inspect(database.writer).get_pk_constraint("peer_nonces")["constrained_columns"] == ["origin", "nonce"]

        def remember(origin: str, nonce: str) -> bool:
            return store.write(
                lambda tx: store.nonces.remember(tx, PeerNonce(origin, nonce, NOW, NOW.replace(year=2000)))
            )

        assert not remember(PEER, "n-1"), "held before the upgrade: still a replay"
        assert remember(OTHER, "n-1"), "the same nonce from another region is that region's own"
        assert not remember(OTHER, "n-1")
    finally:
        database.dispose()


def test_the_revocations_kept_are_found_by_origin_and_id(store: Store) -> None:
    envelope = Envelope.seal(KEYS[PEER], "application/x-test", b"{}")
    store.write(lambda tx: store.revocations.keep(tx, SHARED_ID, PEER, envelope, NOW))
    asked = [(PEER, SHARED_ID), (OTHER, SHARED_ID), (PEER, "another-id")]
    assert store.revocations.revoked_among(asked) == {(PEER, SHARED_ID)}
    assert store.revocations.revoked_among([]) == set()
