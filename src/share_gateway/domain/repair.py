"""Credit repair (State Council General Office 2025 No. 22): application, deadlines, decision, revocation.

A subject that performed its obligations applies with the proof and a credit
commitment. The intake replies (accepts or rejects) within
``reply_working_days``; once accepted, the responsible department decides
within ``decision_working_days``. Repair is refused before the severity's
minimum disclosure period, unless the record type allows repair on
performance (the courts delete a dishonest debtor within 3 working days of
performance). On approval the record stops being disclosed everywhere: the
origin signs a ``Revocation`` that every peer and every past recipient gets.
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
    reply_working_days: int = 10
    decision_working_days: int = 3


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
    reply_due: date
    decision_due: date | None = None
    decided_at: datetime | None = None
    decided_by: str = ""
    reason: str = ""
    version: int = 1

    def overdue(self, today: date) -> str | None:
        """Which deadline has passed unmet, if any: ``reply`` or ``decision``."""
        if self.state is RepairState.SUBMITTED and today > self.reply_due:
            return "reply"
        if self.state is RepairState.ACCEPTED and self.decision_due is not None and today > self.decision_due:
            return "decision"
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
) -> RepairApplication:
    """A new application, or ``InvalidInput`` / ``InvalidState`` saying why none can be made."""
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
        raise InvalidState(f"{record_type.name} records cannot be repaired", "NOT_REPAIRABLE")
    if record.status is not RecordStatus.ACTIVE:
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
        reply_due=calendar.add_working_days(now.date(), deadlines.reply_working_days),
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
    """The intake accepts the application; the decision is now due within the decision deadline."""
    due = calendar.add_working_days(now.date(), deadlines.decision_working_days)
    return _move(application, RepairState.ACCEPTED, decision_due=due)


def decide(application: RepairApplication, approve: bool, by: str, reason: str, now: datetime) -> RepairApplication:
    """Approve an accepted application, or reject one (stating why) before or after acceptance."""
    if not reason.strip() or len(reason) > MAX_REASON:
        raise InvalidInput.one("reason", f"states why, in 1 to {MAX_REASON} characters")
    to = RepairState.APPROVED if approve else RepairState.REJECTED
    return _move(application, to, decided_at=now, decided_by=by, reason=reason)


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
