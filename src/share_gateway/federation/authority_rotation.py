"""The authority's key rotation, as TUF rotates its root: the key in force signs a statement naming the next key,
and the next key signs it too.

A verifier pins the first authority key (``authority.pub``, handed out of band)
and follows the statements kept beside it (``rotations/0001.signed``, ...) in
order, each signed by the key the one before named. What it trusts at the end
is the last key alone: catalogs, manifests and revocation lists are re-signed
by it, and the old key (which may have leaked) signs nothing that is accepted.
The manifest the new key signs keeps every node's key history, so what nodes
signed before stays verifiable without the old manifests.

The statement is a C2SP signed note whose text is canonical JSON::

    {"v": 1, "type": "share-gateway/authority-rotation", "sequence": n,
     "old_key": base64, "new_key": base64, "at": instant}
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from share_gateway.catalog import AUTHORITY_KEY_NAME
from share_gateway.crypto.errors import VerificationError
from share_gateway.crypto.keys import KeyRing, SigningKey, VerifyingKey
from share_gateway.crypto.note import open_note, sign_note
from share_gateway.domain.canonical import Json, canonical_json, parse_json
from share_gateway.domain.errors import InvalidInput
from share_gateway.domain.events import format_instant, parse_instant

ROTATION_FORMAT = 1
ROTATION_TYPE = "share-gateway/authority-rotation"
ROTATIONS_DIRECTORY = "rotations"


class AuthorityRotationInvalid(VerificationError):
    """A rotation statement does not parse, does not follow the one before, or lacks a signature it needs."""


@dataclass(frozen=True)
class AuthorityRotation:
    sequence: int  # 1 for the first rotation from the pinned key, then one up each time
    old_key: VerifyingKey
    new_key: VerifyingKey
    at: datetime

    def __post_init__(self) -> None:
        if self.sequence < 1:
            raise AuthorityRotationInvalid("rotations are numbered from 1")
        if self.at.tzinfo is None:
            raise AuthorityRotationInvalid("a rotation happens at an instant with a time zone")
        if self.old_key.raw == self.new_key.raw:
            raise AuthorityRotationInvalid("a rotation names a new key")

    def text(self) -> str:
        body: dict[str, Json] = {
            "v": ROTATION_FORMAT,
            "type": ROTATION_TYPE,
            "sequence": self.sequence,
            "old_key": base64.b64encode(self.old_key.raw).decode(),
            "new_key": base64.b64encode(self.new_key.raw).decode(),
            "at": format_instant(self.at),
        }
        return canonical_json(body).decode() + "\n"

    @classmethod
    def parse(cls, text: str) -> AuthorityRotation:
        try:
            raw: dict[str, Any] = parse_json(text.encode())
            if raw["v"] != ROTATION_FORMAT or raw["type"] != ROTATION_TYPE:
                raise AuthorityRotationInvalid(f"not an authority rotation of format {ROTATION_FORMAT}")
            return cls(int(raw["sequence"]), _key(raw["old_key"]), _key(raw["new_key"]), parse_instant(raw["at"]))
        except (KeyError, TypeError, ValueError, AttributeError, binascii.Error, InvalidInput) as error:
            raise AuthorityRotationInvalid(f"malformed authority rotation: {error}") from error


def _key(text: str) -> VerifyingKey:
    raw = base64.b64decode(text, validate=True)
    return VerifyingKey(AUTHORITY_KEY_NAME, Ed25519PublicKey.from_public_bytes(raw))


def sign_rotation(rotation: AuthorityRotation, old: SigningKey, new: SigningKey) -> bytes:
    """Signed by both keys: the old one hands over, the new one shows it is held."""
    if (old.verifying_key.raw, new.verifying_key.raw) != (rotation.old_key.raw, rotation.new_key.raw):
        raise AuthorityRotationInvalid("a rotation is signed by the keys it names")
    return sign_note(rotation.text(), old, new).encode()


def follow_rotations(pinned: VerifyingKey, statements: Sequence[bytes]) -> VerifyingKey:
    """The authority key in force after ``statements``, in order, starting from the key the verifier pins.

    1. Each statement is signed by the key in force (the pinned one, then each new one in turn).
    2. It is the next in sequence and names that key as the old one.
    3. It is signed by the new key it names as well.
    """
    current = pinned
    for sequence, statement in enumerate(statements, start=1):
        try:
            text, _ = open_note(statement, KeyRing([current]))
            rotation = AuthorityRotation.parse(text)
            if rotation.sequence != sequence or rotation.old_key.raw != current.raw:
                raise AuthorityRotationInvalid(f"it is not rotation {sequence} from the key in force")
            try:
                open_note(statement, KeyRing([rotation.new_key]))
            except VerificationError as error:
                raise AuthorityRotationInvalid(f"not signed by the new key it names: {error}") from error
        except VerificationError as error:
            raise AuthorityRotationInvalid(f"authority rotation {sequence}: {error}") from error
        current = rotation.new_key
    return current


def rotations_beside(pinned: Path) -> list[bytes]:
    """The rotation statements kept in ``rotations/`` beside the pinned key, in order of their file names."""
    directory = pinned.parent / ROTATIONS_DIRECTORY
    return [path.read_bytes() for path in sorted(directory.glob("*.signed"))] if directory.is_dir() else []


def authority_keys(pinned: Path) -> KeyRing:
    """What verifies the authority's documents: the key in force after following every rotation from ``pinned``."""
    key = VerifyingKey.from_pem(AUTHORITY_KEY_NAME, pinned.read_bytes())
    return KeyRing([follow_rotations(key, rotations_beside(pinned))])
