"""What the officers' overview reads: the log's events counted per day, and each cosigner's last cosigned checkpoint.

Both are figures a node keeps or finds itself, so a console shows a month of a million events without fetching
them. The counts (``log_activity``) are added to in the transaction that integrates the events (``add_counts``,
called by ``LogStore.integrate``), grouped in SQL from the rows just copied into ``log_entries``; reading a
range is then a primary-key range over a few hundred rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, literal, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from share_gateway.crypto.note import parse_note
from share_gateway.store import schema
from share_gateway.store.database import Database

# Checkpoints read per step while looking back for a cosigner's latest line, and how far back at most.
CHECKPOINT_PAGE = 256
CHECKPOINTS_SCANNED = 20_000


@dataclass(frozen=True, slots=True)
class ActivityCount:
    """How many integrated events of one UTC day (``YYYY-MM-DD``), kind, purpose and outcome the log holds."""

    day: str
    kind: str
    purpose: str
    outcome: str
    count: int


@dataclass(frozen=True, slots=True)
class Cosigned:
    """The newest checkpoint carrying one cosigner's line: its size and its note as stored."""

    size: int
    note: bytes


def _day(connection: Connection) -> Any:
    """An event's UTC day as text: SQLite keeps an instant as UTC text whose first ten characters are the day;
    PostgreSQL's is taken in UTC whatever the session's zone (migration 0020 counts with the same expressions)."""
    occurred = schema.log_entries.c.occurred_at
    if connection.dialect.name == "sqlite":
        return func.substr(occurred, 1, 10)
    return func.to_char(func.timezone("UTC", occurred), "YYYY-MM-DD")


def add_counts(connection: Connection, first_leaf: int) -> None:
    """Count the events integrated from ``first_leaf`` on into ``log_activity``, in the caller's transaction."""
    entries, table = schema.log_entries.c, schema.log_activity
    day, purpose = _day(connection), func.coalesce(entries.purpose, literal(""))
    grouped = (
        select(day, entries.kind, purpose, entries.outcome, func.count())
        .where(entries.leaf_index >= first_leaf)
        .group_by(day, entries.kind, purpose, entries.outcome)
    )
    dialect_insert = sqlite_insert if connection.dialect.name == "sqlite" else postgresql_insert
    statement = dialect_insert(table).from_select(["day", "kind", "purpose", "outcome", "events"], grouped)
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=["day", "kind", "purpose", "outcome"],
            set_={"events": table.c.events + statement.excluded.events},
        )
    )


def count_activity(database: Database, since: datetime, until: datetime) -> list[ActivityCount]:
    """The counts of every UTC day from the day of ``since`` to the day of the last instant before ``until``:
    whole days, as they are kept."""
    table = schema.log_activity.c
    first, last = since.date().isoformat(), (until - timedelta(microseconds=1)).date().isoformat()
    statement = (
        select(table.day, table.kind, table.purpose, table.outcome, table.events)
        .where(table.day >= first, table.day <= last)
        .order_by(table.day, table.kind, table.purpose, table.outcome)
    )
    with database.reader.connect() as connection:
        return [
            ActivityCount(r.day, r.kind, r.purpose, r.outcome, int(r.events)) for r in connection.execute(statement)
        ]


def count_activity_of(database: Database, actor: str, since: datetime, until: datetime) -> list[ActivityCount]:
    """The same counts for the events one requester caused in [``since``, ``until``), grouped from the search
    index (``log_entries``, by actor) since the daily totals do not keep who."""
    entries = schema.log_entries.c
    with database.reader.connect() as connection:
        day, purpose = _day(connection), func.coalesce(entries.purpose, literal(""))
        statement = (
            select(day, entries.kind, purpose, entries.outcome, func.count())
            .where(entries.actor == actor, entries.occurred_at >= since, entries.occurred_at < until)
            .group_by(day, entries.kind, purpose, entries.outcome)
            .order_by(day, entries.kind, purpose, entries.outcome)
        )
        return [ActivityCount(r[0], r[1], r[2], r[3], int(r[4])) for r in connection.execute(statement)]


def last_cosigned(database: Database, cosigners: frozenset[str]) -> dict[str, Cosigned]:
    """Per cosigner key name, the newest checkpoint whose note carries a line under that name.

    Read newest first a page at a time, until every cosigner is found or ``CHECKPOINTS_SCANNED`` were read. The
    lines are not verified here: the reader verifies each note against the witness keys it trusts.
    """
    table = schema.log_checkpoints
    found: dict[str, Cosigned] = {}
    below: int | None = None
    for _ in range(CHECKPOINTS_SCANNED // CHECKPOINT_PAGE):
        if found.keys() >= cosigners:
            break
        statement = select(table.c.size, table.c.note).order_by(table.c.size.desc()).limit(CHECKPOINT_PAGE)
        if below is not None:
            statement = statement.where(table.c.size < below)
        with database.reader.connect() as connection:
            rows = connection.execute(statement).all()
        for row in rows:
            for signature in parse_note(row.note).signatures:
                if signature.name in cosigners and signature.name not in found:
                    found[signature.name] = Cosigned(row.size, row.note)
        if len(rows) < CHECKPOINT_PAGE:
            break
        below = rows[-1].size
    return found
