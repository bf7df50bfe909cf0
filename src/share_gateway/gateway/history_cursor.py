"""The page token of "who looked at me": where each region's reading stands, signed by the node that issued it.

A token is opaque to the caller: the node's signature over (whom it was issued for, each region's
position). One the node did not sign, or signed for another caller, subject, purpose or scope, is
refused as INVALID_ARGUMENT; a position is only a place in the subject's own history, but nobody
should be able to invent one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from typing import Any

from share_gateway.crypto.envelope import Envelope
from share_gateway.crypto.errors import VerificationError
from share_gateway.crypto.keys import KeyRing, SigningKey
from share_gateway.domain.canonical import canonical_json, parse_json
from share_gateway.domain.errors import InvalidInput

CURSOR_TYPE = "application/vnd.share-gateway.history-cursor+json"
CURSOR_FORMAT = 1
_FIELD = "page_token"


@dataclass(frozen=True, slots=True)
class Position:
    """One region's place: entries of leaves below ``before`` remain (None: from the newest), read against
    a log of size ``below`` (None: not read yet) that held ``total`` entries; ``done`` once its last entry
    was shown."""

    before: int | None = None
    below: int | None = None
    done: bool = False
    total: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"before": self.before, "below": self.below, "done": self.done, "total": self.total}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Position:
        before, below, done, total = raw["before"], raw["below"], raw["done"], raw["total"]
        for value in (before, below, total):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                raise ValueError("a position is a non-negative integer")
        if not isinstance(done, bool):
            raise TypeError("done is true or false")
        return cls(before, below, done, total)


def reader_of(requester_uri: str, subject_kind: str, subject_id: str, purpose: str, federated: bool) -> str:
    """What a token is bound to: one caller reading one subject's history for one purpose, in one scope."""
    bound = "\n".join((requester_uri, subject_kind, subject_id, purpose, "federation" if federated else "local"))
    return hashlib.sha256(bound.encode()).hexdigest()


def issue(key: SigningKey, reader: str, positions: dict[str, Position]) -> str:
    payload = canonical_json(
        {"v": CURSOR_FORMAT, "for": reader, "regions": {r: p.to_json() for r, p in sorted(positions.items())}}
    )
    signed = Envelope.seal(key, CURSOR_TYPE, payload)
    return ".".join(base64.urlsafe_b64encode(part).decode().rstrip("=") for part in (payload, signed.signature))


def _decoded(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _positions(raw: dict[str, Any], reader: str) -> dict[str, Position]:
    if raw["v"] != CURSOR_FORMAT or raw["for"] != reader:
        raise ValueError("issued for another reading")
    return {str(r): Position.from_json(p) for r, p in raw["regions"].items()}


def redeem(key: SigningKey, reader: str, token: str, regions: frozenset[str]) -> dict[str, Position]:
    """The positions a token this node issued to ``reader`` holds, or ``InvalidInput`` on ``page_token``."""
    try:
        payload_text, signature_text = token.split(".")
        payload, signature = _decoded(payload_text), _decoded(signature_text)
        Envelope(payload, CURSOR_TYPE, key.key_id, signature).verify(KeyRing([key.verifying_key]), CURSOR_TYPE)
        positions = _positions(parse_json(payload), reader)
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error, VerificationError) as error:
        raise InvalidInput.one(_FIELD, "not a page token this node issued for this history") from error
    if not set(positions) <= regions:
        raise InvalidInput.one(_FIELD, "names a region that is not in the federation")
    return positions
