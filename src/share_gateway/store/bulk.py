"""Bulk loading: many records with their events in one transaction, for scale tests and benchmarks.

The rows are the ones ``Records.add`` and ``EventLog.append`` write, built by the same functions; only the way
in differs: PostgreSQL's ``COPY ... FROM STDIN`` (psycopg's ``copy``), an order of magnitude faster than inserts
at a million rows, and ``executemany`` on SQLite, whose inserts in one transaction are already fast. The events
take the log's append lock, as every append does, so their ``seq`` order is their commit order; the sequencer
integrates them afterwards like any other appended events.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg.types.json import Json
from sqlalchemy import JSON, Column, Table, TypeDecorator, insert

from share_gateway.crypto.disclosure import SealedRecord
from share_gateway.domain.events import Event
from share_gateway.domain.records import Record
from share_gateway.store import schema
from share_gateway.store.database import Database
from share_gateway.store.events import _event_row
from share_gateway.store.records import _row
from share_gateway.store.unit_of_work import UnitOfWork

# What a bulk load fills: the records and events it writes, and the log's tables once they are integrated.
LOADED_TABLES = ("records", "events", "log_entries", "log_nodes", "log_checkpoints", "index_entries")

Submission = tuple[Record, SealedRecord, str, Event]
"""A record, its sealed statement, its request key and the event that logs its submission."""


def load(tx: UnitOfWork, submissions: Sequence[Submission]) -> None:
    """Write ``submissions`` (records and their events) in ``tx``; takes the log's append lock first."""
    if not submissions:
        return
    tx.serialise()
    records = [_row(record, sealed, key) for record, sealed, key, _ in submissions]
    events = [_event_row(event) for *_, event in submissions]
    if tx.connection.dialect.name == "postgresql":
        _copy(tx, schema.records, records)
        _copy(tx, schema.events, events)
    else:
        tx.connection.execute(insert(schema.records), records)
        tx.connection.execute(insert(schema.events), events)


def _copy(tx: UnitOfWork, table: Table, rows: list[dict[str, Any]]) -> None:
    """``COPY table (columns) FROM STDIN`` with the values as the table's column types would bind them."""
    dialect = tx.connection.dialect
    columns = [column for column in table.c if column.name in rows[0]]
    binders = [_binder(column, dialect) for column in columns]
    names = ", ".join(column.name for column in columns)
    with tx.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([bind(row[column.name]) for column, bind in zip(columns, binders, strict=True)])


def _binder(column: Column[Any], dialect: Any) -> Any:
    """How a value of ``column`` goes to the database: through its type decorator, as JSON, or as it is."""
    kind = column.type
    if isinstance(kind, TypeDecorator):
        return lambda value: kind.process_bind_param(value, dialect)
    if isinstance(kind, JSON):
        return lambda value: None if value is None else Json(value)
    return lambda value: value


def refresh_statistics(database: Database) -> None:
    """ANALYZE the tables a bulk load filled, once the log has integrated it.

    Without statistics the planner guesses: at a million records it read every active record's entry of
    ``(status, share_until)`` beside the subject's index on each inquiry (56 ms instead of 0.1 ms), because it
    took ``status = 'active'`` for a rare value. Autovacuum would analyze later, where it runs at all.
    """
    with database.writer.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"ANALYZE {', '.join(LOADED_TABLES)}")
        else:
            for table in LOADED_TABLES:
                connection.exec_driver_sql(f"ANALYZE {table}")
