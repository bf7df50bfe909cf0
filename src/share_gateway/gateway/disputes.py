"""Disputes about wrong records (异议) at a record's origin node: filed by the subject, answered by the agency.

A correction is a new signed version of the record, submitted through the
registry like any record (so every submission check applies), and the
disputed record is withdrawn and revoked to every peer and every requester
that received it, through the same revocation machinery as a repair. A
listing that rested on the disputed record ends with it at the listings'
next sweep (a listing ends with its record).

Other regions hold copies of a nationally shared record: when its dispute is filed and when it is answered,
each peer gets the origin's signed statement of where it stands (``domain.dispute_marks``) through the
outbox, so its answers mark the copy "under dispute" until the origin answered. Copies of other origins'
disputes kept here are never listed, answered or shown as this node's.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from share_gateway.crypto.consent import SignedConsent
from share_gateway.domain.catalog import Catalog
from share_gateway.domain.catalog_repair import DisputeRules
from share_gateway.domain.deliveries import DeliveryKind
from share_gateway.domain.disputes import Dispute, DisputeState, answer_dispute, dispute_rules, file_dispute
from share_gateway.domain.errors import InvalidInput, InvalidState, NotFound
from share_gateway.domain.events import Event, EventKind, Outcome
from share_gateway.domain.policy import Principal
from share_gateway.domain.records import RecordDraft, RecordStatus, change_status
from share_gateway.gateway.audit import is_officer, review_event
from share_gateway.gateway.consents import ConsentDesk
from share_gateway.gateway.registry import RecordRegistry
from share_gateway.gateway.repair import mandate_holder, subjects_record
from share_gateway.gateway.runtime import NodeRuntime, record_ref
from share_gateway.store.records import StoredRecord
from share_gateway.store.unit_of_work import UnitOfWork


@dataclass
class DisputeDesk:
    runtime: NodeRuntime
    catalog: Catalog
    # A correction is submitted as a new record through the registry, with every submission check.
    registry: RecordRegistry
    # Calendar days to answer where the catalog sets no dispute time for a type (node configuration).
    fallback_answer_days: int
    # Every other region: each gets the revocation of a corrected record of a nationally shared type.
    peers: tuple[str, ...] = ()
    on_queued: Callable[[], None] | None = None
    # Verifies an agent's mandate; without it only subjects dispute.
    consents: ConsentDesk | None = None

    def rules(self, record_type: str) -> DisputeRules:
        """The dispute time of a record type (the node's default for a type the catalog no longer lists)."""
        known = self.catalog.record_types.get(record_type)
        if known is None:
            return DisputeRules(self.fallback_answer_days, "node configuration")
        return dispute_rules(known, self.fallback_answer_days)

    def rules_of(self, dispute: Dispute) -> DisputeRules:
        """The rule that set a dispute's answer day (the disputed record's type, read from the catalog)."""
        return self.rules(dispute.record_type)

    async def file(
        self,
        subject: Principal,
        record_id: str,
        claim: str,
        exchange: Mapping[str, str] | None = None,
        mandate: SignedConsent | None = None,
    ) -> Dispute:
        """The subject disputes one of its records, itself or through an agent holding its mandate (verified
        here), at the record's origin node (``NOT_THE_ORIGIN`` elsewhere)."""
        about = subject.itself
        if mandate is not None:
            about = await mandate_holder(self.consents, subject, mandate)
        stored = await subjects_record(self.runtime, about, record_id)
        dispute = file_dispute(
            stored.record,
            self.rules(stored.record.record_type),
            dispute_id=str(uuid.uuid4()),
            applicant=subject.uri,
            claim=claim,
            now=self.runtime.clock(),
        )
        event = self._event(EventKind.DISPUTE_FILED, subject, stored, dispute, exchange=exchange)

        def keep(tx: UnitOfWork) -> None:
            self.runtime.store.disputes.add(tx, dispute)
            self._tell_peers(tx, dispute, event.at)

        await self.runtime.write_logged(keep, event)
        self._wake(dispute)
        return dispute

    async def mine(self, subject: Principal) -> list[Dispute]:
        """The caller's own disputes filed here (a caller that is no subject has none)."""
        if subject.itself is None:
            return []
        return await self.runtime.read(self.runtime.store.disputes.find, (), subject.itself, self.runtime.region)

    async def open_for(self, caller: Principal, overdue_only: bool) -> list[Dispute]:
        """Open disputes about the agency's records, or all of them for a compliance officer (a logged review)."""
        today = self.runtime.clock().date()
        officer = is_officer(caller)
        if officer:
            review = review_event(self.runtime, caller, "disputes", overdue_only=str(overdue_only))
            await self.runtime.event_log.append(review)
        pending = await self.runtime.read(
            self.runtime.store.disputes.find, (DisputeState.FILED,), None, self.runtime.region
        )
        shown = []
        for dispute in pending:
            ours = officer or await self.runtime.made_by(caller, dispute.record_id) is not None
            if ours and (not overdue_only or dispute.overdue(today)):
                shown.append(dispute)
        return shown

    async def answer(
        self, agency: Principal, dispute_id: str, answer: str, correction: RecordDraft | None
    ) -> tuple[Dispute, StoredRecord | None]:
        """Answer a dispute about the agency's record: keep the record (``correction`` None) stating why, or
        correct it: the corrected record is stored and signed as a new record, and the disputed one withdrawn
        and revoked to every recipient, with the dispute answered, in one transaction after the submission."""
        dispute = await self.runtime.read(self.runtime.store.disputes.get, dispute_id)
        if dispute is not None and dispute.origin_region != self.runtime.region:
            dispute = None  # another origin's dispute, kept here as a mark: answered only there
        stored = None if dispute is None else await self.runtime.made_by(agency, dispute.record_id)
        if dispute is None or stored is None:
            raise NotFound(f"no dispute {dispute_id!r}")
        now = self.runtime.clock()
        if correction is None:
            answered = answer_dispute(dispute, corrected_record_id="", answer=answer, by=agency.uri, now=now)
            event = self._event(EventKind.DISPUTE_ANSWERED, agency, stored, answered)

            def keep(tx: UnitOfWork) -> None:
                self.runtime.store.disputes.change(tx, answered)
                self._tell_peers(tx, answered, event.at)

            await self.runtime.write_logged(keep, event)
            self._wake(answered)
            return answered, None
        answer_dispute(dispute, corrected_record_id="-", answer=answer, by=agency.uri, now=now)  # checks first
        disputed = stored.record
        if (correction.record_type, correction.subject_kind, correction.subject_identifier) != (
            disputed.record_type,
            disputed.subject.kind.value,
            disputed.subject.identifier,
        ):
            raise InvalidInput.one("correction", "a correction keeps the disputed record's type and subject")
        if disputed.status is not RecordStatus.ACTIVE:
            raise InvalidState(f"the record is {disputed.status}: nothing to correct", "RECORD_NOT_ACTIVE")
        # A retried answer submits under the same request id, so it finds the first corrected version.
        corrected = await self.registry.submit(agency, f"dispute:{dispute_id}", correction)
        answered = answer_dispute(
            dispute, corrected_record_id=corrected.record.record_id, answer=answer, by=agency.uri, now=now
        )
        withdrawn = change_status(disputed, RecordStatus.WITHDRAWN)
        reason = f"corrected on dispute {dispute_id}: replaced by record {corrected.record.record_id}"
        event = self._event(EventKind.DISPUTE_ANSWERED, agency, stored, answered, corrected)
        shared = self.catalog.record_types[disputed.record_type].shared_nationwide
        revoke_to = self.peers if shared else ()
        store = self.runtime.store

        def correct(tx: UnitOfWork) -> None:
            store.disputes.change(tx, answered)
            store.records.change_status(tx, withdrawn, reason, now)
            self.runtime.revoke(tx, withdrawn, reason, now, revoke_to)
            self._tell_peers(tx, answered, now)
            store.events.append(tx, [event])

        await self.runtime.write(correct)
        if revoke_to and self.on_queued is not None:
            self.on_queued()
        return answered, corrected

    def _copies_at(self, dispute: Dispute) -> tuple[str, ...]:
        """The peers that hold copies of the disputed record: every peer for a type shared nationwide."""
        known = self.catalog.record_types.get(dispute.record_type)
        return self.peers if known is not None and known.shared_nationwide else ()

    def _tell_peers(self, tx: UnitOfWork, dispute: Dispute, at: datetime) -> None:
        """Queue the origin's statement of where ``dispute`` stands to every peer holding the record."""
        peers = self._copies_at(dispute)
        self.runtime.store.outbox.queue(tx, DeliveryKind.DISPUTE, dispute.record_id, peers, at, dispute.dispute_id)

    def _wake(self, dispute: Dispute) -> None:
        if self._copies_at(dispute) and self.on_queued is not None:
            self.on_queued()

    def _event(
        self,
        kind: EventKind,
        actor: Principal,
        stored: StoredRecord,
        dispute: Dispute,
        corrected: StoredRecord | None = None,
        exchange: Mapping[str, str] | None = None,
    ) -> Event:
        records = (record_ref(stored.record),) + (() if corrected is None else (record_ref(corrected.record),))
        return self.runtime.event(
            kind,
            actor,
            Outcome.ALLOWED,
            subject=stored.record.subject,
            records=records,
            details={
                "dispute_id": dispute.dispute_id,
                "state": dispute.state.value,
                "answer_due": dispute.answer_due.isoformat(),
            }
            | ({"answer": dispute.answer[:500]} if dispute.answer else {})
            | ({"corrected_record_id": dispute.corrected_record_id} if dispute.corrected_record_id else {})
            | dict(exchange or {}),
        )
