"""The correction applications repository: the party's applications to correct an entry on the courts' list of
dishonest judgment debtors (Fa Shi [2017] No. 7 Art. 12), kept at the entry's origin node with their review."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select, update

from share_gateway.domain.debtor_list import CorrectionApplication, CorrectionState
from share_gateway.domain.errors import ChangedMeanwhile, InvalidState
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.store import schema
from share_gateway.store.database import Database
from share_gateway.store.unit_of_work import UnitOfWork


def _row(application: CorrectionApplication) -> dict[str, Any]:
    subject = application.subject
    if subject is None:
        raise ValueError("a correction application is kept with the entry's subject")
    return {
        "application_id": application.application_id,
        "origin_region": application.origin_region,
        "record_id": application.record_id,
        "record_type": application.record_type,
        "subject_kind": subject.kind.value,
        "subject_id": subject.identifier,
        "applicant": application.applicant,
        "grounds": application.grounds,
        "state": application.state.value,
        "applied_on": application.applied_on,
        "review_due": application.review_due,
        "reviewed_on": application.reviewed_on,
        "reviewed_by": application.reviewed_by,
        "reason": application.reason,
        "deletion_due": application.deletion_due,
        "version": application.version,
    }


def _application(row: Any) -> CorrectionApplication:
    return CorrectionApplication(
        record_id=row.record_id,
        applicant=row.applicant,
        grounds=row.grounds,
        applied_on=row.applied_on,
        review_due=row.review_due,
        state=CorrectionState(row.state),
        reviewed_on=row.reviewed_on,
        reason=row.reason,
        deletion_due=row.deletion_due,
        application_id=row.application_id,
        origin_region=row.origin_region,
        record_type=row.record_type,
        subject=Subject(SubjectKind(row.subject_kind), row.subject_id),
        reviewed_by=row.reviewed_by,
        version=row.version,
    )


class Corrections:
    def __init__(self, database: Database) -> None:
        self.database = database

    def add(self, tx: UnitOfWork, application: CorrectionApplication) -> None:
        """Keep a new application, refusing a second while another about the same entry awaits review."""
        table = schema.debtor_corrections.c
        tx.serialise()  # two applications at once: the second sees the first
        pending = tx.connection.execute(
            select(table.application_id).where(
                table.origin_region == application.origin_region,
                table.record_id == application.record_id,
                table.state == CorrectionState.APPLIED.value,
            )
        ).scalar()
        if pending is not None:
            raise InvalidState(
                f"correction application {pending} about this entry awaits review",
                "CORRECTION_PENDING",
                {"application_id": pending},
            )
        tx.connection.execute(insert(schema.debtor_corrections).values(**_row(application)))

    def change(self, tx: UnitOfWork, changed: CorrectionApplication) -> None:
        """Write an application's next version if nobody changed it meanwhile (optimistic, by version)."""
        table = schema.debtor_corrections
        done = tx.connection.execute(
            update(table)
            .where(table.c.application_id == changed.application_id, table.c.version == changed.version - 1)
            .values(**{k: v for k, v in _row(changed).items() if k != "application_id"})
        )
        if done.rowcount != 1:
            raise ChangedMeanwhile(f"correction application {changed.application_id} was changed meanwhile")

    def get(self, application_id: str) -> CorrectionApplication | None:
        table = schema.debtor_corrections
        with self.database.reader.connect() as connection:
            row = connection.execute(select(table).where(table.c.application_id == application_id)).first()
        return None if row is None else _application(row)

    def find(
        self, states: Sequence[CorrectionState] = (), subject: Subject | None = None
    ) -> list[CorrectionApplication]:
        """Applications in ``states`` (all if empty), about ``subject`` if given, oldest first."""
        table = schema.debtor_corrections
        query = select(table).order_by(table.c.applied_on, table.c.application_id)
        if states:
            query = query.where(table.c.state.in_([s.value for s in states]))
        if subject is not None:
            query = query.where(table.c.subject_kind == subject.kind.value, table.c.subject_id == subject.identifier)
        with self.database.reader.connect() as connection:
            return [_application(row) for row in connection.execute(query)]
