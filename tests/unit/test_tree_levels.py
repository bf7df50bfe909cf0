"""Whole levels and whole subtrees: what the audit builds a chunk of the tree from (``levels_of``, ``Frontier.push``).

The oracle is the tree the sequencer builds one leaf at a time (``Frontier.append``):
pushing the perfect subtrees of a range must give the same edge, root and stored
nodes, and a subtree that does not start where the tree ends must be refused.
"""

from __future__ import annotations

import pytest

from share_gateway.ledger.hashing import EMPTY_ROOT, leaf_hash, node_hash
from share_gateway.ledger.tree import Frontier, NodeId, levels_of, perfect_subtrees

A, B, C, D, E = (leaf_hash(bytes([i])) for i in range(5))


def appended(size: int) -> tuple[Frontier, dict[NodeId, bytes]]:
    frontier, stored = Frontier(0, []), dict[NodeId, bytes]()
    for i in range(size):
        stored.update(frontier.append(leaf_hash(f"event {i}".encode())))
    return frontier, stored


# --- levels_of --------------------------------------------------------------------------------------


def test_levels_of_four_leaves_are_the_leaves_their_pairs_and_the_root() -> None:
    ab, cd = node_hash(A, B), node_hash(C, D)
    assert levels_of([A, B, C, D]) == [[A, B, C, D], [ab, cd], [node_hash(ab, cd)]]


def test_levels_of_keeps_only_complete_nodes() -> None:
    # Five leaves: E has no sibling yet, so no level holds a node above it.
    ab, cd = node_hash(A, B), node_hash(C, D)
    assert levels_of([A, B, C, D, E]) == [[A, B, C, D, E], [ab, cd], [node_hash(ab, cd)]]
    assert levels_of([A, B, C]) == [[A, B, C], [ab]]


@pytest.mark.parametrize("leaves", [[], [A]])
def test_levels_of_fewer_than_two_leaves_is_the_leaves_alone(leaves: list[bytes]) -> None:
    assert levels_of(leaves) == [leaves]


@pytest.mark.parametrize("size", [2, 7, 8, 13, 32])
def test_levels_of_match_the_nodes_the_sequencer_stores(size: int) -> None:
    _, stored = appended(size)
    levels = levels_of([stored[NodeId(0, i)] for i in range(size)])
    for level, hashes in enumerate(levels):
        assert hashes == [stored[NodeId(level, i)] for i in range(size >> level)], level
    assert len(levels) == size.bit_length()


# --- Frontier.push -----------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 2, 3, 8, 13, 31, 32, 45])
def test_pushing_the_perfect_subtrees_of_a_tree_gives_the_tree_built_leaf_by_leaf(size: int) -> None:
    expected, stored = appended(size)
    frontier = Frontier(0, [])
    created: dict[NodeId, bytes] = {}
    for node in perfect_subtrees(0, size):
        created.update(frontier.push(node, stored[node]))
    assert (frontier.size, frontier.edge, frontier.root) == (size, expected.edge, expected.root)
    assert created == {node: stored[node] for node in perfect_subtrees(0, size)}


def test_a_pushed_subtree_completes_the_nodes_above_it_and_returns_them_in_order() -> None:
    _, stored = appended(16)
    frontier = Frontier(8, [stored[NodeId(3, 0)]])
    # Leaves 8..11 then 12..15: the second push completes (3, 1) and then the root (4, 0).
    assert frontier.push(NodeId(2, 2), stored[NodeId(2, 2)]) == [(NodeId(2, 2), stored[NodeId(2, 2)])]
    assert frontier.push(NodeId(2, 3), stored[NodeId(2, 3)]) == [
        (NodeId(2, 3), stored[NodeId(2, 3)]),
        (NodeId(3, 1), stored[NodeId(3, 1)]),
        (NodeId(4, 0), stored[NodeId(4, 0)]),
    ]
    assert (frontier.size, frontier.edge, frontier.root) == (16, [stored[NodeId(4, 0)]], stored[NodeId(4, 0)])


def test_a_smaller_subtree_after_a_larger_one_completes_nothing() -> None:
    _, stored = appended(6)
    frontier = Frontier(4, [stored[NodeId(2, 0)]])
    assert frontier.push(NodeId(1, 2), stored[NodeId(1, 2)]) == [(NodeId(1, 2), stored[NodeId(1, 2)])]
    assert frontier.edge == [stored[NodeId(2, 0)], stored[NodeId(1, 2)]]
    assert frontier.root == node_hash(stored[NodeId(2, 0)], stored[NodeId(1, 2)])


@pytest.mark.parametrize(
    ("size", "node"),
    [
        (4, NodeId(1, 1)),  # starts at leaf 2, inside the tree
        (4, NodeId(0, 5)),  # starts at leaf 5, leaving a gap
        (4, NodeId(3, 0)),  # starts at leaf 0: a subtree the tree already holds part of
        (6, NodeId(2, 1)),  # starts at leaf 4, not at the end (6)
        (0, NodeId(0, 1)),  # an empty tree starts at leaf 0
    ],
)
def test_a_subtree_that_does_not_start_where_the_tree_ends_is_refused(size: int, node: NodeId) -> None:
    built, _ = appended(size)
    frontier = Frontier(size, built.edge)
    with pytest.raises(ValueError, match=f"does not start at the tree's end, leaf {size}"):
        frontier.push(node, A)
    assert (frontier.size, frontier.edge) == (size, built.edge), "a refused push changes nothing"


def test_a_frontier_needs_one_edge_hash_per_perfect_subtree() -> None:
    assert Frontier(0, []).root == EMPTY_ROOT
    with pytest.raises(ValueError, match="a tree of size 5 has 2 edge nodes, not 1"):
        Frontier(5, [A])
