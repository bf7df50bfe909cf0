"""The repair applications repository: each application and its state, at the record's origin node."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, insert, select, update

from share_gateway.domain.errors import ChangedMeanwhile, InvalidState
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.domain.repair import RepairApplication, RepairState
from share_gateway.store import schema
from share_gateway.store.database import Database
from share_gateway.store.unit_of_work import UnitOfWork

OPEN = (RepairState.SUBMITTED, RepairState.ACCEPTED)


def _row(application: RepairApplication) -> dict[str, Any]:
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
        "result_due": application.result_due,
        "decision_due": application.decision_due,
        "decided_at": application.decided_at,
        "decided_by": application.decided_by,
        "reason": application.reason,
        "version": application.version,
        "remedy": application.remedy,
        "extension_reason": application.extension_reason,
        "extended_by": application.extended_by,
        "mandate_id": application.mandate_id,
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
        result_due=row.result_due,
        decision_due=row.decision_due,
        decided_at=row.decided_at,
        decided_by=row.decided_by,
        reason=row.reason,
        version=row.version,
        remedy=row.remedy,
        extension_reason=row.extension_reason,
        extended_by=row.extended_by,
        mandate_id=row.mandate_id,
    )


class RepairApplications:
    def __init__(self, database: Database) -> None:
        self.database = database

    def add(self, tx: UnitOfWork, application: RepairApplication) -> None:
        """Keep a new application, refusing a second one while another about the record is open."""
        table = schema.repair_applications.c
        tx.serialise()  # two applications at once: the second sees the first
        pending = tx.connection.execute(
            select(table.application_id).where(
                table.record_id == application.record_id, table.state.in_([s.value for s in OPEN])
            )
        ).scalar()
        if pending is not None:
            raise InvalidState(
                f"application {pending} about this record is still open",
                "APPLICATION_PENDING",
                {"application_id": pending},
            )
        tx.connection.execute(insert(schema.repair_applications).values(**_row(application)))

    def change(self, tx: UnitOfWork, changed: RepairApplication) -> None:
        """Write an application's next version if nobody changed it meanwhile (optimistic, by version)."""
        table = schema.repair_applications
        done = tx.connection.execute(
            update(table)
            .where(table.c.application_id == changed.application_id, table.c.version == changed.version - 1)
            .values(**{k: v for k, v in _row(changed).items() if k != "application_id"})
        )
        if done.rowcount != 1:
            raise ChangedMeanwhile(f"application {changed.application_id} was changed meanwhile; read it again")

    def get(self, application_id: str) -> RepairApplication | None:
        table = schema.repair_applications
        with self.database.reader.connect() as connection:
            row = connection.execute(select(table).where(table.c.application_id == application_id)).first()
        return None if row is None else _application(row)

    def find(
        self, states: Sequence[RepairState] = (), record_ids: Sequence[str] = (), subject: Subject | None = None
    ) -> list[RepairApplication]:
        """Applications in ``states`` (all if empty) about ``record_ids`` (any if empty) and ``subject`` (anyone's
        if None), oldest first."""
        table = schema.repair_applications
        query = select(table).order_by(table.c.submitted_at, table.c.application_id)
        if states:
            query = query.where(table.c.state.in_([s.value for s in states]))
        if record_ids:
            query = query.where(table.c.record_id.in_(list(record_ids)))
        if subject is not None:
            query = query.where(table.c.subject_kind == subject.kind.value, table.c.subject_id == subject.identifier)
        with self.database.reader.connect() as connection:
            return [_application(row) for row in connection.execute(query)]
