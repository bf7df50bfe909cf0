"""Fixtures for a three-region federation of real nodes, each on its own SQLite database and port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from share_gateway.config import NodeConfig
from share_gateway.devkit import Layout, create_federation, free_ports
from share_gateway.node import start_node
from tests.conftest import seed_grants
from tests.federation import REGIONS, Nodes
from tests.support import CALLERS, ROLES


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
