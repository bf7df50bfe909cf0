"""Property-based fuzzing of what reads input from outside: the catalog parser, signed notes, record admission and
the request converters. Each property: the input becomes a domain object, or it is refused with our own error,
never with another exception (which would reach a caller as INTERNAL or UNKNOWN).

Bounded by a number of examples, not by time (``deadline=None``): the suite's duration is the same on any machine,
and a slow example on a busy machine is no failure. Hypothesis runs with its database off (``database=None``) so
that a run depends on nothing but the code; a failure prints the example to add as a plain test.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import pytest
import yaml
from google.protobuf import timestamp_pb2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from share_gateway.api.compliance import query_from_wire
from share_gateway.api.convert import draft_from_wire
from share_gateway.catalog import sample_catalog_text
from share_gateway.crypto.disclosure import verify_disclosure
from share_gateway.crypto.errors import VerificationError
from share_gateway.crypto.keys import KeyRing, SigningKey
from share_gateway.crypto.note import open_note, parse_note, sign_note
from share_gateway.domain.catalog import Catalog
from share_gateway.domain.errors import DomainError, InvalidInput
from share_gateway.domain.records import admit_record
from share_gateway.federation.wire import citation_from_wire, disclosure_from_wire, envelope_from_wire
from share_gateway.v1 import common_pb2 as pb
from share_gateway.v1 import compliance_pb2, registry_pb2

FUZZ = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
NOW = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
CATALOG = Catalog.from_yaml(sample_catalog_text())
KEY = SigningKey.generate("share-gateway/node/110000")
RING = KeyRing([KEY.verifying_key])

# Text a protobuf string can carry: any code point but a lone surrogate (protobuf refuses those itself).
wire_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
hostile_text = st.one_of(
    wire_text,
    st.sampled_from(["", " ", "\x00", "\u200b", "\u202e", "\x1b[31m", "9" * 400, "2026-02-30", "-1", "1e309", "NaN"]),
)


# --- the catalog parser ------------------------------------------------------------------------------------------

yaml_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), hostile_text)
yaml_documents = st.recursive(
    yaml_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.one_of(hostile_text, st.integers()), children, max_size=4)
    ),
    max_leaves=20,
)
SAMPLE_LINES = sample_catalog_text().splitlines()


def _parses_or_is_refused(text: str | bytes) -> None:
    with contextlib.suppress(DomainError):
        Catalog.from_yaml(text)


@FUZZ
@given(yaml_documents)
def test_any_yaml_document_is_a_catalog_or_refused_with_its_faults(document: object) -> None:
    _parses_or_is_refused(yaml.safe_dump(document, allow_unicode=True))


@FUZZ
@given(st.binary(max_size=200))
def test_any_bytes_are_a_catalog_or_refused_with_their_faults(data: bytes) -> None:
    _parses_or_is_refused(data)


@FUZZ
@given(st.integers(0, len(SAMPLE_LINES) - 1), hostile_text)
def test_the_sample_with_one_line_replaced_is_a_catalog_or_refused(index: int, replacement: str) -> None:
    lines = list(SAMPLE_LINES)
    indent = lines[index][: len(lines[index]) - len(lines[index].lstrip())]
    lines[index] = indent + replacement
    _parses_or_is_refused("\n".join(lines))


# --- signed notes ---------------------------------------------------------------------------------------------------


@FUZZ
@given(st.binary(max_size=300))
def test_any_bytes_are_a_note_or_refused(data: bytes) -> None:
    with contextlib.suppress(VerificationError):
        open_note(data, RING)


@FUZZ
@given(wire_text)
def test_a_signed_note_reads_back_and_any_change_to_its_text_is_caught(body: str) -> None:
    text = body.replace("\r", "") + "\n"
    if "\n\n" in text:
        return  # a blank line ends the text: such a text is not a note's
    data = sign_note(text, KEY).encode()
    assert open_note(data, RING) == (text, (KEY.verifying_key,))
    assert parse_note(data).encode() == data
    changed = ("x" + text).encode() + data[len(text.encode()) :]
    try:
        open_note(changed, RING)
    except VerificationError:
        return
    raise AssertionError("a changed text verified")


# --- record admission through the submission converter -----------------------------------------------------------

field_values = st.one_of(
    st.builds(lambda v: pb.FieldValue(text=v), hostile_text),
    st.builds(lambda v: pb.FieldValue(integer=v), st.integers(-(2**63), 2**63 - 1)),
    st.builds(lambda v: pb.FieldValue(money=v), hostile_text),
    st.builds(lambda v: pb.FieldValue(date=v), hostile_text),
    st.builds(lambda v: pb.FieldValue(boolean=v), st.booleans()),
    st.just(pb.FieldValue()),
)
field_names = st.one_of(
    st.sampled_from(sorted({n for t in CATALOG.record_types.values() for n in t.fields})), wire_text
)
documents = st.builds(
    pb.LegalDocument,
    number=hostile_text,
    issuer=hostile_text,
    kind=hostile_text,
    issued_on=st.one_of(hostile_text, st.just("2026-01-05")),
    effective_on=st.one_of(hostile_text, st.just("2026-01-05")),
)
submissions = st.builds(
    registry_pb2.SubmitRecordRequest,
    request_id=hostile_text,
    record_type=st.one_of(st.sampled_from(sorted(CATALOG.record_types)), hostile_text),
    subject=st.builds(
        pb.Subject,
        kind=st.integers(0, 3),
        identifier=st.one_of(st.sampled_from(["91110105MA01ABCD00", "11010519491231002X"]), hostile_text),
    ),
    fields=st.dictionaries(field_names, field_values, max_size=8),
    legal_document=st.one_of(st.none(), documents),
    severity=st.one_of(st.sampled_from(["minor", "general", "serious"]), hostile_text),
    disclosure_days=st.one_of(st.none(), st.integers(0, 2**32 - 1)),
)


@FUZZ
@given(submissions)
def test_any_submission_is_admitted_or_refused_field_by_field(request: registry_pb2.SubmitRecordRequest) -> None:
    try:
        draft = draft_from_wire(request)
        record = admit_record(CATALOG, draft, record_id="r-1", origin_region="110000", submitted_by="x", now=NOW)
    except DomainError:
        return
    kind = CATALOG.record_types[record.record_type]
    assert set(record.fields) <= set(kind.fields)
    assert {n for n, spec in kind.fields.items() if spec.required} <= set(record.fields)


# --- the other request converters ----------------------------------------------------------------------------------

timestamps = st.builds(timestamp_pb2.Timestamp, seconds=st.integers(-(2**63), 2**63 - 1), nanos=st.integers(0, 10**9))
event_filters = st.builds(
    compliance_pb2.EventFilter,
    actor=hostile_text,
    subject_identifier=hostile_text,
    purpose=hostile_text,
    outcome=hostile_text,
    kind=hostile_text,
    since=st.one_of(st.none(), timestamps),
    until=st.one_of(st.none(), timestamps),
)


@FUZZ
@given(event_filters)
def test_any_event_filter_is_a_query_or_refused(wire: compliance_pb2.EventFilter) -> None:
    with contextlib.suppress(DomainError):
        query_from_wire(wire)


envelopes = st.builds(
    pb.SignedEnvelope,
    payload=st.binary(max_size=80),
    payload_type=hostile_text,
    key_id=st.one_of(hostile_text, st.just(KEY.key_id.hex())),
    signature=st.binary(max_size=80),
)
disclosures = st.builds(
    pb.RecordDisclosure,
    statement=envelopes,
    fields=st.lists(st.builds(pb.FieldDisclosure, name=hostile_text, value=hostile_text, salt=st.binary(max_size=20))),
)


@FUZZ
@given(disclosures, st.builds(pb.Citation, rule=hostile_text, legal_basis=hostile_text))
def test_any_disclosure_or_citation_converts_and_a_forged_one_never_verifies(
    wire: pb.RecordDisclosure, citation: pb.Citation
) -> None:
    assert citation_from_wire(citation).rule == citation.rule
    assert envelope_from_wire(wire.statement).payload == wire.statement.payload
    try:
        verify_disclosure(disclosure_from_wire(wire), RING)
    except VerificationError:
        return
    raise AssertionError("a disclosure nobody signed verified")


def test_a_filter_bound_beyond_the_year_9999_is_the_caller_s_error() -> None:
    """Found by the fuzzing above: ToDatetime raised ValueError, which reached the officer as INTERNAL."""
    wire = compliance_pb2.EventFilter(until=timestamp_pb2.Timestamp(seconds=253402300800))
    with pytest.raises(InvalidInput) as refused:
        query_from_wire(wire)
    assert [v.field for v in refused.value.violations] == ["filter.until"]
