"""Witnessing a peer's log: cosign a new checkpoint only if it extends the last one cosigned.

The rules of c2sp.org/tlog-witness, without its HTTP: the origin states the
size it believes the witness last cosigned (``old_size``) and sends a
consistency proof from there. A wrong ``old_size`` is a conflict the origin
resolves by asking again from the size the witness names; a checkpoint that
does not extend the last one (a fork at the same size, a failing proof, a
smaller tree) is evidence that the origin rewrote its history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from share_gateway.domain.errors import InvalidInput, InvalidState
from share_gateway.ledger.checkpoint import Checkpoint
from share_gateway.ledger.verify import ProofError, verify_consistency

SIZE_MISMATCH = "WITNESS_SIZE_MISMATCH"


class SizeMismatch(InvalidState):
    """The origin's idea of what this witness last cosigned is wrong; ``known_size`` is right."""

    def __init__(self, known_size: int) -> None:
        self.known_size = known_size
        super().__init__(
            f"this witness last cosigned size {known_size}", SIZE_MISMATCH, {"known_size": str(known_size)}
        )


class InconsistentCheckpoint(Exception):
    """The checkpoint does not extend the one last cosigned: the origin's log was rewritten."""


@dataclass(frozen=True, slots=True)
class Witnessed:
    """What a witness last cosigned for one origin."""

    size: int
    root: bytes


def check_extends(last: Witnessed | None, old_size: int, new: Checkpoint, proof: Sequence[bytes]) -> None:
    """Raise unless ``new`` may be cosigned after ``last``."""
    known = 0 if last is None else last.size
    if old_size != known:
        raise SizeMismatch(known)
    if last is None or known == 0:
        if proof:
            raise InvalidInput.one("consistency_proof", "must be empty when nothing was cosigned before")
        return
    if new.size < known:
        raise InconsistentCheckpoint(f"size {new.size} is smaller than the cosigned size {known}")
    if new.size == known:
        if new.root != last.root:
            raise InconsistentCheckpoint(f"two different roots for size {known}")
        return
    try:
        verify_consistency(known, new.size, last.root, new.root, proof)
    except ProofError as error:
        raise InconsistentCheckpoint(f"size {new.size} does not extend cosigned size {known}: {error}") from error
