"""Quota buckets in the database, so every replica of a region spends from the same ones."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, insert, select, update

from share_gateway.domain.quotas import Bucket, Lease, MeterSpec, lease
from share_gateway.store import schema
from share_gateway.store.database import Database
from share_gateway.store.unit_of_work import UnitOfWork


class QuotaBuckets:
    def __init__(self, database: Database) -> None:
        self.database = database

    def lease(self, tx: UnitOfWork, bucket: str, spec: MeterSpec, now: datetime, wanted: int | None = None) -> Lease:
        """Take a batch of ``spec`` (or ``wanted`` tokens) from ``bucket``, locking its row (PostgreSQL) so two
        replicas never both take the same tokens; SQLite has one writer anyway."""
        table = schema.quota_buckets
        query = select(table.c.period, table.c.level, table.c.updated_at).where(table.c.bucket == bucket)
        row = tx.connection.execute(query.with_for_update()).one_or_none()
        if row is None:
            full = {"bucket": bucket, "period": spec.period, "level": float(spec.capacity), "updated_at": now}
            tx.insert_new(insert(table).values(**full))  # False: another replica made it meanwhile; read it
            row = tx.connection.execute(query.with_for_update()).one()
        taken = lease(
            Bucket(row.period, row.level, row.updated_at), spec, spec.batch if wanted is None else wanted, now
        )
        left = taken.bucket
        tx.connection.execute(
            update(table)
            .where(table.c.bucket == bucket)
            .values(period=left.period, level=left.level, updated_at=left.updated_at)
        )
        return taken

    def lease_many(self, tx: UnitOfWork, asks: Sequence[tuple[str, MeterSpec, int]], now: datetime) -> list[Lease]:
        """``lease`` of several buckets (bucket, spec, tokens wanted) in one transaction: an account's meters at
        one commit. Rows are locked in the order of their names, so two replicas leasing overlapping buckets
        never wait on each other in a cycle."""
        order = sorted(range(len(asks)), key=lambda index: asks[index][0])
        leases: dict[int, Lease] = {}
        for index in order:
            bucket, spec, wanted = asks[index]
            leases[index] = self.lease(tx, bucket, spec, now, wanted)
        return [leases[index] for index in range(len(asks))]

    def level(self, bucket: str) -> Bucket | None:
        """A bucket as stored (for operators and tests)."""
        table = schema.quota_buckets
        with self.database.reader.begin() as connection:
            row = connection.execute(
                select(table.c.period, table.c.level, table.c.updated_at).where(table.c.bucket == bucket)
            ).one_or_none()
        return None if row is None else Bucket(row.period, row.level, row.updated_at)

    def forget(self, tx: UnitOfWork, untouched_since: datetime) -> int:
        """Drop buckets nobody used since then (a full bucket is the same as none)."""
        table = schema.quota_buckets
        return tx.connection.execute(delete(table).where(table.c.updated_at < untouched_since)).rowcount
