"""Credit repair (2025 No. 22) as pure rules: who may apply when, the deadlines, the legal transitions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from share_gateway.api.convert import draft_from_wire
from share_gateway.catalog import sample_catalog_text
from share_gateway.domain.calendar import WorkingCalendar
from share_gateway.domain.catalog import Catalog
from share_gateway.domain.errors import InvalidInput, InvalidState
from share_gateway.domain.records import Record, RecordStatus, admit_record
from share_gateway.domain.repair import (
    RepairApplication,
    RepairDeadlines,
    RepairState,
    Revocation,
    accept,
    apply_for_repair,
    decide,
)
from tests.support import debtor_request, penalty_request

CATALOG = Catalog.from_yaml(sample_catalog_text())
CALENDAR = WorkingCalendar.of(holidays=[f"2026-10-0{d}" for d in range(1, 8)], adjusted_working_days=["2026-10-10"])
DEADLINES = RepairDeadlines()
NOW = datetime(2026, 9, 30, 10, 0, tzinfo=UTC)  # a Wednesday before the National Day week


def record(severity: str = "general", days_ago: int = 100, debtor: bool = False) -> Record:
    request = debtor_request() if debtor else penalty_request(severity=severity)
    decided = (NOW - timedelta(days=days_ago)).date().isoformat()
    request.legal_document.issued_on = request.legal_document.effective_on = decided
    return admit_record(
        CATALOG,
        draft_from_wire(request),
        record_id="r-1",
        origin_region="110000",
        submitted_by="sgw://institution/11110000MB00000048",
        now=NOW - timedelta(days=days_ago - 1),
    )


def application(of: Record | None = None, now: datetime = NOW) -> RepairApplication:
    subject = of or record()
    return apply_for_repair(
        subject,
        CATALOG.record_types[subject.record_type],
        application_id="a-1",
        applicant="sgw://institution/91110105MA01ABCD00",
        evidence="罚款已于2026年9月1日缴清，缴款书编号 1100-2026-0901",
        commitment="本单位承诺依法诚信经营",
        now=now,
        calendar=CALENDAR,
        deadlines=DEADLINES,
    )


def test_rule_2025_no_22_general_and_serious_are_repaired_only_after_the_minimum_period() -> None:
    with pytest.raises(InvalidState) as raised:
        application(record("general", days_ago=30))
    assert raised.value.reason == "MINIMUM_PERIOD_NOT_REACHED"
    assert raised.value.metadata == {
        "repairable_from": (NOW - timedelta(days=30) + timedelta(days=90)).date().isoformat()
    }
    assert application(record("general", days_ago=90)).state is RepairState.SUBMITTED
    with pytest.raises(InvalidState, match="minimum"):
        application(record("serious", days_ago=200))


def test_rule_2025_no_22_minor_is_repaired_once_obligations_are_met() -> None:
    assert application(record("minor", days_ago=2)).state is RepairState.SUBMITTED


def test_rule_fa_shi_2017_7_a_dishonest_debtor_is_repairable_on_performance() -> None:
    assert application(record(debtor=True, days_ago=10)).state is RepairState.SUBMITTED


def test_an_application_needs_proof_and_a_commitment_on_an_active_repairable_record() -> None:
    subject = record()
    with pytest.raises(InvalidInput) as raised:
        apply_for_repair(
            subject,
            CATALOG.record_types[subject.record_type],
            application_id="a",
            applicant="x",
            evidence=" ",
            commitment="",
            now=NOW,
            calendar=CALENDAR,
            deadlines=DEADLINES,
        )
    assert [v.field for v in raised.value.violations] == ["evidence", "commitment"]
    with pytest.raises(InvalidState) as not_active:
        application(replace(subject, status=RecordStatus.WITHDRAWN))
    assert not_active.value.reason == "RECORD_NOT_ACTIVE"
    loan = replace(subject, record_type="loan_default")
    with pytest.raises(InvalidState) as not_repairable:
        application(loan)
    assert not_repairable.value.reason == "NOT_REPAIRABLE"


def test_repair_total_overdue_on_working_day_11() -> None:
    """The whole course, application to result, takes at most 10 working days: overdue from working day 11.

    2025 No. 22 as the provincial credit portals state it (DOMAIN.md "Credit repair")."""
    submitted = application()
    # From Wednesday 30 September the holiday week does not count and the worked Saturday 10 October does:
    # 8, 9, 10, 12, 13, 14, 15, 16, 19, 20 October.
    assert submitted.result_due == date(2026, 10, 20)
    assert submitted.overdue(date(2026, 10, 20)) is None
    assert submitted.overdue(date(2026, 10, 21)) == "result"
    # Accepted on the 10th working day, its decision is still due that day: not 3 working days later.
    accepted = accept(submitted, datetime(2026, 10, 20, 9, 0, tzinfo=UTC), CALENDAR, DEADLINES)
    assert accepted.decision_due == date(2026, 10, 20)
    assert accepted.overdue(date(2026, 10, 21)) == "decision"


def test_repair_decision_due_within_3_working_days_of_receipt_inside_the_total() -> None:
    """The department decides within 3 working days of receiving the application, inside the 10-day total.

    2025 No. 22 (DOMAIN.md "Credit repair")."""
    submitted = application()
    # Accepted on Wednesday 30 September, across the National Day holidays and their weekend: 8, 9, 10 October.
    before_holidays = accept(submitted, datetime(2026, 9, 30, 11, 0, tzinfo=UTC), CALENDAR, DEADLINES)
    assert before_holidays.decision_due == date(2026, 10, 10)
    assert before_holidays.overdue(date(2026, 10, 10)) is None
    assert before_holidays.overdue(date(2026, 10, 12)) == "decision"
    # Accepted on Friday 16 October: Monday, Tuesday, Wednesday would be 21 October, past the total's 20th.
    late = accept(submitted, datetime(2026, 10, 16, 15, 0, tzinfo=UTC), CALENDAR, DEADLINES)
    assert late.decision_due == date(2026, 10, 20)
    approved = decide(late, True, "sgw://institution/11110000MB00000048", "fine paid", NOW)
    assert (approved.state, approved.version, approved.overdue(date(2027, 1, 1))) == (RepairState.APPROVED, 3, None)


@pytest.mark.parametrize(
    ("steps", "state"),
    [
        (("approve",), "submitted"),  # a decision needs acceptance first
        (("accept", "accept"), "accepted"),
        (("accept", "approve", "reject"), "approved"),
        (("reject", "accept"), "rejected"),
    ],
)
def test_an_illegal_transition_is_refused_with_the_states_it_names(steps: tuple[str, ...], state: str) -> None:
    def step(current: RepairApplication, name: str) -> RepairApplication:
        if name == "accept":
            return accept(current, NOW, CALENDAR, DEADLINES)
        return decide(current, name == "approve", "by", "why", NOW, remedy="reconsideration")

    current = application()
    for name in steps[:-1]:
        current = step(current, name)
    with pytest.raises(InvalidState) as raised:
        step(current, steps[-1])
    assert raised.value.reason == "ILLEGAL_TRANSITION"
    assert raised.value.metadata["from"] == state


def test_a_decision_states_why() -> None:
    with pytest.raises(InvalidInput):
        decide(accept(application(), NOW, CALENDAR, DEADLINES), True, "by", " ", NOW)


def test_a_revocation_has_one_canonical_form() -> None:
    revoked = Revocation.of(replace(record(), status=RecordStatus.REPAIRED), "repaired: fine paid", NOW)
    assert Revocation.from_bytes(revoked.to_bytes()) == revoked
    with pytest.raises(ValueError, match="canonical"):
        Revocation.from_bytes(revoked.to_bytes().replace(b'{"at"', b'{ "at"'))
