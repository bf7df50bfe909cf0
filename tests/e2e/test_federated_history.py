""" "Who looked at me" across the federation, every node in its own process: one call gathers every region's
inquiries about the subject, reports each region's status, and both ends log the exchange."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from share_gateway.domain.events import EventKind
from share_gateway.v1 import inquiry_pb2, inquiry_pb2_grpc
from tests.federation import OK, REGIONS, UNAVAILABLE, channel, federated, seed
from tests.processes import Cluster, federation_cluster, logged
from tests.support import COMPANY, entity
from tests.waiting import PATIENCE, POLL, PROCESS_TEST_SECONDS

ASKER, OTHER, DOWN = REGIONS
BANK = "sgw://institution/91110000MA0000001L"

pytestmark = pytest.mark.timeout(PROCESS_TEST_SECONDS)  # three nodes, each a process of its own


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    with federation_cluster(tmp_path / "federation") as running:
        yield running


async def company_history(
    cluster: Cluster, page_size: int = 0, page_token: str = ""
) -> inquiry_pb2.GetInquiryHistoryResponse:
    request = inquiry_pb2.GetInquiryHistoryRequest(
        subject=entity(COMPANY),
        purpose="self_inquiry",
        scope=inquiry_pb2.INQUIRY_SCOPE_FEDERATION,
        page_size=page_size,
        page_token=page_token,
    )
    async with channel(cluster.layout, cluster.ports[ASKER], "company") as company:
        return await inquiry_pb2_grpc.InquiryServiceStub(company).GetInquiryHistory(request, timeout=30)


async def test_one_call_gathers_the_history_of_every_region(cluster: Cluster) -> None:
    await seed(cluster.layout, cluster.ports)
    answer = await federated(cluster.layout, cluster.ports[ASKER], deadline=30)
    assert {r.region: r.status for r in answer.regions} == dict.fromkeys(REGIONS, OK)

    seen: dict[str, inquiry_pb2.GetInquiryHistoryResponse] = {}

    async def look() -> bool:
        seen["history"] = await company_history(cluster)
        return {e.node for e in seen["history"].entries} == set(REGIONS)

    # Each region's sequencer integrates its own event (within its interval): ask until all three are in.
    await _until(look)
    history = seen["history"]
    assert {r.region: r.status for r in history.regions} == dict.fromkeys(REGIONS, OK)
    assert {(e.node, e.institution, e.actor_name, e.outcome) for e in history.entries} == {
        (region, BANK, "bank", "allowed") for region in REGIONS
    }
    assert history.total == 3
    stamps = [e.at.ToDatetime() for e in history.entries]
    assert stamps == sorted(stamps, reverse=True)

    # Both ends log it: each peer names the asking node and the request's digest; the asking node each region.
    for region in (OTHER, DOWN):
        answered = [e for e in logged(cluster.layout, region) if e.kind is EventKind.INQUIRY_HISTORY]
        assert answered
        assert all(e.details["via"] == f"sgw://node/{ASKER}" and e.details["request_digest"] for e in answered)
    asked = [e for e in logged(cluster.layout, ASKER) if e.kind is EventKind.INQUIRY_HISTORY]
    assert all(f"region:{r}" in asked[-1].details for r in (OTHER, DOWN))

    # A page at a time across regions: one entry per page, every region's entry reached once.
    pages, token = [], ""
    while True:
        page = await company_history(cluster, page_size=1, page_token=token)
        pages.append([(e.node, e.leaf_index) for e in page.entries])
        token = page.next_page_token
        if not token:
            break
    assert sorted(entry for page in pages for entry in page) == sorted((e.node, e.leaf_index) for e in history.entries)

    # A region that does not answer is reported, and the others still are.
    cluster.kill(DOWN)
    partial = await company_history(cluster)
    assert {r.region: r.status for r in partial.regions} == {ASKER: OK, OTHER: OK, DOWN: UNAVAILABLE}
    assert {e.node for e in partial.entries} == {ASKER, OTHER}


async def _until(check: Callable[[], Awaitable[bool]]) -> None:
    """Poll an async check until it holds (tests.waiting polls synchronous conditions only)."""
    deadline = time.monotonic() + PATIENCE
    while not await check():
        assert time.monotonic() < deadline, f"the condition did not hold within {PATIENCE} s"
        await asyncio.sleep(POLL)
