"""The courts' list of dishonest judgment debtors at a node (Fa Shi [2017] No. 7): how its entries end.

An entry is the court's ``dishonest_judgment_debtor`` record. Only the court
that made it (here, at the entry's origin) ends it, and never through the
generic repair procedure:

* it reports performance (履行) with its date: the entry stops being disclosed
  at once, is due gone within the deletion working days of that date (Art.
  10), and a late report stays marked late in the event;
* the listed party applies for correction (纠正, Art. 12) at the origin node,
  and the court reviews it: upheld, the entry is withdrawn; dismissed, it
  stands with the reasons stated. A review past its due day shows overdue.

An entry that ends goes through ``RecordRegistry.end``, the one path of a
record ended at its maker's word: its signed revocation reaches every peer and
every requester that received it, and the listings resting on it end with it.
The end of a fixed term is the disclosure sweeper's (the term is the record's
period, set at admission).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from share_gateway.domain.calendar import WorkingCalendar
from share_gateway.domain.catalog import Catalog, DebtorListRules, ListKind
from share_gateway.domain.debtor_endings import (
    Performance,
    apply_to_correct,
    check_maker,
    corrected_entry,
    entry_list,
    report_performance,
)
from share_gateway.domain.debtor_list import CorrectionApplication, CorrectionState, courts_list, review_correction
from share_gateway.domain.errors import FieldViolation, InvalidInput, NotFound
from share_gateway.domain.events import Event, EventKind, Outcome
from share_gateway.domain.listings import RemovalCause
from share_gateway.domain.policy import Principal
from share_gateway.domain.record_documents import parse_date
from share_gateway.domain.records import Record, RecordStatus, change_status
from share_gateway.gateway.audit import is_officer, review_event
from share_gateway.gateway.registry import RecordRegistry
from share_gateway.gateway.repair import subjects_record
from share_gateway.gateway.runtime import NodeRuntime, record_ref
from share_gateway.store.records import StoredRecord


@dataclass
class DebtorDesk:
    runtime: NodeRuntime
    catalog: Catalog
    calendar: WorkingCalendar
    # Ends an entry through the one path of a record ended at its maker's word (revocation, listings, events).
    registry: RecordRegistry

    # --- the court's side --------------------------------------------------------------

    async def report_performance(
        self, court: Principal, record_id: str, performed_on: str
    ) -> tuple[StoredRecord, Performance]:
        """The court that made the entry reports that the debtor performed on ``performed_on`` (ISO date): the
        entry ends now, due by the deletion working days after that date (Art. 10)."""
        violations: list[FieldViolation] = []
        day = parse_date(performed_on, "performed_on", violations)
        if day is None:
            raise InvalidInput(violations)
        stored = await self._entry_made_by(court, record_id)
        record = stored.record
        _, rules = entry_list(self.catalog, record)
        today = self.runtime.clock().date()
        performance = report_performance(record, rules, day, today, self.calendar)
        changed = change_status(record, RecordStatus.REPAIRED)
        reason = f"performed on {day}: deleted from the courts' list ({rules.deletion_source})"
        event = self._record_event(EventKind.DEBTOR_PERFORMED, court, changed, performance.details())
        ended = await self.registry.listings.endings(
            changed, RemovalCause.REPAIR, court, f"performance reported {event.event_id}", reason
        )
        await self.registry.end(changed, reason, event, ended)
        return StoredRecord(changed, stored.sealed), performance

    async def review(self, court: Principal, application_id: str, upheld: bool, reason: str) -> CorrectionApplication:
        """The court that made the entry reviews a correction application about it: upheld, the entry is
        withdrawn and revoked to every recipient; dismissed, it stands, with the reasons (Art. 12)."""
        self._court(court)
        application = await self.runtime.read(self.runtime.store.corrections.get, application_id)
        stored = None if application is None else await self.runtime.made_by(court, application.record_id)
        if application is None or stored is None or application.origin_region != self.runtime.region:
            raise NotFound(f"no correction application {application_id!r}")
        _, rules = entry_list(self.catalog, stored.record)
        today = self.runtime.clock().date()
        reviewed = review_correction(
            application, rules, upheld=upheld, reason=reason, today=today, calendar=self.calendar, by=court.uri
        )
        event = self._correction_event(EventKind.DEBTOR_CORRECTION_REVIEWED, court, stored.record, reviewed)
        corrections = self.runtime.store.corrections
        if not upheld:
            await self.runtime.write_logged(lambda tx: corrections.change(tx, reviewed), event)
            return reviewed
        withdrawn = corrected_entry(stored.record, reviewed, today)
        why = f"corrected on application {application_id}: {reason}"
        ended = await self.registry.listings.endings(
            withdrawn, RemovalCause.DECISION_REVOKED, court, f"correction {application_id}", why, today
        )
        await self.registry.end(withdrawn, why, event, ended, lambda tx: corrections.change(tx, reviewed))
        return reviewed

    async def pending(self, caller: Principal, overdue_only: bool) -> list[CorrectionApplication]:
        """Applications awaiting review about the court's entries, or all of them for a compliance officer (a
        logged review); only those past their review day, if asked."""
        today = self.runtime.clock().date()
        officer = is_officer(caller)
        if officer:
            await self.runtime.event_log.append(
                review_event(self.runtime, caller, "debtor_corrections", overdue_only=str(overdue_only))
            )
        waiting = await self.runtime.read(self.runtime.store.corrections.find, (CorrectionState.APPLIED,))
        shown = []
        for application in waiting:
            ours = officer or await self.runtime.made_by(caller, application.record_id) is not None
            if ours and (not overdue_only or application.overdue(today)):
                shown.append(application)
        return shown

    # --- the party's side --------------------------------------------------------------

    async def apply(self, party: Principal, record_id: str, grounds: str) -> CorrectionApplication:
        """The listed party applies, by its own certificate, to correct its entry at the entry's origin node
        (``NOT_THE_ORIGIN`` naming it elsewhere); the court's review is due within the catalog's days."""
        stored = await subjects_record(self.runtime, party.itself, record_id)
        _, rules = entry_list(self.catalog, stored.record)
        application = apply_to_correct(
            stored.record,
            rules,
            application_id=str(uuid.uuid4()),
            applicant=party.uri,
            grounds=grounds,
            today=self.runtime.clock().date(),
        )
        event = self._correction_event(EventKind.DEBTOR_CORRECTION_APPLIED, party, stored.record, application)
        corrections = self.runtime.store.corrections
        await self.runtime.write_logged(lambda tx: corrections.add(tx, application), event)
        return application

    async def mine(self, party: Principal) -> list[CorrectionApplication]:
        """The caller's own applications made here (a caller that is no subject has none)."""
        if party.itself is None:
            return []
        return await self.runtime.read(self.runtime.store.corrections.find, (), party.itself)

    def rules_of(self, application: CorrectionApplication) -> DebtorListRules | None:
        """The rules that set an application's review day (None: the catalog no longer has the list)."""
        found = courts_list(self.catalog, application.record_type)
        return None if found is None else found[1]

    # --- helpers -----------------------------------------------------------------------

    def _court(self, caller: Principal) -> None:
        """Only a maker of a courts' list ends its entries: ``NOT_A_LIST_MAKER`` for any other caller."""
        courts = [d for d in self.catalog.lists.values() if d.kind is ListKind.COURT_DEBTORS]
        if courts and not any(not d.makers or caller.kind in d.makers for d in courts):
            check_maker(courts[0], caller.kind)

    async def _entry_made_by(self, court: Principal, record_id: str) -> StoredRecord:
        """The entry the court made here; to any other caller it does not exist."""
        self._court(court)
        stored = await self.runtime.made_by(court, record_id)
        if stored is None:
            raise NotFound(f"no record {record_id!r}")
        return stored

    def _record_event(self, kind: EventKind, actor: Principal, record: Record, details: dict[str, str]) -> Event:
        return self.runtime.event(
            kind, actor, Outcome.ALLOWED, subject=record.subject, records=(record_ref(record),), details=details
        )

    def _correction_event(
        self, kind: EventKind, actor: Principal, record: Record, application: CorrectionApplication
    ) -> Event:
        details = {
            "application_id": application.application_id,
            "state": application.state.value,
            "review_due": application.review_due.isoformat(),
        }
        if application.reason:
            details["reason"] = application.reason[:500]
        if application.deletion_due is not None:
            details["deletion_due"] = application.deletion_due.isoformat()
        return self._record_event(kind, actor, record, details)
