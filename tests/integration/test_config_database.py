"""The ``connections`` settings reach a real PostgreSQL server: pool size and statement timeout per session."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy
import yaml

from share_gateway.config import NodeConfig
from share_gateway.store.database import open_configured
from tests.unit.test_config import MINIMAL


@pytest.mark.postgres
def test_the_statement_timeout_is_set_on_every_session_and_keeps_the_urls_own_options(
    fresh_postgres: str, tmp_path: Path
) -> None:
    path = tmp_path / "node.yaml"
    connections = {"pool_size": 2, "statement_timeout_seconds": 0.25}
    path.write_text(yaml.safe_dump({**MINIMAL, "database": fresh_postgres, "connections": connections}))
    database = open_configured(NodeConfig.load(path, {}))
    try:
        with database.reader.connect() as connection:
            assert connection.exec_driver_sql("SHOW statement_timeout").scalar() == "250ms"
            # The fixture's URL puts the session in its own schema through the same libpq ``options``.
            assert connection.exec_driver_sql("SHOW search_path").scalar() == fresh_postgres.rpartition("%3D")[2]
            with pytest.raises(sqlalchemy.exc.OperationalError, match="statement timeout"):
                connection.exec_driver_sql("SELECT pg_sleep(5)")
        assert database.writer.pool.size() == 2  # type: ignore[attr-defined]
    finally:
        database.dispose()
