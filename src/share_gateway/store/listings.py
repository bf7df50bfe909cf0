"""The listings repository: this node's listings and the copies peers shared, each kept as its signed bytes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, bindparam, insert, select, update

from share_gateway.domain.errors import ChangedMeanwhile, InvalidState
from share_gateway.domain.identifiers import Subject
from share_gateway.domain.listing_grounds import ENDED_BY_RECORD
from share_gateway.domain.listings import Listing, ListingState
from share_gateway.domain.records import RecordStatus
from share_gateway.store import schema
from share_gateway.store.database import Database
from share_gateway.store.prepared import Prepared
from share_gateway.store.unit_of_work import UnitOfWork

# A record in one of these states no longer grounds a listing (expired included: a listing ends with its record).
ENDS_LISTINGS = tuple(ENDED_BY_RECORD)


def _row(listing: Listing, at: datetime) -> dict[str, Any]:
    return {
        "listing_id": listing.listing_id,
        "list_name": listing.list_name,
        "record_id": listing.record_id,
        "origin_region": listing.origin_region,
        "subject_kind": listing.subject.kind.value,
        "subject_id": listing.subject.identifier,
        "state": listing.state.value,
        "ends_on": listing.ends_on,
        "version": listing.version,
        "body": listing.to_bytes(),
        "changed_at": at,
    }


def _changes(listing: Listing, at: datetime) -> dict[str, Any]:
    """The columns an update of the listing writes (all but its key, origin and id)."""
    return {k: v for k, v in _row(listing, at).items() if k not in ("listing_id", "origin_region")}


def _is(origin: str, listing_id: str) -> Any:
    """The one listing ``origin`` decided under ``listing_id``: a listing is identified by both."""
    return (schema.listings.c.origin_region == origin) & (schema.listings.c.listing_id == listing_id)


# The listings about a subject in force on a day: what every answer states (the inquiry path's hot read).
_IN_FORCE = (
    select(schema.listings.c.body)
    .where(
        schema.listings.c.subject_kind == bindparam("kind"),
        schema.listings.c.subject_id == bindparam("id"),
        schema.listings.c.state == ListingState.LISTED.value,
        (schema.listings.c.ends_on.is_(None)) | (schema.listings.c.ends_on > bindparam("today", type_=Date)),
    )
    .order_by(schema.listings.c.list_name, schema.listings.c.origin_region, schema.listings.c.listing_id)
)


class Listings:
    def __init__(self, database: Database) -> None:
        self.database = database
        self._in_force = Prepared.compile(_IN_FORCE, database.reader)

    # --- writing ------------------------------------------------------------

    def add(self, tx: UnitOfWork, listing: Listing, at: datetime) -> None:
        """Keep a new proposal, refusing a second open listing of the record on the same list."""
        table = schema.listings.c
        open_already = tx.connection.execute(
            select(table.listing_id).where(
                table.record_id == listing.record_id,
                table.origin_region == listing.origin_region,
                table.list_name == listing.list_name,
                table.state != ListingState.REMOVED.value,
            )
        ).first()
        if open_already is not None:
            raise InvalidState(
                f"the record already grounds listing {open_already.listing_id} on {listing.list_name}",
                "ALREADY_LISTED",
                {"listing_id": open_already.listing_id},
            )
        tx.connection.execute(insert(schema.listings).values(**_row(listing, at)))

    def change(self, tx: UnitOfWork, listing: Listing, at: datetime) -> None:
        """Write a listing's next version if nobody changed it meanwhile (optimistic, by version)."""
        table = schema.listings.c
        done = tx.connection.execute(
            update(schema.listings)
            .where(_is(listing.origin_region, listing.listing_id), table.version == listing.version - 1)
            .values(**_changes(listing, at))
        )
        if done.rowcount != 1:
            raise ChangedMeanwhile(f"listing {listing.listing_id} was changed meanwhile; read it again")

    def receive(self, tx: UnitOfWork, listing: Listing, at: datetime) -> bool:
        """Keep a peer's listing if it is newer than the copy held; True if kept."""
        table = schema.listings.c
        key = _is(listing.origin_region, listing.listing_id)
        held = tx.connection.execute(select(table.version).where(key)).scalar()
        if held is None:
            tx.connection.execute(insert(schema.listings).values(**_row(listing, at)))
        elif held < listing.version:
            tx.connection.execute(
                update(schema.listings).where(key, table.version == held).values(**_changes(listing, at))
            )
        return held is None or held < listing.version

    # --- reading ------------------------------------------------------------

    def get(self, origin: str, listing_id: str) -> Listing | None:
        """The listing ``origin`` decided under ``listing_id`` (this node's region for a local caller's)."""
        table = schema.listings
        with self.database.reader.connect() as connection:
            body = connection.execute(select(table.c.body).where(_is(origin, listing_id))).scalar()
        return None if body is None else Listing.from_bytes(body)

    def find(
        self,
        *,
        states: Sequence[ListingState] = (),
        record_ids: Sequence[str] = (),
        subject: Subject | None = None,
        origin: str | None = None,
        listing_id: str | None = None,
    ) -> list[Listing]:
        """Listings matching every filter given, in the order they were changed (``record_ids`` are records of
        ``origin``: give both to find the listings resting on one record)."""
        table = schema.listings.c
        query = select(table.body).order_by(table.changed_at, table.listing_id, table.origin_region)
        if states:
            query = query.where(table.state.in_([state.value for state in states]))
        if record_ids:
            query = query.where(table.record_id.in_(list(record_ids)))
        if subject is not None:
            query = query.where(table.subject_kind == subject.kind.value, table.subject_id == subject.identifier)
        if origin is not None:
            query = query.where(table.origin_region == origin)
        if listing_id is not None:
            query = query.where(table.listing_id == listing_id)
        with self.database.reader.connect() as connection:
            return [Listing.from_bytes(body) for body in connection.execute(query).scalars()]

    def lists_of(self, subject: Subject, today: date) -> frozenset[str]:
        """The names of the lists the subject is on today (``in_force``), here or as a peer shared."""
        return frozenset(listing.list_name for listing in self.in_force(subject, today))

    def in_force(self, subject: Subject, today: date) -> list[Listing]:
        """The listings about the subject in force today, here or as a peer shared: what an answer states."""
        with self.database.hot_cursor() as cursor:
            return self.in_force_on(cursor, subject, today)

    def in_force_on(self, cursor: Any, subject: Subject, today: date) -> list[Listing]:
        """The same on the inquiry path's cursor (``Store.subject_view``)."""
        rows = self._in_force.rows(cursor, {"kind": subject.kind.value, "id": subject.identifier, "today": today})
        return [Listing.from_bytes(body) for (body,) in rows]

    def to_end(self, origin: str, today: date, limit: int = 500) -> list[tuple[Listing, RecordStatus]]:
        """This node's open listings that must end: run out, or resting on a record that no longer stands.

        Reads the record's status in the same statement (a join on the records table, read only),
        so a sweep of many listings is one query.
        """
        table, records = schema.listings.c, schema.records.c
        query = (
            select(table.body, records.status)
            .join_from(
                schema.listings,
                schema.records,
                (table.record_id == records.record_id) & (table.origin_region == records.origin_region),
            )
            .where(
                table.origin_region == origin,
                table.state != ListingState.REMOVED.value,
                records.status.in_([s.value for s in ENDS_LISTINGS])
                | ((table.state == ListingState.LISTED.value) & (table.ends_on <= today)),
            )
            .limit(limit)
        )
        with self.database.reader.connect() as connection:
            return [(Listing.from_bytes(r.body), RecordStatus(r.status)) for r in connection.execute(query)]
