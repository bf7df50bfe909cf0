"""The records repository: a record, its signed statement and its openings, and its status over time."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Row, bindparam, insert, select, tuple_, update

from share_gateway.crypto.disclosure import STATEMENT_TYPE, FieldOpening, SealedRecord
from share_gateway.crypto.envelope import Envelope
from share_gateway.domain.errors import ChangedMeanwhile
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.domain.record_documents import LegalDocument
from share_gateway.domain.records import Record, RecordStatus, change_status
from share_gateway.domain.withdrawal import Withdrawal
from share_gateway.store import schema
from share_gateway.store.database import Database
from share_gateway.store.prepared import Prepared
from share_gateway.store.unit_of_work import Duplicate, UnitOfWork


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
    publish_until: date | None
    share_until: date | None
    sealed: SealedRecord


class StoredOpenings(Mapping[str, FieldOpening]):
    """A record's openings as stored (name: [value, salt in hex]), each made a ``FieldOpening`` only when asked
    for: an inquiry discloses a few fields of each record it reads, and making every opening of every record up
    front cost more than the query that read them."""

    __slots__ = ("_stored",)

    def __init__(self, stored: Mapping[str, list[str]]) -> None:
        self._stored = stored

    def __getitem__(self, name: str) -> FieldOpening:
        value, salt = self._stored[name]
        return FieldOpening(name, value, bytes.fromhex(salt))

    def __contains__(self, name: object) -> bool:
        return name in self._stored

    def __iter__(self) -> Iterator[str]:
        return iter(self._stored)

    def __len__(self) -> int:
        return len(self._stored)


def _seal(statement: bytes, key_id: str, signature: bytes, openings: Mapping[str, list[str]]) -> SealedRecord:
    return SealedRecord(Envelope(statement, STATEMENT_TYPE, bytes.fromhex(key_id), signature), StoredOpenings(openings))


def _stored(row: Row[Any]) -> StoredRecord:
    sealed = _seal(row.statement, row.key_id, row.signature, row.openings)
    record = Record(
        record_id=row.record_id,
        record_type=row.record_type,
        subject=Subject(SubjectKind(row.subject_kind), row.subject_id),
        origin_region=row.origin_region,
        fields={name: value for name, (value, _) in row.openings.items()},
        legal_document=None if row.legal_document is None else LegalDocument.from_json(row.legal_document),
        severity=row.severity,
        decided_on=row.decided_on,
        period_start=row.period_start,
        period_days=row.period_days,
        publish_until=row.publish_until,
        share_until=row.share_until,
        status=RecordStatus(row.status),
        recorded_at=row.recorded_at,
        version=row.version,
        submitted_by=row.submitted_by,
        catalog_version=row.catalog_version,
        withdrawal=_withdrawal(row),
    )
    return StoredRecord(record, sealed)


def _withdrawal(row: Row[Any]) -> Withdrawal | None:
    """The withdrawal of a record withdrawn after its decision was revoked (kept since revision 0015)."""
    if row.revoked_on is None or row.changed_at is None:
        return None
    return Withdrawal(row.revoked_on, row.withdrawal_due, row.changed_at.date())


def _row(record: Record, sealed: SealedRecord, request_key: str) -> dict[str, Any]:
    return {
        "record_id": record.record_id,
        "request_key": request_key,
        "record_type": record.record_type,
        "subject_kind": record.subject.kind.value,
        "subject_id": record.subject.identifier,
        "origin_region": record.origin_region,
        "status": record.status.value,
        "severity": record.severity,
        "decided_on": record.decided_on,
        "period_start": record.period_start,
        "period_days": record.period_days,
        "publish_until": record.publish_until,
        "share_until": record.share_until,
        "revoked_on": None if record.withdrawal is None else record.withdrawal.revoked_on,
        "withdrawal_due": None if record.withdrawal is None else record.withdrawal.due,
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


# The inquiry path's read, built once: building a statement costs more than running it.
_DISCLOSABLE = (
    select(
        schema.records.c.record_id,
        schema.records.c.record_type,
        schema.records.c.origin_region,
        schema.records.c.status,
        schema.records.c.publish_until,
        schema.records.c.share_until,
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
    .order_by(schema.records.c.recorded_at, schema.records.c.record_id, schema.records.c.origin_region)
)


def publication_key(origin: str, record_id: str) -> str:
    """The request key a peer's publication is kept under: its origin's, so no region's id blocks another's."""
    return f"publication:{origin}:{record_id}"


def _is(origin: str, record_id: str) -> Any:
    """The one record ``origin`` made under ``record_id``: a record is identified by both."""
    return (schema.records.c.origin_region == origin) & (schema.records.c.record_id == record_id)


class Records:
    def __init__(self, database: Database) -> None:
        self.database = database
        self._disclosable = Prepared.compile(_DISCLOSABLE, database.reader)

    # --- writing ------------------------------------------------------------

    def add(self, tx: UnitOfWork, record: Record, sealed: SealedRecord, request_key: str) -> StoredRecord:
        """Store a new record, or return the one stored first under the same request key (a retried request).

        The caller checks ``stored.record is record`` to tell the two apart. A record of the same origin and id
        taken under another request key is ``Duplicate``; another origin's record under the same id is another
        record, and is no obstacle.
        """
        if tx.insert_new(insert(schema.records).values(**_row(record, sealed, request_key))):
            return StoredRecord(record, sealed)
        row = tx.connection.execute(select(schema.records).where(schema.records.c.request_key == request_key)).first()
        if row is None:
            raise Duplicate(f"record {record.record_id} of {record.origin_region} exists under another request")
        return _stored(row)

    def change_status(self, tx: UnitOfWork, changed: Record, reason: str, at: datetime) -> None:
        """Write a status change if nobody changed the record meanwhile (optimistic, by version)."""
        records = schema.records.c
        withdrawal = changed.withdrawal
        done = tx.connection.execute(
            update(schema.records)
            .where(_is(changed.origin_region, changed.record_id), records.version == changed.version - 1)
            .values(
                status=changed.status.value,
                version=changed.version,
                changed_at=at,
                change_reason=reason,
                revoked_on=None if withdrawal is None else withdrawal.revoked_on,
                withdrawal_due=None if withdrawal is None else withdrawal.due,
            )
        )
        if done.rowcount != 1:
            raise ChangedMeanwhile(f"record {changed.record_id} was changed meanwhile; read it again")

    def revoke_copy(
        self, tx: UnitOfWork, record_id: str, origin: str, status: RecordStatus, at: datetime
    ) -> Record | None:
        """Stop disclosing the active copy ``origin`` made of a record, if there is one; return it as changed."""
        row = tx.connection.execute(select(schema.records).where(_is(origin, record_id))).first()
        if row is None or row.status != RecordStatus.ACTIVE.value:
            return None
        changed = change_status(_stored(row).record, status)
        self.change_status(tx, changed, f"{status} at its origin", at)
        return changed

    def due_to_expire(
        self, tx: UnitOfWork, today: date, limit: int, maxima: Mapping[str, int] | None = None
    ) -> list[Record]:
        """Active records whose sharing ended by ``today``, or whose type's maximum (days from the start, per
        record type in ``maxima``) was reached by then (at most ``limit``), read in ``tx``."""
        records = schema.records.c
        due = records.share_until <= today
        for record_type, days in sorted((maxima or {}).items()):
            due |= (records.record_type == record_type) & (records.period_start <= today - timedelta(days=days))
        rows = tx.connection.execute(
            select(schema.records).where(records.status == RecordStatus.ACTIVE.value, due).limit(limit)
        ).all()
        return [_stored(row).record for row in rows]

    # --- reading ------------------------------------------------------------

    def get(self, origin: str, record_id: str) -> StoredRecord | None:
        """The record ``origin`` made under ``record_id`` (this node's region for a local caller's record)."""
        with self.database.reader.begin() as connection:
            row = connection.execute(select(schema.records).where(_is(origin, record_id))).first()
        return None if row is None else _stored(row)

    def origins_of(self, record_id: str, subject: Subject) -> list[str]:
        """The origins whose record about ``subject`` this node holds under ``record_id``: for telling a subject
        where to turn, never for acting on a record."""
        records = schema.records.c
        query = select(records.origin_region).where(
            records.record_id == record_id,
            records.subject_kind == subject.kind.value,
            records.subject_id == subject.identifier,
        )
        with self.database.reader.begin() as connection:
            return list(connection.execute(query.order_by(records.origin_region)).scalars())

    def by_request_key(self, request_key: str) -> StoredRecord | None:
        with self.database.reader.begin() as connection:
            row = connection.execute(select(schema.records).where(schema.records.c.request_key == request_key)).first()
        return None if row is None else _stored(row)

    def disclosable(self, subject: Subject) -> list[Disclosable]:
        """The active records of a subject, as the inquiry path needs them."""
        with self.database.hot_cursor() as cursor:
            return self.disclosable_on(cursor, subject)

    def disclosable_on(self, cursor: Any, subject: Subject) -> list[Disclosable]:
        """The same on the inquiry path's cursor (``Store.subject_view``)."""
        rows = self._disclosable.rows(cursor, {"id": subject.identifier, "kind": subject.kind.value})
        return [
            Disclosable(
                record_id,
                kind,
                origin,
                RecordStatus(status),
                publish,
                share,
                _seal(payload, key_id, signature, openings),
            )
            for record_id, kind, origin, status, publish, share, payload, key_id, signature, openings in rows
        ]

    def active(self, after: tuple[str, str] = ("", ""), limit: int = 500) -> list[Record]:
        """Active records in (id, origin) order from just after ``after``: one batch of a conformance sweep (two
        origins may share an id, so the id alone would skip one at a batch's edge)."""
        records = schema.records.c
        with self.database.reader.begin() as connection:
            rows = connection.execute(
                select(schema.records)
                .where(
                    records.status == RecordStatus.ACTIVE.value,
                    tuple_(records.record_id, records.origin_region) > tuple_(*after),
                )
                .order_by(records.record_id, records.origin_region)
                .limit(limit)
            ).all()
        return [_stored(row).record for row in rows]

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
