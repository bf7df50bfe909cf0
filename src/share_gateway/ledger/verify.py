"""Proof verification, RFC 9162 sections 2.1.3.2 and 2.1.4.2: compute a root, then compare.

``root_from_*`` compute; ``verify_*`` compare and raise ``RootMismatch``
(with both roots) or ``MalformedProof``. Preconditions are checked before
any hashing.
"""

from __future__ import annotations

from collections.abc import Sequence

from share_gateway.ledger.hashing import HASH_SIZE, node_hash


class ProofError(Exception):
    """A proof did not verify."""


class MalformedProof(ProofError):
    """The proof cannot be a proof for these sizes (wrong length, bad hash size, bad indexes)."""


class RootMismatch(ProofError):
    def __init__(self, what: str, expected: bytes, calculated: bytes) -> None:
        self.expected = expected
        self.calculated = calculated
        super().__init__(f"{what}: expected root {expected.hex()}, calculated {calculated.hex()}")


def _check_hashes(proof: Sequence[bytes]) -> None:
    if any(len(h) != HASH_SIZE for h in proof):
        raise MalformedProof("every proof hash is 32 bytes")


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    if not 0 <= index < size:
        raise MalformedProof(f"index {index} is not in a tree of size {size}")
    _check_hashes(proof)
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise MalformedProof("proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise MalformedProof("proof is shorter than the tree is deep")
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> None:
    calculated = root_from_inclusion_proof(index, size, leaf, proof)
    if calculated != root:
        raise RootMismatch(f"inclusion of leaf {index} in tree of size {size}", root, calculated)


def roots_from_consistency_proof(old: int, new: int, old_root: bytes, proof: Sequence[bytes]) -> tuple[bytes, bytes]:
    """The (old, new) roots the proof commits to, given the old root it claims to extend."""
    if not 0 < old < new:
        raise MalformedProof(f"no non-trivial consistency proof from size {old} to size {new}")
    _check_hashes(proof)
    if not proof:
        raise MalformedProof("an empty consistency proof proves nothing")
    path = list(proof)
    if old & (old - 1) == 0:  # old is a power of two: its root is the first subtree
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise MalformedProof("proof is longer than the trees are deep")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise MalformedProof("proof is shorter than the trees are deep")
    return fr, sr


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    """Raise unless the tree of size ``new`` with ``new_root`` extends the one of size ``old`` with ``old_root``."""
    if old == new:
        if proof:
            raise MalformedProof("trees of equal size need an empty proof")
        if old_root != new_root:
            raise RootMismatch(f"two trees of size {old}", old_root, new_root)
        return
    if old == 0:
        if proof:
            raise MalformedProof("any tree extends the empty tree, with an empty proof")
        return
    first, second = roots_from_consistency_proof(old, new, old_root, proof)
    if first != old_root:
        raise RootMismatch(f"consistency from size {old}: old tree", old_root, first)
    if second != new_root:
        raise RootMismatch(f"consistency to size {new}: new tree", new_root, second)
