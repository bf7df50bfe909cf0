"""Disclosure periods (2025 No. 22, NDRC Order 36): by severity from the decision date, ended by the sweeper at the
end of sharing or at the type's maximum; a loan default 5 years after it was settled.

The record stays stored, marked expired, and the end is an event in the log.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from share_gateway.api.convert import draft_from_wire
from share_gateway.catalog import sample_catalog_text
from share_gateway.crypto.disclosure import seal_record
from share_gateway.crypto.keys import SigningKey
from share_gateway.domain.catalog import Catalog
from share_gateway.domain.catalog_document import load_yaml, parse_catalog
from share_gateway.domain.events import Event, EventKind, Outcome
from share_gateway.domain.records import Record, RecordStatus, admit_record, change_status
from share_gateway.gateway.registry import keep_submission
from share_gateway.gateway.runtime import NodeRuntime
from share_gateway.gateway.sweeper import DisclosureSweeper
from share_gateway.store.repositories import Store
from tests.support import REGION, loan_default_request, penalty_request

CATALOG = Catalog.from_yaml(sample_catalog_text())
KEY = SigningKey.generate("share-gateway/node/110000")
DECIDED = date(2026, 1, 10)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 11, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def at(self, day: date) -> None:
        self.now = datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)


def penalty(store: Store, severity: str, request_id: str, disclosure_days: int | None = None) -> Record:
    """An administrative penalty decided on 10 January 2026, recorded the next day."""
    request = penalty_request(request_id, severity=severity)
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


def statuses(store: Store, *ids: str) -> list[RecordStatus]:
    return [store.records.get(REGION, i).record.status for i in ids]  # type: ignore[union-attr]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def sweeper(store: Store, clock: Clock) -> DisclosureSweeper:
    return DisclosureSweeper(NodeRuntime(REGION, KEY, store, clock=clock), CATALOG)


async def test_rule_2025_no_22_each_severity_stops_at_its_maximum(
    store: Store, clock: Clock, sweeper: DisclosureSweeper
) -> None:
    minor, general, serious = (penalty(store, s, s) for s in ("minor", "general", "serious"))
    assert minor.share_until == DECIDED + timedelta(days=90)  # minor: at most 3 months
    assert general.share_until == DECIDED + timedelta(days=365)  # general: at most 1 year
    assert serious.share_until == DECIDED + timedelta(days=1095)  # serious: at most 3 years
    ids = ("minor", "general", "serious")
    clock.at(DECIDED + timedelta(days=89))
    assert await sweeper.sweep() == 0
    clock.at(DECIDED + timedelta(days=90))
    assert await sweeper.sweep() == 1
    assert statuses(store, *ids) == [RecordStatus.EXPIRED, RecordStatus.ACTIVE, RecordStatus.ACTIVE]
    clock.at(DECIDED + timedelta(days=365))
    assert await sweeper.sweep() == 1
    clock.at(DECIDED + timedelta(days=1094))
    assert await sweeper.sweep() == 0
    clock.at(DECIDED + timedelta(days=1095))
    assert await sweeper.sweep() == 1
    assert statuses(store, *ids) == [RecordStatus.EXPIRED] * 3
    # Stored still, never disclosed, and each end logged once with its date.
    assert store.records.disclosable(minor.subject) == []
    ended = [Event.from_bytes(body) for _, body in store.events.read() if b"record_expired" in body]
    assert [(e.records[0].record_id, e.details["share_until"]) for e in ended] == [
        ("minor", "2026-04-10"),
        ("general", "2027-01-10"),
        ("serious", "2029-01-09"),
    ]
    assert await sweeper.sweep() == 0


async def test_rule_2025_no_22_a_period_chosen_within_the_range_ends_when_chosen(
    store: Store, clock: Clock, sweeper: DisclosureSweeper
) -> None:
    penalty(store, "general", "general-100", disclosure_days=100)
    clock.at(DECIDED + timedelta(days=100))
    assert await sweeper.sweep() == 1
    assert statuses(store, "general-100") == [RecordStatus.EXPIRED]


async def test_the_sweeper_works_in_batches_and_leaves_withdrawn_records_alone(
    store: Store, clock: Clock, sweeper: DisclosureSweeper, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("share_gateway.gateway.sweeper.BATCH", 2)
    for n in range(5):
        penalty(store, "minor", f"minor-{n}")
    withdrawn = store.records.get(REGION, "minor-4")
    assert withdrawn is not None
    changed, logged = change_status(withdrawn.record, RecordStatus.WITHDRAWN), event_of("w")
    store.write_logged(lambda tx: store.records.change_status(tx, changed, "revoked", logged.at), logged)
    clock.at(DECIDED + timedelta(days=90))
    assert await sweeper.sweep() == 4
    assert statuses(store, *(f"minor-{n}" for n in range(5))) == [RecordStatus.EXPIRED] * 4 + [RecordStatus.WITHDRAWN]


def event_of(event_id: str) -> Event:
    return Event(event_id, EventKind.RECORD_WITHDRAWN, datetime.now(UTC), REGION, "sgw://x", Outcome.ALLOWED)


def keep(store: Store, record: Record) -> Record:
    event = Event(record.record_id, EventKind.RECORD_SUBMITTED, record.recorded_at, REGION, "sgw://x", Outcome.ALLOWED)
    store.write(lambda tx: keep_submission(store, tx, record, seal_record(record, KEY), record.record_id, event))
    return record


def loan_default(store: Store, record_id: str, settled_on: str = "") -> Record:
    """A loan default recorded on 11 January 2026, settled on ``settled_on`` ("": not yet)."""
    request = loan_default_request(record_id)
    if settled_on:
        request.settled_on = settled_on
    now = datetime(2026, 1, 11, 9, 0, tzinfo=UTC)
    draft = draft_from_wire(request)
    return keep(
        store, admit_record(CATALOG, draft, record_id=record_id, origin_region=REGION, submitted_by="sgw://x", now=now)
    )


async def test_loan_default_deleted_five_years_after_settlement(
    store: Store, clock: Clock, sweeper: DisclosureSweeper
) -> None:
    """Credit Reporting Industry Regulation Art. 16: five years from the end of the conduct (the day it was
    settled), not from the day it was entered; an unsettled default stays until settled + 5 years."""
    settled = loan_default(store, "settled", settled_on="2025-12-01")
    loan_default(store, "unsettled")
    assert settled.share_until == date(2025, 12, 1) + timedelta(days=1825)
    clock.at(date(2025, 12, 1) + timedelta(days=1824))
    assert await sweeper.sweep() == 0
    clock.at(date(2025, 12, 1) + timedelta(days=1825))
    assert await sweeper.sweep() == 1
    clock.at(date(2040, 1, 1))
    assert await sweeper.sweep() == 0
    assert statuses(store, "settled", "unsettled") == [RecordStatus.EXPIRED, RecordStatus.ACTIVE]


async def test_the_sweeper_ends_a_record_at_its_types_maximum(store: Store, clock: Clock) -> None:
    """NDRC Order No. 36 of 2025: every record has a maximum period; a catalog that lowers it ends the records
    already held at the new maximum, counted from the day their clock started."""
    penalty(store, "serious", "serious")
    document = load_yaml(sample_catalog_text())
    document["record_types"]["administrative_penalty"]["periods"]["maximum"] = "400d"
    sweeper = DisclosureSweeper(NodeRuntime(REGION, KEY, store, clock=clock), parse_catalog(document))
    clock.at(DECIDED + timedelta(days=399))
    assert await sweeper.sweep() == 0
    clock.at(DECIDED + timedelta(days=400))
    assert await sweeper.sweep() == 1
    assert statuses(store, "serious") == [RecordStatus.EXPIRED]
    [ended] = [Event.from_bytes(body) for _, body in store.events.read() if b"record_expired" in body]
    assert (ended.details["ended_by"], ended.details["share_until"]) == ("maximum period", "2029-01-09")
