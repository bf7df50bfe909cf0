"""Which failures of the database are outages: the database is away or busy, and the same call may succeed later.

An outage is not a fault of the call: the caller is told UNAVAILABLE (retryable)
and the node's log says so once per kind of outage, not once per call
(``gateway.failures``). Anything else a database raises (a constraint, a
statement this code got wrong, a password refused) is not an outage: retrying
cannot help, and it stays an internal error with its traceback.
"""

from __future__ import annotations

import sqlite3
from enum import StrEnum

import psycopg
from sqlalchemy import exc

# SQLSTATE classes and codes of a PostgreSQL server that is away or cannot take the call now.
_UNREACHABLE_STATES = ("08", "57P01", "57P02", "57P03", "53300")  # connection exception; shutdown; too many
_BUSY_STATES = ("57014", "55P03", "53")  # statement timeout or cancelled; lock not available; resources
# What SQLite says when another writer holds the file, or the file cannot be read or written now.
_SQLITE_BUSY = ("database is locked", "database is busy", "database table is locked")
_SQLITE_UNREACHABLE = ("unable to open database file", "disk i/o error", "database or disk is full")
# A server that answered a connection with FATAL refused it for good (no such role or database, a wrong
# password: a fault of the configuration) unless it says it is starting, stopping or full.
_FATAL_BUT_PASSING = ("starting up", "shutting down", "recovery mode", "too many clients", "not yet accepting")


class Outage(StrEnum):
    """Kinds of database outage: each is logged once per window, whatever the number of calls it fails."""

    # The server cannot be reached, dropped the connection, or does not answer in time (stopped, restarting,
    # network cut, a firewall that drops).
    UNREACHABLE = "unreachable"
    # Reached, but it cannot take the call now: the pool is exhausted, a lock is held, a statement timed out.
    BUSY = "busy"


def outage_of(error: BaseException) -> Outage | None:
    """The kind of outage ``error`` (or what it was raised from) says the database is in; None if it is none."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        found = _outage(current)
        if found is not None:
            return found
        current = current.__cause__ or current.__context__
    return None


def _outage(error: BaseException) -> Outage | None:
    if isinstance(error, exc.TimeoutError):  # no connection of the pool came free in time
        return Outage.BUSY
    if isinstance(error, exc.DBAPIError):
        if error.connection_invalidated:
            return Outage.UNREACHABLE
        return None if error.orig is None else _outage(error.orig)
    if isinstance(error, psycopg.OperationalError):
        state = error.sqlstate
        if state is None:
            # No SQLSTATE: the connection failed (refused, reset, closed) or the server refused it with FATAL.
            text = str(error)
            passing = "FATAL:" not in text or any(t in text for t in _FATAL_BUT_PASSING)
            return Outage.UNREACHABLE if passing else None
        if state.startswith(_UNREACHABLE_STATES):
            return Outage.UNREACHABLE
        return Outage.BUSY if state.startswith(_BUSY_STATES) else None
    if isinstance(error, psycopg.InterfaceError) and "closed" in str(error):
        return Outage.UNREACHABLE
    if isinstance(error, sqlite3.OperationalError):
        text = str(error).lower()
        if any(t in text for t in _SQLITE_BUSY):
            return Outage.BUSY
        if any(t in text for t in _SQLITE_UNREACHABLE):
            return Outage.UNREACHABLE
    return None
