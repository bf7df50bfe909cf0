"""Replay protection: the nonces of the peer inquiries this node answered, shared by every replica.

A forwarded inquiry's nonce is kept in the transaction of the event that
answers it (``PeerNonce`` rides the group commit): one commit per batch, not
one more per hop. The key is the row itself, so two replicas that accepted
the same nonce at once cannot both commit an answer to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select

from share_gateway.store import schema
from share_gateway.store.database import Database
from share_gateway.store.prepared import Prepared
from share_gateway.store.unit_of_work import UnitOfWork


class NonceSeen(Exception):
    """A nonce was kept meanwhile (by another replica): the answer that carried it is not committed."""


@dataclass(frozen=True, slots=True)
class PeerNonce:
    """A peer inquiry's nonce as kept, and before when the nonces kept earlier may be forgotten."""

    origin: str
    nonce: str
    seen_at: datetime
    forget_before: datetime


_KEEP = insert(schema.peer_nonces).values(
    origin=bindparam("origin"), nonce=bindparam("nonce"), seen_at=bindparam("seen_at")
)
_FORGET = delete(schema.peer_nonces).where(schema.peer_nonces.c.seen_at < bindparam("forget_before"))


class ReplayNonces:
    def __init__(self, database: Database) -> None:
        self.database = database
        self._keep = Prepared.compile(_KEEP, database.writer)
        self._forget = Prepared.compile(_FORGET, database.writer)

    def remember(self, tx: UnitOfWork, kept: PeerNonce) -> bool:
        """Record a peer request's nonce; False if it was seen before (a replay). Old nonces are forgotten."""
        tx.connection.execute(delete(schema.peer_nonces).where(schema.peer_nonces.c.seen_at < kept.forget_before))
        row = insert(schema.peer_nonces).values(nonce=kept.nonce, origin=kept.origin, seen_at=kept.seen_at)
        return tx.insert_new(row)

    def keep_one(self, tx: UnitOfWork, kept: PeerNonce) -> None:
        """Keep one nonce in ``tx``, or ``NonceSeen`` (and the transaction goes on) if it was kept before."""
        if not self.remember(tx, kept):
            raise NonceSeen(f"nonce {kept.nonce[:64]} of region {kept.origin} was kept meanwhile")

    def seen(self, origin: str, nonce: str) -> bool:
        """Whether ``origin``'s ``nonce`` is kept already (a replay of an inquiry answered before)."""
        query = select(schema.peer_nonces.c.nonce).where(
            schema.peer_nonces.c.origin == origin, schema.peer_nonces.c.nonce == nonce
        )
        with self.database.reader.begin() as connection:
            return connection.execute(query).first() is not None

    def keep(self, cursor: Any, nonces: list[PeerNonce]) -> None:
        """Keep ``nonces`` on a transaction's cursor (an event batch's), the old ones forgotten; a nonce kept
        already fails the transaction (an integrity error)."""
        if not nonces:
            return
        self._forget.execute_many(cursor, [{"forget_before": min(n.forget_before for n in nonces)}])
        self._keep.execute_many(cursor, [{"origin": n.origin, "nonce": n.nonce, "seen_at": n.seen_at} for n in nonces])
