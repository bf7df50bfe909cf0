"""A subject's history in the log: the inquiries about it, newest first, a page at a time, and their count.

Pages are cut by leaf index (``before``) under a fixed log size (``below``), so an event integrated while
the subject pages cannot shift or repeat an entry, and every matching event is on some page. The subject's
own lookups are left out in SQL, so a page is never short for them. An index on (subject_id, leaf_index)
(migration 0013) serves the newest-first scan.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, select

from share_gateway.store import schema
from share_gateway.store.database import Database


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    subject_kind: str
    subject_id: str
    kind: str
    since: datetime
    # The subject's own certificate identity: its own lookups are not "who looked at me".
    exclude_actor: str
    # Only leaves below this log size.
    below: int


class HistoryLog:
    def __init__(self, database: Database) -> None:
        self.database = database

    def _matching(self, query: HistoryQuery) -> list[ColumnElement[bool]]:
        entries = schema.log_entries.c
        return [
            entries.subject_id == query.subject_id,
            entries.subject_kind == query.subject_kind,
            entries.kind == query.kind,
            entries.occurred_at >= query.since,
            entries.actor != query.exclude_actor,
            entries.leaf_index < query.below,
        ]

    def page(self, query: HistoryQuery, before: int | None, limit: int) -> list[tuple[int, str, bytes]]:
        """At most ``limit`` matching events of leaves below ``before`` (all if None), newest first:
        (leaf index, actor, event bytes)."""
        entries, events = schema.log_entries.c, schema.events.c
        conditions = self._matching(query)
        if before is not None:
            conditions.append(entries.leaf_index < before)
        statement = (
            select(entries.leaf_index, entries.actor, events.body)
            .join_from(schema.log_entries, schema.events, entries.event_seq == events.seq)
            .where(and_(*conditions))
            .order_by(entries.leaf_index.desc())
            .limit(limit)
        )
        with self.database.reader.connect() as connection:
            return [(r.leaf_index, r.actor, bytes(r.body)) for r in connection.execute(statement)]

    def count(self, query: HistoryQuery) -> int:
        statement = select(func.count()).select_from(schema.log_entries).where(and_(*self._matching(query)))
        with self.database.reader.connect() as connection:
            return int(connection.execute(statement).scalar_one())

    def names(self, institutions: Iterable[str]) -> dict[str, str]:
        """The names this node registered for these institutions (USCC → name; unregistered ones absent)."""
        wanted = sorted(set(institutions))
        if not wanted:
            return {}
        table = schema.institutions.c
        with self.database.reader.connect() as connection:
            rows = connection.execute(select(table.institution, table.name).where(table.institution.in_(wanted)))
            return {row.institution: row.name for row in rows if row.name}
