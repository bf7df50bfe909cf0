"""One configured clock skew for every comparison between nodes: a forwarded inquiry's freshness and the grant
it vouches for (the cross-process case, a node whose clock runs ahead, is in tests/e2e/test_peer_trust.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import grpc
import pytest

from share_gateway.config import FederationSettings, NodeConfig
from share_gateway.devkit import Layout
from share_gateway.node import Node, start_node
from tests.conftest import seed_grants
from tests.federation import peer_call, seed, signed_inquiry
from tests.support import error_reason

ANSWERING, ASKING = "310000", "110000"
SKEW = timedelta(seconds=30)


@pytest.fixture
async def answering(layout: Layout) -> AsyncIterator[Node]:
    config = NodeConfig.load(layout.node_config(ANSWERING))
    settings = FederationSettings(clock_skew_seconds=SKEW.total_seconds())
    node = await start_node(dataclasses.replace(config, federation=settings))
    seed_grants(node.gateway.store)
    try:
        yield node
    finally:
        await node.stop(grace=0)


async def test_an_inquiry_from_a_clock_ahead_within_the_skew_is_answered_under_its_grant(
    layout: Layout, answering: Node
) -> None:
    await seed(layout, {ANSWERING: answering})
    stub = peer_call(layout, answering, ASKING)
    ahead = datetime.now(UTC) + SKEW - timedelta(seconds=5)
    answer = await stub.Inquire(signed_inquiry(layout, ASKING, at=ahead), timeout=5)
    assert len(answer.records) == 1


@pytest.mark.parametrize("off", [SKEW + timedelta(seconds=5), -SKEW - timedelta(seconds=5)])
async def test_an_inquiry_beyond_the_configured_skew_is_refused_as_stale(
    layout: Layout, answering: Node, off: timedelta
) -> None:
    stub = peer_call(layout, answering, ASKING)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.Inquire(signed_inquiry(layout, ASKING, at=datetime.now(UTC) + off), timeout=5)
    assert error_reason(raised.value) == "REPLAYED"
