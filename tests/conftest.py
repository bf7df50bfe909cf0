"""Shared fixtures: a development federation on disk, real nodes on port 0, real channels."""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
import sqlalchemy

from share_gateway.client import credentials
from share_gateway.config import NodeConfig
from share_gateway.devkit import Layout, create_federation
from share_gateway.domain.policy import Grant
from share_gateway.node import Node, start_node
from share_gateway.store.repositories import Store
from share_gateway.store.unit_of_work import UnitOfWork
from tests.consents import consenting_channel
from tests.support import CALLERS, REGION, ROLES

POSTGRES_URL = os.environ.get("SHARE_GATEWAY_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def federation(tmp_path_factory: pytest.TempPathFactory) -> Layout:
    root = tmp_path_factory.mktemp("federation")
    return create_federation(
        root, [REGION], {name: c[0] for name, c in CALLERS.items()}, datetime.now(UTC), roles=ROLES
    )


@pytest.fixture(scope="session")
def foreign_client(tmp_path_factory: pytest.TempPathFactory) -> Layout:
    """A client whose certificate comes from another CA (same identity as the bank)."""
    root = tmp_path_factory.mktemp("foreign")
    return create_federation(root, [], {"bank": CALLERS["bank"][0]}, datetime.now(UTC))


def seed_grants(store: Store) -> None:
    """Register the test callers that have a kind and give them their grants.

    Written straight through the repository, as a database holding grants from before grants were logged
    holds them, so that a test counts only the events its own calls make. Every way the product changes
    grants logs the act (``enrol``, AdminService, the CLI): tests/integration/test_admin.py and
    test_storage.py check that.
    """
    now = datetime.now(UTC)

    def work(tx: UnitOfWork) -> None:
        for name, (identity, kind, grants) in CALLERS.items():
            if kind is None:
                continue
            store.grants.register(tx, identity.identifier, kind, name, now)
            for role, scope in grants:
                store.grants.add(tx, identity.identifier, Grant(role, scope, now - timedelta(days=1)), now)

    store.write(work)


@pytest.fixture
def node_config(federation: Layout, tmp_path: Path) -> NodeConfig:
    config = NodeConfig.load(federation.node_config(REGION))
    return dataclasses.replace(config, database=f"sqlite:///{tmp_path / 'node.db'}")


@pytest.fixture
async def node(node_config: NodeConfig) -> AsyncIterator[Node]:
    started = await start_node(node_config)
    seed_grants(started.gateway.store)
    yield started
    await started.stop(grace=0)


ChannelFactory = Callable[[str], grpc.aio.Channel]


@contextlib.asynccontextmanager
async def channels_to(port: int, federation: Layout) -> AsyncIterator[ChannelFactory]:
    """mTLS channels to the node on ``port`` as one of ``CALLERS`` (inquiries "with consent" carry the
    caller's attested one), all closed on the way out."""
    channels: list[grpc.aio.Channel] = []

    def factory(name: str) -> grpc.aio.Channel:
        files = federation.client(name)
        channel = consenting_channel(f"localhost:{port}", files, credentials(files.certificate, files.key, files.ca))
        channels.append(channel)
        return channel

    try:
        yield factory
    finally:
        for channel in channels:
            await channel.close()


@pytest.fixture
async def connect(node: Node, federation: Layout) -> AsyncIterator[ChannelFactory]:
    """Open an mTLS channel to the node as one of ``CALLERS``."""
    async with channels_to(node.port, federation) as factory:
        yield factory


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The real PostgreSQL server; skipped only when none is reachable and CI is unset."""
    engine = sqlalchemy.create_engine(POSTGRES_URL)
    try:
        with engine.connect():
            pass
    except sqlalchemy.exc.OperationalError as error:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no PostgreSQL reachable at {POSTGRES_URL}: {error}")
    finally:
        engine.dispose()
    return POSTGRES_URL


@pytest.fixture
def fresh_postgres(postgres_url: str) -> Iterator[str]:
    """An empty schema of its own on the real server, dropped afterwards."""
    schema = f"t_{os.getpid()}_{datetime.now(UTC).strftime('%H%M%S%f')}"
    admin = sqlalchemy.create_engine(postgres_url)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = f"{postgres_url}?options=-csearch_path%3D{schema}"
    try:
        yield url
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()
