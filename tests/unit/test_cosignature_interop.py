"""Interop with c2sp.org/tlog-cosignature: the byte layout is written out here by hand, not taken from the project.

Ed25519 cosignature/v1 (signature type 0x04):

* key ID     = SHA-256(<name> || 0x0A || 0x04 || 32-byte public key)[:4]
* signed     = "cosignature/v1\\n" || "time <decimal POSIX seconds>\\n" || <checkpoint body, final newline included>
* line       = U+2014 " " <name> " " base64(key ID || u64 big-endian timestamp || 64-byte Ed25519 signature) "\\n"

Ed25519 signatures are deterministic, so the project's line must equal the hand-built one byte for byte.
"""

from __future__ import annotations

import base64
import hashlib
import struct

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from share_gateway.crypto.cosignature import CosignerKey, cosign_checkpoint
from share_gateway.crypto.keys import SigningKey, VerifyingKey
from share_gateway.crypto.note import parse_note, sign_note
from share_gateway.ledger.cosignatures import Status, Witness, check_cosignatures

BODY = "share-gateway/node/110000\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
WITNESS_NAME = "share-gateway/witness/310000"
TIMESTAMP = 1679315147
PRIVATE = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
RAW_PUBLIC = PRIVATE.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def hand_key_id(name: str, raw_public: bytes) -> bytes:
    return hashlib.sha256(name.encode("utf-8") + b"\x0a" + b"\x04" + raw_public).digest()[:4]


def hand_message(body: str, timestamp: int) -> bytes:
    return b"cosignature/v1\x0a" + b"time " + str(timestamp).encode("ascii") + b"\x0a" + body.encode("utf-8")


def hand_line(name: str, private: Ed25519PrivateKey, body: str, timestamp: int) -> str:
    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    blob = hand_key_id(name, raw) + struct.pack(">Q", timestamp) + private.sign(hand_message(body, timestamp))
    return "\u2014 " + name + " " + base64.b64encode(blob).decode("ascii") + "\n"


def hand_verify(line: str, body: str, public: Ed25519PublicKey, name: str) -> int:
    """Check one signature line against the spec's layout with `cryptography` only; return its timestamp."""
    dash, signer, encoded = line.rstrip("\n").split(" ")
    assert dash == "\u2014"
    assert signer == name
    blob = base64.b64decode(encoded, validate=True)
    assert len(blob) == 4 + 8 + 64
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert blob[:4] == hand_key_id(name, raw)
    (timestamp,) = struct.unpack(">Q", blob[4:12])
    public.verify(blob[12:], hand_message(body, timestamp))  # raises InvalidSignature otherwise
    return int(timestamp)


def witness() -> Witness:
    return Witness("310000", (CosignerKey(WITNESS_NAME, PRIVATE.public_key()),))


def test_the_projects_cosignature_is_the_spec_layout_byte_for_byte() -> None:
    project = cosign_checkpoint(BODY, SigningKey(WITNESS_NAME, PRIVATE), TIMESTAMP).line()
    assert project == hand_line(WITNESS_NAME, PRIVATE, BODY, TIMESTAMP)
    assert hand_verify(project, BODY, PRIVATE.public_key(), WITNESS_NAME) == TIMESTAMP
    # The key id is the type-0x04 one, never the plain note key id (type 0x01) of the same key.
    assert CosignerKey(WITNESS_NAME, PRIVATE.public_key()).key_id == hand_key_id(WITNESS_NAME, RAW_PUBLIC)
    assert VerifyingKey(WITNESS_NAME, PRIVATE.public_key()).key_id != hand_key_id(WITNESS_NAME, RAW_PUBLIC)


def test_a_cosignature_built_by_hand_verifies_with_the_projects_verifier() -> None:
    log_key = SigningKey.generate("share-gateway/node/110000")
    note = sign_note(BODY, log_key).encode() + hand_line(WITNESS_NAME, PRIVATE, BODY, TIMESTAMP).encode()
    witnessing = check_cosignatures(note, [witness()])
    assert witnessing.valid == {"310000"}
    assert [(c.status, c.timestamp) for c in witnessing.cosigned] == [(Status.VALID, TIMESTAMP)]
    assert witnessing.shortfall(1) == ""


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda blob: blob[:4] + struct.pack(">Q", TIMESTAMP + 1) + blob[12:], id="timestamp"),
        pytest.param(lambda blob: blob[:-1] + bytes([blob[-1] ^ 1]), id="signature"),
        pytest.param(lambda blob: blob[:-1], id="truncated"),
    ],
)
def test_a_changed_cosignature_is_invalid_and_named(change) -> None:  # type: ignore[no-untyped-def]
    dash, name, encoded = hand_line(WITNESS_NAME, PRIVATE, BODY, TIMESTAMP).rstrip("\n").split(" ")
    changed = base64.b64encode(change(base64.b64decode(encoded))).decode()
    note = sign_note(BODY, SigningKey.generate("share-gateway/node/110000")).encode()
    witnessing = check_cosignatures(note + f"{dash} {name} {changed}\n".encode(), [witness()])
    assert [c.witness for c in witnessing.invalid] == ["310000"]
    assert "310000" in witnessing.shortfall(1)


def test_a_plain_signature_by_the_witness_key_is_not_a_cosignature() -> None:
    """Without the cosignature/v1 header and timestamp (type 0x01), the witness key's signature does not count."""
    note = sign_note(BODY, SigningKey.generate("share-gateway/node/110000"), SigningKey(WITNESS_NAME, PRIVATE))
    witnessing = check_cosignatures(note.encode(), [witness()])
    assert witnessing.valid == frozenset()
    assert [c.status for c in witnessing.cosigned] == [Status.MISSING]


def test_a_legacy_log_key_cosignature_verifies_as_legacy_and_does_not_count() -> None:
    """Lines stored before cosignature/v1: a plain note signature by the peer's log key."""
    peer_log = SigningKey.generate("share-gateway/node/310000")
    note = sign_note(BODY, SigningKey.generate("share-gateway/node/110000"), peer_log).encode()
    legacy = Witness("310000", (CosignerKey(WITNESS_NAME, PRIVATE.public_key()),), peer_log.verifying_key)
    witnessing = check_cosignatures(note, [legacy])
    assert [c.status for c in witnessing.cosigned] == [Status.LEGACY]
    assert witnessing.shortfall(1).endswith("310000 (legacy)")
    forged = note.replace(b"20852163", b"20852164")
    assert [c.status for c in check_cosignatures(forged, [legacy]).cosigned] == [Status.INVALID]


def test_the_projects_note_parser_keeps_the_cosignature_bytes() -> None:
    note = sign_note(BODY, SigningKey.generate("share-gateway/node/110000")).encode()
    line = hand_line(WITNESS_NAME, PRIVATE, BODY, TIMESTAMP)
    parsed = parse_note(note + line.encode())
    assert parsed.signatures[-1].line() == line
