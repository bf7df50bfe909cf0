"""The node's use cases: submit, read and withdraw records; answer inquiries.

Pure rules come from ``domain``, signatures from ``crypto``, rows from
``store``; this layer puts them in order and logs every step. It knows
nothing of gRPC: servicers convert and delegate here.
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

from share_gateway.catalog import SignedCatalog
from share_gateway.crypto.disclosure import Disclosure, disclose, seal_record
from share_gateway.crypto.envelope import Envelope
from share_gateway.crypto.keys import SigningKey
from share_gateway.domain.errors import Citation, Conflict, InvalidInput, NotFound, Refused
from share_gateway.domain.events import EVENT_MEDIA_TYPE, DisclosedRecord, Event, EventKind, Outcome
from share_gateway.domain.identifiers import Subject
from share_gateway.domain.policy import GrantRole, Policy, Principal, unique_citations
from share_gateway.domain.principals import Identity, IdentityKind
from share_gateway.domain.records import (
    Record,
    RecordDraft,
    RecordStatus,
    admit_record,
    change_status,
    is_disclosable,
)
from share_gateway.gateway.group_commit import GroupCommit
from share_gateway.store.database import WriterBusy
from share_gateway.store.repository import Store, StoredRecord

log = logging.getLogger(__name__)
P = ParamSpec("P")
R = TypeVar("R")
Clock = Callable[[], datetime]
MAX_REQUEST_ID = 100
# SQLite's own default is a checkpoint every 1000 pages; a batch of events is a few pages.
CHECKPOINT_EVERY_COMMITS = 300
MAX_REASON = 1000
# Kinds given to callers the node has not registered: they may use purposes open to anyone.
DEFAULT_KINDS = {IdentityKind.INSTITUTION: "legal_entity", IdentityKind.PERSON: "individual", IdentityKind.NODE: "node"}


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class InquiryRequest:
    subject_kind: str
    subject_identifier: str
    purpose: str
    consent_reference: str = ""
    record_types: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Answer:
    inquiry_id: str
    disclosures: tuple[Disclosure, ...]
    citations: tuple[Citation, ...]
    receipt: Envelope


@dataclass
class _CachedPrincipal:
    principal: Principal
    expires: float


@dataclass
class Gateway:
    region: str
    signing_key: SigningKey
    store: Store
    catalog: SignedCatalog
    clock: Clock = utc_now
    principal_ttl: float = 2.0
    executor: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(8, "store"))

    def __post_init__(self) -> None:
        self.policy = Policy(self.catalog.catalog)
        self.log = GroupCommit(self._write_events)
        self._commits_since_checkpoint = 0
        self._checkpoint: asyncio.Future[None] | None = None
        self._principals: dict[Identity, _CachedPrincipal] = {}

    async def run(self, function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Run blocking store work (writes, and reads that may wait) off the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, lambda: function(*args, **kwargs))

    async def read(self, function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Run a read: inline where reads never wait (SQLite in WAL mode), else off the loop.

        A WAL reader takes no lock a writer holds, and handing a sub-millisecond
        read to a thread costs more in interpreter-lock handoffs than the read.
        """
        if self.store.database.reads_never_wait:
            return function(*args, **kwargs)
        return await self.run(function, *args, **kwargs)

    async def _write_events(self, events: Sequence[Event]) -> None:
        """Commit on the loop when SQLite's lock is free (no thread handoff), else from a thread that waits.

        Handing each small batch to a thread cost more interpreter-lock traffic
        than the commit itself; a free lock means the commit never blocks the loop
        on another writer. Checkpoints, the only slow part, run from a thread.
        """
        if not self.store.database.can_write_now:
            await self.run(self.store.append_events, events)
            return
        try:
            self.store.append_events_now(events)
        except WriterBusy:
            await self.run(self.store.append_events, events)
            return
        self._commits_since_checkpoint += 1
        if self._commits_since_checkpoint >= CHECKPOINT_EVERY_COMMITS:
            self._commits_since_checkpoint = 0
            self._checkpoint = asyncio.ensure_future(self.run(self._checkpoint_quietly))

    def _checkpoint_quietly(self) -> None:
        """A failed checkpoint loses nothing (the log stays in the WAL); the next one retries."""
        try:
            self.store.database.checkpoint()
        except Exception:
            log.warning("SQLite checkpoint failed; retrying later", exc_info=True)

    async def close(self) -> None:
        await self.log.drain()
        if self._checkpoint is not None:
            await self._checkpoint
        self.executor.shutdown(wait=True)

    # --- who is calling -----------------------------------------------------

    async def principal(self, identity: Identity) -> Principal:
        """The caller as the node's grants describe it (cached briefly; the database is the truth)."""
        cached = self._principals.get(identity)
        if cached is not None and cached.expires > time.monotonic():
            return cached.principal
        kind, grants = await self.read(self.store.institution, identity.identifier)
        principal = Principal(identity.identifier, identity.uri, kind or DEFAULT_KINDS[identity.kind], grants)
        self._principals[identity] = _CachedPrincipal(principal, time.monotonic() + self.principal_ttl)
        return principal

    def _event(self, kind: EventKind, actor: Principal, outcome: Outcome, **values: object) -> Event:
        return Event(
            event_id=str(uuid.uuid4()),
            kind=kind,
            at=self.clock(),
            node=self.region,
            actor=actor.uri,
            outcome=outcome,
            **values,  # type: ignore[arg-type]
        )

    # --- records ------------------------------------------------------------

    async def submit_record(self, agency: Principal, request_id: str, draft: RecordDraft) -> StoredRecord:
        """Admit, seal and store a record with its event; a retried request id returns the first result."""
        now = self.clock()
        citation = self.policy.authorise_submission(agency, draft.record_type, now)
        if not request_id.strip() or len(request_id) > MAX_REQUEST_ID:
            raise InvalidInput.one("request_id", f"must be 1 to {MAX_REQUEST_ID} characters")
        record = admit_record(
            self.catalog.catalog,
            draft,
            record_id=str(uuid.uuid4()),
            origin_region=self.region,
            submitted_by=agency.uri,
            now=now,
        )
        sealed = seal_record(record, self.signing_key)
        event = self._event(
            EventKind.RECORD_SUBMITTED,
            agency,
            Outcome.ALLOWED,
            subject=record.subject,
            citations=(citation,),
            records=(_disclosed(record, tuple(sorted(record.fields))),),
            details={"request_id": request_id},
        )
        stored = await self.run(self.store.submit, record, sealed, f"{agency.uri}#{request_id}", event)
        if stored.record.record_id != record.record_id and (
            stored.record.record_type != record.record_type
            or stored.record.subject != record.subject
            or stored.record.fields != record.fields
        ):
            raise Conflict(f"request id {request_id!r} was already used for a different record")
        return stored

    async def _record_for_agency(self, agency: Principal, record_id: str) -> StoredRecord:
        stored = await self.run(self.store.get, record_id)
        # An agency sees what it submitted or what its grants make it responsible for; to
        # anyone else a record does not exist.
        if stored is None or not (
            stored.record.submitted_by == agency.uri
            or agency.holds(GrantRole.SUBMIT, stored.record.record_type, self.clock())
        ):
            raise NotFound(f"no record {record_id!r}")
        return stored

    async def get_record(self, agency: Principal, record_id: str) -> StoredRecord:
        stored = await self._record_for_agency(agency, record_id)
        record = stored.record
        await self.log.append(
            self._event(
                EventKind.RECORD_READ,
                agency,
                Outcome.ALLOWED,
                subject=record.subject,
                records=(_disclosed(record, tuple(sorted(record.fields))),),
            )
        )
        return stored

    async def withdraw_record(self, agency: Principal, record_id: str, reason: str, document: str) -> StoredRecord:
        if not reason.strip() or len(reason) > MAX_REASON:
            raise InvalidInput.one("reason", f"a withdrawal states its reason in 1 to {MAX_REASON} characters")
        stored = await self._record_for_agency(agency, record_id)
        changed = change_status(stored.record, RecordStatus.WITHDRAWN)
        details = {"reason": reason} | ({"revoking_document": document} if document else {})
        event = self._event(
            EventKind.RECORD_WITHDRAWN,
            agency,
            Outcome.ALLOWED,
            subject=changed.subject,
            records=(_disclosed(changed, ()),),
            details=details,
        )
        await self.run(self.store.change_status, changed, reason, event)
        return StoredRecord(changed, stored.sealed)

    # --- inquiries ----------------------------------------------------------

    async def inquire(self, requester: Principal, request: InquiryRequest) -> Answer:
        """Answer one inquiry with only what is lawful and necessary; log it whatever the outcome."""
        now = self.clock()
        try:
            subject = Subject.parse(request.subject_kind, request.subject_identifier)
            unknown = [t for t in request.record_types if t not in self.catalog.catalog.record_types]
            if unknown:
                raise InvalidInput.one("record_types", f"not in the catalog: {', '.join(unknown)}")
            purpose_citation = self.policy.authorise(
                requester, request.purpose, subject, request.consent_reference, now
            )
        except (InvalidInput, Refused) as error:
            await self.log.append(self._denied_inquiry(requester, request, error))
            raise
        candidates = await self.read(self.store.disclosable, subject)
        today = now.date()
        wanted = frozenset(request.record_types)
        disclosures: list[Disclosure] = []
        disclosed: list[DisclosedRecord] = []
        citations: list[Citation] = [purpose_citation]
        for item in candidates:
            if not is_disclosable(item.status, item.disclose_until, today) or (
                wanted and item.record_type not in wanted
            ):
                continue
            decision = self.policy.rule_for(request.purpose, item.record_type, request.consent_reference)
            if not decision.lawful:
                continue
            disclosure = disclose(item.sealed, decision.fields)
            disclosures.append(disclosure)
            disclosed.append(
                DisclosedRecord(
                    item.record_id, item.record_type, item.origin_region, tuple(o.name for o in disclosure.fields)
                )
            )
            citations.extend(decision.citations)
        event = self._event(
            EventKind.INQUIRY,
            requester,
            Outcome.ALLOWED,
            subject=subject,
            purpose=request.purpose,
            citations=unique_citations(citations),
            records=tuple(disclosed),
            details=_consent(request),
        )
        receipt = Envelope.seal(self.signing_key, EVENT_MEDIA_TYPE, event.canonical_bytes())
        await self.log.append(event)
        return Answer(event.event_id, tuple(disclosures), event.citations, receipt)

    def _denied_inquiry(self, requester: Principal, request: InquiryRequest, error: InvalidInput | Refused) -> Event:
        try:
            subject: Subject | None = Subject.parse(request.subject_kind, request.subject_identifier)
            details = _consent(request)
        except InvalidInput:
            subject = None
            details = _consent(request) | {"subject_identifier": request.subject_identifier[:64]}
        if isinstance(error, Refused):
            reason, citations = str(error.reason), error.citations
        else:
            reason, citations = "INVALID_ARGUMENT", ()
            details = details | {"violations": str(error)[:500]}
        return self._event(
            EventKind.INQUIRY,
            requester,
            Outcome.DENIED,
            subject=subject,
            purpose=request.purpose[:64],
            reason=reason,
            citations=citations,
            details=details,
        )


def _consent(request: InquiryRequest) -> dict[str, str]:
    return {"consent_reference": request.consent_reference[:200]} if request.consent_reference else {}


def _disclosed(record: Record, fields: tuple[str, ...]) -> DisclosedRecord:
    return DisclosedRecord(record.record_id, record.record_type, record.origin_region, fields)
