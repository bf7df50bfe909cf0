"""The quota buckets in the database: a lease never takes more than the bucket holds, on SQLite and PostgreSQL,
and revision 0012 upgrades a database holding data."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from share_gateway.domain.quotas import DEFAULT_QUOTA, meter_specs
from share_gateway.store import schema
from share_gateway.store.database import Database, migrate, open_database
from share_gateway.store.repositories import Store

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LIMITS = DEFAULT_QUOTA.replaced(per_minute=600, burst=25, per_day=30)


def test_leases_take_batches_until_the_bucket_is_empty_and_the_rate_refills_it(store: Store) -> None:
    rate, daily, _ = meter_specs(LIMITS, NOW, 100)
    taken = [store.write(lambda tx: store.quotas.lease(tx, "daily|p|r", daily, NOW)).taken for _ in range(12)]
    assert sum(taken) == LIMITS.per_day
    assert taken[-1] == 0
    drained = [store.write(lambda tx: store.quotas.lease(tx, "rate|p|r", rate, NOW)).taken for _ in range(14)]
    assert sum(drained) == LIMITS.burst
    empty = store.write(lambda tx: store.quotas.lease(tx, "rate|p|r", rate, NOW))
    assert empty.taken == 0
    assert empty.retry_after == pytest.approx(0.1)
    later = NOW + timedelta(seconds=1)  # ten tokens back at 600 a minute
    refilled = [store.write(lambda tx: store.quotas.lease(tx, "rate|p|r", rate, later)).taken for _ in range(6)]
    assert sum(refilled) == 10
    # The next day's bucket is full again.
    tomorrow = meter_specs(LIMITS, NOW + timedelta(days=1), 100)[1]
    assert store.write(lambda tx: store.quotas.lease(tx, "daily|p|r", tomorrow, NOW + timedelta(days=1))).taken > 0


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_at_0010(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'old.db'}" if request.param == "sqlite" else request.getfixturevalue("fresh_postgres")
    database = open_database(url)
    migrate(database, "0010")
    yield database
    database.dispose()


def test_0012_a_database_holding_data_upgrades_with_empty_quota_buckets(database_at_0010: Database) -> None:
    with database_at_0010.writer.begin() as connection:
        connection.execute(insert(schema.peer_nonces).values(nonce="n-1", origin="310000", seen_at=NOW))
    migrate(database_at_0010)
    store = Store(database_at_0010)
    assert store.count("peer_nonces") == 1
    assert store.count("quota_buckets") == 0
    daily = meter_specs(LIMITS, NOW, 100)[1]
    assert store.write(lambda tx: store.quotas.lease(tx, "daily|p|r", daily, NOW)).taken == 3
    assert store.quotas.level("daily|p|r") is not None
