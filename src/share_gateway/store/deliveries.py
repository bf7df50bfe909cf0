"""The outbox: deliveries to peers (records, revocations, listings), queued in the transaction of the change.

A delivery is queued in the same unit of work as what it delivers, so nothing
is stored without its deliveries or delivered without being stored; the
courier marks each done when the peer's signed receipt came back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple

from sqlalchemy import insert, select, update

from share_gateway.store import schema
from share_gateway.store.database import Database
from share_gateway.store.unit_of_work import UnitOfWork

MAX_ERROR = 500


class DeliveryKind(StrEnum):
    RECORD = "record"
    REVOCATION = "revocation"
    LISTING = "listing"


class Delivery(NamedTuple):
    seq: int
    peer: str
    kind: DeliveryKind
    record_id: str
    attempts: int
    listing_id: str | None = None


class Outbox:
    def __init__(self, database: Database) -> None:
        self.database = database

    def queue(
        self,
        tx: UnitOfWork,
        kind: DeliveryKind,
        record_id: str,
        peers: Sequence[str],
        at: datetime,
        listing_id: str | None = None,
    ) -> None:
        """Queue a delivery to each of ``peers``, due at once."""
        if peers:
            tx.connection.execute(
                insert(schema.outbox),
                [
                    {
                        "peer": peer,
                        "kind": kind.value,
                        "record_id": record_id,
                        "listing_id": listing_id,
                        "created_at": at,
                        "attempts": 0,
                        "next_attempt_at": at,
                    }
                    for peer in peers
                ],
            )

    def due(self, now: datetime, limit: int = 100) -> list[Delivery]:
        """Undelivered deliveries whose next attempt is due, in queue order."""
        box = schema.outbox.c
        with self.database.reader.connect() as connection:
            rows = connection.execute(
                select(box.seq, box.peer, box.kind, box.record_id, box.attempts, box.listing_id)
                .where(box.delivered_at.is_(None), box.next_attempt_at <= now)
                .order_by(box.seq)
                .limit(limit)
            )
            return [Delivery(r.seq, r.peer, DeliveryKind(r.kind), r.record_id, r.attempts, r.listing_id) for r in rows]

    def delivered(self, tx: UnitOfWork, seq: int, at: datetime) -> None:
        """Mark one delivery acknowledged (the caller logs the peer's acknowledgement in ``tx``)."""
        tx.connection.execute(
            update(schema.outbox).where(schema.outbox.c.seq == seq).values(delivered_at=at, last_error=None)
        )

    def skipped(self, tx: UnitOfWork, seq: int, at: datetime, why: str) -> None:
        """Close a delivery that must not be sent (its record stopped being disclosed before it left)."""
        tx.connection.execute(
            update(schema.outbox).where(schema.outbox.c.seq == seq).values(delivered_at=at, last_error=why[:MAX_ERROR])
        )

    def failed(self, tx: UnitOfWork, seq: int, next_attempt_at: datetime, error: str) -> None:
        """Count a failed attempt and say when to try again."""
        tx.connection.execute(
            update(schema.outbox)
            .where(schema.outbox.c.seq == seq)
            .values(
                attempts=schema.outbox.c.attempts + 1, next_attempt_at=next_attempt_at, last_error=error[:MAX_ERROR]
            )
        )

    def retry_now(self, tx: UnitOfWork, peer: str, now: datetime) -> int:
        """Make every undelivered delivery to ``peer`` due now (the peer is back); return how many."""
        box = schema.outbox.c
        done = tx.connection.execute(
            update(schema.outbox)
            .where(box.peer == peer, box.delivered_at.is_(None), box.next_attempt_at > now)
            .values(next_attempt_at=now)
        )
        return int(done.rowcount)
