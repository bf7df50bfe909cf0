"""Working days: the unit of every procedural deadline (notice, objection, repair, removal).

China's public holidays move each year and are paid back with "adjusted working
days" (调休) on weekends, so neither set can be computed: both are
configuration, published yearly by the State Council General Office. A day is
a working day if it is an adjusted working day, or a weekday that is not a
holiday.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from share_gateway.domain.errors import FieldViolation, InvalidInput

SATURDAY = 5


@dataclass(frozen=True)
class WorkingCalendar:
    holidays: frozenset[date] = field(default_factory=frozenset)
    # Weekend days worked to make up for a holiday.
    adjusted_working_days: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        both = self.holidays & self.adjusted_working_days
        if both:
            raise InvalidInput(
                [FieldViolation("calendar", f"{d} is both a holiday and a working day") for d in sorted(both)]
            )

    def is_working_day(self, day: date) -> bool:
        if day in self.adjusted_working_days:
            return True
        return day.weekday() < SATURDAY and day not in self.holidays

    def add_working_days(self, start: date, days: int) -> date:
        """The ``days``-th working day after ``start`` (``start`` itself does not count), as 2025 No. 22 counts."""
        if days < 0:
            raise ValueError("a deadline counts forward")
        day, left = start, days
        while left:
            day += timedelta(days=1)
            if self.is_working_day(day):
                left -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 if ``end`` is not after ``start``)."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count

    @classmethod
    def of(
        cls, holidays: Iterable[date | str] = (), adjusted_working_days: Iterable[date | str] = ()
    ) -> WorkingCalendar:
        """From dates or ISO texts (as in ``node.yaml``), each refused by path if it does not parse."""
        violations: list[FieldViolation] = []

        def parse(values: Iterable[date | str], path: str) -> frozenset[date]:
            days = set()
            for index, value in enumerate(values):
                if isinstance(value, date):
                    days.add(value)
                    continue
                try:
                    days.add(date.fromisoformat(str(value)))
                except ValueError:
                    violations.append(FieldViolation(f"{path}[{index}]", f"{value!r} is not a date (YYYY-MM-DD)"))
            return frozenset(days)

        calendar_holidays = parse(holidays, "calendar.holidays")
        working = parse(adjusted_working_days, "calendar.working_days")
        if violations:
            raise InvalidInput(violations)
        return cls(calendar_holidays, working)
