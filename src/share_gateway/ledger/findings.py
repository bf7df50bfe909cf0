"""What the whole-log audit found: findings, each naming where, and the report that counts them.

A finding names the first leaf it concerns (or a run of leaves, where no
single one can be named: a stored tree node spans several, and a history
rewritten under a kept checkpoint lies somewhere between two of them), or,
when it concerns no leaf, the checkpoint it is about. The report's
``verified`` never counts past the first finding, so the count and the
verdict cannot contradict each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from share_gateway.ledger.checkpoint import Checkpoint


@dataclass(frozen=True, slots=True, order=True)
class Finding:
    leaf_index: int  # the first leaf it concerns; -1 when it concerns no leaf
    problem: str
    last: int | None = None  # the last leaf of the run it concerns, when it names a run
    about: str = ""  # what it concerns when no leaf: "the stored checkpoint of size 20", ...

    @property
    def location(self) -> str:
        """Where, in a few words: ``leaf 100``, ``leaves 12..15``, or the checkpoint it is about."""
        if self.leaf_index < 0:
            return self.about or "the log"
        if self.last is not None and self.last != self.leaf_index:
            return f"leaves {self.leaf_index}..{self.last}"
        return f"leaf {self.leaf_index}"

    def __str__(self) -> str:
        return self.problem if self.leaf_index < 0 else f"{self.location}: {self.problem}"


@dataclass
class AuditReport:
    size: int = 0
    checked: int = 0  # leaves read and hashed into the rebuilt tree
    redacted: int = 0
    checkpoints: list[Checkpoint] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    # Which witnesses validly cosigned a checkpoint of each size (only when witnesses were given).
    cosigned: dict[int, frozenset[str]] = field(default_factory=dict)
    # Plain log-key cosignatures from before cosignature/v1 that verify: reported, never counted.
    legacy: int = 0
    # Signed index checkpoints held against the index recomputed from the log (``ledger.audit_index``).
    index_checkpoints: int = 0

    @property
    def unwitnessed(self) -> list[int]:
        """Sizes of the checkpoints no witness cosigned."""
        return sorted(size for size, regions in self.cosigned.items() if not regions)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def ordered(self) -> list[Finding]:
        """The findings by leaf; of two at one leaf, the one found first (the cause before what follows from it).
        Findings about no single leaf come after those."""
        return sorted(self.findings, key=lambda f: (f.leaf_index < 0, f.leaf_index))

    @property
    def first(self) -> Finding | None:
        return self.ordered[0] if self.findings else None

    @property
    def verified(self) -> int:
        """Leaves the audit vouches for: all of them when nothing was found, those before the first bad leaf
        otherwise, none when a finding concerns no leaf (a forged checkpoint, a missing quorum puts all in doubt)."""
        first = self.first
        if first is None:
            return self.checked
        return max(first.leaf_index, 0)
