"""Wiring of one node: database, catalog, keys, gateway, server."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from share_gateway import tracing
from share_gateway.api.health import NodeHealth
from share_gateway.api.metrics import MetricsServer, NodeMetrics, serve_metrics
from share_gateway.api.observe import Observer
from share_gateway.api.server import RunningServer, start_server
from share_gateway.catalog import open_catalog
from share_gateway.config import NodeConfig
from share_gateway.crypto.keyfiles import check_private_key
from share_gateway.crypto.keys import KeyRing, SigningKey
from share_gateway.federation.authority_rotation import authority_keys, rotations_beside
from share_gateway.federation.manifest import SignedManifest, open_manifest
from share_gateway.gateway import Clock, Gateway, NodeRuntime, utc_now
from share_gateway.gateway.certificates import RevocationSettings
from share_gateway.gateway.conformance import ConformanceSweep
from share_gateway.gateway.health import HealthChecks, database_reachable
from share_gateway.gateway.leadership import Leadership
from share_gateway.gateway.trust_live import check_manifest, log_sweep
from share_gateway.store.database import Database, migrate, open_configured
from share_gateway.store.repositories import Store

log = logging.getLogger(__name__)


@dataclass
class Node:
    config: NodeConfig
    database: Database
    gateway: Gateway
    server: RunningServer
    # Prometheus metrics over HTTP, where ``metrics.listen`` is configured.
    metrics: MetricsServer | None = None
    # Whether this node began the process's tracing (and so ends it at stop).
    traces: bool = False

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def metrics_port(self) -> int | None:
        return None if self.metrics is None else self.metrics.port

    @property
    def public_port(self) -> int | None:
        return self.server.public_port

    @property
    def health_port(self) -> int | None:
        """The plain port serving only health (``health.listen``), if configured."""
        return self.server.health.plain_port

    async def drain(self, delay: float, cut_short: asyncio.Event | None = None) -> None:
        """Health NOT_SERVING while the node still answers, for ``delay`` seconds or until ``cut_short`` is set:
        the time load balancers take to stop sending here."""
        await self.server.drain()
        if delay > 0 and cut_short is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(cut_short.wait(), delay)
        elif delay > 0:
            await asyncio.sleep(delay)

    async def stop(self, grace: float = 5.0, sequencer_seconds: float | None = None) -> None:
        """Take no new call and give those in flight ``grace`` seconds; then stop the loops, and let the sequencer
        integrate what is left for at most ``sequencer_seconds`` (None: all of it)."""
        await self.server.stop(grace)
        if self.metrics is not None:  # scraped until the calls ended
            await asyncio.to_thread(self.metrics.stop)
        await self.server.health.stop()
        await self.gateway.close(sequencer_seconds)
        self.database.dispose()
        if self.traces:
            await asyncio.to_thread(tracing.stop_tracing)


def _authority(config: NodeConfig) -> KeyRing:
    """The authority key in force: the pinned one, followed through the rotations kept beside it."""
    return authority_keys(config.authority_key)


def _install_manifest(config: NodeConfig, store: Store, catalog_digest: str, now: datetime) -> SignedManifest | None:
    """Verify and install the configured manifest; refuse an older one, or one pinning another catalog."""
    if config.manifest is None:
        return None
    signed = open_manifest(config.manifest.read_bytes(), _authority(config))
    check_manifest(signed, config.region, catalog_digest)
    store.write(lambda tx: store.trust.install_manifest(tx, signed, now))
    return signed


def check_private_keys(config: NodeConfig) -> None:
    """Refuse to start on a private key others may read (``KeyExposed``); warn of one a group reads as a mounted
    secret. Before anything is opened: a node must not serve with keys someone else may already hold."""
    for path in (config.tls_key, config.signing_key, config.witness_key):
        if path is not None and (warning := check_private_key(path)) is not None:
            log.warning("%s", warning)


def _witness_key(config: NodeConfig) -> SigningKey | None:
    """The node's witness key, if configured; it must differ from its log key (C2SP: distinct cosigner keys)."""
    if config.witness_key is None:
        return None
    key = SigningKey.load(config.witness_key_name, config.witness_key)
    if key.verifying_key.raw == SigningKey.load(config.key_name, config.signing_key).verifying_key.raw:
        raise ValueError("witness_key must not be the node's signing_key")
    return key


def prepare_gateway(config: NodeConfig, clock: Clock = utc_now, keys_checked: bool = False) -> tuple[Database, Gateway]:
    """Open and migrate the database, load the node key, verify and install the catalog (sweeping if newer)."""
    if not keys_checked:
        check_private_keys(config)
    signed = open_catalog(config.catalog.read_bytes(), _authority(config))
    database = open_configured(config)
    try:
        migrate(database)
        store = Store(database)
        key = SigningKey.load(config.key_name, config.signing_key)
        runtime = NodeRuntime(
            config.region,
            key,
            store,
            clock=clock,
            principal_ttl=config.principal_ttl_seconds,
            witness_key=_witness_key(config),
        )
        # The manifest first: a node whose federation pins another catalog must refuse to start before
        # its records are swept against this one.
        manifest = _install_manifest(config, store, signed.digest, clock())
        log_sweep(ConformanceSweep(runtime).install(signed))
        revocations = RevocationSettings(
            _authority(config),
            config.revocation_list,
            config.revocation_poll_seconds,
            config.manifest,
            config.catalog,
            tuple(rotations_beside(config.authority_key)),
        )
        gateway = Gateway(
            runtime,
            signed,
            config.log,
            manifest,
            config.tls(),
            procedures=config.procedures,
            revocation_settings=revocations,
            federation_settings=config.federation,
            refusal_window_seconds=config.refusal_window_seconds,
            quota_settings=config.quotas,
            revocation_watch_settings=config.revocation_watch,
            trust_settings=config.trust,
            administrators=config.administrators,
        )
        # Before serving: no call is answered under an older list than the one installed (the manifest and catalog
        # files were just installed: this look finds them in force).
        gateway.trust_watch.load()
    except BaseException:
        database.dispose()
        raise
    return database, gateway


async def wait_for_database(config: NodeConfig) -> None:
    """Return once the node's database answers: a node started before its database waits (NOT_SERVING meanwhile)
    rather than exiting; a fault that waiting cannot mend (a wrong password) is raised at once."""
    database = open_configured(config)
    try:
        health = config.health
        await database_reachable(database, health.database_retry_most_seconds, health.database_timeout_seconds)
    finally:
        database.dispose()


async def start_node(config: NodeConfig, clock: Clock = utc_now) -> Node:
    check_private_keys(config)  # before the database is opened (or waited for): nothing is touched with exposed keys
    settings = config.tracing
    traces = tracing.start_tracing(
        settings.enabled, settings.service_name, config.region, settings.sample_ratio, settings.otlp_endpoint
    )
    health = NodeHealth()
    await health.starting()
    try:
        if config.health.listen is not None:
            port = await health.serve_plain(config.health.listen)
            log.info("node %s serving health without TLS on port %d", config.region, port)
        await wait_for_database(config)
        database, gateway = prepare_gateway(config, clock, keys_checked=True)
    except BaseException:
        await health.stop()
        if traces:
            tracing.stop_tracing()
        raise
    tls = config.tls()
    metrics = NodeMetrics.of(gateway)
    observer = Observer(metrics.rpc, logging.getLevelName(config.logging.access_level), config.region)
    try:
        if gateway.restore is not None:  # before the sequencer may publish anything
            await gateway.restore.check()
    except BaseException:
        await health.stop()
        await gateway.close()
        database.dispose()
        raise
    gateway.start()
    try:
        server = await start_server(
            gateway,
            tls,
            config.listen,
            config.public_listen,
            config.public_plaintext,
            config.max_message_bytes,
            config.health,
            health,
            interceptors=(observer,),
        )
    except BaseException:
        await health.stop()
        await gateway.close()
        database.dispose()
        if traces:
            tracing.stop_tracing()
        raise
    node = Node(config, database, gateway, server, traces=traces)
    if config.metrics.listen is not None:
        try:
            node.metrics = serve_metrics(config.metrics.listen, metrics.registry)
        except BaseException:
            await node.stop(grace=0)
            raise
    return node


async def run_sequencer(
    config: NodeConfig,
    stop: asyncio.Event,
    clock: Clock = utc_now,
    serving: Callable[[int | None, int | None], None] = lambda health, metrics: None,
) -> None:
    """Only the log's sequencer, as its own process beside nodes configured with ``log.sequencer: false``.

    Integration is CPU work in Python; in a process of its own it does not share
    an interpreter lock with the request path. It is run as a node is: health on
    ``health.listen`` (up while it waits for its database) and metrics on
    ``metrics.listen``; ``serving`` is told their ports once it runs.
    """
    check_private_keys(config)
    health = NodeHealth()
    await health.starting()
    metrics: MetricsServer | None = None
    try:
        if config.health.listen is not None:
            await health.serve_plain(config.health.listen)
        await wait_for_database(config)
        database = open_configured(config)
        try:
            migrate(database)
            key = SigningKey.load(config.key_name, config.signing_key)
            runtime = NodeRuntime(config.region, key, Store(database), clock=clock)
            settings = dataclasses.replace(config.log, sequencer=True)
            authority = _authority(config)
            catalog = open_catalog(config.catalog.read_bytes(), authority)
            # With the manifest, it asks the witnesses as a node does and holds the log after a restore not
            # acknowledged.
            manifest = None if config.manifest is None else open_manifest(config.manifest.read_bytes(), authority)
            gateway = Gateway(runtime, catalog, settings, manifest, config.tls(), federation_settings=config.federation)
            sequencer, restore = gateway.sequencer, gateway.restore
            if restore is not None:
                await restore.check()
                restore.loop.start()
            await health.follow(HealthChecks(gateway, config.health), (), None, config.health.interval_seconds)
            if config.metrics.listen is not None:
                metrics = serve_metrics(config.metrics.listen, NodeMetrics.of(gateway).registry)
            serving(health.plain_port, None if metrics is None else metrics.port)
            # It leads the region's log as a node would, taking over from (or handing over to) any other.
            leadership = Leadership(database.url, (), sequencer, settings.leader_retry_seconds)
            leadership.start()
            await stop.wait()
            await health.enter_graceful_shutdown()
            await leadership.end_campaign()
            if restore is not None:
                await restore.loop.stop()
            if gateway.federation is not None:
                await gateway.federation.clients.close()
            if leadership.leads:
                await sequencer.stop(config.shutdown.sequencer_seconds)
            await leadership.release()
            await runtime.close()
        finally:
            database.dispose()
    finally:
        if metrics is not None:
            await asyncio.to_thread(metrics.stop)
        await health.stop()
