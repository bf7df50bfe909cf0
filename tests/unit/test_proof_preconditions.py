"""Proofs that cannot be proofs are malformed, each refused before any hashing (RFC 9162 2.1.3.2, 2.1.4.2).

Each case isolates one precondition: the rest of the proof is well formed, so a
verifier that skipped the check would answer something else (accept the proof,
or call it a root mismatch). The trees are built with the test-only oracle's
leaves (``event i``) and our own stored-tree code, as in ``test_ledger_tree``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import pytest

from share_gateway.domain.errors import InvalidInput
from share_gateway.ledger.checkpoint import Checkpoint
from share_gateway.ledger.hashing import leaf_hash, node_hash
from share_gateway.ledger.tree import (
    Frontier,
    NodeId,
    consistency_proof,
    consistency_ranges,
    inclusion_proof,
    inclusion_ranges,
)
from share_gateway.ledger.verify import (
    MalformedProof,
    RootMismatch,
    root_from_inclusion_proof,
    roots_from_consistency_proof,
    verify_consistency,
    verify_inclusion,
)
from share_gateway.ledger.witness import Witnessed, check_extends

LEAF = leaf_hash(b"event 0")


def stored_tree(size: int) -> dict[NodeId, bytes]:
    frontier, stored = Frontier(0, []), dict[NodeId, bytes]()
    for i in range(size):
        stored.update(frontier.append(leaf_hash(f"event {i}".encode())))
    return stored


STORED = stored_tree(16)


def fetch(ids: Iterable[NodeId]) -> dict[NodeId, bytes]:
    return {i: STORED[i] for i in ids if i in STORED}


def tree_root(size: int) -> bytes:
    frontier = Frontier(0, [])
    for i in range(size):
        frontier.append(leaf_hash(f"event {i}".encode()))
    return frontier.root


# --- inclusion: the index must lie inside the tree ------------------------------------------------


def test_the_only_leaf_of_a_tree_of_one_is_included_with_an_empty_proof() -> None:
    """The accepted neighbour of the cases below: index 0, size 1, empty proof, root = leaf hash."""
    verify_inclusion(0, 1, LEAF, [], LEAF)


def test_index_equal_to_size_is_malformed_even_when_the_hashes_would_match() -> None:
    # Index 1 in a tree of size 1: with no range check the empty proof folds to the leaf, which is the root.
    with pytest.raises(MalformedProof, match="index 1 is not in a tree of size 1"):
        verify_inclusion(1, 1, LEAF, [], LEAF)
    with pytest.raises(MalformedProof, match="index 1 is not in a tree of size 1"):
        root_from_inclusion_proof(1, 1, LEAF, [])


def test_a_negative_index_is_malformed_even_when_the_hashes_would_match() -> None:
    with pytest.raises(MalformedProof, match="index -1 is not in a tree of size 1"):
        verify_inclusion(-1, 1, LEAF, [], LEAF)


@pytest.mark.parametrize(("index", "size"), [(4, 4), (16, 16), (-1, 16), (-16, 16)])
def test_an_index_outside_a_larger_tree_is_malformed(index: int, size: int) -> None:
    # The proof of the last (or first) leaf, so only the index is wrong.
    proof = inclusion_proof(size - 1 if index >= size else 0, size, fetch)
    with pytest.raises(MalformedProof, match="is not in a tree"):
        verify_inclusion(index, size, LEAF, proof, tree_root(size))


def test_an_inclusion_proof_in_an_empty_tree_is_malformed() -> None:
    with pytest.raises(MalformedProof):
        verify_inclusion(0, 0, LEAF, [], hashlib.sha256(b"").digest())


@pytest.mark.parametrize("length", [0, 31, 33, 64])
def test_an_inclusion_proof_hash_of_another_length_is_malformed(length: int) -> None:
    proof = inclusion_proof(3, 8, fetch)
    bad = [*proof[:-1], b"\x01" * length]
    with pytest.raises(MalformedProof, match="32 bytes"):
        verify_inclusion(3, 8, leaf_hash(b"event 3"), bad, tree_root(8))


# --- consistency: only from a smaller tree to a larger one, with a whole proof of 32-byte hashes -----


OLD, NEW = 6, 13
PROOF = consistency_proof(OLD, NEW, fetch)


def test_the_consistency_proof_used_below_verifies() -> None:
    verify_consistency(OLD, NEW, tree_root(OLD), tree_root(NEW), PROOF)


@pytest.mark.parametrize(("old", "new"), [(NEW, OLD), (8, 4), (2, 1)])
def test_a_consistency_proof_from_a_larger_tree_to_a_smaller_one_is_malformed(old: int, new: int) -> None:
    # The roots and proof of the honest direction, swapped with the sizes: only the direction is wrong.
    proof = consistency_proof(new, old, fetch)
    with pytest.raises(MalformedProof, match=f"from size {old} to size {new}"):
        verify_consistency(old, new, tree_root(old), tree_root(new), proof)
    with pytest.raises(MalformedProof):
        roots_from_consistency_proof(old, new, tree_root(old), proof)


def test_a_consistency_proof_from_the_empty_tree_through_roots_from_is_malformed() -> None:
    with pytest.raises(MalformedProof, match="from size 0"):
        roots_from_consistency_proof(0, NEW, tree_root(0), PROOF)


@pytest.mark.parametrize("keep", range(len(PROOF)))
def test_a_truncated_consistency_proof_is_malformed(keep: int) -> None:
    with pytest.raises(MalformedProof, match=r"empty|shorter"):
        verify_consistency(OLD, NEW, tree_root(OLD), tree_root(NEW), PROOF[:keep])


def test_a_truncated_consistency_proof_from_a_power_of_two_is_malformed() -> None:
    # From size 4 the old root itself starts the path, so a proof one hash short still has hashes to fold.
    proof = consistency_proof(4, 13, fetch)
    with pytest.raises(MalformedProof, match="shorter"):
        verify_consistency(4, 13, tree_root(4), tree_root(13), proof[:-1])


def test_a_consistency_proof_with_a_hash_too_many_is_malformed() -> None:
    with pytest.raises(MalformedProof, match="longer"):
        verify_consistency(OLD, NEW, tree_root(OLD), tree_root(NEW), [*PROOF, PROOF[0]])


@pytest.mark.parametrize("length", [0, 31, 33])
@pytest.mark.parametrize("position", [0, -1])
def test_a_consistency_proof_hash_of_another_length_is_malformed(length: int, position: int) -> None:
    bad = list(PROOF)
    bad[position] = b"\x02" * length
    with pytest.raises(MalformedProof, match="32 bytes"):
        verify_consistency(OLD, NEW, tree_root(OLD), tree_root(NEW), bad)


def test_equal_sizes_need_an_empty_proof_and_any_tree_extends_the_empty_one_only_with_an_empty_proof() -> None:
    verify_consistency(NEW, NEW, tree_root(NEW), tree_root(NEW), [])
    with pytest.raises(MalformedProof, match="equal size"):
        verify_consistency(NEW, NEW, tree_root(NEW), tree_root(NEW), [tree_root(NEW)])
    with pytest.raises(MalformedProof, match="empty tree"):
        verify_consistency(0, NEW, tree_root(0), tree_root(NEW), [tree_root(NEW)])


def test_a_consistency_proof_fold_is_what_rfc_9162_computes() -> None:
    """The two roots the proof commits to, spelled out for 2 -> 3: old = MTH(0..1), new = H(old, leaf 2)."""
    old_root = node_hash(leaf_hash(b"event 0"), leaf_hash(b"event 1"))
    new_root = node_hash(old_root, leaf_hash(b"event 2"))
    assert roots_from_consistency_proof(2, 3, old_root, [leaf_hash(b"event 2")]) == (old_root, new_root)


# --- a witness: a proof where nothing was cosigned is malformed input, not evidence of a fork ---------------


def test_a_witness_that_cosigned_the_empty_tree_takes_no_proof() -> None:
    empty = Witnessed(0, hashlib.sha256(b"").digest())
    check_extends(empty, 0, Checkpoint("share-gateway/node/110000", NEW, tree_root(NEW)), [])
    with pytest.raises(InvalidInput) as refused:
        check_extends(empty, 0, Checkpoint("share-gateway/node/110000", NEW, tree_root(NEW)), PROOF)
    assert [(v.field, v.description) for v in refused.value.violations] == [
        ("consistency_proof", "must be empty when nothing was cosigned before")
    ]


def test_roots_from_a_consistency_proof_need_two_different_sizes() -> None:
    with pytest.raises(MalformedProof, match=f"from size {NEW} to size {NEW}"):
        roots_from_consistency_proof(NEW, NEW, tree_root(NEW), PROOF)


def test_a_root_mismatch_carries_the_expected_and_the_calculated_root() -> None:
    wrong = b"\x09" * 32
    with pytest.raises(RootMismatch) as mismatch:
        verify_consistency(OLD, NEW, tree_root(OLD), wrong, PROOF)
    assert (mismatch.value.expected, mismatch.value.calculated) == (wrong, tree_root(NEW))


def test_proof_ranges_exist_only_inside_the_tree() -> None:
    assert inclusion_ranges(0, 1) == []
    assert consistency_ranges(NEW, NEW) == []
    for index, size in ((1, 1), (5, 5), (-1, 5)):
        with pytest.raises(ValueError, match="is not in a tree"):
            inclusion_ranges(index, size)
    for old, new in ((0, 5), (6, 5)):
        with pytest.raises(ValueError, match="no consistency proof"):
            consistency_ranges(old, new)
