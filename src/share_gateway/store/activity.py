"""What the officers' overview reads: the log's events counted per day, and each cosigner's last cosigned checkpoint.

Both are figures a node aggregates itself, so a console shows a month of a million events without fetching them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from share_gateway.crypto.note import parse_note
from share_gateway.store import schema
from share_gateway.store.database import Database
from share_gateway.store.log import StoredCheckpoint

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


def count_activity(database: Database, since: datetime, until: datetime) -> list[ActivityCount]:
    """Integrated events logged in ``[since, until)``, counted per UTC day, kind, purpose and outcome.

    Grouped in SQL over the index on (occurred_at, kind, purpose, outcome) (migration 0020): the database reads
    the index alone, never the events' bytes. SQLite stores an instant as UTC text whose first ten characters are
    the day; PostgreSQL's day is taken in UTC whatever the session's zone.
    """
    entries = schema.log_entries.c
    if database.is_sqlite:
        day = func.substr(entries.occurred_at, 1, 10)
    else:
        day = func.to_char(func.timezone("UTC", entries.occurred_at), "YYYY-MM-DD")
    statement = (
        select(day.label("day"), entries.kind, entries.purpose, entries.outcome, func.count().label("n"))
        .where(entries.occurred_at >= since, entries.occurred_at < until)
        .group_by(day, entries.kind, entries.purpose, entries.outcome)
        .order_by(day, entries.kind, entries.purpose, entries.outcome)
    )
    with database.reader.connect() as connection:
        return [
            ActivityCount(str(r.day), r.kind, r.purpose or "", r.outcome, int(r.n))
            for r in connection.execute(statement)
        ]


def last_cosigned(database: Database, cosigners: frozenset[str]) -> dict[str, StoredCheckpoint]:
    """Per cosigner key name, the newest checkpoint whose note carries a line under that name.

    Read newest first a page at a time, until every cosigner is found or ``CHECKPOINTS_SCANNED`` were read. The
    lines are not verified here: the reader verifies each note against the witness keys it trusts.
    """
    table = schema.log_checkpoints
    found: dict[str, StoredCheckpoint] = {}
    below: int | None = None
    for _ in range(CHECKPOINTS_SCANNED // CHECKPOINT_PAGE):
        if found.keys() >= cosigners:
            break
        statement = select(table).order_by(table.c.size.desc()).limit(CHECKPOINT_PAGE)
        if below is not None:
            statement = statement.where(table.c.size < below)
        with database.reader.connect() as connection:
            rows = connection.execute(statement).all()
        for row in rows:
            for signature in parse_note(row.note).signatures:
                if signature.name in cosigners and signature.name not in found:
                    found[signature.name] = StoredCheckpoint(row.size, row.root, row.note, row.published_at)
        if len(rows) < CHECKPOINT_PAGE:
            break
        below = rows[-1].size
    return found
