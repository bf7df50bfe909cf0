"""The revocations repository: each origin's signed revocation of its record, and the feed requesters read.

A revocation is kept once per (origin, record): the origin's own when it
repaired or withdrew its record, a peer's when it told this node to stop
disclosing its copy. Requesters read the revocations of the records the
disclosure ledger says they received, by polling (``feed``) or watching: every revocation kept is announced,
once its transaction committed, to the listeners of this process (``listen``).

Feed positions follow commit order: ``keep`` takes the log's append lock before the row gets its position, so
on PostgreSQL a transaction that commits later never holds a smaller position than one a reader already saw.
A reader that resumes after position N therefore misses nothing (SQLite has one writer anyway).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, insert, select

from share_gateway.crypto.envelope import Envelope
from share_gateway.domain.canonical import parse_json
from share_gateway.domain.records import RecordStatus
from share_gateway.domain.repair import REVOCATION_TYPE
from share_gateway.store import schema
from share_gateway.store.database import Database
from share_gateway.store.unit_of_work import UnitOfWork


def _envelope(row: Row[Any]) -> Envelope:
    return Envelope(row.statement, REVOCATION_TYPE, bytes.fromhex(row.key_id), row.signature)


def ledger_names_revoked() -> Any:
    """A disclosure ledger row about the revoked record (same origin and id): what joins a revocation to the
    requesters that received its record."""
    revoked, ledger = schema.revocations.c, schema.disclosure_ledger.c
    return (ledger.record_id == revoked.record_id) & (ledger.origin_region == revoked.origin_region)


def received_by(recipient: str) -> Any:
    """Whether ``recipient`` received the revoked record (the disclosure ledger says so): what puts a
    revocation in its feed."""
    ledger = schema.disclosure_ledger.c
    return select(ledger.seq).where(ledger.recipient == recipient, ledger_names_revoked()).exists()


class Revocations:
    def __init__(self, database: Database) -> None:
        self.database = database
        self._listeners: list[Callable[[], None]] = []

    def listen(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` (on the writing thread) after each commit that kept a new revocation."""
        self._listeners.append(listener)

    def _announce(self) -> None:
        for listener in self._listeners:
            listener()

    def keep(self, tx: UnitOfWork, record_id: str, origin: str, envelope: Envelope, at: datetime) -> bool:
        """Keep a signed revocation for the feed; False if this origin's revocation of the record is kept."""
        tx.serialise()  # positions in commit order: see the module's docstring
        kept = tx.insert_new(
            insert(schema.revocations).values(
                record_id=record_id,
                origin_region=origin,
                statement=envelope.payload,
                key_id=envelope.key_id.hex(),
                signature=envelope.signature,
                received_at=at,
            )
        )
        if kept:
            tx.on_commit(self._announce)
        return kept

    def held_status(self, tx: UnitOfWork, record_id: str, origin: str) -> RecordStatus | None:
        """The status a revocation already kept gives the record (it came before the record itself)."""
        revoked = schema.revocations.c
        statement = tx.connection.execute(
            select(revoked.statement).where(revoked.record_id == record_id, revoked.origin_region == origin)
        ).scalar()
        return None if statement is None else RecordStatus(parse_json(statement)["status"])

    def revoked_among(self, records: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which of the (origin, record id) pairs a kept revocation ends: a peer's copy of them is not relayed."""
        pairs = set(records)
        if not pairs:
            return set()
        table = schema.revocations.c
        ids = {record_id for _, record_id in pairs}
        with self.database.reader.connect() as connection:
            rows = connection.execute(
                select(table.origin_region, table.record_id).where(table.record_id.in_(ids))
            ).all()
        return {(row.origin_region, row.record_id) for row in rows} & pairs

    def get(self, origin: str, record_id: str) -> Envelope | None:
        table = schema.revocations.c
        with self.database.reader.connect() as connection:
            row = connection.execute(
                select(schema.revocations).where(table.record_id == record_id, table.origin_region == origin)
            ).first()
        return None if row is None else _envelope(row)

    def feed(self, recipient: str, after: int = 0, limit: int = 100) -> list[tuple[int, Envelope]]:
        """(seq, signed revocation) of records ``recipient`` received, after ``after``, in feed order.

        What a recipient received is the disclosure ledger's (``store.events``); it is read here, not written.
        """
        revoked = schema.revocations.c
        query = (
            select(schema.revocations)
            .where(revoked.seq > after, received_by(recipient))
            .order_by(revoked.seq)
            .limit(limit)
        )
        with self.database.reader.connect() as connection:
            return [(row.seq, _envelope(row)) for row in connection.execute(query)]

    def last_position(self) -> int:
        """The feed position of the latest revocation kept (0 for none)."""
        with self.database.reader.connect() as connection:
            return int(connection.execute(select(func.coalesce(func.max(schema.revocations.c.seq), 0))).scalar_one())

    def recipients_after(self, after: int, limit: int = 500) -> tuple[list[tuple[int, str, Envelope]], int]:
        """The next ``limit`` positions after ``after``: (position, recipient, signed revocation) for every requester
        the disclosure ledger says received the record, in feed order, and the last position read (``after``
        when there is none): what watchers are told."""
        revoked, ledger = schema.revocations.c, schema.disclosure_ledger.c
        positions = select(revoked.seq).where(revoked.seq > after).order_by(revoked.seq).limit(limit).subquery()
        with self.database.reader.connect() as connection:
            last = connection.execute(select(func.max(positions.c.seq))).scalar()
            if last is None:
                return [], after
            query = (
                select(schema.revocations, ledger.recipient)
                .distinct()
                .join(
                    schema.disclosure_ledger,
                    ledger_names_revoked(),
                )
                .where(revoked.seq > after, revoked.seq <= last)
                .order_by(revoked.seq)
            )
            rows = [(row.seq, row.recipient, _envelope(row)) for row in connection.execute(query)]
        return rows, int(last)
