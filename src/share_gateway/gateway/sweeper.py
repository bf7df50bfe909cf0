"""The disclosure sweeper: sharing stops automatically at the end of a record's period, or at its maximum.

Inquiries already skip a record outside the window their audience is answered from (``domain.periods``); the
sweeper makes the end of sharing explicit and accountable: the record is marked expired (it stays stored) and
the change is an event in the log, with the dates it ended. A record also ends when its type's maximum period
(from the catalog in force, counted from the day its clock started) is reached, even if its own end lies later:
every record has a maximum period unless its own rule sets none (NDRC Order No. 36 of 2025). An entry on the
courts' list of dishonest judgment debtors ends so at the end of its fixed term, and is due gone within the
list's deletion working days of it (Fa Shi [2017] No. 7 Art. 10): the event states that day, and ``late`` if the
sweep came after it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from share_gateway.domain.calendar import WorkingCalendar
from share_gateway.domain.catalog import Catalog
from share_gateway.domain.debtor_list import courts_list, deletion_due
from share_gateway.domain.events import Event, EventKind, Outcome
from share_gateway.domain.records import Record, RecordStatus, change_status
from share_gateway.gateway.periodic import Periodic
from share_gateway.gateway.runtime import NodeRuntime, node_principal, record_ref
from share_gateway.store.unit_of_work import UnitOfWork

BATCH = 500


@dataclass
class DisclosureSweeper:
    runtime: NodeRuntime
    catalog: Catalog | None = None
    interval: float = 60.0
    # The working calendar the courts' list's deletion days are counted in.
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    # Each record type's maximum period in days, from the catalog.
    maxima: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.loop = Periodic("disclosure sweeper", self.sweep, self.interval)
        self.follow(self.catalog)

    def follow(self, catalog: Catalog | None) -> None:
        """The catalog in force (a newer one installed at a running node): its maximum periods from the next sweep."""
        types = {} if catalog is None else catalog.record_types
        self.catalog = catalog
        self.maxima = {name: t.periods.maximum_days for name, t in types.items() if t.periods.maximum_days is not None}

    async def sweep(self) -> int:
        """Expire every active record whose sharing ended by today, or that reached its maximum; return how many."""
        today = self.runtime.clock().date()
        total = 0
        while True:
            expired = await self.runtime.write(lambda tx: self._expire(tx, today))
            total += expired
            if expired < BATCH:
                return total

    def _expire(self, tx: UnitOfWork, today: date) -> int:
        """End one batch of records past their period, each with its event; return how many were due."""
        due = self.runtime.store.records.due_to_expire(tx, today, BATCH, self.maxima)
        expired = [change_status(record, RecordStatus.EXPIRED) for record in due]
        self.runtime.change_statuses(tx, [(r, self._event(r, today)) for r in expired], "the disclosure period ended")
        return len(due)

    def _event(self, record: Record, today: date) -> Event:
        reached = record.share_until is None or record.share_until > today
        return self.runtime.event(
            EventKind.RECORD_EXPIRED,
            node_principal(self.runtime.region),
            Outcome.ALLOWED,
            subject=record.subject,
            records=(record_ref(record),),
            details={
                "publish_until": str(record.publish_until),
                "share_until": str(record.share_until),
                "period_start": str(record.period_start),
                "severity": record.severity or "",
            }
            | ({"ended_by": "maximum period"} if reached else {})
            | self._term_ended(record, today),
        )

    def _term_ended(self, record: Record, today: date) -> dict[str, str]:
        """For an entry on a courts' list whose fixed term ended: the day it had to be gone by, and if it was late."""
        found = None if self.catalog is None else courts_list(self.catalog, record.record_type)
        if found is None or record.share_until is None or record.share_until > today:
            return {}
        due = deletion_due(found[1], record.share_until, self.calendar)
        return {"deletion_due": due.isoformat(), "late": "true" if today > due else "false"}
