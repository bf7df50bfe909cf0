"""Witness cosignatures as c2sp.org/tlog-cosignature defines them (Ed25519, ``cosignature/v1``).

A cosignature is a signed-note signature line under the witness's own key
name, whose key id is ``SHA-256(name || 0x0A || 0x04 || public key)[:4]``
(signature type 0x04, so it never collides with the same key used as a plain
0x01 note key) and whose signature bytes are an 8-byte big-endian POSIX
timestamp followed by the Ed25519 signature of::

    cosignature/v1
    time <timestamp>
    <the whole checkpoint body>

The header line separates a witness's statement from anything else the key
could sign; the timestamp says when the witness saw this as the largest
consistent tree of the log.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from share_gateway.crypto.errors import BadSignature, UnknownKey
from share_gateway.crypto.keys import SigningKey, VerifyingKey, parse_verifier_key, typed_key_id, verifier_key
from share_gateway.crypto.note import MalformedNote, NoteSignature, parse_signature_line

COSIGNATURE_V1_TYPE = b"\x04"
HEADER = "cosignature/v1"
_TIMESTAMP_BYTES = 8
_ED25519_BYTES = 64
_MAX_TIMESTAMP = 2**63 - 1


def cosigner_key_id(name: str, raw_public: bytes) -> bytes:
    """The key id of an Ed25519 cosigner: what lets a verifier pick its line out of a note."""
    return typed_key_id(name, COSIGNATURE_V1_TYPE, raw_public)


def cosigned_message(text: str, timestamp: int) -> bytes:
    """The bytes a witness signs: header, time line, then the checkpoint body (signature lines excluded)."""
    if not 0 <= timestamp <= _MAX_TIMESTAMP:
        raise ValueError(f"a cosignature's timestamp is a POSIX time up to 2^63-1, not {timestamp}")
    return f"{HEADER}\ntime {timestamp}\n{text}".encode()


@dataclass(frozen=True)
class CosignerKey:
    """A witness's public key as a verifier holds it: its name and the Ed25519 key, used only for cosigning."""

    name: str
    public: Ed25519PublicKey
    # POSIX time the key was retired by a rotation (None: in force): a cosignature it makes from then on is refused.
    until: int | None = None

    @classmethod
    def of(cls, key: VerifyingKey, until: int | None = None) -> CosignerKey:
        return cls(key.name, key.public, until)

    @property
    def raw(self) -> bytes:
        return self.public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def key_id(self) -> bytes:
        return cosigner_key_id(self.name, self.raw)

    @property
    def verifier_key(self) -> str:
        """This witness key as a C2SP verifier key with signature type 0x04 (tlog-cosignature's Ed25519 form)."""
        return verifier_key(self.name, COSIGNATURE_V1_TYPE, self.raw)

    @classmethod
    def from_verifier_key(cls, vkey: str) -> CosignerKey:
        name, raw = parse_verifier_key(vkey, COSIGNATURE_V1_TYPE)
        return cls(name, Ed25519PublicKey.from_public_bytes(raw))

    def matches(self, signature: NoteSignature) -> bool:
        """Whether a signature line names this key (name and key id): only such a line is this witness's."""
        return signature.name == self.name and signature.key_id == self.key_id

    def verify(self, text: str, signature: NoteSignature) -> int:
        """The timestamp of this witness's valid cosignature over ``text``; raise if it is not one."""
        if not self.matches(signature):
            raise UnknownKey(f"the cosignature is by {signature.name!r} ({signature.key_id.hex()}), not {self.name!r}")
        blob = signature.signature
        if len(blob) != _TIMESTAMP_BYTES + _ED25519_BYTES:
            raise BadSignature(f"a cosignature by {self.name} is a timestamp and an Ed25519 signature (72 bytes)")
        timestamp = int.from_bytes(blob[:_TIMESTAMP_BYTES], "big")
        if timestamp > _MAX_TIMESTAMP:
            raise BadSignature(f"the cosignature by {self.name} has a timestamp beyond 2^63-1")
        try:
            self.public.verify(blob[_TIMESTAMP_BYTES:], cosigned_message(text, timestamp))
        except InvalidSignature as error:
            raise BadSignature(f"the cosignature by {self.name} does not verify") from error
        return timestamp


def cosign_checkpoint(text: str, key: SigningKey, timestamp: int) -> NoteSignature:
    """This witness's cosignature over a checkpoint body, as a signature line to append to the note."""
    if not text.endswith("\n"):
        raise MalformedNote("a checkpoint body ends with a newline")
    signature = key.sign(cosigned_message(text, timestamp))
    key_id = cosigner_key_id(key.name, CosignerKey.of(key.verifying_key).raw)
    return NoteSignature(key.name, key_id, timestamp.to_bytes(_TIMESTAMP_BYTES, "big") + signature)


def open_cosignature(text: str, line: str, key: CosignerKey) -> tuple[NoteSignature, int]:
    """A witness's answer (one signature line) checked against the key the federation lists for it."""
    signature = parse_signature_line(line)
    return signature, key.verify(text, signature)
