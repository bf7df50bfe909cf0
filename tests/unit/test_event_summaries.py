"""What the sequencer indexes of an event (``summarise``) and what a redacted event keeps (``redacted``).

Both read an event's canonical bytes directly; the bytes below are written out,
not produced by ``Event``, so the tests hold whatever ``Event`` does.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from share_gateway.domain.events import EventSummary, redacted, summarise

INQUIRY = (
    b'{"actor":"sgw://institution/91110000MA0000001L","at":"2026-11-26T10:00:00.000001Z","citations":[],'
    b'"details":{"consent_reference":"AUTH-1"},"id":"e-1","kind":"inquiry","node":"110000","outcome":"allowed",'
    b'"purpose":"loan_underwriting","reason":"","records":[{"fields":["penalty"],"id":"r-1","origin":"110000",'
    b'"type":"administrative_penalty"}],"subject":{"id":"91110105MA01ABCD00","kind":"legal_entity"},"v":1}'
)
AUDIT = INQUIRY.replace(b'"subject":{"id":"91110105MA01ABCD00","kind":"legal_entity"}', b'"subject":null')


def test_a_summary_holds_the_fields_the_log_is_searched_by() -> None:
    assert summarise(INQUIRY) == EventSummary(
        event_id="e-1",
        kind="inquiry",
        at=datetime(2026, 11, 26, 10, 0, 0, 1, tzinfo=UTC),
        node="110000",
        actor="sgw://institution/91110000MA0000001L",
        subject_kind="legal_entity",
        subject_id="91110105MA01ABCD00",
        purpose="loan_underwriting",
        outcome="allowed",
    )


def test_an_event_about_no_subject_is_summarised_without_one() -> None:
    summary = summarise(AUDIT)
    assert (summary.subject_kind, summary.subject_id, summary.event_id) == (None, None, "e-1")


@pytest.mark.parametrize(
    "data",
    [
        b'{"id":"e-1"}',
        INQUIRY.replace(b'"purpose"', b'"aim"'),
        INQUIRY.replace(b'"subject":{', b'"subject":[{').replace(b'"legal_entity"}', b'"legal_entity"}]'),
        b"[]",
    ],
    ids=["missing-fields", "no-purpose", "subject-not-an-object", "not-an-object"],
)
def test_bytes_that_are_no_event_are_refused_as_malformed(data: bytes) -> None:
    with pytest.raises(ValueError, match="malformed event"):
        summarise(data)


def test_a_summary_refuses_an_instant_in_another_form() -> None:
    with pytest.raises(ValueError, match="is not an instant"):
        summarise(INQUIRY.replace(b"10:00:00.000001Z", b"10:00:00+00:00"))


def test_a_redacted_event_keeps_what_happened_when_where_and_by_whom_and_nothing_about_the_subject() -> None:
    stub = redacted(INQUIRY, datetime(2031, 11, 27, 3, 0, tzinfo=UTC))
    assert stub == (
        b'{"actor":"sgw://institution/91110000MA0000001L","at":"2026-11-26T10:00:00.000001Z","id":"e-1",'
        b'"kind":"inquiry","node":"110000","outcome":"allowed","purpose":"loan_underwriting","redacted":true,'
        b'"redacted_on":"2031-11-27","v":1}'
    )


def test_a_redacted_event_keeps_only_the_kept_keys_it_has() -> None:
    partial = json.dumps({"id": "e-2", "kind": "audit", "subject": None}).encode()
    assert json.loads(redacted(partial, datetime(2031, 1, 1, tzinfo=UTC))) == {
        "id": "e-2",
        "kind": "audit",
        "redacted": True,
        "redacted_on": "2031-01-01",
    }
