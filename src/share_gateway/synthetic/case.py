"""The case one draft is written from: subject, dates, severity, and facts drawn once each.

A record's fields must agree with each other and with its document (the
decision number is the document number, the overdue amount is at most the
principal). Each scenario module (``penalties``, ``licences``,
``obligations``) draws its facts through ``Case.fact`` once per draft; field
generators and document builders read them from there.
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
        decided_on: date,
        severity: str,
    ) -> None:
        self.rng = rng
        self.subject = subject
        self.record_type = record_type
        self.today = today
        self.decided_on = decided_on
        self.severity = severity
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
        return self.subject.division

    @property
    def earliest(self) -> date:
        """The first day anything can have happened to the subject: founding, or coming of age."""
        return earliest(self.subject)

    def department(self, name: str) -> str:
        return department(name, self.division)

    def mark(self, template: str) -> str:
        return fill(template, self.division)

    def before_decision(self, low: int, high: int) -> date:
        """A day ``low`` to ``high`` days before the decision, but not before the subject existed."""
        return max(self.earliest, self.decided_on - timedelta(days=self.rng.randint(low, high)))
