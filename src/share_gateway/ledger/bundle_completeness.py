"""The completeness section of an audit bundle v2: proof that the bundle holds every event about one key.

::

    "completeness": {"key": "subject:legal_entity:<USCC>" | "requester:<actor>",
                     "index_checkpoint": "<signed index checkpoint note>",
                     "leaves": [{"leaf_index": n, "at": "<event time>"}, ...],
                     "lookup": {"siblings": ["<base64>", ...], "leaf": {"key_hash", "value_hash"}?},
                     "since": "<instant>"?, "until": "<instant>"?}

``leaves`` is the key's whole value in the index at the checkpoint's size
(all its events, in leaf order); the bundle's entries are exactly those whose
time is in ``[since, until)``. What it proves: the node committed, in a signed
index checkpoint bound to the log checkpoint the entries rest on, to this list
of leaves for the key, and the bundle holds each of them. What it cannot: that
the index itself is right; that is what ``audit verify`` checks by recomputing
it from the log (a wrong signed root is then evidence against the node), and
redacted leaves no longer name their subject, so only their presence counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from share_gateway.crypto.errors import VerificationError
from share_gateway.crypto.keys import KeyRing
from share_gateway.domain.canonical import Json
from share_gateway.domain.events import Event, format_instant, parse_instant
from share_gateway.ledger.checkpoint import Checkpoint, require_signed_in_force
from share_gateway.ledger.index import (
    IndexCheckpoint,
    IndexEntry,
    chain_of,
    key_hash,
    open_index_checkpoint_signed,
    requester_key,
    subject_key,
)
from share_gateway.ledger.index_tree import LookupProof, verify_lookup
from share_gateway.ledger.verify import ProofError


class IncompleteBundle(ProofError):
    """The bundle does not prove it holds every event about its key; the message names the leaf and why."""


@dataclass(frozen=True, slots=True)
class Completeness:
    key: str
    index_checkpoint: bytes
    leaves: tuple[IndexEntry, ...]
    lookup: LookupProof
    since: datetime | None = None
    until: datetime | None = None

    def to_json(self) -> dict[str, Json]:
        doc: dict[str, Json] = {
            "key": self.key,
            "index_checkpoint": self.index_checkpoint.decode(),
            "leaves": [{"leaf_index": e.leaf_index, "at": e.at} for e in self.leaves],
            "lookup": self.lookup.to_json(),  # type: ignore[dict-item]
        }
        if self.since is not None:
            doc["since"] = format_instant(self.since)
        if self.until is not None:
            doc["until"] = format_instant(self.until)
        return doc

    def selected(self) -> list[IndexEntry]:
        """The listed leaves whose time is in the exported range: what the bundle must hold."""
        return [e for e in self.leaves if _within(parse_instant(e.at), self.since, self.until)]

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Completeness:
        leaves = tuple(IndexEntry(int(e["leaf_index"]), str(e["at"])) for e in doc["leaves"])
        for entry in leaves:
            parse_instant(entry.at)
        since, until = doc.get("since"), doc.get("until")
        return cls(
            str(doc["key"]),
            str(doc["index_checkpoint"]).encode(),
            leaves,
            LookupProof.from_json(doc["lookup"]),
            None if since is None else parse_instant(since),
            None if until is None else parse_instant(until),
        )


def _within(at: datetime, since: datetime | None, until: datetime | None) -> bool:
    return (since is None or at >= since) and (until is None or at < until)


def event_keys(event: Event) -> set[str]:
    keys = {requester_key(event.actor)}
    if event.subject is not None:
        keys.add(subject_key(event.subject.kind.value, event.subject.identifier))
    return keys


@dataclass(frozen=True, slots=True)
class Complete:
    """What a verified completeness section shows: every event about ``key`` in the range is in the bundle."""

    key: str
    index: IndexCheckpoint
    leaves: int  # how many the bundle holds: all of the key's in the range
    since: datetime | None
    until: datetime | None


def verify_completeness(
    section: Completeness,
    keys: KeyRing,
    origin: str,
    checkpoint: Checkpoint | None,
    entries: Sequence[tuple[int, Event | None]],
) -> Complete:
    """Check the section against the bundle's entries ((leaf index, event or None if redacted), verified already
    under ``checkpoint``, None when there are none); raise ``IncompleteBundle`` naming what does not hold."""
    newest = max((event.at for _, event in entries if event is not None), default=None)
    try:
        index, signers = open_index_checkpoint_signed(section.index_checkpoint, keys, origin)
        if newest is not None:  # dated like the log checkpoint: by the newest event it shows
            require_signed_in_force(signers, keys, newest)
    except VerificationError as error:
        raise IncompleteBundle(f"the index checkpoint: {error}") from error
    if checkpoint is not None and (checkpoint.size, checkpoint.root) != (index.size, index.log_root):
        raise IncompleteBundle(
            f"the index checkpoint is of the log of size {index.size}, the entries rest on size {checkpoint.size}"
        )
    listed = [e.leaf_index for e in section.leaves]
    if listed != sorted(set(listed)) or (listed and listed[-1] >= index.size):
        raise IncompleteBundle("the key's leaves are not distinct, in order and under the index checkpoint")
    value = verify_lookup(index.index_root, key_hash(section.key), section.lookup)
    if value is None and section.leaves:
        raise IncompleteBundle(f"the index holds no leaves for {section.key}, the bundle lists {len(listed)}")
    if value is not None and value != chain_of(section.leaves):
        raise IncompleteBundle(f"the leaves listed for {section.key} are not those the index holds")
    expected = {e.leaf_index: e for e in section.selected()}
    held = dict(entries)
    if len(held) != len(entries):
        raise IncompleteBundle("a leaf appears twice among the entries")
    for leaf in sorted(expected.keys() - held.keys()):
        raise IncompleteBundle(f"leaf {leaf} is missing: the index lists it under {section.key}")
    for leaf in sorted(held.keys() - expected.keys()):
        raise IncompleteBundle(f"leaf {leaf} is not one of the leaves the index lists under {section.key} in range")
    for leaf, event in sorted(held.items()):
        if event is None:
            continue  # redacted: its leaf hash is in the log, its subject no longer is
        if section.key not in event_keys(event):
            raise IncompleteBundle(f"leaf {leaf} is not an event about {section.key}")
        if format_instant(event.at) != expected[leaf].at:
            raise IncompleteBundle(f"leaf {leaf}: the event's time is not the one the index lists")
    return Complete(section.key, index, len(held), section.since, section.until)
