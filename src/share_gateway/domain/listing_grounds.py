"""What a listing rests on: a list of the catalog, a record its criteria name, and that record still standing.

A criterion names record types and the conduct codes it covers, each with its
source (Guo Ban Fa [2020] No. 49 part IV items (6)-(7)); a disclosure tier is
never a ground. A listing ends with the record it rests on: when that record
expires (its disclosure and sharing ended), is withdrawn (its decision
revoked), quarantined (a newer catalog no longer admits it) or repaired
(DOMAIN.md, "Seriously-untrustworthy list") - and at the list's own duration.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from share_gateway.domain.calendar import WorkingCalendar
from share_gateway.domain.catalog import Catalog, ListDefinition, ListKind
from share_gateway.domain.conducts import conduct_of
from share_gateway.domain.errors import InvalidInput, InvalidState
from share_gateway.domain.listings import (
    Listing,
    ListingDecision,
    ListingState,
    RemovalCause,
    Transition,
    check_texts,
)
from share_gateway.domain.records import Record, RecordStatus

# What ends a listing when the record it rests on reaches that status.
ENDED_BY_RECORD: Mapping[RecordStatus, RemovalCause] = {
    RecordStatus.REPAIRED: RemovalCause.REPAIR,
    RecordStatus.WITHDRAWN: RemovalCause.DECISION_REVOKED,
    RecordStatus.QUARANTINED: RemovalCause.RECORD_QUARANTINED,
    RecordStatus.EXPIRED: RemovalCause.RECORD_EXPIRED,
}


def list_definition(catalog: Catalog, list_name: str) -> ListDefinition:
    definition = catalog.lists.get(list_name)
    if definition is None:
        raise InvalidInput.one(
            "list_name", f"{list_name!r} is not a list of the catalog; lists: {sorted(catalog.lists)}"
        )
    return definition


def check_criteria(definition: ListDefinition, record: Record) -> None:
    """A listing only on a record the list's criteria name: its type and the conduct it finds."""
    if definition.kind is ListKind.COURT_DEBTORS:
        raise InvalidState(
            f"list {definition.name} is kept by the courts' own records ({definition.legal_basis}), not by proposal",
            "NOT_BY_PROPOSAL",
            {"list": definition.name},
        )
    criteria = [c for c in definition.criteria if c.record_type == record.record_type]
    if not criteria:
        raise InvalidState(
            f"{record.record_type} records do not meet the criteria of list {definition.name}",
            "NOT_LIST_ELIGIBLE",
            {"list": definition.name, "record_type": record.record_type},
        )
    conduct = conduct_of(record.fields)
    if not any(conduct in c.conducts for c in criteria):
        allowed = sorted({code for c in criteria for code in c.conducts})
        raise InvalidState(
            f"list {definition.name} takes {record.record_type} records for the conduct {allowed} "
            f"({'; '.join(c.source for c in criteria)}), not {conduct or 'a record naming no conduct'}",
            "CRITERIA_NOT_MET",
            {"list": definition.name, "conduct": conduct, "conducts": ",".join(allowed)},
        )
    if record.status is not RecordStatus.ACTIVE:
        raise InvalidState(f"the record is {record.status}, not active", "RECORD_NOT_ACTIVE")


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
    check_texts(document=document, reason=reason, removal_conditions=removal_conditions, remedies=remedies)
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


def due_for_removal(listing: Listing, record_status: RecordStatus, today: date) -> RemovalCause | None:
    """Why a listing must end now, if it must: the record it rests on no longer stands, or its duration ran out."""
    if listing.state is ListingState.REMOVED:
        return None
    cause = ENDED_BY_RECORD.get(record_status)
    if cause is not None:
        return cause
    if listing.state is ListingState.LISTED and listing.ends_on is not None and today >= listing.ends_on:
        return RemovalCause.DURATION
    return None
