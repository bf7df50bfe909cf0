"""What an intake node signs to carry a subject's repair application to the record's origin, and to ask
the origin where the application stands (2025 No. 22: one intake for the subject; here any node); and
to carry a subject's dispute about a record (异议) there the same way.

Like a forwarded inquiry (``messages.PeerInquiry``) it carries a nonce and a time against replay and the
catalog's digest; it names the subject and the requester, whose certificate at the intake node is that
subject's own identity. ``apply`` carries the record, the proof and the commitment; ``status`` the
application's id; ``dispute`` the record and the subject's claim.

Format 2 adds an agent's mandate (``mandate``: a consent the subject signed for ``credit_repair``, exactly as
signed): the requester is then the agent, and the origin verifies the mandate itself, never on the intake
node's word. A request without a mandate is still written, and read, as format 1.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from share_gateway.crypto.consent import SignedConsent
from share_gateway.domain.canonical import Json, canonical_json, parse_json
from share_gateway.domain.events import format_instant, parse_instant
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.federation.messages import consent_from_json, consent_to_json

PEER_REPAIR_TYPE = "application/vnd.share-gateway.peer-repair+json"
PEER_REPAIR_FORMAT = 1
# Format 2: format 1 and the mandate an agent applies under.
PEER_REPAIR_MANDATE_FORMAT = 2
APPLY, STATUS, DISPUTE = "apply", "status", "dispute"


@dataclass(frozen=True, slots=True)
class PeerRepairRequest:
    origin: str
    requester_uri: str
    subject: Subject
    action: str
    record_id: str
    application_id: str
    evidence: str
    commitment: str
    claim: str
    catalog_digest: str
    nonce: str
    at: datetime
    # An agent's mandate, the subject's signed consent (None: the subject applies itself).
    mandate: SignedConsent | None = None

    @classmethod
    def new(cls, **values: Any) -> PeerRepairRequest:
        return cls(nonce=os.urandom(16).hex(), **values)

    def to_bytes(self) -> bytes:
        body: dict[str, Json] = {
            "v": PEER_REPAIR_FORMAT,
            "origin": self.origin,
            "requester": self.requester_uri,
            "subject": {"kind": self.subject.kind.value, "id": self.subject.identifier},
            "action": self.action,
            "record_id": self.record_id,
            "application_id": self.application_id,
            "evidence": self.evidence,
            "commitment": self.commitment,
            "claim": self.claim,
            "catalog_digest": self.catalog_digest,
            "nonce": self.nonce,
            "at": format_instant(self.at),
        }
        if self.mandate is not None:
            body["v"] = PEER_REPAIR_MANDATE_FORMAT
            body["mandate"] = consent_to_json(self.mandate)
        return canonical_json(body)

    @classmethod
    def from_bytes(cls, data: bytes) -> PeerRepairRequest:
        raw: dict[str, Any] = parse_json(data)
        try:
            if raw["v"] not in (PEER_REPAIR_FORMAT, PEER_REPAIR_MANDATE_FORMAT):
                raise ValueError(f"unknown peer repair request format {raw['v']!r}")
            if raw["action"] not in (APPLY, STATUS, DISPUTE):
                raise ValueError(f"unknown repair action {raw['action']!r}")
            request = cls(
                origin=raw["origin"],
                requester_uri=raw["requester"],
                subject=Subject(SubjectKind(raw["subject"]["kind"]), raw["subject"]["id"]),
                action=raw["action"],
                record_id=raw["record_id"],
                application_id=raw["application_id"],
                evidence=raw["evidence"],
                commitment=raw["commitment"],
                claim=raw["claim"],
                catalog_digest=raw["catalog_digest"],
                nonce=raw["nonce"],
                at=parse_instant(raw["at"]),
                mandate=consent_from_json(raw["mandate"]) if raw["v"] == PEER_REPAIR_MANDATE_FORMAT else None,
            )
        except (KeyError, TypeError) as error:
            raise ValueError(f"malformed peer repair request: {error!r}") from error
        if request.to_bytes() != data:
            raise ValueError("peer repair request bytes are not canonical")
        return request
