"""Engines for SQLite (embedded default, WAL) and PostgreSQL (psycopg 3), and migration to head.

SQLite allows one writer: writes go through a one-connection engine that
starts every transaction with ``BEGIN IMMEDIATE`` (so a reader never has to
upgrade its lock and deadlock), while reads use a pool of connections that
WAL lets run beside the writer. Reads are single statements, each its own
snapshot, so they need no BEGIN round trip.

For the log's appends SQLite also offers ``write_now``: a write on the
calling thread that never waits for the lock (busy timeout zero) and leaves
checkpoints to ``checkpoint``, so an event loop can commit without handing
work to a thread, and falls back to one only when another writer holds the
lock.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.pool import QueuePool

SQLITE_BUSY_TIMEOUT_MS = 10_000


class WriterBusy(Exception):
    """Another connection holds the write lock right now: write from a thread that may wait."""


@dataclass(frozen=True)
class Database:
    url: str
    writer: Engine
    reader: Engine
    nowait: Engine | None = None
    _local: threading.local = field(default_factory=threading.local, repr=False, compare=False)

    @property
    def is_sqlite(self) -> bool:
        return self.writer.dialect.name == "sqlite"

    @property
    def reads_never_wait(self) -> bool:
        """SQLite in WAL mode: readers see a snapshot and never wait for the writer."""
        return self.is_sqlite

    @contextmanager
    def read_cursor(self) -> Iterator[Any]:
        """A DBAPI cursor for the hot read: on SQLite a connection per thread kept open, else from the pool."""
        if self.reads_never_wait:
            cursor = self._kept("connection", self.reader).cursor()
            try:
                yield cursor
            finally:
                cursor.close()
            return
        with self.reader.connect() as pooled:
            cursor = pooled.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            try:
                yield cursor
            finally:
                cursor.close()

    @property
    def can_write_now(self) -> bool:
        return self.nowait is not None

    def _kept(self, name: str, engine: Engine) -> Any:
        """A raw connection of ``engine`` kept open for this thread."""
        connection = getattr(self._local, name, None)
        if connection is None:
            connection = engine.raw_connection()
            setattr(self._local, name, connection)
        return connection

    def write_now(self, work: Callable[[Any], None]) -> None:
        """Run ``work(cursor)`` in a write transaction on this thread, or raise ``WriterBusy`` at once."""
        if self.nowait is None:
            raise WriterBusy("only SQLite writes without waiting")
        cursor = self._kept("nowait_connection", self.nowait).cursor()
        try:
            try:
                cursor.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as error:
                raise WriterBusy(str(error)) from error
            try:
                work(cursor)
                cursor.execute("COMMIT")
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
        finally:
            cursor.close()

    def checkpoint(self) -> None:
        """Move the SQLite write-ahead log into the database without blocking anyone (PASSIVE)."""
        if self.is_sqlite:
            connection = self.writer.raw_connection()  # outside any transaction: a checkpoint cannot run inside one
            try:
                connection.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)")
            finally:
                connection.close()

    def dispose(self) -> None:
        for name in ("connection", "nowait_connection"):
            connection = getattr(self._local, name, None)
            if connection is not None:
                connection.close()
                setattr(self._local, name, None)
        for engine in {self.writer, self.reader, self.nowait} - {None}:
            assert engine is not None
            engine.dispose()


def _sqlite_engine(
    url: str, begin: str | None, pool_size: int, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS, checkpoints: bool = True
) -> Engine:
    """An engine whose transactions start with ``begin``; with None every statement is its own snapshot."""
    engine = create_engine(url, poolclass=QueuePool, pool_size=pool_size, max_overflow=0, pool_timeout=60)

    @event.listens_for(engine, "connect")
    def configure(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.execute("PRAGMA foreign_keys=ON")
        if not checkpoints:
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    if begin is not None:

        @event.listens_for(engine, "begin")
        def start(connection: Any) -> None:
            connection.exec_driver_sql(begin)

    return engine


def open_database(url: str, pool_size: int = 8) -> Database:
    """Open ``sqlite:///path`` or ``postgresql+psycopg://...``."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise ValueError("use a SQLite file: an in-memory database is not shared between connections")
        return Database(
            url,
            writer=_sqlite_engine(url, "BEGIN IMMEDIATE", 1),
            reader=_sqlite_engine(url, None, pool_size),
            nowait=_sqlite_engine(url, None, 1, busy_timeout_ms=0, checkpoints=False),
        )
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql")
    engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
    return Database(url, engine, engine)


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("share_gateway.store") / "migrations"))
    return config


def migrate(database: Database, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (idempotent)."""
    config = alembic_config()
    with database.writer.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


@dataclass(frozen=True)
class Prepared:
    """A statement compiled once and run on the DBAPI cursor, with SQLAlchemy's own type conversions.

    Only for the inquiry path's two statements (read a subject's records,
    append events), where SQLAlchemy's per-execution machinery costs several
    times the query itself. Values still pass through the column types' bind
    and result processors, so what is stored and read is exactly what the
    regular repositories store and read.
    """

    sql: str
    order: tuple[str, ...] | None
    defaults: dict[str, Any]
    binds: dict[str, Any]
    results: tuple[tuple[int, Any], ...]

    @classmethod
    def compile(cls, statement: Any, engine: Engine) -> Prepared:
        dialect = engine.dialect
        compiled = statement.compile(dialect=dialect)
        binds = {
            name: processor
            for name, parameter in compiled.binds.items()
            if (processor := parameter.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        }
        columns = getattr(statement, "selected_columns", ())
        processors = (column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns)
        results = tuple((index, p) for index, p in enumerate(processors) if p is not None)
        order = tuple(compiled.positiontup) if compiled.positiontup else None
        defaults = {name: p.value for name, p in compiled.binds.items() if not p.required}
        return cls(compiled.string, order, defaults, binds, results)

    def parameters(self, values: dict[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        merged = {**self.defaults, **values}
        for name, processor in self.binds.items():
            merged[name] = processor(merged[name])
        return tuple(merged[name] for name in self.order) if self.order is not None else merged

    def rows(self, cursor: Any, values: dict[str, Any]) -> list[list[Any]]:
        cursor.execute(self.sql, self.parameters(values))
        rows = [list(row) for row in cursor.fetchall()]
        for index, processor in self.results:
            for row in rows:
                row[index] = processor(row[index])
        return rows

    def execute_many(self, cursor: Any, values: list[dict[str, Any]]) -> None:
        cursor.executemany(self.sql, [self.parameters(v) for v in values])
