"""The whole-log audit of the verifiable index: recompute it from the log, hold it against every signed index root.

Each index checkpoint must verify under the log key and name the root of the
log checkpoint of its size; its index root must be the root of the index
recomputed from the leaves below that size (``ledger.index``), and the stored
index entries (what exports are proved from) must be the recomputed ones. A signed root
that differs is evidence against the node: the finding names the first leaf
whose stored index entries differ from the recomputed ones and the key, when
the stored entries show it, or else says that the root matches no index of the
log. A redacted leaf no longer names its subject: its keys are taken from the
stored index (only its presence and time are recomputed).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from share_gateway.crypto.errors import VerificationError
from share_gateway.crypto.keys import KeyRing
from share_gateway.domain.canonical import parse_json
from share_gateway.domain.events import format_instant, parse_instant, summarise
from share_gateway.ledger.audit import Leaf, LogSource
from share_gateway.ledger.findings import AuditReport, Finding
from share_gateway.ledger.index import (
    IndexCheckpoint,
    IndexEntry,
    extend_chain,
    key_hash,
    keys_of,
    open_index_checkpoint,
)
from share_gateway.ledger.index_tree import IndexTree


class IndexSource(Protocol):
    """What the index audit reads of a node's stored index."""

    def checkpoint_notes(self) -> list[tuple[int, bytes]]: ...
    def keys_of_leaves(self, start: int, end: int) -> dict[int, set[bytes]]: ...


@dataclass
class _Recomputed:
    tree: IndexTree = field(default_factory=IndexTree)
    chains: dict[bytes, bytes] = field(default_factory=dict)
    touched: set[bytes] = field(default_factory=set)
    # The first leaf whose stored keys differ from the recomputed ones, said in words.
    first_difference: tuple[int, str] | None = None

    def root(self) -> bytes:
        for hashed in self.touched:
            self.tree.set(hashed, self.chains[hashed])
        self.touched.clear()
        return self.tree.root


def audit_index(
    log: LogSource, index: IndexSource, keys: KeyRing, origin: str, report: AuditReport, chunk: int = 65_536
) -> None:
    """Append a finding for each index checkpoint that does not verify or does not match the recomputed index."""
    signed = _opened(index.checkpoint_notes(), keys, origin, report)
    if not signed:
        return
    log_roots = {checkpoint.size: checkpoint.root for checkpoint in report.checkpoints}
    recomputed, done = _Recomputed(), 0
    for checkpoint in signed:
        if log_roots.get(checkpoint.size, checkpoint.log_root) != checkpoint.log_root:
            report.findings.append(_about(checkpoint, "names another log root than the log checkpoint of its size"))
        while done < checkpoint.size:
            end = min(checkpoint.size, done + chunk)
            _recompute(log.leaves(done, end), index.keys_of_leaves(done, end), recomputed)
            done = end
        root = recomputed.root()
        if root != checkpoint.index_root:
            where = recomputed.first_difference
            detail = (
                f"; first difference: leaf {where[0]}, {where[1]}"
                if where is not None and where[0] < checkpoint.size
                else "; the stored index agrees with the log, so the signed root matches no index of these leaves"
            )
            report.findings.append(
                _about(
                    checkpoint,
                    f"signs index root {checkpoint.index_root.hex()[:16]}…, but the index recomputed from the log "
                    f"has root {root.hex()[:16]}…{detail}",
                )
            )
    if recomputed.first_difference is not None:
        leaf, said = recomputed.first_difference
        report.findings.append(Finding(leaf, f"the stored index differs from the log: {said}"))
    report.index_checkpoints = len(signed)


def _opened(
    notes: Sequence[tuple[int, bytes]], keys: KeyRing, origin: str, report: AuditReport
) -> list[IndexCheckpoint]:
    opened = []
    for size, note in notes:
        try:
            checkpoint = open_index_checkpoint(note, keys, origin)
        except VerificationError as error:
            report.findings.append(
                Finding(-1, f"the index checkpoint of size {size} does not verify: {error}", about=f"index {size}")
            )
            continue
        if checkpoint.size != size:
            report.findings.append(
                Finding(-1, f"the index checkpoint stored as size {size} is of size {checkpoint.size}", about="index")
            )
            continue
        opened.append(checkpoint)
    return opened


def _about(checkpoint: IndexCheckpoint, problem: str) -> Finding:
    about = f"the index checkpoint of size {checkpoint.size}"
    return Finding(-1, f"{about} {problem}", about=about)


def _recompute(leaves: Sequence[Leaf], stored: dict[int, set[bytes]], into: _Recomputed) -> None:
    for leaf in leaves:
        held = stored.get(leaf.leaf_index, set())
        keyed = _keys(leaf, held)
        if keyed is None:
            continue
        at, hashes = keyed
        if into.first_difference is None and set(hashes) != held:
            into.first_difference = (leaf.leaf_index, _difference(hashes, held))
        for hashed in hashes:
            into.chains[hashed] = extend_chain(into.chains.get(hashed, bytes(32)), IndexEntry(leaf.leaf_index, at))
            into.touched.add(hashed)


def _difference(hashes: dict[bytes, str], held: set[bytes]) -> str:
    missing = sorted(name for hashed, name in hashes.items() if hashed not in held)
    if missing:
        return f"key {missing[0]} is missing from the stored index"
    extra = sorted(base64.b64encode(h).decode() for h in held - set(hashes))
    return f"the stored index lists it under key hash {extra[0]}, which is not one of its keys"


def _keys(leaf: Leaf, stored: set[bytes]) -> tuple[str, dict[bytes, str]] | None:
    """The event's time and its keys by hash; a redacted leaf's keys are the stored ones (its subject is gone)."""
    if leaf.body is None:
        return None
    try:
        if leaf.redacted:
            at = parse_instant(parse_json(leaf.body)["at"])
            return format_instant(at), dict.fromkeys(stored, "(redacted)")
        summary = summarise(leaf.body)
    except (ValueError, KeyError, TypeError):
        return None
    return format_instant(summary.at), {key_hash(key): key for key in keys_of(summary)}
