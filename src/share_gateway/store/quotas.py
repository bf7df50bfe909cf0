"""Quota buckets in the database, so every replica of a region spends from the same ones."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, select, type_coerce, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.types import NullType

from share_gateway.domain.quotas import Bucket, Lease, MeterSpec, lease
from share_gateway.store import schema
from share_gateway.store.database import Database
from share_gateway.store.prepared import Prepared
from share_gateway.store.unit_of_work import UnitOfWork


class QuotaBuckets:
    def __init__(self, database: Database) -> None:
        self.database = database
        table, dialect_insert = schema.quota_buckets, sqlite_insert if database.is_sqlite else postgresql_insert
        # Built once, run on a write transaction's cursor: a lease rides in the group commit's transaction.
        full = dialect_insert(table).values({c.name: bindparam(c.name) for c in table.c})
        self._ensure = Prepared.compile(full.on_conflict_do_nothing(index_elements=["bucket"]), database.writer)
        # The level as the driver gives it (a float in both): psycopg's numeric processor needs the column's OID.
        level = type_coerce(table.c.level, NullType())
        read = select(table.c.period, level, table.c.updated_at).where(table.c.bucket == bindparam("key"))
        # Locked (PostgreSQL) so two replicas never both take the same tokens; SQLite has one writer anyway.
        self._read = Prepared.compile(read.with_for_update(), database.writer)
        write = update(table).where(table.c.bucket == bindparam("key"))
        self._write = Prepared.compile(
            write.values(period=bindparam("p"), level=bindparam("l"), updated_at=bindparam("u")), database.writer
        )

    def lease(self, tx: UnitOfWork, bucket: str, spec: MeterSpec, now: datetime, wanted: int | None = None) -> Lease:
        """Take a batch of ``spec`` (or ``wanted`` tokens) from ``bucket``."""
        with tx.cursor() as cursor:
            return self.lease_on(cursor, [(bucket, spec, spec.batch if wanted is None else wanted)], now)[0]

    def lease_on(self, cursor: Any, asks: Sequence[tuple[str, MeterSpec, int]], now: datetime) -> list[Lease]:
        """Take tokens from several buckets (bucket, spec, tokens wanted) on a write transaction's cursor: an
        account's meters at one commit. A missing bucket is made full first. Rows are locked in the order of
        their names, so two replicas leasing overlapping buckets never wait on each other in a cycle."""
        leases: dict[int, Lease] = {}
        for index in sorted(range(len(asks)), key=lambda i: asks[i][0]):
            bucket, spec, wanted = asks[index]
            full = {"bucket": bucket, "period": spec.period, "level": float(spec.capacity), "updated_at": now}
            self._ensure.execute_many(cursor, [full])
            period, level, updated_at = self._read.rows(cursor, {"key": bucket})[0]
            leases[index] = taken = lease(Bucket(period, level, updated_at), spec, wanted, now)
            left = taken.bucket
            self._write.execute_many(cursor, [{"key": bucket, "p": left.period, "l": left.level, "u": left.updated_at}])
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
