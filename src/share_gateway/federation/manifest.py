"""The federation manifest: which nodes exist, where, with which keys, under which catalog.

Signed by the federation authority as a C2SP signed note whose text is
canonical JSON. A node accepts a manifest only when the signature holds and
its version is not lower than the one it holds (rollback protection, as in
TUF), and refuses federation traffic once it has expired (it fails closed,
as X-Road does with its global configuration).

Format 2 adds each node's witness key (c2sp.org/tlog-cosignature), distinct
from its log key; a format-1 manifest still parses, with no witness keys,
and so names no witnesses.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from share_gateway.config import node_key_name, witness_key_name
from share_gateway.crypto.cosignature import CosignerKey
from share_gateway.crypto.keys import KeyRing, SigningKey, VerifyingKey
from share_gateway.crypto.note import open_note, sign_note
from share_gateway.domain.canonical import canonical_json, parse_json
from share_gateway.domain.errors import DomainError, InvalidInput, InvalidState
from share_gateway.domain.events import format_instant, parse_instant
from share_gateway.domain.identifiers import validate_region
from share_gateway.domain.policy import Denial
from share_gateway.ledger.cosignatures import Witness

MANIFEST_FORMAT = 2  # written when any node has a witness key; format 1 otherwise, as before
READABLE_FORMATS = (1, 2)


class ManifestInvalid(DomainError):
    """The manifest does not parse, or breaks a rule of its format."""


class ManifestExpired(InvalidState):
    """The manifest in force has expired: federation traffic is refused until a new one is installed."""

    def __init__(self, message: str) -> None:
        # The reason a peer's courier reads: the whole node refuses for now, not this one item.
        super().__init__(message, Denial.MANIFEST_EXPIRED.value)


@dataclass(frozen=True)
class ManifestNode:
    region: str
    endpoint: str
    signing_key: VerifyingKey
    # SHA-256 of the node's TLS certificate (DER), hex: what a peer's certificate must match.
    tls_fingerprint: str
    # The key this node cosigns its peers' checkpoints with (format 2); None: it witnesses nothing.
    witness_key: VerifyingKey | None = None

    def __post_init__(self) -> None:
        if self.witness_key is not None and self.witness_key.raw == self.signing_key.raw:
            raise ManifestInvalid(f"nodes.{self.region}: the witness key must not be the log key")

    def to_json(self) -> dict[str, str]:
        body = {
            "endpoint": self.endpoint,
            "signing_key": base64.b64encode(self.signing_key.raw).decode(),
            "tls_fingerprint": self.tls_fingerprint,
        }
        if self.witness_key is not None:
            body["witness_key"] = base64.b64encode(self.witness_key.raw).decode()
        return body

    def as_witness(self) -> Witness:
        """This node as a verifier sees it among a log's witnesses (its log key checks legacy lines)."""
        keys = () if self.witness_key is None else (CosignerKey.of(self.witness_key),)
        return Witness(self.region, keys, self.signing_key)


@dataclass(frozen=True)
class Manifest:
    version: int
    expires: datetime
    catalog_digest: str
    nodes: Mapping[str, ManifestNode]

    def __post_init__(self) -> None:
        if self.version < 1:
            raise ManifestInvalid("a manifest's version is at least 1")
        if self.expires.tzinfo is None:
            raise ManifestInvalid("a manifest expires at an instant with a time zone")
        # Signatures name their key by a 4-byte id: two keys under one id would let one region's key stand in
        # for another's wherever a verifier looks a key up by id (one key ring for the federation).
        keys = [k for node in self.nodes.values() for k in (node.signing_key, node.witness_key) if k is not None]
        ids = [key.key_id for key in keys]
        if len(set(ids)) != len(ids):
            raise ManifestInvalid("two keys of the manifest share a key id: each key must be told apart by its id")

    def text(self) -> str:
        witnessed = any(node.witness_key is not None for node in self.nodes.values())
        return (
            canonical_json(
                {
                    "v": MANIFEST_FORMAT if witnessed else 1,
                    "version": self.version,
                    "expires": format_instant(self.expires),
                    "catalog_digest": self.catalog_digest,
                    "nodes": {region: node.to_json() for region, node in sorted(self.nodes.items())},
                }
            ).decode()
            + "\n"
        )

    def require_current(self, now: datetime) -> None:
        if now >= self.expires:
            raise ManifestExpired(f"manifest version {self.version} expired at {format_instant(self.expires)}")

    def peers_of(self, region: str) -> tuple[str, ...]:
        """Every other region of the federation, in a stable order."""
        return tuple(sorted(r for r in self.nodes if r != region))

    def witnesses_of(self, region: str) -> tuple[Witness, ...]:
        """Every peer that can cosign ``region``'s checkpoints: each other node with a witness key."""
        return tuple(self.nodes[p].as_witness() for p in self.peers_of(region) if self.nodes[p].witness_key is not None)

    @property
    def keys(self) -> KeyRing:
        """Every node's payload key: what verifies a peer's statements, receipts and checkpoints."""
        return KeyRing(node.signing_key for node in self.nodes.values())

    @classmethod
    def parse(cls, text: str) -> Manifest:
        try:
            raw: dict[str, Any] = parse_json(text.encode())
            if raw["v"] not in READABLE_FORMATS:
                raise ManifestInvalid(f"unknown manifest format {raw['v']!r}")
            nodes = {region: _node(region, body, raw["v"]) for region, body in raw["nodes"].items()}
            return cls(
                int(raw["version"]), parse_instant(raw["expires"]), str(raw["catalog_digest"]), MappingProxyType(nodes)
            )
        except (KeyError, TypeError, ValueError, AttributeError, InvalidInput) as error:
            raise ManifestInvalid(f"malformed manifest: {error}") from error


def _public_key(region: str, body: Mapping[str, str], name: str) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(body[name], validate=True))
    except (binascii.Error, ValueError) as error:
        raise ManifestInvalid(f"nodes.{region}.{name} is not an Ed25519 public key") from error


def _node(region: str, body: Mapping[str, str], version: int) -> ManifestNode:
    validate_region(region, f"nodes.{region}")
    public = _public_key(region, body, "signing_key")
    fingerprint = body["tls_fingerprint"]
    if len(fingerprint) != 64 or any(c not in "0123456789abcdef" for c in fingerprint):
        raise ManifestInvalid(f"nodes.{region}.tls_fingerprint is not a hex SHA-256")
    witness = None
    if version >= 2 and "witness_key" in body:  # format 1 had none: whatever such a manifest holds there is not one
        witness = VerifyingKey(witness_key_name(region), _public_key(region, body, "witness_key"))
    return ManifestNode(region, body["endpoint"], VerifyingKey(node_key_name(region), public), fingerprint, witness)


@dataclass(frozen=True)
class SignedManifest:
    manifest: Manifest
    document: bytes
    digest: str


def sign_manifest(manifest: Manifest, authority: SigningKey) -> bytes:
    return sign_note(manifest.text(), authority).encode()


def open_manifest(document: bytes, authority: KeyRing) -> SignedManifest:
    """Verify the authority's signature, then parse; raise on either failure."""
    text, _ = open_note(document, authority)
    return SignedManifest(Manifest.parse(text), document, hashlib.sha256(text.encode()).hexdigest())
