"""Ed25519 signing keys with C2SP signed-note key names and ids.

The key id is ``SHA-256(name || 0x0A || 0x01 || public key)[:4]``
(c2sp.org/signed-note, Ed25519 signature type 0x01). The same id names the
key in envelopes, so one key ring serves notes and envelopes alike.

A key is published as a C2SP verifier key (c2sp.org/signed-note, "vkey"):
``<name>+<key id, 8 hex digits>+<base64(signature type || public key)>``,
the form every note verifier (Go's ``sumdb/note``, the C2SP tools) takes
as it is, so an outsider never rebuilds a key id by hand.

A key ring may know when each key was in force (its ``KeyPeriod``): a key
replaced by a rotation keeps verifying what it signed before it was retired,
and is refused on anything dated after (it may have leaked since).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar, overload

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from share_gateway.crypto.errors import BadSignature, UnknownKey, VerificationError

ED25519_TYPE = b"\x01"
T = TypeVar("T")


def _check_name(name: str) -> str:
    if not name or any(c.isspace() or c == "+" for c in name):
        raise ValueError(f"key name {name!r} must be non-empty without spaces or '+'")
    return name


def typed_key_id(name: str, signature_type: bytes, raw: bytes) -> bytes:
    """``SHA-256(name || 0x0A || signature type || public key)[:4]``: the one key id rule of c2sp.org/signed-note."""
    return hashlib.sha256(name.encode() + b"\n" + signature_type + raw).digest()[:4]


def key_id(name: str, public: Ed25519PublicKey) -> bytes:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return typed_key_id(name, ED25519_TYPE, raw)


class MalformedVerifierKey(ValueError):
    """The text is not a C2SP verifier key of the expected type."""


def verifier_key(name: str, signature_type: bytes, raw: bytes) -> str:
    """The C2SP verifier key ``name+hex key id+base64(type || key)`` of a key used with ``signature_type``."""
    encoded = base64.b64encode(signature_type + raw).decode()
    return f"{_check_name(name)}+{typed_key_id(name, signature_type, raw).hex()}+{encoded}"


def parse_verifier_key(vkey: str, signature_type: bytes = ED25519_TYPE) -> tuple[str, bytes]:
    """The name and raw Ed25519 key of a verifier key of ``signature_type``; raise if its id does not match."""
    parts = vkey.strip().split("+", 2)  # a name holds no "+", the id neither; base64 may
    if len(parts) != 3 or len(parts[1]) != 8:
        raise MalformedVerifierKey(f"{vkey!r} is not name+keyid+key")
    name, stated, encoded = parts
    try:
        blob = base64.b64decode(encoded, validate=True)
        kid = bytes.fromhex(stated)
    except ValueError as error:
        raise MalformedVerifierKey(f"{vkey!r}: the key id is not hex or the key not base64") from error
    if len(blob) != 33 or blob[:1] != signature_type:
        raise MalformedVerifierKey(f"{vkey!r} is not an Ed25519 key of signature type 0x{signature_type.hex()}")
    if kid != typed_key_id(_check_name(name), signature_type, blob[1:]):
        raise MalformedVerifierKey(f"{vkey!r}: the key id does not match the name and key")
    return name, blob[1:]


@dataclass(frozen=True)
class VerifyingKey:
    name: str
    public: Ed25519PublicKey

    def __post_init__(self) -> None:
        _check_name(self.name)

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public)

    @property
    def raw(self) -> bytes:
        return self.public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def verifier_key(self) -> str:
        """This key as a C2SP verifier key for signed notes (signature type 0x01)."""
        return verifier_key(self.name, ED25519_TYPE, self.raw)

    @classmethod
    def from_verifier_key(cls, vkey: str) -> VerifyingKey:
        name, raw = parse_verifier_key(vkey)
        return cls(name, Ed25519PublicKey.from_public_bytes(raw))

    def verify(self, signature: bytes, message: bytes) -> None:
        try:
            self.public.verify(signature, message)
        except InvalidSignature as error:
            raise BadSignature(f"signature by {self.name} does not verify") from error

    def to_pem(self) -> bytes:
        return self.public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    @classmethod
    def from_pem(cls, name: str, pem: bytes) -> VerifyingKey:
        public = serialization.load_pem_public_key(pem)
        if not isinstance(public, Ed25519PublicKey):
            raise TypeError(f"{name}: not an Ed25519 public key")
        return cls(name, public)


@dataclass(frozen=True)
class SigningKey:
    name: str
    private: Ed25519PrivateKey

    def __post_init__(self) -> None:
        _check_name(self.name)
        # Computed once: every envelope names it, and deriving it costs more than the signature.
        object.__setattr__(self, "_key_id", key_id(self.name, self.private.public_key()))

    @classmethod
    def generate(cls, name: str) -> SigningKey:
        return cls(name, Ed25519PrivateKey.generate())

    @property
    def verifying_key(self) -> VerifyingKey:
        return VerifyingKey(self.name, self.private.public_key())

    @property
    def key_id(self) -> bytes:
        return self._key_id  # type: ignore[no-any-return,attr-defined]

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)

    def to_pem(self) -> bytes:
        return self.private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    @classmethod
    def from_pem(cls, name: str, pem: bytes) -> SigningKey:
        private = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(private, Ed25519PrivateKey):
            raise TypeError(f"{name}: not an Ed25519 private key")
        return cls(name, private)

    @classmethod
    def load(cls, name: str, path: Path) -> SigningKey:
        return cls.from_pem(name, path.read_bytes())


class KeyRetired(VerificationError):
    """A key signed something dated after it was retired."""


@dataclass(frozen=True)
class KeyPeriod:
    """When a key was in force: from ``start`` (None: since before anyone wrote it down) until ``until`` (None:
    still in force)."""

    start: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        if any(t is not None and t.tzinfo is None for t in (self.start, self.until)):
            raise ValueError("a key's period is bounded by instants with a time zone")
        if self.start is not None and self.until is not None and self.until <= self.start:
            raise ValueError("a key is retired after it came into force")

    def retired_by(self, instant: datetime) -> bool:
        """Whether ``instant`` is at or after the key's retirement.

        Only the end binds: a new key may sign what is dated before its start (a checkpoint over older leaves),
        while a retired key may since have leaked.
        """
        return self.until is not None and instant >= self.until


ALWAYS = KeyPeriod()


class KeyRing(Mapping[bytes, VerifyingKey]):
    """The keys a verifier trusts, by key id, and when each was in force (always, unless a period is given)."""

    def __init__(self, keys: Iterable[VerifyingKey] = (), periods: Mapping[bytes, KeyPeriod] | None = None) -> None:
        self._keys = {key.key_id: key for key in keys}
        self._periods = {kid: period for kid, period in (periods or {}).items() if kid in self._keys}

    def period(self, kid: bytes) -> KeyPeriod:
        return self._periods.get(kid, ALWAYS)

    def require_in_force(self, kid: bytes, made_at: datetime) -> None:
        """Raise ``KeyRetired`` if the key ``kid`` was retired by ``made_at`` (the signed thing's own time)."""
        until = self.period(kid).until
        if until is not None and made_at >= until:
            raise KeyRetired(
                f"signed by the key {kid.hex()} of {self[kid].name}, retired at {until.isoformat()}, "
                f"on something dated {made_at.isoformat()}"
            )

    def merged(self, *others: KeyRing) -> KeyRing:
        """This ring with the keys of ``others``; where two know one key, the later ring's period stands."""
        keys = dict(self._keys)
        periods = dict(self._periods)
        for other in others:
            keys.update(other._keys)
            for kid in other._keys:
                periods.pop(kid, None)
            periods.update(other._periods)
        return KeyRing(keys.values(), periods)

    def __getitem__(self, kid: bytes) -> VerifyingKey:
        try:
            return self._keys[kid]
        except KeyError:
            raise UnknownKey(f"no trusted key with id {kid.hex()}") from None

    def __contains__(self, kid: object) -> bool:
        # Mapping's default catches only KeyError; UnknownKey must not escape a membership test.
        return kid in self._keys

    @overload
    def get(self, kid: bytes, /) -> VerifyingKey | None: ...
    @overload
    def get(self, kid: bytes, /, default: VerifyingKey | T) -> VerifyingKey | T: ...
    def get(self, kid: bytes, /, default: object = None) -> object:
        return self._keys.get(kid, default)

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)
