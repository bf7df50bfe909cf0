"""The verifiable index's map: a sparse Merkle tree over 256-bit key hashes, with short lookups and non-membership.

A sparse Merkle tree (as in Diem's and Aptos's "Jellyfish" tree) and not a sorted
Merkle tree, because keys arrive in hash order, not insertion order: a new key
changes one path, never shifts the rest, and a missing key is proved by the
empty subtree or the other key where it would sit. The tree is the full binary
tree of depth 256, hashed with three rules:

* a subtree holding no key hashes to 32 zero bytes (``EMPTY``);
* a subtree holding exactly one key, at any depth, hashes to
  ``SHA-256(0x00 || key_hash || value_hash)`` (the leaf is lifted to where its
  subtree stops being shared, so a path is about log2(keys) long, not 256);
* any other subtree hashes to ``SHA-256(0x01 || left || right)``.

Bit ``i`` of a key hash (most significant bit of byte 0 first) chooses the
right child at depth ``i`` when it is 1. The tree is kept in memory as a
compressed trie: one branch per bit where keys part, so an update costs
O(log keys) hashes, fewer for a batch (changed branches are hashed again once,
when the root is next asked for).
"""

from __future__ import annotations

import base64
import hashlib
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass

from share_gateway.ledger.verify import ProofError

EMPTY = bytes(32)
DEPTH = 256


def map_leaf_hash(key_hash: bytes, value_hash: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + key_hash + value_hash).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _bit(key: int, depth: int) -> int:
    return (key >> (DEPTH - 1 - depth)) & 1


def _parting(a: int, b: int) -> int:
    """The first depth at which two different keys take different sides."""
    return DEPTH - (a ^ b).bit_length()


@dataclass(slots=True)
class _Leaf:
    key: int
    value: bytes
    hash: bytes


@dataclass(slots=True)
class _Branch:
    depth: int  # where its keys part; they all share the bits above
    key: int  # any key below, for the shared bits
    left: _Leaf | _Branch
    right: _Leaf | _Branch
    hash: bytes | None  # the subtree's hash at ``depth``; None until asked for again after a change below


_Tree = _Leaf | _Branch | None


def _at(node: _Leaf | _Branch, depth: int) -> bytes:
    """The node's subtree hash seen from ``depth`` (at or above it): a leaf is the same anywhere, a branch
    lower down is wrapped once per level with an empty sibling."""
    if isinstance(node, _Leaf):
        return node.hash
    if node.hash is None:
        node.hash = _node(_at(node.left, node.depth + 1), _at(node.right, node.depth + 1))
    value = node.hash
    for level in range(node.depth - 1, depth - 1, -1):
        value = _node(value, EMPTY) if _bit(node.key, level) == 0 else _node(EMPTY, value)
    return value


def _branch(depth: int, a: _Leaf | _Branch, b: _Leaf | _Branch) -> _Branch:
    left, right = (a, b) if _bit(a.key, depth) == 0 else (b, a)
    return _Branch(depth, a.key, left, right, None)


@dataclass(frozen=True, slots=True)
class LookupProof:
    """What a lookup shows: the sibling hashes from the top down, and what sits where the path ends (the key's own
    leaf, another key's leaf sharing the path, or nothing)."""

    siblings: tuple[bytes, ...]
    leaf_key: bytes | None = None
    leaf_value: bytes | None = None

    def to_json(self) -> dict[str, object]:
        doc: dict[str, object] = {"siblings": [base64.b64encode(s).decode() for s in self.siblings]}
        if self.leaf_key is not None and self.leaf_value is not None:
            doc["leaf"] = {
                "key_hash": base64.b64encode(self.leaf_key).decode(),
                "value_hash": base64.b64encode(self.leaf_value).decode(),
            }
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, object]) -> LookupProof:
        siblings = doc["siblings"]
        if not isinstance(siblings, list) or len(siblings) > DEPTH:
            raise ProofError("a lookup proof has at most 256 siblings")
        leaf = doc.get("leaf")
        if leaf is None:
            return cls(tuple(_hash(s) for s in siblings))
        if not isinstance(leaf, dict):
            raise ProofError("a lookup proof's leaf is an object")
        return cls(tuple(_hash(s) for s in siblings), _hash(leaf["key_hash"]), _hash(leaf["value_hash"]))


def _hash(text: object) -> bytes:
    if not isinstance(text, str):
        raise ProofError("a hash is base64 text")
    value = base64.b64decode(text, validate=True)
    if len(value) != 32:
        raise ProofError("a hash is 32 bytes")
    return value


def verify_lookup(root: bytes, key_hash: bytes, proof: LookupProof) -> bytes | None:
    """The value hash the tree of ``root`` holds for ``key_hash``, or None if it holds none; raise if the proof
    does not lead to ``root``."""
    key = int.from_bytes(key_hash)
    depth = len(proof.siblings)
    if proof.leaf_key is None or proof.leaf_value is None:
        value, found = EMPTY, None
    else:
        other = int.from_bytes(proof.leaf_key)
        if other != key and _parting(key, other) < depth:
            raise ProofError("the proof's leaf does not sit on the key's path")
        value = map_leaf_hash(proof.leaf_key, proof.leaf_value)
        found = proof.leaf_value if other == key else None
    for level in range(depth - 1, -1, -1):
        sibling = proof.siblings[level]
        value = _node(value, sibling) if _bit(key, level) == 0 else _node(sibling, value)
    if value != root:
        raise ProofError("the lookup proof does not lead to the index root")
    return found


class IndexTree:
    """The map from key hash to value hash, its root, and lookups: kept in memory, built once from stored values and
    then updated a key at a time."""

    def __init__(self, values: Iterable[tuple[bytes, bytes]] = ()) -> None:
        items = sorted((int.from_bytes(k), v) for k, v in values)
        self._root: _Tree = _build(items, 0) if items else None
        self.keys = len(items)

    @property
    def root(self) -> bytes:
        return EMPTY if self._root is None else _at(self._root, 0)

    def set(self, key_hash: bytes, value_hash: bytes) -> None:
        key = int.from_bytes(key_hash)
        leaf = _Leaf(key, value_hash, map_leaf_hash(key_hash, value_hash))
        if self._root is None:
            self._root, self.keys = leaf, 1
            return
        self._root = self._insert(self._root, leaf)

    def _insert(self, node: _Leaf | _Branch, leaf: _Leaf) -> _Leaf | _Branch:
        if isinstance(node, _Leaf):
            if node.key == leaf.key:
                return leaf
            self.keys += 1
            return _branch(_parting(node.key, leaf.key), node, leaf)
        parting = _parting(node.key, leaf.key)
        if parting < node.depth:
            self.keys += 1
            return _branch(parting, node, leaf)
        if _bit(leaf.key, node.depth) == 0:
            node.left = self._insert(node.left, leaf)
        else:
            node.right = self._insert(node.right, leaf)
        node.hash = None  # hashed again when the root is asked for: a batch of keys shares the upper levels
        return node

    def prove(self, key_hash: bytes) -> LookupProof:
        key, node, depth = int.from_bytes(key_hash), self._root, 0
        siblings: list[bytes] = []
        while isinstance(node, _Branch):
            parting = _parting(key, node.key) if key != node.key else DEPTH
            if parting < node.depth:
                siblings += [EMPTY] * (parting - depth) + [_at(node, parting + 1)]
                return LookupProof(tuple(siblings))
            siblings += [EMPTY] * (node.depth - depth)
            near, far = (node.left, node.right) if _bit(key, node.depth) == 0 else (node.right, node.left)
            siblings.append(_at(far, node.depth + 1))
            depth = node.depth + 1
            node = near
        if node is None:
            return LookupProof(tuple(siblings))
        return LookupProof(tuple(siblings), node.key.to_bytes(32), node.value)


def _build(items: list[tuple[int, bytes]], depth: int) -> _Leaf | _Branch:
    """The trie of sorted, distinct keys: split where the first and last key part."""
    if len(items) == 1:
        key, value = items[0]
        return _Leaf(key, value, map_leaf_hash(key.to_bytes(32), value))
    parting = _parting(items[0][0], items[-1][0])
    # Keys below the parting bit's 1 come first: the first key with that bit set starts the right side.
    boundary = ((items[0][0] >> (DEPTH - parting)) << (DEPTH - parting)) | (1 << (DEPTH - 1 - parting))
    split = bisect_left(items, (boundary, b""))
    left, right = _build(items[:split], parting + 1), _build(items[split:], parting + 1)
    return _Branch(parting, items[0][0], left, right, _node(_at(left, parting + 1), _at(right, parting + 1)))
