"""The disputes repository: disputes about wrong records (异议), kept at the record's origin node, and the copies
other regions' origins stated of theirs (``receive``: where each stands, without claim or answer), which mark
the copies of their records here "under dispute"."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from share_gateway.domain.disputes import Dispute, DisputeState
from share_gateway.domain.errors import ChangedMeanwhile, InvalidState
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.store import schema
from share_gateway.store.database import Database
from share_gateway.store.prepared import Prepared
from share_gateway.store.unit_of_work import UnitOfWork


def _row(dispute: Dispute) -> dict[str, Any]:
    return {
        "dispute_id": dispute.dispute_id,
        "origin_region": dispute.origin_region,
        "record_id": dispute.record_id,
        "record_type": dispute.record_type,
        "subject_kind": dispute.subject.kind.value,
        "subject_id": dispute.subject.identifier,
        "applicant": dispute.applicant,
        "claim": dispute.claim,
        "state": dispute.state.value,
        "filed_at": dispute.filed_at,
        "answer_due": dispute.answer_due,
        "answered_at": dispute.answered_at,
        "answered_by": dispute.answered_by,
        "answer": dispute.answer,
        "corrected_record_id": dispute.corrected_record_id,
        "version": dispute.version,
    }


class _Columns(dict[str, Any]):
    """A DBAPI row by column name, as ``_dispute`` reads a SQLAlchemy row."""

    def __getattr__(self, name: str) -> Any:
        return self[name]


def _dispute(row: Any) -> Dispute:
    return Dispute(
        dispute_id=row.dispute_id,
        origin_region=row.origin_region,
        record_id=row.record_id,
        record_type=row.record_type,
        subject=Subject(SubjectKind(row.subject_kind), row.subject_id),
        applicant=row.applicant,
        claim=row.claim,
        state=DisputeState(row.state),
        filed_at=row.filed_at,
        answer_due=row.answer_due,
        answered_at=row.answered_at,
        answered_by=row.answered_by,
        answer=row.answer,
        corrected_record_id=row.corrected_record_id,
        version=row.version,
    )


# The open disputes about a subject: what the inquiry path marks (few rows: the state index finds them).
_OPEN_ABOUT = (
    select(schema.disputes)
    .where(
        schema.disputes.c.state == DisputeState.FILED.value,
        schema.disputes.c.subject_kind == bindparam("kind"),
        schema.disputes.c.subject_id == bindparam("id"),
    )
    .order_by(schema.disputes.c.filed_at, schema.disputes.c.dispute_id)
)
_COLUMNS = tuple(column.name for column in schema.disputes.columns)


class Disputes:
    def __init__(self, database: Database) -> None:
        self.database = database
        self._open_about = Prepared.compile(_OPEN_ABOUT, database.reader)

    def open_about_subject(self, cursor: Any, subject: Subject) -> list[Dispute]:
        """The open disputes about ``subject``, on the inquiry path's cursor (``Store.subject_view``)."""
        rows = self._open_about.rows(cursor, {"kind": subject.kind.value, "id": subject.identifier})
        return [_dispute(_Columns(zip(_COLUMNS, row, strict=True))) for row in rows]

    def add(self, tx: UnitOfWork, dispute: Dispute) -> None:
        """Keep a new dispute, refusing a second while another about the same record is open."""
        table = schema.disputes.c
        tx.serialise()  # two disputes at once: the second sees the first
        pending = tx.connection.execute(
            select(table.dispute_id).where(
                table.origin_region == dispute.origin_region,
                table.record_id == dispute.record_id,
                table.state == DisputeState.FILED.value,
            )
        ).scalar()
        if pending is not None:
            raise InvalidState(
                f"dispute {pending} about this record is still open", "DISPUTE_PENDING", {"dispute_id": pending}
            )
        tx.connection.execute(insert(schema.disputes).values(**_row(dispute)))

    def receive(self, tx: UnitOfWork, copy: Dispute) -> bool:
        """Keep another region's dispute as its origin stated it, if newer than the copy held; whether it was
        kept. An id this node holds for another origin's dispute is refused: no region overwrites another's."""
        table = schema.disputes
        tx.serialise()
        held = tx.connection.execute(
            select(table.c.origin_region, table.c.version).where(table.c.dispute_id == copy.dispute_id)
        ).first()
        if held is None:
            tx.connection.execute(insert(table).values(**_row(copy)))
            return True
        if held.origin_region != copy.origin_region:
            raise InvalidState(f"dispute {copy.dispute_id} is another region's", "DISPUTE_OF_ANOTHER_REGION")
        if held.version >= copy.version:
            return False
        tx.connection.execute(
            update(table)
            .where(table.c.dispute_id == copy.dispute_id)
            .values(**{k: v for k, v in _row(copy).items() if k != "dispute_id"})
        )
        return True

    def change(self, tx: UnitOfWork, changed: Dispute) -> None:
        """Write a dispute's next version if nobody changed it meanwhile (optimistic, by version)."""
        table = schema.disputes
        done = tx.connection.execute(
            update(table)
            .where(table.c.dispute_id == changed.dispute_id, table.c.version == changed.version - 1)
            .values(**{k: v for k, v in _row(changed).items() if k != "dispute_id"})
        )
        if done.rowcount != 1:
            raise ChangedMeanwhile(f"dispute {changed.dispute_id} was changed meanwhile; read it again")

    def get(self, dispute_id: str) -> Dispute | None:
        table = schema.disputes
        with self.database.reader.connect() as connection:
            row = connection.execute(select(table).where(table.c.dispute_id == dispute_id)).first()
        return None if row is None else _dispute(row)

    def find(
        self, states: Sequence[DisputeState] = (), subject: Subject | None = None, origin: str | None = None
    ) -> list[Dispute]:
        """Disputes in ``states`` (all if empty), about ``subject`` and of ``origin`` if given, oldest first."""
        table = schema.disputes
        query = select(table).order_by(table.c.filed_at, table.c.dispute_id)
        if origin is not None:
            query = query.where(table.c.origin_region == origin)
        if states:
            query = query.where(table.c.state.in_([s.value for s in states]))
        if subject is not None:
            query = query.where(table.c.subject_kind == subject.kind.value, table.c.subject_id == subject.identifier)
        with self.database.reader.connect() as connection:
            return [_dispute(row) for row in connection.execute(query)]
