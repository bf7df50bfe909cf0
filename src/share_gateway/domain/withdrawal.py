"""Withdrawal after a revoked decision: counted from the revoking decision, and shown when late.

A record whose decision is revoked must be withdrawn within a number of working days of the revoking
decision (SAMR Order 45 Art. 11: 3 working days; the number is the record type's ``withdrawal_working_days``
in the catalog). The deadline runs from the revoking decision's date, not from the withdrawal call, so a
withdrawal made late is shown as late: in the record, in its event, and to officers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from share_gateway.domain.calendar import WorkingCalendar
from share_gateway.domain.periods import PeriodRule


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """When a record's decision was revoked, by when it had to be withdrawn, and when it was."""

    revoked_on: date
    # The last day for the withdrawal; None where the type's rule sets no deadline.
    due: date | None
    withdrawn_on: date

    @property
    def late(self) -> bool:
        return self.due is not None and self.withdrawn_on > self.due

    def details(self) -> dict[str, str]:
        """The withdrawal as event details: what the compliance search finds a late one by (``late``)."""
        due = {} if self.due is None else {"withdrawal_due": self.due.isoformat()}
        return {"revoked_on": self.revoked_on.isoformat(), "late": "true" if self.late else "false"} | due


def withdrawal_after_revocation(
    rule: PeriodRule, revoked_on: date, withdrawn_on: date, calendar: WorkingCalendar
) -> Withdrawal:
    """The withdrawal of a record on ``withdrawn_on`` whose decision was revoked on ``revoked_on``."""
    days = rule.withdrawal_working_days
    due = None if days is None else calendar.add_working_days(revoked_on, days)
    return Withdrawal(revoked_on, due, withdrawn_on)
