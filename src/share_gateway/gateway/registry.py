"""Records: agencies submit what the catalog defines, read what they submitted, and withdraw it."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from share_gateway.catalog import SignedCatalog
from share_gateway.crypto.disclosure import SealedRecord, seal_record
from share_gateway.domain.errors import Conflict, FieldViolation, InvalidInput, NotFound
from share_gateway.domain.events import Event, EventKind, Outcome
from share_gateway.domain.listings import RemovalCause
from share_gateway.domain.periods import PeriodRule
from share_gateway.domain.policy import Policy, Principal
from share_gateway.domain.record_documents import LegalDocumentDraft, admit_legal_document
from share_gateway.domain.records import Record, RecordDraft, RecordStatus, admit_record, change_status
from share_gateway.domain.withdrawal import withdrawal_after_revocation
from share_gateway.gateway.listings import ListingChange, ListingDesk
from share_gateway.gateway.runtime import NodeRuntime, record_ref
from share_gateway.store.deliveries import DeliveryKind
from share_gateway.store.records import StoredRecord
from share_gateway.store.repositories import Store
from share_gateway.store.unit_of_work import UnitOfWork

MAX_REQUEST_ID = 100
MAX_REASON = 1000


def keep_submission(
    store: Store,
    tx: UnitOfWork,
    record: Record,
    sealed: SealedRecord,
    request_key: str,
    event: Event,
    publish_to: Sequence[str] = (),
) -> StoredRecord:
    """Store a submitted record with its event and its deliveries to ``publish_to`` peers, in ``tx``.

    A retried request (its key used before) writes nothing and returns the first record.
    """
    stored = store.records.add(tx, record, sealed, request_key)
    if stored.record is record:
        store.events.append(tx, [event])
        store.outbox.queue(tx, DeliveryKind.RECORD, record.record_id, publish_to, event.at)
    return stored


@dataclass
class RecordRegistry:
    runtime: NodeRuntime
    catalog: SignedCatalog
    policy: Policy
    # Withdrawing a record revokes its decision: the listings resting on it end with it.
    listings: ListingDesk
    # The other regions of the federation: records of nationally shared types are queued for each.
    peers: tuple[str, ...] = ()
    # Told when deliveries were queued, so they leave at once rather than at the courier's next round.
    on_queued: Callable[[], None] | None = None

    async def submit(self, agency: Principal, request_id: str, draft: RecordDraft) -> StoredRecord:
        """Admit, seal and store a record with its event; a retried request id returns the first result."""
        runtime = self.runtime
        now = runtime.clock()
        citation = self.policy.authorise_submission(agency, draft.record_type, now)
        if not request_id.strip() or len(request_id) > MAX_REQUEST_ID:
            raise InvalidInput.one("request_id", f"must be 1 to {MAX_REQUEST_ID} characters")
        record = admit_record(
            self.catalog.catalog,
            draft,
            record_id=str(uuid.uuid4()),
            origin_region=runtime.region,
            submitted_by=agency.uri,
            now=now,
        )
        # Every statement of the type lists as many digests: the count does not tell which optional fields it has.
        pad_to = len(self.catalog.catalog.record_types[record.record_type].fields)
        sealed = seal_record(record, runtime.signing_key, pad_to=pad_to)
        event = runtime.event(
            EventKind.RECORD_SUBMITTED,
            agency,
            Outcome.ALLOWED,
            subject=record.subject,
            citations=(citation,),
            records=(record_ref(record, tuple(sorted(record.fields))),),
            details={"request_id": request_id},
        )
        shared = self.catalog.catalog.record_types[record.record_type].shared_nationwide
        publish_to = self.peers if shared else ()
        request_key = f"{agency.uri}#{request_id}"
        stored = await runtime.write(
            lambda tx: keep_submission(runtime.store, tx, record, sealed, request_key, event, publish_to)
        )
        if stored.record is record and publish_to and self.on_queued is not None:
            self.on_queued()
        first = stored.record
        if first.record_id != record.record_id and (
            first.record_type,
            first.subject,
            first.fields,
            first.legal_document,
            first.severity,
        ) != (record.record_type, record.subject, record.fields, record.legal_document, record.severity):
            raise Conflict(f"request id {request_id!r} was already used for a different record")
        return stored

    async def _own(self, agency: Principal, record_id: str) -> StoredRecord:
        """A record its agency submitted; to anyone else it does not exist."""
        stored = await self.runtime.made_by(agency, record_id)
        if stored is None:
            raise NotFound(f"no record {record_id!r}")
        return stored

    async def get(self, agency: Principal, record_id: str) -> StoredRecord:
        stored = await self._own(agency, record_id)
        record = stored.record
        await self.runtime.event_log.append(
            self.runtime.event(
                EventKind.RECORD_READ,
                agency,
                Outcome.ALLOWED,
                subject=record.subject,
                records=(record_ref(record, tuple(sorted(record.fields))),),
            )
        )
        return stored

    async def withdraw(
        self, agency: Principal, record_id: str, reason: str, document: LegalDocumentDraft | None
    ) -> StoredRecord:
        """Withdraw an active record, stating why and, for a record resting on a decision, the document that
        revoked it: the withdrawal is due counted from that document's date (``domain.withdrawal``)."""
        violations: list[FieldViolation] = []
        today = self.runtime.clock().date()
        if not reason.strip() or len(reason) > MAX_REASON:
            violations.append(FieldViolation("reason", f"states why, in 1 to {MAX_REASON} characters"))
        revoking = None if document is None else admit_legal_document(document, today, "revoking_document", violations)
        if violations:
            raise InvalidInput(violations)
        stored = await self._own(agency, record_id)
        record_type = self.catalog.catalog.record_types.get(stored.record.record_type)
        decided = stored.record.legal_document is not None or (
            record_type is not None and record_type.legal_document_required
        )
        if decided and revoking is None:
            raise InvalidInput.one(
                "revoking_document", "a record resting on a decision is withdrawn on the document that revoked it"
            )
        changed = change_status(stored.record, RecordStatus.WITHDRAWN)
        details = {"reason": reason}
        if revoking is not None:
            rule = record_type.periods if record_type is not None else PeriodRule()
            withdrawal = withdrawal_after_revocation(rule, revoking.issued_on, today, self.listings.calendar)
            changed = replace(changed, withdrawal=withdrawal)
            details |= {"revoking_document": f"{revoking.kind} {revoking.number} ({revoking.issuer})"}
            details |= withdrawal.details()
        event = self.runtime.event(
            EventKind.RECORD_WITHDRAWN,
            agency,
            Outcome.ALLOWED,
            subject=changed.subject,
            records=(record_ref(changed),),
            details=details,
        )
        ground = details.get("revoking_document") or f"withdrawal {event.event_id}"
        ended = await self.listings.endings(
            changed, RemovalCause.DECISION_REVOKED, agency, ground, reason, revoking.issued_on if revoking else None
        )
        await self.end(changed, reason, event, ended)
        return StoredRecord(changed, stored.sealed)

    async def end(
        self,
        changed: Record,
        reason: str,
        event: Event,
        ended: Sequence[ListingChange],
        also: Callable[[UnitOfWork], None] | None = None,
    ) -> None:
        """Stop disclosing one of this node's records, in one transaction: its new status, its signed revocation
        (for the requesters that received it, and queued for every peer holding a copy of a nationally shared
        type), its event, the end of the listings resting on it, and ``also``: the step of the procedure that
        ended it. The one way a record ends at its maker's word (a withdrawal, a court's deletion)."""
        record_type = self.catalog.catalog.record_types.get(changed.record_type)
        revoke_to = self.peers if record_type is not None and record_type.shared_nationwide else ()
        store = self.runtime.store

        def stop(tx: UnitOfWork) -> None:
            store.records.change_status(tx, changed, reason, event.at)
            # Every holder must stop too: peers holding a copy, and requesters that received it (the feed).
            self.runtime.revoke(tx, changed, reason, event.at, revoke_to)
            store.events.append(tx, [event])
            self.listings.write(tx, ended)
            if also is not None:
                also(tx)

        await self.runtime.write(stop)
        self.listings.queued(ended)
        if revoke_to and self.on_queued is not None:
            self.on_queued()
