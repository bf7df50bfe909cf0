"""The log's verifiable index: for each key an officer investigates, the leaves of the events about it.

After transparency-dev's Verifiable Index: every leaf is mapped to its keys,

* ``subject:<kind>:<identifier>`` for an event about a subject, and
* ``requester:<actor>`` for every event (the identity that acted),

and each key's value is the list of ``(leaf index, event time)`` of the
events about it, in leaf order. The map is committed to by the root of a
sparse Merkle tree (``ledger.index_tree``) keyed by ``SHA-256(key)`` whose
value for a key is its chain hash::

    chain_0 = 32 zero bytes
    chain_i = SHA-256(0x02 || chain_{i-1} || uint64_be(leaf_index) || utf8(time))

(``time`` is the event's ``at`` as the event writes it, 27 characters). The
root at log size N is bound to the log by an index checkpoint, a signed note
by the log key::

    share-gateway/index-checkpoint@v1
    <origin>
    <log size N>
    <log root at N, base64>
    <index root, base64>

Anyone holding the log up to N recomputes the index and compares: a signed
wrong root is evidence against the node. Redacted events keep no subject, so
their subject keys cannot be recomputed from the log, only their requester key.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from share_gateway.crypto.errors import VerificationError
from share_gateway.crypto.keys import KeyRing, SigningKey, VerifyingKey
from share_gateway.crypto.note import open_note, sign_note
from share_gateway.domain.events import EventSummary, format_instant
from share_gateway.ledger.checkpoint import MalformedCheckpoint, _decimal, _hash

INDEX_CHECKPOINT_HEADER = "share-gateway/index-checkpoint@v1"
EMPTY_CHAIN = bytes(32)


def key_hash(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def subject_key(kind: str, identifier: str) -> str:
    return f"subject:{kind}:{identifier}"


def requester_key(actor: str) -> str:
    return f"requester:{actor}"


def keys_of(summary: EventSummary) -> list[str]:
    """The keys an event is indexed under."""
    keys = [requester_key(summary.actor)]
    if summary.subject_kind is not None and summary.subject_id is not None:
        keys.append(subject_key(summary.subject_kind, summary.subject_id))
    return keys


@dataclass(frozen=True, slots=True, order=True)
class IndexEntry:
    """One event about a key: its leaf and its time (as the event writes it)."""

    leaf_index: int
    at: str

    @classmethod
    def of(cls, leaf_index: int, summary: EventSummary) -> IndexEntry:
        return cls(leaf_index, format_instant(summary.at))


def extend_chain(chain: bytes, entry: IndexEntry) -> bytes:
    return hashlib.sha256(b"\x02" + chain + entry.leaf_index.to_bytes(8) + entry.at.encode()).digest()


def chain_of(entries: Iterable[IndexEntry]) -> bytes:
    """A key's value hash: its entries chained in leaf order."""
    chain = EMPTY_CHAIN
    for entry in entries:
        chain = extend_chain(chain, entry)
    return chain


@dataclass(frozen=True, slots=True)
class IndexCheckpoint:
    origin: str
    size: int
    log_root: bytes
    index_root: bytes

    def text(self) -> str:
        roots = f"{base64.b64encode(self.log_root).decode()}\n{base64.b64encode(self.index_root).decode()}\n"
        return f"{INDEX_CHECKPOINT_HEADER}\n{self.origin}\n{self.size}\n{roots}"

    def sign(self, key: SigningKey) -> bytes:
        if key.name != self.origin:
            raise ValueError(f"an index checkpoint of {self.origin} is signed by the key of that name")
        return sign_note(self.text(), key).encode()

    @classmethod
    def parse(cls, text: str) -> IndexCheckpoint:
        lines = text.split("\n")
        if len(lines) != 6 or lines[0] != INDEX_CHECKPOINT_HEADER or lines[-1] != "" or not lines[1]:
            raise MalformedCheckpoint(
                f"an index checkpoint is {INDEX_CHECKPOINT_HEADER}, origin, size, log root and index root"
            )
        return cls(lines[1], _decimal(lines[2], "size"), _hash(lines[3]), _hash(lines[4]))


def open_index_checkpoint(note: bytes, keys: KeyRing, origin: str) -> IndexCheckpoint:
    """Verify an index checkpoint of ``origin``: a trusted key of that name signed it."""
    return open_index_checkpoint_signed(note, keys, origin)[0]


def open_index_checkpoint_signed(
    note: bytes, keys: KeyRing, origin: str
) -> tuple[IndexCheckpoint, tuple[VerifyingKey, ...]]:
    """``open_index_checkpoint``, and which of the origin's keys signed it (to date it as a log checkpoint is)."""
    text, signers = open_note(note, keys)
    checkpoint = IndexCheckpoint.parse(text)
    if checkpoint.origin != origin:
        raise MalformedCheckpoint(f"index checkpoint of {checkpoint.origin!r}, expected {origin!r}")
    own = tuple(signer for signer in signers if signer.name == origin)
    if not own:
        raise VerificationError(f"no signature by the log key {origin!r}")
    return checkpoint, own
