"""A record's origin says whether the record is under dispute (异议): the mark every other region shows.

A subject disputes a record at any node; the dispute lives at the record's origin, and answers mark the
record "under dispute" until the origin answers (DOMAIN.md "Disputes, notice and repair channels"; Credit
Reporting Industry Regulation Art. 25 for the answer time). Other regions hold copies of the record, or
relay it in federated answers: they mark it only on this statement, signed by the origin, which they take
from no one else (a node cannot set or clear another region's mark). It carries no claim and no applicant:
what the subject wrote, and what the origin answered, stay at the origin. A region keeps the mark as a copy
of the dispute without them (``copy_of``), beside its own disputes.

Format 1 is canonical JSON and permanent. ``version`` follows the dispute's, so a later statement (the
answer) supersedes an earlier one whatever order they arrive in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from share_gateway.domain.canonical import canonical_json, parse_json
from share_gateway.domain.disputes import Dispute, DisputeState
from share_gateway.domain.events import format_instant, parse_instant
from share_gateway.domain.identifiers import Subject, SubjectKind

DISPUTE_MARK_TYPE = "application/vnd.share-gateway.dispute-mark+json"
DISPUTE_MARK_FORMAT = 1


@dataclass(frozen=True, slots=True)
class DisputeMark:
    dispute_id: str
    origin_region: str
    record_id: str
    record_type: str
    subject: Subject
    # Filed: the record is shown "under dispute" until the origin answers (corrected or rejected).
    state: DisputeState
    filed_at: datetime
    answer_due: date
    answered_at: datetime | None
    version: int

    def to_bytes(self) -> bytes:
        return canonical_json(
            {
                "v": DISPUTE_MARK_FORMAT,
                "dispute_id": self.dispute_id,
                "origin": self.origin_region,
                "record_id": self.record_id,
                "record_type": self.record_type,
                "subject": {"kind": self.subject.kind.value, "id": self.subject.identifier},
                "state": self.state.value,
                "filed_at": format_instant(self.filed_at),
                "answer_due": self.answer_due.isoformat(),
                "answered_at": "" if self.answered_at is None else format_instant(self.answered_at),
                "version": self.version,
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> DisputeMark:
        raw: dict[str, Any] = parse_json(data)
        try:
            if raw["v"] != DISPUTE_MARK_FORMAT:
                raise ValueError(f"unknown dispute mark format {raw['v']!r}")
            mark = cls(
                dispute_id=raw["dispute_id"],
                origin_region=raw["origin"],
                record_id=raw["record_id"],
                record_type=raw["record_type"],
                subject=Subject(SubjectKind(raw["subject"]["kind"]), raw["subject"]["id"]),
                state=DisputeState(raw["state"]),
                filed_at=parse_instant(raw["filed_at"]),
                answer_due=date.fromisoformat(raw["answer_due"]),
                answered_at=parse_instant(raw["answered_at"]) if raw["answered_at"] else None,
                version=raw["version"],
            )
        except (KeyError, TypeError) as error:
            raise ValueError(f"malformed dispute mark: {error!r}") from error
        if mark.to_bytes() != data:
            raise ValueError("dispute mark bytes are not canonical")
        if type(mark.version) is not int or mark.version < 1:
            raise ValueError("a dispute mark's version is a positive integer")
        return mark


def mark_of(dispute: Dispute) -> DisputeMark:
    """The mark the origin states for its own ``dispute``, as it stands."""
    return DisputeMark(
        dispute_id=dispute.dispute_id,
        origin_region=dispute.origin_region,
        record_id=dispute.record_id,
        record_type=dispute.record_type,
        subject=dispute.subject,
        state=dispute.state,
        filed_at=dispute.filed_at,
        answer_due=dispute.answer_due,
        answered_at=dispute.answered_at,
        version=dispute.version,
    )


def copy_of(mark: DisputeMark) -> Dispute:
    """The origin's dispute as another region keeps it: no claim, applicant or answer, only where it stands."""
    return Dispute(
        dispute_id=mark.dispute_id,
        origin_region=mark.origin_region,
        record_id=mark.record_id,
        record_type=mark.record_type,
        subject=mark.subject,
        applicant="",
        claim="",
        state=mark.state,
        filed_at=mark.filed_at,
        answer_due=mark.answer_due,
        answered_at=mark.answered_at,
        version=mark.version,
    )
