"""Compliance review of the log: search, checkpoints, proofs and offline bundles, for compliance officers only.

Every step is itself logged (kind ``audit``), allowed or refused: who reviewed
the log is as accountable as who inquired.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta

from share_gateway.config import LogSettings
from share_gateway.domain.errors import InvalidInput, InvalidState, NotFound, Refused
from share_gateway.domain.events import Event, EventKind, Outcome
from share_gateway.domain.policy import Denial, Principal
from share_gateway.domain.principals import Role
from share_gateway.gateway.audit_complete import IndexLookups
from share_gateway.gateway.runtime import NodeRuntime
from share_gateway.ledger.bundle import BundleEntry, BundleWriter
from share_gateway.ledger.checkpoint import TlogProof
from share_gateway.store.log import LogStore, StoredCheckpoint
from share_gateway.store.log_reading import LoggedEvent, LogQuery
from share_gateway.store.repositories import Store
from share_gateway.store.unit_of_work import UnitOfWork

MAX_PAGE = 10_000
# Events whose proofs one trip off the event loop computes while exporting: ~1.4 MB of bundle.
EXPORT_PAGE = 500
# Leaf indexes and tree sizes are the database's signed 64-bit integers.
LARGEST_INDEX = 2**63 - 1


@dataclass(frozen=True, slots=True)
class InclusionAnswer:
    leaf_index: int
    checkpoint: StoredCheckpoint
    proof: tuple[bytes, ...]
    event: LoggedEvent

    @property
    def tlog_proof(self) -> TlogProof:
        return TlogProof(self.leaf_index, self.proof, self.checkpoint.note)


@dataclass(frozen=True, slots=True)
class ConsistencyAnswer:
    proof: tuple[bytes, ...]
    old: StoredCheckpoint
    new: StoredCheckpoint


def is_officer(principal: Principal) -> bool:
    return Role.COMPLIANCE_OFFICER in principal.roles


def review_event(runtime: NodeRuntime, officer: Principal, action: str, **details: str) -> Event:
    """An officer's review step as the log records it: denied without the officer role."""
    allowed = is_officer(officer)
    return runtime.event(
        EventKind.AUDIT,
        officer,
        Outcome.ALLOWED if allowed else Outcome.DENIED,
        reason="" if allowed else Denial.NOT_A_COMPLIANCE_OFFICER,
        details={"action": action} | {k: v for k, v in details.items() if v},
    )


async def published_checkpoint(runtime: NodeRuntime, log: LogStore, size: int) -> StoredCheckpoint:
    """The published checkpoint of ``size`` (the latest for 0): proofs only ever refer to a signed head."""
    if size == 0:
        latest = await runtime.read(log.latest_checkpoint)
        if latest is None:
            raise InvalidState("no checkpoint has been published yet")
        return latest
    checkpoint = await runtime.read(log.checkpoint, size)
    if checkpoint is None:
        raise NotFound(f"no checkpoint of size {size} was published")
    return checkpoint


def redaction_limit(now: datetime, log: LogSettings) -> datetime:
    """The newest instant whose events may be redacted: past the retention (``log.redact_after_days``) and past the
    subject-history window (``log.history_days``), since a subject's "who looked at me" must still show them."""
    return now - timedelta(days=max(log.redact_after_days, log.history_days))


def redact_log(
    store: Store, before: datetime, now: datetime, note: Callable[[int, int, int], Event], log: LogSettings
) -> int:
    """Replace the bytes of integrated events older than ``before`` by stubs; their leaf hashes stay, so the log
    still verifies. The redaction is itself an event (``note(count, first_leaf, last_leaf)``), appended in the same
    transaction. Returns how many events were redacted. Refuses (``InvalidInput``, nothing changed) a ``before``
    later than ``redaction_limit``."""
    limit = redaction_limit(now, log)
    if before > limit:
        raise InvalidInput.one(
            "before",
            f"{before.isoformat()} is younger than the retention ({log.redact_after_days} days) and the "
            f"subject-history window ({log.history_days} days): events may be redacted only before {limit.isoformat()}",
        )

    def redact(tx: UnitOfWork) -> int:
        leaves = store.log.redactable(tx, before)
        if not leaves:
            return 0
        store.events.redact(tx, [(seq, body) for _, seq, body in leaves], now)
        store.log.mark_redacted(tx, [leaf for leaf, _, _ in leaves], now)
        store.events.append(tx, [note(len(leaves), leaves[0][0], leaves[-1][0])])
        return len(leaves)

    return store.write(redact)


@dataclass
class AuditDesk:
    runtime: NodeRuntime
    log: LogStore
    lookups: IndexLookups = field(init=False)

    def __post_init__(self) -> None:
        self.lookups = IndexLookups(self.log)

    async def admit(self, officer: Principal, action: str, **details: str) -> None:
        """Log the review step; refuse (and log the refusal) unless the certificate carries the officer role."""
        allowed = is_officer(officer)
        await self.runtime.event_log.append(review_event(self.runtime, officer, action, **details))
        if not allowed:
            raise Refused(
                Denial.NOT_A_COMPLIANCE_OFFICER, "the log is reviewed with a compliance officer's certificate"
            )

    async def search(
        self, officer: Principal, query: LogQuery, after_leaf: int, limit: int, count: bool = False
    ) -> tuple[list[LoggedEvent], int | None]:
        """A page of the matching events and, with ``count``, how many match in all (None: not counted)."""
        await self.admit(officer, "search", query=_describe(query))
        found = await self.runtime.read(self.log.search, query, after_leaf, _page(limit))
        return found, (await self.runtime.read(self.log.count, query) if count else None)

    async def latest_checkpoint(self, officer: Principal) -> StoredCheckpoint:
        await self.admit(officer, "checkpoint")
        return await self._checkpoint(0)

    async def _checkpoint(self, size: int) -> StoredCheckpoint:
        return await published_checkpoint(self.runtime, self.log, size)

    async def inclusion(
        self, officer: Principal, *, leaf_index: int | None, event_id: str, tree_size: int
    ) -> InclusionAnswer:
        await self.admit(officer, "inclusion_proof", event_id=event_id, leaf_index=str(leaf_index or ""))
        if leaf_index is None and not event_id:
            raise InvalidInput.one("entry", "name the entry by leaf index or event id")
        _require_size("tree_size", tree_size)
        if leaf_index is not None:
            size = await self.runtime.read(self.log.size)
            if leaf_index >= size:
                raise InvalidInput.one("leaf_index", f"is beyond the log, which holds {size} entries")
            event = await self.runtime.read(self.log.at, leaf_index)
        else:
            event = await self.runtime.read(self.log.entry, event_id)
        if event is None:
            raise NotFound("no such entry in the log (it may not be integrated yet)")
        checkpoint = await self._checkpoint(tree_size)
        if event.leaf_index >= checkpoint.size:
            raise InvalidState(f"leaf {event.leaf_index} is not yet under a checkpoint (size {checkpoint.size})")
        proof = await self.runtime.read(self.log.inclusion_proof, event.leaf_index, checkpoint.size)
        return InclusionAnswer(event.leaf_index, checkpoint, tuple(proof), event)

    async def consistency(self, officer: Principal, old_size: int, new_size: int) -> ConsistencyAnswer:
        await self.admit(officer, "consistency_proof", sizes=f"{old_size}..{new_size}")
        _require_size("from_size", old_size)
        _require_size("to_size", new_size)
        if new_size and old_size > new_size:
            raise InvalidInput.one("from_size", "a consistency proof goes from an older checkpoint to a newer one")
        new = await self._checkpoint(new_size)
        old = await self._checkpoint(old_size)
        if old.size > new.size:
            raise InvalidInput.one("from_size", "a consistency proof goes from an older checkpoint to a newer one")
        proof = await self.runtime.read(self.log.consistency_proof, old.size, new.size)
        return ConsistencyAnswer(tuple(proof), old, new)

    async def export(self, officer: Principal, query: LogQuery, limit: int) -> tuple[bytes, int]:
        """A bundle of the matching events under the latest checkpoint, verifiable offline, in one piece."""
        pieces, count = [], 0
        async for piece, so_far in self.export_pieces(officer, query, _page(limit)):
            pieces.append(piece)
            count = so_far
        return b"".join(pieces), count

    async def export_pieces(
        self, officer: Principal, query: LogQuery, limit: int | None
    ) -> AsyncIterator[tuple[bytes, int]]:
        """The bundle's bytes a page of events at a time (with the count so far): any size, never all in memory.

        Each page is searched and proved on the store's threads, so an export of the whole log never
        holds up the event loop and the calls it serves. ``limit`` None: every matching event. A filter that is
        one subject or one requester exports a bundle v2 that proves it is complete (``gateway.audit_complete``).
        """
        await self.admit(officer, "export", query=_describe(query), limit=str(limit or "all"))
        complete = await self.runtime.off_loop(self.lookups.plan, query, limit)
        if complete is not None:
            writer = BundleWriter(self.runtime.signing_key.name, complete.completeness)
            yield writer.opening(), 0
            for start in range(0, len(complete.leaves), EXPORT_PAGE):
                page = complete.leaves[start : start + EXPORT_PAGE]
                yield writer.entries(await self.runtime.off_loop(self.lookups.proved, page, complete.checkpoint)), 0
            yield writer.closing(), writer.count
            return
        checkpoint = await self._checkpoint(0)
        under = replace(query, below_size=checkpoint.size)
        writer = BundleWriter(self.runtime.signing_key.name)
        yield writer.opening(), 0
        after, left = -1, limit
        while left is None or left > 0:
            size = EXPORT_PAGE if left is None else min(EXPORT_PAGE, left)
            entries = await self.runtime.off_loop(self._proved_page, under, after, size, checkpoint)
            yield writer.entries(entries), writer.count
            if len(entries) < size:
                break
            after = entries[-1].leaf_index
            left = None if left is None else left - len(entries)
        yield writer.closing(), writer.count

    def _proved_page(self, query: LogQuery, after: int, size: int, checkpoint: StoredCheckpoint) -> list[BundleEntry]:
        """One page of matching events, each with its inclusion proof under ``checkpoint`` (on a store thread)."""
        entries = []
        for event in self.log.search(query, after, size):
            proof = self.log.inclusion_proof(event.leaf_index, checkpoint.size)
            tlog = TlogProof(event.leaf_index, tuple(proof), checkpoint.note)
            if event.redacted:
                entries.append(BundleEntry(event.leaf_index, tlog, leaf_hash=self.log.leaf_hash(event.leaf_index)))
            else:
                entries.append(BundleEntry(event.leaf_index, tlog, event=event.body))
        return entries


def _require_size(field: str, size: int) -> None:
    if size > LARGEST_INDEX:
        raise InvalidInput.one(field, f"is beyond any log (at most {LARGEST_INDEX})")


def _page(limit: int) -> int:
    if limit < 0 or limit > MAX_PAGE:
        raise InvalidInput.one("page_size", f"at most {MAX_PAGE}")
    return limit or 100


def _describe(query: LogQuery) -> str:
    return ", ".join(f"{name}={value}" for name, value in asdict(query).items() if value not in ("", None))[:500]
