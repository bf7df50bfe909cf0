"""What nodes sign for each other: a forwarded inquiry, with its nonce and time against replay."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from share_gateway.domain.canonical import canonical_json, parse_json
from share_gateway.domain.events import format_instant, parse_instant
from share_gateway.domain.identifiers import Subject, SubjectKind

PEER_INQUIRY_TYPE = "application/vnd.share-gateway.peer-inquiry+json"
PEER_INQUIRY_FORMAT = 1
# A forwarded inquiry older or newer than this is refused; its nonce is remembered at least this long.
REPLAY_WINDOW = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class PeerInquiry:
    """An inquiry as the requester's node forwards it: the node vouches for the requester and its grant."""

    origin: str
    requester_uri: str
    requester_kind: str
    # The asking node holds a current grant of the requester for the purpose.
    granted: bool
    subject: Subject
    purpose: str
    consent_reference: str
    record_types: tuple[str, ...]
    catalog_digest: str
    nonce: str
    at: datetime

    @classmethod
    def new(cls, **values: Any) -> PeerInquiry:
        return cls(nonce=os.urandom(16).hex(), **values)

    def to_bytes(self) -> bytes:
        return canonical_json(
            {
                "v": PEER_INQUIRY_FORMAT,
                "origin": self.origin,
                "requester": {"uri": self.requester_uri, "kind": self.requester_kind, "granted": self.granted},
                "subject": {"kind": self.subject.kind.value, "id": self.subject.identifier},
                "purpose": self.purpose,
                "consent_reference": self.consent_reference,
                "record_types": list(self.record_types),
                "catalog_digest": self.catalog_digest,
                "nonce": self.nonce,
                "at": format_instant(self.at),
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> PeerInquiry:
        raw: dict[str, Any] = parse_json(data)
        if raw["v"] != PEER_INQUIRY_FORMAT:
            raise ValueError(f"unknown peer inquiry format {raw['v']!r}")
        requester = raw["requester"]
        inquiry = cls(
            origin=raw["origin"],
            requester_uri=requester["uri"],
            requester_kind=requester["kind"],
            granted=bool(requester["granted"]),
            subject=Subject(SubjectKind(raw["subject"]["kind"]), raw["subject"]["id"]),
            purpose=raw["purpose"],
            consent_reference=raw["consent_reference"],
            record_types=tuple(raw["record_types"]),
            catalog_digest=raw["catalog_digest"],
            nonce=raw["nonce"],
            at=parse_instant(raw["at"]),
        )
        if inquiry.to_bytes() != data:
            raise ValueError("peer inquiry bytes are not canonical")
        return inquiry


def digest(data: bytes) -> str:
    """How each side's log names the other side's signed message."""
    return hashlib.sha256(data).hexdigest()
