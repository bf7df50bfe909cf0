"""docs/operations.md, "Backup and restore": a node restored to before the latest checkpoint its witnesses cosigned
refuses to serve (health NOT_SERVING on ``share_gateway.Restore`` and readiness, calls UNAVAILABLE, no checkpoint
signed) until its operator runs ``node acknowledge-restore``; a node restarted on its own database serves at once.

One federation of three regions, each node ``share-gateway serve`` in its own process, for the module: the restart
happens at one region and the restore at another.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import closing
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from share_gateway.domain.events import EventKind
from share_gateway.federation.peers import error_info
from share_gateway.v1 import inquiry_pb2_grpc, registry_pb2_grpc
from tests.e2e.conftest import checkpoint_size, run
from tests.federation import channel
from tests.processes import Cluster, federation_cluster, logged
from tests.support import inquiry, penalty_request
from tests.waiting import PATIENCE, POLL, PROCESS_TEST_SECONDS, wait_until

pytestmark = pytest.mark.timeout(PROCESS_TEST_SECONDS)
RESTORED, RESTARTED, OTHER = "110000", "310000", "440000"
SERVING, NOT_SERVING = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with federation_cluster(tmp_path_factory.mktemp("restore") / "federation") as running:
        yield running


def _database(cluster: Cluster, region: str) -> Path:
    return cluster.layout.node_dir(region) / f"{region}.db"


def _witnessed(cluster: Cluster, witness: str, origin: str) -> int:
    """The size of ``origin``'s log that ``witness`` last cosigned (0 before any)."""
    with closing(sqlite3.connect(_database(cluster, witness))) as connection:
        row = connection.execute("SELECT size FROM witnessed WHERE origin = ?", (origin,)).fetchone()
    return 0 if row is None else int(row[0])


def _log_size(database: Path) -> int:
    with closing(sqlite3.connect(database)) as connection:
        return int(connection.execute("SELECT count(*) FROM log_entries").fetchone()[0])


async def _submit(cluster: Cluster, region: str, request_id: str) -> None:
    async with channel(cluster.layout, cluster.ports[region], "regulator") as agency:
        await registry_pb2_grpc.RegistryServiceStub(agency).SubmitRecord(penalty_request(request_id), timeout=10)


async def _health(
    cluster: Cluster, region: str, service: str
) -> health_pb2.HealthCheckResponse.ServingStatus.ValueType:
    async with channel(cluster.layout, cluster.ports[region], "bank") as bank:
        request = health_pb2.HealthCheckRequest(service=service)
        answer: health_pb2.HealthCheckResponse = await health_pb2_grpc.HealthStub(bank).Check(request, timeout=5)
    return answer.status


async def _inquire(cluster: Cluster, region: str) -> None:
    async with channel(cluster.layout, cluster.ports[region], "bank") as bank:
        await inquiry_pb2_grpc.InquiryServiceStub(bank).Inquire(
            inquiry("loan_underwriting", consent="AUTH-1"), timeout=10
        )


async def _until(condition: Callable[[], Awaitable[bool]], seconds: float = PATIENCE) -> None:
    """Wait for a condition that has to call a node, polling, for at most ``seconds``."""
    deadline = time.monotonic() + seconds
    while not await condition():
        assert time.monotonic() < deadline, f"not within {seconds} s"
        await asyncio.sleep(POLL)


async def _serves(cluster: Cluster, region: str) -> bool:
    restore = await _health(cluster, region, "share_gateway.Restore")
    return bool(restore == SERVING and await _health(cluster, region, "share_gateway.Readiness") == SERVING)


def _cosigned_by_both(cluster: Cluster, origin: str, size: int) -> bool:
    witnesses = [region for region in cluster.ports if region != origin]
    return all(_witnessed(cluster, witness, origin) >= size for witness in witnesses)


def _restore(backup: Path, database: Path) -> None:
    """Put the backup in place of the node's database, as a restore does (its WAL files belong to the old one)."""
    for suffix in ("-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(backup, database)


async def test_a_node_restarted_on_its_own_database_serves_at_once(cluster: Cluster) -> None:
    await _submit(cluster, RESTARTED, "restart-1")
    size = _log_size(_database(cluster, RESTARTED))
    wait_until(lambda: _cosigned_by_both(cluster, RESTARTED, size))
    cluster.processes.pop(RESTARTED).stop()
    cluster.start(RESTARTED)

    await _until(lambda: _serves(cluster, RESTARTED))
    await _inquire(cluster, RESTARTED)
    assert not [e for e in logged(cluster.layout, RESTARTED) if e.kind is EventKind.RESTORE_REFUSED]


async def test_a_node_restored_behind_its_witnesses_refuses_until_acknowledged(cluster: Cluster) -> None:
    layout, database = cluster.layout, _database(cluster, RESTORED)
    await _submit(cluster, RESTORED, "restore-1")
    wait_until(lambda: _cosigned_by_both(cluster, RESTORED, _log_size(database)))
    backup = database.parent / "backup.db"
    with closing(sqlite3.connect(database)) as live, closing(sqlite3.connect(backup)) as copy:
        live.backup(copy)  # what `sqlite3 node.db ".backup backup.db"` does, while the node runs
    backed_up = _log_size(backup)
    await _submit(cluster, RESTORED, "restore-2")
    wait_until(lambda: _cosigned_by_both(cluster, RESTORED, backed_up + 1))
    cosigned = max(_witnessed(cluster, witness, RESTORED) for witness in (RESTARTED, OTHER))
    cluster.processes.pop(RESTORED).stop()
    _restore(backup, database)

    cluster.start(RESTORED)
    # One line, before the node listens, saying what to do.
    [said] = [line for line in cluster.processes[RESTORED].output if "refuses to serve" in line]
    assert "node acknowledge-restore" in said
    assert await _health(cluster, RESTORED, "share_gateway.Restore") == NOT_SERVING
    assert await _health(cluster, RESTORED, "share_gateway.Readiness") == NOT_SERVING
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await _inquire(cluster, RESTORED)
    assert refused.value.code() is grpc.StatusCode.UNAVAILABLE
    assert f"before checkpoint {cosigned}" in (refused.value.details() or "")
    info = error_info(refused.value)
    assert info is not None
    assert info.reason == "RESTORE_UNACKNOWLEDGED"
    # Nothing was integrated or signed past the backup's log while refusing (the guard holds before the sequencer
    # ever starts, so this holds at any moment).
    assert (checkpoint_size(database) or 0) <= backed_up
    assert _log_size(database) == backed_up

    config = str(layout.node_config(RESTORED))
    acknowledged = run("node", "acknowledge-restore", "--config", config, "--operator", "ops")
    assert f"to {cosigned - 1}" in acknowledged.stdout

    await _until(lambda: _serves(cluster, RESTORED))
    await _inquire(cluster, RESTORED)
    events = logged(layout, RESTORED)
    [refusal] = [e for e in events if e.kind is EventKind.RESTORE_REFUSED]
    [acknowledgement] = [e for e in events if e.kind is EventKind.RESTORE_ACKNOWLEDGED]
    assert refusal.details["cosigned_size"] == acknowledgement.details["cosigned_size"] == str(cosigned)
    assert acknowledgement.details["refusal"] == refusal.event_id
    assert acknowledgement.details["operator"] == "ops"
    # Acknowledged once: nothing more to acknowledge, and a restart serves at once.
    again = run("node", "acknowledge-restore", "--config", config, check=False)
    assert again.returncode != 0
    assert "nothing to acknowledge" in again.stderr
    cluster.processes.pop(RESTORED).stop()
    cluster.start(RESTORED)
    await _until(lambda: _serves(cluster, RESTORED))
    await _inquire(cluster, RESTORED)
    assert len([e for e in logged(layout, RESTORED) if e.kind is EventKind.RESTORE_REFUSED]) == 1
    # The witnesses holding the checkpoint it departed from are not asked to cosign the new history: no alarm
    # in their logs (each request would be one; the node has published on the new history by now).
    await _submit(cluster, RESTORED, "restore-3")
    wait_until(lambda: (checkpoint_size(database) or 0) > cosigned)
    for witness in (RESTARTED, OTHER):
        assert not [e for e in logged(layout, witness) if e.kind is EventKind.CHECKPOINT_INCONSISTENT]


async def test_a_node_whose_witnesses_are_away_serves_and_checks_once_one_answers(tmp_path: Path) -> None:
    """A region starts alone (Restore UNKNOWN, yet ready and answering); a witness that comes up is asked then."""
    with federation_cluster(tmp_path / "federation", start=(RESTORED,)) as alone:
        assert await _health(alone, RESTORED, "share_gateway.Readiness") == SERVING
        assert await _health(alone, RESTORED, "share_gateway.Restore") == health_pb2.HealthCheckResponse.UNKNOWN
        await _inquire(alone, RESTORED)
        alone.start(OTHER)
        await _until(lambda: _serves(alone, RESTORED))
