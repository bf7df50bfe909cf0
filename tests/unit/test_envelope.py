"""Signed envelopes over the DSSE pre-authentication encoding.

PAE vector: secure-systems-lab/dsse ``protocol.md`` ("DSSEv1 29
http://example.com/HelloWorld 11 hello world").
"""

from __future__ import annotations

import dataclasses

import pytest

from share_gateway.crypto.envelope import Envelope, pae
from share_gateway.crypto.errors import BadSignature, MalformedPayload, UnknownKey
from share_gateway.crypto.keys import KeyRing, SigningKey

TYPE = "application/vnd.example+json"
PAYLOAD = b'{"hello":"world"}'


@pytest.fixture
def key() -> SigningKey:
    return SigningKey.generate("origin-110000")


@pytest.fixture
def ring(key: SigningKey) -> KeyRing:
    return KeyRing([key.verifying_key])


@pytest.fixture
def envelope(key: SigningKey) -> Envelope:
    return Envelope.seal(key, TYPE, PAYLOAD)


def test_pae_matches_dsse_spec_example() -> None:
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


def test_pae_small_example_exact_bytes() -> None:
    assert pae("t/x", b"ab\x00c") == b"DSSEv1 3 t/x 4 ab\x00c"


def test_pae_counts_utf8_bytes_not_characters() -> None:
    assert pae("typ\u00e9", b"") == b"DSSEv1 5 typ\xc3\xa9 0 "


def test_pae_separates_type_and_body() -> None:
    """Moving bytes from the type into the body changes the encoding."""
    assert pae("a b", b"c") != pae("a", b"b c")


def test_seal_verify_round_trip(envelope: Envelope, key: SigningKey, ring: KeyRing) -> None:
    assert envelope.payload == PAYLOAD
    assert envelope.payload_type == TYPE
    assert envelope.key_id == key.key_id
    envelope.verify(ring, TYPE)
    # The signature is over the PAE, not the bare payload.
    key.verifying_key.verify(envelope.signature, pae(TYPE, PAYLOAD))
    with pytest.raises(BadSignature):
        key.verifying_key.verify(envelope.signature, PAYLOAD)


def test_open_returns_parsed_payload(envelope: Envelope, ring: KeyRing) -> None:
    assert envelope.open(ring, TYPE, lambda data: data.decode().upper()) == '{"HELLO":"WORLD"}'


def test_wrong_expected_payload_type_is_refused(envelope: Envelope, ring: KeyRing) -> None:
    with pytest.raises(MalformedPayload):
        envelope.verify(ring, "application/vnd.other+json")


def test_relabelled_payload_type_does_not_verify(envelope: Envelope, ring: KeyRing) -> None:
    """A signature made for one type cannot be replayed as another."""
    relabelled = dataclasses.replace(envelope, payload_type="application/vnd.other+json")
    with pytest.raises(BadSignature):
        relabelled.verify(ring, "application/vnd.other+json")


@pytest.mark.parametrize("index", [0, 31, 63])
def test_flipped_signature_byte_is_bad_signature(envelope: Envelope, ring: KeyRing, index: int) -> None:
    signature = bytearray(envelope.signature)
    signature[index] ^= 0x80
    with pytest.raises(BadSignature):
        dataclasses.replace(envelope, signature=bytes(signature)).verify(ring, TYPE)


def test_flipped_payload_byte_is_bad_signature(envelope: Envelope, ring: KeyRing) -> None:
    payload = bytearray(envelope.payload)
    payload[2] ^= 0x01
    with pytest.raises(BadSignature):
        dataclasses.replace(envelope, payload=bytes(payload)).verify(ring, TYPE)


def test_unknown_key_id_is_unknown_key(envelope: Envelope) -> None:
    stranger = SigningKey.generate("stranger")
    with pytest.raises(UnknownKey):
        envelope.verify(KeyRing([stranger.verifying_key]), TYPE)
    with pytest.raises(UnknownKey):
        envelope.verify(KeyRing(), TYPE)


def test_other_key_signature_under_trusted_key_id_is_bad_signature(envelope: Envelope, ring: KeyRing) -> None:
    forger = SigningKey.generate("forger")
    forged = dataclasses.replace(envelope, signature=forger.sign(pae(TYPE, PAYLOAD)))
    with pytest.raises(BadSignature):
        forged.verify(ring, TYPE)


def test_open_with_failing_parser_is_malformed_payload(envelope: Envelope, ring: KeyRing) -> None:
    def parse(data: bytes) -> int:
        raise ValueError(f"cannot parse {len(data)} bytes")

    with pytest.raises(MalformedPayload) as caught:
        envelope.open(ring, TYPE, parse)
    assert isinstance(caught.value.__cause__, ValueError)


@pytest.mark.parametrize("error", [KeyError("v"), TypeError("list indices")])
def test_open_maps_other_parse_errors(envelope: Envelope, ring: KeyRing, error: Exception) -> None:
    def parse(_: bytes) -> int:
        raise error

    with pytest.raises(MalformedPayload):
        envelope.open(ring, TYPE, parse)


def test_open_verifies_before_parsing(envelope: Envelope) -> None:
    parsed: list[bytes] = []
    with pytest.raises(UnknownKey):
        envelope.open(KeyRing(), TYPE, parsed.append)
    assert parsed == []
