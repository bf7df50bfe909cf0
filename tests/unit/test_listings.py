"""The seriously-untrustworthy list (Guo Ban Fa [2020] No. 49) as pure rules: who may be listed, by which
steps, within which windows, and when a listing ends."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from share_gateway.api.convert import draft_from_wire
from share_gateway.catalog import sample_catalog_text
from share_gateway.domain.calendar import WorkingCalendar
from share_gateway.domain.catalog import Catalog
from share_gateway.domain.errors import InvalidInput, InvalidState
from share_gateway.domain.listing_grounds import due_for_removal, list_definition, propose
from share_gateway.domain.listings import (
    _NEXT,
    Listing,
    ListingState,
    RemovalCause,
    confirm,
    notify,
    object_to,
    remove,
    review,
)
from share_gateway.domain.records import Record, RecordStatus, admit_record
from share_gateway.domain.repair import RepairDeadlines
from share_gateway.domain.repair_notice import repair_notice
from share_gateway.synthetic import Population
from tests.support import debtor_request, listable_penalty_request, penalty_request

CATALOG = Catalog.from_yaml(sample_catalog_text())
LIST = "serious_untrustworthy"
DEFINITION = list_definition(CATALOG, LIST)
# National Day week 2026: 1–7 October are holidays, Saturday 10 October is worked.
CALENDAR = WorkingCalendar.of(holidays=[f"2026-10-0{d}" for d in range(1, 8)], adjusted_working_days=["2026-10-10"])
NOW = datetime(2026, 9, 29, 10, 0, tzinfo=UTC)  # a Tuesday
COURT = "sgw://institution/11110000MB0000005B"
PARTY = "sgw://institution/91110105MA01ABCD00"


def record(request_severity: str | None = None, debtor: bool = False) -> Record:
    """A penalty finding listable conduct, or one of ``request_severity`` naming no conduct, or a debtor entry."""
    if debtor:
        request = debtor_request()
    else:
        request = listable_penalty_request() if request_severity is None else penalty_request(severity=request_severity)
    decided = (NOW - timedelta(days=60)).date().isoformat()
    request.legal_document.issued_on = request.legal_document.effective_on = decided
    return admit_record(
        CATALOG, draft_from_wire(request), record_id="r-1", origin_region="110000", submitted_by=COURT, now=NOW
    )


def proposed(of: Record | None = None, now: datetime = NOW) -> Listing:
    return propose(
        CATALOG,
        of or record(),
        LIST,
        listing_id="l-1",
        actor=COURT,
        document="(2026)京0105执567号之二 拟列入通知",
        reason="有履行能力而拒不履行",
        removal_conditions="全部履行生效法律文书确定的义务",
        remedies="可于收到通知之日起五个工作日内提出异议；对决定不服的，可申请复议或提起诉讼",
        now=now,
        calendar=CALENDAR,
    )


def notified(now: datetime = NOW) -> Listing:
    return notify(
        proposed(),
        DEFINITION,
        actor=COURT,
        document="告知书 2026-118",
        reason="告知理由、依据和权利",
        now=now,
        calendar=CALENDAR,
    )


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC)


def test_rule_2020_49_a_listing_rests_only_on_a_type_the_list_criteria_name() -> None:
    company = Population(7, NOW.date()).company("110000")
    arrears = Population(7, NOW.date()).record_draft(company, "tax_arrears")
    tax = admit_record(CATALOG, arrears, record_id="t-1", origin_region="110000", submitted_by=COURT, now=NOW)
    with pytest.raises(InvalidState) as refused:
        proposed(tax)
    assert refused.value.reason == "NOT_LIST_ELIGIBLE"


def test_severity_tier_is_not_a_listing_ground() -> None:
    """Guo Ban Fa [2020] No. 49 part IV items (6)-(7) / DOMAIN.md "Seriously-untrustworthy list": a criterion
    names record types and conduct, never a disclosure tier; a serious penalty finding no listed conduct is no
    ground, one finding a conduct the criterion names is."""
    for severity in ("general", "serious"):
        with pytest.raises(InvalidState) as refused:
            proposed(record(severity))
        assert (refused.value.reason, refused.value.metadata["conduct"]) == ("CRITERIA_NOT_MET", "")
    with pytest.raises(InvalidState) as other:
        proposed(replace(record(), fields={**record().fields, "conduct_code": "other_violation"}))
    assert other.value.reason == "CRITERIA_NOT_MET"
    assert proposed(record()).state is ListingState.PROPOSED


def test_debtor_list_is_a_list_of_its_own_not_a_criterion() -> None:
    """Fa Shi [2017] No. 7 / DOMAIN.md: the courts' list of dishonest debtors is its own list; a debtor entry
    grounds no proposal on the generic list, and the courts' list takes no proposals."""
    with pytest.raises(InvalidState) as generic:
        proposed(record(debtor=True))
    assert generic.value.reason == "NOT_LIST_ELIGIBLE"
    with pytest.raises(InvalidState) as courts:
        propose(
            CATALOG,
            record(debtor=True),
            "dishonest_judgment_debtors",
            listing_id="l",
            actor=COURT,
            document="d",
            reason="r",
            removal_conditions="c",
            remedies="m",
            now=NOW,
            calendar=CALENDAR,
        )
    assert courts.value.reason == "NOT_BY_PROPOSAL"


def test_rule_2020_49_no_list_outside_the_catalog_and_no_listing_on_an_inactive_record() -> None:
    with pytest.raises(InvalidInput) as unknown:
        propose(
            CATALOG,
            record(),
            "blacklist_of_my_own",
            listing_id="l",
            actor=COURT,
            document="d",
            reason="r",
            removal_conditions="c",
            remedies="m",
            now=NOW,
            calendar=CALENDAR,
        )
    assert unknown.value.violations[0].field == "list_name"
    with pytest.raises(InvalidState) as inactive:
        proposed(replace(record(), status=RecordStatus.WITHDRAWN))
    assert inactive.value.reason == "RECORD_NOT_ACTIVE"


def test_rule_2020_49_the_decision_states_reason_basis_catalog_measures_removal_conditions_and_remedies() -> None:
    listing = proposed()
    decision = listing.decision
    assert decision.basis == DEFINITION.legal_basis
    assert all((decision.reason, decision.removal_conditions, decision.remedies))
    # Only catalog measures, those the list or the record's type triggers; never one made up.
    assert set(decision.measures) <= set(CATALOG.measures)
    # The list's own measures: restricting high consumption follows from the debtor record, listed or not.
    assert decision.measures == ("exclude_from_public_procurement", "no_simplified_licensing")
    with pytest.raises(InvalidInput) as missing:
        propose(
            CATALOG,
            record(),
            LIST,
            listing_id="l",
            actor=COURT,
            document=" ",
            reason="",
            removal_conditions="x",
            remedies="",
            now=NOW,
            calendar=CALENDAR,
        )
    assert {v.field for v in missing.value.violations} == {"document", "reason", "remedies"}


def test_rule_2020_49_notice_and_objection_windows_count_working_days_across_a_holiday_week() -> None:
    listing = proposed()
    # 5 working days from Tuesday 29 September: 30 Sep, 8 Oct, 9 Oct, Sat 10 Oct (adjusted), 12 Oct.
    assert listing.notice_due == date(2026, 10, 12)
    told = notified()
    assert told.objection_due == date(2026, 10, 12)
    objected = object_to(
        told, DEFINITION, actor=PARTY, statement="已履行部分义务", now=at(date(2026, 10, 9)), calendar=CALENDAR
    )
    # The answer is due 5 working days after the objection: 10, 12, 13, 14, 15 October.
    assert objected.review_due == date(2026, 10, 15)
    assert objected.overdue(date(2026, 10, 15)) is None
    assert objected.overdue(date(2026, 10, 16)) == "review"
    assert listing.overdue(date(2026, 10, 13)) == "notice"


def test_rule_2020_49_a_party_is_listed_only_after_its_objection_window_closed() -> None:
    told = notified()
    with pytest.raises(InvalidState) as early:
        confirm(told, DEFINITION, actor=COURT, document="决定书", reason="期满无异议", now=at(date(2026, 10, 12)))
    assert (early.value.reason, early.value.metadata["objection_due"]) == ("OBJECTION_WINDOW_OPEN", "2026-10-12")
    listed = confirm(told, DEFINITION, actor=COURT, document="决定书", reason="期满无异议", now=at(date(2026, 10, 13)))
    assert listed.state is ListingState.LISTED
    assert (listed.listed_on, listed.ends_on) == (date(2026, 10, 13), date(2026, 10, 13) + timedelta(days=1095))


def test_rule_2020_49_an_objection_after_the_window_is_refused() -> None:
    with pytest.raises(InvalidState) as late:
        object_to(notified(), DEFINITION, actor=PARTY, statement="异议", now=at(date(2026, 10, 13)), calendar=CALENDAR)
    assert late.value.reason == "OBJECTION_WINDOW_CLOSED"


def test_rule_2020_49_an_upheld_objection_ends_the_proposal_a_dismissed_one_lets_it_go_ahead() -> None:
    objected = object_to(notified(), DEFINITION, actor=PARTY, statement="异议", now=NOW, calendar=CALENDAR)
    upheld = review(objected, upheld=True, actor=COURT, document="复核决定 1", reason="异议成立", now=NOW)
    assert (upheld.state, upheld.removal_cause) == (ListingState.REMOVED, RemovalCause.OBJECTION_UPHELD)
    dismissed = review(objected, upheld=False, actor=COURT, document="复核决定 2", reason="异议不成立", now=NOW)
    # After a dismissed objection the listing need not wait for the window.
    listed = confirm(dismissed, DEFINITION, actor=COURT, document="决定书", reason="列入", now=NOW)
    assert listed.state is ListingState.LISTED
    with pytest.raises(InvalidState) as nothing_to_uphold:
        review(notified(), upheld=True, actor=COURT, document="d", reason="r", now=NOW)
    assert nothing_to_uphold.value.reason == "ILLEGAL_TRANSITION"


def test_rule_2020_49_every_transition_keeps_actor_time_document_and_reason() -> None:
    objected = object_to(notified(), DEFINITION, actor=PARTY, statement="已履行", now=NOW, calendar=CALENDAR)
    dismissed = review(objected, upheld=False, actor=COURT, document="复核决定 2", reason="异议不成立", now=NOW)
    listed = confirm(dismissed, DEFINITION, actor=COURT, document="决定书 9", reason="列入", now=NOW)
    assert [(t.state, t.actor, t.document, t.reason) for t in listed.history] == [
        (ListingState.PROPOSED, COURT, "(2026)京0105执567号之二 拟列入通知", "有履行能力而拒不履行"),
        (ListingState.NOTIFIED, COURT, "告知书 2026-118", "告知理由、依据和权利"),
        (ListingState.OBJECTED, PARTY, "", "已履行"),
        (ListingState.REVIEWED, COURT, "复核决定 2", "异议不成立"),
        (ListingState.LISTED, COURT, "决定书 9", "列入"),
    ]
    assert all(t.at == NOW for t in listed.history)
    assert listed.version == 5
    assert Listing.from_bytes(listed.to_bytes()) == listed


def _step(listing: Listing, to: ListingState) -> Listing:
    """Attempt the step to ``to`` with whatever the domain offers for it."""
    if to is ListingState.NOTIFIED:
        return notify(listing, DEFINITION, actor=COURT, document="d", reason="r", now=NOW, calendar=CALENDAR)
    if to is ListingState.OBJECTED:
        return object_to(listing, DEFINITION, actor=PARTY, statement="s", now=NOW, calendar=CALENDAR)
    if to is ListingState.REVIEWED:
        return review(listing, upheld=False, actor=COURT, document="d", reason="r", now=NOW)
    if to is ListingState.LISTED:
        return confirm(listing, DEFINITION, actor=COURT, document="d", reason="r", now=NOW + timedelta(days=60))
    if to is ListingState.REMOVED:
        return remove(listing, RemovalCause.REPAIR, actor=COURT, document="d", reason="r", now=NOW)
    raise AssertionError(to)


@pytest.mark.parametrize("start", list(ListingState))
def test_rule_2020_49_each_illegal_transition_is_refused(start: ListingState) -> None:
    """proposed → notified → (objected → reviewed) → listed → removed, and nothing else."""
    listing = replace(proposed(), state=start, objection_due=NOW.date())
    for to in ListingState:
        if to is ListingState.PROPOSED:
            continue  # only a new proposal is proposed
        if to in _NEXT.get(start, frozenset()):
            assert _step(listing, to).state is to
        else:
            with pytest.raises(InvalidState) as refused:
                _step(listing, to)
            assert refused.value.reason == "ILLEGAL_TRANSITION", (start, to)
            assert refused.value.metadata == {"from": start.value, "to": to.value}


def test_rule_2020_49_a_listing_ends_at_its_duration_on_repair_or_when_its_decision_is_revoked() -> None:
    listed = confirm(notified(), DEFINITION, actor=COURT, document="d", reason="r", now=at(date(2026, 10, 13)))
    assert listed.ends_on is not None
    assert due_for_removal(listed, RecordStatus.ACTIVE, listed.ends_on - timedelta(days=1)) is None
    assert listed.in_force(listed.ends_on - timedelta(days=1))
    assert due_for_removal(listed, RecordStatus.ACTIVE, listed.ends_on) is RemovalCause.DURATION
    assert not listed.in_force(listed.ends_on)
    assert due_for_removal(listed, RecordStatus.REPAIRED, NOW.date()) is RemovalCause.REPAIR
    assert due_for_removal(listed, RecordStatus.WITHDRAWN, NOW.date()) is RemovalCause.DECISION_REVOKED
    assert due_for_removal(listed, RecordStatus.QUARANTINED, NOW.date()) is RemovalCause.RECORD_QUARANTINED
    # A proposal resting on a revoked decision ends too, before it was ever listed.
    assert due_for_removal(proposed(), RecordStatus.WITHDRAWN, NOW.date()) is RemovalCause.DECISION_REVOKED
    ended = remove(listed, RemovalCause.DURATION, actor=COURT, document="", reason="期满", now=NOW)
    assert due_for_removal(ended, RecordStatus.WITHDRAWN, NOW.date()) is None


def test_a_listing_ends_with_its_expired_record_before_its_duration() -> None:
    """DOMAIN.md "Seriously-untrustworthy list": a listing ends with the record it rests on, expiry included
    (issue 12 item 1: it used to outlive an expired record by two years)."""
    listed = confirm(notified(), DEFINITION, actor=COURT, document="d", reason="r", now=at(date(2026, 10, 13)))
    assert listed.ends_on is not None
    assert due_for_removal(listed, RecordStatus.EXPIRED, date(2026, 10, 14)) is RemovalCause.RECORD_EXPIRED
    # A proposal on a record that expired ends too, before it was ever listed.
    assert due_for_removal(proposed(), RecordStatus.EXPIRED, NOW.date()) is RemovalCause.RECORD_EXPIRED


def test_listing_bytes_are_canonical() -> None:
    listing = proposed()
    data = listing.to_bytes()
    assert Listing.from_bytes(data) == listing
    with pytest.raises(ValueError, match="canonical"):
        Listing.from_bytes(data.replace(b'"v":1', b'"v": 1'))


def test_rule_2025_22_listing_carries_its_repair_notice_in_its_signed_bytes_and_older_listings_still_read() -> None:
    """两书同达 (State Council General Office 2025 No. 22): the notice served with a listing decision is part of the
    listing's canonical bytes, so the origin's signature covers it; a listing decided before notices were served
    keeps its bytes (formats are versioned: what was signed stays verifiable)."""
    rests_on = record()
    older = proposed(rests_on)
    assert older.repair_notice is None
    assert b"repair_notice" not in older.to_bytes()
    assert Listing.from_bytes(older.to_bytes()) == older
    notice = repair_notice(rests_on, CATALOG.record_types[rests_on.record_type], RepairDeadlines())
    served = replace(older, repair_notice=notice)
    assert Listing.from_bytes(served.to_bytes()) == served
    assert served.to_bytes() != older.to_bytes()
    assert notice.repairable
    assert notice.repairable_from is not None
