"""Whole-log verification: recompute the tree from the events and hold it against everything stored.

Given the node's public key (and, ideally, checkpoints the officer kept from
earlier audits), it finds: an event edited, deleted, inserted or reordered;
stored tree nodes replaced; a checkpoint signed by another key, or whose
root is not the log's; and history rewritten and re-signed, which a kept
older checkpoint exposes. Each finding names the first leaf it concerns (or
the run of leaves, or the checkpoint): after a leaf goes missing, the stored
nodes above the later leaves all differ from the rebuilt tree; those are
counted as its consequence, not reported as findings that would hide it, and
a node over one found to differ is not reported again.

Given the log's witnesses, every cosignature on every checkpoint is checked
(one that does not verify is a finding naming the witness), and a quorum can
be demanded of the latest checkpoint: an operator who rewrites the history
and re-signs it with the node's own key cannot get the witnesses, who hold
the old roots, to cosign it. Intermediate checkpoints are often never
cosigned (witnesses are asked about the latest only), so those are listed,
not found wrong; a witnessed checkpoint vouches for every leaf below it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from share_gateway.crypto.keys import KeyRing
from share_gateway.domain.canonical import parse_json
from share_gateway.ledger.audit_checkpoints import (
    Dated,
    KeptCheckpoint,
    SignedRoots,
    require_quorum,
    retired_keys,
    signed_roots,
)
from share_gateway.ledger.cosignatures import Witness
from share_gateway.ledger.findings import AuditReport, Finding
from share_gateway.ledger.hashing import leaf_hash
from share_gateway.ledger.tree import Frontier, NodeId, fold, levels_of, perfect_subtrees

__all__ = ["AuditReport", "Finding", "KeptCheckpoint", "Leaf", "LogSource", "Progress", "audit_log"]

Progress = Callable[[int, int], None]


class Leaf(Protocol):
    @property
    def leaf_index(self) -> int: ...
    @property
    def event_seq(self) -> int: ...
    @property
    def body(self) -> bytes | None: ...
    @property
    def stored_hash(self) -> bytes | None: ...
    @property
    def redacted(self) -> bool: ...


class LogSource(Protocol):
    """What verification reads from a node's storage."""

    def size(self) -> int: ...
    def leaves(self, start: int, end: int) -> Sequence[Leaf]: ...  # a list of any Leaf-shaped rows
    def interior_nodes(self, level: int, first: int, last: int) -> dict[int, bytes]: ...
    def checkpoint_notes(self) -> list[bytes]: ...
    def orphans(self) -> list[int]: ...


@dataclass
class _Walk:
    """The tree being rebuilt, and where (if anywhere) its leaves stopped sitting at their own index."""

    source: LogSource
    report: AuditReport
    roots: SignedRoots
    frontier: Frontier
    # The first position whose rebuilt leaf is not the stored leaf of that index (a leaf missing before it):
    # every stored node over it or later differs from the rebuilt one, as a consequence, not a finding of its own.
    shifted_from: int | None = None
    shifted_nodes: int = 0
    # Nodes found to differ: a node whose child differs differs as a consequence (nodes are checked bottom up).
    differing: set[NodeId] = field(default_factory=set)

    def node_differs(self, node: NodeId) -> None:
        self.differing.add(node)
        end = (node.index + 1) << node.level
        if self.shifted_from is not None and end > self.shifted_from:
            self.shifted_nodes += 1
            return
        below = node.level - 1
        if NodeId(below, node.index * 2) in self.differing or NodeId(below, node.index * 2 + 1) in self.differing:
            return
        self.report.findings.append(
            Finding(
                node.start, f"stored tree node ({node.level}, {node.index}) differs from the recomputed one", end - 1
            )
        )


def _check_leaf(leaf: Leaf, expected_index: int, last_seq: int, report: AuditReport) -> bytes | None:
    """The leaf hash to build the tree from, or None after recording why there is none."""
    if leaf.leaf_index != expected_index:
        report.findings.append(Finding(expected_index, f"missing from the log (next entry is leaf {leaf.leaf_index})"))
    if leaf.event_seq <= last_seq:
        report.findings.append(Finding(leaf.leaf_index, "events out of order: reordered or re-inserted"))
    if leaf.body is None:
        report.findings.append(Finding(leaf.leaf_index, "the event was deleted"))
        return leaf.stored_hash
    if leaf.redacted:
        report.redacted += 1
        if leaf.stored_hash is None or not _is_redaction_stub(leaf.body):
            report.findings.append(Finding(leaf.leaf_index, "redacted without its stored leaf hash or stub"))
        return leaf.stored_hash
    computed = leaf_hash(leaf.body)
    if leaf.stored_hash is None:
        report.findings.append(Finding(leaf.leaf_index, "its stored leaf hash is missing"))
        return computed
    if computed != leaf.stored_hash:
        report.findings.append(Finding(leaf.leaf_index, "event bytes do not match the stored leaf hash (edited)"))
    # Build on what the tree committed to: a bad leaf is reported once, not again in every node above it,
    # and a stored hash changed to match is still caught by the signed roots.
    return leaf.stored_hash


def _is_redaction_stub(body: bytes) -> bool:
    try:
        doc = parse_json(body)
    except ValueError:
        return False
    return isinstance(doc, dict) and doc.get("redacted") is True


def audit_log(
    source: LogSource,
    keys: KeyRing,
    origin: str,
    kept_checkpoints: Sequence[bytes | KeptCheckpoint] = (),
    chunk: int = 65_536,
    progress: Progress | None = None,
    witnesses: Sequence[Witness] = (),
    quorum: int = 0,
) -> AuditReport:
    """Verify the whole log; the report lists every finding, the first by leaf index.

    Aligned chunks whose leaves are all present are verified a level at a time
    (``_verify_aligned``); from the first gap on, leaf by leaf.
    """
    if chunk & (chunk - 1):
        raise ValueError("the chunk is a power of two, so that chunks are perfect subtrees")
    report = AuditReport(size=source.size())
    kept = [
        k if isinstance(k, KeptCheckpoint) else KeptCheckpoint(f"no. {i + 1}", k)
        for i, k in enumerate(kept_checkpoints)
    ]
    notes = [(None, n) for n in source.checkpoint_notes()] + [(k.name, k.note) for k in kept]
    dated: Dated = []
    roots = signed_roots(notes, keys, origin, report, witnesses, dated)
    retired_keys(lambda index: _newest(source, index), report.size, keys, dated, report)
    require_quorum(report, witnesses, quorum)
    walk = _Walk(source, report, roots, Frontier(0, []))
    last_seq, next_index = 0, 0
    aligned = True
    for start in range(0, report.size, chunk):
        rows = source.leaves(start, min(start + chunk, report.size))
        hashes = []
        for row in rows:
            hashes.append(_check_leaf(row, next_index, last_seq, report))
            last_seq, next_index = max(last_seq, row.event_seq), row.leaf_index + 1
        present = _present(walk, rows, hashes)
        aligned = (
            aligned
            and walk.frontier.size == start
            and len(present) == len(rows) == min(chunk, report.size - start)
            and rows[-1].leaf_index == start + len(rows) - 1
        )
        if aligned:
            _verify_aligned(walk, present)
        else:
            _verify_leaf_by_leaf(walk, present)
        if progress is not None:
            progress(walk.frontier.size, report.size)
    _finish(walk)
    return report


def _newest(source: LogSource, index: int) -> bytes | None:
    rows = source.leaves(index, index + 1)
    return rows[0].body if rows and not rows[0].redacted else None


def _present(walk: _Walk, rows: Sequence[Leaf], hashes: list[bytes | None]) -> list[bytes]:
    """The hashes the tree is rebuilt from, noting the first position a leaf is missing from."""
    position = walk.frontier.size
    present = []
    for row, hashed in zip(rows, hashes, strict=True):
        if hashed is None:
            continue
        if row.leaf_index != position and walk.shifted_from is None:
            walk.shifted_from = position
        present.append(hashed)
        position += 1
    return present


def _finish(walk: _Walk) -> None:
    report, frontier = walk.report, walk.frontier
    if walk.shifted_nodes:
        report.findings.append(
            Finding(
                walk.shifted_from or 0,
                f"{walk.shifted_nodes} stored tree node(s) over this leaf or later ones differ from the tree rebuilt "
                "without the missing leaf (each later leaf now sits one place early)",
            )
        )
    for size in (s for s in walk.roots.sizes() if s > frontier.size):
        report.findings.append(
            Finding(
                frontier.size,
                f"missing: the signed checkpoint of size {size} covers more than the {frontier.size} leaves left",
                last=size - 1,
            )
        )
    walk.roots.finish(report)
    for seq in walk.source.orphans():
        report.findings.append(
            Finding(
                -1, f"event seq {seq} sits among integrated events but has no leaf (inserted)", about=f"event seq {seq}"
            )
        )


def _verify_aligned(walk: _Walk, hashes: list[bytes]) -> None:
    """A chunk that starts at an aligned leaf with every leaf present: whole levels at a time."""
    source, frontier = walk.source, walk.frontier
    start = frontier.size
    levels = levels_of(hashes)
    for level in range(1, len(levels)):
        first = start >> level
        stored = source.interior_nodes(level, first, first + len(levels[level]))
        for offset, value in enumerate(levels[level]):
            if stored.get(first + offset) != value:
                walk.node_differs(NodeId(level, first + offset))
    before = frontier.edge
    end = start + len(hashes)
    for size in (s for s in walk.roots.sizes() if start < s <= end):
        inside = [levels[n.level][n.index - (start >> n.level)] for n in perfect_subtrees(start, size)]
        walk.roots.check(size, fold(before + inside), size - 1, walk.report)
    created: list[tuple[NodeId, bytes]] = []
    for node in perfect_subtrees(start, end):
        created += frontier.push(node, levels[node.level][node.index - (start >> node.level)])[1:]
    _check_interior(walk, created)
    walk.report.checked += len(hashes)


def _verify_leaf_by_leaf(walk: _Walk, hashes: list[bytes]) -> None:
    """After a gap, alignment is lost: one leaf at a time, as the sequencer built the tree."""
    frontier = walk.frontier
    created: list[tuple[NodeId, bytes]] = []
    for hashed in hashes:
        expected = frontier.size
        created += [node for node in frontier.append(hashed) if node[0].level > 0]
        if frontier.size in walk.roots.by_size:
            walk.roots.check(frontier.size, frontier.root, expected, walk.report)
        walk.report.checked += 1
    _check_interior(walk, created)


def _check_interior(walk: _Walk, created: list[tuple[NodeId, bytes]]) -> None:
    """Compare recomputed interior nodes with the stored ones, a level at a time."""
    by_level: dict[int, list[tuple[int, bytes]]] = {}
    for node, value in created:
        by_level.setdefault(node.level, []).append((node.index, value))
    for level, nodes in sorted(by_level.items()):
        stored = walk.source.interior_nodes(level, nodes[0][0], nodes[-1][0] + 1)
        for index, value in nodes:
            if stored.get(index) != value:
                walk.node_differs(NodeId(level, index))
