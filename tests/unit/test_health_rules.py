"""The rules health applies to the figures it reads (domain.health): pure, with the clock given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from share_gateway.domain.health import (
    LogLag,
    OutboxStanding,
    Standing,
    not_serving,
    outbox_finding,
    peer_finding,
    ready,
    sequencer_finding,
    serving,
    unknown,
    waiting_since,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def ago(seconds: float) -> datetime:
    return NOW - timedelta(seconds=seconds)


def test_the_sequencer_is_stalled_once_its_oldest_waiting_event_is_older_than_the_limit() -> None:
    assert sequencer_finding(LogLag(0, None), None, NOW, MINUTE).standing is Standing.SERVING
    assert sequencer_finding(LogLag(5, ago(60)), None, NOW, MINUTE).standing is Standing.SERVING
    stalled = sequencer_finding(LogLag(5, ago(61)), None, NOW, MINUTE)
    assert (stalled.standing, stalled.detail) == (
        Standing.NOT_SERVING,
        "5 events wait for the log, the oldest for 61 s",
    )


def test_the_sequencers_alarm_is_not_serving_whatever_the_lag() -> None:
    finding = sequencer_finding(LogLag(0, None), "stored tree does not extend checkpoint 7", NOW, MINUTE)
    assert finding.standing is Standing.NOT_SERVING
    assert finding.detail == "alarm: stored tree does not extend checkpoint 7"


def test_a_peer_waits_from_the_oldest_checkpoint_it_has_not_cosigned() -> None:
    # Newest first: (published at, cosigned by the peer).
    assert waiting_since([]) is None
    assert waiting_since([(ago(1), True), (ago(2), True)]) is None
    assert waiting_since([(ago(1), False), (ago(700), False), (ago(900), True)]) == ago(700)
    assert waiting_since([(ago(1), False), (ago(800), False)]) == ago(800), "none cosigned: a lower bound"
    limit = timedelta(seconds=600)
    assert peer_finding("310000", ago(700), NOW, limit).standing is Standing.NOT_SERVING
    assert peer_finding("310000", ago(10), NOW, limit).standing is Standing.SERVING
    assert peer_finding("310000", None, NOW, limit).name == "Peer.310000"


def test_outbox_and_readiness() -> None:
    hour = timedelta(hours=1)
    assert outbox_finding(OutboxStanding(3, 0, ago(3599)), NOW, hour).standing is Standing.SERVING
    assert outbox_finding(OutboxStanding(3, 0, ago(3601)), NOW, hour).standing is Standing.NOT_SERVING
    assert outbox_finding(OutboxStanding(0, 1, None), NOW, hour).standing is Standing.NOT_SERVING
    database = serving("Database", "answers")
    assert ready(database, []).serving
    assert not ready(database, ["manifest"]).serving
    assert ready(not_serving("Database", "refused"), []).detail == "database: refused"


def test_a_restore_behind_the_witnesses_makes_the_node_unready_and_one_not_yet_checked_does_not() -> None:
    database = serving("Database", "answers")
    behind = ready(database, [], not_serving("Restore", "restored behind what 310000 cosigned"))
    assert behind.standing is Standing.NOT_SERVING
    assert behind.detail == "restore: restored behind what 310000 cosigned"
    assert ready(database, [], unknown("Restore", "no witness answered yet")).serving
    assert ready(database, [], serving("Restore", "holds what its witnesses cosigned")).serving
