"""The figures health reads: a cheap look at the database, the log's lag, the outbox, recent checkpoints.

Each is a few indexed statements on the reader, run once per health interval
whatever the number of probes (probes read the last look).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, text

from share_gateway.domain.deliveries import DeliveryState
from share_gateway.domain.health import LogLag, OutboxStanding
from share_gateway.store import schema
from share_gateway.store.database import Database

# How many of the latest checkpoints are read to find each peer's newest cosignature.
CHECKPOINTS_LOOKED_AT = 32


class HealthFigures:
    def __init__(self, database: Database) -> None:
        self.database = database

    def ping(self) -> None:
        """One round trip on a pooled connection: raises if the database cannot answer."""
        with self.database.reader.connect() as connection:
            connection.execute(text("SELECT 1")).scalar_one()

    def log_lag(self) -> LogLag:
        """Events appended but not in the tree yet (about how many: sequence numbers may skip), the oldest's time."""
        events, entries = schema.events.c, schema.log_entries.c
        with self.database.reader.connect() as connection:
            last = connection.execute(select(func.max(entries.event_seq))).scalar() or 0
            newest = connection.execute(select(func.max(events.seq))).scalar() or 0
            oldest = connection.execute(
                select(events.occurred_at).where(events.seq > last).order_by(events.seq).limit(1)
            ).scalar()
        return LogLag(max(int(newest) - int(last), 0), oldest)

    def outbox(self) -> OutboxStanding:
        """Pending deliveries and dead letters, and when the oldest pending one was queued."""
        box = schema.outbox.c
        counts: dict[str, int] = {}
        oldest: datetime | None = None
        with self.database.reader.connect() as connection:
            rows = connection.execute(
                select(box.state, func.count(), func.min(box.created_at))
                .where(box.state.in_((DeliveryState.PENDING.value, DeliveryState.DEAD.value)))
                .group_by(box.state)
            )
            for state, count, first in rows:
                counts[state] = int(count)
                if state == DeliveryState.PENDING.value:
                    oldest = first
        pending, dead = (counts.get(state.value, 0) for state in (DeliveryState.PENDING, DeliveryState.DEAD))
        return OutboxStanding(pending, dead, oldest)

    def recent_checkpoints(self, limit: int = CHECKPOINTS_LOOKED_AT) -> list[tuple[datetime, bytes]]:
        """The latest checkpoints, newest first: when each was published, and its note with the cosignatures."""
        table = schema.log_checkpoints.c
        with self.database.reader.connect() as connection:
            rows = connection.execute(
                select(table.published_at, table.note).order_by(table.size.desc()).limit(limit)
            ).all()
        return [(published_at, bytes(note)) for published_at, note in rows]
