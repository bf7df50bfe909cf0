"""The courts' list of dishonest judgment debtors (Supreme People's Court, Fa Shi [2017] No. 7): its own rules.

An entry is the court's ``dishonest_judgment_debtor`` record, naming the item
of Art. 1 its conduct falls under. Conduct under Art. 1(1) has no fixed term:
the entry lasts until performance. Items (2)-(6) last two years, extendable by
one to three years only for the aggravating conduct Art. 2 names. The entry is
deleted within 3 working days of performance or of the term's end (Art. 10),
and the party may apply for correction, which the court reviews (Art. 12).
Every number comes from the catalog's list definition (``debtor_rules``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum

from share_gateway.domain.calendar import WorkingCalendar
from share_gateway.domain.catalog import Catalog, DebtorListRules, ListDefinition, ListKind
from share_gateway.domain.errors import FieldViolation, InvalidInput, InvalidState
from share_gateway.domain.identifiers import Subject

AGGRAVATION_FIELD = "aggravation"
EXTENSION_FIELD = "extension_days"
MAX_TEXT = 2000


def courts_list(catalog: Catalog, record_type: str) -> tuple[ListDefinition, DebtorListRules] | None:
    """The courts' list whose entries are records of ``record_type``, with its rules, if the catalog has one."""
    for definition in catalog.lists.values():
        rules = definition.debtor_rules
        covers = any(c.record_type == record_type for c in definition.criteria)
        if definition.kind is ListKind.COURT_DEBTORS and rules is not None and covers:
            return definition, rules
    return None


def term_days(rules: DebtorListRules, conduct: str, extension_days: int = 0, aggravation: str = "") -> int | None:
    """How many days an entry for ``conduct`` lasts (None: until performance), or ``InvalidInput`` saying why
    the extension asked for is not one the rules allow."""
    term = next((t for t in rules.terms if conduct in t.conducts), None)
    if term is None:
        raise InvalidInput.one("fields.conduct_code", f"{conduct!r} is not conduct the courts' list names")
    if term.days is None:
        if extension_days:
            raise InvalidInput.one(
                f"fields.{EXTENSION_FIELD}", f"the entry has no fixed term to extend ({term.source})"
            )
        return None
    if not extension_days:
        return term.days
    violations = []
    if aggravation not in rules.aggravations:
        violations.append(
            FieldViolation(
                f"fields.{AGGRAVATION_FIELD}",
                f"an extension rests only on the aggravating conduct {sorted(rules.aggravations)} "
                f"({rules.extension_source}), not {aggravation or 'none'}",
            )
        )
    low, high = rules.extension_minimum_days, rules.extension_maximum_days
    if not low <= extension_days <= high:
        violations.append(
            FieldViolation(f"fields.{EXTENSION_FIELD}", f"an extension is {low} to {high} days, not {extension_days}")
        )
    if violations:
        raise InvalidInput(violations)
    return term.days + extension_days


def term_ends(
    rules: DebtorListRules, conduct: str, listed_on: date, extension_days: int = 0, aggravation: str = ""
) -> date | None:
    """The day the entry's term runs out (None: it lasts until performance)."""
    days = term_days(rules, conduct, extension_days, aggravation)
    return None if days is None else listed_on + timedelta(days=days)


def deletion_due(rules: DebtorListRules, ended_on: date, calendar: WorkingCalendar) -> date:
    """The last day to delete the entry after performance or the term's end on ``ended_on`` (Art. 10)."""
    return calendar.add_working_days(ended_on, rules.deletion_working_days)


def check_entry(
    catalog: Catalog, record_type: str, fields: Mapping[str, str], violations: list[FieldViolation]
) -> None:
    """An entry naming its conduct asks for no extension the rules do not allow (older entries name none)."""
    found = courts_list(catalog, record_type)
    conduct = fields.get("conduct_code", "")
    if found is None or not conduct:
        return
    extension = fields.get(EXTENSION_FIELD, "0")
    try:
        term_days(found[1], conduct, int(extension) if extension.isdigit() else 0, fields.get(AGGRAVATION_FIELD, ""))
    except InvalidInput as error:
        violations.extend(error.violations)


@dataclass(frozen=True, slots=True)
class CourtTerm:
    """An entry's term under the courts' list: ``days`` from the court's decision, None until performance."""

    days: int | None


def court_term(catalog: Catalog, record_type: str, fields: Mapping[str, str]) -> CourtTerm | None:
    """The term of an entry naming its conduct (None: not a courts' list entry, or one of an older version that
    names none, whose severity period stands; or a request ``check_entry`` refused)."""
    found = courts_list(catalog, record_type)
    conduct = fields.get("conduct_code", "")
    if found is None or not conduct:
        return None
    extension = fields.get(EXTENSION_FIELD, "0")
    try:
        days = term_days(
            found[1], conduct, int(extension) if extension.isdigit() else 0, fields.get(AGGRAVATION_FIELD, "")
        )
    except InvalidInput:
        return None
    return CourtTerm(days)


class CorrectionState(StrEnum):
    APPLIED = "applied"
    UPHELD = "upheld"
    DISMISSED = "dismissed"


@dataclass(frozen=True, slots=True)
class CorrectionApplication:
    """The party's application to correct a wrong entry, and the court's review of it (Art. 12)."""

    record_id: str
    applicant: str
    grounds: str
    applied_on: date
    review_due: date
    state: CorrectionState = CorrectionState.APPLIED
    reviewed_on: date | None = None
    reason: str = ""
    # Where upheld: the entry must be gone by this day.
    deletion_due: date | None = None
    # Where it is kept: its id, the entry's origin, type and subject, who reviewed it, and its version.
    application_id: str = ""
    origin_region: str = ""
    record_type: str = ""
    subject: Subject | None = None
    reviewed_by: str = ""
    version: int = 1

    def overdue(self, today: date) -> str | None:
        """``review`` when the court has not reviewed it in time."""
        return "review" if self.state is CorrectionState.APPLIED and today > self.review_due else None


def _text(name: str, text: str) -> None:
    if not text.strip() or len(text) > MAX_TEXT:
        raise InvalidInput.one(name, f"1 to {MAX_TEXT} characters")


def apply_for_correction(
    rules: DebtorListRules, record_id: str, applicant: str, grounds: str, today: date
) -> CorrectionApplication:
    """The party applies to the court for correction; the review is due within the catalog's days."""
    _text("grounds", grounds)
    review_due = today + timedelta(days=rules.correction_review_days)
    return CorrectionApplication(record_id, applicant, grounds, today, review_due)


def review_correction(
    application: CorrectionApplication,
    rules: DebtorListRules,
    *,
    upheld: bool,
    reason: str,
    today: date,
    calendar: WorkingCalendar,
    by: str = "",
) -> CorrectionApplication:
    """The court's review: upheld, the entry is deleted within the deletion days; dismissed, it stays."""
    _text("reason", reason)
    if application.state is not CorrectionState.APPLIED:
        raise InvalidState(f"the application was already {application.state}", "ILLEGAL_TRANSITION")
    state = CorrectionState.UPHELD if upheld else CorrectionState.DISMISSED
    due = deletion_due(rules, today, calendar) if upheld else None
    return replace(
        application,
        state=state,
        reviewed_on=today,
        reason=reason,
        deletion_due=due,
        reviewed_by=by,
        version=application.version + 1,
    )
