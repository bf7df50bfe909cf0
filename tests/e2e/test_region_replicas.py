"""Two replicas of one region, each `share-gateway serve` in its own process, started together on a fresh
PostgreSQL schema: both come up SERVING and one leads. SIGKILL of the leader hands the region to the other, whose
checkpoints go on covering every event, and the whole log verifies (`audit verify`)."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from alembic.script import ScriptDirectory
from grpc_health.v1 import health_pb2, health_pb2_grpc

from share_gateway.devkit import Layout, create_federation, free_ports
from share_gateway.store.database import alembic_config, open_database
from share_gateway.store.repositories import Store
from share_gateway.v1 import inquiry_pb2_grpc
from tests.conftest import seed_grants
from tests.e2e.conftest import run
from tests.federation import channel
from tests.processes import Process
from tests.support import CALLERS, REGION, ROLES, inquiry
from tests.waiting import PROCESS_TEST_SECONDS, wait_until

pytestmark = [pytest.mark.timeout(PROCESS_TEST_SECONDS), pytest.mark.postgres]
LEADING = "leading the region"


def replica(config: Path) -> Process:
    """`share-gateway -v serve`: verbose, so it says when it leads."""
    return Process([sys.executable, "-m", "share_gateway.cli", "-v", "serve", "--config", str(config)], "mTLS port")


def leads(process: Process) -> bool:
    return any(LEADING in line for line in process.output)


def logged_and_checkpointed(url: str) -> tuple[int, int]:
    """How many events the region logged, and the size of its latest checkpoint."""
    database = open_database(url, pool_size=1)
    try:
        store = Store(database)
        latest = store.log.latest_checkpoint()
        return len(store.events.read(limit=100_000)), 0 if latest is None else latest.size
    finally:
        database.dispose()


@pytest.fixture
def region(tmp_path: Path, fresh_postgres: str) -> Iterator[tuple[Layout, list[Path], list[Process]]]:
    """Two replicas' configurations on one fresh schema (nothing migrated), and the processes the test starts."""
    layout = create_federation(
        tmp_path, [REGION], {n: c[0] for n, c in CALLERS.items()}, datetime.now(UTC), roles=ROLES
    )
    settings = yaml.safe_load(layout.node_config(REGION).read_text()) | {
        "database": fresh_postgres,
        "public_listen": None,
    }
    configs = []
    for index, port in enumerate(free_ports(2)):
        config = layout.node_dir(REGION) / f"replica-{index}.yaml"
        config.write_text(yaml.safe_dump(settings | {"listen": f"127.0.0.1:{port}"}))
        configs.append(config)
    processes: list[Process] = []
    try:
        yield layout, configs, processes
    finally:
        for process in processes:
            process.stop()


async def _serving(layout: Layout, port: int) -> int:
    async with channel(layout, port, "person") as person:
        reply = await health_pb2_grpc.HealthStub(person).Check(health_pb2.HealthCheckRequest(service=""), timeout=10)
    return int(reply.status)


async def _inquire(layout: Layout, port: int, times: int) -> None:
    async with channel(layout, port, "person") as person:
        for _ in range(times):
            await inquiry_pb2_grpc.InquiryServiceStub(person).Inquire(inquiry("public_lookup"), timeout=10)


async def test_replicas_start_together_and_the_survivor_of_a_killed_leader_takes_over(
    region: tuple[Layout, list[Path], list[Process]], fresh_postgres: str
) -> None:
    layout, configs, processes = region
    processes += [replica(config) for config in configs]  # together, on a schema nobody migrated
    ports = []
    for process in processes:
        served = re.search(r"mTLS port (\d+)", process.wait_ready())
        assert served is not None
        ports.append(int(served.group(1)))
    for port in ports:
        assert await _serving(layout, port) == health_pb2.HealthCheckResponse.SERVING
    wait_until(lambda: any(leads(p) for p in processes))
    assert sum(leads(p) for p in processes) == 1, "one leader"
    leader = next(i for i, p in enumerate(processes) if leads(p))
    survivor = 1 - leader
    database = open_database(fresh_postgres, pool_size=1)
    try:
        seed_grants(Store(database))
    finally:
        database.dispose()
    for port in ports:
        await _inquire(layout, port, 3)
    wait_until(lambda: (counts := logged_and_checkpointed(fresh_postgres))[1] >= counts[0])
    before = logged_and_checkpointed(fresh_postgres)[1]

    processes[leader].kill()
    await _inquire(layout, ports[survivor], 3)
    wait_until(lambda: leads(processes[survivor]))
    # The new leader checkpoints everything logged, the dead leader's last events and its own.
    wait_until(lambda: (counts := logged_and_checkpointed(fresh_postgres))[1] >= counts[0] > before)
    verified = run("audit", "verify", "--config", str(configs[survivor]))
    assert "verifies" in verified.stdout, verified.stdout + verified.stderr


def test_migrate_brings_a_fresh_database_to_head_once(region: tuple[Layout, list[Path], list[Process]]) -> None:
    """What a deployment's migration job runs before the replicas start (they would migrate under the same lock)."""
    _, configs, _ = region
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert f"at revision {head} (was empty)" in run("migrate", "--config", str(configs[0])).stdout
    assert f"at revision {head} (was {head})" in run("migrate", "--config", str(configs[1])).stdout
