"""What nodes sign for each other: a forwarded inquiry, with its nonce and time against replay.

Format 2 adds the subject's signed consent (``consent``), so each region verifies it itself; a format 1
inquiry (no consent) still parses, and one without a consent is still written as format 1.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from share_gateway.crypto.consent import SignedConsent
from share_gateway.domain.canonical import canonical_json, parse_json
from share_gateway.domain.events import format_instant, parse_instant
from share_gateway.domain.identifiers import Subject, SubjectKind

PEER_INQUIRY_TYPE = "application/vnd.share-gateway.peer-inquiry+json"
PEER_INQUIRY_FORMAT = 1
# Format 2: format 1 and the signed consent the requester sent.
PEER_INQUIRY_CONSENT_FORMAT = 2
# A forwarded inquiry older or newer than this is refused; its nonce is remembered at least this long.
REPLAY_WINDOW = timedelta(seconds=60)


def consent_to_json(consent: SignedConsent) -> dict[str, str]:
    """A signed consent as a peer message carries it, exactly as signed, so the receiver verifies it itself."""
    return {
        "statement": base64.b64encode(consent.statement).decode(),
        "signature": base64.b64encode(consent.signature).decode(),
        "certificate": consent.certificate.decode(),
    }


def consent_from_json(raw: dict[str, Any]) -> SignedConsent:
    """The signed consent ``consent_to_json`` wrote (``ValueError``/``KeyError``/``TypeError`` when malformed)."""
    return SignedConsent(
        base64.b64decode(raw["statement"], validate=True),
        base64.b64decode(raw["signature"], validate=True),
        raw["certificate"].encode(),
    )


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
    consent: SignedConsent | None = None

    @classmethod
    def new(cls, **values: Any) -> PeerInquiry:
        return cls(nonce=os.urandom(16).hex(), **values)

    def to_bytes(self) -> bytes:
        body: dict[str, Any] = {
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
        if self.consent is not None:
            body["v"] = PEER_INQUIRY_CONSENT_FORMAT
            body["consent"] = consent_to_json(self.consent)
        return canonical_json(body)

    @classmethod
    def from_bytes(cls, data: bytes) -> PeerInquiry:
        raw: dict[str, Any] = parse_json(data)
        if raw["v"] not in (PEER_INQUIRY_FORMAT, PEER_INQUIRY_CONSENT_FORMAT):
            raise ValueError(f"unknown peer inquiry format {raw['v']!r}")
        consent = None
        if raw["v"] == PEER_INQUIRY_CONSENT_FORMAT:
            consent = consent_from_json(raw["consent"])
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
            consent=consent,
        )
        if inquiry.to_bytes() != data:
            raise ValueError("peer inquiry bytes are not canonical")
        return inquiry


def digest(data: bytes) -> str:
    """How each side's log names the other side's signed message."""
    return hashlib.sha256(data).hexdigest()
