"""Institutions and their grants: the kind a node registered for each institution, and what it may do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, bindparam, insert, select, update

from share_gateway.domain.errors import InvalidState
from share_gateway.domain.policy import Grant, GrantRole
from share_gateway.store import schema
from share_gateway.store.database import Database
from share_gateway.store.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class GrantRow:
    grant_id: int
    institution: str
    institution_kind: str
    grant: Grant
    revoked_at: datetime | None


# Who is calling, on every call (cached briefly by the runtime): the institution's kind and unrevoked grants.
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


def _one_grant(grant_id: int) -> Select[Any]:
    return (
        select(schema.grants, schema.institutions.c.kind)
        .join(schema.institutions)
        .where(schema.grants.c.grant_id == grant_id)
    )


def _grant_row(row: Row[Any]) -> GrantRow:
    return GrantRow(
        row.grant_id,
        row.institution,
        row.kind,
        Grant(GrantRole(row.role), row.scope, row.valid_from, row.valid_until),
        row.revoked_at,
    )


class Grants:
    def __init__(self, database: Database) -> None:
        self.database = database

    def register(self, tx: UnitOfWork, institution: str, kind: str, name: str, now: datetime) -> None:
        """Register an institution's kind (a catalog requester kind), or change it."""
        changed = tx.connection.execute(
            update(schema.institutions)
            .where(schema.institutions.c.institution == institution)
            .values(kind=kind, name=name)
        )
        if changed.rowcount == 0:
            tx.connection.execute(
                insert(schema.institutions).values(institution=institution, kind=kind, name=name, registered_at=now)
            )

    def add(self, tx: UnitOfWork, institution: str, grant: Grant, now: datetime) -> int:
        """Grant a registered institution one role for one scope; return the grant's id."""
        registered = tx.connection.execute(
            select(schema.institutions.c.kind).where(schema.institutions.c.institution == institution)
        ).first()
        if registered is None:
            raise InvalidState(f"institution {institution} is not registered")
        result = tx.connection.execute(
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

    def kind_of(self, tx: UnitOfWork, institution: str) -> str | None:
        """The kind an institution is registered as, in ``tx`` (None if it is not registered)."""
        return tx.connection.execute(
            select(schema.institutions.c.kind).where(schema.institutions.c.institution == institution)
        ).scalar_one_or_none()

    def row(self, tx: UnitOfWork, grant_id: int) -> GrantRow | None:
        """One grant as ``tx`` sees it (revoked or not), or None if there is no such grant."""
        found = tx.connection.execute(_one_grant(grant_id)).first()
        return None if found is None else _grant_row(found)

    def get(self, grant_id: int) -> GrantRow | None:
        """One grant (revoked or not), or None if there is no such grant."""
        with self.database.reader.connect() as connection:
            found = connection.execute(_one_grant(grant_id)).first()
        return None if found is None else _grant_row(found)

    def change_end(self, tx: UnitOfWork, grant_id: int, until: datetime | None) -> None:
        """Give an unrevoked grant a new end (None: no end)."""
        done = tx.connection.execute(
            update(schema.grants)
            .where(schema.grants.c.grant_id == grant_id, schema.grants.c.revoked_at.is_(None))
            .values(valid_until=until)
        )
        if done.rowcount != 1:
            raise InvalidState(f"grant {grant_id} does not exist or is revoked")

    def revoke(self, tx: UnitOfWork, grant_id: int, now: datetime) -> None:
        done = tx.connection.execute(
            update(schema.grants)
            .where(schema.grants.c.grant_id == grant_id, schema.grants.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        if done.rowcount != 1:
            raise InvalidState(f"grant {grant_id} does not exist or is already revoked")

    def rows(self, institution: str | None = None) -> list[GrantRow]:
        """Every grant (of one institution, if given), revoked ones too, in the order they were made."""
        query = (
            select(schema.grants, schema.institutions.c.kind)
            .join(schema.institutions)
            .order_by(schema.grants.c.grant_id)
        )
        if institution is not None:
            query = query.where(schema.grants.c.institution == institution)
        with self.database.reader.begin() as connection:
            return [_grant_row(row) for row in connection.execute(query)]

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
