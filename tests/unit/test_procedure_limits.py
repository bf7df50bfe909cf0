"""The edges of the procedures: empty and over-long texts, the day a deadline falls due, a list without end.

Listings (Guo Ban Fa [2020] No. 49), credit repair (2025 No. 22) and
registrations, each at the exact boundary the rule draws: a deadline is met on
its due day and missed the day after; a text of exactly the maximum length is
taken and one character more is refused. Lengths are written as numbers here,
not read from the module under test.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from share_gateway.catalog import sample_catalog_text
from share_gateway.domain.calendar import WorkingCalendar
from share_gateway.domain.catalog import Catalog
from share_gateway.domain.errors import InvalidInput
from share_gateway.domain.identifiers import Subject, SubjectKind
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
from share_gateway.domain.policy import Grant, GrantRole, check_registration
from share_gateway.domain.records import Record, RecordStatus
from share_gateway.domain.repair import (
    RepairDeadlines,
    RepairState,
    accept,
    apply_for_repair,
    decide,
    repair_allowed_from,
)

CATALOG = Catalog.from_yaml(sample_catalog_text())
DEFINITION = list_definition(CATALOG, "serious_untrustworthy")
CALENDAR = WorkingCalendar()  # weekdays only: Monday 7 December 2026 + 5 working days is Monday 14 December
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
COURT = "sgw://institution/11110000MB0000005B"
PARTY = "sgw://institution/91110105MA01ABCD00"
SUBJECT = Subject(SubjectKind.LEGAL_ENTITY, "91110105MA01ABCD00")


def stored_record(
    record_type: str, severity: str | None, decided_on: date = date(2026, 6, 1), conduct: str = ""
) -> Record:
    """A record as the store hands it back (admission is tested elsewhere)."""
    return Record(
        record_id="r-1",
        record_type=record_type,
        subject=SUBJECT,
        origin_region="110000",
        fields={"conduct_code": conduct} if conduct else {},
        legal_document=None,
        severity=severity,
        decided_on=decided_on,
        period_start=decided_on,
        period_days=None,
        publish_until=None,
        share_until=None,
        status=RecordStatus.ACTIVE,
        recorded_at=NOW,
        version=1,
        submitted_by=COURT,
        catalog_version=CATALOG.version,
    )


def proposed(now: datetime = NOW) -> Listing:
    return propose(
        CATALOG,
        stored_record("administrative_penalty", "serious", conduct="refuses_statutory_obligation"),
        "serious_untrustworthy",
        listing_id="l-1",
        actor=COURT,
        document="拟列入通知",
        reason="有履行能力而拒不履行",
        removal_conditions="全部履行",
        remedies="可提出异议",
        now=now,
        calendar=CALENDAR,
    )


def notified() -> Listing:
    return notify(proposed(), DEFINITION, actor=COURT, document="告知书", reason="告知", now=NOW, calendar=CALENDAR)


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC)


AFTER_WINDOW = at(date(2026, 12, 15))  # the objection window closes on 14 December


# --- listings: every step states its document and reason --------------------------------------------


@pytest.mark.parametrize(("document", "reason", "fields"), [("", "列入", ["document"]), ("决定书", " ", ["reason"])])
def test_a_listing_is_not_confirmed_without_its_document_and_reason(
    document: str, reason: str, fields: list[str]
) -> None:
    with pytest.raises(InvalidInput) as refused:
        confirm(notified(), DEFINITION, actor=COURT, document=document, reason=reason, now=AFTER_WINDOW)
    assert [v.field for v in refused.value.violations] == fields
    listed = confirm(notified(), DEFINITION, actor=COURT, document="决定书", reason="列入", now=AFTER_WINDOW)
    assert listed.state is ListingState.LISTED


@pytest.mark.parametrize("statement", ["", "   ", "\n"])
def test_an_objection_without_a_statement_is_refused(statement: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        object_to(notified(), DEFINITION, actor=PARTY, statement=statement, now=NOW, calendar=CALENDAR)
    assert [v.field for v in refused.value.violations] == ["statement"]
    assert object_to(notified(), DEFINITION, actor=PARTY, statement="已履行", now=NOW, calendar=CALENDAR).state is (
        ListingState.OBJECTED
    )


def test_listing_texts_are_taken_up_to_200_characters_of_document_and_2000_of_reason() -> None:
    listed = confirm(notified(), DEFINITION, actor=COURT, document="文" * 200, reason="由" * 2000, now=AFTER_WINDOW)
    assert listed.history[-1].document == "文" * 200
    for document, reason, field in (("文" * 201, "由", "document"), ("文", "由" * 2001, "reason")):
        with pytest.raises(InvalidInput) as refused:
            confirm(notified(), DEFINITION, actor=COURT, document=document, reason=reason, now=AFTER_WINDOW)
        assert [(v.field, v.description) for v in refused.value.violations] == [
            (field, "1 to 200 characters" if field == "document" else "1 to 2000 characters")
        ]


# --- listings: a deadline is met on its due day and missed the day after ------------------------------


def test_the_notice_is_not_overdue_on_its_due_day_and_is_the_day_after() -> None:
    listing = proposed()
    assert listing.notice_due == date(2026, 12, 14)
    assert listing.overdue(date(2026, 12, 14)) is None
    assert listing.overdue(date(2026, 12, 15)) == "notice"
    # Once the party is told, the notice deadline no longer matters.
    assert notified().overdue(date(2026, 12, 15)) is None


def test_the_removal_is_not_overdue_on_its_due_day_and_is_the_day_after() -> None:
    listed = confirm(notified(), DEFINITION, actor=COURT, document="决定书", reason="列入", now=AFTER_WINDOW)
    revoked = replace(listed, removal_due=date(2026, 12, 18))
    assert revoked.overdue(date(2026, 12, 18)) is None
    assert revoked.overdue(date(2026, 12, 19)) == "removal"
    assert replace(revoked, state=ListingState.REMOVED).overdue(date(2026, 12, 19)) is None
    assert listed.overdue(date(2099, 1, 1)) is None, "no removal due: never overdue"


def test_a_list_without_a_duration_never_ends_a_listing_by_duration() -> None:
    endless = replace(DEFINITION, duration_days=0)
    listed = confirm(notified(), endless, actor=COURT, document="决定书", reason="列入", now=AFTER_WINDOW)
    assert (listed.listed_on, listed.ends_on) == (date(2026, 12, 15), None)
    for day in (date(2026, 12, 15), date(2029, 12, 15), date(2999, 1, 1)):
        assert due_for_removal(listed, RecordStatus.ACTIVE, day) is None
        assert listed.in_force(day)


def test_a_list_with_a_duration_ends_a_listing_on_its_last_day_not_before() -> None:
    listed = confirm(notified(), DEFINITION, actor=COURT, document="决定书", reason="列入", now=AFTER_WINDOW)
    assert listed.ends_on == date(2026, 12, 15) + timedelta(days=1095)
    assert due_for_removal(listed, RecordStatus.ACTIVE, date(2029, 12, 13)) is None
    assert due_for_removal(listed, RecordStatus.ACTIVE, date(2029, 12, 14)) is not None


# --- credit repair: evidence, commitment and reason up to their maximum --------------------------------


def apply(
    evidence: str = "缴款书 1100-2026-0901", commitment: str = "依法诚信经营", severity: str = "minor"
) -> RepairState:
    record = stored_record("administrative_penalty", severity)
    return apply_for_repair(
        record,
        CATALOG.record_types["administrative_penalty"],
        application_id="a-1",
        applicant=PARTY,
        evidence=evidence,
        commitment=commitment,
        now=NOW,
        calendar=CALENDAR,
        deadlines=RepairDeadlines(),
    ).state


@pytest.mark.parametrize("field", ["evidence", "commitment"])
def test_evidence_and_commitment_are_taken_up_to_4000_characters(field: str) -> None:
    assert apply(**{field: "证" * 4000}) is RepairState.SUBMITTED
    with pytest.raises(InvalidInput) as refused:
        apply(**{field: "证" * 4001})
    assert [v.field for v in refused.value.violations] == [field]
    assert refused.value.violations[0].description.endswith("1 to 4000 characters")


def test_a_decision_reason_is_taken_up_to_1000_characters() -> None:
    record = stored_record("administrative_penalty", "minor")
    application = apply_for_repair(
        record,
        CATALOG.record_types["administrative_penalty"],
        application_id="a-1",
        applicant=PARTY,
        evidence="缴款书",
        commitment="承诺",
        now=NOW,
        calendar=CALENDAR,
        deadlines=RepairDeadlines(),
    )
    accepted = accept(application, NOW, CALENDAR, RepairDeadlines())
    assert decide(accepted, True, COURT, "理" * 1000, NOW).reason == "理" * 1000
    with pytest.raises(InvalidInput) as refused:
        decide(accepted, True, COURT, "理" * 1001, NOW)
    assert [(v.field, v.description) for v in refused.value.violations] == [
        ("reason", "states why, in 1 to 1000 characters")
    ]


def test_a_decision_keeps_who_decided_when_and_why() -> None:
    application = apply_for_repair(
        stored_record("administrative_penalty", "minor"),
        CATALOG.record_types["administrative_penalty"],
        application_id="a-1",
        applicant=PARTY,
        evidence="缴款书",
        commitment="承诺",
        now=NOW,
        calendar=CALENDAR,
        deadlines=RepairDeadlines(),
    )
    later = NOW + timedelta(days=2)
    rejected = decide(application, False, COURT, "证据不足", later, remedy="行政复议")
    assert (rejected.state, rejected.decided_at, rejected.decided_by, rejected.reason, rejected.version) == (
        RepairState.REJECTED,
        later,
        COURT,
        "证据不足",
        2,
    )


def test_a_repairable_record_without_severity_periods_is_repairable_from_its_decision() -> None:
    """Tax arrears are repairable and have no severity levels: no minimum period to wait for."""
    tax = CATALOG.record_types["tax_arrears"]
    assert (tax.repairable, tax.repair_on_performance, dict(tax.severity_periods)) == (True, False, {})
    record = stored_record("tax_arrears", None, decided_on=NOW.date())
    assert repair_allowed_from(record, tax) == NOW.date()
    application = apply_for_repair(
        record,
        tax,
        application_id="a-1",
        applicant=PARTY,
        evidence="已缴清",
        commitment="承诺",
        now=NOW,
        calendar=CALENDAR,
        deadlines=RepairDeadlines(),
    )
    assert (application.state, application.result_due) == (RepairState.SUBMITTED, date(2026, 12, 21))


def test_a_minimum_period_counts_from_the_decision_for_a_record_with_a_severity() -> None:
    penalty = CATALOG.record_types["administrative_penalty"]
    general = stored_record("administrative_penalty", "general", decided_on=date(2026, 6, 1))
    assert repair_allowed_from(general, penalty) == date(2026, 6, 1) + timedelta(days=90)


# --- registrations ---------------------------------------------------------------------------------------


USCC = "91110000MA0000001L"


def test_a_grant_that_ends_after_it_starts_is_registered() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    check_registration(
        CATALOG, USCC, "bank", [Grant(GrantRole.INQUIRE, "loan_underwriting", start, start + timedelta(seconds=1))]
    )
    check_registration(CATALOG, USCC, "bank", [Grant(GrantRole.INQUIRE, "loan_underwriting", start, None)])
    for end in (start, start - timedelta(seconds=1)):
        with pytest.raises(InvalidInput) as refused:
            check_registration(CATALOG, USCC, "bank", [Grant(GrantRole.INQUIRE, "loan_underwriting", start, end)])
        assert [(v.field, v.description) for v in refused.value.violations] == [
            ("valid_until", "a grant must end after it starts")
        ]


def test_a_registration_without_a_requester_kind_is_registered() -> None:
    """An agency that only submits records has no requester kind."""
    check_registration(CATALOG, USCC, None, [Grant(GrantRole.SUBMIT, "tax_arrears", NOW)])
    check_registration(CATALOG, USCC, None, [])
    with pytest.raises(InvalidInput) as refused:
        check_registration(CATALOG, USCC, "", [])
    assert [v.field for v in refused.value.violations] == ["kind"]


@pytest.mark.parametrize("missing", ["document", "reason", "removal_conditions", "remedies"])
def test_a_proposal_states_its_document_reason_removal_conditions_and_remedies(missing: str) -> None:
    texts = {"document": "拟列入通知", "reason": "理由", "removal_conditions": "全部履行", "remedies": "可提出异议"}
    with pytest.raises(InvalidInput) as refused:
        propose(
            CATALOG,
            stored_record("dishonest_judgment_debtor", None),
            "serious_untrustworthy",
            listing_id="l-1",
            actor=COURT,
            now=NOW,
            calendar=CALENDAR,
            **{**texts, missing: " "},
        )
    assert [v.field for v in refused.value.violations] == [missing]


@pytest.mark.parametrize("missing", ["document", "reason"])
def test_a_notice_and_a_review_state_their_document_and_reason(missing: str) -> None:
    texts = {"document": "告知书", "reason": "告知", **{missing: ""}}
    with pytest.raises(InvalidInput) as refused:
        notify(proposed(), DEFINITION, actor=COURT, now=NOW, calendar=CALENDAR, **texts)
    assert [v.field for v in refused.value.violations] == [missing]
    objected = object_to(notified(), DEFINITION, actor=PARTY, statement="已履行", now=NOW, calendar=CALENDAR)
    for upheld in (True, False):
        with pytest.raises(InvalidInput) as refused:
            review(objected, upheld=upheld, actor=COURT, now=NOW, **texts)
        assert [v.field for v in refused.value.violations] == [missing]


def test_a_removal_keeps_its_cause_and_round_trips_through_the_signed_bytes() -> None:
    listed = confirm(notified(), DEFINITION, actor=COURT, document="决定书", reason="列入", now=AFTER_WINDOW)
    revoked = replace(listed, removal_due=date(2026, 12, 18))
    removed = remove(revoked, RemovalCause.DECISION_REVOKED, actor=COURT, document="撤销", reason="决定撤销", now=NOW)
    assert (removed.state, removed.removal_cause) == (ListingState.REMOVED, RemovalCause.DECISION_REVOKED)
    data = removed.to_bytes()
    assert b'"removal_cause":"decision_revoked"' in data
    assert b'"removal_due":"2026-12-18"' in data
    assert Listing.from_bytes(data) == removed
