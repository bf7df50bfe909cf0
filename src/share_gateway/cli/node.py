"""``serve`` and ``sequencer``: run a regional node, or only its log's sequencer, until SIGINT or SIGTERM;
``migrate``: bring a node's database to the current schema (as a deployment's migration job does).

On the signal a node drains (health NOT_SERVING for ``shutdown.drain_delay_seconds``), then stops with a grace
period for the calls in flight (README, "Stopping a node")."""

from __future__ import annotations

import argparse
import logging
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncio

    from share_gateway.cli.common import Commands
    from share_gateway.config import NodeConfig

log = logging.getLogger("share_gateway")


def add_commands(commands: Commands) -> None:
    serve = commands.add_parser("serve", help="run a regional node")
    serve.add_argument("--config", type=Path, required=True, help="the node's configuration (node.yaml)")
    serve.set_defaults(run=cmd_serve)

    sequencer = commands.add_parser("sequencer", help="run only the log's sequencer (with log.sequencer: false)")
    sequencer.add_argument("--config", type=Path, required=True, help="the node's configuration (node.yaml)")
    sequencer.set_defaults(run=cmd_sequencer)

    migrate = commands.add_parser("migrate", help="bring the node's database to the current schema, then exit")
    migrate.add_argument("--config", type=Path, required=True, help="the node's configuration (node.yaml)")
    migrate.set_defaults(run=cmd_migrate)


def _stop_on_signal() -> tuple[asyncio.Event, asyncio.Event]:
    """Two events: the first SIGINT or SIGTERM sets the first (the process stops gracefully), a second signal the
    second (an operator in a hurry: the drain ends at once; calls in flight still have their grace)."""
    import asyncio

    stop, again = asyncio.Event(), asyncio.Event()
    loop = asyncio.get_running_loop()

    def signalled() -> None:
        (again if stop.is_set() else stop).set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, signalled)
    return stop, again


async def _serve(config: NodeConfig) -> None:
    from share_gateway.node import start_node

    node = await start_node(config)
    stop, again = _stop_on_signal()
    public = f", public port {node.public_port}" if node.public_port else ""
    public += f", metrics port {node.metrics_port}" if node.metrics_port is not None else ""
    public += f", health port {node.health_port}" if node.health_port is not None else ""
    log.info("node %s serving mTLS on port %d%s", config.region, node.port, public)
    print(f"node {config.region} listening: mTLS port {node.port}{public}", flush=True)
    await stop.wait()
    shutdown = config.shutdown
    log.info("node %s draining: NOT_SERVING for %g s", config.region, shutdown.drain_delay_seconds)
    print(f"node {config.region} draining", flush=True)
    await node.drain(shutdown.drain_delay_seconds, again)
    log.info("node %s stopping: calls in flight have %g s to finish", config.region, shutdown.grace_seconds)
    print(f"node {config.region} stopping", flush=True)
    await node.stop(shutdown.grace_seconds, shutdown.sequencer_seconds)
    log.info("node %s stopped", config.region)


def cmd_serve(args: argparse.Namespace) -> None:
    import asyncio

    with _keys_checked():
        asyncio.run(_serve(_configured(args)))


async def _sequence(config: NodeConfig) -> None:
    from share_gateway.node import run_sequencer

    stop, _ = _stop_on_signal()

    def serving(health_port: int | None, metrics_port: int | None) -> None:
        ports = f", health port {health_port}" if health_port is not None else ""
        ports += f", metrics port {metrics_port}" if metrics_port is not None else ""
        print(f"sequencer of node {config.region} running{ports}", flush=True)

    await run_sequencer(config, stop, serving=serving)


def cmd_sequencer(args: argparse.Namespace) -> None:
    import asyncio

    with _keys_checked():
        asyncio.run(_sequence(_configured(args)))


def _configured(args: argparse.Namespace) -> NodeConfig:
    """The node's configuration (a wrong setting: ``ConfigError``, one line), its log lines formatted as it says."""
    from share_gateway.cli.logs import configure_logging
    from share_gateway.config import NodeConfig

    config = NodeConfig.load(args.config)
    configure_logging(config.logging, args.verbose)
    return config


def cmd_migrate(args: argparse.Namespace) -> None:
    """Migrate under the migration lock: safe beside replicas starting (they migrate under the same lock)."""
    from share_gateway.store.database import migrate, open_configured, schema_revision

    config = _configured(args)
    database = open_configured(config)
    try:
        before = schema_revision(database)
        migrate(database)
        after = schema_revision(database)
    finally:
        database.dispose()
    print(f"database of node {config.region} at revision {after} (was {before or 'empty'})", flush=True)


@contextmanager
def _keys_checked() -> Iterator[None]:
    """A key others may read stops the node with one line, not a traceback."""
    from share_gateway.cli.common import CommandError
    from share_gateway.crypto.keyfiles import KeyExposed

    try:
        yield
    except KeyExposed as error:
        raise CommandError(str(error)) from error
