"""The log's appends: events, and the disclosure ledger of who received which record.

Every change is written in one unit of work together with the event that
records it, so there is never a change without its log entry or a log entry
without its change. Appends are plain inserts; the sequencer integrates them
into the tree later (``store.log``). On PostgreSQL appends take an advisory
lock, so an event's ``seq`` order is its commit order and none is skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, union_all, update

from share_gateway.domain.events import Event, EventKind, Outcome, redacted
from share_gateway.store import schema
from share_gateway.store.database import Database
from share_gateway.store.prepared import Prepared
from share_gateway.store.unit_of_work import APPEND_LOCK, UnitOfWork, lock


def _event_row(event: Event) -> dict[str, Any]:
    subject = event.subject
    return {
        "event_id": event.event_id,
        "kind": event.kind.value,
        "occurred_at": event.at,
        "node": event.node,
        "actor": event.actor,
        "subject_kind": None if subject is None else subject.kind.value,
        "subject_id": None if subject is None else subject.identifier,
        "purpose": event.purpose or None,
        "outcome": event.outcome.value,
        "body": event.canonical_bytes(),
    }


def _ledger_rows(events: Sequence[Event]) -> list[dict[str, Any]]:
    """Who received which record: one row per record an allowed inquiry disclosed."""
    return [
        {
            "record_id": record.record_id,
            "origin_region": record.origin_region,
            "recipient": event.actor,
            "via": event.details.get("via", ""),
            "event_id": event.event_id,
            "disclosed_at": event.at,
        }
        for event in events
        if event.kind is EventKind.INQUIRY and event.outcome is Outcome.ALLOWED
        for record in event.records
    ]


# The inquiry path's appends, built once: building a statement costs more than running it.
_APPEND_EVENT = insert(schema.events).values(
    {column.name: bindparam(column.name) for column in schema.events.c if column.name != "seq"}
)
_APPEND_LEDGER = insert(schema.disclosure_ledger).values(
    {column.name: bindparam(column.name) for column in schema.disclosure_ledger.c if column.name != "seq"}
)


# What else an append writes on its cursor, in its transaction.
Also = Callable[[Any], None]


class EventLog:
    def __init__(self, database: Database) -> None:
        self.database = database
        self._append_event = Prepared.compile(_APPEND_EVENT, database.writer)
        self._append_ledger = Prepared.compile(_APPEND_LEDGER, database.writer)

    def append(self, tx: UnitOfWork, events: Sequence[Event], also: Also | None = None) -> None:
        """Append events in ``tx``, after the changes they record; holds the append lock until it commits.
        ``also`` writes what must commit with them on the same cursor (the nonces of the peer inquiries answered)."""
        if not events and also is None:
            return
        lock(tx.connection, APPEND_LOCK)
        with tx.cursor() as cursor:
            self._write(cursor, [_event_row(e) for e in events], _ledger_rows(events), also)

    def append_now(self, events: Sequence[Event], also: Also | None = None) -> None:
        """The same append as a transaction of its own on the calling thread, or ``StoreBusy`` at once if the
        lock is taken (SQLite only: the group commit of the inquiry path); ``also`` writes what rides with the
        events, on the same cursor, before them."""
        rows, ledger = [_event_row(e) for e in events], _ledger_rows(events)
        self.database.write_now(lambda cursor: self._write(cursor, rows, ledger, also))

    def _write(
        self, cursor: Any, rows: list[dict[str, Any]], ledger: list[dict[str, Any]], also: Also | None = None
    ) -> None:
        """The events, and the disclosure ledger's rows for what they disclosed, on one cursor."""
        if also is not None:
            also(cursor)
        if rows:
            self._append_event.execute_many(cursor, rows)
        if ledger:
            self._append_ledger.execute_many(cursor, ledger)

    def redact(self, tx: UnitOfWork, bodies: Sequence[tuple[int, bytes]], now: datetime) -> None:
        """Replace the bytes of these events (``(seq, body)``) by stubs that keep what the log must keep."""
        events = schema.events.c
        for seq, body in bodies:
            tx.connection.execute(
                update(schema.events)
                .where(events.seq == seq)
                .values(body=redacted(body, now), subject_kind=None, subject_id=None)
            )

    def read(self, after: int = 0, limit: int = 1000) -> list[tuple[int, bytes]]:
        """(seq, canonical bytes) of the events appended after ``after``, in append order."""
        query = select(schema.events.c.seq, schema.events.c.body).where(schema.events.c.seq > after)
        with self.database.reader.begin() as connection:
            return [(row.seq, row.body) for row in connection.execute(query.order_by(schema.events.c.seq).limit(limit))]

    def pending_actor(self, event_id: str) -> str | None:
        """The actor of event ``event_id`` if it is appended but not yet integrated into the log, else None.

        Only the tail after the last integrated event is searched (by primary key): the sequencer keeps it short,
        and ``events`` has no index on the event id, which ``log_entries`` holds for integrated events.
        """
        events = schema.events.c
        last = select(func.coalesce(func.max(schema.log_entries.c.event_seq), 0)).scalar_subquery()
        query = select(events.actor).where(events.seq > last, events.event_id == event_id).limit(1)
        with self.database.reader.connect() as connection:
            actor: str | None = connection.execute(query).scalar()
            return actor

    def of_kind_since(self, kind: EventKind, since: datetime) -> list[bytes]:
        """The bytes of every event of ``kind`` that occurred at or after ``since``, integrated or not yet.

        Integrated events are found through the log's index on ``occurred_at``; the tail not yet integrated by
        primary key (``events`` has no index on kind or time), as ``pending_actor`` does. For rare kinds over a
        short span (today's expiry warnings), not for the inquiry path.
        """
        entries, events = schema.log_entries.c, schema.events.c
        integrated = (
            select(events.body)
            .join_from(schema.log_entries, schema.events, entries.event_seq == events.seq)
            .where(entries.occurred_at >= since, entries.kind == kind.value)
        )
        last = select(func.coalesce(func.max(entries.event_seq), 0)).scalar_subquery()
        pending = select(events.body).where(events.seq > last, events.kind == kind.value, events.occurred_at >= since)
        # One statement, so one snapshot: an event integrated meanwhile is found on one side or the other.
        with self.database.reader.connect() as connection:
            return [bytes(row.body) for row in connection.execute(union_all(integrated, pending))]
