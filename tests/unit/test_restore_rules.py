"""Which acknowledgement of a restore covers which loss (``gateway.restore.LostCheckpoint.covered_by``)."""

from __future__ import annotations

from datetime import UTC, datetime

from share_gateway.domain.events import Event, EventKind, Outcome
from share_gateway.gateway.restore import LostCheckpoint


def lost(size: int, local_size: int) -> LostCheckpoint:
    return LostCheckpoint("310000", size, bytes(32), local_size, "behind")


def test_an_acknowledgement_covers_the_same_loss_and_the_log_grown_on_since() -> None:
    acknowledged = lost(12, 7)
    assert lost(12, 7).covered_by(acknowledged)
    assert lost(12, 30).covered_by(acknowledged), "restarted after serving on: the witness still holds 12"
    assert lost(9, 7).covered_by(acknowledged), "a witness that had cosigned less"


def test_an_acknowledgement_does_not_cover_a_later_restore_to_an_older_point_or_a_larger_loss() -> None:
    acknowledged = lost(12, 7)
    assert not lost(12, 5).covered_by(acknowledged)
    assert not lost(15, 7).covered_by(acknowledged)


def test_the_evidence_survives_its_event() -> None:
    found = LostCheckpoint("310000", 12, bytes(range(32)), 7, "it cosigned size 12, this log holds 7 leaves", b"note")
    event = Event(
        "id",
        EventKind.RESTORE_REFUSED,
        datetime.now(UTC),
        "110000",
        "sgw://node/110000",
        Outcome.DENIED,
        details=found.details(),
    )
    assert LostCheckpoint.of(Event.from_bytes(event.canonical_bytes())) == found
