"""A subject's consent as a statement: who may ask about whom, for which purposes, until when, on what evidence.

The Credit Reporting Industry Regulation (Art. 18) requires the subject's written consent for an agreed
purpose. A free-text reference proves nothing, so a consent is a signed statement (see
``crypto.consent``) binding one subject, one requester, one or more purposes, a validity period and the
SHA-256 digest of the evidence (the signed authorisation form, which never travels). Either the subject
signs it, or the requester signs it as an attestation of evidence it keeps (``attested``).

Format 1 is canonical JSON and permanent: a statement already signed must always parse and verify.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from share_gateway.domain.canonical import canonical_json, parse_json
from share_gateway.domain.errors import InvalidInput
from share_gateway.domain.events import format_instant, parse_instant
from share_gateway.domain.identifiers import Subject
from share_gateway.domain.policy import Denial

CONSENT_TYPE = "application/vnd.share-gateway.consent+json"
CONSENT_REVOCATION_TYPE = "application/vnd.share-gateway.consent-revocation+json"
CONSENT_FORMAT = 1
MAX_PURPOSES = 16
# The id is the first 128 bits of the statement's SHA-256 (hex): unique, and short enough to name it anywhere.
ID_LENGTH = 32


@dataclass(frozen=True, slots=True)
class ConsentStatement:
    subject: Subject
    # The requester's identity URI (sgw://institution/<USCC>).
    requester: str
    purposes: tuple[str, ...]
    not_before: datetime
    not_after: datetime
    # SHA-256 (hex) of the evidence: the signed authorisation form the subject gave.
    evidence_sha256: str
    # Signed by the requester on evidence it keeps, not by the subject.
    attested: bool = False

    def to_bytes(self) -> bytes:
        return canonical_json(
            {
                "v": CONSENT_FORMAT,
                "subject": {"kind": self.subject.kind.value, "id": self.subject.identifier},
                "requester": self.requester,
                "purposes": list(self.purposes),
                "not_before": format_instant(self.not_before),
                "not_after": format_instant(self.not_after),
                "evidence_sha256": self.evidence_sha256,
                "attested": self.attested,
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> ConsentStatement:
        """Parse format 1 exactly (canonical bytes only), or raise ``ValueError``."""
        raw: dict[str, Any] = parse_json(data)
        if raw.get("v") != CONSENT_FORMAT:
            raise ValueError(f"unknown consent format {raw.get('v')!r}")
        purposes = raw["purposes"]
        if not isinstance(purposes, list) or not purposes or len(purposes) > MAX_PURPOSES:
            raise ValueError(f"a consent names 1 to {MAX_PURPOSES} purposes")
        evidence = raw["evidence_sha256"]
        if not isinstance(evidence, str) or len(evidence) != 64 or evidence.strip("0123456789abcdef"):
            raise ValueError("evidence_sha256 must be 64 lowercase hex digits")
        statement = cls(
            subject=_subject(raw["subject"]),
            requester=str(raw["requester"]),
            purposes=tuple(str(p) for p in purposes),
            not_before=parse_instant(raw["not_before"]),
            not_after=parse_instant(raw["not_after"]),
            evidence_sha256=evidence,
            attested=raw["attested"] is True,
        )
        if statement.not_after <= statement.not_before:
            raise ValueError("a consent must end after it starts")
        if statement.to_bytes() != data:
            raise ValueError("consent bytes are not canonical")
        return statement

    def refusal(
        self, requester_uri: str, purpose: str, subject: Subject, now: datetime, skew: timedelta
    ) -> tuple[Denial, str] | None:
        """Why this (signature-verified) consent does not cover the inquiry, or None if it does.

        Its times come from another party, so they are read with the federation's clock skew.
        """
        if self.requester != requester_uri:
            return Denial.CONSENT_OTHER_REQUESTER, f"the consent is given to {self.requester}, not the caller"
        if self.subject != subject:
            return Denial.CONSENT_OTHER_SUBJECT, "the consent is about another subject"
        if purpose not in self.purposes:
            return Denial.CONSENT_OTHER_PURPOSE, f"the consent does not cover {purpose}"
        if now + skew < self.not_before:
            return Denial.CONSENT_NOT_YET_VALID, f"the consent is valid from {format_instant(self.not_before)}"
        if now - skew >= self.not_after:
            return Denial.CONSENT_EXPIRED, f"the consent expired at {format_instant(self.not_after)}"
        return None


def consent_id(statement_bytes: bytes) -> str:
    """How every node names a consent: from its signed bytes, so no party picks another's id."""
    return hashlib.sha256(statement_bytes).hexdigest()[:ID_LENGTH]


@dataclass(frozen=True, slots=True)
class Consent:
    """A consent whose signature and certificate chain held: the statement, its id, and who signed it."""

    consent_id: str
    statement: ConsentStatement
    # The signer's identity URI from its certificate: the subject's, or the requester's for an attestation.
    signer: str


@dataclass(frozen=True, slots=True)
class ConsentRevocation:
    """The subject withdrew a consent, at ``at``, through the node of region ``origin``."""

    consent_id: str
    subject: Subject
    at: datetime
    origin: str

    def to_bytes(self) -> bytes:
        return canonical_json(
            {
                "v": CONSENT_FORMAT,
                "consent_id": self.consent_id,
                "subject": {"kind": self.subject.kind.value, "id": self.subject.identifier},
                "at": format_instant(self.at),
                "origin": self.origin,
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> ConsentRevocation:
        raw: dict[str, Any] = parse_json(data)
        if raw.get("v") != CONSENT_FORMAT:
            raise ValueError(f"unknown consent revocation format {raw.get('v')!r}")
        revocation = cls(
            consent_id=str(raw["consent_id"]),
            subject=_subject(raw["subject"]),
            at=parse_instant(raw["at"]),
            origin=str(raw["origin"]),
        )
        if len(revocation.consent_id) != ID_LENGTH or revocation.to_bytes() != data:
            raise ValueError("consent revocation bytes are not canonical")
        return revocation


def _subject(raw: Any) -> Subject:
    try:
        return Subject.parse(str(raw["kind"]), str(raw["id"]))
    except InvalidInput as error:
        raise ValueError(str(error)) from error
