"""The case one draft is written from: subject, recording place, dates, severity, and facts drawn once each.

A record's fields must agree with each other and with its document (the
decision number is the document number, the overdue amount is at most the
principal). Each scenario module (``penalties``, ``licences``,
``obligations``) draws its facts through ``Case.fact`` once per draft; field
generators and document builders read them from there.

The bodies that act in a case (the authority deciding, the court, the tax
bureau, the utility, the lender's branch) are those of the *recording*
division: a Guangdong record names a Guangdong court, whichever region the
subject comes from. A case without a decision has no decision date.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from typing import TypeVar, cast

from share_gateway.domain.catalog import RecordType
from share_gateway.domain.identifiers import SubjectKind
from share_gateway.synthetic.people import SyntheticCompany, SyntheticPerson, SyntheticSubject, earliest
from share_gateway.synthetic.regions import Division, department, fill

_T = TypeVar("_T")

# Who a violation, licence or commitment can concern.
ENTITY = frozenset({SubjectKind.LEGAL_ENTITY})
PERSON = frozenset({SubjectKind.INDIVIDUAL})
BOTH = ENTITY | PERSON


class Case:
    """The facts one draft is written from, each drawn once so that fields and document agree."""

    def __init__(
        self,
        rng: random.Random,
        subject: SyntheticSubject,
        record_type: RecordType,
        today: date,
        decided_on: date | None,
        severity: str,
        division: Division | None = None,
    ) -> None:
        self.rng = rng
        self.subject = subject
        self.record_type = record_type
        self.today = today
        self.decided_on = decided_on
        self.severity = severity
        # Where the record is made: the acting bodies' division (default: the subject's own).
        self._division = division if division is not None else subject.division
        self._facts: dict[Callable[[Case], object], object] = {}

    def fact(self, draw: Callable[[Case], _T]) -> _T:
        """What ``draw`` returns for this case, drawn on first use and remembered."""
        if draw not in self._facts:
            self._facts[draw] = draw(self)
        return cast(_T, self._facts[draw])

    @property
    def company(self) -> SyntheticCompany | None:
        return self.subject if isinstance(self.subject, SyntheticCompany) else None

    @property
    def person(self) -> SyntheticPerson | None:
        return self.subject if isinstance(self.subject, SyntheticPerson) else None

    @property
    def division(self) -> Division:
        """The division whose bodies make the record (not necessarily the subject's)."""
        return self._division

    @property
    def decision(self) -> date:
        """The decision date of a case that rests on a decision; asking it of one without is a bug."""
        if self.decided_on is None:
            raise ValueError(f"{self.record_type.name} rests on no decision: it has no decision date")
        return self.decided_on

    @property
    def earliest(self) -> date:
        """The first day anything can have happened to the subject: founding, or coming of age."""
        return earliest(self.subject)

    def department(self, name: str) -> str:
        return department(name, self.division)

    def mark(self, template: str) -> str:
        return fill(template, self.division)

    def at_least(self, field: str, low: float, high: float) -> tuple[float, float]:
        """An amount range for ``field`` raised to the catalog's sourced threshold, where it gives one."""
        threshold = self.record_type.threshold
        if threshold is None or threshold.field != field or threshold.minimum is None:
            return low, high
        floor = float(threshold.minimum)
        return max(low, floor), max(high, floor * 10)

    def before_decision(self, low: int, high: int) -> date:
        """A day ``low`` to ``high`` days before the decision (today, without one), not before the subject existed."""
        reference = self.decided_on if self.decided_on is not None else self.today
        return max(self.earliest, reference - timedelta(days=self.rng.randint(low, high)))
