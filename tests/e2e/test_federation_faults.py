"""Federation faults with every node in its own process: `share-gateway serve` per region, faulty peers, crashes.

Whatever fails, the answer says which regions are missing and why, and never waits past the client's deadline.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
import yaml
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy import select

from share_gateway.catalog import sample_catalog_text, sign_catalog
from share_gateway.client import verify_record_disclosure
from share_gateway.config import NodeConfig
from share_gateway.crypto.keys import KeyRing
from share_gateway.devkit import MANIFEST_DAYS, Layout, add_node, free_ports, write_manifest
from share_gateway.domain.events import EventKind
from share_gateway.store import schema
from share_gateway.store.database import open_database
from share_gateway.v1 import inquiry_pb2, inquiry_pb2_grpc, registry_pb2_grpc
from tests.federation import (
    INVALID,
    OK,
    REFUSED,
    REGIONS,
    TIMEOUT,
    UNAVAILABLE,
    channel,
    federated,
    peer_call,
    seed,
    signed_inquiry,
    statuses,
)
from tests.processes import Cluster, Process, federation_cluster, logged, prepare, serve_node
from tests.support import debtor_request, error_reason, inquiry
from tests.waiting import PROCESS_TEST_SECONDS, eventually

ASKER, HONEST, FAULTY = REGIONS
# Far beyond the node's own deadline for a peer (5 s), so that one binds.
CLIENT_DEADLINE = 30.0

pytestmark = pytest.mark.timeout(PROCESS_TEST_SECONDS)  # three nodes, each a process of its own


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    with federation_cluster(tmp_path / "federation") as running:
        yield running


def region_detail(answer: inquiry_pb2.InquireResponse, region: str) -> str:
    return next(r.detail for r in answer.regions if r.region == region)


def keys(cluster: Cluster) -> KeyRing:
    return KeyRing(cluster.layout.node_verifying_key(region) for region in REGIONS)


async def test_a_peer_killed_before_the_fan_out_is_reported_unavailable(cluster: Cluster) -> None:
    await seed(cluster.layout, cluster.ports)
    cluster.kill(FAULTY)
    started = time.monotonic()
    answer = await federated(cluster.layout, cluster.ports[ASKER], deadline=10)
    assert time.monotonic() - started < 5
    assert statuses(answer) == {ASKER: OK, HONEST: OK, FAULTY: UNAVAILABLE}
    assert len(answer.records) == 2


async def test_a_peer_killed_during_the_fan_out_is_reported_unavailable(cluster: Cluster) -> None:
    await seed(cluster.layout, cluster.ports)
    peer = cluster.replace(FAULTY, "slow", 60)
    started = time.monotonic()
    asking = asyncio.create_task(federated(cluster.layout, cluster.ports[ASKER], deadline=20))
    await asyncio.to_thread(peer.wait_for, "received")
    cluster.kill(FAULTY)
    answer = await asking
    assert time.monotonic() - started < 10
    assert statuses(answer) == {ASKER: OK, HONEST: OK, FAULTY: UNAVAILABLE}
    assert len(answer.records) == 2


async def test_a_peer_answering_after_the_deadline_never_holds_the_answer(cluster: Cluster) -> None:
    await seed(cluster.layout, cluster.ports)
    cluster.replace(FAULTY, "slow", 60)
    # The deadline the peer misses is the node's own for a peer (5 s). Were the client's the tighter one,
    # the node would keep only its 50 ms margin to log and reply, which a loaded machine overruns: the
    # client then got DEADLINE_EXCEEDED instead of an answer. The client's deadline is the integration
    # test's subject (test_a_slow_peer_never_stalls_the_answer_past_the_deadline, with a wider margin).
    started = time.monotonic()
    answer = await federated(cluster.layout, cluster.ports[ASKER], deadline=CLIENT_DEADLINE)
    assert time.monotonic() - started < CLIENT_DEADLINE
    assert statuses(answer) == {ASKER: OK, HONEST: OK, FAULTY: TIMEOUT}
    assert len(answer.records) == 2


async def test_a_peer_returning_a_changed_value_is_invalid_and_nothing_of_it_is_used(cluster: Cluster) -> None:
    await seed(cluster.layout, cluster.ports)
    cluster.replace(FAULTY, "forged")
    answer = await federated(cluster.layout, cluster.ports[ASKER])
    assert statuses(answer) == {ASKER: OK, HONEST: OK, FAULTY: INVALID}
    assert "penalty_amount" in region_detail(answer, FAULTY)
    origins = sorted(verify_record_disclosure(r, keys(cluster)).statement.origin_region for r in answer.records)
    assert origins == [ASKER, HONEST]


async def test_a_peer_presenting_another_regions_certificate_is_refused_both_ways(cluster: Cluster) -> None:
    await seed(cluster.layout, cluster.ports)
    # As a server: the certificate on the faulty region's endpoint names another region.
    cluster.replace(FAULTY, f"impostor:{HONEST}")
    answer = await federated(cluster.layout, cluster.ports[ASKER])
    assert statuses(answer) == {ASKER: OK, HONEST: OK, FAULTY: UNAVAILABLE}
    # As a client: a second certificate for the asking region, from the same CA, not the one the manifest pins.
    add_node(cluster.layout, ASKER, datetime.now(UTC))
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await peer_call(cluster.layout, cluster.ports[HONEST], ASKER).Inquire(
            signed_inquiry(cluster.layout, ASKER), timeout=5
        )
    assert error_reason(raised.value) == "CERTIFICATE_NOT_PINNED"


async def test_a_replayed_peer_request_is_refused_by_every_replica(cluster: Cluster, tmp_path: Path) -> None:
    await seed(cluster.layout, cluster.ports)
    # A second replica of the honest region: its own process and port, the same database, no sequencer.
    config = yaml.safe_load(cluster.layout.node_config(HONEST).read_text())
    [port] = free_ports(1)
    config |= {"listen": f"127.0.0.1:{port}", "public_listen": None, "log": {"sequencer": False}}
    replica_config = cluster.layout.node_dir(HONEST) / "replica.yaml"
    replica_config.write_text(yaml.safe_dump(config))
    replica = serve_node(replica_config)
    try:
        replica.wait_ready()
        request = signed_inquiry(cluster.layout, ASKER)
        first = await peer_call(cluster.layout, cluster.ports[HONEST], ASKER).Inquire(request, timeout=5)
        assert len(first.records) == 1
        for port_of_a_replica in (cluster.ports[HONEST], port):
            with pytest.raises(grpc.aio.AioRpcError) as raised:
                await peer_call(cluster.layout, port_of_a_replica, ASKER).Inquire(request, timeout=5)
            assert error_reason(raised.value) == "REPLAYED"
    finally:
        replica.stop()


async def test_an_expired_manifest_fails_closed(cluster: Cluster) -> None:
    write_manifest(cluster.layout, 2, datetime.now(UTC) - timedelta(seconds=1))
    cluster.kill(ASKER)
    cluster.start(ASKER)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await federated(cluster.layout, cluster.ports[ASKER])
    assert raised.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert "expired" in (raised.value.details() or "")
    # A peer calling it is told why, in the reason its courier reads as "the whole node, for now".
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await peer_call(cluster.layout, cluster.ports[ASKER], HONEST).Inquire(
            signed_inquiry(cluster.layout, HONEST), timeout=5
        )
    assert error_reason(refused.value) == "MANIFEST_EXPIRED"
    await eventually(
        lambda: any(
            e.kind is EventKind.PEER_REFUSED and e.reason == "MANIFEST_EXPIRED" and e.details["region"] == HONEST
            for e in logged(cluster.layout, ASKER)
        )
    )
    async with channel(cluster.layout, cluster.ports[ASKER], "bank") as probe:
        reply = await health_pb2_grpc.HealthStub(probe).Check(
            health_pb2.HealthCheckRequest(service="share_gateway.v1.PeerService"), timeout=5
        )
    assert reply.status == health_pb2.HealthCheckResponse.NOT_SERVING


async def test_peers_holding_different_catalogs_exchange_nothing(cluster: Cluster, tmp_path: Path) -> None:
    await seed(cluster.layout, cluster.ports)
    # The faulty region moved to catalog version 2 (and a manifest pinning it) ahead of the others.
    ahead = Layout(tmp_path / "ahead")
    shutil.copytree(cluster.layout.root, ahead.root)
    newer = sample_catalog_text().replace("version: 1\n", "version: 2\n", 1)
    ahead.catalog.write_bytes(sign_catalog(newer, ahead.authority()))
    write_manifest(ahead, 2, datetime.now(UTC) + timedelta(days=MANIFEST_DAYS))
    cluster.kill(FAULTY)
    prepare(ahead.node_config(FAULTY))
    moved = serve_node(ahead.node_config(FAULTY))
    moved.wait_ready()
    cluster.processes[FAULTY] = moved
    answer = await federated(cluster.layout, cluster.ports[ASKER])
    assert statuses(answer) == {ASKER: OK, HONEST: OK, FAULTY: REFUSED}
    assert "CATALOG_MISMATCH" in region_detail(answer, FAULTY)


def undelivered(config: Path) -> list[tuple[str, int]]:
    """(peer, attempts) of every delivery the node's outbox still holds, read from its database."""
    database = open_database(NodeConfig.load(config).database)
    try:
        with database.reader.connect() as connection:
            box = schema.outbox.c
            rows = connection.execute(select(box.peer, box.attempts).where(box.delivered_at.is_(None)))
            return [(r.peer, r.attempts) for r in rows]
    finally:
        database.dispose()


async def holds_the_listing(cluster: Cluster, region: str) -> bool:
    async with channel(cluster.layout, cluster.ports[region], "bank") as bank:
        answer = await inquiry_pb2_grpc.InquiryServiceStub(bank).Inquire(
            inquiry("loan_underwriting", consent="AUTH-1", record_types=("dishonest_judgment_debtor",)), timeout=5
        )
    origins = [verify_record_disclosure(r, keys(cluster)).statement.origin_region for r in answer.records]
    return origins == [ASKER]


async def test_a_node_crashed_with_undelivered_records_loses_nothing(cluster: Cluster) -> None:
    cluster.kill(HONEST)
    cluster.kill(FAULTY)
    async with channel(cluster.layout, cluster.ports[ASKER], "court") as court:
        await registry_pb2_grpc.RegistryServiceStub(court).SubmitRecord(debtor_request(), timeout=5)
    config = cluster.layout.node_config(ASKER)
    await eventually(lambda: sorted(peer for peer, attempts in undelivered(config) if attempts > 0) == [HONEST, FAULTY])
    cluster.kill(ASKER)  # a crash, with both deliveries still queued
    cluster.start(HONEST, FAULTY)
    assert not await holds_the_listing(cluster, HONEST)
    cluster.start(ASKER)
    await eventually(lambda: undelivered(config) == [])
    for region in (HONEST, FAULTY):
        assert await holds_the_listing(cluster, region)


def test_the_processes_helper_reports_a_node_that_never_starts() -> None:
    with pytest.raises(AssertionError, match="ended before"):
        Process([sys.executable, "-c", "print('no luck')"], "mTLS port").wait_ready()
