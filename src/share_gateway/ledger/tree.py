"""Which stored nodes make a root or a proof, and how to fold them (RFC 9162 sections 2.1.1-2.1.4).

A stored node is a perfect subtree: ``NodeId(level, index)`` covers leaves
``[index * 2**level, (index + 1) * 2**level)``; level 0 holds leaf hashes.
Any range a proof needs is cut into perfect subtrees (at most two per level),
so a proof over n leaves touches O(log n) stored nodes, fetched in one go.
Computing which nodes are needed is separate from fetching them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import NamedTuple

from share_gateway.ledger.hashing import EMPTY_ROOT, node_hash


class NodeId(NamedTuple):
    """A tuple, not a dataclass: integration and audits create two per leaf."""

    level: int
    index: int  # type: ignore[assignment]  # shadows tuple.index, which nothing here uses

    @property
    def start(self) -> int:
        return self.index << self.level


Range = tuple[int, int]
Fetch = Callable[[Iterable[NodeId]], Mapping[NodeId, bytes]]


def _largest_power_of_two_below(n: int) -> int:
    """k with k < n <= 2k (the left-heavy split of RFC 9162)."""
    return 1 << ((n - 1).bit_length() - 1)


def perfect_subtrees(start: int, end: int) -> list[NodeId]:
    """Cut ``[start, end)`` into maximal aligned perfect subtrees, left to right."""
    nodes = []
    while start < end:
        level = (start & -start).bit_length() - 1 if start else (end - start).bit_length() - 1
        while (1 << level) > end - start:
            level -= 1
        nodes.append(NodeId(level, start >> level))
        start += 1 << level
    return nodes


def levels_of(leaves: Sequence[bytes]) -> list[list[bytes]]:
    """Every complete interior level above ``leaves`` (which start at an aligned index): level 0 is ``leaves``.

    Whole levels at a time, for verification: a comprehension per level costs far
    less than a frontier step per leaf.
    """
    levels = [list(leaves)]
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append([node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])
    return levels


def fold(hashes: Sequence[bytes]) -> bytes:
    """The hash of consecutive perfect subtrees of decreasing size: fold from the right (RFC 9162 MTH)."""
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The leaf ranges whose hashes form PATH(index, D[size]), from the leaf's sibling upwards (2.1.3.1)."""
    if not 0 <= index < size:
        raise ValueError(f"index {index} is not in a tree of size {size}")
    ranges: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = _largest_power_of_two_below(end - start)
        if index - start < k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    return list(reversed(ranges))


def consistency_ranges(old: int, new: int) -> list[Range]:
    """The leaf ranges whose hashes form PROOF(old, D[new]) (RFC 9162 2.1.4.1 SUBPROOF)."""
    if not 0 < old <= new:
        raise ValueError(f"no consistency proof from size {old} to size {new}")
    ranges: list[Range] = []
    start, end, complete = 0, new, True
    while True:
        m = old - start
        if m == end - start:
            if not complete:
                ranges.append((start, end))
            break
        k = _largest_power_of_two_below(end - start)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
            complete = False
    return list(reversed(ranges))


def nodes_for(ranges: Iterable[Range]) -> set[NodeId]:
    return {node for start, end in ranges for node in perfect_subtrees(start, end)}


def hash_ranges(ranges: Sequence[Range], fetch: Fetch) -> list[bytes]:
    """The hash of each range, fetching every stored node needed in one call."""
    known = fetch(nodes_for(ranges))
    try:
        return [fold([known[node] for node in perfect_subtrees(start, end)]) for start, end in ranges]
    except KeyError as missing:
        raise LookupError(f"stored tree lacks node {missing.args[0]}") from None


def root(size: int, fetch: Fetch) -> bytes:
    if size == 0:
        return EMPTY_ROOT
    return hash_ranges([(0, size)], fetch)[0]


def inclusion_proof(index: int, size: int, fetch: Fetch) -> list[bytes]:
    return hash_ranges(inclusion_ranges(index, size), fetch)


def consistency_proof(old: int, new: int, fetch: Fetch) -> list[bytes]:
    if old == new:
        return []
    return hash_ranges(consistency_ranges(old, new), fetch)


class Frontier:
    """The right edge of a growing tree: appending a leaf yields the stored nodes it completes."""

    def __init__(self, size: int, edge: Sequence[bytes]) -> None:
        nodes = perfect_subtrees(0, size)
        if len(nodes) != len(edge):
            raise ValueError(f"a tree of size {size} has {len(nodes)} edge nodes, not {len(edge)}")
        self.size = size
        self._edge = list(zip(nodes, edge, strict=True))

    @classmethod
    def load(cls, size: int, fetch: Fetch) -> Frontier:
        nodes = perfect_subtrees(0, size)
        known = fetch(nodes)
        return cls(size, [known[node] for node in nodes])

    def append(self, leaf: bytes) -> list[tuple[NodeId, bytes]]:
        """Add one leaf hash; return it and every interior node it completes."""
        return self.push(NodeId(0, self.size), leaf)

    def push(self, node: NodeId, value: bytes) -> list[tuple[NodeId, bytes]]:
        """Add a whole perfect subtree that starts where the tree ends; return it and the nodes it completes."""
        level, index = node
        if index << level != self.size:
            raise ValueError(f"subtree {node} does not start at the tree's end, leaf {self.size}")
        self.size += 1 << level
        created = [(node, value)]
        edge = self._edge
        while edge and edge[-1][0][0] == level:
            (_, left_index), left = edge.pop()
            level, index = level + 1, left_index >> 1
            value = node_hash(left, value)
            node = NodeId(level, index)
            created.append((node, value))
        edge.append((node, value))
        return created

    @property
    def edge(self) -> list[bytes]:
        """The hashes of the perfect subtrees that make the tree, left to right."""
        return [value for _, value in self._edge]

    @property
    def root(self) -> bytes:
        return fold([h for _, h in self._edge]) if self._edge else EMPTY_ROOT
