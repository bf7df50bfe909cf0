"""Disputes about wrong records (异议): the subject says a record is wrong; its origin answers in time.

Distinct from objecting to a listing (``domain.listings``): a dispute questions
the record itself. The subject files it; the origin's agency answers within the
record type's dispute time in calendar days (``DisputeRules.answer_days``: 20
for credit-reporting types, Credit Reporting Industry Regulation Art. 25; the
catalog's per-type default for the others). Meanwhile every answer marks the
record "under dispute". The agency either corrects the record (a new signed
version replaces it, and the predecessor is revoked to every recipient) or
keeps it, stating why. An answer after the due day stays marked late.

The state machine (no other step is legal)::

    filed ──▶ corrected      the record was wrong: a new version replaces it
          └─▶ rejected       the record stands, with the reasons
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from share_gateway.domain.catalog import RecordType
from share_gateway.domain.catalog_repair import DisputeRules
from share_gateway.domain.errors import InvalidInput, InvalidState
from share_gateway.domain.identifiers import Subject
from share_gateway.domain.records import Record, RecordStatus

MAX_CLAIM = 4000
MAX_ANSWER = 2000


class DisputeState(StrEnum):
    FILED = "filed"
    CORRECTED = "corrected"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Dispute:
    dispute_id: str
    # The record disputed, as its origin names it.
    origin_region: str
    record_id: str
    record_type: str
    subject: Subject
    # Certificate identity of who filed it (the subject itself).
    applicant: str
    # What the subject says is wrong, and why.
    claim: str
    state: DisputeState
    filed_at: datetime
    # The origin answers by this day (calendar days from filing).
    answer_due: date
    answered_at: datetime | None = None
    answered_by: str = ""
    answer: str = ""
    # On a correction: the record that replaces the disputed one.
    corrected_record_id: str = ""
    version: int = 1

    @property
    def open(self) -> bool:
        return self.state is DisputeState.FILED

    def overdue(self, today: date) -> bool:
        """Unanswered past its due day, or answered after it (a late answer stays late)."""
        if self.answered_at is not None:
            return self.answered_at.date() > self.answer_due
        return today > self.answer_due


def dispute_rules(record_type: RecordType, fallback_days: int) -> DisputeRules:
    """The record type's dispute time, or the node's configured default for a catalog that sets none."""
    if record_type.dispute_rules is not None:
        return record_type.dispute_rules
    return DisputeRules(fallback_days, "node configuration: the catalog sets no dispute time for this type")


def file_dispute(
    record: Record, rules: DisputeRules, *, dispute_id: str, applicant: str, claim: str, now: datetime
) -> Dispute:
    """A new dispute about a record still held active, answer due ``rules.answer_days`` calendar days on."""
    if not claim.strip() or len(claim) > MAX_CLAIM:
        raise InvalidInput.one("claim", f"what is wrong and why, 1 to {MAX_CLAIM} characters")
    if record.status is not RecordStatus.ACTIVE:
        raise InvalidState(f"the record is {record.status}: nothing is shown to dispute", "RECORD_NOT_ACTIVE")
    return Dispute(
        dispute_id=dispute_id,
        origin_region=record.origin_region,
        record_id=record.record_id,
        record_type=record.record_type,
        subject=record.subject,
        applicant=applicant,
        claim=claim,
        state=DisputeState.FILED,
        filed_at=now,
        answer_due=now.date() + timedelta(days=rules.answer_days),
    )


def answer_dispute(dispute: Dispute, *, corrected_record_id: str, answer: str, by: str, now: datetime) -> Dispute:
    """The origin's answer: a correction (naming the new version) or a rejection, each stating why."""
    if not answer.strip() or len(answer) > MAX_ANSWER:
        raise InvalidInput.one("answer", f"states why, in 1 to {MAX_ANSWER} characters")
    if not dispute.open:
        raise InvalidState(
            f"the dispute was already answered ({dispute.state})",
            "ILLEGAL_TRANSITION",
            {"from": dispute.state.value},
        )
    state = DisputeState.CORRECTED if corrected_record_id else DisputeState.REJECTED
    return replace(
        dispute,
        state=state,
        answered_at=now,
        answered_by=by,
        answer=answer,
        corrected_record_id=corrected_record_id,
        version=dispute.version + 1,
    )
