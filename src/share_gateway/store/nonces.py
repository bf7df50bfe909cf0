"""Replay protection: the nonces of the peer inquiries this node answered, shared by every replica."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert

from share_gateway.store import schema
from share_gateway.store.database import Database
from share_gateway.store.unit_of_work import UnitOfWork


class ReplayNonces:
    def __init__(self, database: Database) -> None:
        self.database = database

    def remember(self, tx: UnitOfWork, nonce: str, origin: str, seen_at: datetime, forget_before: datetime) -> bool:
        """Record a peer inquiry's nonce; False if it was seen before (a replay). Old nonces are forgotten."""
        tx.connection.execute(delete(schema.peer_nonces).where(schema.peer_nonces.c.seen_at < forget_before))
        return tx.insert_new(insert(schema.peer_nonces).values(nonce=nonce, origin=origin, seen_at=seen_at))
