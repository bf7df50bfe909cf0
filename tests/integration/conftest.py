"""Fixtures for a three-region federation of real nodes, each on its own SQLite database and port."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

import grpc
import pytest

from share_gateway.config import NodeConfig
from share_gateway.devkit import Layout, create_federation, free_ports
from share_gateway.node import Node, start_node
from share_gateway.store import log as log_module
from share_gateway.store.database import migrate, open_database
from share_gateway.store.log import LogStore
from share_gateway.store.repositories import Store
from tests.conftest import channels_to, seed_grants
from tests.federation import REGIONS, Nodes
from tests.support import CALLERS, ROLES


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A migrated store on SQLite and, as a second parameter, on the real PostgreSQL server."""
    url = (
        f"sqlite:///{tmp_path / 'store.db'}" if request.param == "sqlite" else request.getfixturevalue("fresh_postgres")
    )
    database = open_database(url)
    migrate(database)
    yield Store(database)
    database.dispose()


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    clients = {name: c[0] for name, c in CALLERS.items()}
    ports = dict(zip(REGIONS, free_ports(len(REGIONS)), strict=True))
    return create_federation(tmp_path, REGIONS, clients, datetime.now(UTC), roles=ROLES, ports=ports)


@pytest.fixture
async def nodes(layout: Layout) -> AsyncIterator[Nodes]:
    started: Nodes = {}
    try:
        for region in REGIONS:
            started[region] = await start_node(NodeConfig.load(layout.node_config(region)))
            seed_grants(started[region].gateway.store)
        yield started
    finally:
        for node in started.values():
            await node.stop(grace=0)


Connect = Callable[[str], grpc.aio.Channel]


def integrate_before_0020(log: LogStore) -> None:
    """Integrate as a node did before the verifiable index (migration 0020), on a database not yet migrated to it:
    the same integration with the index's reading and writing left out."""
    with (
        mock.patch.object(log_module, "summaries", return_value=[]),
        mock.patch.object(log_module, "index_batch", return_value={}),
    ):
        log.integrate()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def any_node(request: pytest.FixtureRequest, node_config: NodeConfig) -> AsyncIterator[Node]:
    """A node on SQLite and, as a second parameter, on the real PostgreSQL server."""
    config = node_config
    if request.param == "postgresql":
        config = dataclasses.replace(node_config, database=request.getfixturevalue("fresh_postgres"))
    node = await start_node(config)
    seed_grants(node.gateway.store)
    yield node
    await node.stop(grace=0)


@pytest.fixture
async def dial(any_node: Node, federation: Layout) -> AsyncIterator[Connect]:
    async with channels_to(any_node.port, federation) as factory:
        yield factory
