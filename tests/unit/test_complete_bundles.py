"""Audit bundles v2 without a node: the completeness section holds only for exactly the key's leaves, under an
index checkpoint bound to the entries' checkpoint."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from share_gateway.crypto.keys import KeyPeriod, KeyRing, SigningKey
from share_gateway.ledger.bundle import BundleEntry, BundleError, encode_bundle, verify_bundle
from share_gateway.ledger.bundle_completeness import Completeness
from share_gateway.ledger.index import IndexCheckpoint, IndexEntry, chain_of, key_hash
from share_gateway.ledger.index_tree import IndexTree
from tests.unit.test_checkpoints_and_bundles import BODIES, KEY, KEYS, NOTE, NOW, ORIGIN, TREE_ROOT, event, proof_of

KEY_NAME = "requester:officer"  # every event of the six-leaf log is the officer's


def listed() -> tuple[IndexEntry, ...]:
    return tuple(IndexEntry(i, event(i).to_json()["at"]) for i in range(6))


def index_tree() -> IndexTree:
    return IndexTree([(key_hash(KEY_NAME), chain_of(listed())), (key_hash("requester:other"), bytes(32))])


def completeness(size: int = 6, key: SigningKey = KEY, **changes: object) -> Completeness:
    tree = index_tree()
    note = IndexCheckpoint(ORIGIN, size, TREE_ROOT, tree.root).sign(key)
    section = Completeness(KEY_NAME, note, listed(), tree.prove(key_hash(KEY_NAME)))
    return dataclasses.replace(section, **changes)  # type: ignore[arg-type]


def entries(leaves: range | list[int] = range(6)) -> list[BundleEntry]:
    return [BundleEntry(i, proof_of(i, NOTE), event=BODIES[i]) for i in leaves]


def test_a_bundle_of_every_leaf_of_its_key_is_complete() -> None:
    verified = verify_bundle(encode_bundle(ORIGIN, entries(), completeness()), KEYS, ORIGIN)
    assert verified.complete is not None
    assert (verified.complete.key, verified.complete.leaves, verified.complete.index.size) == (KEY_NAME, 6, 6)


def test_a_time_range_selects_the_leaves_the_bundle_must_hold() -> None:
    ranged = completeness(since=NOW + timedelta(seconds=2), until=NOW + timedelta(seconds=4))
    assert verify_bundle(encode_bundle(ORIGIN, entries([2, 3]), ranged), KEYS, ORIGIN).complete is not None
    with pytest.raises(BundleError, match="leaf 1 is not one of the leaves the index lists"):
        verify_bundle(encode_bundle(ORIGIN, entries([1, 2, 3]), ranged), KEYS, ORIGIN)


@pytest.mark.parametrize(
    ("section", "bundled", "message"),
    [
        (completeness, [0, 1, 2, 4, 5], "leaf 3 is missing: the index lists it under requester:officer"),
        (completeness, [0, 1, 2, 3, 4, 5, 5], "a leaf appears twice"),
        (lambda: completeness(size=5), range(6), "the index checkpoint is of the log of size 5"),
        (lambda: completeness(key=SigningKey.generate(ORIGIN)), range(6), "the index checkpoint"),
        (lambda: completeness(leaves=listed()[:5]), range(5), "are not those the index holds"),
        # The officer's lookup, shown for another requester, proves at most that that one has no leaves.
        (lambda: dataclasses.replace(completeness(), key="requester:x"), range(6), "holds no leaves for requester:x"),
    ],
)
def test_a_completeness_section_that_does_not_hold_fails_naming_why(
    section: object, bundled: range | list[int], message: str
) -> None:
    with pytest.raises(BundleError, match=message):
        verify_bundle(encode_bundle(ORIGIN, entries(bundled), section()), KEYS, ORIGIN)  # type: ignore[operator]


def test_an_index_checkpoint_by_a_log_key_retired_before_the_events_it_covers_is_refused() -> None:
    retired = SigningKey.generate(ORIGIN)
    ring = KeyRing(
        [KEY.verifying_key, retired.verifying_key], {retired.key_id: KeyPeriod(None, NOW - timedelta(days=1))}
    )
    with pytest.raises(BundleError, match="the index checkpoint"):
        verify_bundle(encode_bundle(ORIGIN, entries(), completeness(key=retired)), ring, ORIGIN)
    assert verify_bundle(encode_bundle(ORIGIN, entries(), completeness()), ring, ORIGIN).complete is not None
