"""The seriously-untrustworthy list (Guo Ban Fa [2020] No. 49): who may be listed, by what steps, until when.

A listing rests on one stored record of a type the catalog's list criteria
name (and of a severity they name), never on anything else. Before listing,
the party is told the reasons, basis and its rights (``notified``), may object
within the list's objection window, and an objection is answered within the
same number of working days (``reviewed``). The decision states the reason,
the basis, the measures that follow, the removal conditions and the remedies.
A listing ends at its duration, when the record it rests on is repaired, or
when the decision behind that record is revoked (within 3 working days).

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
from share_gateway.domain.canonical import canonical_json, day_text, parse_json
from share_gateway.domain.catalog import Catalog, ListDefinition
from share_gateway.domain.errors import FieldViolation, InvalidInput, InvalidState
from share_gateway.domain.events import format_instant, parse_instant
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.domain.records import Record, RecordStatus

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
        return canonical_json(
            {
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
        )

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
        )
        if listing.to_bytes() != data:
            raise ValueError("listing bytes are not canonical")
        return listing


def _parse_day(value: str) -> date | None:
    return date.fromisoformat(value) if value else None


def list_definition(catalog: Catalog, list_name: str) -> ListDefinition:
    definition = catalog.lists.get(list_name)
    if definition is None:
        raise InvalidInput.one(
            "list_name", f"{list_name!r} is not a list of the catalog; lists: {sorted(catalog.lists)}"
        )
    return definition


def check_criteria(definition: ListDefinition, record: Record) -> None:
    """A listing only on a record the list's criteria name: its type and, where they say, its severity."""
    criteria = [c for c in definition.criteria if c.record_type == record.record_type]
    if not criteria:
        raise InvalidState(
            f"{record.record_type} records do not meet the criteria of list {definition.name}",
            "NOT_LIST_ELIGIBLE",
            {"list": definition.name, "record_type": record.record_type},
        )
    if all(c.severities and record.severity not in c.severities for c in criteria):
        allowed = sorted({s for c in criteria for s in c.severities})
        raise InvalidState(
            f"list {definition.name} takes {record.record_type} records of severity {allowed}, not {record.severity}",
            "CRITERIA_NOT_MET",
            {"list": definition.name, "severity": record.severity or "", "severities": ",".join(allowed)},
        )
    if record.status is not RecordStatus.ACTIVE:
        raise InvalidState(f"the record is {record.status}, not active", "RECORD_NOT_ACTIVE")


def _texts(**texts: str) -> None:
    violations = [
        FieldViolation(name, f"1 to {MAX_DOCUMENT if name == 'document' else MAX_TEXT} characters")
        for name, text in texts.items()
        if not text.strip() or len(text) > (MAX_DOCUMENT if name == "document" else MAX_TEXT)
    ]
    if violations:
        raise InvalidInput(violations)


def propose(
    catalog: Catalog,
    record: Record,
    list_name: str,
    *,
    listing_id: str,
    actor: str,
    document: str,
    reason: str,
    removal_conditions: str,
    remedies: str,
    now: datetime,
    calendar: WorkingCalendar,
) -> Listing:
    """A proposal to list the record's subject, stating everything the decision must state."""
    _texts(document=document, reason=reason, removal_conditions=removal_conditions, remedies=remedies)
    definition = list_definition(catalog, list_name)
    check_criteria(definition, record)
    # The measures that follow from the listing itself (those of the record's type follow without it).
    measures = tuple(
        sorted(name for name, measure in catalog.measures.items() if list_name in measure.triggered_by_lists)
    )
    return Listing(
        listing_id=listing_id,
        list_name=list_name,
        record_id=record.record_id,
        origin_region=record.origin_region,
        record_type=record.record_type,
        subject=record.subject,
        state=ListingState.PROPOSED,
        decision=ListingDecision(reason, definition.legal_basis, measures, removal_conditions, remedies),
        notice_due=calendar.add_working_days(now.date(), definition.notice_working_days),
        history=(Transition(ListingState.PROPOSED, actor, now, document, reason),),
    )


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
    _texts(document=document, reason=reason)
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
    _texts(statement=statement)
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
    _texts(document=document, reason=reason)
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
    _texts(document=document, reason=reason)
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


def due_for_removal(listing: Listing, record_status: RecordStatus, today: date) -> RemovalCause | None:
    """Why a listing must end now, if it must: its duration ran out, or the record it rests on was
    repaired, its decision revoked, or a newer catalog no longer admits it."""
    if listing.state is ListingState.REMOVED:
        return None
    if record_status is RecordStatus.REPAIRED:
        return RemovalCause.REPAIR
    if record_status is RecordStatus.WITHDRAWN:
        return RemovalCause.DECISION_REVOKED
    if record_status is RecordStatus.QUARANTINED:
        return RemovalCause.RECORD_QUARANTINED
    if listing.state is ListingState.LISTED and listing.ends_on is not None and today >= listing.ends_on:
        return RemovalCause.DURATION
    return None
