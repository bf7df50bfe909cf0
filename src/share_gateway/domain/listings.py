"""The seriously-untrustworthy list (Guo Ban Fa [2020] No. 49): who may be listed, by what steps, until when.

A listing rests on one stored record of a type and conduct the catalog's list
criteria name, never on anything else (``listing_grounds``). Before listing,
the party is told the reasons, basis and its rights (``notified``), may object
within the list's objection window, and an objection is answered within the
same number of working days (``reviewed``). The decision states the reason,
the basis, the measures that follow, the removal conditions and the remedies.
A listing ends at its duration or with the record it rests on: repaired,
expired, quarantined, or withdrawn because its decision was revoked (within 3
working days).

Every transition keeps who made it, when, on what document and why; the
whole history is part of the listing's canonical bytes, which the origin
signs when it shares the listing with its peers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from share_gateway.domain.calendar import WorkingCalendar
from share_gateway.domain.canonical import Json, canonical_json, day_text, parse_json
from share_gateway.domain.catalog import ListDefinition
from share_gateway.domain.errors import FieldViolation, InvalidInput, InvalidState
from share_gateway.domain.events import format_instant, parse_instant
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.domain.repair_notice import RepairNotice, notice_from_json, notice_to_json

LISTING_TYPE = "application/vnd.share-gateway.listing+json"
LISTING_FORMAT = 1
MAX_TEXT = 2000
MAX_DOCUMENT = 200


class ListingState(StrEnum):
    PROPOSED = "proposed"
    NOTIFIED = "notified"
    OBJECTED = "objected"
    REVIEWED = "reviewed"
    LISTED = "listed"
    REMOVED = "removed"


class RemovalCause(StrEnum):
    DURATION = "duration"
    REPAIR = "repair"
    DECISION_REVOKED = "decision_revoked"
    # A newer catalog no longer admits the record the listing rests on.
    RECORD_QUARANTINED = "record_quarantined"
    OBJECTION_UPHELD = "objection_upheld"
    # The record's disclosure and sharing ended: the listing ends with it.
    RECORD_EXPIRED = "record_expired"


@dataclass(frozen=True, slots=True)
class ListingDecision:
    """What the listing decision must state (Guo Ban Fa [2020] No. 49)."""

    reason: str
    basis: str
    measures: tuple[str, ...]
    removal_conditions: str
    remedies: str


@dataclass(frozen=True, slots=True)
class Transition:
    state: ListingState
    actor: str
    at: datetime
    document: str
    reason: str


@dataclass(frozen=True, slots=True)
class Listing:
    listing_id: str
    list_name: str
    record_id: str
    origin_region: str
    record_type: str
    subject: Subject
    state: ListingState
    decision: ListingDecision
    # The party must be notified by this day.
    notice_due: date
    objection_due: date | None = None
    review_due: date | None = None
    listed_on: date | None = None
    # The listing runs out on this day (none: the list sets no duration).
    ends_on: date | None = None
    # When the record's decision was revoked: the listing must be gone by this day.
    removal_due: date | None = None
    removal_cause: RemovalCause | None = None
    history: tuple[Transition, ...] = ()
    version: int = 1
    # The repair notice served with the decision (两书同达, 2025 No. 22): when and how the record it rests on can
    # be repaired, which ends the listing. None only in a listing decided before notices were served.
    repair_notice: RepairNotice | None = None

    def overdue(self, today: date) -> str | None:
        """Which step is late, if any: ``notice``, ``review`` or ``removal``."""
        if self.state is ListingState.PROPOSED and today > self.notice_due:
            return "notice"
        if self.state is ListingState.OBJECTED and self.review_due is not None and today > self.review_due:
            return "review"
        if self.state is not ListingState.REMOVED and self.removal_due is not None and today > self.removal_due:
            return "removal"
        return None

    def in_force(self, today: date) -> bool:
        """Listed and not yet run out: only then do the list's measures follow."""
        return self.state is ListingState.LISTED and (self.ends_on is None or today < self.ends_on)

    def to_bytes(self) -> bytes:
        body: dict[str, Json] = {
            "v": LISTING_FORMAT,
            "listing_id": self.listing_id,
            "list": self.list_name,
            "record_id": self.record_id,
            "origin": self.origin_region,
            "record_type": self.record_type,
            "subject": {"kind": self.subject.kind.value, "id": self.subject.identifier},
            "state": self.state.value,
            "decision": {
                "reason": self.decision.reason,
                "basis": self.decision.basis,
                "measures": list(self.decision.measures),
                "removal_conditions": self.decision.removal_conditions,
                "remedies": self.decision.remedies,
            },
            "notice_due": self.notice_due.isoformat(),
            "objection_due": day_text(self.objection_due),
            "review_due": day_text(self.review_due),
            "listed_on": day_text(self.listed_on),
            "ends_on": day_text(self.ends_on),
            "removal_due": day_text(self.removal_due),
            "removal_cause": self.removal_cause.value if self.removal_cause else "",
            "history": [
                {
                    "state": t.state.value,
                    "actor": t.actor,
                    "at": format_instant(t.at),
                    "document": t.document,
                    "reason": t.reason,
                }
                for t in self.history
            ],
            "version": self.version,
        }
        if self.repair_notice is not None:
            # Absent from a listing decided before notices were served, so its signed bytes stay as they were.
            body["repair_notice"] = notice_to_json(self.repair_notice)
        return canonical_json(body)

    @classmethod
    def from_bytes(cls, data: bytes) -> Listing:
        raw: dict[str, Any] = parse_json(data)
        if raw["v"] != LISTING_FORMAT:
            raise ValueError(f"unknown listing format {raw['v']!r}")
        decision = raw["decision"]
        listing = cls(
            listing_id=raw["listing_id"],
            list_name=raw["list"],
            record_id=raw["record_id"],
            origin_region=raw["origin"],
            record_type=raw["record_type"],
            subject=Subject(SubjectKind(raw["subject"]["kind"]), raw["subject"]["id"]),
            state=ListingState(raw["state"]),
            decision=ListingDecision(
                decision["reason"],
                decision["basis"],
                tuple(decision["measures"]),
                decision["removal_conditions"],
                decision["remedies"],
            ),
            notice_due=date.fromisoformat(raw["notice_due"]),
            objection_due=_parse_day(raw["objection_due"]),
            review_due=_parse_day(raw["review_due"]),
            listed_on=_parse_day(raw["listed_on"]),
            ends_on=_parse_day(raw["ends_on"]),
            removal_due=_parse_day(raw["removal_due"]),
            removal_cause=RemovalCause(raw["removal_cause"]) if raw["removal_cause"] else None,
            history=tuple(
                Transition(ListingState(t["state"]), t["actor"], parse_instant(t["at"]), t["document"], t["reason"])
                for t in raw["history"]
            ),
            version=raw["version"],
            repair_notice=notice_from_json(raw["repair_notice"]) if "repair_notice" in raw else None,
        )
        if listing.to_bytes() != data:
            raise ValueError("listing bytes are not canonical")
        return listing


def _parse_day(value: str) -> date | None:
    return date.fromisoformat(value) if value else None


def check_texts(**texts: str) -> None:
    violations = [
        FieldViolation(name, f"1 to {MAX_DOCUMENT if name == 'document' else MAX_TEXT} characters")
        for name, text in texts.items()
        if not text.strip() or len(text) > (MAX_DOCUMENT if name == "document" else MAX_TEXT)
    ]
    if violations:
        raise InvalidInput(violations)


_NEXT: dict[ListingState, frozenset[ListingState]] = {
    ListingState.PROPOSED: frozenset({ListingState.NOTIFIED, ListingState.REMOVED}),
    ListingState.NOTIFIED: frozenset({ListingState.OBJECTED, ListingState.LISTED, ListingState.REMOVED}),
    ListingState.OBJECTED: frozenset({ListingState.REVIEWED, ListingState.REMOVED}),
    ListingState.REVIEWED: frozenset({ListingState.LISTED, ListingState.REMOVED}),
    ListingState.LISTED: frozenset({ListingState.REMOVED}),
}


def _move(
    listing: Listing, to: ListingState, actor: str, at: datetime, document: str, reason: str, **changes: Any
) -> Listing:
    if to not in _NEXT.get(listing.state, frozenset()):
        raise InvalidState(
            f"a {listing.state} listing cannot become {to}",
            "ILLEGAL_TRANSITION",
            {"from": listing.state.value, "to": to.value},
        )
    step = Transition(to, actor, at, document, reason)
    return replace(listing, state=to, version=listing.version + 1, history=(*listing.history, step), **changes)


def notify(
    listing: Listing,
    definition: ListDefinition,
    *,
    actor: str,
    document: str,
    reason: str,
    now: datetime,
    calendar: WorkingCalendar,
) -> Listing:
    """The party has been told the reasons, basis and its rights; its objection window opens."""
    check_texts(document=document, reason=reason)
    due = calendar.add_working_days(now.date(), definition.objection_working_days)
    return _move(listing, ListingState.NOTIFIED, actor, now, document, reason, objection_due=due)


def object_to(
    listing: Listing,
    definition: ListDefinition,
    *,
    actor: str,
    statement: str,
    now: datetime,
    calendar: WorkingCalendar,
) -> Listing:
    """The party objects within its window; the answer is due within as many working days."""
    check_texts(statement=statement)
    if listing.state is ListingState.NOTIFIED and listing.objection_due and now.date() > listing.objection_due:
        raise InvalidState(
            f"the objection window closed on {listing.objection_due}",
            "OBJECTION_WINDOW_CLOSED",
            {"objection_due": listing.objection_due.isoformat()},
        )
    due = calendar.add_working_days(now.date(), definition.objection_working_days)
    return _move(listing, ListingState.OBJECTED, actor, now, "", statement, review_due=due)


def review(listing: Listing, *, upheld: bool, actor: str, document: str, reason: str, now: datetime) -> Listing:
    """Answer the objection: upheld ends the proposal, dismissed lets the listing go ahead."""
    check_texts(document=document, reason=reason)
    if upheld:
        if listing.state is not ListingState.OBJECTED:
            raise InvalidState(
                f"a {listing.state} listing has no objection to uphold",
                "ILLEGAL_TRANSITION",
                {"from": listing.state.value, "to": ListingState.REMOVED.value},
            )
        return _move(
            listing, ListingState.REMOVED, actor, now, document, reason, removal_cause=RemovalCause.OBJECTION_UPHELD
        )
    return _move(listing, ListingState.REVIEWED, actor, now, document, reason)


def confirm(
    listing: Listing, definition: ListDefinition, *, actor: str, document: str, reason: str, now: datetime
) -> Listing:
    """List the party: after the objection window closed unanswered, or after an objection was dismissed."""
    check_texts(document=document, reason=reason)
    today = now.date()
    if listing.state is ListingState.NOTIFIED and listing.objection_due and today <= listing.objection_due:
        raise InvalidState(
            f"the party may object until {listing.objection_due}; list it after that",
            "OBJECTION_WINDOW_OPEN",
            {"objection_due": listing.objection_due.isoformat()},
        )
    ends = today + timedelta(days=definition.duration_days) if definition.duration_days else None
    return _move(listing, ListingState.LISTED, actor, now, document, reason, listed_on=today, ends_on=ends)


def remove(listing: Listing, cause: RemovalCause, *, actor: str, document: str, reason: str, now: datetime) -> Listing:
    """End a listing (or drop a proposal) for one of the causes the rules name."""
    return _move(listing, ListingState.REMOVED, actor, now, document, reason, removal_cause=cause)
