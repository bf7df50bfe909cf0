"""The courts' list of dishonest judgment debtors as a list of its own (Supreme People's Court, Fa Shi [2017]
No. 7): terms by conduct, extension only for aggravation, deletion in working days, correction and review."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest

from share_gateway.api.convert import draft_from_wire
from share_gateway.catalog import sample_catalog_text
from share_gateway.domain.calendar import WorkingCalendar
from share_gateway.domain.catalog import Catalog, ListKind
from share_gateway.domain.catalog_provision import ANY_PROVISION
from share_gateway.domain.debtor_endings import (
    NOT_A_LIST_MAKER,
    apply_to_correct,
    check_maker,
    corrected_entry,
    report_performance,
)
from share_gateway.domain.debtor_list import (
    CorrectionState,
    apply_for_correction,
    courts_list,
    deletion_due,
    review_correction,
    term_ends,
)
from share_gateway.domain.errors import InvalidInput, InvalidState, Refused
from share_gateway.domain.policy import Grant, GrantRole, Policy, Principal
from share_gateway.domain.records import Record, RecordStatus, admit_record, change_status
from share_gateway.v1 import common_pb2 as pb
from tests.support import debtor_request

CATALOG = Catalog.from_yaml(sample_catalog_text())
FOUND = courts_list(CATALOG, "dishonest_judgment_debtor")
assert FOUND is not None
DEFINITION, RULES = FOUND
# National Day week 2026: 1-7 October are holidays, Saturday 10 October is worked.
CALENDAR = WorkingCalendar.of(holidays=[f"2026-10-0{d}" for d in range(1, 8)], adjusted_working_days=["2026-10-10"])
LISTED = date(2026, 3, 2)
ITEMS_2_TO_6 = (
    "obstructs_enforcement",
    "evades_enforcement",
    "breaches_property_reporting",
    "breaches_consumption_restriction",
    "refuses_settlement",
)


def test_debtor_list_is_its_own_list_made_by_courts() -> None:
    """Fa Shi [2017] No. 7 / DOMAIN.md: the courts' list is a list of its own and its maker is a court."""
    assert DEFINITION.kind is ListKind.COURT_DEBTORS
    assert DEFINITION.makers == frozenset({"court"})
    assert "Fa Shi [2017] No. 7" in DEFINITION.legal_basis


def test_debtor_art1_item1_has_no_fixed_term() -> None:
    """Fa Shi [2017] No. 7 Art. 2 / DOMAIN.md: conduct under Art. 1(1) has no fixed term (until performance),
    and that term cannot be extended; items (2)-(6) last two years."""
    assert term_ends(RULES, "able_but_refuses", LISTED) is None
    with pytest.raises(InvalidInput):
        term_ends(RULES, "able_but_refuses", LISTED, extension_days=365, aggravation="violent_obstruction")
    for conduct in ITEMS_2_TO_6:
        assert term_ends(RULES, conduct, LISTED) == date(2028, 3, 1), conduct  # 730 days


def test_extension_only_for_aggravating_conduct() -> None:
    """Fa Shi [2017] No. 7 Art. 2 / DOMAIN.md: items (2)-(6) extendable by one to three years only for the
    aggravating conduct Art. 2 names."""
    with pytest.raises(InvalidInput) as none_named:
        term_ends(RULES, "breaches_property_reporting", LISTED, extension_days=365)
    assert [v.field for v in none_named.value.violations] == ["fields.aggravation"]
    with pytest.raises(InvalidInput) as too_long:
        term_ends(RULES, "obstructs_enforcement", LISTED, extension_days=1096, aggravation="violent_obstruction")
    assert [v.field for v in too_long.value.violations] == ["fields.extension_days"]
    extended = term_ends(RULES, "obstructs_enforcement", LISTED, extension_days=365, aggravation="violent_obstruction")
    assert extended == date(2029, 3, 1)


def test_an_extension_without_aggravation_is_refused_at_submission() -> None:
    """Fa Shi [2017] No. 7 Art. 2: the court's record asking for an extension names the aggravating conduct."""
    request = debtor_request()
    request.fields["conduct_code"].CopyFrom(pb.FieldValue(text="breaches_property_reporting"))
    request.fields["extension_days"].CopyFrom(pb.FieldValue(integer=365))
    now = datetime(2026, 12, 1, tzinfo=UTC)
    with pytest.raises(InvalidInput) as refused:
        admit_record(
            CATALOG, draft_from_wire(request), record_id="d", origin_region="110000", submitted_by="c", now=now
        )
    assert [v.field for v in refused.value.violations] == ["fields.aggravation"]
    request.fields["aggravation"].CopyFrom(pb.FieldValue(text="several_conducts"))
    admitted = admit_record(
        CATALOG, draft_from_wire(request), record_id="d", origin_region="110000", submitted_by="c", now=now
    )
    assert admitted.fields["aggravation"] == "several_conducts"


def test_debtor_record_deleted_three_working_days_after_performance_across_a_holiday() -> None:
    """Fa Shi [2017] No. 7 Art. 10 / DOMAIN.md: deleted within 3 working days of performance, counted with the
    configured holidays (domain/calendar.py): performed Wednesday 30 September 2026, the National Day week
    follows, so the third working day is the worked Saturday 10 October, not 5 October."""
    assert RULES.deletion_working_days == 3
    assert deletion_due(RULES, date(2026, 9, 30), CALENDAR) == date(2026, 10, 10)
    assert deletion_due(RULES, date(2026, 9, 30), WorkingCalendar()) == date(2026, 10, 5)


def test_the_party_may_apply_for_correction_and_the_court_reviews_it() -> None:
    """Fa Shi [2017] No. 7 Art. 12: the party applies for correction; the court reviews it in time; an upheld
    application deletes the entry within the deletion days."""
    applied = apply_for_correction(RULES, "d-1", "sgw://person/x", "已全部履行，附法院收据", date(2026, 9, 15))
    assert applied.review_due == date(2026, 9, 30)
    assert applied.overdue(date(2026, 9, 30)) is None
    assert applied.overdue(date(2026, 10, 1)) == "review"
    upheld = review_correction(
        applied, RULES, upheld=True, reason="理由成立", today=date(2026, 9, 30), calendar=CALENDAR
    )
    assert (upheld.state, upheld.deletion_due) == (CorrectionState.UPHELD, date(2026, 10, 10))
    with pytest.raises(InvalidState):
        review_correction(upheld, RULES, upheld=False, reason="再审", today=date(2026, 10, 2), calendar=CALENDAR)
    with pytest.raises(InvalidInput):
        apply_for_correction(RULES, "d-1", "sgw://person/x", " ", date(2026, 9, 15))


@pytest.mark.parametrize(
    ("conduct", "extension", "term_days"),
    [
        ("able_but_refuses", 0, None),
        ("obstructs_enforcement", 0, 730),
        ("evades_enforcement", 365, 1095),
    ],
)
def test_an_entry_lasts_its_courts_term_not_a_severity_tier(
    conduct: str, extension: int, term_days: int | None
) -> None:
    """Fa Shi [2017] No. 7 Art. 2 / DOMAIN.md: an entry naming Art. 1(1) conduct has no fixed end (it lasts until
    performance); items (2)-(6) last two years from the court's decision, plus an extension the court made for
    aggravating conduct, whatever severity tier an older client still sends."""
    request = debtor_request()
    request.fields["conduct_code"].CopyFrom(pb.FieldValue(text=conduct))
    if extension:
        request.fields["extension_days"].CopyFrom(pb.FieldValue(integer=extension))
        request.fields["aggravation"].CopyFrom(pb.FieldValue(text="several_conducts"))
    now = datetime.now(UTC)
    admitted = admit_record(
        CATALOG, draft_from_wire(request), record_id="d", origin_region="110000", submitted_by="c", now=now
    )
    decided = date.fromisoformat(request.legal_document.issued_on)
    expected = None if term_days is None else decided + timedelta(days=term_days)
    assert (admitted.publish_until, admitted.share_until) == (expected, expected)


# --- how an entry ends (domain.debtor_endings) ---------------------------------------------------------------


def _entry(conduct: str = "able_but_refuses") -> Record:
    request = debtor_request()
    request.fields["conduct_code"].CopyFrom(pb.FieldValue(text=conduct))
    request.legal_document.issued_on = request.legal_document.effective_on = "2026-09-01"
    now = datetime(2026, 9, 2, 10, tzinfo=UTC)
    draft = draft_from_wire(request)
    return admit_record(CATALOG, draft, record_id="d-1", origin_region="110000", submitted_by="sgw://c", now=now)


def test_performance_deletes_the_entry_within_three_working_days_across_a_holiday() -> None:
    """Fa Shi [2017] No. 7 Art. 10: deleted within 3 working days of performance. Performed on Wednesday
    30 September 2026, the National Day holidays pass first (1-7 October), then Thursday 8 and Friday 9 and the
    worked Saturday 10 October: due that Saturday, late only after it."""
    entry = _entry()
    in_time = report_performance(entry, RULES, date(2026, 9, 30), date(2026, 10, 10), CALENDAR)
    assert (in_time.deletion_due, in_time.late) == (date(2026, 10, 10), False)
    assert report_performance(entry, RULES, date(2026, 9, 30), date(2026, 10, 11), CALENDAR).late
    for day, today in ((date(2026, 10, 2), date(2026, 10, 1)), (date(2026, 8, 31), date(2026, 10, 1))):
        with pytest.raises(InvalidInput) as invalid:
            report_performance(entry, RULES, day, today, CALENDAR)
        assert [v.field for v in invalid.value.violations] == ["performed_on"]
    with pytest.raises(InvalidState):
        report_performance(
            change_status(entry, RecordStatus.REPAIRED), RULES, date(2026, 9, 30), date(2026, 10, 9), CALENDAR
        )


def test_only_a_court_makes_entries_on_the_courts_list() -> None:
    """Fa Shi [2017] No. 7: the courts' list is the courts' (catalog ``makers: [court]``): an institution of any
    other kind is refused even where the record type itself names no providers, and for any listing on it."""
    check_maker(DEFINITION, "court")
    with pytest.raises(Refused) as refused:
        check_maker(DEFINITION, "public_agency")
    assert refused.value.reason == NOT_A_LIST_MAKER
    open_type = dataclasses.replace(CATALOG.record_types["dishonest_judgment_debtor"], provision=ANY_PROVISION)
    catalog = dataclasses.replace(CATALOG, record_types={**CATALOG.record_types, open_type.name: open_type})
    submit = Grant(GrantRole.SUBMIT, open_type.name, datetime(2026, 1, 1, tzinfo=UTC))
    agency = Principal("11110000MB00000048", "sgw://institution/11110000MB00000048", "public_agency", (submit,))
    with pytest.raises(Refused) as at_submission:
        Policy(catalog).authorise_submission(agency, open_type.name, datetime(2026, 9, 2, tzinfo=UTC))
    assert at_submission.value.reason == NOT_A_LIST_MAKER
    court = dataclasses.replace(agency, kind="court")
    Policy(catalog).authorise_submission(court, open_type.name, datetime(2026, 9, 2, tzinfo=UTC))


def test_an_upheld_correction_withdraws_the_entry_due_by_its_deletion_day() -> None:
    """Fa Shi [2017] No. 7 Art. 12: the party's application names its own active entry; upheld, the entry is
    withdrawn, due within the deletion days of the review and shown late after them."""
    entry = _entry()
    applied = apply_to_correct(
        entry, RULES, application_id="a-1", applicant="sgw://institution/x", grounds="记载有误", today=date(2026, 9, 29)
    )
    assert (applied.origin_region, applied.subject, applied.record_type) == ("110000", entry.subject, entry.record_type)
    upheld = review_correction(
        applied, RULES, upheld=True, reason="纠正", today=date(2026, 9, 30), calendar=CALENDAR, by="sgw://c"
    )
    assert (upheld.deletion_due, upheld.reviewed_by, upheld.version) == (date(2026, 10, 10), "sgw://c", 2)
    withdrawn = corrected_entry(entry, upheld, date(2026, 10, 12))
    assert withdrawn.status is RecordStatus.WITHDRAWN
    assert withdrawn.withdrawal is not None
    assert withdrawn.withdrawal.late
    dismissed = review_correction(
        applied, RULES, upheld=False, reason="维持", today=date(2026, 9, 30), calendar=CALENDAR
    )
    with pytest.raises(InvalidState):
        corrected_entry(entry, dismissed, date(2026, 9, 30))
