"""The seriously-untrustworthy list at a node: the agency's steps, the party's objection, and the endings.

The agency that made a record proposes, notifies, reviews an objection and
lists, each step with its document and reason; the party objects in its
window. A listing ends when the record it rests on is repaired or withdrawn
(in the transaction that changes the record) or when the record expires or
its duration runs out (the sweeper). The proposal and the decision carry the repair notice
of the record the listing rests on (两书同达, 2025 No. 22), signed with the listing wherever
it goes. A listing of any record type goes to every peer when it comes into force and when
it ends, signed by this node, so every region applies the same measures and states the same lists.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import NamedTuple

from share_gateway.domain.calendar import WorkingCalendar
from share_gateway.domain.catalog import Catalog
from share_gateway.domain.debtor_endings import check_maker
from share_gateway.domain.errors import NotFound
from share_gateway.domain.events import DisclosedRecord, Event, EventKind, Outcome
from share_gateway.domain.listing_grounds import due_for_removal, list_definition, propose
from share_gateway.domain.listings import (
    Listing,
    ListingState,
    RemovalCause,
    confirm,
    notify,
    object_to,
    remove,
    review,
)
from share_gateway.domain.policy import Principal
from share_gateway.domain.records import Record
from share_gateway.domain.repair import RepairDeadlines
from share_gateway.domain.repair_notice import RepairNotice, repair_notice
from share_gateway.gateway.audit import is_officer, review_event
from share_gateway.gateway.periodic import Periodic
from share_gateway.gateway.runtime import NodeRuntime, node_principal
from share_gateway.store.deliveries import DeliveryKind
from share_gateway.store.unit_of_work import UnitOfWork

BATCH = 500
OPEN = tuple(state for state in ListingState if state is not ListingState.REMOVED)


class ListingChange(NamedTuple):
    """A listing as changed, the event that logs the change, and the peers to share it with (none: kept here)."""

    listing: Listing
    event: Event
    share_to: Sequence[str] = ()


_LOGGED_AS = {
    ListingState.PROPOSED: EventKind.LISTING_PROPOSED,
    ListingState.NOTIFIED: EventKind.LISTING_NOTIFIED,
    ListingState.OBJECTED: EventKind.LISTING_OBJECTED,
    ListingState.REVIEWED: EventKind.LISTING_REVIEWED,
    ListingState.LISTED: EventKind.LISTING_LISTED,
    ListingState.REMOVED: EventKind.LISTING_REMOVED,
}


def listing_event(runtime: NodeRuntime, kind: EventKind, actor: Principal, listing: Listing) -> Event:
    """How the log records a listing's step: who, on what document, why, and the deadlines it set."""
    step = listing.history[-1]
    dates = {
        "notice_due": listing.notice_due,
        "objection_due": listing.objection_due,
        "review_due": listing.review_due,
        "ends_on": listing.ends_on,
        "removal_due": listing.removal_due,
    }
    return runtime.event(
        kind,
        actor,
        Outcome.ALLOWED,
        subject=listing.subject,
        records=(DisclosedRecord(listing.record_id, listing.record_type, listing.origin_region),),
        details={
            "listing_id": listing.listing_id,
            "list": listing.list_name,
            "state": listing.state.value,
            "version": str(listing.version),
            "document": step.document,
            "reason": step.reason[:500],
        }
        | ({"removal_cause": listing.removal_cause.value} if listing.removal_cause else {})
        | {name: day.isoformat() for name, day in dates.items() if day is not None},
    )


def _ground(listing: Listing, cause: RemovalCause) -> str:
    """The document an automatic ending rests on: the listing decision whose duration ran out, or the record."""
    if cause is RemovalCause.DURATION:
        return next((t.document for t in reversed(listing.history) if t.state is ListingState.LISTED), "")
    return f"record {listing.record_id} ({cause.value.replace('_', ' ')})"


@dataclass
class ListingDesk:
    runtime: NodeRuntime
    catalog: Catalog
    calendar: WorkingCalendar
    # A listing whose underlying decision is revoked must be gone within this many working days.
    removal_working_days: int = 3
    peers: tuple[str, ...] = ()
    on_queued: Callable[[], None] | None = None
    sweep_interval: float = 60.0
    # The deadlines a repair application runs under, which the notice served with a listing states.
    deadlines: RepairDeadlines = field(default_factory=RepairDeadlines)

    def __post_init__(self) -> None:
        self.loop = Periodic("listing sweeper", self.sweep, self.sweep_interval)

    # --- the agency's steps ----------------------------------------------------------

    async def propose(
        self,
        agency: Principal,
        record_id: str,
        list_name: str,
        document: str,
        reason: str,
        removal_conditions: str,
        remedies: str,
    ) -> Listing:
        """Propose listing the subject of one of the agency's records, on the catalog's criteria only, and only
        as a maker the list names (the courts' list: courts; ``NOT_A_LIST_MAKER`` for anyone else)."""
        record = await self._own_record(agency, record_id)
        check_maker(list_definition(self.catalog, list_name), agency.kind)
        listing = propose(
            self.catalog,
            record,
            list_name,
            listing_id=str(uuid.uuid4()),
            actor=agency.uri,
            document=document,
            reason=reason,
            removal_conditions=removal_conditions,
            remedies=remedies,
            now=self.runtime.clock(),
            calendar=self.calendar,
        )
        listing = replace(listing, repair_notice=self.notice_for(record))
        event = listing_event(self.runtime, EventKind.LISTING_PROPOSED, agency, listing)
        await self.runtime.write_logged(lambda tx: self.runtime.store.listings.add(tx, listing, event.at), event)
        return listing

    async def notify(self, agency: Principal, listing_id: str, document: str, reason: str) -> Listing:
        listing = await self._own_listing(agency, listing_id)
        definition = list_definition(self.catalog, listing.list_name)
        now = self.runtime.clock()
        changed = notify(
            listing, definition, actor=agency.uri, document=document, reason=reason, now=now, calendar=self.calendar
        )
        return await self._write(agency, changed)

    async def review(self, agency: Principal, listing_id: str, upheld: bool, document: str, reason: str) -> Listing:
        listing = await self._own_listing(agency, listing_id)
        changed = review(
            listing, upheld=upheld, actor=agency.uri, document=document, reason=reason, now=self.runtime.clock()
        )
        return await self._write(agency, changed)

    async def confirm(self, agency: Principal, listing_id: str, document: str, reason: str) -> Listing:
        listing = await self._own_listing(agency, listing_id)
        definition = list_definition(self.catalog, listing.list_name)
        changed = confirm(
            listing, definition, actor=agency.uri, document=document, reason=reason, now=self.runtime.clock()
        )
        # The decision is served with the notice as the record now stands (两书同达).
        record = await self._own_record(agency, listing.record_id)
        return await self._write(agency, replace(changed, repair_notice=self.notice_for(record)))

    def notice_for(self, record: Record) -> RepairNotice | None:
        """The repair notice of the record a listing rests on (None for a type the catalog no longer lists)."""
        record_type = self.catalog.record_types.get(record.record_type)
        return None if record_type is None else repair_notice(record, record_type, self.deadlines)

    async def listings(self, caller: Principal, overdue_only: bool) -> list[Listing]:
        """The open listings on the agency's records, or all this node decided for a compliance officer (a
        review step, logged); only those with a step overdue, if asked."""
        listings, today = self.runtime.store.listings, self.runtime.clock().date()
        officer = is_officer(caller)
        if officer:
            review = review_event(self.runtime, caller, "listings", overdue_only=str(overdue_only))
            await self.runtime.event_log.append(review)
        shown = []
        for listing in await self.runtime.read(listings.find, states=OPEN, origin=self.runtime.region):
            ours = officer or await self.runtime.made_by(caller, listing.record_id) is not None
            if ours and (not overdue_only or listing.overdue(today)):
                shown.append(listing)
        return shown

    # --- the party's side ------------------------------------------------------------

    async def object(self, party: Principal, listing_id: str, statement: str) -> Listing:
        """The listed party objects, within its window, at the node that proposed the listing."""
        listing = await self.runtime.read(self.runtime.store.listings.get, self.runtime.region, listing_id)
        if listing is None or listing.subject != party.itself or listing.origin_region != self.runtime.region:
            raise NotFound(f"no listing {listing_id!r} about the caller at this node")
        definition = list_definition(self.catalog, listing.list_name)
        changed = object_to(
            listing, definition, actor=party.uri, statement=statement, now=self.runtime.clock(), calendar=self.calendar
        )
        return await self._write(party, changed)

    async def about(self, party: Principal) -> list[Listing]:
        """Every listing about the caller this node holds, whatever its state: the party's own view."""
        if party.itself is None:
            return []
        return await self.runtime.read(self.runtime.store.listings.find, subject=party.itself)

    async def listing(self, caller: Principal, listing_id: str) -> Listing:
        """A listing as the deciding agency or the party sees it; to anyone else it does not exist.

        The party sees this node's listing of that id about it, or else a peer's (another origin's id).
        """
        if caller.itself is not None:
            about = await self.runtime.read(
                self.runtime.store.listings.find, subject=caller.itself, listing_id=listing_id
            )
            if about:
                return min(about, key=lambda listing: listing.origin_region != self.runtime.region)
        return await self._own_listing(caller, listing_id)

    # --- endings ---------------------------------------------------------------------

    async def endings(
        self,
        record: Record,
        cause: RemovalCause,
        actor: Principal,
        document: str,
        reason: str,
        revoked_on: date | None = None,
    ) -> list[ListingChange]:
        """The removal of every open listing resting on ``record``, for the transaction that changes it; a
        revoked decision's removal is due counted from ``revoked_on``, the revoking decision's date, if given."""
        listings, now = self.runtime.store.listings, self.runtime.clock()
        resting = await self.runtime.read(
            listings.find, states=OPEN, record_ids=(record.record_id,), origin=record.origin_region
        )
        due = self.calendar.add_working_days(revoked_on or now.date(), self.removal_working_days)
        changes = []
        for listing in resting:
            marked = replace(listing, removal_due=due) if cause is RemovalCause.DECISION_REVOKED else listing
            ended = remove(marked, cause, actor=actor.uri, document=document, reason=reason, now=now)
            changes.append(self._change(actor, ended))
        return changes

    async def sweep(self) -> int:
        """End the listings that ran out, and any resting on a record repaired or withdrawn meanwhile."""
        listings, now = self.runtime.store.listings, self.runtime.clock()
        node = node_principal(self.runtime.region)
        total = 0
        while True:
            due = await self.runtime.read(listings.to_end, self.runtime.region, now.date(), BATCH)
            changes = []
            for listing, status in due:
                cause = due_for_removal(listing, status, now.date())
                if cause is not None:
                    reason = f"the listing ended: {cause.value.replace('_', ' ')}"
                    ended = remove(
                        listing, cause, actor=node.uri, document=_ground(listing, cause), reason=reason, now=now
                    )
                    changes.append(self._change(node, ended))
            if changes:
                await self._write_all(changes)
            total += len(changes)
            if len(due) < BATCH:
                return total

    def write(self, tx: UnitOfWork, changes: Sequence[ListingChange]) -> None:
        """Write each change (refused if that listing changed meanwhile) and its deliveries to peers, then the
        events, in the caller's unit of work: the one way a listing changes."""
        store = self.runtime.store
        for listing, event, share_to in changes:
            store.listings.change(tx, listing, event.at)
            store.outbox.queue(tx, DeliveryKind.LISTING, listing.record_id, share_to, event.at, listing.listing_id)
        store.events.append(tx, [change.event for change in changes])

    def queued(self, changes: Sequence[ListingChange]) -> None:
        """Wake the courier when any change was queued for peers."""
        if any(change.share_to for change in changes) and self.on_queued is not None:
            self.on_queued()

    # --- helpers ---------------------------------------------------------------------

    def _change(self, actor: Principal, listing: Listing) -> ListingChange:
        """The change with its event, shared with every peer when the listing comes into force or ends
        after being in force, whatever the type of its record: a list applies nationwide."""
        was_listed = any(step.state is ListingState.LISTED for step in listing.history)
        share_to = self.peers if was_listed else ()
        return ListingChange(listing, listing_event(self.runtime, _LOGGED_AS[listing.state], actor, listing), share_to)

    async def _write(self, actor: Principal, changed: Listing) -> Listing:
        await self._write_all([self._change(actor, changed)])
        return changed

    async def _write_all(self, changes: list[ListingChange]) -> None:
        await self.runtime.write(lambda tx: self.write(tx, changes))
        self.queued(changes)

    async def _own_record(self, agency: Principal, record_id: str) -> Record:
        stored = await self.runtime.made_by(agency, record_id)
        if stored is None:
            raise NotFound(f"no record {record_id!r} of the caller")
        return stored.record

    async def _own_listing(self, agency: Principal, listing_id: str) -> Listing:
        """A listing on one of the agency's records; to any other caller it does not exist."""
        listing = await self.runtime.read(self.runtime.store.listings.get, self.runtime.region, listing_id)
        if listing is None or await self.runtime.made_by(agency, listing.record_id) is None:
            raise NotFound(f"no listing {listing_id!r}")
        return listing
