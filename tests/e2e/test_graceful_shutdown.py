"""SIGTERM to a `share-gateway serve` process with 64 calls in flight: health turns NOT_SERVING for the drain delay
(load balancers stop sending) while the node still answers, then the server takes no new call and gives those in
flight their grace period; none is CANCELLED, every one is answered, and the process exits 0.

The calls in flight are federated inquiries a gated peer (its own process) holds until the test opens the gate, so
they are in flight at every step whatever the machine's load. The drain is long; the test ends it with a second
SIGTERM once it saw NOT_SERVING (an operator's way to hurry a stop), and opens the gate once the node refuses
new calls (UNAVAILABLE, NODE_SHUTTING_DOWN: retryable at another replica).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import grpc
import pytest
import yaml
from grpc_health.v1 import health_pb2, health_pb2_grpc

from share_gateway.v1 import inquiry_pb2
from tests.federation import OK, REGIONS, channel, federated, statuses
from tests.processes import Cluster, faulty_peer, federation_cluster
from tests.support import CALLERS, error_reason
from tests.waiting import PATIENCE, PROCESS_TEST_SECONDS, eventually

pytestmark = pytest.mark.timeout(PROCESS_TEST_SECONDS)  # three nodes, each a process of its own
ASKER, HONEST, GATED = REGIONS
IN_FLIGHT = 64
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    """The honest peer served, a gated peer on the third region's endpoint, the asking node started last with a
    drain and a grace far beyond the test's patience and the quotas of 64 concurrent inquiries."""
    quota = {"per_minute": 6000, "burst": 1000, "per_day": 100_000, "distinct_subjects": 100_000}
    quotas = {
        "concurrent_calls": 2 * IN_FLIGHT,
        "overrides": [{"requester": CALLERS["bank"][0].uri, "purpose": "loan_underwriting"} | quota],
    }
    with federation_cluster(
        tmp_path / "federation", start=[HONEST], prepared=[ASKER, HONEST], settings={"quotas": quotas}
    ) as running:
        gated = faulty_peer(running.layout, GATED, "gated", 10 * PATIENCE)
        running.processes[GATED] = gated
        gated.wait_ready()
        config = running.layout.node_config(ASKER)
        settings = yaml.safe_load(config.read_text()) | {
            "shutdown": {"drain_delay_seconds": 10 * PATIENCE, "grace_seconds": 10 * PATIENCE},
            "federation": {"peer_timeout_seconds": 10 * PATIENCE},
        }
        config.write_text(yaml.safe_dump(settings))
        running.start(ASKER)
        yield running


async def health(cluster: Cluster) -> health_pb2.HealthCheckResponse.ServingStatus.ValueType:
    async with channel(cluster.layout, cluster.ports[ASKER], "bank") as bank:
        request = health_pb2.HealthCheckRequest(service="")
        answer: health_pb2.HealthCheckResponse = await health_pb2_grpc.HealthStub(bank).Check(request, timeout=5)
    return answer.status


async def until(condition: Callable[[], Awaitable[bool]]) -> None:
    """``eventually`` for a condition that has to call the node."""
    latest: list[bool] = [False]

    async def look() -> None:
        while not latest[0]:
            latest[0] = await condition()

    looking = asyncio.create_task(look())
    try:
        await eventually(lambda: latest[0] or looking.done())
        await looking  # raises what the node answered instead
    finally:
        looking.cancel()


async def test_sigterm_with_64_calls_in_flight_answers_every_one_and_exits_0(cluster: Cluster) -> None:
    node, gated = cluster.processes[ASKER], cluster.processes[GATED]
    target = cluster.ports[ASKER]
    calls = [asyncio.create_task(federated(cluster.layout, target, deadline=10 * PATIENCE)) for _ in range(IN_FLIGHT)]
    for _ in range(IN_FLIGHT):  # every call reached the node, which waits for the gated peer
        await asyncio.to_thread(gated.wait_for, "received")

    node.popen.send_signal(signal.SIGTERM)
    await asyncio.to_thread(node.wait_for, "draining")

    async def not_serving() -> bool:
        return bool(await health(cluster) == NOT_SERVING)

    await until(not_serving)  # the node still answers, saying it is going
    node.popen.send_signal(signal.SIGTERM)  # the drain ends at once
    await asyncio.to_thread(node.wait_for, "stopping")
    with pytest.raises(grpc.aio.AioRpcError) as refused:  # no new call is taken, retryably
        await federated(cluster.layout, target, deadline=PATIENCE)
    assert refused.value.code() is grpc.StatusCode.UNAVAILABLE
    assert error_reason(refused.value) == "NODE_SHUTTING_DOWN"
    assert not any(call.done() for call in calls)  # the 64 are still held by the peer

    (cluster.layout.root / "gate").touch()
    answers = await asyncio.gather(*calls, return_exceptions=True)
    failed = [a.code() if isinstance(a, grpc.aio.AioRpcError) else repr(a) for a in answers if isinstance(a, Exception)]
    assert failed == []
    for answer in answers:
        assert isinstance(answer, inquiry_pb2.InquireResponse)
        assert statuses(answer) == {ASKER: OK, HONEST: OK, GATED: OK}, [(r.region, r.detail) for r in answer.regions]
    assert await asyncio.to_thread(node.popen.wait, PATIENCE) == 0
