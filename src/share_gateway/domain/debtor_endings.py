"""How an entry on the courts' list of dishonest judgment debtors ends (Fa Shi [2017] No. 7): by its maker only.

The rules themselves (terms, deletion days, the correction's review) are in
``debtor_list``; this module applies them to a stored entry, the court's
``dishonest_judgment_debtor`` record:

1. Only a maker the list names (a court) makes entries (``check_maker``): by
   record submission or by any listing on the list.
2. Performance (履行) reported by the court that made the entry ends it: the
   entry is deleted within the deletion working days of the performance date
   (Art. 10), counted on the working calendar, holidays included. The record
   stops being disclosed at the report; a report made after that day is shown
   as late (``Performance.late``).
3. The party's correction application (纠正, Art. 12) names its own entry; an
   upheld review withdraws the entry, due by the review's deletion day.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from share_gateway.domain.calendar import WorkingCalendar
from share_gateway.domain.catalog import Catalog, DebtorListRules, ListDefinition
from share_gateway.domain.debtor_list import CorrectionApplication, apply_for_correction, courts_list, deletion_due
from share_gateway.domain.errors import Citation, InvalidInput, InvalidState, Refused
from share_gateway.domain.records import Record, RecordStatus, change_status
from share_gateway.domain.withdrawal import Withdrawal

NOT_A_LIST_MAKER = "NOT_A_LIST_MAKER"


def check_maker(definition: ListDefinition, kind: str) -> None:
    """An institution of ``kind`` makes entries on ``definition`` only if the list names its kind among its
    makers (the courts for their own list); a list that names none leaves it to the record's own agency."""
    if definition.makers and kind not in definition.makers:
        makers = ", ".join(sorted(definition.makers))
        raise Refused(
            NOT_A_LIST_MAKER,
            f"entries on list {definition.name} are made by {makers}, not {kind!r}",
            [Citation(f"list/{definition.name}", definition.legal_basis)],
        )


def entry_list(catalog: Catalog, record: Record) -> tuple[ListDefinition, DebtorListRules]:
    """The courts' list ``record`` is an entry on, or ``NOT_A_COURTS_ENTRY``."""
    found = courts_list(catalog, record.record_type)
    if found is None:
        raise InvalidState(f"{record.record_type} records are no entries on a courts' list", "NOT_A_COURTS_ENTRY")
    return found


def _active(record: Record) -> None:
    if record.status is not RecordStatus.ACTIVE:
        raise InvalidState(f"the entry is {record.status}, not active", "RECORD_NOT_ACTIVE")


@dataclass(frozen=True, slots=True)
class Performance:
    """The court's report that the debtor performed: when, by when the entry had to go, when it went."""

    performed_on: date
    # The last day to delete the entry (Art. 10: the deletion working days after performance).
    deletion_due: date
    deleted_on: date

    @property
    def late(self) -> bool:
        return self.deleted_on > self.deletion_due

    def details(self) -> dict[str, str]:
        """The performance as event details: what an officer finds a late deletion by (``late``)."""
        return {
            "performed_on": self.performed_on.isoformat(),
            "deletion_due": self.deletion_due.isoformat(),
            "late": "true" if self.late else "false",
        }


def report_performance(
    record: Record, rules: DebtorListRules, performed_on: date, today: date, calendar: WorkingCalendar
) -> Performance:
    """The performance of an active entry on ``performed_on``: neither in the future nor before the decision."""
    if performed_on > today:
        raise InvalidInput.one("performed_on", "the obligation cannot have been performed in the future")
    if record.decided_on is not None and performed_on < record.decided_on:
        raise InvalidInput.one("performed_on", f"performance ends an entry made on {record.decided_on}: not before it")
    _active(record)
    return Performance(performed_on, deletion_due(rules, performed_on, calendar), today)


def apply_to_correct(
    record: Record, rules: DebtorListRules, *, application_id: str, applicant: str, grounds: str, today: date
) -> CorrectionApplication:
    """The party's application to correct its own active entry, with the court's review due (Art. 12)."""
    applied = apply_for_correction(rules, record.record_id, applicant, grounds, today)
    _active(record)
    return replace(
        applied,
        application_id=application_id,
        origin_region=record.origin_region,
        record_type=record.record_type,
        subject=record.subject,
    )


def corrected_entry(record: Record, reviewed: CorrectionApplication, today: date) -> Record:
    """The entry withdrawn on an upheld correction: due by the review's deletion day, late after it."""
    if reviewed.deletion_due is None or reviewed.reviewed_on is None:
        raise InvalidState("only an upheld correction withdraws the entry", "ILLEGAL_TRANSITION")
    _active(record)
    withdrawn = change_status(record, RecordStatus.WITHDRAWN)
    return replace(withdrawn, withdrawal=Withdrawal(reviewed.reviewed_on, reviewed.deletion_due, today))
