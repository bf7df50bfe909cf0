"""Canonical JSON and the events of the accountability log.

The canonical bytes of an event are what is stored, signed as a receipt and
(next) hashed into the Merkle log, so they must depend on the content only
and read back exactly; anything else is refused.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from share_gateway.domain.canonical import Json, canonical_json, parse_json
from share_gateway.domain.errors import Citation
from share_gateway.domain.events import (
    EVENT_FORMAT,
    DisclosedRecord,
    Event,
    EventKind,
    Outcome,
    format_instant,
    parse_instant,
)
from share_gateway.domain.identifiers import Subject, SubjectKind

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)

# --- canonical_json -------------------------------------------------------------------


def test_keys_are_sorted_at_every_level() -> None:
    value: Json = {"b": 1, "a": {"z": True, "m": None, "c": [3, 1, 2]}}
    assert canonical_json(value) == b'{"a":{"c":[3,1,2],"m":null,"z":true},"b":1}'


def test_no_insignificant_whitespace() -> None:
    encoded = canonical_json({"list": [1, 2, {"k": "v w"}], "n": None})
    assert encoded == b'{"list":[1,2,{"k":"v w"}],"n":null}'
    assert b": " not in encoded
    assert b", " not in encoded


def test_insertion_order_does_not_change_the_bytes() -> None:
    one = {"purpose": "loan_underwriting", "actor": "bank", "at": "t"}
    other = dict(reversed(list(one.items())))
    assert list(one) != list(other)
    assert canonical_json(one) == canonical_json(other)


def test_non_ascii_is_utf8_not_escaped() -> None:
    encoded = canonical_json({"机关": "北京市市场监督管理局"})
    assert encoded == '{"机关":"北京市市场监督管理局"}'.encode()
    assert b"\\u" not in encoded
    assert encoded.decode("utf-8") == '{"机关":"北京市市场监督管理局"}'


def test_quotes_backslashes_and_control_characters_are_escaped() -> None:
    assert canonical_json('say "hi"\\\n\t') == b'"say \\"hi\\"\\\\\\n\\t"'


def test_scalars_and_tuples() -> None:
    assert canonical_json(None) == b"null"
    assert canonical_json(True) == b"true"
    assert canonical_json(False) == b"false"
    assert canonical_json(-12345678901234567890) == b"-12345678901234567890"
    assert canonical_json(("a", 1)) == b'["a",1]'
    assert canonical_json({}) == b"{}"
    assert canonical_json([]) == b"[]"


@pytest.mark.parametrize(
    ("value", "where"),
    [
        (1.5, "$"),
        (1.0, "$"),
        (float("nan"), "$"),
        ({"amount": 1500.0}, "$.amount"),
        ({"a": [1, {"b": 0.1}]}, "$.a[1].b"),
    ],
    ids=["float", "integral-float", "nan", "in-object", "nested"],
)
def test_floats_are_refused_with_their_path(value: Any, where: str) -> None:
    with pytest.raises(TypeError) as error:
        canonical_json(value)
    assert str(error.value).startswith(f"{where}: ")


@pytest.mark.parametrize("value", [{1: "a"}, {"a": {None: 1}}, {("a",): 1}], ids=["int", "none-nested", "tuple"])
def test_non_string_keys_are_refused(value: Any) -> None:
    with pytest.raises(TypeError, match="keys must be strings"):
        canonical_json(value)


@pytest.mark.parametrize(
    "value",
    [Decimal("1.50"), b"bytes", {"a"}, date(2026, 1, 1), NOW, object()],
    ids=["decimal", "bytes", "set", "date", "datetime", "object"],
)
def test_other_types_are_refused(value: Any) -> None:
    with pytest.raises(TypeError):
        canonical_json({"v": value})


def test_parse_json_reads_canonical_json_back() -> None:
    value: Json = {"a": [1, "二", None, True], "b": {"c": -3}}
    assert parse_json(canonical_json(value)) == value


@pytest.mark.parametrize("data", [b'{"a":1.5}', b'{"a":1e3}', b"[0.0]"], ids=["fraction", "exponent", "zero"])
def test_parse_json_refuses_floats(data: bytes) -> None:
    with pytest.raises(ValueError):
        parse_json(data)


@pytest.mark.parametrize("data", [b'{"a":NaN}', b"[Infinity]", b"-Infinity"], ids=["nan", "infinity", "minus-infinity"])
def test_parse_json_refuses_non_finite_constants(data: bytes) -> None:
    """NaN and Infinity are floats too (and not JSON at all): refused like any float."""
    with pytest.raises(ValueError):
        parse_json(data)


def test_parse_json_refuses_invalid_utf8() -> None:
    with pytest.raises(ValueError):
        parse_json(b'"\xff"')


# --- instants ------------------------------------------------------------------------


def test_instants_are_rfc3339_utc_with_microseconds() -> None:
    assert format_instant(NOW) == "2026-11-26T10:00:00.000000Z"
    beijing = timezone(timedelta(hours=8))
    assert format_instant(datetime(2026, 11, 26, 18, 0, 0, 42, tzinfo=beijing)) == "2026-11-26T10:00:00.000042Z"
    assert parse_instant("2026-11-26T10:00:00.000042Z") == datetime(2026, 11, 26, 10, 0, 0, 42, tzinfo=UTC)


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        format_instant(datetime(2026, 11, 26, 10, 0))


# --- Events ---------------------------------------------------------------------------


def inquiry(**changes: Any) -> Event:
    event = Event(
        event_id="evt-0001",
        kind=EventKind.INQUIRY,
        at=NOW,
        node="sgw://node/110000",
        actor="sgw://institution/91110000MA0000001L",
        outcome=Outcome.ALLOWED,
        subject=Subject(SubjectKind.LEGAL_ENTITY, "91440300MA5ABCDE1H"),
        purpose="loan_underwriting",
        citations=(
            Citation("purpose/loan_underwriting", "Credit Reporting Industry Regulation Arts. 18 and 20"),
            Citation("record_type/administrative_penalty", "行政处罚法 第四十八条"),
        ),
        records=(
            DisclosedRecord("rec-0001", "administrative_penalty", "110000", ("decision_number", "penalty_amount")),
            DisclosedRecord("rec-0002", "business_registration", "440300"),
        ),
        details={"request_id": "req-7", "consent_reference": "同意书 LN-2026-0042"},
    )
    return dataclasses.replace(event, **changes)


def small_event() -> Event:
    return Event(
        event_id="e1",
        kind=EventKind.RECORD_WITHDRAWN,
        at=NOW,
        node="n",
        actor="a",
        outcome=Outcome.DENIED,
        reason="NO_GRANT",
    )


def test_event_canonical_bytes_are_fixed() -> None:
    """A golden vector: the byte layout of an event is part of the log format."""
    assert small_event().canonical_bytes() == (
        b'{"actor":"a","at":"2026-11-26T10:00:00.000000Z","citations":[],"details":{},"id":"e1",'
        b'"kind":"record_withdrawn","node":"n","outcome":"denied","purpose":"","reason":"NO_GRANT",'
        b'"records":[],"subject":null,"v":1}'
    )


def test_event_json_carries_every_field() -> None:
    doc = inquiry().to_json()
    assert doc["v"] == EVENT_FORMAT == 1
    assert doc["subject"] == {"kind": "legal_entity", "id": "91440300MA5ABCDE1H"}
    assert doc["records"][0] == {
        "id": "rec-0001",
        "type": "administrative_penalty",
        "origin": "110000",
        "fields": ["decision_number", "penalty_amount"],
    }
    assert doc["citations"][1] == {"rule": "record_type/administrative_penalty", "legal_basis": "行政处罚法 第四十八条"}
    assert doc["details"] == {"request_id": "req-7", "consent_reference": "同意书 LN-2026-0042"}


@pytest.mark.parametrize(
    "event",
    [
        inquiry(),
        small_event(),
        inquiry(subject=None, records=(), citations=(), details={}),
        inquiry(kind=EventKind.RECORD_SUBMITTED, outcome=Outcome.DENIED, reason="INVALID"),
        inquiry(at=datetime(2026, 11, 26, 10, 0, 0, 999999, tzinfo=UTC)),
    ],
    ids=["inquiry", "small", "empty-collections", "submitted-denied", "microseconds"],
)
def test_event_round_trips_through_its_canonical_bytes(event: Event) -> None:
    data = event.canonical_bytes()
    assert data == canonical_json(event.to_json())
    back = Event.from_bytes(data)
    assert back == event
    assert back.canonical_bytes() == data


def test_event_bytes_are_utf8_without_escapes() -> None:
    data = inquiry().canonical_bytes()
    assert "行政处罚法".encode() in data
    assert b"\\u" not in data


def test_event_time_in_another_zone_is_logged_in_utc() -> None:
    beijing = timezone(timedelta(hours=8))
    event = inquiry(at=datetime(2026, 11, 26, 18, 0, tzinfo=beijing))
    assert event.canonical_bytes() == inquiry().canonical_bytes()
    assert Event.from_bytes(event.canonical_bytes()).at == NOW


def test_naive_event_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        inquiry(at=datetime(2026, 11, 26, 10, 0))


def reencoded(event: Event, **dumps: Any) -> bytes:
    return json.dumps(event.to_json(), **dumps).encode()


@pytest.mark.parametrize(
    "data",
    [
        reencoded(inquiry(), sort_keys=True, ensure_ascii=False),  # ", " and ": " separators
        reencoded(inquiry(), sort_keys=True, indent=2, ensure_ascii=False),
        reencoded(inquiry(), sort_keys=False, separators=(",", ":"), ensure_ascii=False),
        reencoded(inquiry(), sort_keys=True, separators=(",", ":"), ensure_ascii=True),
        inquiry().canonical_bytes() + b"\n",
        b" " + inquiry().canonical_bytes(),
        inquiry().canonical_bytes().replace(b'{"actor"', b'{"actor":"x","actor"', 1),
    ],
    ids=[
        "default-separators",
        "indented",
        "unsorted-keys",
        "ascii-escaped",
        "trailing-newline",
        "leading-space",
        "duplicate-key",
    ],
)
def test_non_canonical_event_bytes_are_refused(data: bytes) -> None:
    assert data != inquiry().canonical_bytes()
    with pytest.raises(ValueError):
        Event.from_bytes(data)


def test_unsorted_keys_case_really_is_unsorted() -> None:
    assert reencoded(inquiry(), separators=(",", ":"), ensure_ascii=False).startswith(b'{"v":1,')


def test_unknown_event_format_is_refused() -> None:
    doc = small_event().to_json()
    doc["v"] = 2
    with pytest.raises(ValueError, match="unknown event format"):
        Event.from_bytes(canonical_json(doc))


def test_event_with_float_is_refused() -> None:
    data = small_event().canonical_bytes().replace(b'"v":1', b'"v":1.0')
    with pytest.raises(ValueError):
        Event.from_bytes(data)


def test_event_with_non_finite_constant_is_refused_as_value_error() -> None:
    """``from_bytes`` refuses bad bytes with ValueError; a NaN where a string belongs is bad bytes."""
    data = small_event().canonical_bytes().replace(b'"node":"n"', b'"node":NaN')
    assert data != small_event().canonical_bytes()
    with pytest.raises(ValueError):
        Event.from_bytes(data)


def test_events_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        inquiry().outcome = Outcome.DENIED  # type: ignore[misc]
