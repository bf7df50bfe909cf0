"""A dispute as its origin signs it for the node that carried it there (异议 at any node).

Format 1 is canonical JSON and permanent. It names the request it answers (the digest of the intake
node's signed request), so an answer cannot be replayed for another request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from share_gateway.domain.canonical import canonical_json, parse_json
from share_gateway.domain.disputes import Dispute, DisputeState
from share_gateway.domain.events import format_instant, parse_instant
from share_gateway.domain.identifiers import Subject, SubjectKind

DISPUTE_STATUS_TYPE = "application/vnd.share-gateway.dispute-status+json"
DISPUTE_STATUS_FORMAT = 1


@dataclass(frozen=True, slots=True)
class DisputeStatus:
    request_digest: str
    dispute: Dispute

    def to_bytes(self) -> bytes:
        d = self.dispute
        return canonical_json(
            {
                "v": DISPUTE_STATUS_FORMAT,
                "request_digest": self.request_digest,
                "dispute": {
                    "id": d.dispute_id,
                    "origin": d.origin_region,
                    "record_id": d.record_id,
                    "record_type": d.record_type,
                    "subject": {"kind": d.subject.kind.value, "id": d.subject.identifier},
                    "applicant": d.applicant,
                    "claim": d.claim,
                    "state": d.state.value,
                    "filed_at": format_instant(d.filed_at),
                    "answer_due": d.answer_due.isoformat(),
                    "answered_at": "" if d.answered_at is None else format_instant(d.answered_at),
                    "answer": d.answer,
                    "corrected_record_id": d.corrected_record_id,
                    "version": d.version,
                },
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> DisputeStatus:
        raw: dict[str, Any] = parse_json(data)
        try:
            if raw["v"] != DISPUTE_STATUS_FORMAT:
                raise ValueError(f"unknown dispute status format {raw['v']!r}")
            d = raw["dispute"]
            dispute = Dispute(
                dispute_id=d["id"],
                origin_region=d["origin"],
                record_id=d["record_id"],
                record_type=d["record_type"],
                subject=Subject(SubjectKind(d["subject"]["kind"]), d["subject"]["id"]),
                applicant=d["applicant"],
                claim=d["claim"],
                state=DisputeState(d["state"]),
                filed_at=parse_instant(d["filed_at"]),
                answer_due=date.fromisoformat(d["answer_due"]),
                answered_at=parse_instant(d["answered_at"]) if d["answered_at"] else None,
                answer=d["answer"],
                corrected_record_id=d["corrected_record_id"],
                version=d["version"],
            )
            status = cls(raw["request_digest"], dispute)
        except (KeyError, TypeError) as error:
            raise ValueError(f"malformed dispute status: {error!r}") from error
        if status.to_bytes() != data:
            raise ValueError("dispute status bytes are not canonical")
        return status
