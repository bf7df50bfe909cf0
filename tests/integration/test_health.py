"""Issue 14: health tells the truth per dependency, on the plain health port a Kubernetes probe reads.

The node's clock is the test's (``Clock``): a stalled sequencer or a stale
delivery is made by moving it, never by waiting for time to pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import socket
import threading
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from share_gateway.config import LogSettings, NodeConfig
from share_gateway.config_operations import HealthSettings
from share_gateway.crypto.note import parse_note
from share_gateway.devkit import Layout, free_ports
from share_gateway.gateway.failures import DATABASE
from share_gateway.node import Node, start_node
from share_gateway.store.deliveries import DeliveryKind
from share_gateway.store.unit_of_work import UnitOfWork
from share_gateway.v1 import inquiry_pb2_grpc
from tests.conftest import channels_to, seed_grants
from tests.federation import REGIONS
from tests.reflection import v1_services
from tests.support import inquiry
from tests.waiting import PATIENCE, POLL, eventually

SERVING, NOT_SERVING = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING
ORIGIN, PEERS = REGIONS[0], REGIONS[1:]


class Clock:
    def __init__(self) -> None:
        # Now, when the test starts (not when the module was imported): peers cosign on the real clock, and a
        # cosignature more than the federation's clock skew ahead of this one is refused.
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def with_health(config: NodeConfig, **settings: float) -> NodeConfig:
    """The node serving health on a plain port of its own, looking every 0.1 s."""
    return dataclasses.replace(config, health=HealthSettings("127.0.0.1:0", interval_seconds=0.1, **settings))


async def started(config: NodeConfig, clock: Clock) -> Node:
    node = await start_node(config, clock)
    seed_grants(node.gateway.store)
    return node


@pytest.fixture
async def stalled(node_config: NodeConfig, clock: Clock) -> AsyncIterator[Node]:
    """A node whose events no sequencer integrates (``log.sequencer: false`` and no sequencer process)."""
    config = with_health(dataclasses.replace(node_config, log=LogSettings(sequencer=False)), sequencer_lag_seconds=60)
    node = await started(config, clock)
    yield node
    await node.stop(grace=0)


@pytest.fixture
async def sequencing(node_config: NodeConfig, clock: Clock) -> AsyncIterator[Node]:
    node = await started(with_health(node_config, outbox_backlog_seconds=3600), clock)
    yield node
    await node.stop(grace=0)


async def health(node: Node, service: str) -> int | None:
    """What the node's plain health port says of ``service`` (None: no such name), without TLS, as a probe asks."""
    assert node.health_port is not None
    return await health_at(node.health_port, service)


async def health_at(port: int, service: str) -> int | None:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            reply = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=10
            )
        except grpc.aio.AioRpcError as error:
            if error.code() is grpc.StatusCode.NOT_FOUND:
                return None
            raise
    return int(reply.status)


async def until(node: Node, service: str, status: int) -> None:
    """Wait until the plain port says ``status`` of ``service`` (a probe polling it)."""
    deadline = time.monotonic() + PATIENCE
    while (seen := await health(node, service)) != status:
        if time.monotonic() > deadline:
            raise AssertionError(f"{service} stayed {seen}, not {status}, for {PATIENCE} s")
        await asyncio.sleep(POLL)


async def inquire(node: Node, federation: Layout) -> str:
    async with channels_to(node.port, federation) as connect:
        answer = await inquiry_pb2_grpc.InquiryServiceStub(connect("bank")).Inquire(
            inquiry("public_lookup"), timeout=10
        )
    return answer.inquiry_id


HEALTHY = (
    "",
    "share_gateway.Readiness",
    "share_gateway.Liveness",
    "share_gateway.Database",
    "share_gateway.Sequencer",
    "share_gateway.Outbox",
    "share_gateway.Manifest",
    "share_gateway.TrustMaterial",
    "share_gateway.v1.InquiryService",
)


async def test_a_healthy_node_reports_each_dependency_serving_on_the_plain_port(
    sequencing: Node, federation: Layout
) -> None:
    await inquire(sequencing, federation)
    for service in HEALTHY:
        await until(sequencing, service, SERVING)
    # A region of its own in the manifest: no peer to cosign, so no peer names.
    assert await health(sequencing, "share_gateway.Peer.310000") is None


async def test_the_plain_port_reflects_health_under_reflection_v1(sequencing: Node) -> None:
    """Issue 15 item 7: grpcurl asks the plain port without a .proto file, and asks reflection v1 first."""
    assert sequencing.health_port is not None
    async with grpc.aio.insecure_channel(f"127.0.0.1:{sequencing.health_port}") as channel:
        assert await v1_services(channel) == {
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
            "grpc.reflection.v1alpha.ServerReflection",
        }


async def test_a_stalled_sequencer_is_not_serving_while_the_node_stays_ready(
    stalled: Node, federation: Layout, clock: Clock
) -> None:
    """The events wait for a tree nobody builds: the Sequencer name says so once the oldest waited past the limit,
    and the node still answers (readiness is the database and the trust material, not the log's lag)."""
    await inquire(stalled, federation)
    await until(stalled, "share_gateway.Sequencer", SERVING)  # waiting, but not yet for long
    clock.now += timedelta(seconds=61)
    await until(stalled, "share_gateway.Sequencer", NOT_SERVING)
    for service in ("", "share_gateway.Readiness", "share_gateway.Liveness", "share_gateway.v1.InquiryService"):
        assert await health(stalled, service) == SERVING, service
    assert await inquire(stalled, federation)


async def test_the_sequencers_alarm_is_not_serving_and_the_process_stays_live(
    sequencing: Node, federation: Layout
) -> None:
    """A stored tree that no longer extends the last checkpoint: the sequencer refuses to sign (its alarm), and
    health says so; liveness stays SERVING, since a restart would meet the same tree."""
    node = sequencing
    await inquire(node, federation)
    await eventually(lambda: node.gateway.store.log.latest_checkpoint() is not None)
    await until(node, "share_gateway.Sequencer", SERVING)

    def forge(tx: UnitOfWork) -> None:
        tx.connection.exec_driver_sql("UPDATE log_nodes SET hash = ?", (os.urandom(32),))

    node.gateway.store.write(forge)
    await inquire(node, federation)
    await eventually(lambda: node.gateway.sequencer.alarm is not None)
    await until(node, "share_gateway.Sequencer", NOT_SERVING)
    assert await health(node, "share_gateway.Liveness") == SERVING
    assert await health(node, "") == SERVING


async def test_dead_letters_and_an_old_delivery_make_the_outbox_not_serving(sequencing: Node, clock: Clock) -> None:
    node, outbox = sequencing, sequencing.gateway.store.outbox
    await until(node, "share_gateway.Outbox", SERVING)
    node.gateway.store.write(lambda tx: outbox.queue(tx, DeliveryKind.RECORD, "record-1", ["310000"], clock.now))
    await until(node, "share_gateway.Outbox", SERVING)  # pending, but not for long
    clock.now += timedelta(seconds=3601)
    await until(node, "share_gateway.Outbox", NOT_SERVING)
    clock.now -= timedelta(seconds=3601)
    await until(node, "share_gateway.Outbox", SERVING)
    (pending,) = outbox.undelivered()
    node.gateway.store.write(lambda tx: outbox.dead_lettered(tx, pending.seq, clock.now, "refused for good"))
    await until(node, "share_gateway.Outbox", NOT_SERVING)
    assert await health(node, "") == SERVING


@pytest.fixture
async def witnessed(layout: Layout, clock: Clock) -> AsyncIterator[dict[str, Node]]:
    """Three regions witnessing each other; the first on the test's clock, serving health on a plain port."""
    nodes: dict[str, Node] = {}
    try:
        for region in REGIONS:
            config = NodeConfig.load(layout.node_config(region))
            if region == ORIGIN:
                nodes[region] = await started(with_health(config, cosignature_age_seconds=600), clock)
            else:
                nodes[region] = await start_node(config)
                seed_grants(nodes[region].gateway.store)
        yield nodes
    finally:
        for node in nodes.values():
            await node.stop(grace=0)


def latest_size(node: Node) -> int:
    latest = node.gateway.store.log.latest_checkpoint()
    return 0 if latest is None else latest.size


def cosigners(node: Node) -> int:
    """How many witnesses cosigned the node's latest checkpoint (its own log signature aside)."""
    latest = node.gateway.store.log.latest_checkpoint()
    return 0 if latest is None else len(parse_note(latest.note).signatures) - 1


async def test_a_peer_that_stopped_cosigning_is_not_serving_once_checkpoints_waited_past_the_limit(
    witnessed: dict[str, Node], layout: Layout, clock: Clock
) -> None:
    origin = witnessed[ORIGIN]
    await inquire(origin, layout)
    await eventually(lambda: cosigners(origin) == 2)
    for region in PEERS:
        await until(origin, f"share_gateway.Peer.{region}", SERVING)
    silent, cosigning = PEERS
    await witnessed.pop(silent).stop(grace=0)
    size = latest_size(origin)
    await inquire(origin, layout)
    await eventually(lambda: latest_size(origin) > size and cosigners(origin) == 1)
    await until(origin, f"share_gateway.Peer.{silent}", SERVING)  # it has not waited long yet
    clock.now += timedelta(seconds=601)
    await until(origin, f"share_gateway.Peer.{silent}", NOT_SERVING)
    assert await health(origin, f"share_gateway.Peer.{cosigning}") == SERVING
    assert await health(origin, "") == SERVING


async def test_an_expired_manifest_stops_federation_only_and_an_expired_certificate_makes_the_node_unready(
    sequencing: Node, clock: Clock
) -> None:
    """Past the manifest's expiry the node still answers its own region (ready), but PeerService and the Manifest
    name are NOT_SERVING; past its TLS certificate's notAfter no client could connect: not ready."""
    node = sequencing
    await until(node, "share_gateway.v1.PeerService", SERVING)
    manifest = node.gateway.manifest_in_force()
    assert manifest is not None
    clock.now = manifest.manifest.expires + timedelta(seconds=1)
    await until(node, "share_gateway.Manifest", NOT_SERVING)
    assert await health(node, "share_gateway.v1.PeerService") == NOT_SERVING
    assert await health(node, "") == SERVING
    assert await health(node, "share_gateway.v1.InquiryService") == SERVING
    (certificate,) = [s for s in node.gateway.trust.standings() if s.material.artefact.value == "tls_certificate"]
    assert certificate.material.expires is not None
    clock.now = certificate.material.expires + timedelta(seconds=1)
    for service in ("", "share_gateway.Readiness", "share_gateway.v1.InquiryService"):
        await until(node, service, NOT_SERVING)
    assert await health(node, "share_gateway.Liveness") == SERVING


class SilentDatabase:
    """A database behind a firewall that lets connections in and never answers: it takes each connection, counts
    it, and says nothing."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.taken: list[socket.socket] = []
        threading.Thread(target=self._take, daemon=True).start()

    def _take(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                self.taken.append(self.listener.accept()[0])

    def close(self) -> None:
        self.listener.close()
        for connection in self.taken:
            connection.close()


async def test_a_node_whose_database_never_answers_waits_not_serving_tries_again_and_says_so_once(
    node_config: NodeConfig, caplog: pytest.LogCaptureFixture
) -> None:
    """Each try of the start is given up after ``database_timeout_seconds`` (the connection's own timeout ends
    it), the node tries again with a new connection, answers NOT_SERVING meanwhile, and logs one line."""
    silent = SilentDatabase()
    port = free_ports(1)[0]
    url = f"postgresql+psycopg://postgres@127.0.0.1:{silent.port}/test?connect_timeout=1"
    health = HealthSettings(f"127.0.0.1:{port}", database_timeout_seconds=0.2, database_retry_most_seconds=0.2)
    DATABASE.recovered()  # an outage another test left open in this process
    caplog.set_level(logging.WARNING, "share_gateway.database")
    starting = asyncio.ensure_future(start_node(dataclasses.replace(node_config, database=url, health=health)))
    try:
        await eventually(lambda: len(silent.taken) >= 3)
        assert await health_at(port, "share_gateway.Readiness") == NOT_SERVING
        assert await health_at(port, "share_gateway.Database") == NOT_SERVING
        assert await health_at(port, "share_gateway.Liveness") == SERVING
        assert not starting.done(), "it waits rather than fails"
    finally:
        starting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await starting
        silent.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "share_gateway.database"]
    assert len(lines) == 1, lines
    assert lines[0].startswith("database unreachable: "), lines
