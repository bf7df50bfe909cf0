"""Migration under a lock: processes (here threads, each with engines of its own) migrating one fresh database at
once all succeed, and the schema ends at head. Without the lock two of them both create ``alembic_version``."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from share_gateway.store.database import Database, alembic_config, migrate, open_database, schema_revision
from tests.waiting import PATIENCE

MIGRATORS = 4
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


def _migrate_together(url: str) -> list[BaseException]:
    """Each migrator opens its own database and all start migrating at the same moment; return what failed."""
    databases = [open_database(url, pool_size=1) for _ in range(MIGRATORS)]
    start = threading.Barrier(MIGRATORS)
    failures: list[BaseException] = []

    def run(database: Database) -> None:
        start.wait()
        try:
            migrate(database)
        except BaseException as error:  # noqa: BLE001 - the test reports every failure
            failures.append(error)

    threads = [threading.Thread(target=run, args=(database,), daemon=True) for database in databases]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(PATIENCE)
        assert not any(thread.is_alive() for thread in threads), "a migrator is stuck"
        assert schema_revision(databases[0]) == HEAD
    finally:
        for database in databases:
            database.dispose()
    return failures


@pytest.mark.postgres
def test_migrators_starting_together_on_a_fresh_postgresql_schema_all_succeed(fresh_postgres: str) -> None:
    # Without the lock migrators can wait on one another's catalog rows for ever: a lock timeout turns that into
    # a failure (and frees the schema for the fixture to drop).
    assert _migrate_together(f"{fresh_postgres}%20-clock_timeout%3D{int(PATIENCE * 500)}") == []


def test_migrators_starting_together_on_a_fresh_sqlite_file_all_succeed(tmp_path: Path) -> None:
    assert _migrate_together(f"sqlite:///{tmp_path / 'node.db'}") == []
    assert (tmp_path / "node.db.migrate.lock").exists()
