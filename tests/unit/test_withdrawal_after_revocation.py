"""Withdrawal after a revoked decision (SAMR Order 45 Art. 11: within 3 working days of the revocation; the number
is the record type's ``withdrawal_working_days`` in the catalog): counted from the revoking decision's date, not
from the withdrawal call, so a late withdrawal shows as late."""

from __future__ import annotations

from datetime import date

from share_gateway.catalog import sample_catalog_text
from share_gateway.domain.calendar import WorkingCalendar
from share_gateway.domain.catalog import Catalog
from share_gateway.domain.periods import PeriodRule
from share_gateway.domain.withdrawal import withdrawal_after_revocation

CATALOG = Catalog.from_yaml(sample_catalog_text())
PENALTY = CATALOG.record_types["administrative_penalty"].periods
# Thursday 1 October 2026 is National Day: a holiday of the configured calendar.
CALENDAR = WorkingCalendar(holidays=frozenset({date(2026, 10, 1), date(2026, 10, 2)}))


def test_late_withdrawal_counted_from_revoking_decision_shown_late() -> None:
    """SAMR Order 45 Art. 11: a decision revoked on Tuesday 1 December 2026 is withdrawn by Friday 4 December; a
    withdrawal on Monday 7 December is late, whenever the call was made."""
    assert PENALTY.withdrawal_working_days == 3
    late = withdrawal_after_revocation(PENALTY, date(2026, 12, 1), date(2026, 12, 7), CALENDAR)
    assert (late.due, late.late) == (date(2026, 12, 4), True)
    assert late.details() == {"revoked_on": "2026-12-01", "withdrawal_due": "2026-12-04", "late": "true"}
    in_time = withdrawal_after_revocation(PENALTY, date(2026, 12, 1), date(2026, 12, 4), CALENDAR)
    assert (in_time.due, in_time.late) == (date(2026, 12, 4), False)


def test_withdrawal_deadline_counts_working_days_across_a_holiday() -> None:
    """SAMR Order 45 Art. 11 counts working days: revoked Wednesday 30 September 2026, due Wednesday 7 October
    (1 and 2 October are holidays, 3 and 4 October a weekend)."""
    withdrawal = withdrawal_after_revocation(PENALTY, date(2026, 9, 30), date(2026, 10, 7), CALENDAR)
    assert (withdrawal.due, withdrawal.late) == (date(2026, 10, 7), False)


def test_a_type_without_a_withdrawal_deadline_is_never_late() -> None:
    """The catalog sets no deadline for it (no source gives one): the withdrawal is shown, never as late."""
    withdrawal = withdrawal_after_revocation(PeriodRule(), date(2026, 1, 5), date(2026, 12, 7), CALENDAR)
    assert (withdrawal.due, withdrawal.late) == (None, False)
    assert withdrawal.details() == {"revoked_on": "2026-01-05", "late": "false"}
