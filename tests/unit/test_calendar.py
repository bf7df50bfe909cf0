"""Working days as the procedures count them: weekends and configured holidays skipped, adjusted days worked."""

from __future__ import annotations

from datetime import date

import pytest
import yaml

from share_gateway.config import ProcedureSettings
from share_gateway.domain.calendar import WorkingCalendar
from share_gateway.domain.errors import InvalidInput

# As configured for the tests: the 2026 National Day week off, with Saturday 10 October worked in return.
CALENDAR = WorkingCalendar.of(holidays=[f"2026-10-0{d}" for d in range(1, 8)], adjusted_working_days=["2026-10-10"])


def test_weekdays_are_working_days_unless_a_holiday_and_a_worked_saturday_is_one() -> None:
    assert CALENDAR.is_working_day(date(2026, 9, 30))  # Wednesday
    assert not CALENDAR.is_working_day(date(2026, 10, 1))  # Thursday, a holiday
    assert not CALENDAR.is_working_day(date(2026, 10, 3))  # Saturday
    assert CALENDAR.is_working_day(date(2026, 10, 10))  # Saturday, worked in return


def test_rule_2025_no_22_repair_decided_within_3_working_days_across_a_weekend() -> None:
    # Received on Friday 13 November: Monday, Tuesday, Wednesday.
    assert CALENDAR.add_working_days(date(2026, 11, 13), 3) == date(2026, 11, 18)


def test_rule_2025_no_22_repair_decided_within_3_working_days_across_a_holiday_week() -> None:
    # Received on Wednesday 30 September: the holiday week and its weekend are skipped,
    # Thursday 8, Friday 9 and the worked Saturday 10 October count.
    assert CALENDAR.add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 10)
    assert CALENDAR.working_days_between(date(2026, 9, 30), date(2026, 10, 10)) == 3


def test_rule_samr_order_45_revoked_decision_withdrawn_within_3_working_days() -> None:
    # Revoked on Saturday 3 October (a holiday): the count starts after it.
    assert CALENDAR.add_working_days(date(2026, 10, 3), 3) == date(2026, 10, 10)


def test_zero_working_days_is_the_day_itself_and_a_negative_count_is_refused() -> None:
    assert CALENDAR.add_working_days(date(2026, 10, 3), 0) == date(2026, 10, 3)
    with pytest.raises(ValueError, match="forward"):
        CALENDAR.add_working_days(date(2026, 10, 3), -1)


def test_a_configured_calendar_is_refused_by_path() -> None:
    with pytest.raises(InvalidInput) as raised:
        WorkingCalendar.of(holidays=["2026-10-01", "1 October"], adjusted_working_days=["2026-13-01"])
    assert [v.field for v in raised.value.violations] == ["calendar.holidays[1]", "calendar.working_days[0]"]
    with pytest.raises(InvalidInput, match="both a holiday and a working day"):
        WorkingCalendar.of(holidays=["2026-10-10"], adjusted_working_days=["2026-10-10"])


def test_node_yaml_configures_the_calendar_and_refuses_an_unknown_setting() -> None:
    raw = yaml.safe_load(
        "holidays: [2026-10-01, 2026-10-02]\nworking_days: [2026-10-10]\nrepair_decision_working_days: 5"
    )
    settings = ProcedureSettings.from_mapping(raw)
    assert settings.repair_decision_working_days == 5
    assert settings.calendar().add_working_days(date(2026, 9, 30), 2) == date(2026, 10, 6)
    with pytest.raises(ValueError, match=r"procedures\.holiday: unknown setting"):
        ProcedureSettings.from_mapping({"holiday": ["2026-10-01"]})
