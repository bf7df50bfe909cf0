"""A witness cosigns a checkpoint only if a consistency proof shows it extends the last one it cosigned."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from share_gateway.domain.errors import InvalidInput
from share_gateway.ledger.checkpoint import Checkpoint
from share_gateway.ledger.hashing import leaf_hash
from share_gateway.ledger.tree import Frontier, NodeId, consistency_proof, root
from share_gateway.ledger.witness import InconsistentCheckpoint, SizeMismatch, Witnessed, check_extends

ORIGIN = "share-gateway/node/110000"


class Log:
    """An honest log of ``size`` leaves (and a forked one when ``fork`` names a leaf to change)."""

    def __init__(self, size: int, fork: int | None = None) -> None:
        self.stored: dict[NodeId, bytes] = {}
        frontier = Frontier(0, [])
        for i in range(size):
            self.stored.update(frontier.append(leaf_hash(f"event {i}{'*' if i == fork else ''}".encode())))

    def fetch(self, ids: Iterable[NodeId]) -> dict[NodeId, bytes]:
        return {i: self.stored[i] for i in ids if i in self.stored}

    def checkpoint(self, size: int) -> Checkpoint:
        return Checkpoint(ORIGIN, size, root(size, self.fetch))

    def witnessed(self, size: int) -> Witnessed:
        return Witnessed(size, root(size, self.fetch))

    def proof(self, old: int, new: int) -> list[bytes]:
        return consistency_proof(old, new, self.fetch)


HONEST = Log(40)


def test_the_first_checkpoint_is_cosigned_without_a_proof() -> None:
    check_extends(None, 0, HONEST.checkpoint(7), [])
    with pytest.raises(InvalidInput):
        check_extends(None, 0, HONEST.checkpoint(7), HONEST.proof(3, 7))


@pytest.mark.parametrize(("old", "new"), [(1, 2), (3, 7), (7, 7), (8, 40), (13, 37)])
def test_a_checkpoint_that_extends_the_last_one_is_cosigned(old: int, new: int) -> None:
    check_extends(HONEST.witnessed(old), old, HONEST.checkpoint(new), HONEST.proof(old, new))


def test_a_wrong_old_size_names_the_size_the_witness_knows() -> None:
    with pytest.raises(SizeMismatch) as raised:
        check_extends(HONEST.witnessed(13), 10, HONEST.checkpoint(20), HONEST.proof(10, 20))
    assert raised.value.known_size == 13
    assert raised.value.metadata == {"known_size": "13"}
    with pytest.raises(SizeMismatch) as raised:
        check_extends(None, 5, HONEST.checkpoint(20), HONEST.proof(5, 20))
    assert raised.value.known_size == 0


def test_a_rewritten_history_is_caught() -> None:
    forked = Log(40, fork=5)
    last = HONEST.witnessed(13)
    # The forked log's own proof, from its own old root: it cannot reach the root the witness holds.
    with pytest.raises(InconsistentCheckpoint):
        check_extends(last, 13, forked.checkpoint(30), forked.proof(13, 30))
    # The honest proof does not lead to the forked root either.
    with pytest.raises(InconsistentCheckpoint):
        check_extends(last, 13, forked.checkpoint(30), HONEST.proof(13, 30))
    # Two roots for one size: a split view.
    with pytest.raises(InconsistentCheckpoint):
        check_extends(last, 13, forked.checkpoint(13), [])
    # A smaller tree than one already cosigned.
    with pytest.raises(InconsistentCheckpoint):
        check_extends(last, 13, HONEST.checkpoint(12), [])
    # A fork after the cosigned size is no inconsistency: the witness has seen nothing of it yet.
    late = Log(40, fork=20)
    check_extends(last, 13, late.checkpoint(30), late.proof(13, 30))
