"""Warnings before trust material expires, at a real node: health, the metrics endpoint and the log.

Issue 13, "No warning before expiry": a manifest expiring tomorrow turns
health to warning and is in the metrics, and the log records it once per
day. The 30-day horizon is the issue's default (unverified: DOMAIN.md names
none). The node's clock is the test's (no sleeps): the manifest is signed to
expire a day after it, and the clock moves a day.
"""

from __future__ import annotations

import asyncio
import dataclasses
import urllib.request
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client.parser import text_string_to_metric_families

from share_gateway.api.server import TRUST_MATERIAL_SERVICE
from share_gateway.client import credentials, open_channel
from share_gateway.config import NodeConfig
from share_gateway.config_operations import MetricsSettings
from share_gateway.crypto.keys import KeyRing
from share_gateway.devkit import Layout
from share_gateway.domain.events import Event, EventKind, Outcome, format_instant
from share_gateway.federation.manifest import open_manifest, sign_manifest
from share_gateway.node import Node, start_node
from share_gateway.store.database import migrate, open_database
from share_gateway.store.log import LogStore
from share_gateway.store.repositories import Store
from tests.waiting import PATIENCE, eventually

START = datetime.now(UTC).replace(microsecond=0)


class Clock:
    """The node's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def end_of_day(at: datetime) -> datetime:
    return datetime.combine(at.date() + timedelta(days=1), datetime.min.time(), UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def manifest_expiring(federation: Layout, path: Path, expires: datetime) -> Path:
    """The federation's manifest, one version up, signed by its authority to expire at ``expires``."""
    authority = federation.authority()
    current = open_manifest(federation.manifest.read_bytes(), KeyRing([authority.verifying_key])).manifest
    renewed = dataclasses.replace(current, version=current.version + 1, expires=expires)
    path.write_bytes(sign_manifest(renewed, authority))
    return path


def with_metrics(config: NodeConfig) -> NodeConfig:
    return dataclasses.replace(config, metrics=MetricsSettings("127.0.0.1:0"))


@pytest.fixture
async def expiring_node(
    node_config: NodeConfig, federation: Layout, tmp_path: Path, clock: Clock
) -> AsyncIterator[Node]:
    """A node whose manifest expires a day after its clock reads, serving metrics on a free port."""
    manifest = manifest_expiring(federation, tmp_path / "manifest.signed", START + timedelta(days=1))
    node = await start_node(with_metrics(dataclasses.replace(node_config, manifest=manifest)), clock)
    yield node
    await node.stop(grace=0)


async def health(node: Node, federation: Layout, service: str) -> int:
    """The status the node's public port reports for ``service`` (server TLS only, as a probe connects)."""
    channel = open_channel(f"localhost:{node.public_port}", credentials(None, None, federation.ca_certificate))
    async with channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=5
        )
    return int(reply.status)


async def scrape(node: Node) -> dict[tuple[str, str], float]:
    """The node's metrics over real HTTP, as Prometheus reads them: (metric, artefact) → value."""
    url = f"http://127.0.0.1:{node.metrics_port}/metrics"

    def get() -> str:
        with urllib.request.urlopen(url, timeout=5) as response:
            return str(response.read().decode())

    text = await asyncio.to_thread(get)
    return {
        (sample.name, sample.labels["artefact"]): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if family.name.startswith("share_gateway_trust_")
    }


async def watch_until(node: Node, federation: Layout, service: str, status: int) -> None:
    """Follow the health ``Watch`` stream of ``service`` until it reports ``status`` (a probe that waits)."""
    channel = open_channel(f"localhost:{node.public_port}", credentials(None, None, federation.ca_certificate))
    async with channel:
        async for reply in health_pb2_grpc.HealthStub(channel).Watch(
            health_pb2.HealthCheckRequest(service=service), timeout=PATIENCE
        ):
            if reply.status == status:
                return
    raise AssertionError(f"{service} never reported {status}")


def warnings(store: Store) -> list[Event]:
    """The trust_material_expiring events in the node's log, in order."""
    events = (Event.from_bytes(body) for _, body in store.events.read(limit=100_000))
    return [event for event in events if event.kind is EventKind.TRUST_MATERIAL_EXPIRING]


SERVING, NOT_SERVING = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING


async def test_a_manifest_expiring_tomorrow_turns_trust_health_to_not_serving_and_is_in_the_metrics(
    expiring_node: Node, federation: Layout
) -> None:
    """Issue 13: health warns (the TrustMaterial name, while the node and its services stay SERVING) and the
    gauges say which artefact and how long it has left, scraped from the real endpoint."""
    node = expiring_node
    assert await health(node, federation, TRUST_MATERIAL_SERVICE) == NOT_SERVING
    for service in ("", "share_gateway.v1.InquiryService", "share_gateway.v1.PeerService"):
        assert await health(node, federation, service) == SERVING, service
    metrics = await scrape(node)
    assert metrics["share_gateway_trust_expiring", "manifest"] == 1.0
    assert metrics["share_gateway_trust_expiry_seconds", "manifest"] == 86400.0
    for artefact in ("catalog", "revocation_list", "tls_certificate", "ca_certificate"):
        assert metrics["share_gateway_trust_expiring", artefact] == 0.0, artefact
    assert metrics["share_gateway_trust_expiry_seconds", "tls_certificate"] > 800 * 86400
    # The catalog and the revocation list carry no expiry: no seconds are invented for them.
    assert ("share_gateway_trust_expiry_seconds", "catalog") not in metrics
    assert ("share_gateway_trust_expiry_seconds", "revocation_list") not in metrics


async def test_an_expiring_manifest_is_logged_once_per_day_and_again_the_next_day(
    expiring_node: Node, clock: Clock
) -> None:
    """One ``trust_material_expiring`` event per artefact per UTC day: a second look the same day adds none;
    a day later (the manifest now expired) the loop logs the next one."""
    node = expiring_node
    store = node.gateway.store
    await eventually(lambda: len(warnings(store)) == 1)
    (first,) = warnings(store)
    assert node.gateway.manifest is not None
    version = f"version {node.gateway.manifest.manifest.version}"
    assert (first.details["artefact"], first.details["id"], first.details["state"]) == ("manifest", version, "expiring")
    assert first.details["expires_at"] == format_instant(START + timedelta(days=1))
    assert first.outcome is Outcome.ALLOWED
    assert await node.gateway.trust.check() == 0
    assert len(warnings(store)) == 1
    clock.now += timedelta(days=1)
    node.gateway.trust.loop.wake()
    await eventually(lambda: len(warnings(store)) == 2)
    second = warnings(store)[1]
    assert (second.details["artefact"], second.details["state"], second.outcome) == (
        "manifest", "expired", Outcome.DENIED,
    )  # fmt: skip
    assert await node.gateway.trust.check() == 0
    assert len(warnings(store)) == 2


async def test_a_restart_on_the_same_day_does_not_repeat_the_days_warning(
    node_config: NodeConfig, federation: Layout, tmp_path: Path, clock: Clock
) -> None:
    """The day's warnings are read back from the log: a node restarted the same day logs none again."""
    manifest = manifest_expiring(federation, tmp_path / "manifest.signed", START + timedelta(days=1))
    config = dataclasses.replace(node_config, manifest=manifest)
    node = await start_node(config, clock)
    try:
        await eventually(lambda: len(warnings(node.gateway.store)) == 1)
    finally:
        await node.stop(grace=0)
    clock.now += min(timedelta(hours=1), (end_of_day(START) - START) / 2)  # later, but the same UTC day
    node = await start_node(config, clock)
    try:
        assert await node.gateway.trust.check() == 0
        assert len(warnings(node.gateway.store)) == 1
        assert [s.material.artefact.value for s in node.gateway.trust.warning()] == ["manifest"]
    finally:
        await node.stop(grace=0)


async def test_trust_material_far_from_expiry_gives_no_warning_until_the_horizon_reaches_it(
    node_config: NodeConfig, federation: Layout, tmp_path: Path, clock: Clock
) -> None:
    """A manifest of 90 days (the development federation's) and the certificates lie beyond the 30-day horizon:
    no warning anywhere; 61 days on, the same manifest is within it, and health changes as time passes."""
    manifest = manifest_expiring(federation, tmp_path / "manifest.signed", START + timedelta(days=90))
    node = await start_node(with_metrics(dataclasses.replace(node_config, manifest=manifest)), clock)
    try:
        assert await health(node, federation, TRUST_MATERIAL_SERVICE) == SERVING
        assert await node.gateway.trust.check() == 0
        metrics = await scrape(node)
        assert {artefact for (name, artefact), value in metrics.items() if name.endswith("expiring") and value} == set()
        assert metrics["share_gateway_trust_expiry_seconds", "manifest"] > 60 * 86400
        await node.gateway.runtime.event_log.drain()
        assert warnings(node.gateway.store) == []
        clock.now += timedelta(days=61)
        await watch_until(node, federation, TRUST_MATERIAL_SERVICE, NOT_SERVING)
        assert (await scrape(node))["share_gateway_trust_expiring", "manifest"] == 1.0
        await node.gateway.trust.check()
        await eventually(lambda: len(warnings(node.gateway.store)) == 1)
    finally:
        await node.stop(grace=0)


def warning_event(at: datetime, kind: EventKind = EventKind.TRUST_MATERIAL_EXPIRING) -> Event:
    details = {"artefact": "manifest", "id": "version 2", "expires_at": format_instant(at + timedelta(days=1))}
    return Event(str(uuid.uuid4()), kind, at, "110000", "sgw://node/110000", Outcome.ALLOWED, details=details)


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_the_days_warnings_are_read_back_from_the_log_integrated_or_not(
    database: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """What a restarted node reads to not repeat a warning: events of the kind since the day began, whether the
    sequencer integrated them yet or not; yesterday's and other kinds' are not among them."""
    url = f"sqlite:///{tmp_path / 'log.db'}" if database == "sqlite" else request.getfixturevalue("fresh_postgres")
    opened = open_database(url)
    try:
        migrate(opened)
        store, log = Store(opened), LogStore(opened)
        day = datetime(2026, 12, 1, tzinfo=UTC)
        yesterday, integrated, other = (
            warning_event(day - timedelta(seconds=1)),
            warning_event(day),
            warning_event(day + timedelta(hours=1), EventKind.AUDIT),
        )
        store.append([yesterday, integrated, other])
        log.integrate()
        pending = warning_event(day + timedelta(hours=2))
        store.append([pending])
        assert log.pending() == 1
        found = {
            Event.from_bytes(body).event_id
            for body in store.events.of_kind_since(EventKind.TRUST_MATERIAL_EXPIRING, day)
        }
        assert found == {integrated.event_id, pending.event_id}
    finally:
        opened.dispose()
