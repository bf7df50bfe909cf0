"""The federation manifest: which nodes exist, where, with which keys, under which catalog.

Signed by the federation authority as a C2SP signed note whose text is
canonical JSON. A node accepts a manifest only when the signature holds and
its version is not lower than the one it holds (rollback protection, as in
TUF), and refuses federation traffic once it has expired (it fails closed,
as X-Road does with its global configuration).

Format 2 adds each node's witness key (c2sp.org/tlog-cosignature), distinct
from its log key; a format-1 manifest still parses, with no witness keys,
and so names no witnesses.

Format 3 adds key history: per node, ``signing_keys`` and ``witness_keys``,
each a list of ``{"key", "from", "until"}`` oldest first, the last (the one
in force) without ``until``. A key replaced by a rotation stays listed, so
what it signed before its ``until`` keeps verifying, and what it signs dated
after is refused. A manifest with no history is still written as format 1
or 2, byte for byte as before.

Format 4 lists every key also as a C2SP verifier key: each entry of
``signing_keys`` (signature type 0x01, c2sp.org/signed-note) and of
``witness_keys`` (type 0x04, c2sp.org/tlog-cosignature) carries ``vkey``
beside ``key``, checked against it on reading, so an outsider holding only
the authority's key can take a log's key from the manifest and check its
checkpoints with any note verifier. A manifest is written as format 4 only
when it says so (``verifier_keys``; ``pki init`` does): those of formats
1 to 3 keep verifying, and re-signing one keeps its format.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any

from share_gateway.crypto.cosignature import CosignerKey
from share_gateway.crypto.keys import KeyPeriod, KeyRing, SigningKey, VerifyingKey
from share_gateway.crypto.note import open_note, sign_note
from share_gateway.domain.canonical import canonical_json, parse_json
from share_gateway.domain.errors import InvalidInput, InvalidState
from share_gateway.domain.events import format_instant, parse_instant
from share_gateway.domain.identifiers import validate_region
from share_gateway.domain.key_names import node_key_name, witness_key_name
from share_gateway.domain.policy import Denial
from share_gateway.federation.manifest_keys import (
    EarlierKey,
    ManifestInvalid,
    PublishedKey,
    check_sequence,
    history_json,
    key_b64,
    log_vkey,
    public_key,
    read_history,
    witness_vkey,
)
from share_gateway.ledger.cosignatures import Witness

# 4 when the manifest lists verifier keys; else 3 when any node has key history; 2 when any has a witness key; 1.
MANIFEST_FORMAT = 4
READABLE_FORMATS = (1, 2, 3, 4)
_VKEY_FORMAT = 4


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
    # Format 3: when the current keys came into force (None: before the manifest said), and the keys used before.
    signing_since: datetime | None = None
    witness_since: datetime | None = None
    earlier_signing: tuple[EarlierKey, ...] = ()
    earlier_witness: tuple[EarlierKey, ...] = ()

    def __post_init__(self) -> None:
        if self.witness_key is not None and self.witness_key.raw == self.signing_key.raw:
            raise ManifestInvalid(f"nodes.{self.region}: the witness key must not be the log key")
        if self.earlier_witness and self.witness_key is None:
            raise ManifestInvalid(f"nodes.{self.region}: earlier witness keys, but no witness key in force")
        check_sequence(self.region, "signing_keys", self.earlier_signing, self.signing_since)
        check_sequence(self.region, "witness_keys", self.earlier_witness, self.witness_since)

    @property
    def has_history(self) -> bool:
        """Whether this node needs format 3 to be written down."""
        return bool(self.earlier_signing or self.earlier_witness or self.signing_since or self.witness_since)

    @property
    def all_keys(self) -> tuple[VerifyingKey, ...]:
        """Every key this node ever held, in force or retired."""
        current = [k for k in (self.signing_key, self.witness_key) if k is not None]
        return (*current, *(e.key for e in self.earlier_signing + self.earlier_witness))

    @property
    def signing_keys(self) -> KeyRing:
        """The node's payload keys, current and earlier, each with its period."""
        periods = {e.key.key_id: e.period for e in self.earlier_signing}
        periods[self.signing_key.key_id] = KeyPeriod(self.signing_since)
        return KeyRing([self.signing_key, *(e.key for e in self.earlier_signing)], periods)

    def published_keys(self) -> tuple[PublishedKey, ...]:
        """Every key of this node as a C2SP verifier key, log keys first, each oldest first."""
        log = [PublishedKey(self.region, "log", e.key.verifier_key, e.period) for e in self.earlier_signing]
        log.append(PublishedKey(self.region, "log", self.signing_key.verifier_key, KeyPeriod(self.signing_since)))
        witness = [PublishedKey(self.region, "witness", witness_vkey(e.key), e.period) for e in self.earlier_witness]
        if self.witness_key is not None:
            witness.append(
                PublishedKey(self.region, "witness", witness_vkey(self.witness_key), KeyPeriod(self.witness_since))
            )
        return (*log, *witness)

    def to_json(self, form: int) -> dict[str, Any]:
        body: dict[str, Any] = {"endpoint": self.endpoint, "tls_fingerprint": self.tls_fingerprint}
        if form >= 3:
            vkeys = form >= _VKEY_FORMAT
            body["signing_keys"] = history_json(
                self.earlier_signing, self.signing_key, self.signing_since, log_vkey if vkeys else None
            )
            if self.witness_key is not None:
                body["witness_keys"] = history_json(
                    self.earlier_witness, self.witness_key, self.witness_since, witness_vkey if vkeys else None
                )
            return body
        body["signing_key"] = key_b64(self.signing_key)
        if self.witness_key is not None:
            body["witness_key"] = key_b64(self.witness_key)
        return body

    def as_witness(self) -> Witness:
        """This node as a verifier sees it among a log's witnesses (its log key checks legacy lines).

        Earlier witness keys stay listed: a cosignature timestamped before a key's retirement still verifies, one
        timestamped after is refused.
        """
        if self.witness_key is None:
            return Witness(self.region, (), self.signing_key)
        earlier = (
            CosignerKey.of(e.key, int(e.period.until.timestamp())) for e in self.earlier_witness if e.period.until
        )
        keys = (CosignerKey.of(self.witness_key), *earlier)
        return Witness(self.region, keys, self.signing_key)

    def with_history_of(self, previous: ManifestNode) -> ManifestNode:
        """This node with the key history ``previous`` recorded for each key it still holds (a re-signing).

        Keys are replaced by ``rotated``, which records the old one; a key changed any other way starts anew.
        """
        node = self
        if self.signing_key.raw == previous.signing_key.raw:
            node = replace(node, signing_since=previous.signing_since, earlier_signing=previous.earlier_signing)
        witness, before = self.witness_key, previous.witness_key
        if witness is not None and before is not None and witness.raw == before.raw:
            node = replace(node, witness_since=previous.witness_since, earlier_witness=previous.earlier_witness)
        return node

    def rotated(self, which: str, new: VerifyingKey, now: datetime) -> ManifestNode:
        """This node after replacing its ``signing`` or ``witness`` key at ``now``; the old one retires then."""
        if which == "signing":
            earlier = EarlierKey(self.signing_key, KeyPeriod(self.signing_since, now))
            return replace(self, signing_key=new, signing_since=now, earlier_signing=(*self.earlier_signing, earlier))
        if which != "witness" or self.witness_key is None:
            raise ManifestInvalid(f"nodes.{self.region}: no {which} key to rotate")
        earlier = EarlierKey(self.witness_key, KeyPeriod(self.witness_since, now))
        return replace(self, witness_key=new, witness_since=now, earlier_witness=(*self.earlier_witness, earlier))


@dataclass(frozen=True)
class Manifest:
    version: int
    expires: datetime
    catalog_digest: str
    nodes: Mapping[str, ManifestNode]
    # Whether it lists each key as a C2SP verifier key too (format 4); kept when the manifest is re-signed.
    verifier_keys: bool = False

    def __post_init__(self) -> None:
        if self.version < 1:
            raise ManifestInvalid("a manifest's version is at least 1")
        if self.expires.tzinfo is None:
            raise ManifestInvalid("a manifest expires at an instant with a time zone")
        # Signatures name their key by a 4-byte id: two keys under one id would let one region's key stand in
        # for another's wherever a verifier looks a key up by id (one key ring for the federation).
        ids = [key.key_id for node in self.nodes.values() for key in node.all_keys]
        if len(set(ids)) != len(ids):
            raise ManifestInvalid("two keys of the manifest share a key id: each key must be told apart by its id")

    @property
    def form(self) -> int:
        """The oldest format that holds this manifest, so that one without key history reads as it always did."""
        if self.verifier_keys:
            return _VKEY_FORMAT
        if any(node.has_history for node in self.nodes.values()):
            return 3
        return 2 if any(node.witness_key is not None for node in self.nodes.values()) else 1

    def text(self) -> str:
        form = self.form
        return (
            canonical_json(
                {
                    "v": form,
                    "version": self.version,
                    "expires": format_instant(self.expires),
                    "catalog_digest": self.catalog_digest,
                    "nodes": {region: node.to_json(form) for region, node in sorted(self.nodes.items())},
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

    def published_keys(self) -> tuple[PublishedKey, ...]:
        """Every key the manifest lists, region by region, as C2SP verifier keys."""
        return tuple(key for _, node in sorted(self.nodes.items()) for key in node.published_keys())

    @property
    def keys(self) -> KeyRing:
        """Every node's payload keys, current and earlier, each with its period: what verifies a peer's statements,
        receipts and checkpoints."""
        return KeyRing().merged(*(node.signing_keys for node in self.nodes.values()))

    @classmethod
    def parse(cls, text: str) -> Manifest:
        try:
            raw: dict[str, Any] = parse_json(text.encode())
            if raw["v"] not in READABLE_FORMATS:
                raise ManifestInvalid(f"unknown manifest format {raw['v']!r}")
            nodes = {region: _node(region, body, raw["v"]) for region, body in raw["nodes"].items()}
            return cls(
                int(raw["version"]),
                parse_instant(raw["expires"]),
                str(raw["catalog_digest"]),
                MappingProxyType(nodes),
                raw["v"] >= _VKEY_FORMAT,
            )
        except (KeyError, TypeError, ValueError, AttributeError, InvalidInput) as error:
            raise ManifestInvalid(f"malformed manifest: {error}") from error


def _node(region: str, body: Mapping[str, Any], version: int) -> ManifestNode:
    validate_region(region, f"nodes.{region}")
    fingerprint = body["tls_fingerprint"]
    if len(fingerprint) != 64 or any(c not in "0123456789abcdef" for c in fingerprint):
        raise ManifestInvalid(f"nodes.{region}.tls_fingerprint is not a hex SHA-256")
    if version >= 3:
        return _node_with_history(region, body, fingerprint, version >= _VKEY_FORMAT)
    public = public_key(region, body, "signing_key")
    witness = None
    if version >= 2 and "witness_key" in body:  # format 1 had none: whatever such a manifest holds there is not one
        witness = VerifyingKey(witness_key_name(region), public_key(region, body, "witness_key"))
    return ManifestNode(region, body["endpoint"], VerifyingKey(node_key_name(region), public), fingerprint, witness)


def _node_with_history(region: str, body: Mapping[str, Any], fingerprint: str, vkeys: bool) -> ManifestNode:
    signing, signing_since, earlier_signing = read_history(
        region, body, "signing_keys", node_key_name(region), log_vkey if vkeys else None
    )
    witness: VerifyingKey | None = None
    witness_since: datetime | None = None
    earlier_witness: tuple[EarlierKey, ...] = ()
    if "witness_keys" in body:
        witness, witness_since, earlier_witness = read_history(
            region, body, "witness_keys", witness_key_name(region), witness_vkey if vkeys else None
        )
    return ManifestNode(
        region,
        body["endpoint"],
        signing,
        fingerprint,
        witness,
        signing_since,
        witness_since,
        earlier_signing,
        earlier_witness,
    )


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
