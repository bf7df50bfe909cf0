"""Reading the integrated log as compliance officers and subjects do: an entry by event id or leaf, and search.

Searches read ``log_entries``, the fields the sequencer copied out of each
event at integration, joined to the event's bytes only for the page shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select

from share_gateway.store import schema
from share_gateway.store.database import Database


@dataclass(frozen=True, slots=True)
class LogQuery:
    """What a compliance officer (or a subject's history) searches the log by; empty fields match all."""

    actor: str = ""
    subject_kind: str = ""
    subject_id: str = ""
    purpose: str = ""
    outcome: str = ""
    kind: str = ""
    since: datetime | None = None
    until: datetime | None = None
    # Only leaves of the tree of this size (the one a checkpoint signs).
    below_size: int | None = None


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    leaf_index: int
    body: bytes
    redacted: bool


class LogReader:
    def __init__(self, database: Database) -> None:
        self.database = database

    def entry(self, event_id: str) -> LoggedEvent | None:
        return self._one(schema.log_entries.c.event_id == event_id)

    def at(self, leaf_index: int) -> LoggedEvent | None:
        return self._one(schema.log_entries.c.leaf_index == leaf_index)

    def search(self, query: LogQuery, after_leaf: int = -1, limit: int = 100) -> list[LoggedEvent]:
        """Integrated events matching every field ``query`` sets, by leaf index after ``after_leaf``."""
        statement = _entries().where(_matching(query, after_leaf)).order_by(schema.log_entries.c.leaf_index)
        with self.database.reader.connect() as connection:
            rows = connection.execute(statement.limit(limit))
            return [LoggedEvent(r.leaf_index, r.body, r.redacted_at is not None) for r in rows]

    def _one(self, condition: ColumnElement[bool]) -> LoggedEvent | None:
        with self.database.reader.connect() as connection:
            row = connection.execute(_entries().where(condition)).first()
        return None if row is None else LoggedEvent(row.leaf_index, row.body, row.redacted_at is not None)

    def count(self, query: LogQuery) -> int:
        """How many integrated events match ``query`` in all: a search's total, counted on the index alone."""
        statement = select(func.count()).select_from(schema.log_entries).where(_matching(query, -1))
        with self.database.reader.connect() as connection:
            return int(connection.execute(statement).scalar_one())


def _entries() -> Select[Any]:
    """An entry's leaf index, its event's bytes and whether it was redacted."""
    entries, events = schema.log_entries.c, schema.events.c
    return select(entries.leaf_index, events.body, entries.redacted_at).join_from(
        schema.log_entries, schema.events, entries.event_seq == events.seq
    )


def _matching(query: LogQuery, after_leaf: int) -> ColumnElement[bool]:
    """The condition on ``log_entries`` that ``query`` sets, past ``after_leaf``."""
    entries = schema.log_entries.c
    conditions = [entries.leaf_index > after_leaf]
    for column, value in (
        (entries.actor, query.actor),
        (entries.subject_kind, query.subject_kind),
        (entries.subject_id, query.subject_id),
        (entries.purpose, query.purpose),
        (entries.outcome, query.outcome),
        (entries.kind, query.kind),
    ):
        if value:
            conditions.append(column == value)
    if query.since is not None:
        conditions.append(entries.occurred_at >= query.since)
    if query.until is not None:
        conditions.append(entries.occurred_at < query.until)
    if query.below_size is not None:
        conditions.append(entries.leaf_index < query.below_size)
    return and_(*conditions)
