"""What every use case of a node shares: where blocking work runs, who is calling, and the event log.

Store work runs off the event loop, except where it can never wait:
SQLite readers in WAL mode, and log appends while SQLite's write lock is
free. Handing such sub-millisecond work to a thread cost more in
interpreter-lock traffic than the work itself.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ParamSpec, TypeVar

from share_gateway.crypto.envelope import Envelope
from share_gateway.crypto.keys import SigningKey
from share_gateway.domain.errors import ChangedMeanwhile
from share_gateway.domain.events import DisclosedRecord, Event, EventKind, Outcome
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.domain.policy import Grant, Principal
from share_gateway.domain.principals import Identity, IdentityKind, Role
from share_gateway.domain.records import Record
from share_gateway.domain.repair import REVOCATION_TYPE, Revocation
from share_gateway.gateway.group_commit import Batch, GroupCommit
from share_gateway.gateway.telemetry import note_event
from share_gateway.store.database import StoreBusy
from share_gateway.store.deliveries import DeliveryKind
from share_gateway.store.records import StoredRecord
from share_gateway.store.repositories import Store
from share_gateway.store.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")
Clock = Callable[[], datetime]
# SQLite's own default folds its write-ahead log every 1000 pages; a batch of events is a few pages.
WAL_CHECKPOINT_EVERY_COMMITS = 300
# The kind a caller has when the node registered none: enough for purposes open to anyone.
UNREGISTERED_KINDS = {IdentityKind.INSTITUTION: "legal_entity", IdentityKind.PERSON: "individual"}


def utc_now() -> datetime:
    return datetime.now(UTC)


def node_principal(region: str) -> Principal:
    """A node acting on its own account (publishing, receiving)."""
    identity = Identity(IdentityKind.NODE, region)
    return Principal(identity=region, uri=identity.uri, kind=identity.kind.value)


def record_ref(record: Record, fields: tuple[str, ...] = ()) -> DisclosedRecord:
    """How an event names a record (and which of its fields the step touched)."""
    return DisclosedRecord(record.record_id, record.record_type, record.origin_region, fields)


@dataclass
class _CachedPrincipal:
    principal: Principal
    expires: float


@dataclass
class NodeRuntime:
    region: str
    signing_key: SigningKey
    store: Store
    clock: Clock = utc_now
    principal_ttl: float = 2.0
    executor: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(8, "store"))
    # The key this node cosigns its peers' checkpoints with; None: it refuses to witness.
    witness_key: SigningKey | None = None

    def __post_init__(self) -> None:
        self.event_log = GroupCommit(self._write_batch, self._write_each)
        self._commits_since_wal_checkpoint = 0
        self._wal_checkpoint: asyncio.Future[None] | None = None
        self._principals: dict[tuple[Identity, frozenset[Role]], _CachedPrincipal] = {}
        # Counts ``forget``: a principal read before a registry change is not cached after it.
        self._registry_changes = 0

    # --- where work runs ----------------------------------------------------

    async def off_loop(self, function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Run blocking store work (writes, reads that may wait) on the store's threads."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, lambda: function(*args, **kwargs))

    async def write(self, work: Callable[[UnitOfWork], R]) -> R:
        """Run ``work`` in one unit of work on the store's threads: the use case's transaction boundary."""
        return await self.off_loop(self.store.write, work)

    async def write_logged(self, change: Callable[[UnitOfWork], R], *events: Event) -> R:
        """Run ``change`` and append ``events`` after it in one unit of work: a change commits with its log entry."""
        return await self.off_loop(self.store.write_logged, change, *events)

    async def read(self, function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """A read: inline where readers never wait (SQLite, WAL), from a thread if it found the file busy."""
        if self.store.database.reads_never_wait:
            try:
                return function(*args, **kwargs)
            except StoreBusy:
                pass
        return await self.off_loop(function, *args, **kwargs)

    async def _write_batch(self, batch: Batch) -> None:
        """Commit on the loop while SQLite's write lock is free, else from a thread that waits for it."""
        rides = (batch.events, batch.all_consents, list(batch.nonces.values()), batch.carried)
        if self.store.database.can_write_now:
            try:
                self.store.append_now(*rides)
            except StoreBusy:
                pass
            else:
                self._after_inline_commit()
                return
        await self.off_loop(self.store.append, *rides)

    async def _write_each(self, batch: Batch) -> Sequence[Exception | None]:
        """After a batch failed: each carried work and each event in a savepoint of its own, so one that cannot
        be stored fails alone."""
        return await self.off_loop(self.store.append_each, batch.events, batch.consents, batch.nonces, batch.carried)

    def _after_inline_commit(self) -> None:
        self._commits_since_wal_checkpoint += 1
        if self._commits_since_wal_checkpoint >= WAL_CHECKPOINT_EVERY_COMMITS:
            self._commits_since_wal_checkpoint = 0
            self._wal_checkpoint = asyncio.ensure_future(self.off_loop(self._checkpoint_wal_quietly))

    def _checkpoint_wal_quietly(self) -> None:
        """A failed WAL checkpoint loses nothing (the data stays in the WAL); the next one retries."""
        try:
            self.store.database.checkpoint_wal()
        except Exception:
            log.warning("SQLite WAL checkpoint failed; retrying later", exc_info=True)

    async def close(self) -> None:
        await self.event_log.drain()
        if self._wal_checkpoint is not None:
            await self._wal_checkpoint
        self.executor.shutdown(wait=True)

    # --- who is calling -----------------------------------------------------

    async def principal(self, identity: Identity, roles: frozenset[Role] = frozenset()) -> Principal:
        """The caller as the node's registry describes it (cached briefly; the database is the truth).

        Only institutions are looked up: a person's resident ID number may also
        be a valid USCC, and must never borrow an institution's grants.
        """
        cached = self._principals.get((identity, roles))
        if cached is not None and cached.expires > time.monotonic():
            return cached.principal
        changes = self._registry_changes
        kind: str | None = None
        grants: tuple[Grant, ...] = ()
        itself: Subject | None = None
        if identity.kind is IdentityKind.INSTITUTION:
            kind, grants = await self.read(self.store.grants.institution, identity.identifier)
            itself = Subject(SubjectKind.LEGAL_ENTITY, identity.identifier)
        elif identity.kind is IdentityKind.PERSON:
            itself = Subject(SubjectKind.INDIVIDUAL, identity.identifier)
        principal = Principal(
            identity.identifier,
            identity.uri,
            kind or UNREGISTERED_KINDS.get(identity.kind, identity.kind.value),
            grants,
            itself,
            roles,
        )
        if changes == self._registry_changes:
            self._principals[(identity, roles)] = _CachedPrincipal(principal, time.monotonic() + self.principal_ttl)
        return principal

    def forget(self, institution: str) -> None:
        """Drop what this process cached about an institution, once its registration or grants changed.

        The next call of the institution here reads the database again, so a revoked grant refuses the very
        next inquiry on this process. Other replicas (processes on the same database) hold their cached
        principal at most ``principal_ttl`` seconds more: that is how long they may still honour it.
        """
        self._registry_changes += 1
        for key in [k for k in self._principals if k[0].kind is IdentityKind.INSTITUTION]:
            if key[0].identifier == institution:
                del self._principals[key]

    async def made_by(self, agency: Principal, record_id: str) -> StoredRecord | None:
        """The record if ``agency`` made it here: to any other caller an agency's record does not exist.

        A record's maker is (origin region, agency): a local caller names a record of this node's own region,
        so a copy received from a peer (made elsewhere) is never read with its salts, changed, listed or
        revoked here, and another region's record under the same id is another record.
        """
        stored = await self.read(self.store.records.get, self.region, record_id)
        return stored if stored is not None and stored.record.submitted_by == agency.uri else None

    def revoke(self, tx: UnitOfWork, record: Record, reason: str, at: datetime, peers: Sequence[str]) -> None:
        """Sign this node's revocation of one of its records (repaired or withdrawn), keep it for the requesters'
        feed and queue it for ``peers``, in ``tx``: every holder must stop disclosing the record."""
        signed = Envelope.seal(self.signing_key, REVOCATION_TYPE, Revocation.of(record, reason, at).to_bytes())
        self.store.revocations.keep(tx, record.record_id, record.origin_region, signed, at)
        self.store.outbox.queue(tx, DeliveryKind.REVOCATION, record.record_id, peers, at)

    def change_statuses(self, tx: UnitOfWork, changes: Sequence[tuple[Record, Event]], reason: str) -> list[Record]:
        """Write each record's status change with its event, in ``tx``; return the records written.

        A record changed meanwhile (by another replica's sweep, a withdrawal...) is left as
        it is, and its event dropped: the change that won is logged already.
        """
        written, events = [], []
        for changed, event in changes:
            try:
                self.store.records.change_status(tx, changed, reason, event.at)
            except ChangedMeanwhile:
                continue
            written.append(changed)
            events.append(event)
        self.store.events.append(tx, events)
        return written

    def event(self, kind: EventKind, actor: Principal, outcome: Outcome, **values: object) -> Event:
        """A new event of this node, at the clock's now, by ``actor`` (noted on the call under way, for its logs)."""
        event_id = str(uuid.uuid4())
        note_event(event_id)
        return Event(
            event_id=event_id,
            kind=kind,
            at=self.clock(),
            node=self.region,
            actor=actor.uri,
            outcome=outcome,
            **values,  # type: ignore[arg-type]
        )
