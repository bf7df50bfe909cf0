"""Counting peer refusals into windows (gateway/peer_refusals.py), the clock in the test's hands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from share_gateway.config import FederationSettings
from share_gateway.domain.principals import Identity, IdentityKind
from share_gateway.federation.messages import REPLAY_WINDOW
from share_gateway.gateway.peer_refusals import RefusalTallies

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
WINDOW = timedelta(seconds=60)
SHANGHAI, GUANGDONG = Identity(IdentityKind.NODE, "310000"), Identity(IdentityKind.NODE, "440000")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_refusals_of_one_reason_from_one_region_are_one_tally_with_their_count() -> None:
    tallies = RefusalTallies(WINDOW)
    for second, digest in ((0, "d1"), (10, "d2"), (59, "d3")):
        tallies.count(SHANGHAI, "REPLAYED", "Inquire", digest, "already answered", at(second))
    tallies.count(SHANGHAI, "REPLAYED", "Revoke", "d4", "later", at(59.5))
    assert tallies.ended(at(59.9)) == []
    [tally] = tallies.ended(at(60))
    assert (tally.count, tally.first_digest, tally.last_digest) == (4, "d1", "d4")
    assert (tally.first_at, tally.last_at, tally.calls, tally.detail) == (
        at(0),
        at(59.5),
        {"Inquire", "Revoke"},
        "already answered",
    )
    assert len(tallies) == 0


def test_each_region_and_reason_has_its_own_window() -> None:
    tallies = RefusalTallies(WINDOW)
    tallies.count(SHANGHAI, "REPLAYED", "Inquire", "a", "", at(0))
    tallies.count(SHANGHAI, "CATALOG_MISMATCH", "Inquire", "b", "", at(30))
    tallies.count(GUANGDONG, "REPLAYED", "Inquire", "c", "", at(30))
    assert [(t.caller, t.reason) for t in tallies.ended(at(60))] == [(SHANGHAI, "REPLAYED")]
    # A refusal after a window ended opens the next one.
    tallies.count(SHANGHAI, "REPLAYED", "Inquire", "d", "", at(61))
    assert sorted((t.caller.identifier, t.reason, t.count) for t in tallies.ended(at(90))) == [
        ("310000", "CATALOG_MISMATCH", 1),
        ("440000", "REPLAYED", 1),
    ]
    assert [(t.first_digest, t.count) for t in tallies.drain()] == [("d", 1)]
    assert tallies.drain() == []


def test_a_flood_costs_one_tally_and_a_short_detail() -> None:
    tallies = RefusalTallies(WINDOW)
    for n in range(10_000):
        tallies.count(SHANGHAI, "REPLAYED", "Inquire", f"d{n}", "x" * 1000, at(n / 1000))
    assert len(tallies) == 1
    [tally] = tallies.drain()
    assert (tally.count, len(tally.detail)) == (10_000, 200)


def test_the_clock_skew_defaults_to_the_replay_window_and_both_settings_are_checked() -> None:
    settings = FederationSettings.from_mapping({})
    assert settings.clock_skew == REPLAY_WINDOW
    assert settings.peer_refusal_window == timedelta(seconds=60)
    assert FederationSettings.from_mapping({"clock_skew_seconds": 5}).clock_skew == timedelta(seconds=5)
    for bad in ({"clock_skew_seconds": 0}, {"clock_skew_seconds": -1}, {"clock_skew_seconds": float("nan")},
                {"clock_skew_seconds": 7200}, {"clock_skew_seconds": "60"}, {"clock_skew_seconds": True},
                {"peer_refusal_window_seconds": 0}, {"peer_refusal_window_seconds": float("inf")}):  # fmt: skip
        with pytest.raises(ValueError, match="federation"):
            FederationSettings.from_mapping(bad)
    with pytest.raises(ValueError, match="unknown federation settings: clock_skew"):
        FederationSettings.from_mapping({"clock_skew": 60})
