"""The one check every request passes, and text made storable for the log."""

from __future__ import annotations

import pytest

from share_gateway.api.convert import request_from_wire, request_violations
from share_gateway.domain.errors import InvalidInput
from share_gateway.domain.text import storable, unstorable
from share_gateway.ledger.bundle import BundleEntry, BundleWriter, encode_bundle
from share_gateway.ledger.checkpoint import TlogProof
from share_gateway.v1 import inquiry_pb2, registry_pb2


@pytest.mark.parametrize("text", ["a\x00b", "\ud800", "ok\udfff"])
def test_nul_and_lone_surrogates_cannot_be_stored(text: str) -> None:
    assert unstorable(text) is not None
    assert unstorable(storable(text)) is None
    storable(text).encode("utf-8")


@pytest.mark.parametrize("text", ["", "plain", "贷款", "tab\tnew\nline", "\x01\x7f", "\U0001f600"])
def test_text_a_database_holds_is_left_alone(text: str) -> None:
    assert unstorable(text) is None
    assert storable(text) == text


def test_every_string_in_a_request_is_checked_by_its_path() -> None:
    request = registry_pb2.SubmitRecordRequest(record_type="penalty\x00")
    request.subject.identifier = "9111\x00"
    request.fields["amount"].money = "1\x00"
    request.fields["ok"].text = "fine"
    paths = {v.field for v in request_violations(request)}
    assert paths == {"record_type", "subject.identifier", "fields.amount.money"}


def test_a_map_key_that_cannot_be_stored_is_named_escaped() -> None:
    request = registry_pb2.SubmitRecordRequest()
    request.fields["a\x00"].text = "x"
    [violation] = request_violations(request)
    assert violation.field == "fields.a\\x00 (key)"


def test_an_undefined_enum_value_is_a_violation_not_a_default() -> None:
    request = inquiry_pb2.InquireRequest(scope=9)  # type: ignore[arg-type]
    [violation] = request_violations(request)
    assert violation.field == "scope"
    assert "INQUIRY_SCOPE_FEDERATION" in violation.description


@pytest.mark.parametrize("data", [b"\xff", b"\x0a\x05ab", b"\x12\x02\xc3\x28"])
def test_what_does_not_decode_is_invalid_input(data: bytes) -> None:
    with pytest.raises(InvalidInput) as raised:
        request_from_wire(inquiry_pb2.InquireRequest, data)
    assert [v.field for v in raised.value.violations] == ["request"]


def test_corrupted_requests_either_decode_to_a_checked_request_or_are_invalid_input() -> None:
    """Every one-byte corruption of a real request: never an exception other than ``InvalidInput``."""
    original = inquiry_pb2.InquireRequest(purpose="loan_underwriting", consent_reference="AUTH").SerializeToString()
    for position in range(len(original)):
        for value in (0x00, 0x80, 0xC3, 0xFF):
            data = original[:position] + bytes([value]) + original[position + 1 :]
            try:
                request = request_from_wire(inquiry_pb2.InquireRequest, data)
            except InvalidInput:
                continue
            assert request_violations(request) == []


def test_a_bundle_written_in_pages_is_the_bundle_written_at_once() -> None:
    proof = TlogProof(0, (b"\x01" * 32,), b"note\n")
    entries = [
        BundleEntry(i, TlogProof(i, proof.proof, proof.checkpoint), event=b"{}" if i % 3 else None, leaf_hash=b"h")
        for i in range(7)
    ]
    writer = BundleWriter("origin")
    pages = [writer.opening(), writer.entries(entries[:3]), writer.entries([]), writer.entries(entries[3:])]
    assert b"".join([*pages, writer.closing()]) == encode_bundle("origin", entries)
    assert writer.count == 7
    empty = BundleWriter("origin")
    assert empty.opening() + empty.closing() == encode_bundle("origin", [])
