"""Repositories: the only code that speaks SQL. Synchronous; the gateway runs them off the event loop.

Every change is written in one transaction together with the event that
records it, so there is never a change without its log entry or a log entry
without its change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine, Row, Table, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from share_gateway.catalog import SignedCatalog
from share_gateway.crypto.disclosure import STATEMENT_TYPE, FieldOpening, SealedRecord
from share_gateway.crypto.envelope import Envelope
from share_gateway.domain.canonical import parse_json
from share_gateway.domain.errors import ChangedMeanwhile, InvalidState
from share_gateway.domain.events import Event, EventKind, Outcome, redacted
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.domain.listings import Listing, ListingState
from share_gateway.domain.policy import Grant, GrantRole
from share_gateway.domain.records import LegalDocument, Record, RecordStatus, change_status
from share_gateway.domain.repair import REVOCATION_TYPE, RepairApplication, RepairState
from share_gateway.federation.manifest import SignedManifest
from share_gateway.ledger.witness import SizeMismatch, Witnessed
from share_gateway.store import schema
from share_gateway.store.database import Database, Prepared
from share_gateway.store.log import APPEND_LOCK, lock

# A record in one of these states no longer grounds a listing.
ENDS_LISTINGS = (RecordStatus.REPAIRED, RecordStatus.WITHDRAWN, RecordStatus.QUARANTINED)


class DeliveryKind(StrEnum):
    RECORD = "record"
    REVOCATION = "revocation"
    LISTING = "listing"


class Delivery(NamedTuple):
    seq: int
    peer: str
    kind: DeliveryKind
    record_id: str
    attempts: int
    listing_id: str | None = None


class ListingChange(NamedTuple):
    """A listing as changed, the event that logs the change, and the peers to share it with (none: kept here)."""

    listing: Listing
    event: Event
    share_to: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class StoredRecord:
    record: Record
    sealed: SealedRecord


@dataclass(frozen=True, slots=True)
class Disclosable:
    """What an inquiry needs of a stored record: what to decide on, and the sealed statement to disclose from.

    Lighter than ``StoredRecord`` on purpose: the inquiry path reads it for every
    record of a subject and needs neither the typed record nor its legal document.
    """

    record_id: str
    record_type: str
    origin_region: str
    status: RecordStatus
    disclose_until: date | None
    sealed: SealedRecord


@dataclass(frozen=True, slots=True)
class GrantRow:
    grant_id: int
    institution: str
    institution_kind: str
    grant: Grant
    revoked_at: datetime | None


def _seal(statement: bytes, key_id: str, signature: bytes, openings: dict[str, list[str]]) -> SealedRecord:
    return SealedRecord(
        Envelope(statement, STATEMENT_TYPE, bytes.fromhex(key_id), signature),
        {name: FieldOpening(name, value, bytes.fromhex(salt)) for name, (value, salt) in openings.items()},
    )


def _sealed(row: Row[Any]) -> SealedRecord:
    return _seal(row.statement, row.key_id, row.signature, row.openings)


def _stored(row: Row[Any]) -> StoredRecord:
    sealed = _sealed(row)
    openings = sealed.openings
    record = Record(
        record_id=row.record_id,
        record_type=row.record_type,
        subject=Subject(SubjectKind(row.subject_kind), row.subject_id),
        origin_region=row.origin_region,
        fields={name: opening.value for name, opening in openings.items()},
        legal_document=None if row.legal_document is None else LegalDocument.from_json(row.legal_document),
        severity=row.severity,
        decided_on=row.decided_on,
        disclose_until=row.disclose_until,
        status=RecordStatus(row.status),
        recorded_at=row.recorded_at,
        version=row.version,
        submitted_by=row.submitted_by,
        catalog_version=row.catalog_version,
    )
    return StoredRecord(record, sealed)


def _ledger_rows(events: Sequence[Event]) -> list[dict[str, Any]]:
    """Who received which record: one row per record an allowed inquiry disclosed."""
    return [
        {
            "record_id": record.record_id,
            "origin_region": record.origin_region,
            "recipient": event.actor,
            "via": event.details.get("via", ""),
            "event_id": event.event_id,
            "disclosed_at": event.at,
        }
        for event in events
        if event.kind is EventKind.INQUIRY and event.outcome is Outcome.ALLOWED
        for record in event.records
    ]


def _queue(
    connection: Connection,
    kind: DeliveryKind,
    record_id: str,
    peers: Sequence[str],
    at: datetime,
    listing_id: str | None = None,
) -> None:
    """Queue a delivery to each peer, in the caller's transaction."""
    if peers:
        connection.execute(
            insert(schema.outbox),
            [
                {
                    "peer": peer,
                    "kind": kind.value,
                    "record_id": record_id,
                    "listing_id": listing_id,
                    "created_at": at,
                    "attempts": 0,
                    "next_attempt_at": at,
                }
                for peer in peers
            ],
        )


def _revocation_envelope(row: Row[Any]) -> Envelope:
    return Envelope(row.statement, REVOCATION_TYPE, bytes.fromhex(row.key_id), row.signature)


def _application_row(application: RepairApplication) -> dict[str, Any]:
    return {
        "application_id": application.application_id,
        "record_id": application.record_id,
        "subject_kind": application.subject.kind.value,
        "subject_id": application.subject.identifier,
        "applicant": application.applicant,
        "evidence": application.evidence,
        "commitment": application.commitment,
        "state": application.state.value,
        "submitted_at": application.submitted_at,
        "reply_due": application.reply_due,
        "decision_due": application.decision_due,
        "decided_at": application.decided_at,
        "decided_by": application.decided_by,
        "reason": application.reason,
        "version": application.version,
    }


def _application(row: Row[Any]) -> RepairApplication:
    return RepairApplication(
        application_id=row.application_id,
        record_id=row.record_id,
        subject=Subject(SubjectKind(row.subject_kind), row.subject_id),
        applicant=row.applicant,
        evidence=row.evidence,
        commitment=row.commitment,
        state=RepairState(row.state),
        submitted_at=row.submitted_at,
        reply_due=row.reply_due,
        decision_due=row.decision_due,
        decided_at=row.decided_at,
        decided_by=row.decided_by,
        reason=row.reason,
        version=row.version,
    )


def _listing_row(listing: Listing, at: datetime) -> dict[str, Any]:
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


def _event_row(event: Event) -> dict[str, Any]:
    subject = event.subject
    return {
        "event_id": event.event_id,
        "kind": event.kind.value,
        "occurred_at": event.at,
        "node": event.node,
        "actor": event.actor,
        "subject_kind": None if subject is None else subject.kind.value,
        "subject_id": None if subject is None else subject.identifier,
        "purpose": event.purpose or None,
        "outcome": event.outcome.value,
        "body": event.canonical_bytes(),
    }


# Statements of the inquiry path, built once: building a statement costs more than running it.
_DISCLOSABLE = (
    select(
        schema.records.c.record_id,
        schema.records.c.record_type,
        schema.records.c.origin_region,
        schema.records.c.status,
        schema.records.c.disclose_until,
        schema.records.c.statement,
        schema.records.c.key_id,
        schema.records.c.signature,
        schema.records.c.openings,
    )
    .where(
        schema.records.c.subject_id == bindparam("id"),
        schema.records.c.subject_kind == bindparam("kind"),
        schema.records.c.status == RecordStatus.ACTIVE.value,
    )
    .order_by(schema.records.c.recorded_at, schema.records.c.record_id)
)
_APPEND_EVENT = insert(schema.events).values(
    {column.name: bindparam(column.name) for column in schema.events.c if column.name != "seq"}
)
_APPEND_LEDGER = insert(schema.disclosure_ledger).values(
    {column.name: bindparam(column.name) for column in schema.disclosure_ledger.c if column.name != "seq"}
)
_INSTITUTION = (
    select(
        schema.institutions.c.kind,
        schema.grants.c.role,
        schema.grants.c.scope,
        schema.grants.c.valid_from,
        schema.grants.c.valid_until,
    )
    .select_from(
        schema.institutions.outerjoin(
            schema.grants,
            (schema.grants.c.institution == schema.institutions.c.institution) & schema.grants.c.revoked_at.is_(None),
        )
    )
    .where(schema.institutions.c.institution == bindparam("institution"))
)


class Store:
    def __init__(self, database: Database) -> None:
        self.database = database
        self._disclosable = Prepared.compile(_DISCLOSABLE, database.reader)
        self._append_event = Prepared.compile(_APPEND_EVENT, database.writer)
        self._append_ledger = Prepared.compile(_APPEND_LEDGER, database.writer)

    # --- catalogs -------------------------------------------------------

    def install_catalog(self, signed: SignedCatalog, now: datetime, events: Sequence[Event] = ()) -> bool:
        """Install a verified catalog; refuse one older than the newest installed (rollback protection).

        True if this version is new here; ``events`` (the conformance sweep's report) are then
        appended in the same transaction, so a version counts as installed only once swept.
        """
        return self._install(
            schema.catalogs, "catalog", signed.catalog.version, signed.digest, signed.document, now, events
        )

    def installed_catalog_version(self) -> int | None:
        with self.database.reader.begin() as connection:
            version: int | None = connection.execute(select(func.max(schema.catalogs.c.version))).scalar()
        return version

    def install_manifest(self, signed: SignedManifest, now: datetime) -> None:
        """Install a verified federation manifest, with the same rollback protection."""
        self._install(schema.manifests, "manifest", signed.manifest.version, signed.digest, signed.document, now)

    def installed_manifest(self) -> bytes | None:
        return self._newest(schema.manifests)

    def receive(self, record: Record, sealed: SealedRecord, event: Event) -> bool:
        """Store a record a peer published, with its event; True if new. A repeat logs only its event.

        A revocation its origin sent before the record itself (deliveries may cross) applies at once.
        """
        stored = self.submit(record, sealed, f"publication:{record.record_id}", event, revocable=True)
        if stored.record is record:
            return True
        self.append_events([event])
        return False

    # --- listings -------------------------------------------------------------

    def add_listing(self, listing: Listing, event: Event) -> None:
        """Keep a new proposal, refusing a second open listing of the record on the same list."""
        table = schema.listings.c
        with self.database.writer.begin() as connection:
            open_already = connection.execute(
                select(table.listing_id).where(
                    table.record_id == listing.record_id,
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
            connection.execute(insert(schema.listings).values(**_listing_row(listing, event.at)))
            self._append_in(connection, [event])

    def listing(self, listing_id: str) -> Listing | None:
        table = schema.listings
        with self.database.reader.connect() as connection:
            body = connection.execute(select(table.c.body).where(table.c.listing_id == listing_id)).scalar()
        return None if body is None else Listing.from_bytes(body)

    def listings(
        self,
        *,
        states: Sequence[ListingState] = (),
        record_ids: Sequence[str] = (),
        subject: Subject | None = None,
        origin: str | None = None,
    ) -> list[Listing]:
        """Listings matching every filter given, in the order they were changed."""
        table = schema.listings.c
        query = select(table.body).order_by(table.changed_at, table.listing_id)
        if states:
            query = query.where(table.state.in_([state.value for state in states]))
        if record_ids:
            query = query.where(table.record_id.in_(list(record_ids)))
        if subject is not None:
            query = query.where(table.subject_kind == subject.kind.value, table.subject_id == subject.identifier)
        if origin is not None:
            query = query.where(table.origin_region == origin)
        with self.database.reader.connect() as connection:
            return [Listing.from_bytes(body) for body in connection.execute(query).scalars()]

    def lists_of(self, subject: Subject, today: date) -> frozenset[str]:
        """The lists the subject is on today, here or as a peer shared: the lists whose measures follow."""
        table = schema.listings.c
        query = select(table.list_name).where(
            table.subject_kind == subject.kind.value,
            table.subject_id == subject.identifier,
            table.state == ListingState.LISTED.value,
            (table.ends_on.is_(None)) | (table.ends_on > today),
        )
        with self.database.reader.connect() as connection:
            return frozenset(connection.execute(query).scalars())

    def listings_to_end(self, origin: str, today: date, limit: int = 500) -> list[tuple[Listing, RecordStatus]]:
        """This node's open listings that must end: run out, or resting on a repaired or withdrawn record."""
        table, records = schema.listings.c, schema.records.c
        query = (
            select(table.body, records.status)
            .join_from(schema.listings, schema.records, table.record_id == records.record_id)
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

    def change_listings(self, changes: Sequence[ListingChange]) -> None:
        with self.database.writer.begin() as connection:
            self._write_listings(connection, changes)

    def _write_listings(self, connection: Connection, changes: Sequence[ListingChange]) -> None:
        """Each change if nobody changed that listing meanwhile, its event, and its deliveries to peers."""
        table = schema.listings.c
        for listing, event, share_to in changes:
            row = _listing_row(listing, event.at)
            done = connection.execute(
                update(schema.listings)
                .where(table.listing_id == listing.listing_id, table.version == listing.version - 1)
                .values(**{k: v for k, v in row.items() if k != "listing_id"})
            )
            if done.rowcount != 1:
                raise ChangedMeanwhile(f"listing {listing.listing_id} was changed meanwhile; read it again")
            _queue(connection, DeliveryKind.LISTING, listing.record_id, share_to, event.at, listing.listing_id)
        self._append_in(connection, [change.event for change in changes])

    def receive_listing(self, listing: Listing, event: Event) -> bool:
        """Keep a peer's listing if it is newer than the copy held; the event is logged either way."""
        table = schema.listings.c
        row = _listing_row(listing, event.at)
        with self.database.writer.begin() as connection:
            held = connection.execute(select(table.version).where(table.listing_id == listing.listing_id)).scalar()
            if held is None:
                connection.execute(insert(schema.listings).values(**row))
            elif held < listing.version:
                connection.execute(
                    update(schema.listings)
                    .where(
                        table.listing_id == listing.listing_id,
                        table.version == held,
                        table.origin_region == listing.origin_region,
                    )
                    .values(**{k: v for k, v in row.items() if k != "listing_id"})
                )
            self._append_in(connection, [event])
        return held is None or held < listing.version

    # --- credit repair and revocations ----------------------------------------

    def add_repair_application(self, application: RepairApplication, event: Event) -> None:
        """Keep a new application, refusing a second one while another about the record is open."""
        table = schema.repair_applications.c
        open_states = [RepairState.SUBMITTED.value, RepairState.ACCEPTED.value]
        with self.database.writer.begin() as connection:
            lock(connection, APPEND_LOCK)  # two applications at once: the second sees the first
            pending = connection.execute(
                select(table.application_id).where(
                    table.record_id == application.record_id, table.state.in_(open_states)
                )
            ).scalar()
            if pending is not None:
                raise InvalidState(
                    f"application {pending} about this record is still open",
                    "APPLICATION_PENDING",
                    {"application_id": pending},
                )
            connection.execute(insert(schema.repair_applications).values(**_application_row(application)))
            self._append_in(connection, [event])

    def repair_application(self, application_id: str) -> RepairApplication | None:
        table = schema.repair_applications
        with self.database.reader.connect() as connection:
            row = connection.execute(select(table).where(table.c.application_id == application_id)).first()
        return None if row is None else _application(row)

    def repair_applications(
        self, states: Sequence[RepairState] = (), record_ids: Sequence[str] = ()
    ) -> list[RepairApplication]:
        """Applications in ``states`` (all if empty) about ``record_ids`` (any if empty), oldest first."""
        table = schema.repair_applications
        query = select(table).order_by(table.c.submitted_at, table.c.application_id)
        if states:
            query = query.where(table.c.state.in_([s.value for s in states]))
        if record_ids:
            query = query.where(table.c.record_id.in_(list(record_ids)))
        with self.database.reader.connect() as connection:
            return [_application(row) for row in connection.execute(query)]

    def change_application(
        self,
        changed: RepairApplication,
        event: Event,
        record: Record | None = None,
        revocation: Envelope | None = None,
        revoke_to: Sequence[str] = (),
        listings: Sequence[ListingChange] = (),
    ) -> None:
        """Move an application on; on approval also repair the record, keep the origin's signed revocation
        and queue it for every peer, and remove the listings it grounded, all in one transaction (each
        change refused if made meanwhile)."""
        table = schema.repair_applications
        with self.database.writer.begin() as connection:
            row = _application_row(changed)
            done = connection.execute(
                update(table)
                .where(table.c.application_id == changed.application_id, table.c.version == changed.version - 1)
                .values(**{k: v for k, v in row.items() if k != "application_id"})
            )
            if done.rowcount != 1:
                raise ChangedMeanwhile(f"application {changed.application_id} was changed meanwhile; read it again")
            if record is not None:
                self._write_status(connection, record, changed.reason, event.at)
                self._revoke(connection, record, revocation, revoke_to, event.at)
            self._append_in(connection, [event])
            self._write_listings(connection, listings)

    def _write_status(self, connection: Connection, changed: Record, reason: str, at: datetime) -> None:
        records = schema.records.c
        done = connection.execute(
            update(schema.records)
            .where(records.record_id == changed.record_id, records.version == changed.version - 1)
            .values(status=changed.status.value, version=changed.version, changed_at=at, change_reason=reason)
        )
        if done.rowcount != 1:
            raise ChangedMeanwhile(f"record {changed.record_id} was changed meanwhile; read it again")

    def _revoke(
        self, connection: Connection, record: Record, revocation: Envelope | None, peers: Sequence[str], at: datetime
    ) -> None:
        """Keep the origin's signed revocation of its own record for the feed, and queue it for ``peers``."""
        if revocation is not None:
            self._keep_revocation(connection, record.record_id, record.origin_region, revocation, at)
            _queue(connection, DeliveryKind.REVOCATION, record.record_id, peers, at)

    def _keep_revocation(
        self, connection: Connection, record_id: str, origin: str, envelope: Envelope, at: datetime
    ) -> bool:
        """Keep a signed revocation for the feed; False if this origin's revocation of the record is kept."""
        try:
            with connection.begin_nested():
                connection.execute(
                    insert(schema.revocations).values(
                        record_id=record_id,
                        origin_region=origin,
                        statement=envelope.payload,
                        key_id=envelope.key_id.hex(),
                        signature=envelope.signature,
                        received_at=at,
                    )
                )
        except IntegrityError:
            return False
        return True

    def receive_revocation(
        self, record_id: str, origin: str, status: RecordStatus, envelope: Envelope, event: Event
    ) -> Record | None:
        """Keep a peer's revocation of its own record and stop disclosing the local copy, if there is one.

        Only a copy that ``origin`` made changes. Returns the copy as changed (None without an active copy);
        the event is logged either way, so every delivery, repeated or not, is accounted for.
        """
        with self.database.writer.begin() as connection:
            lock(connection, APPEND_LOCK)  # against a publication of the record committing meanwhile
            self._keep_revocation(connection, record_id, origin, envelope, event.at)
            changed = self._apply_revocation(connection, record_id, origin, status, event.at)
            self._append_in(connection, [event])
        return changed

    def _apply_revocation(
        self, connection: Connection, record_id: str, origin: str, status: RecordStatus, at: datetime
    ) -> Record | None:
        records = schema.records.c
        row = connection.execute(
            select(schema.records).where(records.record_id == record_id, records.origin_region == origin)
        ).first()
        if row is None or row.status != RecordStatus.ACTIVE.value:
            return None
        changed = change_status(_stored(row).record, status)
        self._write_status(connection, changed, f"{status} at its origin", at)
        return changed

    def _held_revocation(self, connection: Connection, record_id: str, origin: str) -> RecordStatus | None:
        """The status a revocation already kept gives the record (it came before the record itself)."""
        revoked = schema.revocations.c
        statement = connection.execute(
            select(revoked.statement).where(revoked.record_id == record_id, revoked.origin_region == origin)
        ).scalar()
        return None if statement is None else RecordStatus(parse_json(statement)["status"])

    def revocation(self, origin: str, record_id: str) -> Envelope | None:
        table = schema.revocations.c
        with self.database.reader.connect() as connection:
            row = connection.execute(
                select(schema.revocations).where(table.record_id == record_id, table.origin_region == origin)
            ).first()
        return None if row is None else _revocation_envelope(row)

    def revocations_for(self, recipient: str, after: int = 0, limit: int = 100) -> list[tuple[int, Envelope]]:
        """(seq, signed revocation) of records ``recipient`` received, after ``after``, in feed order."""
        revoked, ledger = schema.revocations.c, schema.disclosure_ledger.c
        received = (
            select(ledger.seq)
            .where(
                ledger.recipient == recipient,
                ledger.record_id == revoked.record_id,
                ledger.origin_region == revoked.origin_region,
            )
            .exists()
        )
        query = select(schema.revocations).where(revoked.seq > after, received).order_by(revoked.seq).limit(limit)
        with self.database.reader.connect() as connection:
            return [(row.seq, _revocation_envelope(row)) for row in connection.execute(query)]

    # --- the outbox ---------------------------------------------------------

    def due_deliveries(self, now: datetime, limit: int = 100) -> list[Delivery]:
        """Undelivered deliveries whose next attempt is due, in queue order."""
        box = schema.outbox.c
        with self.database.reader.connect() as connection:
            rows = connection.execute(
                select(box.seq, box.peer, box.kind, box.record_id, box.attempts, box.listing_id)
                .where(box.delivered_at.is_(None), box.next_attempt_at <= now)
                .order_by(box.seq)
                .limit(limit)
            )
            return [Delivery(r.seq, r.peer, DeliveryKind(r.kind), r.record_id, r.attempts, r.listing_id) for r in rows]

    def delivered(self, seq: int, event: Event) -> None:
        """Mark one delivery acknowledged, logging the peer's acknowledgement in the same transaction."""
        with self.database.writer.begin() as connection:
            connection.execute(
                update(schema.outbox).where(schema.outbox.c.seq == seq).values(delivered_at=event.at, last_error=None)
            )
            self._append_in(connection, [event])

    def delivery_skipped(self, seq: int, at: datetime, why: str) -> None:
        """Close a delivery that must not be sent (its record stopped being disclosed before it left)."""
        with self.database.writer.begin() as connection:
            connection.execute(
                update(schema.outbox).where(schema.outbox.c.seq == seq).values(delivered_at=at, last_error=why[:500])
            )

    def delivery_failed(self, seq: int, next_attempt_at: datetime, error: str) -> None:
        with self.database.writer.begin() as connection:
            connection.execute(
                update(schema.outbox)
                .where(schema.outbox.c.seq == seq)
                .values(attempts=schema.outbox.c.attempts + 1, next_attempt_at=next_attempt_at, last_error=error[:500])
            )

    def retry_now(self, peer: str, now: datetime) -> int:
        """Make every undelivered delivery to ``peer`` due now (the peer is back); return how many."""
        box = schema.outbox.c
        with self.database.writer.begin() as connection:
            done = connection.execute(
                update(schema.outbox)
                .where(box.peer == peer, box.delivered_at.is_(None), box.next_attempt_at > now)
                .values(next_attempt_at=now)
            )
        return int(done.rowcount)

    # --- witnessing -------------------------------------------------------------

    def witnessed(self, origin: str) -> Witnessed | None:
        """What this node last cosigned of ``origin``'s log."""
        row = self._witnessed_row(self.database.reader, origin)
        return None if row is None else Witnessed(row.size, row.root)

    def witnessed_note(self, origin: str) -> bytes | None:
        """The checkpoint of ``origin`` this node last cosigned, as it arrived."""
        row = self._witnessed_row(self.database.reader, origin)
        return None if row is None else bytes(row.note)

    def _witnessed_row(self, engine: Engine, origin: str) -> Row[Any] | None:
        with engine.connect() as connection:
            return connection.execute(select(schema.witnessed).where(schema.witnessed.c.origin == origin)).first()

    def advance_witnessed(self, origin: str, old_size: int, new: Witnessed, note: bytes, now: datetime) -> None:
        """Move the witnessed state from ``old_size`` to ``new``; if another request moved it first, say where to."""
        values = {"size": new.size, "root": new.root, "note": note, "cosigned_at": now}
        table = schema.witnessed
        try:
            with self.database.writer.begin() as connection:
                if old_size == 0:
                    connection.execute(insert(table).values(origin=origin, **values))
                    return
                moved = connection.execute(
                    update(table).where(table.c.origin == origin, table.c.size == old_size).values(**values)
                ).rowcount
                if moved == 1:
                    return
        except IntegrityError:
            pass
        current = self.witnessed(origin)
        raise SizeMismatch(0 if current is None else current.size)

    def remember_nonce(self, nonce: str, origin: str, seen_at: datetime, forget_before: datetime) -> bool:
        """Record a peer inquiry's nonce; False if it was seen before (a replay). Old nonces are forgotten."""
        try:
            with self.database.writer.begin() as connection:
                connection.execute(delete(schema.peer_nonces).where(schema.peer_nonces.c.seen_at < forget_before))
                connection.execute(insert(schema.peer_nonces).values(nonce=nonce, origin=origin, seen_at=seen_at))
        except IntegrityError:
            return False
        return True

    def _install(
        self,
        table: Table,
        what: str,
        version: int,
        digest: str,
        document: bytes,
        now: datetime,
        events: Sequence[Event] = (),
    ) -> bool:
        """Signed documents only move forward: an older version, or another one of the same version, is refused.

        True if the version was new and is now installed, with ``events`` appended alongside.
        """
        with self.database.writer.begin() as connection:
            newest = connection.execute(
                select(table.c.version, table.c.digest).order_by(table.c.version.desc()).limit(1)
            ).first()
            if newest is not None and newest.version > version:
                raise InvalidState(f"{what} version {version} is older than the installed version {newest.version}")
            if newest is not None and newest.version == version:
                if newest.digest != digest:
                    raise InvalidState(f"a different {what} version {version} is already installed")
                return False
            connection.execute(
                insert(table).values(version=version, digest=digest, document=document, installed_at=now)
            )
            if events:
                self._append_in(connection, events)
            return True

    def _newest(self, table: Table) -> bytes | None:
        with self.database.reader.begin() as connection:
            document: bytes | None = connection.execute(
                select(table.c.document).order_by(table.c.version.desc()).limit(1)
            ).scalar()
            return document

    def installed_catalog(self) -> bytes | None:
        return self._newest(schema.catalogs)

    # --- institutions and grants ----------------------------------------

    def register_institution(self, institution: str, kind: str, name: str, now: datetime) -> None:
        """Register an institution's kind (a catalog requester kind), or change it."""
        with self.database.writer.begin() as connection:
            changed = connection.execute(
                update(schema.institutions)
                .where(schema.institutions.c.institution == institution)
                .values(kind=kind, name=name)
            )
            if changed.rowcount == 0:
                connection.execute(
                    insert(schema.institutions).values(institution=institution, kind=kind, name=name, registered_at=now)
                )

    def add_grant(self, institution: str, grant: Grant, now: datetime) -> int:
        with self.database.writer.begin() as connection:
            if (
                connection.execute(
                    select(schema.institutions.c.kind).where(schema.institutions.c.institution == institution)
                ).first()
                is None
            ):
                raise InvalidState(f"institution {institution} is not registered")
            result = connection.execute(
                insert(schema.grants).values(
                    institution=institution,
                    role=grant.role.value,
                    scope=grant.scope,
                    valid_from=grant.valid_from,
                    valid_until=grant.valid_until,
                    granted_at=now,
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])

    def revoke_grant(self, grant_id: int, now: datetime) -> None:
        with self.database.writer.begin() as connection:
            done = connection.execute(
                update(schema.grants)
                .where(schema.grants.c.grant_id == grant_id, schema.grants.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            if done.rowcount != 1:
                raise InvalidState(f"grant {grant_id} does not exist or is already revoked")

    def grants(self, institution: str | None = None) -> list[GrantRow]:
        query = (
            select(schema.grants, schema.institutions.c.kind)
            .join(schema.institutions)
            .order_by(schema.grants.c.grant_id)
        )
        if institution is not None:
            query = query.where(schema.grants.c.institution == institution)
        with self.database.reader.begin() as connection:
            return [
                GrantRow(
                    row.grant_id,
                    row.institution,
                    row.kind,
                    Grant(GrantRole(row.role), row.scope, row.valid_from, row.valid_until),
                    row.revoked_at,
                )
                for row in connection.execute(query)
            ]

    def institution(self, institution: str) -> tuple[str | None, tuple[Grant, ...]]:
        """The kind the node registered for an institution (None if unregistered) and its unrevoked grants."""
        with self.database.reader.connect() as connection:
            rows = connection.execute(_INSTITUTION, {"institution": institution}).all()
        if not rows:
            return None, ()
        grants = tuple(
            Grant(GrantRole(r.role), r.scope, r.valid_from, r.valid_until) for r in rows if r.role is not None
        )
        return rows[0].kind, grants

    # --- records --------------------------------------------------------

    def submit(
        self,
        record: Record,
        sealed: SealedRecord,
        request_key: str,
        event: Event,
        publish_to: Sequence[str] = (),
        revocable: bool = False,
    ) -> StoredRecord:
        """Store a new record and its event, and queue it for ``publish_to`` peers, in one transaction.

        A repeated request key returns the first record instead.
        """
        row = {
            "record_id": record.record_id,
            "request_key": request_key,
            "record_type": record.record_type,
            "subject_kind": record.subject.kind.value,
            "subject_id": record.subject.identifier,
            "origin_region": record.origin_region,
            "status": record.status.value,
            "severity": record.severity,
            "decided_on": record.decided_on,
            "disclose_until": record.disclose_until,
            "recorded_at": record.recorded_at,
            "version": record.version,
            "catalog_version": record.catalog_version,
            "submitted_by": record.submitted_by,
            "legal_document": None if record.legal_document is None else record.legal_document.to_json(),
            "openings": {name: [o.value, o.salt.hex()] for name, o in sealed.openings.items()},
            "statement": sealed.statement.payload,
            "key_id": sealed.statement.key_id.hex(),
            "signature": sealed.statement.signature,
        }
        try:
            with self.database.writer.begin() as connection:
                connection.execute(insert(schema.records).values(**row))
                self._append_in(connection, [event])  # holds the append lock: revocations wait for it
                _queue(connection, DeliveryKind.RECORD, record.record_id, publish_to, event.at)
                held = self._held_revocation(connection, record.record_id, record.origin_region) if revocable else None
                if held is not None:
                    self._apply_revocation(connection, record.record_id, record.origin_region, held, event.at)
        except IntegrityError:
            existing = self.by_request_key(request_key)
            if existing is None:
                raise
            return existing
        return StoredRecord(record, sealed)

    def by_request_key(self, request_key: str) -> StoredRecord | None:
        with self.database.reader.begin() as connection:
            row = connection.execute(select(schema.records).where(schema.records.c.request_key == request_key)).first()
        return None if row is None else _stored(row)

    def get(self, record_id: str) -> StoredRecord | None:
        with self.database.reader.begin() as connection:
            row = connection.execute(select(schema.records).where(schema.records.c.record_id == record_id)).first()
        return None if row is None else _stored(row)

    def disclosable(self, subject: Subject) -> list[Disclosable]:
        """The active records of a subject, as the inquiry path needs them."""
        with self.database.hot_cursor() as cursor:
            rows = self._disclosable.rows(cursor, {"id": subject.identifier, "kind": subject.kind.value})
        return [
            Disclosable(
                record_id, kind, origin, RecordStatus(status), until, _seal(statement, key_id, signature, openings)
            )
            for record_id, kind, origin, status, until, statement, key_id, signature, openings in rows
        ]

    def change_status(
        self,
        changed: Record,
        reason: str,
        event: Event,
        listings: Sequence[ListingChange] = (),
        revocation: Envelope | None = None,
        revoke_to: Sequence[str] = (),
    ) -> None:
        """Write a status change if nobody changed the record meanwhile (optimistic, by version), with the
        listings the change ends and the origin's signed revocation for the feed and ``revoke_to`` peers."""
        with self.database.writer.begin() as connection:
            self._write_status(connection, changed, reason, event.at)
            self._revoke(connection, changed, revocation, revoke_to, event.at)
            self._append_in(connection, [event])
            self._write_listings(connection, listings)

    def expire_due(self, today: date, expired: Callable[[Record], Event], limit: int = 500) -> int:
        """End the disclosure of active records past their period, each with its event, in one transaction.

        Returns how many records expired; call again while it returns ``limit``.
        """
        records = schema.records.c
        with self.database.writer.begin() as connection:
            rows = connection.execute(
                select(schema.records)
                .where(records.status == RecordStatus.ACTIVE.value, records.disclose_until <= today)
                .limit(limit)
            ).all()
            events = []
            for row in rows:
                changed = change_status(_stored(row).record, RecordStatus.EXPIRED)
                event = expired(changed)
                done = connection.execute(
                    update(schema.records)
                    .where(records.record_id == changed.record_id, records.version == changed.version - 1)
                    .values(
                        status=changed.status.value,
                        version=changed.version,
                        changed_at=event.at,
                        change_reason="the disclosure period ended",
                    )
                )
                if done.rowcount == 1:  # else another replica expired it first, and logged it
                    events.append(event)
            self._append_in(connection, events)
        return len(rows)

    # --- catalog conformance ----------------------------------------------

    def active_records(self, after: str = "", limit: int = 500) -> list[Record]:
        """Active records in id order from just after ``after``: one batch of a conformance sweep."""
        records = schema.records.c
        with self.database.reader.begin() as connection:
            rows = connection.execute(
                select(schema.records)
                .where(records.status == RecordStatus.ACTIVE.value, records.record_id > after)
                .order_by(records.record_id)
                .limit(limit)
            ).all()
        return [_stored(row).record for row in rows]

    def quarantine(self, changes: Sequence[tuple[Record, Event]], reason: str) -> list[str]:
        """Write quarantined records, each with its event, in one transaction; return the ids written.

        A record changed meanwhile (by another replica's sweep, a withdrawal...) is
        left as it is, and its event dropped: the change that won is logged already.
        """
        written: list[str] = []
        with self.database.writer.begin() as connection:
            events = []
            for changed, event in changes:
                try:
                    self._write_status(connection, changed, reason, event.at)
                except InvalidState:
                    continue
                written.append(changed.record_id)
                events.append(event)
            self._append_in(connection, events)
        return written

    def quarantined_because(self, reason: str) -> list[str]:
        """Ids of the records quarantined with this change reason (a sweep of one catalog version), in id order."""
        records = schema.records.c
        with self.database.reader.begin() as connection:
            return list(
                connection.execute(
                    select(records.record_id)
                    .where(records.status == RecordStatus.QUARANTINED.value, records.change_reason == reason)
                    .order_by(records.record_id)
                ).scalars()
            )

    # --- events ---------------------------------------------------------

    def _append_in(self, connection: Connection, events: Sequence[Event]) -> None:
        """Append events within a transaction of the writer: the one way events are written but ``write_now``."""
        lock(connection, APPEND_LOCK)
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            self._write_events(cursor, [_event_row(e) for e in events], _ledger_rows(events))
        finally:
            cursor.close()

    def _write_events(self, cursor: Any, rows: list[dict[str, Any]], ledger: list[dict[str, Any]]) -> None:
        """The events, and the disclosure ledger's rows for what they disclosed, on one cursor."""
        self._append_event.execute_many(cursor, rows)
        if ledger:
            self._append_ledger.execute_many(cursor, ledger)

    def redact(self, before: datetime, now: datetime, note: Callable[[int, int, int], Event]) -> int:
        """Replace the bytes of integrated events older than ``before`` by stubs; their leaf hashes stay.

        The redaction is itself an event (``note(count, first_leaf, last_leaf)``), appended in the
        same transaction. Returns how many events were redacted.
        """
        entries, events = schema.log_entries.c, schema.events.c
        with self.database.writer.begin() as connection:
            rows = connection.execute(
                select(entries.leaf_index, entries.event_seq, events.body)
                .join_from(schema.log_entries, schema.events, entries.event_seq == events.seq)
                .where(entries.occurred_at < before, entries.redacted_at.is_(None))
                .order_by(entries.leaf_index)
            ).all()
            if not rows:
                return 0
            for _, seq, body in rows:
                connection.execute(
                    update(schema.events)
                    .where(events.seq == seq)
                    .values(body=redacted(body, now), subject_kind=None, subject_id=None)
                )
            connection.execute(
                update(schema.log_entries)
                .where(entries.leaf_index.in_([row.leaf_index for row in rows]))
                .values(redacted_at=now, subject_kind=None, subject_id=None)
            )
            self._append_in(connection, [note(len(rows), rows[0].leaf_index, rows[-1].leaf_index)])
            return len(rows)

    def append_events(self, events: Sequence[Event]) -> None:
        """Append events in one transaction (the group commit of the inquiry path), waiting for the lock."""
        if events:
            with self.database.writer.begin() as connection:
                self._append_in(connection, events)

    def append_events_now(self, events: Sequence[Event]) -> None:
        """The same append on the calling thread, or ``StoreBusy`` at once if the lock is taken."""
        rows, ledger = [_event_row(e) for e in events], _ledger_rows(events)
        self.database.write_now(lambda cursor: self._write_events(cursor, rows, ledger))

    def events(self, after: int = 0, limit: int = 1000) -> list[tuple[int, bytes]]:
        query = select(schema.events.c.seq, schema.events.c.body).where(schema.events.c.seq > after)
        with self.database.reader.begin() as connection:
            return [(row.seq, row.body) for row in connection.execute(query.order_by(schema.events.c.seq).limit(limit))]

    def count(self, table: str) -> int:
        with self.database.reader.begin() as connection:
            return int(connection.execute(select(func.count()).select_from(schema.metadata.tables[table])).scalar_one())
