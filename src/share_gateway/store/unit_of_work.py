"""The unit of work: one write transaction that several repositories take part in.

A use case that changes several aggregates at once (a repair approval moves the
application on, repairs the record, keeps the revocation, queues deliveries,
ends listings and appends the events) opens one ``UnitOfWork`` and hands it to
each repository it writes through, so everything commits together or not at
all. Repositories never open a write transaction of their own: the boundary is
where the use case draws it, in one place. (The log's tree, ``store.log``, is
the one exception: only the sequencer and cosigner write it, and those writes
join no other work.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Executable
from sqlalchemy.exc import IntegrityError

# pg_advisory_xact_lock keys: one for integration, one serialising appends to the log.
INTEGRATION_LOCK = 0x5347_0001
APPEND_LOCK = 0x5347_0002
# Installing authority-signed documents: replicas starting together install the same catalog at once.
TRUST_LOCK = 0x5347_0003


class Duplicate(Exception):
    """A row with the same key exists already, and it is not the one the caller meant to write."""


def lock(connection: Connection, key: int) -> None:
    """On PostgreSQL, serialise this transaction with others taking ``key``; SQLite already has one writer."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({key})")


@dataclass(frozen=True, slots=True)
class UnitOfWork:
    """One open write transaction; repositories write through ``connection``."""

    connection: Connection
    # Run (in order, on the writing thread) once the transaction committed; dropped if it rolls back.
    after_commit: list[Callable[[], None]] = field(default_factory=list)

    def on_commit(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` once this transaction committed: to tell waiters in this process what they may now read."""
        self.after_commit.append(hook)

    def serialise(self) -> None:
        """Take the log's append lock now, before reads whose answer the writes depend on.

        Appends take it anyway; taking it first makes two such transactions see each
        other (two repair applications at once, a revocation crossing its record).
        """
        lock(self.connection, APPEND_LOCK)

    @contextmanager
    def cursor(self) -> Iterator[Any]:
        """The transaction's DBAPI cursor, for the prepared statements of the hot path."""
        cursor = self.connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            yield cursor
        finally:
            cursor.close()

    def insert_new(self, statement: Executable) -> bool:
        """Run an insert in a savepoint; False (and the transaction goes on) if its key exists."""
        try:
            with self.connection.begin_nested():
                self.connection.execute(statement)
        except IntegrityError:
            return False
        return True
