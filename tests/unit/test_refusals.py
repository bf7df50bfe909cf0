"""Counting refusals into windows (gateway/refusals.py), the clock in the test's hands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from share_gateway.config import FederationSettings, require_seconds
from share_gateway.domain.events import EventKind
from share_gateway.domain.principals import Identity, IdentityKind
from share_gateway.federation.messages import REPLAY_WINDOW
from share_gateway.gateway.refusals import RefusalTallies, Tally

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
WINDOW = timedelta(seconds=60)
SHANGHAI, GUANGDONG = Identity(IdentityKind.NODE, "310000"), Identity(IdentityKind.NODE, "440000")
PEER = EventKind.PEER_REFUSED


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def refusal(
    caller: Identity, reason: str, call: str, digest: str, second: float, detail: str = "", kind: EventKind = PEER
) -> Tally:
    return Tally(kind, caller, reason, at(second), digest, detail, at(second), digest, {call})


def count(tallies: RefusalTallies, caller: Identity, reason: str, call: str, digest: str, second: float) -> list[Tally]:
    return tallies.count(refusal(caller, reason, call, digest, second, "already answered"), at(second))


def test_the_first_refusal_is_logged_at_once_and_the_rest_of_its_window_as_one_tally() -> None:
    tallies = RefusalTallies(WINDOW)
    [first] = count(tallies, SHANGHAI, "REPLAYED", "Inquire", "d1", 0)
    assert (first.count, first.first_digest, first.detail) == (1, "d1", "already answered")
    for second, digest in ((10, "d2"), (59, "d3")):
        assert count(tallies, SHANGHAI, "REPLAYED", "Inquire", digest, second) == []
    assert count(tallies, SHANGHAI, "REPLAYED", "Revoke", "d4", 59.5) == []
    assert tallies.ended(at(59.9)) == []
    [held] = tallies.ended(at(60))
    assert (held.count, held.first_digest, held.last_digest) == (3, "d2", "d4")
    assert (held.first_at, held.last_at, held.calls) == (at(10), at(59.5), {"Inquire", "Revoke"})
    assert len(tallies) == 0


def test_a_window_that_held_nothing_back_ends_without_an_event() -> None:
    tallies = RefusalTallies(WINDOW)
    count(tallies, SHANGHAI, "REPLAYED", "Inquire", "d1", 0)
    assert tallies.ended(at(60)) == []
    assert len(tallies) == 0


def test_each_kind_caller_and_reason_has_its_own_window() -> None:
    tallies = RefusalTallies(WINDOW)
    assert len(count(tallies, SHANGHAI, "REPLAYED", "Inquire", "a", 0)) == 1
    assert len(count(tallies, SHANGHAI, "CATALOG_MISMATCH", "Inquire", "b", 30)) == 1
    assert len(count(tallies, GUANGDONG, "REPLAYED", "Inquire", "c", 30)) == 1
    revoked = refusal(SHANGHAI, "REPLAYED", "", "", 30, kind=EventKind.CERTIFICATE_REFUSED)
    assert tallies.count(revoked, at(30)) == [revoked]
    assert count(tallies, SHANGHAI, "REPLAYED", "Inquire", "a2", 40) == []
    assert len(tallies) == 4


def test_a_refusal_after_its_window_ended_logs_what_the_window_held_and_opens_the_next() -> None:
    tallies = RefusalTallies(WINDOW)
    count(tallies, SHANGHAI, "REPLAYED", "Inquire", "a", 0)
    count(tallies, SHANGHAI, "REPLAYED", "Inquire", "b", 1)
    held, opening = count(tallies, SHANGHAI, "REPLAYED", "Inquire", "c", 61)
    assert (held.count, held.first_digest, opening.count, opening.first_digest) == (1, "b", 1, "c")
    count(tallies, SHANGHAI, "REPLAYED", "Inquire", "d", 62)
    assert [(t.first_digest, t.count) for t in tallies.drain()] == [("d", 1)]
    assert tallies.drain() == []


def test_a_flood_costs_two_events_per_window() -> None:
    tallies = RefusalTallies(WINDOW)
    logged = []
    for n in range(10_000):
        logged += count(tallies, SHANGHAI, "REPLAYED", "Inquire", f"d{n}", n / 1000)
    assert len(tallies) == 1
    logged += tallies.drain()
    assert [t.count for t in logged] == [1, 9_999]


def test_the_clock_skew_defaults_to_the_replay_window_and_settings_in_seconds_are_checked() -> None:
    assert FederationSettings.from_mapping({}).clock_skew == REPLAY_WINDOW
    assert FederationSettings.from_mapping({"clock_skew_seconds": 5}).clock_skew == timedelta(seconds=5)
    for bad in ({"clock_skew_seconds": 0}, {"clock_skew_seconds": -1}, {"clock_skew_seconds": float("nan")},
                {"clock_skew_seconds": 7200}, {"clock_skew_seconds": "60"}, {"clock_skew_seconds": True}):  # fmt: skip
        with pytest.raises(ValueError, match="federation"):
            FederationSettings.from_mapping(bad)
    with pytest.raises(ValueError, match=r"federation\.clock_skew: unknown setting"):
        FederationSettings.from_mapping({"clock_skew": 60})
    for value in (0, float("inf"), "60", True, 86401):
        with pytest.raises(ValueError, match="refusal_window_seconds must be a number of seconds"):
            require_seconds("refusal_window_seconds", value, 86400)
    require_seconds("refusal_window_seconds", 86400, 86400)
