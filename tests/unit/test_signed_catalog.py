"""The catalog as YAML inside a signed note: installed only under the authority's signature."""

from __future__ import annotations

import hashlib

import pytest

from share_gateway.catalog import AUTHORITY_KEY_NAME, open_catalog, sample_catalog_text, sign_catalog
from share_gateway.crypto.errors import BadSignature, UnknownKey
from share_gateway.crypto.keys import KeyRing, SigningKey
from share_gateway.crypto.note import MalformedNote, cosign, parse_note
from share_gateway.domain.errors import CatalogInvalid


@pytest.fixture(scope="module")
def authority() -> SigningKey:
    return SigningKey.generate(AUTHORITY_KEY_NAME)


@pytest.fixture(scope="module")
def trusted(authority: SigningKey) -> KeyRing:
    return KeyRing([authority.verifying_key])


@pytest.fixture(scope="module")
def text() -> str:
    return sample_catalog_text()


@pytest.fixture(scope="module")
def document(text: str, authority: SigningKey) -> bytes:
    return sign_catalog(text, authority)


def test_sign_open_round_trip(document: bytes, text: str, trusted: KeyRing) -> None:
    assert text.endswith("\n")
    signed = open_catalog(document, trusted)
    assert signed.catalog.version == 1
    assert "administrative_penalty" in signed.catalog.record_types
    assert signed.document == document
    assert signed.digest == hashlib.sha256(text.encode()).hexdigest()
    assert document.startswith(text.encode())


def test_document_is_a_signed_note_by_the_authority(document: bytes, authority: SigningKey) -> None:
    note = parse_note(document)
    assert [(s.name, s.key_id) for s in note.signatures] == [(AUTHORITY_KEY_NAME, authority.key_id)]


def test_text_without_final_newline_gets_one(text: str, authority: SigningKey, trusted: KeyRing) -> None:
    signed = open_catalog(sign_catalog(text.rstrip("\n"), authority), trusted)
    assert signed.digest == hashlib.sha256(text.rstrip("\n").encode() + b"\n").hexdigest()


def test_unsigned_yaml_is_refused(text: str, trusted: KeyRing) -> None:
    with pytest.raises(MalformedNote):
        open_catalog(text.encode(), trusted)


def test_tampered_yaml_is_bad_signature(document: bytes, trusted: KeyRing) -> None:
    tampered = document.replace(b"version: 1\n", b"version: 2\n", 1)
    assert tampered != document
    with pytest.raises(BadSignature):
        open_catalog(tampered, trusted)


def test_one_changed_character_in_a_legal_basis_is_bad_signature(document: bytes, trusted: KeyRing) -> None:
    index = document.index(b"Art. 48")
    tampered = document[:index] + b"Art. 49" + document[index + len(b"Art. 48") :]
    with pytest.raises(BadSignature):
        open_catalog(tampered, trusted)


def test_catalog_signed_by_another_key_is_unknown_key(text: str, trusted: KeyRing) -> None:
    impostor = SigningKey.generate(AUTHORITY_KEY_NAME)  # same name, other key
    with pytest.raises(UnknownKey):
        open_catalog(sign_catalog(text, impostor), trusted)
    stranger = SigningKey.generate("someone-else")
    with pytest.raises(UnknownKey):
        open_catalog(sign_catalog(text, stranger), trusted)


def test_witness_cosignature_does_not_hinder_opening(document: bytes, trusted: KeyRing, text: str) -> None:
    cosigned = cosign(parse_note(document), SigningKey.generate("witness")).encode()
    assert open_catalog(cosigned, trusted).digest == hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize(
    "invalid",
    ["version: 1\n", "version: [unclosed\n", "", "- just\n- a list\n"],
    ids=["incomplete", "not-yaml", "empty", "list"],
)
def test_sign_catalog_refuses_invalid_catalog(invalid: str, authority: SigningKey) -> None:
    with pytest.raises(CatalogInvalid):
        sign_catalog(invalid, authority)


def test_sign_catalog_refuses_catalog_with_unknown_reference(text: str, authority: SigningKey) -> None:
    broken = text.replace("requester_kinds: [utility]", "requester_kinds: [no_such_kind]", 1)
    assert broken != text
    with pytest.raises(CatalogInvalid):
        sign_catalog(broken, authority)
