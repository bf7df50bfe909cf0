"""What this node, as a witness, last cosigned of each peer's log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select, update

from share_gateway.ledger.witness import SizeMismatch, Witnessed
from share_gateway.store import schema
from share_gateway.store.database import Database
from share_gateway.store.unit_of_work import UnitOfWork


class WitnessState:
    def __init__(self, database: Database) -> None:
        self.database = database

    def witnessed(self, origin: str) -> Witnessed | None:
        """What this node last cosigned of ``origin``'s log."""
        row = self._row(origin)
        return None if row is None else Witnessed(row.size, row.root)

    def note(self, origin: str) -> bytes | None:
        """The checkpoint of ``origin`` this node last cosigned, as it arrived."""
        row = self._row(origin)
        return None if row is None else bytes(row.note)

    def _row(self, origin: str) -> Row[Any] | None:
        with self.database.reader.connect() as connection:
            return connection.execute(select(schema.witnessed).where(schema.witnessed.c.origin == origin)).first()

    def advance(self, tx: UnitOfWork, origin: str, old_size: int, new: Witnessed, note: bytes, now: datetime) -> None:
        """Move the witnessed state from ``old_size`` to ``new``; if another request moved it first, say where to."""
        values = {"size": new.size, "root": new.root, "note": note, "cosigned_at": now}
        table = schema.witnessed
        if old_size == 0:
            moved = tx.insert_new(insert(table).values(origin=origin, **values))
        else:
            moved = (
                tx.connection.execute(
                    update(table).where(table.c.origin == origin, table.c.size == old_size).values(**values)
                ).rowcount
                == 1
            )
        if not moved:
            current = tx.connection.execute(select(table.c.size).where(table.c.origin == origin)).scalar()
            raise SizeMismatch(current or 0)
