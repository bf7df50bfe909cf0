"""Two replicas of one region, each `share-gateway serve` in its own process on one PostgreSQL database, share a
requester's quota: together they never allow more than the daily volume, and at most one batch per other replica
is left unspent (the bound stated in gateway/quotas.py)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest
import yaml

from share_gateway.devkit import Layout, create_federation, free_ports
from share_gateway.domain.quotas import LEASE_SECONDS, LEASE_SHARE
from share_gateway.v1 import inquiry_pb2_grpc
from tests.federation import channel
from tests.processes import Process, prepare, serve_node
from tests.support import CALLERS, REGION, ROLES, error_reason, inquiry
from tests.waiting import PROCESS_TEST_SECONDS

pytestmark = [pytest.mark.timeout(PROCESS_TEST_SECONDS), pytest.mark.postgres]
PER_DAY = 40
PER_MINUTE = 6000
# The batch one lease takes (domain.quotas.meter_specs): half a second of the rate, at most a tenth of the limit.
BATCH = min(math.ceil(PER_MINUTE / 60 * LEASE_SECONDS), PER_DAY // LEASE_SHARE)


@pytest.fixture
def replicas(tmp_path: Path, fresh_postgres: str) -> Iterator[tuple[Layout, list[int]]]:
    layout = create_federation(
        tmp_path, [REGION], {n: c[0] for n, c in CALLERS.items()}, datetime.now(UTC), roles=ROLES
    )
    settings = yaml.safe_load(layout.node_config(REGION).read_text())
    settings |= {
        "database": fresh_postgres,
        "public_listen": None,
        "quotas": {
            "overrides": [
                {
                    "requester": CALLERS["person"][0].uri,
                    "purpose": "public_lookup",
                    "per_minute": PER_MINUTE,
                    "burst": 1000,
                    "per_day": PER_DAY,
                }
            ]
        },
    }
    processes: list[Process] = []
    ports: list[int] = []
    try:
        # One after the other, the sequencer in the first only (until replica start-up is fixed).
        for index, port in enumerate(free_ports(2)):
            config = layout.node_dir(REGION) / f"replica-{index}.yaml"
            log = {} if index == 0 else {"log": {"sequencer": False}}
            config.write_text(yaml.safe_dump(settings | {"listen": f"127.0.0.1:{port}"} | log))
            if index == 0:
                prepare(config)
            process = serve_node(config)
            processes.append(process)
            served = re.search(r"mTLS port (\d+)", process.wait_ready())
            assert served is not None
            ports.append(int(served.group(1)))
        yield layout, ports
    finally:
        for process in processes:
            process.stop()


async def test_two_replicas_on_one_postgresql_share_the_daily_volume(replicas: tuple[Layout, list[int]]) -> None:
    layout, ports = replicas
    allowed = dict.fromkeys(ports, 0)
    refused: list[grpc.aio.AioRpcError] = []
    for call in range(2 * PER_DAY):
        port = ports[call % 2]
        async with channel(layout, port, "person") as person:
            try:
                await inquiry_pb2_grpc.InquiryServiceStub(person).Inquire(inquiry("public_lookup"), timeout=10)
                allowed[port] += 1
            except grpc.aio.AioRpcError as error:
                refused.append(error)
    total = sum(allowed.values())
    # Never more than the limit across both; at most one batch lies unspent at the other replica.
    assert PER_DAY - BATCH <= total <= PER_DAY, allowed
    assert all(count > 0 for count in allowed.values())
    assert {error.code() for error in refused} == {grpc.StatusCode.RESOURCE_EXHAUSTED}
    assert {error_reason(error) for error in refused} == {"QUOTA_DAILY_VOLUME"}
