"""The whole-log audit on a log held in memory: the chunk and level arithmetic, without a database.

``tests/integration/test_tampering.py`` tampers with a real database; here every
chunk size from one leaf to the whole log runs over the same 40 leaves, with a
signed checkpoint at every size, so a chunk or level offset that is off by one
shows up as a finding on an untouched log, and a replaced node must be named
exactly (level, index and first leaf), whichever chunk it falls in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import pytest

from share_gateway.crypto.keys import KeyRing, SigningKey
from share_gateway.ledger.audit import AuditReport, Finding, audit_log
from share_gateway.ledger.checkpoint import Checkpoint
from share_gateway.ledger.hashing import leaf_hash
from share_gateway.ledger.tree import Frontier, NodeId

KEY = SigningKey.generate("share-gateway/node/110000")
KEYS = KeyRing([KEY.verifying_key])
SIZE = 40
CHUNKS = [1, 4, 8, 16, 65_536]  # leaf by leaf, chunks smaller and larger than a level, the whole log


@dataclass(frozen=True)
class Row:
    leaf_index: int
    event_seq: int
    body: bytes | None
    stored_hash: bytes | None
    redacted: bool = False


@dataclass
class MemoryLog:
    """A ``LogSource``: leaves, the interior nodes the sequencer stored, and signed checkpoints."""

    rows: list[Row]
    nodes: dict[NodeId, bytes]
    notes: list[bytes] = field(default_factory=list)
    orphan_seqs: list[int] = field(default_factory=list)
    claimed_size: int | None = None

    def size(self) -> int:
        return len(self.rows) if self.claimed_size is None else self.claimed_size

    def leaves(self, start: int, end: int) -> Sequence[Row]:
        return [row for row in self.rows if start <= row.leaf_index < end]

    def interior_nodes(self, level: int, first: int, last: int) -> dict[int, bytes]:
        return {n.index: h for n, h in self.nodes.items() if n.level == level and first <= n.index < last}

    def checkpoint_notes(self) -> list[bytes]:
        return self.notes

    def orphans(self) -> list[int]:
        return self.orphan_seqs


def body(i: int) -> bytes:
    return f'{{"id":"event {i}"}}'.encode()


def signed(size: int, root: bytes) -> bytes:
    return Checkpoint(KEY.name, size, root).sign(KEY)


def honest_log(size: int = SIZE) -> tuple[MemoryLog, dict[int, bytes]]:
    """The log as the sequencer leaves it, and the root at every size (to sign checkpoints with)."""
    frontier, nodes, roots = Frontier(0, []), dict[NodeId, bytes](), dict[int, bytes]()
    rows = []
    for i in range(size):
        hashed = leaf_hash(body(i))
        rows.append(Row(i, i + 1, body(i), hashed))
        nodes.update((node, value) for node, value in frontier.append(hashed) if node.level > 0)
        roots[frontier.size] = frontier.root
    return MemoryLog(rows, nodes, [signed(5, roots[5]), signed(size, roots[size])]), roots


def audit(log: MemoryLog, chunk: int, kept: Sequence[bytes] = ()) -> AuditReport:
    return audit_log(log, KEYS, KEY.name, kept, chunk=chunk)


@pytest.mark.parametrize("chunk", CHUNKS)
def test_an_untouched_log_verifies_against_a_checkpoint_at_every_size(chunk: int) -> None:
    log, roots = honest_log()
    kept = [signed(size, root) for size, root in roots.items()]
    report = audit(log, chunk, kept)
    assert report.findings == []
    assert (report.size, report.checked, report.redacted, len(report.checkpoints)) == (SIZE, SIZE, 0, SIZE + 2)


@pytest.mark.parametrize("chunk", [3, 6, 100])
def test_a_chunk_that_is_not_a_power_of_two_is_refused(chunk: int) -> None:
    with pytest.raises(ValueError, match="power of two"):
        audit(honest_log()[0], chunk)


@pytest.mark.parametrize("chunk", CHUNKS)
@pytest.mark.parametrize("node", [NodeId(1, 0), NodeId(1, 11), NodeId(2, 5), NodeId(3, 2), NodeId(4, 1), NodeId(5, 0)])
def test_a_replaced_tree_node_is_named_by_level_index_and_first_leaf(chunk: int, node: NodeId) -> None:
    log, _ = honest_log()
    log.nodes[node] = b"\x00" * 32
    report = audit(log, chunk)
    expected = f"stored tree node ({node.level}, {node.index}) differs from the recomputed one"
    last = ((node.index + 1) << node.level) - 1
    assert report.findings == [Finding(node.start, expected, last)]
    assert str(report.first) == f"leaves {node.start}..{last}: {expected}"
    assert report.verified == node.start


@pytest.mark.parametrize("chunk", CHUNKS)
def test_a_missing_tree_node_is_reported_like_a_replaced_one(chunk: int) -> None:
    log, _ = honest_log()
    del log.nodes[NodeId(3, 4)]
    assert audit(log, chunk).findings == [Finding(32, "stored tree node (3, 4) differs from the recomputed one", 39)]


@pytest.mark.parametrize("chunk", CHUNKS)
@pytest.mark.parametrize("size", [1, 5, 16, 21, 37, 40])
def test_a_checkpoint_over_another_root_is_named_by_its_last_leaf(chunk: int, size: int) -> None:
    log, _ = honest_log()
    log.notes = [signed(size, b"\x07" * 32)]
    report = audit(log, chunk)
    problem = f"the stored checkpoint of size {size} does not match the log"
    assert report.findings == [Finding(size - 1, problem)]


@pytest.mark.parametrize("chunk", CHUNKS)
def test_an_edited_event_is_caught_at_its_leaf_and_only_there(chunk: int) -> None:
    log, _ = honest_log()
    log.rows[22] = replace(log.rows[22], body=body(999))
    assert audit(log, chunk).findings == [Finding(22, "event bytes do not match the stored leaf hash (edited)")]


@pytest.mark.parametrize("chunk", CHUNKS)
def test_after_a_missing_leaf_the_audit_goes_on_leaf_by_leaf_and_names_the_gap(chunk: int) -> None:
    log, _ = honest_log()
    del log.rows[10]
    log.claimed_size = SIZE  # the log still says 40 leaves: one is gone from among them
    report = audit(log, chunk)
    # Every stored node above leaf 10 or later now differs from the tree rebuilt without it: a consequence, counted
    # in one finding at the gap, not reported node by node (a node over leaves 0..15 would otherwise come first).
    moved = sum(1 for level in range(1, 6) for i in range(SIZE >> level) if 10 < (i + 1) << level <= SIZE - 1)
    assert report.findings == [
        Finding(10, "missing from the log (next entry is leaf 11)"),
        Finding(
            10,
            f"{moved} stored tree node(s) over this leaf or later ones differ from the tree rebuilt without the "
            "missing leaf (each later leaf now sits one place early)",
        ),
        Finding(
            SIZE - 1,
            f"missing: the signed checkpoint of size {SIZE} covers more than the {SIZE - 1} leaves left",
            SIZE - 1,
        ),
    ]
    assert str(report.first) == "leaf 10: missing from the log (next entry is leaf 11)"
    assert (report.checked, report.verified) == (SIZE - 1, 10)


def test_a_checkpoint_beyond_the_log_and_an_orphan_event_are_findings_about_no_leaf() -> None:
    log, roots = honest_log()
    log.notes.append(signed(SIZE + 8, roots[SIZE]))
    log.orphan_seqs = [17]
    report = audit(log, 16)
    assert [str(f) for f in report.findings] == [
        f"leaves {SIZE}..{SIZE + 7}: missing: the signed checkpoint of size {SIZE + 8} covers more than the {SIZE} "
        "leaves left",
        "event seq 17 sits among integrated events but has no leaf (inserted)",
    ]
    assert report.verified == SIZE


@pytest.mark.parametrize("chunk", [8, 16, 65_536])
def test_progress_is_reported_after_every_chunk(chunk: int) -> None:
    calls: list[tuple[int, int]] = []
    audit_log(honest_log()[0], KEYS, KEY.name, chunk=chunk, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(min(end, SIZE), SIZE) for end in range(chunk, SIZE + chunk, chunk)]


# --- what a single leaf can be: deleted, redacted, reordered, without its hash ------------------------------


def test_a_deleted_event_is_named_and_its_stored_hash_still_builds_the_tree() -> None:
    log, _ = honest_log()
    log.rows[7] = replace(log.rows[7], body=None)
    assert audit(log, 8).findings == [Finding(7, "the event was deleted")]


def test_a_redacted_event_with_its_stub_and_hash_is_counted_not_reported() -> None:
    log, _ = honest_log()
    stub = b'{"id":"event 7","redacted":true,"redacted_on":"2031-01-01"}'
    log.rows[7] = replace(log.rows[7], body=stub, redacted=True)
    log.rows[9] = replace(log.rows[9], body=stub, redacted=True)
    report = audit(log, 8)
    assert (report.findings, report.redacted, report.checked) == ([], 2, SIZE)


@pytest.mark.parametrize(
    ("body", "stored"),
    [
        (b'{"id":"event 7","redacted":false}', True),  # not a stub
        (b'["redacted"]', True),
        (b"not json", True),
        (b'{"id":"event 7","redacted":true}', False),  # its leaf hash is gone
    ],
)
def test_a_redaction_without_its_stub_or_leaf_hash_is_reported(body: bytes, stored: bool) -> None:
    log, _ = honest_log()
    row = log.rows[7]
    log.rows[7] = replace(row, body=body, redacted=True, stored_hash=row.stored_hash if stored else None)
    findings = audit(log, 8).findings
    assert findings[0] == Finding(7, "redacted without its stored leaf hash or stub")


def test_an_event_out_of_order_is_named_at_its_leaf() -> None:
    log, _ = honest_log()
    log.rows[12] = replace(log.rows[12], event_seq=log.rows[11].event_seq)  # the same seq again
    assert audit(log, 8).findings == [Finding(12, "events out of order: reordered or re-inserted")]


def test_a_missing_stored_leaf_hash_is_named_and_the_event_bytes_build_the_tree() -> None:
    log, _ = honest_log()
    log.rows[3] = replace(log.rows[3], stored_hash=None)
    assert audit(log, 8).findings == [Finding(3, "its stored leaf hash is missing")]


def test_checkpoints_that_do_not_verify_or_disagree_are_findings_naming_each_checkpoint() -> None:
    log, roots = honest_log()
    stranger = SigningKey.generate(KEY.name)  # the same name, another key
    log.notes.append(Checkpoint(KEY.name, 5, roots[5]).sign(stranger))
    log.notes.append(b"not a note")
    report = audit(log, 8, [signed(5, roots[6])])
    assert [(f.leaf_index, f.location, f.problem.split(":")[0]) for f in report.findings] == [
        (-1, "the stored checkpoint of size 5", "the stored checkpoint of size 5 does not verify"),
        (-1, "the stored checkpoint", "the stored checkpoint does not verify"),
        (
            -1,
            "the checkpoints of size 5",
            f"the stored checkpoint of size 5 (root {roots[5].hex()[:16]}…) and the "
            f"kept checkpoint of size 5 (no. 1) (root {roots[6].hex()[:16]}…) are both signed by the log key and "
            "disagree",
        ),
        (0, "leaves 0..4", "the log no longer matches the kept checkpoint of size 5 (no. 1)"),
    ]
    assert report.verified == 0
    assert str(Finding(4, "x")) == "leaf 4: x"
    assert str(Finding(0, "x")) == "leaf 0: x"
    assert str(Finding(4, "x", 4)) == "leaf 4: x"
    assert str(Finding(4, "x", 7)) == "leaves 4..7: x"
