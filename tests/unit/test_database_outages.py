"""Issue 14: a database outage is UNAVAILABLE (retryable), never INTERNAL, and is logged once per kind and window."""

from __future__ import annotations

import logging
import sqlite3

import psycopg
import pytest
from google.rpc import code_pb2, error_details_pb2
from psycopg import errors as pg
from sqlalchemy import exc

from share_gateway.api.errors import DATABASE_UNAVAILABLE, status_for
from share_gateway.gateway.failures import FailureLog
from share_gateway.store.outages import Outage, outage_of


def wrapped(orig: Exception, invalidated: bool = False) -> exc.OperationalError:
    """As SQLAlchemy raises what the driver raised."""
    return exc.OperationalError("SELECT 1", {}, orig, connection_invalidated=invalidated)


REFUSED = psycopg.OperationalError(
    'connection failed: connection to server at "127.0.0.1", port 5432 failed: Connection refused'
)
NO_ROLE = psycopg.OperationalError(
    'connection failed: connection to server at "127.0.0.1", port 5432 failed: FATAL:  role "x" does not exist'
)
STARTING = psycopg.OperationalError("connection failed: ... failed: FATAL:  the database system is starting up")


@pytest.mark.parametrize(
    ("error", "outage"),
    [
        (REFUSED, Outage.UNREACHABLE),
        (wrapped(REFUSED), Outage.UNREACHABLE),
        (wrapped(pg.AdminShutdown("terminating connection due to administrator command")), Outage.UNREACHABLE),
        (wrapped(pg.ConnectionFailure("connection failure")), Outage.UNREACHABLE),
        (wrapped(STARTING), Outage.UNREACHABLE),
        (wrapped(psycopg.OperationalError("consuming input failed"), invalidated=True), Outage.UNREACHABLE),
        (wrapped(pg.QueryCanceled("canceling statement due to statement timeout")), Outage.BUSY),
        (exc.TimeoutError("QueuePool limit of size 8 overflow 8 reached"), Outage.BUSY),
        (wrapped(sqlite3.OperationalError("database is locked")), Outage.BUSY),
        (wrapped(sqlite3.OperationalError("unable to open database file")), Outage.UNREACHABLE),
    ],
)
def test_an_outage_is_told_by_its_kind(error: Exception, outage: Outage) -> None:
    assert outage_of(error) is outage


@pytest.mark.parametrize(
    "error",
    [
        wrapped(NO_ROLE),  # a fault of the configuration: waiting cannot mend it
        exc.IntegrityError("INSERT", {}, pg.UniqueViolation("duplicate key")),
        wrapped(sqlite3.OperationalError("no such table: events")),
        exc.ProgrammingError("SELECT", {}, pg.UndefinedColumn("column x does not exist")),
        ValueError("not a database error"),
    ],
)
def test_what_a_retry_cannot_mend_is_no_outage(error: Exception) -> None:
    assert outage_of(error) is None


def test_an_outage_raised_from_inside_another_error_is_still_an_outage() -> None:
    outer = RuntimeError("the step failed")
    outer.__cause__ = wrapped(REFUSED)
    assert outage_of(outer) is Outage.UNREACHABLE


def test_a_database_outage_is_unavailable_with_when_to_retry_and_an_internal_error_stays_internal() -> None:
    status = status_for(wrapped(pg.AdminShutdown("terminating connection due to administrator command")))
    assert status.code == code_pb2.UNAVAILABLE
    assert status.message == "the node's database is unreachable: retry"
    info, retry = error_details_pb2.ErrorInfo(), error_details_pb2.RetryInfo()
    assert status.details[0].Unpack(info)
    assert status.details[1].Unpack(retry)
    assert (info.reason, info.metadata["outage"]) == (DATABASE_UNAVAILABLE, "unreachable")
    assert retry.retry_delay.seconds == 1
    assert status_for(exc.IntegrityError("INSERT", {}, pg.UniqueViolation("duplicate key"))).code == code_pb2.INTERNAL


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "test.failures"]


def test_a_thousand_failures_of_one_kind_are_one_line_per_window(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    failures = FailureLog(logging.getLogger("test.failures"), window=60.0, clock=clock)
    caplog.set_level(logging.WARNING, "test.failures")
    for _ in range(1000):
        failures.failed("unreachable", "InquiryServicer.Inquire", wrapped(REFUSED))
        clock.now += 0.01  # ten seconds of failures
    assert len(lines(caplog)) == 1
    assert lines(caplog)[0].startswith("database unreachable: connection failed: connection to server at")
    assert "InquiryServicer.Inquire" in lines(caplog)[0]
    assert all(r.exc_info is None for r in caplog.records), "no traceback per failure"
    clock.now += 60.0
    failures.failed("unreachable", "sequencer", wrapped(REFUSED))
    assert len(lines(caplog)) == 2
    assert "(999 more since the last line)" in lines(caplog)[1]


def test_each_kind_is_logged_once_and_the_end_of_the_outage_once(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    failures = FailureLog(logging.getLogger("test.failures"), window=60.0, clock=clock)
    caplog.set_level(logging.WARNING, "test.failures")
    failures.recovered()
    assert lines(caplog) == [], "nothing failed: nothing to say"
    for _ in range(10):
        failures.failed("unreachable", "call", wrapped(REFUSED))
        failures.failed("busy", "call", exc.TimeoutError("QueuePool limit"))
    assert failures.failing
    failures.recovered()
    failures.recovered()
    assert len(lines(caplog)) == 3
    assert lines(caplog)[2] == "database answers again after 20 failed calls and steps (busy, unreachable)"
    assert not failures.failing
