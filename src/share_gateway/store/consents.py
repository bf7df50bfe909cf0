"""The consents repository: consents this node registered, and withdrawals from subjects or peers.

The statement is kept as signed (with its signature and the signer's certificate), so what a subject lists is
what was verified; the evidence it names stays with whoever keeps it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from share_gateway.domain.consent import ConsentRevocation, ConsentStatement
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.store import schema
from share_gateway.store.database import Database
from share_gateway.store.prepared import Prepared
from share_gateway.store.unit_of_work import UnitOfWork


class RegisteredConsent(NamedTuple):
    consent_id: str
    statement: ConsentStatement
    signature: bytes
    certificate: bytes
    registered_at: datetime
    revoked_at: datetime | None


class ConsentToKeep(NamedTuple):
    """A verified consent this node has not registered yet, as ``Consents.register`` keeps it."""

    consent_id: str
    statement_bytes: bytes
    signature: bytes
    certificate: bytes
    statement: ConsentStatement
    at: datetime

    def row(self) -> dict[str, Any]:
        return {
            "consent_id": self.consent_id,
            "subject_kind": self.statement.subject.kind.value,
            "subject_id": self.statement.subject.identifier,
            "requester": self.statement.requester,
            "statement": self.statement_bytes,
            "signature": self.signature,
            "certificate": self.certificate,
            "registered_at": self.at,
        }


class Consents:
    def __init__(self, database: Database) -> None:
        self.database = database
        # The inquiry path's registration, built once: it rides in the transaction of the inquiry's event.
        dialect_insert = sqlite_insert if database.is_sqlite else postgresql_insert
        keep = dialect_insert(schema.consents).values({c.name: bindparam(c.name) for c in schema.consents.c})
        self._keep = Prepared.compile(keep.on_conflict_do_nothing(index_elements=["consent_id"]), database.writer)

    def keep_on(self, cursor: Any, consents: Sequence[ConsentToKeep]) -> None:
        """Register ``consents`` on a write transaction's cursor (the group commit's); one registered already
        stays as first seen."""
        if consents:
            self._keep.execute_many(cursor, [consent.row() for consent in consents])

    def register(
        self,
        tx: UnitOfWork,
        consent_id: str,
        statement_bytes: bytes,
        signature: bytes,
        certificate: bytes,
        statement: ConsentStatement,
        at: datetime,
    ) -> bool:
        """Register a verified consent; False if it was registered already (the first sight stands)."""
        kept = ConsentToKeep(consent_id, statement_bytes, signature, certificate, statement, at)
        return tx.insert_new(insert(schema.consents).values(**kept.row()))

    def revoke(self, tx: UnitOfWork, revocation: ConsentRevocation, received_at: datetime) -> bool:
        """Keep a withdrawal; False if this consent was withdrawn already (the first withdrawal stands)."""
        return tx.insert_new(
            insert(schema.consent_revocations).values(
                consent_id=revocation.consent_id,
                subject_kind=revocation.subject.kind.value,
                subject_id=revocation.subject.identifier,
                origin_region=revocation.origin,
                revoked_at=revocation.at,
                received_at=received_at,
            )
        )

    def withdrawn_since(self, since: datetime | None) -> list[tuple[str, datetime]]:
        """(consent id, when kept here) of the withdrawals kept at or after ``since`` (all if None)."""
        table = schema.consent_revocations.c
        query = select(table.consent_id, table.received_at)
        if since is not None:
            query = query.where(table.received_at >= since)
        with self.database.reader.connect() as connection:
            return [(row.consent_id, row.received_at) for row in connection.execute(query)]

    def revoked_at(self, consent_id: str) -> datetime | None:
        table = schema.consent_revocations.c
        with self.database.reader.connect() as connection:
            at: datetime | None = connection.execute(
                select(table.revoked_at).where(table.consent_id == consent_id)
            ).scalar()
        return at

    def revocation(self, consent_id: str) -> ConsentRevocation | None:
        """The withdrawal kept here, as the statement its origin made."""
        table = schema.consent_revocations.c
        with self.database.reader.connect() as connection:
            row = connection.execute(select(schema.consent_revocations).where(table.consent_id == consent_id)).first()
        if row is None:
            return None
        subject = Subject(SubjectKind(row.subject_kind), row.subject_id)
        return ConsentRevocation(row.consent_id, subject, row.revoked_at, row.origin_region)

    def about(self, subject: Subject, consent_id: str | None = None) -> list[RegisteredConsent]:
        """The consents about ``subject`` registered here (one of them with ``consent_id``), oldest first."""
        consent, revoked = schema.consents.c, schema.consent_revocations.c
        query = (
            select(
                consent.consent_id,
                consent.statement,
                consent.signature,
                consent.certificate,
                consent.registered_at,
                revoked.revoked_at,
            )
            .select_from(
                schema.consents.outerjoin(schema.consent_revocations, revoked.consent_id == consent.consent_id)
            )
            .where(consent.subject_kind == subject.kind.value, consent.subject_id == subject.identifier)
            .order_by(consent.registered_at, consent.consent_id)
        )
        if consent_id is not None:
            query = query.where(consent.consent_id == consent_id)
        with self.database.reader.connect() as connection:
            rows = connection.execute(query).all()
        return [
            RegisteredConsent(
                row.consent_id,
                ConsentStatement.from_bytes(row.statement),
                row.signature,
                row.certificate,
                row.registered_at,
                row.revoked_at,
            )
            for row in rows
        ]
