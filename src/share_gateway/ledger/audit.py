"""Whole-log verification: recompute the tree from the events and hold it against everything stored.

Given the node's public key (and, ideally, checkpoints the officer kept from
earlier audits), it finds: an event edited, deleted, inserted or reordered;
stored tree nodes replaced; a checkpoint signed by another key, or whose
root is not the log's; and history rewritten and re-signed, which a kept
older checkpoint exposes. Each finding names the first leaf it concerns.

Given the log's witnesses, every cosignature on every checkpoint is checked
(one that does not verify is a finding naming the witness), and a quorum can
be demanded of the latest checkpoint: an operator who rewrites the history
and re-signs it with the node's own key cannot get the witnesses, who hold
the old roots, to cosign it. Intermediate checkpoints are often never
cosigned (witnesses are asked about the latest only), so those are listed,
not found wrong; a witnessed checkpoint vouches for every leaf below it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from share_gateway.crypto.errors import VerificationError
from share_gateway.crypto.keys import KeyRing, VerifyingKey
from share_gateway.domain.canonical import parse_json
from share_gateway.domain.events import Event
from share_gateway.ledger.checkpoint import (
    Checkpoint,
    open_checkpoint_signed,
    require_signed_in_force,
    retired_signers,
    unverified_checkpoint,
)
from share_gateway.ledger.cosignatures import Status, Witness, check_cosignatures
from share_gateway.ledger.hashing import leaf_hash
from share_gateway.ledger.tree import Frontier, NodeId, fold, levels_of, perfect_subtrees

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


@dataclass(frozen=True, slots=True, order=True)
class Finding:
    leaf_index: int  # -1 when the finding concerns no single leaf
    problem: str

    def __str__(self) -> str:
        return self.problem if self.leaf_index < 0 else f"leaf {self.leaf_index}: {self.problem}"


@dataclass
class AuditReport:
    size: int = 0
    checked: int = 0
    redacted: int = 0
    checkpoints: list[Checkpoint] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    # Which witnesses validly cosigned a checkpoint of each size (only when witnesses were given).
    cosigned: dict[int, frozenset[str]] = field(default_factory=dict)
    # Plain log-key cosignatures from before cosignature/v1 that verify: reported, never counted.
    legacy: int = 0

    @property
    def unwitnessed(self) -> list[int]:
        """Sizes of the checkpoints no witness cosigned."""
        return sorted(size for size, regions in self.cosigned.items() if not regions)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def first(self) -> Finding | None:
        """The finding at the lowest leaf index; findings about no single leaf come after those."""
        return min(self.findings, key=lambda f: (f.leaf_index < 0, f.leaf_index, f.problem), default=None)


Dated = list[tuple[str, int, tuple[VerifyingKey, ...]]]


def _checkpoints(
    notes: Iterable[tuple[str, bytes]],
    keys: KeyRing,
    origin: str,
    report: AuditReport,
    witnesses: Sequence[Witness],
    dated: Dated,
) -> dict[int, bytes]:
    """Verified checkpoints by size; unverifiable or disagreeing ones become findings. Those signed only by keys
    since retired go to ``dated``, to be held against the time of their newest leaf."""
    roots: dict[int, bytes] = {}
    for where, note in notes:
        try:
            checkpoint, signers = open_checkpoint_signed(note, keys, origin)
        except VerificationError as error:
            try:
                claimed = f" of size {unverified_checkpoint(note).size}"
            except VerificationError:
                claimed = ""
            report.findings.append(Finding(-1, f"{where} checkpoint{claimed} does not verify: {error}"))
            continue
        if retired_signers(signers, keys):
            dated.append((where, checkpoint.size, signers))
        known = roots.setdefault(checkpoint.size, checkpoint.root)
        if known != checkpoint.root:
            report.findings.append(Finding(-1, f"two signed checkpoints of size {checkpoint.size} disagree"))
        report.checkpoints.append(checkpoint)
        if witnesses:
            _cosignatures(where, note, checkpoint.size, witnesses, report)
    return roots


def _cosignatures(where: str, note: bytes, size: int, witnesses: Sequence[Witness], report: AuditReport) -> None:
    witnessing = check_cosignatures(note, witnesses)
    for invalid in witnessing.invalid:
        report.findings.append(Finding(-1, f"{where} checkpoint of size {size}: the cosignature of {invalid}"))
    report.cosigned[size] = report.cosigned.get(size, frozenset()) | witnessing.valid
    report.legacy += len(witnessing.with_status(Status.LEGACY))


def _quorum(report: AuditReport, witnesses: Sequence[Witness], quorum: int) -> None:
    """The latest checkpoint must carry ``quorum`` valid cosignatures: it vouches for the whole log below it."""
    if quorum <= 0 or not report.checkpoints:
        return
    latest = max(c.size for c in report.checkpoints)
    valid = report.cosigned.get(latest, frozenset())
    if len(valid) >= quorum:
        return
    absent = ", ".join(w.region for w in witnesses if w.region not in valid) or "none listed"
    report.findings.append(
        Finding(
            -1,
            f"the latest checkpoint, of size {latest}, is cosigned by {len(valid)} of the {quorum} witness(es) "
            f"required (not by: {absent}): its history may have been rewritten and re-signed",
        )
    )


def _retired_keys(source: LogSource, keys: KeyRing, dated: Dated, report: AuditReport) -> None:
    """A checkpoint signed by a retired log key is a finding if its newest leaf is dated after the retirement."""
    for where, size, signers in dated:
        if not 0 < size <= report.size:
            continue  # a checkpoint past the log's end is a finding of its own
        rows = source.leaves(size - 1, size)
        body = rows[0].body if rows and not rows[0].redacted else None
        if body is None:
            continue  # a deleted or redacted leaf is a finding of its own; it shows no time
        try:
            require_signed_in_force(signers, keys, Event.from_bytes(body).at)
        except VerificationError as error:
            report.findings.append(Finding(size - 1, f"{where} checkpoint of size {size}: {error}"))
        except (ValueError, KeyError, TypeError):
            continue  # not event JSON: the leaf checks report what is wrong with it


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
    kept_checkpoints: Sequence[bytes] = (),
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
    notes = [("stored", n) for n in source.checkpoint_notes()] + [("kept", n) for n in kept_checkpoints]
    dated: Dated = []
    roots = _checkpoints(notes, keys, origin, report, witnesses, dated)
    _retired_keys(source, keys, dated, report)
    _quorum(report, witnesses, quorum)
    frontier = Frontier(0, [])
    last_seq, next_index = 0, 0
    aligned = True
    for start in range(0, report.size, chunk):
        rows = source.leaves(start, min(start + chunk, report.size))
        hashes = []
        for row in rows:
            hashes.append(_check_leaf(row, next_index, last_seq, report))
            last_seq, next_index = max(last_seq, row.event_seq), row.leaf_index + 1
        present = [h for h in hashes if h is not None]
        aligned = (
            aligned
            and frontier.size == start
            and len(present) == len(rows) == min(chunk, report.size - start)
            and rows[-1].leaf_index == start + len(rows) - 1
        )
        if aligned:
            _verify_aligned(source, frontier, present, roots, report)
        else:
            _verify_leaf_by_leaf(source, frontier, present, roots, report)
        if progress is not None:
            progress(frontier.size, report.size)
    for size in sorted(s for s in roots if s > frontier.size):
        report.findings.append(
            Finding(-1, f"the signed checkpoint of size {size} covers more than the {frontier.size} leaves left")
        )
    for seq in source.orphans():
        report.findings.append(Finding(-1, f"event seq {seq} sits among integrated events but has no leaf (inserted)"))
    return report


def _verify_aligned(
    source: LogSource, frontier: Frontier, hashes: list[bytes], roots: dict[int, bytes], report: AuditReport
) -> None:
    """A chunk that starts at an aligned leaf with every leaf present: whole levels at a time."""
    start = frontier.size
    levels = levels_of(hashes)
    for level in range(1, len(levels)):
        first = start >> level
        stored = source.interior_nodes(level, first, first + len(levels[level]))
        for offset, value in enumerate(levels[level]):
            if stored.get(first + offset) != value:
                index = first + offset
                report.findings.append(
                    Finding(index << level, f"stored tree node ({level}, {index}) differs from the recomputed one")
                )
    before = frontier.edge
    end = start + len(hashes)
    for size in sorted(s for s in roots if start < s <= end):
        inside = [levels[n.level][n.index - (start >> n.level)] for n in perfect_subtrees(start, size)]
        if fold(before + inside) != roots[size]:
            report.findings.append(Finding(size - 1, f"the signed checkpoint of size {size} does not match the log"))
    created: list[tuple[NodeId, bytes]] = []
    for node in perfect_subtrees(start, end):
        created += frontier.push(node, levels[node.level][node.index - (start >> node.level)])[1:]
    _check_interior(source, created, report)
    report.checked += len(hashes)


def _verify_leaf_by_leaf(
    source: LogSource, frontier: Frontier, hashes: list[bytes], roots: dict[int, bytes], report: AuditReport
) -> None:
    """After a gap, alignment is lost: one leaf at a time, as the sequencer built the tree."""
    created: list[tuple[NodeId, bytes]] = []
    for hashed in hashes:
        expected = frontier.size
        created += [node for node in frontier.append(hashed) if node[0].level > 0]
        root = roots.get(frontier.size)
        if root is not None and root != frontier.root:
            report.findings.append(
                Finding(expected, f"the signed checkpoint of size {frontier.size} does not match the log")
            )
        report.checked += 1
    _check_interior(source, created, report)


def _check_interior(source: LogSource, created: list[tuple[NodeId, bytes]], report: AuditReport) -> None:
    """Compare recomputed interior nodes with the stored ones, a level at a time."""
    by_level: dict[int, list[tuple[int, bytes]]] = {}
    for node, value in created:
        by_level.setdefault(node.level, []).append((node.index, value))
    for level, nodes in sorted(by_level.items()):
        stored = source.interior_nodes(level, nodes[0][0], nodes[-1][0] + 1)
        for index, value in nodes:
            if stored.get(index) != value:
                first_leaf = index << level
                report.findings.append(
                    Finding(first_leaf, f"stored tree node ({level}, {index}) differs from the recomputed one")
                )
