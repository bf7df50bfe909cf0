"""The outbox: deliveries to peers (records, revocations, listings), queued in the transaction of the change.

A delivery is queued in the same unit of work as what it delivers, so nothing
is stored without its deliveries or delivered without being stored; the
courier marks each done when the peer's signed receipt came back. Its state
follows ``domain.deliveries``: a delivery is due only when no earlier one it
waits for (``WAITS_FOR``) is still pending or dead, so one item that cannot be
delivered holds back nothing but what causally follows it.

Replicas of one region share the outbox: a courier ``claim``s the rows it is
about to send, for a lease written in the row (``claimed_by``,
``claimed_until``). A row with a live claim is not due for anyone else, so each
delivery is sent and logged by one replica; one that dies mid-delivery leaves a
claim that lapses, and the row is due again. On PostgreSQL the claiming
``SELECT`` takes its rows ``FOR UPDATE SKIP LOCKED``, so replicas claiming at
the same moment take different rows instead of waiting for each other; SQLite
has one writer at a time and needs no lock.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    and_,
    bindparam,
    exists,
    false,
    func,
    insert,
    or_,
    select,
    true,
    update,
)

from share_gateway.domain.deliveries import WAITS_FOR, DeliveryKind, DeliveryState, require_transition
from share_gateway.domain.errors import InvalidState, NotFound
from share_gateway.store import schema
from share_gateway.store.database import Database
from share_gateway.store.unit_of_work import UnitOfWork

__all__ = ["Delivery", "DeliveryKind", "DeliveryState", "Outbox", "PeerBacklog", "QueuedDelivery"]

MAX_ERROR = 500
_OPEN = (DeliveryState.PENDING.value, DeliveryState.DEAD.value)


class Delivery(NamedTuple):
    seq: int
    peer: str
    kind: DeliveryKind
    record_id: str
    attempts: int
    listing_id: str | None = None


class QueuedDelivery(NamedTuple):
    """An undelivered delivery as an operator sees it: why it failed, and which earlier one it waits for."""

    seq: int
    peer: str
    kind: DeliveryKind
    record_id: str
    listing_id: str | None
    state: DeliveryState
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    last_error: str | None
    dead_reason: str | None
    dead_at: datetime | None
    waiting_on: int | None


class PeerBacklog(NamedTuple):
    peer: str
    pending: int
    dead: int


def _open_earlier(earlier: Any) -> ColumnElement[bool]:
    """An earlier delivery to the same peer that the outbox row waits for (``WAITS_FOR``) is still open."""
    box = schema.outbox.c
    waits = [
        and_(box.kind == kind.value, earlier.kind == waited.value, earlier[key] == box[key])
        for kind, rules in WAITS_FOR.items()
        for waited, key in rules
    ]
    return and_(earlier.peer == box.peer, earlier.seq < box.seq, earlier.state.in_(_OPEN), or_(false(), *waits))


def _held_back() -> ColumnElement[bool]:
    earlier = schema.outbox.alias("earlier").c
    return exists().where(_open_earlier(earlier)).correlate(schema.outbox)


def _first_held_back_by() -> Any:
    """The seq of the first open delivery the row waits for, if any."""
    earlier = schema.outbox.alias("earlier").c
    return select(func.min(earlier.seq)).where(_open_earlier(earlier)).correlate(schema.outbox).scalar_subquery()


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
                        "state": DeliveryState.PENDING.value,
                    }
                    for peer in peers
                ],
            )

    def due(self, now: datetime, limit: int = 100) -> list[Delivery]:
        """Pending deliveries whose next attempt is due, that no replica holds a live claim on and that wait for no
        open earlier one, in queue order."""
        with self.database.reader.connect() as connection:
            return [_delivery_of(row) for row in connection.execute(_due_statement(), {"now": now, "limit": limit})]

    def claim(self, tx: UnitOfWork, owner: str, now: datetime, until: datetime, limit: int = 100) -> list[Delivery]:
        """Claim the deliveries due at ``now`` for ``owner`` until ``until`` and return them, in queue order: no
        other courier takes them before they are closed, released, or the claim lapses."""
        box = schema.outbox.c
        rows = list(tx.connection.execute(_claim_statement(), {"now": now, "limit": limit}))
        if not rows:
            return []
        claimed = set(
            tx.connection.execute(
                update(schema.outbox)
                .where(box.seq.in_([row.seq for row in rows]), _unclaimed(now))
                .values(claimed_by=owner, claimed_until=until)
                .returning(box.seq)
            ).scalars()
        )
        return [_delivery_of(row) for row in rows if row.seq in claimed]

    def renew(self, tx: UnitOfWork, owner: str, seqs: Sequence[int], until: datetime) -> set[int]:
        """Extend ``owner``'s claims on the pending deliveries ``seqs`` to ``until``; return the ones it still held
        (a claim that lapsed and was taken by another replica is lost: its delivery is that replica's now)."""
        if not seqs:
            return set()
        box = schema.outbox.c
        return set(
            tx.connection.execute(
                update(schema.outbox)
                .where(box.seq.in_(list(seqs)), box.claimed_by == owner, box.state == DeliveryState.PENDING.value)
                .values(claimed_until=until)
                .returning(box.seq)
            ).scalars()
        )

    def release(self, tx: UnitOfWork, owner: str, seqs: Sequence[int] | None = None) -> int:
        """Give up ``owner``'s claims (on ``seqs`` only, if given), so the deliveries are due for every replica at
        once rather than when the claims would lapse; return how many."""
        box = schema.outbox.c
        mine = box.claimed_by == owner
        if seqs is not None:
            mine = and_(mine, box.seq.in_(list(seqs)))
        done = tx.connection.execute(update(schema.outbox).where(mine).values(claimed_by=None, claimed_until=None))
        return int(done.rowcount)

    def _pending(self, tx: UnitOfWork, seq: int, **values: object) -> bool:
        """Change a pending delivery, ending its claim (the attempt is over); False when it is no longer pending
        (another courier closed it)."""
        box = schema.outbox.c
        done = tx.connection.execute(
            update(schema.outbox)
            .where(box.seq == seq, box.state == DeliveryState.PENDING.value)
            .values(claimed_by=None, claimed_until=None, **values)
        )
        return bool(done.rowcount)

    def delivered(self, tx: UnitOfWork, seq: int, at: datetime) -> bool:
        """Mark one delivery acknowledged; False if another replica's courier already closed it (then the caller
        must not log the acknowledgement a second time)."""
        return self._pending(tx, seq, state=DeliveryState.DELIVERED.value, delivered_at=at, last_error=None)

    def skipped_publication(self, peer: str, record_id: str) -> bool:
        """Whether the record's publication to ``peer`` was closed unsent (the record stopped being disclosable
        before it left): the peer never holds it, so nothing resting on it can be delivered there."""
        box = schema.outbox.c
        with self.database.reader.connect() as connection:
            found = connection.execute(
                select(box.seq).where(
                    box.peer == peer,
                    box.kind == DeliveryKind.RECORD.value,
                    box.record_id == record_id,
                    box.state == DeliveryState.SKIPPED.value,
                )
            ).first()
        return found is not None

    def skipped(self, tx: UnitOfWork, seq: int, at: datetime, why: str) -> None:
        """Close a delivery that must not be sent (its record stopped being disclosed before it left)."""
        self._pending(tx, seq, state=DeliveryState.SKIPPED.value, delivered_at=at, last_error=why[:MAX_ERROR])

    def failed(self, tx: UnitOfWork, seq: int, next_attempt_at: datetime, error: str) -> None:
        """Count a failed attempt and say when to try again."""
        attempts = schema.outbox.c.attempts + 1
        self._pending(tx, seq, attempts=attempts, next_attempt_at=next_attempt_at, last_error=error[:MAX_ERROR])

    def dead_lettered(self, tx: UnitOfWork, seq: int, at: datetime, reason: str) -> bool:
        """Make a pending delivery a dead letter, with why and when; False if it was no longer pending."""
        return self._pending(
            tx,
            seq,
            state=DeliveryState.DEAD.value,
            attempts=schema.outbox.c.attempts + 1,
            dead_at=at,
            dead_reason=reason[:MAX_ERROR],
            last_error=reason[:MAX_ERROR],
        )

    def redeliver(self, tx: UnitOfWork, seq: int, now: datetime) -> QueuedDelivery:
        """Make a dead letter pending and due now, its attempts counted afresh; return it as it was."""
        dead = self.get(seq, tx)
        if dead is None:
            raise NotFound(f"no delivery {seq} is in the outbox")
        if dead.state is not DeliveryState.DEAD:
            raise InvalidState(f"delivery {seq} is {dead.state}: only a dead letter is redelivered", "NOT_DEAD")
        require_transition(dead.state, DeliveryState.PENDING)
        box = schema.outbox.c
        done = tx.connection.execute(
            update(schema.outbox)
            .where(box.seq == seq, box.state == DeliveryState.DEAD.value)
            .values(state=DeliveryState.PENDING.value, attempts=0, next_attempt_at=now, dead_at=None, dead_reason=None)
        )
        if not done.rowcount:
            raise InvalidState(f"delivery {seq} changed meanwhile", "NOT_DEAD")
        return dead

    def rest_peer(self, tx: UnitOfWork, peer: str, until: datetime) -> int:
        """No pending delivery to ``peer`` is due before ``until`` (it did not answer): a peer that is down takes
        no place in the courier's batches, so it never crowds out the peers that answer. Return how many."""
        box = schema.outbox.c
        done = tx.connection.execute(
            update(schema.outbox)
            .where(box.peer == peer, box.state == DeliveryState.PENDING.value, box.next_attempt_at < until)
            .values(next_attempt_at=until)
        )
        return int(done.rowcount)

    def retry_now(self, tx: UnitOfWork, peer: str, now: datetime) -> int:
        """Make every pending delivery to ``peer`` due now (the peer is back); return how many."""
        box = schema.outbox.c
        done = tx.connection.execute(
            update(schema.outbox)
            .where(box.peer == peer, box.state == DeliveryState.PENDING.value, box.next_attempt_at > now)
            .values(next_attempt_at=now)
        )
        return int(done.rowcount)

    def get(self, seq: int, tx: UnitOfWork | None = None) -> QueuedDelivery | None:
        rows = self._queued(schema.outbox.c.seq == seq, 1, tx)
        return rows[0] if rows else None

    def undelivered(self, peer: str | None = None, dead_only: bool = False, limit: int = 1000) -> list[QueuedDelivery]:
        """Pending deliveries and dead letters (only dead letters with ``dead_only``), to ``peer`` or every peer."""
        box = schema.outbox.c
        states = (DeliveryState.DEAD.value,) if dead_only else _OPEN
        condition = and_(box.state.in_(states), true() if peer is None else box.peer == peer)
        return self._queued(condition, limit, None)

    def _queued(self, condition: ColumnElement[bool], limit: int, tx: UnitOfWork | None) -> list[QueuedDelivery]:
        box = schema.outbox.c
        query = (
            select(
                box.seq,
                box.peer,
                box.kind,
                box.record_id,
                box.listing_id,
                box.state,
                box.attempts,
                box.created_at,
                box.next_attempt_at,
                box.last_error,
                box.dead_reason,
                box.dead_at,
                _first_held_back_by().label("waiting_on"),
            )
            .where(condition)
            .order_by(box.seq)
            .limit(limit)
        )
        if tx is not None:
            return [_queued_of(row) for row in tx.connection.execute(query)]
        with self.database.reader.connect() as connection:
            return [_queued_of(row) for row in connection.execute(query)]

    def backlog(self) -> list[PeerBacklog]:
        """Per peer, how many deliveries are pending and how many are dead letters."""
        box = schema.outbox.c
        counts: dict[str, dict[str, int]] = {}
        with self.database.reader.connect() as connection:
            rows = connection.execute(
                select(box.peer, box.state, func.count()).where(box.state.in_(_OPEN)).group_by(box.peer, box.state)
            )
            for peer, state, count in rows:
                counts.setdefault(peer, {})[state] = int(count)
        return [
            PeerBacklog(peer, c.get(DeliveryState.PENDING.value, 0), c.get(DeliveryState.DEAD.value, 0))
            for peer, c in sorted(counts.items())
        ]


def _unclaimed(now: Any) -> ColumnElement[bool]:
    """No courier holds a live claim on the row: never claimed, released, or the claim lapsed."""
    box = schema.outbox.c
    return or_(box.claimed_until.is_(None), box.claimed_until <= now)


@functools.cache
def _due_statement() -> Select[Any]:
    """The due deliveries (parameters ``now`` and ``limit``), built once: every courier asks twice a second, and
    building this statement (a correlated subquery per waiting rule) cost more than running it on an empty outbox."""
    box = schema.outbox.c
    now: BindParameter[datetime] = bindparam("now", type_=box.next_attempt_at.type)
    return (
        select(box.seq, box.peer, box.kind, box.record_id, box.attempts, box.listing_id)
        .where(box.state == DeliveryState.PENDING.value, box.next_attempt_at <= now, _unclaimed(now), ~_held_back())
        .order_by(box.seq)
        .limit(bindparam("limit"))
    )


@functools.cache
def _claim_statement() -> Select[Any]:
    # SKIP LOCKED: rows another replica is claiming right now are left to it (SQLite renders no lock).
    return _due_statement().with_for_update(skip_locked=True, of=schema.outbox)


def _delivery_of(row: Any) -> Delivery:
    return Delivery(row.seq, row.peer, DeliveryKind(row.kind), row.record_id, row.attempts, row.listing_id)


def _queued_of(row: Any) -> QueuedDelivery:
    return QueuedDelivery(
        row.seq,
        row.peer,
        DeliveryKind(row.kind),
        row.record_id,
        row.listing_id,
        DeliveryState(row.state),
        row.attempts,
        row.created_at,
        row.next_attempt_at,
        row.last_error,
        row.dead_reason,
        row.dead_at,
        row.waiting_on,
    )
