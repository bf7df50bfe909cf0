"""The verifiable index's map and checkpoint: roots as the rules say, lookups that prove presence and absence."""

from __future__ import annotations

import hashlib
import random

import pytest

from share_gateway.crypto.keys import KeyRing, SigningKey
from share_gateway.ledger.checkpoint import MalformedCheckpoint
from share_gateway.ledger.index import IndexCheckpoint, IndexEntry, chain_of, key_hash, open_index_checkpoint
from share_gateway.ledger.index_tree import EMPTY, IndexTree, LookupProof, map_leaf_hash, verify_lookup
from share_gateway.ledger.verify import ProofError

KEY = SigningKey.generate("share-gateway/node/110000")


def by_the_rules(items: list[tuple[bytes, bytes]], depth: int = 0) -> bytes:
    """The root computed straight from the three hashing rules, over the full 256-level tree."""
    if not items:
        return EMPTY
    if len(items) == 1:
        return map_leaf_hash(*items[0])
    left = [i for i in items if not (int.from_bytes(i[0]) >> (255 - depth)) & 1]
    right = [i for i in items if (int.from_bytes(i[0]) >> (255 - depth)) & 1]
    return hashlib.sha256(b"\x01" + by_the_rules(left, depth + 1) + by_the_rules(right, depth + 1)).digest()


def values(count: int, seed: int) -> dict[bytes, bytes]:
    draw = random.Random(seed)
    return {key_hash(f"subject:legal_entity:{draw.random()}"): draw.randbytes(32) for _ in range(count)}


@pytest.mark.parametrize("count", [0, 1, 2, 3, 17, 200])
def test_the_root_follows_the_rules_whether_built_at_once_or_a_key_at_a_time(count: int) -> None:
    held = values(count, count)
    built, grown = IndexTree(held.items()), IndexTree()
    for key, value in held.items():
        grown.set(key, value)
    assert built.root == grown.root == by_the_rules(list(held.items()))
    if held:
        key = next(iter(held))
        held[key] = bytes(32)
        built.set(key, bytes(32))
        assert built.root == by_the_rules(list(held.items()))
        assert built.keys == count


def test_a_lookup_proves_a_keys_value_and_the_absence_of_any_other() -> None:
    held = values(300, 1)
    tree = IndexTree(held.items())
    for key, value in list(held.items())[:50]:
        assert verify_lookup(tree.root, key, LookupProof.from_json(tree.prove(key).to_json())) == value
    for absent in (key_hash(f"requester:sgw://institution/{i}") for i in range(50)):
        assert verify_lookup(tree.root, absent, tree.prove(absent)) is None
    assert verify_lookup(EMPTY, key_hash("x"), IndexTree().prove(key_hash("x"))) is None


def test_a_lookup_proof_for_another_key_or_root_does_not_verify() -> None:
    held = values(40, 2)
    tree = IndexTree(held.items())
    present, other = list(held)[:2]
    with pytest.raises(ProofError):
        verify_lookup(tree.root, other, tree.prove(present))  # present's leaf does not sit on other's path
    proof = tree.prove(present)
    with pytest.raises(ProofError):
        verify_lookup(tree.root, present, LookupProof(proof.siblings, present, bytes(32)))
    with pytest.raises(ProofError):
        verify_lookup(IndexTree(list(held.items())[1:]).root, present, proof)


def test_a_keys_value_is_its_entries_chained_in_leaf_order() -> None:
    first, second = IndexEntry(3, "2026-11-26T10:00:00.000000Z"), IndexEntry(9, "2026-11-26T10:00:01.000000Z")
    step = hashlib.sha256(b"\x02" + bytes(32) + (3).to_bytes(8) + first.at.encode()).digest()
    assert chain_of([first]) == step
    assert chain_of([first, second]) == hashlib.sha256(b"\x02" + step + (9).to_bytes(8) + second.at.encode()).digest()
    assert chain_of([]) == bytes(32)


def test_an_index_checkpoint_is_a_signed_note_of_five_lines_opened_only_for_its_origin() -> None:
    checkpoint = IndexCheckpoint(KEY.name, 41, b"\x01" * 32, b"\x02" * 32)
    assert checkpoint.text().splitlines() == [
        "share-gateway/index-checkpoint@v1",
        KEY.name,
        "41",
        "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=",
        "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=",
    ]
    note = checkpoint.sign(KEY)
    assert open_index_checkpoint(note, KeyRing([KEY.verifying_key]), KEY.name) == checkpoint
    with pytest.raises(MalformedCheckpoint):
        open_index_checkpoint(note, KeyRing([KEY.verifying_key]), "share-gateway/node/310000")
    with pytest.raises(MalformedCheckpoint):
        IndexCheckpoint.parse(f"{KEY.name}\n41\n{'A' * 43}=\n")
