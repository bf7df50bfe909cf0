"""A repair application as its origin signs it for the intake node that carried it: where it stands.

Format 1 is canonical JSON and permanent: a status already signed must always parse. It names the
request it answers (the digest of the intake node's signed request), so an answer cannot be replayed
for another request. An application an agent made under a mandate adds ``mandate_id`` (absent otherwise, so
a status signed before it existed keeps its bytes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from share_gateway.domain.canonical import Json, canonical_json, day_text, parse_json
from share_gateway.domain.events import format_instant, parse_instant
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.domain.repair import RepairApplication, RepairState

REPAIR_STATUS_TYPE = "application/vnd.share-gateway.repair-status+json"
REPAIR_STATUS_FORMAT = 1


def _day(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


@dataclass(frozen=True, slots=True)
class RepairStatus:
    origin_region: str
    request_digest: str
    application: RepairApplication

    def to_bytes(self) -> bytes:
        a = self.application
        application: dict[str, Json] = {
            "id": a.application_id,
            "record_id": a.record_id,
            "subject": {"kind": a.subject.kind.value, "id": a.subject.identifier},
            "applicant": a.applicant,
            "state": a.state.value,
            "submitted_at": format_instant(a.submitted_at),
            "result_due": a.result_due.isoformat(),
            "decision_due": day_text(a.decision_due),
            "decided_at": "" if a.decided_at is None else format_instant(a.decided_at),
            "reason": a.reason,
            "remedy": a.remedy,
            "extension_reason": a.extension_reason,
            "extended_by": a.extended_by,
            "version": a.version,
        }
        if a.mandate_id:
            application["mandate_id"] = a.mandate_id
        return canonical_json(
            {
                "v": REPAIR_STATUS_FORMAT,
                "origin": self.origin_region,
                "request_digest": self.request_digest,
                "application": application,
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> RepairStatus:
        raw: dict[str, Any] = parse_json(data)
        try:
            if raw["v"] != REPAIR_STATUS_FORMAT:
                raise ValueError(f"unknown repair status format {raw['v']!r}")
            a = raw["application"]
            application = RepairApplication(
                application_id=a["id"],
                record_id=a["record_id"],
                subject=Subject(SubjectKind(a["subject"]["kind"]), a["subject"]["id"]),
                applicant=a["applicant"],
                # Proof and commitment stay at the origin: the intake node relays where the application stands.
                evidence="",
                commitment="",
                state=RepairState(a["state"]),
                submitted_at=parse_instant(a["submitted_at"]),
                result_due=date.fromisoformat(a["result_due"]),
                decision_due=_day(a["decision_due"]),
                decided_at=parse_instant(a["decided_at"]) if a["decided_at"] else None,
                reason=a["reason"],
                remedy=a["remedy"],
                extension_reason=a["extension_reason"],
                extended_by=a["extended_by"],
                version=a["version"],
                mandate_id=a.get("mandate_id", ""),
            )
            status = cls(raw["origin"], raw["request_digest"], application)
        except (KeyError, TypeError) as error:
            raise ValueError(f"malformed repair status: {error!r}") from error
        if status.to_bytes() != data:
            raise ValueError("repair status bytes are not canonical")
        return status
