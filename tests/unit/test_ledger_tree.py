"""The Merkle tree against RFC 9162 vectors and a deliberately naive reference implementation (the oracle)."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

from share_gateway.ledger.hashing import EMPTY_ROOT, leaf_hash, node_hash
from share_gateway.ledger.tree import (
    Frontier,
    NodeId,
    consistency_proof,
    inclusion_proof,
    perfect_subtrees,
    root,
)
from share_gateway.ledger.verify import (
    MalformedProof,
    RootMismatch,
    verify_consistency,
    verify_inclusion,
)

VECTORS = json.loads((Path(__file__).parent / "testdata" / "rfc9162_vectors.json").read_text())
MAX_SIZE = 300


# --- the oracle: RFC 9162 section 2.1 written as plainly as possible -----------------


def mth(leaves: list[bytes]) -> bytes:
    return _mth(tuple(leaves))


@functools.cache
def _mth(leaves: tuple[bytes, ...]) -> bytes:
    """MTH of RFC 9162 2.1.1, memoised so that the oracle can check every size up to a few hundred."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + _mth(leaves[:k]) + _mth(leaves[k:])).digest()


def naive_path(m: int, leaves: list[bytes]) -> list[bytes]:
    if len(leaves) <= 1:
        return []
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    if m < k:
        return [*naive_path(m, leaves[:k]), mth(leaves[k:])]
    return [*naive_path(m - k, leaves[k:]), mth(leaves[:k])]


def naive_subproof(m: int, leaves: list[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [mth(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*naive_subproof(m, leaves[:k], complete), mth(leaves[k:])]
    return [*naive_subproof(m - k, leaves[k:], False), mth(leaves[:k])]


# --- a stored tree built with the Frontier, as the sequencer builds it ---------------


def leaves_of(size: int) -> list[bytes]:
    return [f"event {i}".encode() for i in range(size)]


def build(leaves: list[bytes]) -> dict[NodeId, bytes]:
    stored: dict[NodeId, bytes] = {}
    frontier = Frontier(0, [])
    for data in leaves:
        stored.update(frontier.append(leaf_hash(data)))
    return stored


def fetcher(stored: Mapping[NodeId, bytes]):  # type: ignore[no-untyped-def]
    def fetch(ids: Iterable[NodeId]) -> dict[NodeId, bytes]:
        return {i: stored[i] for i in ids if i in stored}

    return fetch


FULL = leaves_of(MAX_SIZE)
STORED = build(FULL)
FETCH = fetcher(STORED)


@pytest.mark.parametrize("size", range(9))
def test_roots_match_the_rfc9162_vectors(size: int) -> None:
    leaves = [bytes.fromhex(h) for h in VECTORS["leaves_hex"][:size]]
    expected = bytes.fromhex(VECTORS["roots_by_size"][str(size)])
    assert root(size, fetcher(build(leaves))) == expected
    assert mth(leaves) == expected, "the oracle itself must agree with the vectors"


def test_every_root_matches_the_oracle_and_the_frontier() -> None:
    frontier = Frontier(0, [])
    assert frontier.root == EMPTY_ROOT
    for size in range(1, MAX_SIZE + 1):
        frontier.append(leaf_hash(FULL[size - 1]))
        expected = mth(FULL[:size])
        assert root(size, FETCH) == expected, size
        assert frontier.root == expected, size
        assert Frontier.load(size, FETCH).root == expected, size


def test_every_inclusion_proof_matches_the_oracle_and_verifies() -> None:
    for size in range(1, MAX_SIZE + 1):
        tree_root = mth(FULL[:size])
        for index in range(size):
            proof = inclusion_proof(index, size, FETCH)
            assert proof == naive_path(index, FULL[:size]), (index, size)
            verify_inclusion(index, size, leaf_hash(FULL[index]), proof, tree_root)


def test_every_consistency_proof_matches_the_oracle_and_verifies() -> None:
    for new in range(1, 160):
        new_root = mth(FULL[:new])
        for old in range(1, new + 1):
            proof = consistency_proof(old, new, FETCH)
            expected = [] if old == new else naive_subproof(old, FULL[:new], True)
            assert proof == expected, (old, new)
            verify_consistency(old, new, mth(FULL[:old]), new_root, proof)


def test_perfect_subtrees_cover_a_range_exactly_once() -> None:
    for start in range(0, 40):
        for end in range(start, 80):
            nodes = perfect_subtrees(start, end)
            covered = [leaf for node in nodes for leaf in range(node.start, node.start + (1 << node.level))]
            assert covered == list(range(start, end))


# --- mutations: each must fail, named as in transparency-dev's vectors ----------------

SIZE, INDEX = 77, 42
ROOT = mth(FULL[:SIZE])
LEAF = leaf_hash(FULL[INDEX])
PROOF = inclusion_proof(INDEX, SIZE, FETCH)


def test_inclusion_mutations_fail() -> None:
    with pytest.raises(RootMismatch):
        verify_inclusion(INDEX, SIZE, leaf_hash(b"forged"), PROOF, ROOT)  # wrong-leaf
    with pytest.raises(RootMismatch):
        verify_inclusion(INDEX, SIZE, LEAF, [PROOF[1], PROOF[0], *PROOF[2:]], ROOT)  # swapped-proof
    with pytest.raises(RootMismatch):
        verify_inclusion(INDEX + 1, SIZE, LEAF, PROOF, ROOT)  # wrong-index
    with pytest.raises(RootMismatch):
        verify_inclusion(INDEX, SIZE, LEAF, [node_hash(PROOF[0], PROOF[0]), *PROOF[1:]], ROOT)  # modified-proof[0]
    with pytest.raises(MalformedProof):
        verify_inclusion(INDEX, SIZE, LEAF, [*PROOF, PROOF[0]], ROOT)  # trailing-garbage
    with pytest.raises(MalformedProof):
        verify_inclusion(INDEX, SIZE, LEAF, PROOF[:-1], ROOT)  # truncated
    with pytest.raises(MalformedProof):
        verify_inclusion(SIZE, SIZE, LEAF, PROOF, ROOT)  # index-beyond-size
    with pytest.raises(MalformedProof):
        verify_inclusion(INDEX, SIZE, LEAF, [PROOF[0][:31], *PROOF[1:]], ROOT)  # short-hash


def test_consistency_mutations_fail() -> None:
    old, new = 30, SIZE
    old_root, new_root = mth(FULL[:old]), ROOT
    proof = consistency_proof(old, new, FETCH)
    verify_consistency(old, new, old_root, new_root, proof)
    with pytest.raises(RootMismatch):
        verify_consistency(old, new, new_root, old_root, proof)  # swapped-roots
    with pytest.raises(RootMismatch):
        verify_consistency(old, new, mth([b"rewritten", *FULL[1:old]]), new_root, proof)  # rewritten-history
    with pytest.raises(MalformedProof):
        verify_consistency(old, new, old_root, new_root, [])  # empty-proof
    with pytest.raises(MalformedProof):
        verify_consistency(old, new, old_root, new_root, [*proof, proof[0]])  # trailing-garbage
    with pytest.raises(RootMismatch):
        verify_consistency(old, old, old_root, new_root, [])  # equal-sizes-different-roots
    verify_consistency(0, new, b"", new_root, [])  # everything extends the empty tree


def test_a_missing_stored_node_is_reported() -> None:
    damaged = dict(STORED)
    del damaged[NodeId(3, 1)]
    with pytest.raises(LookupError, match="NodeId"):
        inclusion_proof(0, 64, fetcher(damaged))
