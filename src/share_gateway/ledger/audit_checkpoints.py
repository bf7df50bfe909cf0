"""The signed side of the whole-log audit: every checkpoint the node stored or an officer kept, held against the
log as it is rebuilt.

Each checkpoint is named by where it came from ("the stored checkpoint of
size 20", "the kept checkpoint of size 311 (kept.note)"), so a finding says
which one disagrees. A kept checkpoint the log no longer matches, on a log
that is otherwise whole below it, is a history rewritten and re-signed: the
rewrite lies between the largest kept checkpoint the log still matches and
the one it does not, and the finding names that run of leaves (no root says
more precisely where).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from share_gateway.crypto.errors import VerificationError
from share_gateway.crypto.keys import KeyRing, VerifyingKey
from share_gateway.domain.events import Event
from share_gateway.ledger.checkpoint import (
    open_checkpoint_signed,
    require_signed_in_force,
    retired_signers,
    unverified_checkpoint,
)
from share_gateway.ledger.cosignatures import Status, Witness, check_cosignatures
from share_gateway.ledger.findings import AuditReport, Finding


@dataclass(frozen=True, slots=True)
class KeptCheckpoint:
    """A checkpoint an officer kept from an earlier audit, and where it was kept (a file's name)."""

    name: str
    note: bytes


def checkpoint_label(kept: str | None, size: int | None) -> str:
    what = "checkpoint" if size is None else f"checkpoint of size {size}"
    return f"the stored {what}" if kept is None else f"the kept {what} ({kept})"


@dataclass(frozen=True, slots=True)
class SignedRoot:
    """One verified checkpoint: its root, and where it came from (``kept`` is None for one the node stored)."""

    kept: str | None
    size: int
    root: bytes

    def __str__(self) -> str:
        return checkpoint_label(self.kept, self.size)


@dataclass
class SignedRoots:
    """Every verified checkpoint by size, checked against the rebuilt tree's root as the tree reaches its size."""

    by_size: dict[int, list[SignedRoot]] = field(default_factory=dict)
    kept_matched: set[int] = field(default_factory=set)
    stored_matched: set[int] = field(default_factory=set)
    kept_mismatched: list[SignedRoot] = field(default_factory=list)

    def sizes(self) -> list[int]:
        return sorted(self.by_size)

    def add(self, signed: SignedRoot, report: AuditReport) -> None:
        """Hold a verified checkpoint; one that disagrees with another of its size is a finding naming both."""
        same = self.by_size.setdefault(signed.size, [])
        other = next((s for s in same if s.root != signed.root), None)
        if other is not None:
            report.findings.append(
                Finding(
                    -1,
                    f"{other} (root {other.root.hex()[:16]}…) and {signed} (root {signed.root.hex()[:16]}…) "
                    f"are both signed by the log key and disagree: the node signed two histories of {signed.size} "
                    "leaves",
                    about=f"the checkpoints of size {signed.size}",
                )
            )
        same.append(signed)

    def check(self, size: int, computed: bytes, leaf: int, report: AuditReport) -> None:
        """The rebuilt tree, first reaching ``size`` at ``leaf``, has root ``computed``: hold each checkpoint of that
        size against it. A stored one that differs is a finding at once; a kept one waits for ``finish``."""
        for signed in self.by_size.get(size, ()):
            if signed.root == computed:
                (self.stored_matched if signed.kept is None else self.kept_matched).add(size)
            elif signed.kept is None:
                report.findings.append(Finding(leaf, f"{signed} does not match the log"))
            else:
                self.kept_mismatched.append(signed)

    def finish(self, report: AuditReport) -> None:
        """Name what each kept checkpoint the log no longer matches means: where the log is broken below it, a
        consequence; where it is whole, a history rewritten (and re-signed, when a stored checkpoint of that size
        signs the log as it is now) somewhere after the largest kept checkpoint it still matches."""
        first_bad = min((f.leaf_index for f in report.findings if f.leaf_index >= 0), default=None)
        for signed in self.kept_mismatched:
            if first_bad is not None and first_bad < signed.size:
                report.findings.append(Finding(signed.size - 1, f"{signed} does not match the log"))
                continue
            intact = max((size for size in self.kept_matched if size < signed.size), default=0)
            since = f", though it still matches the kept one of size {intact}" if intact else ""
            resigned = (
                f" and re-signed (the stored checkpoint of size {signed.size} signs the rewritten history)"
                if signed.size in self.stored_matched
                else ""
            )
            report.findings.append(
                Finding(
                    intact,
                    f"the log no longer matches {signed}{since}: its history among these leaves was rewritten"
                    f"{resigned}",
                    last=signed.size - 1,
                )
            )


Dated = list[tuple[str, int, tuple[VerifyingKey, ...]]]


def signed_roots(
    notes: Sequence[tuple[str | None, bytes]],
    keys: KeyRing,
    origin: str,
    report: AuditReport,
    witnesses: Sequence[Witness],
    dated: Dated,
) -> SignedRoots:
    """Verified checkpoints by size (``notes``: each with the name it was kept under, None for a stored one);
    unverifiable ones become findings. Those signed only by keys since retired go to ``dated``, to be held against
    the time of their newest leaf."""
    roots = SignedRoots()
    for kept, note in notes:
        try:
            checkpoint, signers = open_checkpoint_signed(note, keys, origin)
        except VerificationError as error:
            try:
                claimed: int | None = unverified_checkpoint(note).size
            except VerificationError:
                claimed = None
            label = checkpoint_label(kept, claimed)
            report.findings.append(Finding(-1, f"{label} does not verify: {error}", about=label))
            continue
        label = checkpoint_label(kept, checkpoint.size)
        if retired_signers(signers, keys):
            dated.append((label, checkpoint.size, signers))
        roots.add(SignedRoot(kept, checkpoint.size, checkpoint.root), report)
        report.checkpoints.append(checkpoint)
        if witnesses:
            _cosignatures(label, note, checkpoint.size, witnesses, report)
    return roots


def _cosignatures(label: str, note: bytes, size: int, witnesses: Sequence[Witness], report: AuditReport) -> None:
    witnessing = check_cosignatures(note, witnesses)
    for invalid in witnessing.invalid:
        report.findings.append(Finding(-1, f"{label}: the cosignature of {invalid}", about=label))
    report.cosigned[size] = report.cosigned.get(size, frozenset()) | witnessing.valid
    report.legacy += len(witnessing.with_status(Status.LEGACY))


def require_quorum(report: AuditReport, witnesses: Sequence[Witness], quorum: int) -> None:
    """The latest checkpoint must carry ``quorum`` valid cosignatures: it vouches for the whole log below it."""
    if quorum <= 0 or not report.checkpoints:
        return
    latest = max(c.size for c in report.checkpoints)
    valid = report.cosigned.get(latest, frozenset())
    if len(valid) >= quorum:
        return
    absent = ", ".join(w.region for w in witnesses if w.region not in valid) or "none listed"
    report.findings.append(
        Finding(
            -1,
            f"the latest checkpoint, of size {latest}, is cosigned by {len(valid)} of the {quorum} witness(es) "
            f"required (not by: {absent}): its history may have been rewritten and re-signed",
            about=f"the latest checkpoint, of size {latest}",
        )
    )


# What ``retired_keys`` reads: the bytes of one leaf (None when deleted or redacted).
NewestLeaf = Callable[[int], bytes | None]


def retired_keys(newest: NewestLeaf, size_of_log: int, keys: KeyRing, dated: Dated, report: AuditReport) -> None:
    """A checkpoint signed by a retired log key is a finding if its newest leaf is dated after the retirement."""
    for label, size, signers in dated:
        if not 0 < size <= size_of_log:
            continue  # a checkpoint past the log's end is a finding of its own
        body = newest(size - 1)
        if body is None:
            continue  # a deleted or redacted leaf is a finding of its own; it shows no time
        try:
            require_signed_in_force(signers, keys, Event.from_bytes(body).at)
        except VerificationError as error:
            report.findings.append(Finding(size - 1, f"{label}: {error}"))
        except (ValueError, KeyError, TypeError):
            continue  # not event JSON: the leaf checks report what is wrong with it
