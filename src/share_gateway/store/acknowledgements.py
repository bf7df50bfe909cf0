"""The acknowledgements repository: which revocations of its feed each requester said it acted on, and when.

A requester acknowledges its feed up to a position (cumulative, as a stream consumer commits an offset);
each revocation of its feed up to there gets its own row, marked late when it came more than the node's
configured time after the revocation was kept here. Officers read the late and the missing ones per requester.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select

from share_gateway.store import schema
from share_gateway.store.database import Database
from share_gateway.store.revocations import ledger_names_revoked, received_by
from share_gateway.store.unit_of_work import UnitOfWork


@dataclass(frozen=True, slots=True)
class Acknowledged:
    """One revocation a requester acknowledged now: which record, kept when, and whether it was late."""

    position: int
    origin_region: str
    record_id: str
    kept_at: datetime
    late: bool


@dataclass(frozen=True, slots=True)
class RequesterAcknowledgements:
    """For officers: a requester's revocations unacknowledged past the time, and those acknowledged late."""

    requester: str
    overdue: int
    late: int


class Acknowledgements:
    def __init__(self, database: Database) -> None:
        self.database = database

    def acknowledge(
        self, tx: UnitOfWork, recipient: str, through: int, now: datetime, within: timedelta
    ) -> list[Acknowledged]:
        """Record ``recipient``'s acknowledgement of every revocation in its feed up to position ``through`` not
        acknowledged yet, in ``tx``; return those, each marked late if kept more than ``within`` before ``now``."""
        revoked, acked = schema.revocations.c, schema.revocation_acknowledgements.c
        received = received_by(recipient)
        done = select(acked.revocation_seq).where(acked.recipient == recipient, acked.revocation_seq == revoked.seq)
        query = (
            select(revoked.seq, revoked.origin_region, revoked.record_id, revoked.received_at)
            .where(revoked.seq <= through, received, ~done.exists())
            .order_by(revoked.seq)
        )
        fresh = [
            Acknowledged(row.seq, row.origin_region, row.record_id, row.received_at, now - row.received_at > within)
            for row in tx.connection.execute(query)
        ]
        if fresh:
            tx.connection.execute(
                schema.revocation_acknowledgements.insert(),
                [
                    {"recipient": recipient, "revocation_seq": a.position, "acknowledged_at": now, "late": a.late}
                    for a in fresh
                ],
            )
        return fresh

    def review(self, now: datetime, within: timedelta) -> list[RequesterAcknowledgements]:
        """Per requester with something to report: revocations kept more than ``within`` before ``now`` and not
        acknowledged, and revocations acknowledged late; by requester."""
        revoked, ledger, acked = (
            schema.revocations.c,
            schema.disclosure_ledger.c,
            schema.revocation_acknowledgements.c,
        )
        feed = (
            select(ledger.recipient, revoked.seq)
            .distinct()
            .join(
                schema.revocations,
                ledger_names_revoked(),
            )
            .where(revoked.received_at < now - within)
            .subquery()
        )
        overdue = (
            select(feed.c.recipient, func.count())
            .select_from(
                feed.outerjoin(
                    schema.revocation_acknowledgements,
                    and_(acked.recipient == feed.c.recipient, acked.revocation_seq == feed.c.seq),
                )
            )
            .where(acked.revocation_seq.is_(None))
            .group_by(feed.c.recipient)
        )
        late = select(acked.recipient, func.count()).where(acked.late).group_by(acked.recipient)
        with self.database.reader.connect() as connection:
            missing = {row[0]: int(row[1]) for row in connection.execute(overdue)}
            slow = {row[0]: int(row[1]) for row in connection.execute(late)}
        return [
            RequesterAcknowledgements(requester, missing.get(requester, 0), slow.get(requester, 0))
            for requester in sorted(missing.keys() | slow.keys())
        ]
