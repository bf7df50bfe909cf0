"""Offline audit bundles: events, each with a C2SP tlog-proof under one checkpoint.

A bundle is canonical JSON::

    {"format": "share-gateway/audit-bundle@v1", "origin": "<log origin>",
     "entries": [{"leaf_index": n, "event": "<base64 event bytes>", "proof": "<tlog-proof>"}, ...]}

A bundle v2 (``share-gateway/audit-bundle@v2``) adds ``"completeness"``: the
node's signed index lookup for one key, which proves the entries are every
event about that key (``ledger.bundle_completeness``); a v2 bundle may hold no
entry at all (nothing about the key). A v1 bundle still verifies, and is
reported as not proven complete.

A redacted event travels as ``"leaf_hash"`` instead of ``"event"``: its
inclusion still verifies, its content no longer exists. Verification needs
only the bundle, the origin and the node's public key; given the log's
witnesses (from the manifest), every cosignature on the checkpoint is checked
too, and a quorum of them can be demanded.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from share_gateway.crypto.errors import VerificationError
from share_gateway.crypto.keys import KeyRing
from share_gateway.domain.canonical import Json, canonical_json, parse_json
from share_gateway.domain.events import Event
from share_gateway.ledger.bundle_completeness import Complete, Completeness, verify_completeness
from share_gateway.ledger.checkpoint import (
    Checkpoint,
    MalformedCheckpoint,
    TlogProof,
    open_checkpoint_signed,
    require_signed_in_force,
)
from share_gateway.ledger.cosignatures import Witness, Witnessing, check_cosignatures
from share_gateway.ledger.hashing import leaf_hash
from share_gateway.ledger.verify import ProofError, verify_inclusion

BUNDLE_FORMAT = "share-gateway/audit-bundle@v1"
BUNDLE_FORMAT_V2 = "share-gateway/audit-bundle@v2"
FORMATS = (BUNDLE_FORMAT, BUNDLE_FORMAT_V2)


class BundleError(ProofError):
    """The bundle does not verify; the message names the entry and why."""


@dataclass(frozen=True, slots=True)
class BundleEntry:
    leaf_index: int
    proof: TlogProof
    event: bytes | None = None
    leaf_hash: bytes | None = None

    def to_json(self) -> dict[str, Json]:
        entry: dict[str, Json] = {"leaf_index": self.leaf_index, "proof": self.proof.encode().decode()}
        if self.event is not None:
            entry["event"] = base64.b64encode(self.event).decode()
        else:
            assert self.leaf_hash is not None
            entry["leaf_hash"] = base64.b64encode(self.leaf_hash).decode()
        return entry


def encode_bundle(origin: str, entries: Sequence[BundleEntry], completeness: Completeness | None = None) -> bytes:
    doc: dict[str, Json] = {"format": BUNDLE_FORMAT, "origin": origin, "entries": [e.to_json() for e in entries]}
    if completeness is not None:
        doc |= {"format": BUNDLE_FORMAT_V2, "completeness": completeness.to_json()}
    return canonical_json(doc)


class BundleWriter:
    """The bytes of ``encode_bundle``, written a page of entries at a time: a bundle of any size streams.

    Canonical JSON sorts keys, so ``completeness`` (v2) and ``entries`` come first and the format and origin close
    the document.
    """

    def __init__(self, origin: str, completeness: Completeness | None = None) -> None:
        self.origin = origin
        self.completeness = completeness
        self.count = 0

    def opening(self) -> bytes:
        if self.completeness is None:
            return b'{"entries":['
        return b'{"completeness":' + canonical_json(self.completeness.to_json()) + b',"entries":['

    def entries(self, entries: Sequence[BundleEntry]) -> bytes:
        """The next entries' bytes, with the comma that separates them from the ones before."""
        if not entries:
            return b""
        data = b",".join(canonical_json(e.to_json()) for e in entries)
        separator = b"," if self.count else b""
        self.count += len(entries)
        return separator + data

    def closing(self) -> bytes:
        version = BUNDLE_FORMAT if self.completeness is None else BUNDLE_FORMAT_V2
        return b'],"format":' + canonical_json(version) + b',"origin":' + canonical_json(self.origin) + b"}"


@dataclass(frozen=True, slots=True)
class VerifiedBundle:
    checkpoint: Checkpoint
    events: tuple[Event, ...]
    redacted: tuple[int, ...]
    # The cosignatures of the entries' checkpoint notes (one per distinct note), as checked.
    witnessing: tuple[Witnessing, ...] = field(default_factory=tuple)
    # A v2 bundle's proof that it holds every event about its key; None: completeness not proven (v1).
    complete: Complete | None = None


def bundle_origin(data: bytes) -> str:
    """The origin a bundle claims, to choose the key to verify it with; nothing is verified."""
    try:
        doc = parse_json(data)
        if doc.get("format") not in FORMATS:
            raise BundleError(f"not a {BUNDLE_FORMAT} or @v2 bundle")
        return str(doc["origin"])
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise BundleError(f"malformed bundle: {error}") from error


def verify_bundle(
    data: bytes, keys: KeyRing, origin: str, witnesses: Sequence[Witness] = (), quorum: int = 0
) -> VerifiedBundle:
    """Verify every entry offline; all entries must rest on one checkpoint.

    1. The bundle parses and names the expected origin.
    2. Each proof's checkpoint is signed by the origin's key, and all are the same.
    3. Each event's leaf hash (or a redacted entry's stored hash) is included at its index.
    4. Each event is canonical event JSON.
    5. Every cosignature by one of ``witnesses`` verifies, and at least ``quorum`` of them cosigned.
    6. The log key was not retired by the time of the newest event the bundle shows (a checkpoint is signed after
       every leaf it covers); a bundle of redacted entries only shows no time, and is not dated.
    7. v2: the completeness section holds (``verify_completeness``): the entries are exactly the key's leaves.
    """
    try:
        doc = parse_json(data)
        if doc.get("format") not in FORMATS:
            raise BundleError(f"not a {BUNDLE_FORMAT} or @v2 bundle")
        if doc.get("origin") != origin:
            raise BundleError(f"bundle of {doc.get('origin')!r}, expected {origin!r}")
        raw_entries = doc["entries"]
        section = Completeness.from_json(doc["completeness"]) if doc["format"] == BUNDLE_FORMAT_V2 else None
    except (ProofError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise BundleError(f"malformed bundle: {error}") from error
    witnessed: dict[bytes, Witnessing] = {}
    checkpoint: Checkpoint | None = None
    events: list[Event] = []
    redacted: list[int] = []
    held: list[tuple[int, Event | None]] = []
    for position, raw in enumerate(raw_entries):
        try:
            this, event = _verify_entry(raw, keys, origin)
        except (ProofError, MalformedCheckpoint, ValueError, KeyError, TypeError, AttributeError) as error:
            raise BundleError(f"entry {position}: {error}") from error
        if checkpoint is None:
            checkpoint = this
        elif this != checkpoint:
            raise BundleError(f"entry {position} rests on another checkpoint than entry 0")
        note = TlogProof.parse(raw["proof"].encode()).checkpoint
        if note not in witnessed:
            witnessed[note] = _witnessing(position, note, witnesses, quorum)
        held.append((raw["leaf_index"], event))
        if event is None:
            redacted.append(raw["leaf_index"])
        else:
            events.append(event)
    complete = None
    if section is not None:
        try:
            complete = verify_completeness(section, keys, origin, checkpoint, held)
        except ProofError as error:
            raise BundleError(f"incomplete: {error}") from error
        if checkpoint is None:
            checkpoint = Checkpoint(origin, complete.index.size, complete.index.log_root)
    if checkpoint is None:
        raise BundleError("the bundle holds no entries")
    newest = max((event.at for event in events), default=None)
    if newest is not None:
        for note in witnessed:
            try:
                require_signed_in_force(open_checkpoint_signed(note, keys, origin)[1], keys, newest)
            except VerificationError as error:
                raise BundleError(f"the checkpoint: {error}") from error
    return VerifiedBundle(checkpoint, tuple(events), tuple(redacted), tuple(witnessed.values()), complete)


def _witnessing(position: int, note: bytes, witnesses: Sequence[Witness], quorum: int) -> Witnessing:
    """The checkpoint note's cosignatures; raise naming the witness if one does not verify or too few cosigned."""
    witnessing = check_cosignatures(note, witnesses)
    for invalid in witnessing.invalid:
        raise BundleError(f"entry {position}: the cosignature of {invalid}")
    shortfall = witnessing.shortfall(quorum)
    if shortfall:
        raise BundleError(f"entry {position}: the checkpoint is {shortfall}")
    return witnessing


def _verify_entry(raw: dict[str, Any], keys: KeyRing, origin: str) -> tuple[Checkpoint, Event | None]:
    """One entry's checkpoint and, unless redacted, its event; raises if anything does not verify."""
    proof = TlogProof.parse(raw["proof"].encode())
    if proof.index != raw["leaf_index"]:
        raise BundleError(f"proof is for leaf {proof.index}, the entry says {raw['leaf_index']}")
    checkpoint = proof.verify_checkpoint(keys, origin)
    if "event" not in raw:
        stored = base64.b64decode(raw["leaf_hash"], validate=True)
        verify_inclusion(proof.index, checkpoint.size, stored, proof.proof, checkpoint.root)
        return checkpoint, None
    body = base64.b64decode(raw["event"], validate=True)
    verify_inclusion(proof.index, checkpoint.size, leaf_hash(body), proof.proof, checkpoint.root)
    return checkpoint, Event.from_bytes(body)
