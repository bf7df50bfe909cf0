"""Signed envelopes: bytes, their type, and an Ed25519 signature over both.

The signature covers the DSSE pre-authentication encoding
``"DSSEv1" SP len(type) SP type SP len(body) SP body`` (secure-systems-lab/dsse),
so a signature made for one payload type can never be replayed as another.
Verifiers check the bytes as received and parse only after the signature holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from share_gateway.crypto.errors import MalformedPayload
from share_gateway.crypto.keys import KeyRing, SigningKey

T = TypeVar("T")


def pae(payload_type: str, payload: bytes) -> bytes:
    kind = payload_type.encode()
    return b"DSSEv1 %d %b %d %b" % (len(kind), kind, len(payload), payload)


@dataclass(frozen=True, slots=True)
class Envelope:
    payload: bytes
    payload_type: str
    key_id: bytes
    signature: bytes

    @classmethod
    def seal(cls, key: SigningKey, payload_type: str, payload: bytes) -> Envelope:
        return cls(payload, payload_type, key.key_id, key.sign(pae(payload_type, payload)))

    def verify(self, keys: KeyRing, payload_type: str) -> None:
        """Raise unless the envelope holds ``payload_type`` signed by a key of ``keys``."""
        if self.payload_type != payload_type:
            raise MalformedPayload(f"expected a {payload_type}, got a {self.payload_type}")
        keys[self.key_id].verify(self.signature, pae(self.payload_type, self.payload))

    def open(self, keys: KeyRing, payload_type: str, parse: Callable[[bytes], T]) -> T:
        """Verify, then parse the payload; a parse failure is ``MalformedPayload``."""
        self.verify(keys, payload_type)
        try:
            return parse(self.payload)
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise MalformedPayload(f"{payload_type} does not parse: {error}") from error
