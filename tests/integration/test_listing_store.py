"""Listings on both databases: the sweeper ends them at their duration, a peer's copy only moves forward,
and the lists in force are what an inquiry's measures see."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from share_gateway.api.convert import draft_from_wire
from share_gateway.crypto.disclosure import seal_record
from share_gateway.domain.calendar import WorkingCalendar
from share_gateway.domain.errors import InvalidState
from share_gateway.domain.events import Event, EventKind, Outcome
from share_gateway.domain.listings import Listing, ListingState, RemovalCause
from share_gateway.domain.policy import Principal
from share_gateway.domain.records import Record, admit_record
from share_gateway.gateway.listings import ListingDesk
from share_gateway.gateway.registry import keep_submission
from share_gateway.gateway.runtime import NodeRuntime
from share_gateway.gateway.sweeper import DisclosureSweeper
from share_gateway.store.repositories import Store
from tests.integration.test_disclosure_periods import CATALOG, DECIDED, KEY, Clock
from tests.support import REGION, listable_penalty_request

AGENCY = Principal("11110000MB00000048", "sgw://x", "public_agency")
LIST = "serious_untrustworthy"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def desk(store: Store, clock: Clock) -> ListingDesk:
    return ListingDesk(NodeRuntime(REGION, KEY, store, clock=clock), CATALOG, WorkingCalendar())


def penalty(store: Store, request_id: str, disclosure_days: int | None = None) -> Record:
    """A serious penalty finding listable conduct, decided on 10 January 2026 and recorded the next day."""
    request = listable_penalty_request(request_id)
    request.legal_document.issued_on = request.legal_document.effective_on = DECIDED.isoformat()
    if disclosure_days is not None:
        request.disclosure_days = disclosure_days
    now = datetime(2026, 1, 11, 9, 0, tzinfo=UTC)
    record = admit_record(
        CATALOG, draft_from_wire(request), record_id=request_id, origin_region=REGION, submitted_by="sgw://x", now=now
    )
    event = Event(request_id, EventKind.RECORD_SUBMITTED, now, REGION, "sgw://x", Outcome.ALLOWED)
    store.write(lambda tx: keep_submission(store, tx, record, seal_record(record, KEY), request_id, event))
    return record


async def listed(desk: ListingDesk, clock: Clock, request_id: str, disclosure_days: int | None = None) -> str:
    """A serious penalty's subject listed after an unanswered objection window; returns the listing id."""
    record = penalty(desk.runtime.store, request_id, disclosure_days)
    listing = await desk.propose(
        AGENCY, record.record_id, "serious_untrustworthy", "拟列入告知书", "严重违法", "履行", "复议"
    )
    told = await desk.notify(AGENCY, listing.listing_id, "告知书", "告知")
    assert told.objection_due is not None
    clock.at(told.objection_due + timedelta(days=1))
    done = await desk.confirm(AGENCY, listing.listing_id, "决定书", "期满无异议")
    assert done.ends_on == told.objection_due + timedelta(days=1 + 1095)
    return listing.listing_id


async def test_rule_2020_49_a_listing_ends_at_its_duration_and_its_measures_with_it(
    store: Store, clock: Clock, desk: ListingDesk
) -> None:
    listing_id = await listed(desk, clock, "p-1")
    listing = store.listings.get(REGION, listing_id)
    assert listing is not None
    assert listing.ends_on is not None
    subject = listing.subject
    assert store.listings.lists_of(subject, listing.ends_on - timedelta(days=1)) == {"serious_untrustworthy"}
    clock.at(listing.ends_on - timedelta(days=1))
    assert await desk.sweep() == 0
    clock.at(listing.ends_on)
    assert await desk.sweep() == 1
    ended = store.listings.get(REGION, listing_id)
    assert ended is not None
    assert (ended.state, ended.removal_cause) == (ListingState.REMOVED, RemovalCause.DURATION)
    assert store.listings.lists_of(subject, listing.ends_on) == frozenset()
    assert await desk.sweep() == 0, "an ended listing is not ended twice"
    removed = [Event.from_bytes(body) for _, body in store.events.read() if b"listing_removed" in body]
    assert [(e.kind, e.details["removal_cause"]) for e in removed] == [(EventKind.LISTING_REMOVED, "duration")]


async def test_listing_ends_when_its_record_expires(store: Store, clock: Clock, desk: ListingDesk) -> None:
    """DOMAIN.md "Seriously-untrustworthy list" (a listing ends with the record it rests on); issue 12 item 1:
    a serious penalty disclosed for 365 days expires, and its three-year listing ends with it, not two years
    later."""
    listing_id = await listed(desk, clock, "p-4", disclosure_days=365)
    record = store.records.get(REGION, "p-4")
    assert record is not None
    until = record.record.share_until
    assert until is not None
    clock.at(until - timedelta(days=1))
    assert await desk.sweep() == 0
    clock.at(until)
    assert await DisclosureSweeper(desk.runtime, CATALOG).sweep() == 1
    assert await desk.sweep() == 1
    ended = store.listings.get(REGION, listing_id)
    assert ended is not None
    assert (ended.state, ended.removal_cause) == (ListingState.REMOVED, RemovalCause.RECORD_EXPIRED)
    assert ended.ends_on is not None
    assert ended.ends_on > until, "the list's own duration would have run two more years"
    assert store.listings.lists_of(ended.subject, until) == frozenset()


def receive(store: Store, listing: Listing, logged: Event) -> bool:
    """A peer's listing kept as the federation desk keeps it: with its event, newer or not."""
    return store.write_logged(lambda tx: store.listings.receive(tx, listing, logged.at), logged)


async def test_a_peers_copy_of_a_listing_only_moves_forward(store: Store, clock: Clock, desk: ListingDesk) -> None:
    listing_id = await listed(desk, clock, "p-2")
    listing = store.listings.get(REGION, listing_id)
    assert listing is not None
    copy = replace(listing, listing_id="copy-1", origin_region="310000")
    received = Event("e-1", EventKind.LISTING_RECEIVED, clock(), REGION, "sgw://node/310000", Outcome.ALLOWED)
    assert receive(store, copy, received)
    older = replace(copy, state=ListingState.NOTIFIED, version=copy.version - 1)
    assert not receive(store, older, replace(received, event_id="e-2"))
    again = store.listings.get("310000", "copy-1")
    assert again is not None
    assert again.state is ListingState.LISTED
    # Every delivery is logged, even the one that changed nothing.
    assert sum(1 for _, body in store.events.read() if b"listing_received" in body) == 2


async def test_a_listing_changed_meanwhile_is_refused(store: Store, clock: Clock, desk: ListingDesk) -> None:
    record = penalty(store, "p-3")
    listing = await desk.propose(
        AGENCY, record.record_id, "serious_untrustworthy", "告知书", "严重违法", "履行", "复议"
    )
    await desk.notify(AGENCY, listing.listing_id, "告知书", "告知")
    stale = desk._change(AGENCY, replace(listing, state=ListingState.REMOVED, version=2))
    with pytest.raises(InvalidState, match="changed meanwhile"):
        store.write(lambda tx: desk.write(tx, [stale]))
    current = store.listings.get(REGION, listing.listing_id)
    assert current is not None
    assert current.state is ListingState.NOTIFIED
