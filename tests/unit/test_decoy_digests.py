"""Decoy digests (statement format 2): every statement of a type lists one count of digests, a decoy looks like
any digest and opens as nothing; statements signed in format 1, before decoys, still verify."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from share_gateway.crypto.disclosure import (
    DIGEST_BYTES,
    SALT_BYTES,
    STATEMENT_TYPE,
    Disclosure,
    FieldOpening,
    RecordStatement,
    SealedRecord,
    disclose,
    seal_record,
    verify_disclosure,
)
from share_gateway.crypto.envelope import Envelope
from share_gateway.crypto.errors import DigestMismatch
from share_gateway.crypto.keys import KeyRing, SigningKey, VerifyingKey
from share_gateway.domain.catalog import Catalog
from share_gateway.domain.records import Record
from tests.unit.test_disclosure import FIELDS, NOW, RECORD_TYPE, open_document_catalog
from tests.unit.test_disclosure import record as full_record  # noqa: F401  (a fixture)

OLD_FORMAT = Path(__file__).parent / "testdata" / "record_statement_v1.json"
ORIGIN = SigningKey.generate("share-gateway/node/110000")
RING = KeyRing([ORIGIN.verifying_key])
OPTIONAL = ("violation_facts", "penalty_amount")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return open_document_catalog()


def padded(record: Record, catalog: Catalog) -> SealedRecord:
    return seal_record(record, ORIGIN, pad_to=len(catalog.record_types[record.record_type].fields))


def without(record: Record, *names: str) -> Record:
    return replace(record, fields={name: value for name, value in record.fields.items() if name not in names})


def statement(sealed: SealedRecord) -> RecordStatement:
    return RecordStatement.from_bytes(sealed.statement.payload)


@pytest.mark.parametrize("absent", [(), ("violation_facts",), ("penalty_amount",), OPTIONAL])
def test_every_statement_of_a_type_lists_as_many_digests(
    full_record: Record,  # noqa: F811
    catalog: Catalog,
    absent: tuple[str, ...],
) -> None:
    sealed = padded(without(full_record, *absent), catalog)
    assert len(statement(sealed).digests) == len(catalog.record_types[RECORD_TYPE].fields) == len(FIELDS)
    assert len(sealed.openings) == len(FIELDS) - len(absent)
    verified = verify_disclosure(disclose(sealed, frozenset(FIELDS)), RING)
    assert set(verified.fields) == set(FIELDS) - set(absent)


def test_a_decoy_looks_like_a_digest_and_is_fresh_each_time(full_record: Record, catalog: Catalog) -> None:  # noqa: F811
    bare = without(full_record, *OPTIONAL)
    first, second = padded(bare, catalog), padded(bare, catalog)
    decoys = [statement(s).digests - {o.digest for o in s.openings.values()} for s in (first, second)]
    assert [len(d) for d in decoys] == [2, 2]
    assert all(len(d) == DIGEST_BYTES for d in statement(first).digests)
    assert decoys[0].isdisjoint(decoys[1]), "decoys are random, never derived from the record"
    assert statement(first).digests.isdisjoint(statement(second).digests)


def test_no_opening_matches_a_decoy(full_record: Record, catalog: Catalog) -> None:  # noqa: F811
    sealed = padded(without(full_record, *OPTIONAL), catalog)
    for name in OPTIONAL:
        forged = FieldOpening(name, full_record.fields[name], bytes(SALT_BYTES))
        with pytest.raises(DigestMismatch):
            verify_disclosure(Disclosure(sealed.statement, (forged,)), RING)


def test_padding_never_drops_a_field(full_record: Record) -> None:  # noqa: F811
    with pytest.raises(ValueError, match="cannot be padded"):
        seal_record(full_record, ORIGIN, pad_to=len(FIELDS) - 1)


def test_new_statements_are_padded_format_3_and_round_trip(full_record: Record, catalog: Catalog) -> None:  # noqa: F811
    sealed = padded(full_record, catalog)
    read = statement(sealed)
    assert (read.format, read.padded) == (3, True)
    assert read.to_bytes() == sealed.statement.payload
    assert json.loads(sealed.statement.payload)["v"] == 3
    assert read.recorded_at == NOW


def _old() -> tuple[Disclosure, KeyRing]:
    document: dict[str, Any] = json.loads(OLD_FORMAT.read_text())
    raw = {k: base64.b64decode(v) for k, v in document["statement"].items() if k != "payload_type"}
    envelope = Envelope(raw["payload"], document["statement"]["payload_type"], raw["key_id"], raw["signature"])
    openings = tuple(FieldOpening(o["name"], o["value"], base64.b64decode(o["salt"])) for o in document["openings"])
    key = VerifyingKey.from_pem(document["key_name"], document["public_key_pem"].encode())
    return Disclosure(envelope, openings), KeyRing([key])


def test_a_statement_signed_in_format_1_still_verifies_field_by_field() -> None:
    disclosure, keys = _old()
    verified = verify_disclosure(disclosure, keys)
    assert (verified.statement.format, verified.statement.padded) == (1, False)
    assert len(verified.statement.digests) == len(verified.fields) == 5
    assert verified.fields["party_name"] == "Beijing Sample Dairy Trading Co"
    assert verified.statement.to_bytes() == disclosure.statement.payload, "re-encoded in format 1, byte for byte"
    alone = Disclosure(disclosure.statement, disclosure.fields[:1])
    assert list(verify_disclosure(alone, keys).fields) == [disclosure.fields[0].name]
    assert disclosure.statement.payload_type == STATEMENT_TYPE


def test_a_publication_is_complete_by_its_count_in_format_1_and_by_the_required_fields_in_format_2(
    full_record: Record,  # noqa: F811
    catalog: Catalog,
) -> None:
    required = {n for n, spec in catalog.record_types[RECORD_TYPE].fields.items() if spec.required}
    old, keys = _old()
    assert verify_disclosure(old, keys).complete(required)
    assert not verify_disclosure(Disclosure(old.statement, old.fields[1:]), keys).complete(())
    sealed = padded(without(full_record, *OPTIONAL), catalog)
    assert verify_disclosure(disclose(sealed, frozenset(FIELDS)), RING).complete(required)
    assert not verify_disclosure(disclose(sealed, frozenset(required) - {"party_name"}), RING).complete(required)
