"""Credit repair (State Council General Office 2025 No. 22): application, deadlines, decision, revocation.

A subject that performed its obligations applies with the proof and a credit
commitment, itself or through an agent holding its mandate. The whole course,
from application to result, takes at most ``total_working_days`` (10, as the
provincial portals state it): an application is overdue from the next working
day on. Inside that total the responsible department decides within
``decision_working_days`` (3) of receiving (accepting) the application, never
later than the total. A complex case may be extended, once, with a reason; a
rejection states its reasons and the remedy. Repair is refused before the
severity's minimum disclosure period, unless the record type allows repair on
performance (the courts delete a dishonest debtor within 3 working days of
performance). Repair is possible wherever a measure still bites: an expired
record on which a listing still rests is repairable. On approval the record
stops being disclosed everywhere: the origin signs a ``Revocation`` that
every peer and every past recipient gets.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from share_gateway.domain.calendar import WorkingCalendar
from share_gateway.domain.canonical import canonical_json, parse_json
from share_gateway.domain.catalog import RecordType
from share_gateway.domain.errors import FieldViolation, InvalidInput, InvalidState
from share_gateway.domain.events import format_instant, parse_instant
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.domain.records import Record, RecordStatus

REVOCATION_TYPE = "application/vnd.share-gateway.revocation+json"
REVOCATION_FORMAT = 1
MAX_EVIDENCE = 4000
MAX_REASON = 1000


class RepairState(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class RepairDeadlines:
    """The deadlines of 2025 No. 22 in working days; the node's configuration sets them."""

    # From application to result, the whole course.
    total_working_days: int = 10
    # From the department's receipt (acceptance) to its decision, inside the total.
    decision_working_days: int = 3
    # The longest extension of a complex case (unverified: no source in hand sets it; configuration).
    extension_working_days: int = 10


@dataclass(frozen=True, slots=True)
class RepairApplication:
    application_id: str
    record_id: str
    subject: Subject
    applicant: str
    # Proof that the legal obligations were met, and the applicant's credit commitment.
    evidence: str
    commitment: str
    state: RepairState
    submitted_at: datetime
    # The result is due by this day: the whole course's deadline (extended, if it was).
    result_due: date
    decision_due: date | None = None
    decided_at: datetime | None = None
    decided_by: str = ""
    reason: str = ""
    version: int = 1
    # On a rejection: the remedy the applicant has.
    remedy: str = ""
    # An extension for a complex case: why, and by how many working days.
    extension_reason: str = ""
    extended_by: int = 0
    # The mandate an agent applied under; empty when the subject applied itself.
    mandate_id: str = ""

    def overdue(self, today: date) -> str | None:
        """Which deadline has passed unmet, if any: ``decision`` (3 days from receipt) or ``result`` (the total)."""
        if self.state is RepairState.ACCEPTED and self.decision_due is not None and today > self.decision_due:
            return "decision"
        if self.state in (RepairState.SUBMITTED, RepairState.ACCEPTED) and today > self.result_due:
            return "result"
        return None


def repair_allowed_from(record: Record, record_type: RecordType) -> date:
    """The first day a repair may be approved: the end of the minimum disclosure period, or at once."""
    period = record_type.severity_periods.get(record.severity or "")
    # The clock's start (decision, publication or end of the conduct); a conduct still going on: from the day
    # it was recorded.
    start = record.period_start or record.recorded_at.date()
    if record_type.repair_on_performance or period is None:
        return start
    return start + timedelta(days=period.minimum_days)


def apply_for_repair(
    record: Record,
    record_type: RecordType,
    *,
    application_id: str,
    applicant: str,
    evidence: str,
    commitment: str,
    now: datetime,
    calendar: WorkingCalendar,
    deadlines: RepairDeadlines,
    measures_in_force: bool = False,
    mandate_id: str = "",
) -> RepairApplication:
    """A new application, or ``InvalidInput`` / ``InvalidState`` saying why none can be made.

    ``measures_in_force``: a listing or measure still rests on the record, so an expired record stays
    repairable (repair must be possible wherever a measure still bites, issue 12 item 1)."""
    violations = []
    if not evidence.strip() or len(evidence) > MAX_EVIDENCE:
        violations.append(
            FieldViolation("evidence", f"proof that the obligations were met, 1 to {MAX_EVIDENCE} characters")
        )
    if not commitment.strip() or len(commitment) > MAX_EVIDENCE:
        violations.append(FieldViolation("commitment", f"a credit commitment, 1 to {MAX_EVIDENCE} characters"))
    if violations:
        raise InvalidInput(violations)
    if not record_type.repairable:
        forbidden = record_type.repair_rules.forbidden_by
        raise InvalidState(
            f"{record_type.name} records cannot be repaired" + (f": {forbidden}" if forbidden else ""),
            "NOT_REPAIRABLE",
        )
    if not record_type.repair_rules.applies_to(record.fields):
        raise InvalidState("the record is not untrustworthiness information: nothing to repair", "NOT_REPAIRABLE")
    biting = record.status is RecordStatus.EXPIRED and measures_in_force
    if record.status is not RecordStatus.ACTIVE and not biting:
        raise InvalidState(f"the record is {record.status}, not active", "RECORD_NOT_ACTIVE")
    earliest = repair_allowed_from(record, record_type)
    if now.date() < earliest:
        raise InvalidState(
            f"repair is possible from {earliest}, after the minimum disclosure period",
            "MINIMUM_PERIOD_NOT_REACHED",
            {"repairable_from": earliest.isoformat()},
        )
    return RepairApplication(
        application_id=application_id,
        record_id=record.record_id,
        subject=record.subject,
        applicant=applicant,
        evidence=evidence,
        commitment=commitment,
        state=RepairState.SUBMITTED,
        submitted_at=now,
        result_due=calendar.add_working_days(now.date(), deadlines.total_working_days),
        mandate_id=mandate_id,
    )


_NEXT: dict[RepairState, frozenset[RepairState]] = {
    RepairState.SUBMITTED: frozenset({RepairState.ACCEPTED, RepairState.REJECTED}),
    RepairState.ACCEPTED: frozenset({RepairState.APPROVED, RepairState.REJECTED}),
}


def _move(application: RepairApplication, to: RepairState, **changes: Any) -> RepairApplication:
    if to not in _NEXT.get(application.state, frozenset()):
        raise InvalidState(
            f"a {application.state} application cannot become {to}",
            "ILLEGAL_TRANSITION",
            {"from": application.state.value, "to": to.value},
        )
    return replace(application, state=to, version=application.version + 1, **changes)


def accept(
    application: RepairApplication, now: datetime, calendar: WorkingCalendar, deadlines: RepairDeadlines
) -> RepairApplication:
    """The department receives the application: its decision is due within the decision deadline of receipt,
    and never after the whole course's deadline (the 3 days lie inside the 10)."""
    due = min(calendar.add_working_days(now.date(), deadlines.decision_working_days), application.result_due)
    return _move(application, RepairState.ACCEPTED, decision_due=due)


def extend(
    application: RepairApplication,
    working_days: int,
    reason: str,
    calendar: WorkingCalendar,
    deadlines: RepairDeadlines,
) -> RepairApplication:
    """Extend an open application's deadlines for a complex case: once, with a reason, at most the configured days."""
    violations = []
    if not reason.strip() or len(reason) > MAX_REASON:
        violations.append(FieldViolation("reason", f"why the case is complex, in 1 to {MAX_REASON} characters"))
    if not 1 <= working_days <= deadlines.extension_working_days:
        violations.append(FieldViolation("working_days", f"from 1 to {deadlines.extension_working_days} working days"))
    if violations:
        raise InvalidInput(violations)
    if application.state not in (RepairState.SUBMITTED, RepairState.ACCEPTED):
        raise InvalidState(f"a {application.state} application is closed", "ILLEGAL_TRANSITION")
    if application.extended_by:
        raise InvalidState("the application was already extended once", "ALREADY_EXTENDED")
    decision_due = application.decision_due
    if decision_due is not None:
        decision_due = calendar.add_working_days(decision_due, working_days)
    return replace(
        application,
        result_due=calendar.add_working_days(application.result_due, working_days),
        decision_due=decision_due,
        extension_reason=reason,
        extended_by=working_days,
        version=application.version + 1,
    )


def decide(
    application: RepairApplication, approve: bool, by: str, reason: str, now: datetime, remedy: str = ""
) -> RepairApplication:
    """Approve an accepted application, or reject one before or after acceptance, stating the reasons and
    the remedy the applicant has (2025 No. 22)."""
    violations = []
    if not reason.strip() or len(reason) > MAX_REASON:
        violations.append(FieldViolation("reason", f"states why, in 1 to {MAX_REASON} characters"))
    if not approve and (not remedy.strip() or len(remedy) > MAX_REASON):
        violations.append(FieldViolation("remedy", f"a rejection states the remedy, in 1 to {MAX_REASON} characters"))
    if violations:
        raise InvalidInput(violations)
    to = RepairState.APPROVED if approve else RepairState.REJECTED
    return _move(application, to, decided_at=now, decided_by=by, reason=reason, remedy="" if approve else remedy)


@dataclass(frozen=True, slots=True)
class Revocation:
    """What the origin signs when a record stops being disclosed: every holder must stop sharing it."""

    record_id: str
    origin_region: str
    record_type: str
    subject: Subject
    status: RecordStatus
    reason: str
    at: datetime

    def to_bytes(self) -> bytes:
        return canonical_json(
            {
                "v": REVOCATION_FORMAT,
                "record_id": self.record_id,
                "origin": self.origin_region,
                "record_type": self.record_type,
                "subject": {"kind": self.subject.kind.value, "id": self.subject.identifier},
                "status": self.status.value,
                "reason": self.reason,
                "at": format_instant(self.at),
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Revocation:
        raw: dict[str, Any] = parse_json(data)
        if raw["v"] != REVOCATION_FORMAT:
            raise ValueError(f"unknown revocation format {raw['v']!r}")
        revocation = cls(
            record_id=raw["record_id"],
            origin_region=raw["origin"],
            record_type=raw["record_type"],
            subject=Subject(SubjectKind(raw["subject"]["kind"]), raw["subject"]["id"]),
            status=RecordStatus(raw["status"]),
            reason=raw["reason"],
            at=parse_instant(raw["at"]),
        )
        if revocation.to_bytes() != data:
            raise ValueError("revocation bytes are not canonical")
        return revocation

    @classmethod
    def of(cls, record: Record, reason: str, at: datetime) -> Revocation:
        return cls(
            record.record_id, record.origin_region, record.record_type, record.subject, record.status, reason, at
        )
