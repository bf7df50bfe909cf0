"""Engines for SQLite (embedded default, WAL) and PostgreSQL (psycopg 3), and migration to head.

SQLite allows one writer: writes go through a one-connection engine that
starts every transaction with ``BEGIN IMMEDIATE`` (so a reader never has to
upgrade its lock and deadlock), while reads use a pool of connections that
WAL lets run beside the writer. Reads are single statements, each its own
snapshot, so they need no BEGIN round trip.

SQLite also serves the inquiry path's two hot statements on a connection the
calling thread keeps (``hot_cursor`` to read, ``write_now`` to append to the
log). Neither ever waits: a busy file raises ``StoreBusy`` at once, and the
caller retries from a thread that may wait. So an event loop can read and
commit without handing work to a thread, and is never blocked behind another
writer. Checkpoints of the write-ahead log, the one slow part of writing,
run on demand (``checkpoint_wal``) rather than inside those commits.

The writers commit with ``synchronous=FULL`` unless configured otherwise: an
answered inquiry's event survives a power loss, not only a crash of the
process. Such a commit waits for the disk, so it is made from a thread (which
releases the interpreter lock meanwhile) while the loop gathers the next
batch; only with ``NORMAL`` do appends commit on the loop itself.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.pool import NullPool, PoolResetState, QueuePool

if TYPE_CHECKING:
    from share_gateway.config import NodeConfig

from share_gateway.store.locks import MIGRATION_LOCK, SCHEMA_KEY, FileLock, sqlite_path

SQLITE_BUSY_TIMEOUT_MS = 10_000
POSTGRES_CONNECT_TIMEOUT_SECONDS = 10

log = logging.getLogger(__name__)


class StoreBusy(Exception):
    """The database file is busy right now; retry from a thread that may wait."""


@dataclass(frozen=True)
class Database:
    url: str
    writer: Engine
    reader: Engine
    # SQLite only: connections that never wait, one kept per thread (NullPool: each its own).
    hot: Engine | None = None
    # Commits wait for the disk (synchronous=FULL): better made from a thread, while the loop gathers the next batch.
    commits_sync_to_disk: bool = False
    _local: threading.local = field(default_factory=threading.local, repr=False, compare=False)
    _kept: list[Any] = field(default_factory=list, repr=False, compare=False)
    _kept_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def is_sqlite(self) -> bool:
        return self.writer.dialect.name == "sqlite"

    @property
    def reads_never_wait(self) -> bool:
        """SQLite in WAL mode: readers see a snapshot and do not wait for the writer."""
        return self.hot is not None

    @property
    def can_write_now(self) -> bool:
        """Appends can commit on the calling thread without waiting (SQLite, and no disk sync per commit)."""
        return self.hot is not None and not self.commits_sync_to_disk

    def _connection(self) -> Any:
        """This thread's kept connection of the ``hot`` engine."""
        assert self.hot is not None
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self.hot.raw_connection()
            self._local.connection = connection
            with self._kept_lock:
                self._kept.append(connection)
        return connection

    def _drop_connection(self) -> None:
        connection = getattr(self._local, "connection", None)
        self._local.connection = None
        if connection is not None:
            with self._kept_lock:
                self._kept.remove(connection)
            connection.invalidate()

    @contextmanager
    def hot_cursor(self) -> Iterator[Any]:
        """A DBAPI cursor for the hot read: on SQLite this thread's kept connection, else from the pool."""
        if self.hot is None:
            with self.reader.connect() as pooled:
                cursor = pooled.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
                try:
                    yield cursor
                finally:
                    cursor.close()
            return
        cursor = self._connection().cursor()
        try:
            yield cursor
        except sqlite3.OperationalError as error:
            raise StoreBusy(str(error)) from error
        finally:
            cursor.close()

    def write_now(self, work: Callable[[Any], None]) -> None:
        """Run ``work(cursor)`` in a write transaction on this thread, or raise ``StoreBusy`` at once."""
        if self.hot is None:
            raise StoreBusy("only SQLite writes without waiting")
        connection = self._connection()
        cursor = connection.cursor()
        try:
            try:
                cursor.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as error:
                raise StoreBusy(str(error)) from error
            try:
                work(cursor)
                cursor.execute("COMMIT")
            except BaseException:
                self._roll_back(connection)
                raise
        finally:
            cursor.close()

    def _roll_back(self, connection: Any) -> None:
        """Roll back; a connection that cannot is dropped, so it can never keep holding the write lock."""
        try:
            if connection.in_transaction:
                connection.cursor().execute("ROLLBACK")
        except sqlite3.Error:
            self._drop_connection()

    def checkpoint_wal(self) -> None:
        """Move SQLite's write-ahead log into the database without blocking anyone (PASSIVE)."""
        if self.is_sqlite:
            connection = self.writer.raw_connection()  # outside any transaction: a checkpoint cannot run in one
            try:
                connection.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)")
            finally:
                connection.close()

    def dispose(self) -> None:
        with self._kept_lock:
            kept, self._kept[:] = list(self._kept), []
        for connection in kept:
            connection.invalidate()
        self._local.connection = None
        for engine in {self.writer, self.reader, self.hot} - {None}:
            assert engine is not None
            engine.dispose()


def _sqlite_engine(
    url: str,
    begin: str | None,
    pool_size: int,
    busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS,
    synchronous: str = "NORMAL",
    checkpoints: bool = True,
    pool_timeout: float = 60.0,
) -> Engine:
    """An engine whose transactions start with ``begin``; with None every statement is its own snapshot.

    ``pool_size`` 0 means no pool: every connection is its own (for connections kept per thread).
    """
    pool: dict[str, Any] = (
        {"poolclass": NullPool}
        if pool_size == 0
        else {"poolclass": QueuePool, "pool_size": pool_size, "max_overflow": 0, "pool_timeout": pool_timeout}
    )
    engine = create_engine(url, connect_args={"check_same_thread": False}, **pool)

    @event.listens_for(engine, "connect")
    def configure(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
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


def _create_private(path: Path) -> None:
    """Create a missing SQLite file with mode 0600 (its directory 0700) before SQLite opens it.

    It holds every value and salt. SQLite gives its ``-wal`` and ``-shm`` files
    the database file's own mode, so these are private from their first byte
    too; left to SQLite, all three would follow the umask (world-readable). A
    database made before is left as it is, with a warning if others may read it.
    """
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            log.warning("database %s has mode %04o: others may read it (chmod 600 it, its -wal and -shm)", path, mode)
        return
    missing = [p for p in (path.parent, *path.parent.parents) if not p.exists()]
    for directory in reversed(missing):
        os.makedirs(directory, mode=0o700, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600))
    except FileExistsError:
        return  # another process made it at the same moment, with the same mode


def open_configured(config: NodeConfig) -> Database:
    """The node's database as its configuration sizes it (``database``, ``connections``, ``sqlite_synchronous``)."""
    connections = config.connections
    return open_database(
        config.database,
        connections.pool_size,
        config.sqlite_synchronous,
        pool_timeout=connections.pool_timeout_seconds,
        statement_timeout=connections.statement_timeout_seconds,
    )


def open_database(
    url: str,
    pool_size: int = 8,
    sqlite_synchronous: str = "FULL",
    *,
    pool_timeout: float | None = None,
    statement_timeout: float | None = None,
) -> Database:
    """Open ``sqlite:///path`` or ``postgresql+psycopg://...``.

    ``sqlite_synchronous`` FULL syncs every commit to disk (an answered inquiry's
    event survives a power loss); NORMAL survives a crash of the process only.
    ``pool_size`` connections per pool (PostgreSQL: as many again under load), waited
    for up to ``pool_timeout`` seconds; PostgreSQL cancels a statement running past
    ``statement_timeout`` seconds (none by default; SQLite has no such limit).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if sqlite_synchronous not in {"FULL", "NORMAL"}:
            raise ValueError(f"sqlite_synchronous is FULL or NORMAL, not {sqlite_synchronous!r}")
        if parsed.database in (None, "", ":memory:"):
            raise ValueError("use a SQLite file: an in-memory database is not shared between connections")
        _create_private(Path(parsed.database))
        return Database(
            url,
            writer=_sqlite_engine(url, "BEGIN IMMEDIATE", 1, synchronous=sqlite_synchronous),
            reader=_sqlite_engine(url, None, pool_size, pool_timeout=60.0 if pool_timeout is None else pool_timeout),
            hot=_sqlite_engine(url, None, 0, busy_timeout_ms=0, synchronous=sqlite_synchronous, checkpoints=False),
            commits_sync_to_disk=sqlite_synchronous == "FULL",
        )
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql")
    # libpq's ``options`` sets the server's statement_timeout for each session, in milliseconds, after any the
    # URL gives (``?options=-csearch_path%3D...``), which connect_args would otherwise replace.
    session: dict[str, object] = {}
    if statement_timeout:
        given = parsed.query.get("options", "")
        given = given if isinstance(given, str) else " ".join(given)
        session["options"] = f"{given} -c statement_timeout={round(statement_timeout * 1000)}".strip()
    # A server that takes connections and never answers (a firewall that drops) must fail a connection in bounded
    # time, or a node waiting for its database would wait on one try forever; a URL may set its own.
    if "connect_timeout" not in parsed.query:
        session["connect_timeout"] = POSTGRES_CONNECT_TIMEOUT_SECONDS
    writer = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=30.0 if pool_timeout is None else pool_timeout,
        pool_pre_ping=True,
        pool_reset_on_return=None,
        connect_args=session,
    )
    event.listen(writer, "reset", _roll_back_unless_lost)
    # Reads are single statements: in autocommit they need no BEGIN and ROLLBACK round trips.
    reader = writer.execution_options(isolation_level="AUTOCOMMIT")
    return Database(url, writer, reader)


def _roll_back_unless_lost(dbapi_connection: Any, record: Any, state: PoolResetState) -> None:
    """A connection going back to the pool is rolled back (as SQLAlchemy's own reset does), unless the server is
    gone: then it is dropped, quietly. The inquiry path's raw cursors fail where SQLAlchemy does not see it, and
    its reset would log a traceback per connection the outage cut (``gateway.failures`` counts the outage)."""
    if getattr(dbapi_connection, "broken", False) or dbapi_connection.closed:
        record.invalidate()
    elif not state.transaction_was_reset:
        dbapi_connection.rollback()


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("share_gateway.store") / "migrations"))
    return config


def migrate(database: Database, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (idempotent), one process at a time.

    Replicas starting together on a fresh database each migrate: the first takes the migration lock (an
    advisory lock held to the end of its transaction on PostgreSQL, a file lock beside the SQLite file) and
    migrates; the others wait for it and then find the schema at ``revision`` already.
    """
    config = alembic_config()
    path = sqlite_path(database.url)
    file_lock = None if path is None else FileLock.beside(path, "migrate")
    if file_lock is not None:
        file_lock.acquire()
    try:
        with database.writer.begin() as connection:
            if not database.is_sqlite:
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK}, {SCHEMA_KEY})")
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        if file_lock is not None:
            file_lock.release()


def schema_revision(database: Database) -> str | None:
    """The revision the schema is at (None before the first migration)."""
    with database.reader.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
