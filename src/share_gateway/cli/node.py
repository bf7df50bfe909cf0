"""``serve`` and ``sequencer``: run a regional node, or only its log's sequencer, until SIGINT or SIGTERM;
``migrate``: bring a node's database to the current schema (as a deployment's migration job does)."""

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


def _stop_on_signal() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM: the process stops gracefully."""
    import asyncio

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return stop


async def _serve(config: NodeConfig) -> None:
    from share_gateway.node import start_node

    node = await start_node(config)
    stop = _stop_on_signal()
    public = f", public port {node.public_port}" if node.public_port else ""
    public += f", metrics port {node.metrics_port}" if node.metrics_port is not None else ""
    log.info("node %s serving mTLS on port %d%s", config.region, node.port, public)
    print(f"node {config.region} listening: mTLS port {node.port}{public}", flush=True)
    await stop.wait()
    log.info("node %s stopping", config.region)
    await node.stop()


def cmd_serve(args: argparse.Namespace) -> None:
    import asyncio

    from share_gateway.config import NodeConfig

    with _keys_checked():
        asyncio.run(_serve(NodeConfig.load(args.config)))


async def _sequence(config: NodeConfig) -> None:
    from share_gateway.node import run_sequencer

    stop = _stop_on_signal()
    print(f"sequencer of node {config.region} running", flush=True)
    await run_sequencer(config, stop)


def cmd_sequencer(args: argparse.Namespace) -> None:
    import asyncio

    from share_gateway.config import NodeConfig

    with _keys_checked():
        asyncio.run(_sequence(NodeConfig.load(args.config)))


def cmd_migrate(args: argparse.Namespace) -> None:
    """Migrate under the migration lock: safe beside replicas starting (they migrate under the same lock)."""
    from share_gateway.config import NodeConfig
    from share_gateway.store.database import migrate, open_database, schema_revision

    config = NodeConfig.load(args.config)
    database = open_database(config.database, sqlite_synchronous=config.sqlite_synchronous)
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
