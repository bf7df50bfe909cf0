"""Disclosure windows of admitted records, and whether a record is disclosable on a day.

The windows are checked against the rule they implement (DOMAIN.md,
"Disclosure periods": State Council General Office 2025 No. 22 / NDRC Order
36 -- minor at most 3 months, general 3 months to 1 year, serious 1 to 3
years; the clock starts at the decision date).
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest

from share_gateway.domain.periods import Audience
from share_gateway.domain.records import RecordStatus
from tests.unit.records_support import TODAY, admit, document, paths, penalty, registration, violations


@pytest.mark.parametrize(
    ("severity", "days"),
    [
        ("minor", 0),
        ("minor", 90),
        ("general", 90),
        ("general", 365),
        ("serious", 365),
        ("serious", 1095),
    ],
)
def test_disclosure_days_at_the_bounds_of_each_severity_are_accepted(severity: str, days: int) -> None:
    """2025 No. 22: minor at most 3 months (0-90d), general 3 months-1 year (90-365d),
    serious 1-3 years (365-1095d); the window ends decision date + days."""
    record = admit(penalty(severity=severity, disclosure_days=days, issued_on="2026-11-20"))
    assert record.share_until == date(2026, 11, 20) + timedelta(days=days)


@pytest.mark.parametrize(
    ("severity", "days"),
    [("minor", 91), ("minor", -1), ("general", 89), ("general", 366), ("serious", 364), ("serious", 1096)],
)
def test_disclosure_days_outside_the_severity_range_are_refused(severity: str, days: int) -> None:
    """2025 No. 22 bounds: a period outside its severity's range is refused at disclosure_days."""
    found = violations(penalty(severity=severity, disclosure_days=days))
    assert [field for field, _ in found] == ["disclosure_days"]
    assert f"not {days}" in found[0][1]


@pytest.mark.parametrize(("severity", "maximum"), [("minor", 90), ("general", 365), ("serious", 1095)])
def test_without_disclosure_days_the_maximum_applies(severity: str, maximum: int) -> None:
    """2025 No. 22: publication stops automatically at the maximum."""
    record = admit(penalty(severity=severity, issued_on="2026-11-20"))
    assert record.share_until == date(2026, 11, 20) + timedelta(days=maximum)


def test_clock_starts_at_the_decision_date_not_effective_date_or_today() -> None:
    """2025 No. 22: the clock starts at the decision date (the document's issue date)."""
    draft = dataclasses.replace(penalty(severity="serious"), legal_document=document("2026-03-01", "2026-04-15"))
    record = admit(draft)
    assert record.decided_on == date(2026, 3, 1)
    assert record.share_until == date(2026, 3, 1) + timedelta(days=1095)


def test_minor_penalty_with_zero_days_is_admitted_but_never_published() -> None:
    """2025 No. 22: a minor finding may stay unpublished."""
    record = admit(penalty(severity="minor", disclosure_days=0, issued_on="2026-01-10"))
    assert record.share_until == date(2026, 1, 10)
    assert not record.visible_to(Audience.SHARING, TODAY)


def test_disclosure_period_that_already_ended_is_refused() -> None:
    """A general penalty decided 2025-06-01 and published 90 days ended on 2025-08-30."""
    found = violations(penalty(severity="general", disclosure_days=90, issued_on="2025-06-01"))
    assert found == [("legal_document.issued_on", "the disclosure period already ended on 2025-08-30")]


def test_disclosure_period_ending_today_counts_as_ended() -> None:
    issued = TODAY - timedelta(days=90)
    assert paths(penalty(severity="minor", issued_on=issued.isoformat())) == ["legal_document.issued_on"]


def test_disclosure_period_ending_tomorrow_is_admitted_and_disclosable_today_only() -> None:
    issued = TODAY - timedelta(days=89)
    record = admit(penalty(severity="minor", issued_on=issued.isoformat()))
    assert record.share_until == TODAY + timedelta(days=1)
    assert record.visible_to(Audience.SHARING, TODAY)
    assert not record.visible_to(Audience.SHARING, TODAY + timedelta(days=1))


# --- is_disclosable ---------------------------------------------------------------


def test_is_disclosable_until_but_excluding_disclose_until() -> None:
    record = admit(penalty(severity="general", disclosure_days=100, issued_on="2026-11-20"))
    until = date(2026, 11, 20) + timedelta(days=100)
    assert record.share_until == until
    assert record.visible_to(Audience.SHARING, until - timedelta(days=1))
    assert not record.visible_to(Audience.SHARING, until)
    assert not record.visible_to(Audience.SHARING, until + timedelta(days=1))


def test_record_without_period_is_disclosable_while_active() -> None:
    record = admit(registration())
    assert record.visible_to(Audience.SHARING, TODAY)
    assert record.visible_to(Audience.SHARING, date(2100, 1, 1))


@pytest.mark.parametrize("status", [s for s in RecordStatus if s is not RecordStatus.ACTIVE])
def test_only_active_records_are_disclosable(status: RecordStatus) -> None:
    record = dataclasses.replace(admit(penalty()), status=status)
    assert not record.visible_to(Audience.SHARING, TODAY)
