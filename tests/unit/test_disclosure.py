"""Verifiable selective disclosure (DESIGN section 5): every refusal and what reaches the wire."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, date, datetime

import pytest

from share_gateway.catalog import sample_catalog_text
from share_gateway.crypto.disclosure import (
    SALT_BYTES,
    STATEMENT_TYPE,
    Disclosure,
    FieldOpening,
    OpenedStatements,
    RecordStatement,
    SealedRecord,
    disclose,
    field_digest,
    seal_record,
    verify_disclosure,
)
from share_gateway.crypto.envelope import Envelope, pae
from share_gateway.crypto.errors import BadSignature, DigestMismatch, MalformedPayload, UnknownKey
from share_gateway.crypto.keys import KeyRing, SigningKey
from share_gateway.domain.catalog import Catalog, FieldType
from share_gateway.domain.catalog_provision import ANY_PROVISION
from share_gateway.domain.identifiers import SubjectKind
from share_gateway.domain.record_documents import LegalDocumentDraft
from share_gateway.domain.records import Record, RecordDraft, TypedValue, admit_record
from share_gateway.federation.wire import disclosure_from_wire, disclosure_to_wire
from share_gateway.v1 import common_pb2

NOW = datetime(2025, 6, 1, 9, 30, tzinfo=UTC)
RECORD_TYPE = "administrative_penalty"
PURPOSE = "utility_connection"  # necessity: violation_type, issuing_authority
FIELDS = {
    "decision_number": TypedValue(FieldType.STRING, "DCSJ-FA-2025-000731"),
    "party_name": TypedValue(FieldType.STRING, "Beijing Sample Dairy Trading Co"),
    "violation_type": TypedValue(FieldType.STRING, "Food safety: sale of expired goods"),
    "violation_facts": TypedValue(FieldType.STRING, "Sold 312 cartons of expired milk powder from the Fengtai depot"),
    "penalty": TypedValue(FieldType.STRING, "Fine and confiscation of unlawful gains"),
    "penalty_amount": TypedValue(FieldType.MONEY, "48250"),
    "issuing_authority": TypedValue(FieldType.STRING, "Dongcheng District Market Regulation Bureau"),
    "conduct_code": TypedValue(FieldType.STRING, "endangers_health_or_safety"),
}


def open_document_catalog() -> Catalog:
    """The sample, but a penalty's decision number need not be its document's: the document travels in the clear,
    and these tests check that withheld field values never do."""
    sample = Catalog.from_yaml(sample_catalog_text())
    penalty = dataclasses.replace(sample.record_types[RECORD_TYPE], provision=ANY_PROVISION)
    return dataclasses.replace(sample, record_types={**sample.record_types, RECORD_TYPE: penalty})


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return open_document_catalog()


@pytest.fixture(scope="module")
def record(catalog: Catalog) -> Record:
    draft = RecordDraft(
        record_type=RECORD_TYPE,
        subject_kind="legal_entity",
        subject_identifier="91110000MA0000001L",
        fields=FIELDS,
        legal_document=LegalDocumentDraft(
            number="JING-DONG-SCJG-2025-17",
            issuer="Dongcheng Bureau",
            kind="administrative_penalty_decision",
            issued_on="2025-05-10",
            effective_on="2025-05-12",
        ),
        severity="general",
    )
    return admit_record(
        catalog, draft, record_id="rec-0001", origin_region="110000", submitted_by="sgw://institution/x", now=NOW
    )


@pytest.fixture(scope="module")
def origin() -> SigningKey:
    return SigningKey.generate("node-110000")


@pytest.fixture(scope="module")
def ring(origin: SigningKey) -> KeyRing:
    return KeyRing([origin.verifying_key])


@pytest.fixture(scope="module")
def sealed(record: Record, origin: SigningKey) -> SealedRecord:
    return seal_record(record, origin)


@pytest.fixture(scope="module")
def allowed(catalog: Catalog) -> frozenset[str]:
    return catalog.record_types[RECORD_TYPE].necessity[PURPOSE]


@pytest.fixture
def disclosure(sealed: SealedRecord, allowed: frozenset[str]) -> Disclosure:
    return disclose(sealed, allowed)


def _opening(disclosure: Disclosure, name: str) -> FieldOpening:
    (opening,) = [o for o in disclosure.fields if o.name == name]
    return opening


def _with_fields(disclosure: Disclosure, fields: list[FieldOpening]) -> Disclosure:
    return dataclasses.replace(disclosure, fields=tuple(fields))


# --- the record we disclose ----------------------------------------------------------------------


def test_record_is_admitted_as_expected(record: Record, allowed: frozenset[str]) -> None:
    assert record.severity == "general"
    assert record.share_until == record.publish_until == date(2026, 5, 10)  # 365 days after the decision
    assert record.fields["penalty_amount"] == "48250.00"
    assert set(record.fields) == set(FIELDS)
    assert allowed == {"violation_type", "issuing_authority"}


# --- (a) what verifies ---------------------------------------------------------------------------


def test_disclosed_values_verify_and_only_allowed_fields_are_present(
    disclosure: Disclosure, ring: KeyRing, record: Record, allowed: frozenset[str]
) -> None:
    assert {o.name for o in disclosure.fields} == allowed
    verified = verify_disclosure(disclosure, ring)
    assert verified.fields == {name: record.fields[name] for name in allowed}
    assert verified.statement.record_id == record.record_id
    assert verified.statement.subject == record.subject
    assert verified.statement.subject.kind is SubjectKind.LEGAL_ENTITY
    assert verified.statement.legal_document == record.legal_document
    assert verified.statement.severity == "general"
    assert len(verified.statement.digests) == len(FIELDS)


def test_every_field_verifies_when_all_are_disclosed(sealed: SealedRecord, ring: KeyRing, record: Record) -> None:
    verified = verify_disclosure(disclose(sealed, frozenset(record.fields)), ring)
    assert verified.fields == dict(record.fields)


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_each_field_verifies_alone(sealed: SealedRecord, ring: KeyRing, record: Record, name: str) -> None:
    verified = verify_disclosure(disclose(sealed, frozenset({name})), ring)
    assert verified.fields == {name: record.fields[name]}


def test_nothing_disclosed_still_verifies_the_statement(sealed: SealedRecord, ring: KeyRing) -> None:
    verified = verify_disclosure(disclose(sealed, frozenset()), ring)
    assert verified.fields == {}


def test_disclose_skips_names_the_record_lacks(sealed: SealedRecord) -> None:
    assert [o.name for o in disclose(sealed, frozenset({"violation_type", "no_such_field"})).fields] == [
        "violation_type"
    ]


def test_salts_are_fresh_and_sized(sealed: SealedRecord) -> None:
    salts = [o.salt for o in sealed.openings.values()]
    assert all(len(s) == SALT_BYTES for s in salts)
    assert len(set(salts)) == len(salts)


def test_sealing_twice_gives_unlinkable_digests(record: Record, origin: SigningKey) -> None:
    first = RecordStatement.from_bytes(seal_record(record, origin).statement.payload)
    second = RecordStatement.from_bytes(seal_record(record, origin).statement.payload)
    assert first.digests.isdisjoint(second.digests)


# --- (b) what is refused -------------------------------------------------------------------------


def test_changed_value_is_digest_mismatch(disclosure: Disclosure, ring: KeyRing) -> None:
    opening = _opening(disclosure, "violation_type")
    changed = FieldOpening(opening.name, opening.value + " (minor)", opening.salt)
    others = [o for o in disclosure.fields if o.name != "violation_type"]
    with pytest.raises(DigestMismatch):
        verify_disclosure(_with_fields(disclosure, [changed, *others]), ring)


def test_value_moved_to_another_name_is_digest_mismatch(disclosure: Disclosure, ring: KeyRing) -> None:
    opening = _opening(disclosure, "violation_type")
    renamed = FieldOpening("issuing_authority", opening.value, opening.salt)
    with pytest.raises(DigestMismatch):
        verify_disclosure(_with_fields(disclosure, [renamed]), ring)


def test_swapped_salts_are_digest_mismatch(disclosure: Disclosure, ring: KeyRing) -> None:
    a, b = _opening(disclosure, "violation_type"), _opening(disclosure, "issuing_authority")
    assert a.salt != b.salt
    swapped = [FieldOpening(a.name, a.value, b.salt), FieldOpening(b.name, b.value, a.salt)]
    with pytest.raises(DigestMismatch):
        verify_disclosure(_with_fields(disclosure, swapped), ring)


@pytest.mark.parametrize("length", [0, SALT_BYTES - 1, SALT_BYTES + 1, 32])
def test_salt_of_wrong_length_is_malformed(disclosure: Disclosure, ring: KeyRing, length: int) -> None:
    opening = _opening(disclosure, "violation_type")
    salt = (opening.salt * 3)[:length]
    with pytest.raises(MalformedPayload):
        verify_disclosure(_with_fields(disclosure, [FieldOpening(opening.name, opening.value, salt)]), ring)


def test_field_disclosed_twice_is_malformed(disclosure: Disclosure, ring: KeyRing) -> None:
    opening = _opening(disclosure, "violation_type")
    with pytest.raises(MalformedPayload):
        verify_disclosure(_with_fields(disclosure, [*disclosure.fields, opening]), ring)


def test_statement_resigned_by_another_key_is_unknown_key(disclosure: Disclosure, ring: KeyRing) -> None:
    other = SigningKey.generate("node-310000")
    resigned = Envelope.seal(other, STATEMENT_TYPE, disclosure.statement.payload)
    with pytest.raises(UnknownKey):
        verify_disclosure(dataclasses.replace(disclosure, statement=resigned), ring)


def test_other_key_signature_under_trusted_key_id_is_bad_signature(
    disclosure: Disclosure, ring: KeyRing, origin: SigningKey
) -> None:
    other = SigningKey.generate("node-310000")
    statement = disclosure.statement
    forged = Envelope(
        statement.payload, STATEMENT_TYPE, origin.key_id, other.sign(pae(STATEMENT_TYPE, statement.payload))
    )
    with pytest.raises(BadSignature):
        verify_disclosure(dataclasses.replace(disclosure, statement=forged), ring)


@pytest.mark.parametrize("position", [0, 40, -3])
def test_modified_statement_byte_is_bad_signature(disclosure: Disclosure, ring: KeyRing, position: int) -> None:
    payload = bytearray(disclosure.statement.payload)
    payload[position] ^= 0x01
    tampered = dataclasses.replace(disclosure.statement, payload=bytes(payload))
    with pytest.raises(BadSignature):
        verify_disclosure(dataclasses.replace(disclosure, statement=tampered), ring)


def test_statement_with_another_payload_type_is_refused(disclosure: Disclosure, ring: KeyRing) -> None:
    relabelled = dataclasses.replace(disclosure.statement, payload_type="application/json")
    with pytest.raises(MalformedPayload):
        verify_disclosure(dataclasses.replace(disclosure, statement=relabelled), ring)


def test_signed_garbage_is_malformed_payload(ring: KeyRing, origin: SigningKey) -> None:
    for payload in (b"not json", b"[]", b'{"v": 2}', b'{"v": 1}'):
        statement = Envelope.seal(origin, STATEMENT_TYPE, payload)
        with pytest.raises(MalformedPayload):
            verify_disclosure(Disclosure(statement, ()), ring)


# --- (c) withheld fields never reach the wire ----------------------------------------------------


def test_withheld_fields_are_absent_from_wire_bytes(
    disclosure: Disclosure, record: Record, allowed: frozenset[str], ring: KeyRing
) -> None:
    wire = disclosure_to_wire(disclosure).SerializeToString()
    withheld = set(record.fields) - allowed
    assert withheld == {"decision_number", "party_name", "violation_facts", "penalty", "penalty_amount", "conduct_code"}
    # The record type is signed metadata and legitimately on the wire; "penalty" is a substring of it.
    scrubbed = wire.replace(RECORD_TYPE.encode(), b"")
    for name in withheld:
        assert name.encode() not in scrubbed, name
        assert record.fields[name].encode() not in wire, name
    for name in allowed:
        assert name.encode() in wire
        assert record.fields[name].encode() in wire
    # And the wire form still verifies after a round trip.
    parsed = common_pb2.RecordDisclosure.FromString(wire)
    assert verify_disclosure(disclosure_from_wire(parsed), ring).fields == {n: record.fields[n] for n in allowed}


def test_statement_payload_holds_no_field_values(sealed: SealedRecord, record: Record) -> None:
    payload = sealed.statement.payload
    for name, value in record.fields.items():
        assert value.encode() not in payload, name
        assert f'"{name}"'.encode() not in payload, name


# --- field digests and statement bytes -----------------------------------------------------------


def test_field_digest_is_length_prefixed() -> None:
    salt = bytes(range(SALT_BYTES))
    assert field_digest(salt, "ab", "c") != field_digest(salt, "a", "bc")
    assert field_digest(salt, "ab", "") != field_digest(salt, "a", "b")


def test_field_digest_encoding_exact() -> None:
    salt = bytes(range(SALT_BYTES))
    expected = hashlib.sha256(salt + b"\x00\x00\x00\x02ab" + b"\x00\x00\x00\x01c").digest()
    assert field_digest(salt, "ab", "c") == expected


def test_field_digest_lengths_count_utf8_bytes() -> None:
    salt = b"\x00" * SALT_BYTES
    value = "\u7f5a\u6b3e"  # two characters, six UTF-8 bytes
    expected = hashlib.sha256(salt + b"\x00\x00\x00\x01n" + b"\x00\x00\x00\x06" + value.encode()).digest()
    assert field_digest(salt, "n", value) == expected


def test_field_digest_depends_on_salt() -> None:
    assert field_digest(b"\x00" * SALT_BYTES, "n", "v") != field_digest(b"\x01" * SALT_BYTES, "n", "v")


def test_statement_bytes_round_trip(sealed: SealedRecord, record: Record) -> None:
    payload = sealed.statement.payload
    statement = RecordStatement.from_bytes(payload)
    assert statement.to_bytes() == payload
    assert RecordStatement.from_bytes(statement.to_bytes()) == statement
    assert statement.recorded_at == record.recorded_at
    assert statement.decided_on == record.decided_on
    assert (statement.publish_until, statement.share_until) == (record.publish_until, record.share_until)
    assert (statement.period_start, statement.period_days) == (record.period_start, record.period_days)
    assert statement.catalog_version == record.catalog_version
    assert statement.digests == frozenset(o.digest for o in sealed.openings.values())


def test_statement_without_optional_parts_round_trips(sealed: SealedRecord) -> None:
    statement = dataclasses.replace(
        RecordStatement.from_bytes(sealed.statement.payload),
        legal_document=None,
        severity=None,
        decided_on=None,
        period_start=None,
        period_days=None,
        publish_until=None,
        share_until=None,
        digests=frozenset(),
    )
    assert RecordStatement.from_bytes(statement.to_bytes()) == statement


# --- statements verified once (the asking node's cache of its peers' statements) -------------------


def test_a_statement_verified_once_is_not_believed_for_other_bytes_or_other_openings(
    disclosure: Disclosure, ring: KeyRing, origin: SigningKey
) -> None:
    opened: OpenedStatements = {}
    first = verify_disclosure(disclosure, ring, opened)
    assert len(opened) == 1
    assert verify_disclosure(disclosure, ring, opened) == first
    # The same payload under a signature that does not hold is verified afresh, and refused.
    other = SigningKey.generate("node-310000")
    statement = disclosure.statement
    forged = Envelope(
        statement.payload, STATEMENT_TYPE, origin.key_id, other.sign(pae(STATEMENT_TYPE, statement.payload))
    )
    with pytest.raises(BadSignature):
        verify_disclosure(dataclasses.replace(disclosure, statement=forged), ring, opened)
    # The same payload under another payload type is no statement.
    relabelled = dataclasses.replace(statement, payload_type="application/json")
    with pytest.raises(MalformedPayload):
        verify_disclosure(dataclasses.replace(disclosure, statement=relabelled), ring, opened)
    # A cached statement still checks every opening against its digests.
    opening = disclosure.fields[0]
    changed = dataclasses.replace(opening, value=opening.value + "x")
    with pytest.raises(DigestMismatch):
        verify_disclosure(_with_fields(disclosure, [changed, *disclosure.fields[1:]]), ring, opened)
    assert len(opened) == 1
