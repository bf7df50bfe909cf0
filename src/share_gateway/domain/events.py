"""Events of the accountability log and their canonical bytes.

Every inquiry (allowed or denied), submission and withdrawal becomes one
``Event``. Its canonical JSON bytes are what is stored, what the node signs
as an inquiry receipt, and (next) the leaf of the Merkle log, so the bytes
must never depend on anything but the event's content.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from functools import cached_property
from typing import Any

from share_gateway.domain.canonical import canonical_json, parse_json
from share_gateway.domain.errors import Citation
from share_gateway.domain.identifiers import Subject, SubjectKind

EVENT_FORMAT = 1
EVENT_MEDIA_TYPE = "application/vnd.share-gateway.event+json"


class EventKind(StrEnum):
    INQUIRY = "inquiry"
    RECORD_SUBMITTED = "record_submitted"
    RECORD_READ = "record_read"
    RECORD_WITHDRAWN = "record_withdrawn"
    INQUIRY_HISTORY = "inquiry_history"
    AUDIT = "audit"
    LOG_REDACTED = "log_redacted"
    RECORD_PUBLISHED = "record_published"
    RECORD_RECEIVED = "record_received"
    RECORD_EXPIRED = "record_expired"
    # A new catalog version no longer admits the record: kept, never disclosed (with the reasons).
    RECORD_QUARANTINED = "record_quarantined"
    # The report of checking every active record against a catalog version.
    CATALOG_SWEPT = "catalog_swept"
    REPAIR_APPLIED = "repair_applied"
    REPAIR_ACCEPTED = "repair_accepted"
    REPAIR_REJECTED = "repair_rejected"
    # Approval: the record is repaired and its revocation queued, in one transaction.
    RECORD_REPAIRED = "record_repaired"
    RECORD_REVOKED = "record_revoked"
    REVOCATION_DELIVERED = "revocation_delivered"
    REVOCATIONS_READ = "revocations_read"
    # Each step of a listing on a catalog list (the seriously-untrustworthy list), with its document.
    LISTING_PROPOSED = "listing_proposed"
    LISTING_NOTIFIED = "listing_notified"
    LISTING_OBJECTED = "listing_objected"
    LISTING_REVIEWED = "listing_reviewed"
    LISTING_LISTED = "listing_listed"
    LISTING_REMOVED = "listing_removed"
    LISTING_SHARED = "listing_shared"
    LISTING_RECEIVED = "listing_received"
    # A witness's alarm: a peer presented a checkpoint that does not extend the one this node cosigned.
    CHECKPOINT_INCONSISTENT = "checkpoint_inconsistent"
    # A call presented a certificate the authority's revocation list revokes (once per window per certificate).
    CERTIFICATE_REFUSED = "certificate_refused"
    # What peers were refused (by region and reason), counted over a window so a hostile peer cannot flood the log.
    PEER_REFUSED = "peer_refused"
    # An alarm: a peer refused a delivery for a reason that cannot change; it waits as a dead letter.
    DELIVERY_DEAD_LETTERED = "delivery_dead_lettered"
    # An operator made a dead letter due again (who, and why).
    DELIVERY_REDELIVERED = "delivery_redelivered"
    # Calls refused by a quota (per requester, reason and window, with the count), never one event per call.
    QUOTA_REFUSED = "quota_refused"
    # An alarm for officers: a requester's window crossed a harvesting threshold (which one, with its figures).
    HARVESTING_SUSPECTED = "harvesting_suspected"
    # A subject withdrew a consent (at its node); a peer took the withdrawal; it was delivered to a peer.
    CONSENT_REVOKED = "consent_revoked"
    CONSENT_REVOCATION_RECEIVED = "consent_revocation_received"
    CONSENT_REVOCATION_DELIVERED = "consent_revocation_delivered"
    # A request that did not decode or held what cannot be stored (counted per caller and window, like refusals).
    REQUEST_REFUSED = "request_refused"
    # A requester acknowledged the revocations of its feed up to a position (it acted on them).
    REVOCATIONS_ACKNOWLEDGED = "revocations_acknowledged"
    # For officers: an acknowledgement that came later than the configured time after the revocation was kept.
    REVOCATION_ACKNOWLEDGED_LATE = "revocation_acknowledged_late"
    # A complex case's deadlines extended, with the reason.
    REPAIR_EXTENDED = "repair_extended"
    # A subject disputes a record (异议); its origin answers: corrected (a new version) or kept, with why.
    DISPUTE_FILED = "dispute_filed"
    DISPUTE_ANSWERED = "dispute_answered"
    # This node carried a subject's repair application (or a question of its status) to the record's origin.
    REPAIR_FORWARDED = "repair_forwarded"
    # The courts' list of dishonest judgment debtors (Fa Shi [2017] No. 7): the making court reports performance
    # (the entry is deleted, Art. 10); the party applies for correction and the court reviews it (Art. 12).
    DEBTOR_PERFORMED = "debtor_performed"
    DEBTOR_CORRECTION_APPLIED = "debtor_correction_applied"
    DEBTOR_CORRECTION_REVIEWED = "debtor_correction_reviewed"
    # This node's statement of where a dispute about its record stands went to a peer; a peer's was taken here.
    DISPUTE_MARK_SHARED = "dispute_mark_shared"
    DISPUTE_MARK_RECEIVED = "dispute_mark_received"
    # A warning for operators: trust material (manifest, certificate) expires within the horizon or has expired;
    # at most one per artefact per UTC day (``domain.trust_expiry``).
    TRUST_MATERIAL_EXPIRING = "trust_material_expiring"
    # A newer manifest, catalog or revocation list put in force at a running node (``gateway.trust_live``), and an
    # alarm: one refused (bad signature, rollback, ...), the one in force kept; once per distinct refused document.
    TRUST_MATERIAL_INSTALLED = "trust_material_installed"
    TRUST_MATERIAL_REFUSED = "trust_material_refused"
    # The registry of who may do what (domain.grant_acts): each change by an administrator (or, offline, the
    # node's operator), with the document that authorised it; a refused attempt is logged as the act's kind, denied.
    INSTITUTION_REGISTERED = "institution_registered"
    GRANT_ADDED = "grant_added"
    GRANT_CHANGED = "grant_changed"
    GRANT_REVOKED = "grant_revoked"
    # An alarm: at start, a witness held a cosigned checkpoint of this node's log that its log does not hold (a
    # restore from a backup older than it); the node refuses to serve. Then the operator's acknowledgement, after
    # which it serves, its log's history departing from the cosigned one (docs/operations.md, Backup and restore).
    RESTORE_REFUSED = "restore_refused"
    RESTORE_ACKNOWLEDGED = "restore_acknowledged"


class Outcome(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"


@dataclass(frozen=True, slots=True)
class DisclosedRecord:
    """Which record went out (or was changed) and which of its fields."""

    record_id: str
    record_type: str
    origin_region: str
    fields: tuple[str, ...] = ()


def format_instant(at: datetime) -> str:
    """RFC 3339 UTC with microseconds: one text per instant."""
    if at.tzinfo is None:
        raise ValueError("instants must be timezone-aware")
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


_INSTANT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")


def parse_instant(text: str) -> datetime:
    """The inverse of ``format_instant``, and nothing else (fromisoformat alone admits other forms)."""
    if not _INSTANT.fullmatch(text):
        raise ValueError(f"{text!r} is not an instant of the form 2026-11-26T10:00:00.000000Z")
    return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)


@dataclass(frozen=True)
class Event:
    event_id: str
    kind: EventKind
    at: datetime
    node: str
    actor: str
    outcome: Outcome
    subject: Subject | None = None
    purpose: str = ""
    reason: str = ""
    citations: tuple[Citation, ...] = ()
    records: tuple[DisclosedRecord, ...] = ()
    details: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("event time must be timezone-aware")

    def to_json(self) -> dict[str, Any]:
        return {
            "v": EVENT_FORMAT,
            "id": self.event_id,
            "kind": self.kind.value,
            "at": format_instant(self.at),
            "node": self.node,
            "actor": self.actor,
            "outcome": self.outcome.value,
            "subject": None
            if self.subject is None
            else {"kind": self.subject.kind.value, "id": self.subject.identifier},
            "purpose": self.purpose,
            "reason": self.reason,
            "citations": [{"rule": c.rule, "legal_basis": c.legal_basis} for c in self.citations],
            "records": [
                {"id": r.record_id, "type": r.record_type, "origin": r.origin_region, "fields": list(r.fields)}
                for r in self.records
            ],
            "details": dict(self.details),
        }

    @cached_property
    def _bytes(self) -> bytes:
        return canonical_json(self.to_json())

    def canonical_bytes(self) -> bytes:
        """Computed once per event: the receipt signs and the log stores the same bytes."""
        return self._bytes

    @classmethod
    def from_bytes(cls, data: bytes) -> Event:
        """Read an event back from its canonical bytes (which must round-trip exactly)."""
        doc = parse_json(data)
        if not isinstance(doc, dict):
            raise ValueError("an event is a JSON object")  # noqa: TRY004 - bad data, not a bad call
        try:
            if doc.get("v") != EVENT_FORMAT:
                raise ValueError(f"unknown event format {doc.get('v')!r}")
            subject = doc["subject"]
            event = cls(
                event_id=doc["id"],
                kind=EventKind(doc["kind"]),
                at=parse_instant(doc["at"]),
                node=doc["node"],
                actor=doc["actor"],
                outcome=Outcome(doc["outcome"]),
                subject=None if subject is None else Subject(SubjectKind(subject["kind"]), subject["id"]),
                purpose=doc["purpose"],
                reason=doc["reason"],
                citations=tuple(Citation(c["rule"], c["legal_basis"]) for c in doc["citations"]),
                records=tuple(
                    DisclosedRecord(r["id"], r["type"], r["origin"], tuple(r["fields"])) for r in doc["records"]
                ),
                details=doc["details"],
            )
        except (KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"malformed event: {error!r}") from error
        if event.canonical_bytes() != data:
            raise ValueError("event bytes are not canonical")
        return event


@dataclass(frozen=True, slots=True)
class EventSummary:
    """The fields the log is searched by, read from canonical bytes without rebuilding the event."""

    event_id: str
    kind: str
    at: datetime
    node: str
    actor: str
    subject_kind: str | None
    subject_id: str | None
    purpose: str
    outcome: str


def summarise(data: bytes) -> EventSummary:
    """What the sequencer indexes; cheaper than ``Event.from_bytes``, which also proves canonicity."""
    doc = parse_json(data)
    try:
        subject = doc["subject"]
        return EventSummary(
            doc["id"],
            doc["kind"],
            parse_instant(doc["at"]),
            doc["node"],
            doc["actor"],
            None if subject is None else subject["kind"],
            None if subject is None else subject["id"],
            doc["purpose"],
            doc["outcome"],
        )
    except (KeyError, TypeError) as error:
        raise ValueError(f"malformed event: {error!r}") from error


# What a redacted event keeps: enough to show that an event of this kind happened, when, where and by whom;
# the subject, the records and fields it touched, the consent reference and the rest go.
_KEPT_WHEN_REDACTED = ("v", "id", "kind", "at", "node", "actor", "outcome", "purpose")


def redacted(data: bytes, on: datetime) -> bytes:
    """The stub that replaces an event's bytes once its retention period is over (its leaf hash stays)."""
    doc = parse_json(data)
    stub = {key: doc[key] for key in _KEPT_WHEN_REDACTED if key in doc}
    return canonical_json({**stub, "redacted": True, "redacted_on": on.date().isoformat()})
