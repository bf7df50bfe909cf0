"""Disputes about wrong records (异议) as pure rules: the answer day, lateness, the two answers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from share_gateway.domain.catalog_repair import DisputeRules
from share_gateway.domain.disputes import Dispute, DisputeState, answer_dispute, dispute_rules, file_dispute
from share_gateway.domain.errors import InvalidInput, InvalidState
from share_gateway.domain.records import RecordStatus
from tests.unit.test_repair import CATALOG, NOW, record

FILED = datetime(2026, 9, 30, 10, 0, tzinfo=UTC)  # the National Day week ahead: calendar days count it


def filed(record_type: str = "loan_default", now: datetime = FILED) -> Dispute:
    disputed = replace(record("general"), record_type=record_type, severity=None)
    return file_dispute(
        disputed,
        dispute_rules(CATALOG.record_types[record_type], 30),
        dispute_id="d-1",
        applicant="sgw://institution/91110105MA01ABCD00",
        claim="逾期记录有误：该笔贷款已于到期日前结清",
        now=now,
    )


def test_dispute_answered_within_20_days_for_credit_reporting_types() -> None:
    """Credit-reporting information: disputes answered within 20 days (Credit Reporting Industry Regulation
    Art. 25; DOMAIN.md "Disputes, notice and repair channels"), counted in calendar days."""
    rules = CATALOG.record_types["loan_default"].dispute_rules
    assert rules is not None
    assert (rules.answer_days, "Art. 25" in rules.basis) == (20, True)
    dispute = filed()
    assert (dispute.state, dispute.answer_due) == (DisputeState.FILED, date(2026, 10, 20))
    # Other types: the catalog's per-type default, said to be unverified; a catalog without one: the node's.
    penalty = CATALOG.record_types["administrative_penalty"]
    assert penalty.dispute_rules is not None
    assert "unverified" in penalty.dispute_rules.basis
    assert dispute_rules(replace(penalty, dispute_rules=None), 30) == DisputeRules(
        30, "node configuration: the catalog sets no dispute time for this type"
    )


def test_dispute_answered_late_shown_overdue() -> None:
    """A late answer shows as overdue (issue 12, "Disputes about wrong records"): unanswered past its day, and
    answered after it, for good."""
    dispute = filed()
    assert not dispute.overdue(date(2026, 10, 20))
    assert dispute.overdue(date(2026, 10, 21))
    late = answer_dispute(
        dispute, corrected_record_id="", answer="记录无误", by="sgw://bank", now=FILED + timedelta(days=25)
    )
    assert late.overdue(date(2026, 10, 25))
    assert late.overdue(date(2027, 1, 1))
    in_time = answer_dispute(
        dispute, corrected_record_id="r-2", answer="已更正", by="sgw://bank", now=FILED + timedelta(days=20)
    )
    assert (in_time.state, in_time.corrected_record_id, in_time.overdue(date(2027, 1, 1))) == (
        DisputeState.CORRECTED,
        "r-2",
        False,
    )


def test_dispute_needs_a_claim_a_shown_record_and_one_answer() -> None:
    """A dispute states what is wrong, about a record still shown; it is answered once, stating why."""
    with pytest.raises(InvalidInput) as refused:
        file_dispute(
            record(),
            dispute_rules(CATALOG.record_types["administrative_penalty"], 30),
            dispute_id="d",
            applicant="x",
            claim=" ",
            now=NOW,
        )
    assert [v.field for v in refused.value.violations] == ["claim"]
    with pytest.raises(InvalidState) as withdrawn:
        file_dispute(
            replace(record(), status=RecordStatus.WITHDRAWN),
            DisputeRules(20, "x"),
            dispute_id="d",
            applicant="x",
            claim="有误",
            now=NOW,
        )
    assert withdrawn.value.reason == "RECORD_NOT_ACTIVE"
    dispute = filed()
    with pytest.raises(InvalidInput):
        answer_dispute(dispute, corrected_record_id="", answer="", by="x", now=FILED)
    answered = answer_dispute(dispute, corrected_record_id="", answer="记录无误", by="x", now=FILED)
    assert answered.state is DisputeState.REJECTED
    with pytest.raises(InvalidState) as again:
        answer_dispute(answered, corrected_record_id="", answer="再答", by="x", now=FILED)
    assert again.value.reason == "ILLEGAL_TRANSITION"
