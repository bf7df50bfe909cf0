"""docs/operations.md, "Restoring without forking the log": the operator's check after a restore finds a database
restored to before the latest checkpoint its peers cosigned. A peer's witness state holds that checkpoint
(``witnessed``); ``audit verify --checkpoint`` with it passes on the log as it was, and fails, naming the lost
leaves, on the log restored from an older backup, which must not serve (its next checkpoints would fork)."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from share_gateway.devkit import Layout
from share_gateway.v1 import registry_pb2_grpc
from tests.e2e.conftest import run
from tests.federation import channel
from tests.processes import federation_cluster
from tests.support import penalty_request
from tests.waiting import PROCESS_TEST_SECONDS, wait_until

pytestmark = pytest.mark.timeout(PROCESS_TEST_SECONDS)
ORIGIN, WITNESS = "110000", "310000"


def _witnessed(database: Path) -> int:
    """The size of ORIGIN's log that WITNESS last cosigned (0 before any)."""
    with closing(sqlite3.connect(database)) as connection:
        row = connection.execute("SELECT size FROM witnessed WHERE origin = ?", (ORIGIN,)).fetchone()
    return 0 if row is None else int(row[0])


def _log_size(database: Path) -> int:
    with closing(sqlite3.connect(database)) as connection:
        return int(connection.execute("SELECT count(*) FROM log_entries").fetchone()[0])


def _restore(backup: Path, database: Path) -> None:
    """Put the backup in place of the node's database, as a restore does (its WAL files belong to the old one)."""
    for suffix in ("-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(backup, database)


async def _submit(layout: Layout, port: int, request_id: str) -> None:
    async with channel(layout, port, "regulator") as agency:
        await registry_pb2_grpc.RegistryServiceStub(agency).SubmitRecord(penalty_request(request_id), timeout=10)


async def test_a_restore_that_lost_cosigned_leaves_is_found_before_serving(tmp_path: Path) -> None:
    with federation_cluster(tmp_path / "federation", start=(ORIGIN, WITNESS), prepared=(ORIGIN, WITNESS)) as cluster:
        layout = cluster.layout
        origin_db = layout.node_dir(ORIGIN) / f"{ORIGIN}.db"
        witness_db = layout.node_dir(WITNESS) / f"{WITNESS}.db"
        await _submit(layout, cluster.ports[ORIGIN], "before-backup")
        wait_until(lambda: _witnessed(witness_db) > 0)
        backup = tmp_path / "backup.db"
        with closing(sqlite3.connect(origin_db)) as live, closing(sqlite3.connect(backup)) as copy:
            live.backup(copy)  # what `sqlite3 node.db ".backup backup.db"` does, while the node runs
        backed_up = _log_size(backup)
        await _submit(layout, cluster.ports[ORIGIN], "after-backup")
        wait_until(lambda: _witnessed(witness_db) > backed_up)
        cluster.processes.pop(ORIGIN).stop()
        with closing(sqlite3.connect(witness_db)) as connection:
            [note] = connection.execute("SELECT note FROM witnessed WHERE origin = ?", (ORIGIN,)).fetchone()
    cosigned = tmp_path / "cosigned.checkpoint"
    cosigned.write_bytes(note)
    config = str(layout.node_config(ORIGIN))

    kept = run("audit", "verify", "--config", config, "--checkpoint", str(cosigned))
    assert "verifies" in kept.stdout, "the log as it was holds every leaf the witness cosigned"

    _restore(backup, origin_db)
    restored = run("audit", "verify", "--config", config, "--checkpoint", str(cosigned), check=False)
    assert restored.returncode == 1, restored.stdout + restored.stderr
    assert f"covers more than the {backed_up} leaves left" in restored.stdout + restored.stderr
