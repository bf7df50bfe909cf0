"""The repair notice served with a penalty or listing decision (两书同达, State Council General Office 2025 No. 22).

"Two documents together": the party receives, with the decision, a notice of
when and how repair becomes possible. Everything in it comes from the catalog
(the record type's repair path and periods) and the node's repair deadlines,
so the notice says what the repair procedure will in fact do. A listing decision carries the notice of
the record it rests on, signed with the listing (``notice_to_json``): repairing that record ends the listing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from share_gateway.domain.canonical import Json, day_text
from share_gateway.domain.catalog import RecordType
from share_gateway.domain.records import Record
from share_gateway.domain.repair import RepairDeadlines, repair_allowed_from


@dataclass(frozen=True, slots=True)
class RepairNotice:
    repairable: bool
    # The first day an application may succeed; None when the record is not repairable.
    repairable_from: date | None
    how: str
    basis: str
    # When not repairable: the law that says so (empty for information that is not untrustworthiness).
    forbidden_by: str
    severity_note: str
    deadlines: RepairDeadlines


def repair_notice(record: Record, record_type: RecordType, deadlines: RepairDeadlines) -> RepairNotice:
    """The notice for ``record``: repairable from the end of its minimum period (or at once), or why not."""
    rules = record_type.repair_rules
    repairable = record_type.repairable and rules.applies_to(record.fields)
    return RepairNotice(
        repairable=repairable,
        repairable_from=repair_allowed_from(record, record_type) if repairable else None,
        how=rules.how if repairable else "",
        basis=rules.basis,
        forbidden_by=rules.forbidden_by,
        severity_note=rules.severity_note,
        deadlines=deadlines,
    )


def notice_to_json(notice: RepairNotice) -> dict[str, Json]:
    """The notice as a signed listing carries it (canonical JSON values, every key always present)."""
    deadlines = notice.deadlines
    return {
        "repairable": notice.repairable,
        "repairable_from": day_text(notice.repairable_from),
        "how": notice.how,
        "basis": notice.basis,
        "forbidden_by": notice.forbidden_by,
        "severity_note": notice.severity_note,
        "total_working_days": deadlines.total_working_days,
        "decision_working_days": deadlines.decision_working_days,
        "extension_working_days": deadlines.extension_working_days,
    }


def notice_from_json(raw: dict[str, Any]) -> RepairNotice:
    """A notice read back from ``notice_to_json`` (``KeyError``/``TypeError``/``ValueError`` when malformed)."""
    if not isinstance(raw["repairable"], bool):
        raise TypeError("repairable is not a boolean")
    return RepairNotice(
        repairable=raw["repairable"],
        repairable_from=date.fromisoformat(raw["repairable_from"]) if raw["repairable_from"] else None,
        how=str(raw["how"]),
        basis=str(raw["basis"]),
        forbidden_by=str(raw["forbidden_by"]),
        severity_note=str(raw["severity_note"]),
        deadlines=RepairDeadlines(
            int(raw["total_working_days"]), int(raw["decision_working_days"]), int(raw["extension_working_days"])
        ),
    )
