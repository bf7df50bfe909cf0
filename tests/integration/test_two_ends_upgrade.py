"""Revision 0015 upgrades a database holding records of the old format: one disclosure end becomes both ends.

An old row's ``disclose_until`` is both its publication and its sharing end (the window it had is kept exactly), its
decision date the day its clock started, and the days between them its severity period; its format-2 statement
still verifies and discloses, and the sweeper ends it on the day it always would have ended. On SQLite and
PostgreSQL (NDRC Order No. 36 of 2025 for the two ends; formats are permanent, DESIGN.md section 5).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from share_gateway.api.convert import draft_from_wire
from share_gateway.catalog import sample_catalog_text
from share_gateway.crypto.disclosure import RecordStatement, disclose, seal_record, verify_disclosure
from share_gateway.crypto.keys import KeyRing, SigningKey
from share_gateway.domain.catalog import Catalog
from share_gateway.domain.records import Record, RecordStatus, admit_record
from share_gateway.gateway.runtime import NodeRuntime
from share_gateway.gateway.sweeper import DisclosureSweeper
from share_gateway.store.database import Database, migrate, open_database
from share_gateway.store.repositories import Store
from tests.integration.records_before_0015 import records_before_0015, row_before_0015, sealed_before_0015
from tests.support import REGION, penalty_request

CATALOG = Catalog.from_yaml(sample_catalog_text())
KEY = SigningKey.generate(f"share-gateway/node/{REGION}")
RECORDED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DECIDED = date(2026, 3, 1)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_at_0014(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A database migrated only as far as revision 0014, the last with one disclosure end."""
    url = f"sqlite:///{tmp_path / 'old.db'}" if request.param == "sqlite" else request.getfixturevalue("fresh_postgres")
    database = open_database(url)
    migrate(database, "0014")
    yield database
    database.dispose()


def old_penalty(record_id: str, severity: str) -> Record:
    """A penalty as it was admitted before the two ends: its minor tier published, one window."""
    request = penalty_request(record_id, severity=severity)
    request.legal_document.issued_on = request.legal_document.effective_on = DECIDED.isoformat()
    record = admit_record(
        CATALOG, draft_from_wire(request), record_id=record_id, origin_region=REGION, submitted_by="sgw://x",
        now=RECORDED,
    )  # fmt: skip
    # Before 0015 a minor record was published as long as it was shared.
    return record if severity != "minor" else replace(record, publish_until=record.share_until)


class Clock:
    def __init__(self) -> None:
        self.now = RECORDED

    def __call__(self) -> datetime:
        return self.now


async def test_0015_a_database_holding_old_format_records_upgrades_to_two_ends(database_at_0014: Database) -> None:
    general, minor = old_penalty("general", "general"), old_penalty("minor", "minor")
    sealed = {r.record_id: sealed_before_0015(r, seal_record(r, KEY), KEY) for r in (general, minor)}
    table = records_before_0015()
    with database_at_0014.writer.begin() as connection:
        for record in (general, minor):
            connection.execute(
                insert(table).values(**row_before_0015(record, sealed[record.record_id], record.record_id))
            )
    migrate(database_at_0014)
    store = Store(database_at_0014)
    upgraded = store.records.get(REGION, "general")
    assert upgraded is not None
    record = upgraded.record
    # The one end is both ends; the decision date the start; the days between them the severity period.
    assert record.publish_until == record.share_until == DECIDED + timedelta(days=365)
    assert (record.decided_on, record.period_start, record.period_days) == (DECIDED, DECIDED, 365)
    assert record.withdrawal is None
    # The format-2 statement still verifies, and reads with the same two ends.
    statement = verify_disclosure(
        disclose(upgraded.sealed, frozenset({"violation_type"})), KeyRing([KEY.verifying_key])
    ).statement
    assert statement.format == 2
    assert (statement.publish_until, statement.share_until, statement.period_days) == (
        record.publish_until, record.share_until, 365,
    )  # fmt: skip
    assert RecordStatement.from_bytes(upgraded.sealed.statement.payload).to_bytes() == upgraded.sealed.statement.payload
    # The inquiry path finds both, and the sweeper ends each on the day it always would have.
    assert [d.record_id for d in store.records.disclosable(record.subject)] == ["general", "minor"]
    clock = Clock()
    sweeper = DisclosureSweeper(NodeRuntime(REGION, KEY, store, clock=clock), CATALOG)
    clock.now = datetime.combine(DECIDED + timedelta(days=89), datetime.min.time(), UTC)
    assert await sweeper.sweep() == 0
    clock.now = datetime.combine(DECIDED + timedelta(days=90), datetime.min.time(), UTC)
    assert await sweeper.sweep() == 1
    assert [store.records.get(REGION, i).record.status for i in ("general", "minor")] == [  # type: ignore[union-attr]
        RecordStatus.ACTIVE,
        RecordStatus.EXPIRED,
    ]
