"""The disclosure sweeper: publication stops automatically at the end of a record's disclosure period.

Inquiries already skip a record past its ``disclose_until``; the sweeper makes
the end explicit and accountable: the record is marked expired (it stays
stored) and the change is an event in the log, with the date it ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from share_gateway.domain.events import Event, EventKind, Outcome
from share_gateway.domain.records import Record, RecordStatus, change_status
from share_gateway.gateway.periodic import Periodic
from share_gateway.gateway.runtime import NodeRuntime, node_principal, record_ref
from share_gateway.store.unit_of_work import UnitOfWork

BATCH = 500


@dataclass
class DisclosureSweeper:
    runtime: NodeRuntime
    interval: float = 60.0

    def __post_init__(self) -> None:
        self.loop = Periodic("disclosure sweeper", self.sweep, self.interval)

    async def sweep(self) -> int:
        """Expire every active record whose period ended by today; return how many."""
        today = self.runtime.clock().date()
        total = 0
        while True:
            expired = await self.runtime.write(lambda tx: self._expire(tx, today))
            total += expired
            if expired < BATCH:
                return total

    def _expire(self, tx: UnitOfWork, today: date) -> int:
        """End one batch of records past their period, each with its event; return how many were due."""
        due = self.runtime.store.records.due_to_expire(tx, today, BATCH)
        expired = [change_status(record, RecordStatus.EXPIRED) for record in due]
        self.runtime.change_statuses(tx, [(r, self._event(r)) for r in expired], "the disclosure period ended")
        return len(due)

    def _event(self, record: Record) -> Event:
        return self.runtime.event(
            EventKind.RECORD_EXPIRED,
            node_principal(self.runtime.region),
            Outcome.ALLOWED,
            subject=record.subject,
            records=(record_ref(record),),
            details={"disclose_until": str(record.disclose_until), "severity": record.severity or ""},
        )
