"""Credit repair at a record's origin node, and the revocation feed every node keeps for its requesters.

The subject applies for one of its own records; the agency that recorded it
(the responsible department) accepts, then approves or rejects. Approval is
one transaction: the application is approved, the record is repaired (no
longer disclosed), the origin's signed revocation is kept for this node's
feed and queued for every peer. A requester reads the revocations of the
records it received ("changes since"), so its systems can delete them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from share_gateway.crypto.consent import SignedConsent
from share_gateway.crypto.envelope import Envelope
from share_gateway.domain.calendar import WorkingCalendar
from share_gateway.domain.catalog import Catalog
from share_gateway.domain.errors import InvalidState, NotFound, Refused
from share_gateway.domain.events import Event, EventKind, Outcome
from share_gateway.domain.identifiers import Subject
from share_gateway.domain.listings import RemovalCause
from share_gateway.domain.mandates import MANDATE_INVALID, mandated_subject
from share_gateway.domain.policy import Principal
from share_gateway.domain.records import Record, RecordStatus, change_status
from share_gateway.domain.repair import (
    RepairApplication,
    RepairDeadlines,
    Revocation,
    accept,
    apply_for_repair,
    extend,
)
from share_gateway.domain.repair import (
    decide as decide_application,
)
from share_gateway.domain.repair_notice import RepairNotice, repair_notice
from share_gateway.gateway.audit import is_officer, review_event
from share_gateway.gateway.consents import ConsentDesk
from share_gateway.gateway.listings import OPEN as OPEN_LISTINGS
from share_gateway.gateway.listings import ListingDesk
from share_gateway.gateway.runtime import NodeRuntime, record_ref
from share_gateway.store.records import StoredRecord
from share_gateway.store.repairs import OPEN
from share_gateway.store.unit_of_work import UnitOfWork

MAX_FEED_PAGE = 1000


async def subjects_record(runtime: NodeRuntime, subject: Subject | None, record_id: str) -> StoredRecord:
    """This region's record ``record_id`` about ``subject``: ``NotFound`` if there is none, ``NOT_THE_ORIGIN``
    naming the region to turn to if this node holds only a copy of another region's record."""
    stored = await runtime.read(runtime.store.records.get, runtime.region, record_id)
    if stored is not None and subject is not None and subject == stored.record.subject:
        return stored
    origins = [] if subject is None else await runtime.read(runtime.store.records.origins_of, record_id, subject)
    elsewhere = [origin for origin in origins if origin != runtime.region]
    if not elsewhere:
        raise NotFound(f"no record {record_id!r} about the caller")
    raise InvalidState(
        f"apply at the node of region {elsewhere[0]}, where the record was made",
        "NOT_THE_ORIGIN",
        {"origin_region": elsewhere[0]},
    )


async def mandate_holder(consents: ConsentDesk | None, agent: Principal, mandate: SignedConsent) -> Subject:
    """The subject whose ``mandate`` lets ``agent`` act for it, verified here (signature, agent, purpose, not
    withdrawn) and registered, or ``Refused(MANDATE_INVALID)``/``Refused(CONSENT_FORGED)``."""
    if consents is None:
        raise Refused(MANDATE_INVALID, "this node verifies no mandate")
    consent = consents.open(mandate)
    subject = mandated_subject(consent, agent.uri)
    await consents.require_not_revoked(consent)
    await consents.register(mandate, consent)
    return subject


@dataclass
class RepairDesk:
    runtime: NodeRuntime
    catalog: Catalog
    calendar: WorkingCalendar
    deadlines: RepairDeadlines
    # Approval removes the listings the record grounded, in the same transaction.
    listings: ListingDesk
    # Every other region: each gets the revocation of a repaired record.
    peers: tuple[str, ...] = ()
    # Told when revocations were queued, so the courier sends them at once.
    on_queued: Callable[[], None] | None = None
    # Verifies an agent's mandate (a consent the subject signed); without it only subjects apply.
    consents: ConsentDesk | None = None

    async def apply(
        self,
        caller: Principal,
        record_id: str,
        evidence: str,
        commitment: str,
        mandate: SignedConsent | None = None,
        exchange: Mapping[str, str] | None = None,
    ) -> RepairApplication:
        """The subject applies for one of its records at the record's origin node, itself or through an agent
        holding its mandate (a consent the subject signed for ``credit_repair``, verified and registered here).

        The application names a record of this node's region (applications live at the origin, so an
        application's record is always (this region, record_id)); a copy of another region's record is
        answered with where to apply.
        """
        subject, mandate_id = caller.itself, ""
        if mandate is not None:
            subject, mandate_id = await mandate_holder(self.consents, caller, mandate), mandate.consent_id
        stored = await subjects_record(self.runtime, subject, record_id)
        record_type = self.catalog.record_types.get(stored.record.record_type)
        if record_type is None:
            raise InvalidState(f"{stored.record.record_type} is no longer in the catalog", "NOT_REPAIRABLE")
        application = apply_for_repair(
            stored.record,
            record_type,
            application_id=str(uuid.uuid4()),
            applicant=caller.uri,
            evidence=evidence,
            commitment=commitment,
            now=self.runtime.clock(),
            calendar=self.calendar,
            deadlines=self.deadlines,
            measures_in_force=await self._listed_on(stored.record),
            mandate_id=mandate_id,
        )
        event = self._event(EventKind.REPAIR_APPLIED, caller, stored, application, exchange or {})
        await self.runtime.write_logged(lambda tx: self.runtime.store.repairs.add(tx, application), event)
        return application

    def notice_for(self, record: Record) -> RepairNotice:
        """The repair notice to serve with the decision ``record`` rests on (两书同达)."""
        record_type = self.catalog.record_types.get(record.record_type)
        if record_type is None:
            raise InvalidState(f"{record.record_type} is no longer in the catalog", "NOT_REPAIRABLE")
        return repair_notice(record, record_type, self.deadlines)

    async def notice(self, agency: Principal, record_id: str) -> RepairNotice:
        """The repair notice of a record the agency made; to anyone else the record does not exist."""
        stored = await self.runtime.made_by(agency, record_id)
        if stored is None:
            raise NotFound(f"no record {record_id!r}")
        return self.notice_for(stored.record)

    async def accept(self, agency: Principal, application_id: str) -> RepairApplication:
        application, stored = await self._decidable(agency, application_id)
        accepted = accept(application, self.runtime.clock(), self.calendar, self.deadlines)
        event = self._event(EventKind.REPAIR_ACCEPTED, agency, stored, accepted)
        await self._write(accepted, event)
        return accepted

    async def extend(self, agency: Principal, application_id: str, working_days: int, reason: str) -> RepairApplication:
        """Extend a complex case's deadlines, once, stating why (logged with the new deadlines)."""
        application, stored = await self._decidable(agency, application_id)
        extended = extend(application, working_days, reason, self.calendar, self.deadlines)
        event = self._event(EventKind.REPAIR_EXTENDED, agency, stored, extended)
        await self._write(extended, event)
        return extended

    async def decide(
        self, agency: Principal, application_id: str, approve: bool, reason: str, remedy: str = ""
    ) -> RepairApplication:
        """Approve (repair the record and revoke it everywhere) or reject, stating why and the remedy."""
        application, stored = await self._decidable(agency, application_id)
        now = self.runtime.clock()
        record_type = self.catalog.record_types.get(stored.record.record_type)
        # Unless the agency states another, the remedy is the one the catalog names for the record type.
        remedy = remedy or ("" if record_type is None else record_type.repair_rules.remedy)
        decided = decide_application(application, approve, agency.uri, reason, now, remedy)
        if not approve:
            event = self._event(EventKind.REPAIR_REJECTED, agency, stored, decided)
            await self._write(decided, event)
            return decided
        repaired = change_status(stored.record, RecordStatus.REPAIRED)
        event = self._event(EventKind.RECORD_REPAIRED, agency, StoredRecord(repaired, stored.sealed), decided)
        ended = await self.listings.endings(repaired, RemovalCause.REPAIR, agency, application.application_id, reason)
        store = self.runtime.store

        def approve_and_repair(tx: UnitOfWork) -> None:
            """One transaction: the application approved, the record repaired, its revocation kept for the feed
            and queued for every peer, and the listings it grounded removed (each refused if changed meanwhile)."""
            store.repairs.change(tx, decided)
            store.records.change_status(tx, repaired, decided.reason, event.at)
            self.runtime.revoke(tx, repaired, reason, now, self.peers)
            store.events.append(tx, [event])
            self.listings.write(tx, ended)

        await self.runtime.write(approve_and_repair)
        if self.peers and self.on_queued is not None:
            self.on_queued()
        return decided

    async def applications(self, caller: Principal, overdue_only: bool) -> list[RepairApplication]:
        """Open applications about the agency's records, or all of them for a compliance officer (a review
        step, logged); only those past a deadline, if asked."""
        today = self.runtime.clock().date()
        officer = is_officer(caller)
        if officer:
            review = review_event(self.runtime, caller, "repair_applications", overdue_only=str(overdue_only))
            await self.runtime.event_log.append(review)
        pending = await self.runtime.read(self.runtime.store.repairs.find, OPEN)
        shown = []
        for application in pending:
            ours = officer or await self.runtime.made_by(caller, application.record_id) is not None
            if ours and (not overdue_only or application.overdue(today)):
                shown.append(application)
        return shown

    async def mine(self, subject: Principal) -> list[RepairApplication]:
        """The caller's own applications this node holds, newest first (a caller that is no subject has none)."""
        if subject.itself is None:
            return []
        found = await self.runtime.read(self.runtime.store.repairs.find, (), (), subject.itself)
        return found[::-1]

    async def application(self, caller: Principal, application_id: str) -> RepairApplication:
        """An application as its applicant, its subject (an agent may have applied for it) or the deciding agency
        sees it; to anyone else it does not exist."""
        application = await self.runtime.read(self.runtime.store.repairs.get, application_id)
        if application is not None and (
            application.applicant == caller.uri or (caller.itself is not None and application.subject == caller.itself)
        ):
            return application
        return (await self._decidable(caller, application_id))[0]

    async def _listed_on(self, record: Record) -> bool:
        """Whether a listing still rests on the record: then it stays repairable after it expired."""
        resting = await self.runtime.read(
            self.runtime.store.listings.find,
            states=OPEN_LISTINGS,
            record_ids=(record.record_id,),
            origin=record.origin_region,
        )
        return bool(resting)

    async def _decidable(self, agency: Principal, application_id: str) -> tuple[RepairApplication, StoredRecord]:
        """An application about a record the agency made; to any other caller it does not exist."""
        application = await self.runtime.read(self.runtime.store.repairs.get, application_id)
        stored = None if application is None else await self.runtime.made_by(agency, application.record_id)
        if application is None or stored is None:
            raise NotFound(f"no repair application {application_id!r}")
        return application, stored

    async def _write(self, application: RepairApplication, event: Event) -> None:
        """Keep an application's next step with the event that logs it."""
        await self.runtime.write_logged(lambda tx: self.runtime.store.repairs.change(tx, application), event)

    def _event(
        self,
        kind: EventKind,
        actor: Principal,
        stored: StoredRecord,
        application: RepairApplication,
        exchange: Mapping[str, str] | None = None,
    ) -> Event:
        """The event of one step; ``exchange``: the intake node and its request's digest, for a carried one."""
        return self.runtime.event(
            kind,
            actor,
            Outcome.ALLOWED,
            subject=stored.record.subject,
            records=(record_ref(stored.record),),
            details={"application_id": application.application_id, "state": application.state.value}
            | ({"reason": application.reason[:500]} if application.reason else {})
            | ({"remedy": application.remedy[:500]} if application.remedy else {})
            | ({"extension_reason": application.extension_reason[:500]} if application.extension_reason else {})
            | ({"mandate_id": application.mandate_id} if application.mandate_id else {})
            | {"result_due": str(application.result_due)}
            | ({"decision_due": str(application.decision_due)} if application.decision_due else {})
            | dict(exchange or {}),
        )


def revocations_read(
    runtime: NodeRuntime, requester: Principal, after: int, entries: Sequence[tuple[int, Envelope]], via: str = ""
) -> Event:
    """The event that a requester read a page of its revocation feed (``via``: "watch" when it was pushed)."""
    revoked = [Revocation.from_bytes(envelope.payload) for _, envelope in entries]
    details = {
        "after": str(after),
        # Each as origin/id: another region's record may carry the same id.
        "records": ",".join(f"{r.origin_region}/{r.record_id}" for r in revoked)[:2000],
    }
    if via:
        details["via"] = via
    return runtime.event(EventKind.REVOCATIONS_READ, requester, Outcome.ALLOWED, details=details)


@dataclass
class RevocationFeed:
    runtime: NodeRuntime

    async def since(self, requester: Principal, after: int, limit: int) -> list[tuple[int, Envelope]]:
        """Revocations of the records this requester received, after feed position ``after``; reading is logged."""
        page = max(1, min(limit or 100, MAX_FEED_PAGE))
        entries = await self.runtime.read(self.runtime.store.revocations.feed, requester.uri, after, page)
        if entries:
            await self.runtime.event_log.append(revocations_read(self.runtime, requester, after, entries))
        return entries
