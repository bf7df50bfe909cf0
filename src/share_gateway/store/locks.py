"""Locks between the processes of one region: PostgreSQL advisory locks, or a file lock beside the SQLite file.

Two are taken: the migration lock (replicas starting together migrate one at a
time, the others then find the schema at head) and the leader lock (one process
of a region runs the singleton loops: ``gateway.leadership``). On PostgreSQL
each is an advisory lock keyed by its purpose and by the schema the node's
tables live in (``hashtext(current_schema())``), so regions or tests sharing
one server in different schemas never wait for one another. On SQLite the
database has one machine, and ``fcntl.flock`` on a file beside it serialises
its processes; the kernel releases it when the process dies.

The leader lock is a *session* lock on a connection of its own, opened with
TCP keepalives on both ends: the database ends the session of a leader it can
no longer reach within ``SILENT_SESSION_ENDS_SECONDS`` of its last traffic,
and with it the lock, so another replica can take over.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import create_engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

# First keys of the two-key advisory locks (the second is the schema's hash).
MIGRATION_LOCK = 0x5347_0010
LEADER_LOCK = 0x5347_0011
SCHEMA_KEY = "hashtext(current_schema())"
# TCP keepalives of the leader's session: idle seconds before the first probe, seconds between probes, and how
# many unanswered probes end the connection; unacknowledged data ends it after TCP_USER_TIMEOUT_MS.
KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_COUNT = 1, 1, 3
TCP_USER_TIMEOUT_MS = 3_000
# The soonest the database may end a leader's silent session (its last traffic + this): a leader that last
# confirmed its lock less than this long ago still holds it.
SILENT_SESSION_ENDS_SECONDS = min(KEEPALIVE_IDLE + KEEPALIVE_INTERVAL * KEEPALIVE_COUNT, TCP_USER_TIMEOUT_MS / 1000)


class LockConnectionLost(Exception):
    """The leader lock's connection failed (or could not be made): whatever this process held, it holds no more."""


@contextmanager
def _as_lost() -> Iterator[None]:
    try:
        yield
    except (psycopg.Error, SQLAlchemyError, OSError) as error:
        raise LockConnectionLost(str(error)) from error


def sqlite_path(url: str) -> Path | None:
    """The SQLite file of ``url``, or None for PostgreSQL."""
    parsed = make_url(url)
    return Path(parsed.database) if parsed.get_backend_name() == "sqlite" and parsed.database else None


class FileLock:
    """An exclusive ``flock`` on a file (made 0600 if missing); released by ``release`` or the process's death."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @classmethod
    def beside(cls, database: Path, purpose: str) -> FileLock:
        return cls(database.with_name(f"{database.name}.{purpose}.lock"))

    def acquire(self, wait: bool = True) -> bool:
        """Take the lock (waiting for it, or not); True if this process holds it now."""
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return True

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing the only descriptor releases the flock


class LeaderLock:
    """The region's leader lock, taken without waiting and checked before each step of a leader.

    Its methods block (a database round trip each): call them from a thread of their own.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        path = sqlite_path(url)
        self._file = None if path is None else FileLock.beside(path, "leader")
        self._connection: Any = None
        self._engine = None if path is not None else _session_engine(url)

    def try_acquire(self) -> bool:
        """Take the lock if no other process holds it; True if this one holds it now."""
        if self._file is not None:
            return self._file.acquire(wait=False)
        assert self._engine is not None
        with _as_lost():
            if self._connection is None:
                self._connection = self._engine.raw_connection()
            return bool(self._one(f"SELECT pg_try_advisory_lock({LEADER_LOCK}, {SCHEMA_KEY})"))

    def holds(self) -> bool:
        """Whether the lock is still this session's: the database says so over the lock's own connection.

        Raises ``LockConnectionLost`` if the connection is gone (the database ended the session, and the lock).
        """
        if self._file is not None:
            return self._file.held
        if self._connection is None:
            return False
        with _as_lost():
            return bool(self._one(_HELD))

    def _one(self, statement: str) -> Any:
        cursor = self._connection.cursor()
        try:
            cursor.execute(statement)
            return cursor.fetchone()[0]
        finally:
            cursor.close()

    def release(self) -> None:
        """Give the lock up: close its session (which ends the lock whatever state the connection is in)."""
        if self._file is not None:
            self._file.release()
            return
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.invalidate()

    def dispose(self) -> None:
        self.release()
        if self._engine is not None:
            self._engine.dispose()


_HELD = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()"  # noqa: S608 - constants
    f" AND classid = {LEADER_LOCK} AND objid = ({SCHEMA_KEY})::oid AND objsubid = 2"
)


def _session_engine(url: str) -> Any:
    """Connections of their own (no pool) whose death both ends notice: TCP keepalives on the client and server."""
    server = (
        f"-c tcp_keepalives_idle={KEEPALIVE_IDLE} -c tcp_keepalives_interval={KEEPALIVE_INTERVAL}"
        f" -c tcp_keepalives_count={KEEPALIVE_COUNT} -c tcp_user_timeout={TCP_USER_TIMEOUT_MS}"
    )
    parsed = make_url(url)
    options = " ".join(filter(None, [str(parsed.query.get("options", "")), server]))
    return create_engine(
        parsed.update_query_dict({"options": options}),
        poolclass=NullPool,
        isolation_level="AUTOCOMMIT",
        connect_args={
            "keepalives": 1,
            "keepalives_idle": KEEPALIVE_IDLE,
            "keepalives_interval": KEEPALIVE_INTERVAL,
            "keepalives_count": KEEPALIVE_COUNT,
            "tcp_user_timeout": TCP_USER_TIMEOUT_MS,
            "connect_timeout": 5,
        },
    )
