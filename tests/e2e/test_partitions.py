"""Network partitions between regions: each region a `share-gateway serve` process (on SQLite) in a network namespace
of its own, the three joined by a bridge (tests/netns.py). A region's link is cut while the others ask and publish,
then restored; one region's link runs through a delaying proxy (tests/delaying_proxy.py) for a slow link.

The test process stays in the root namespace and calls the nodes at their namespaces' addresses. Namespaces need
root and iproute2: without them these tests skip, unless ``CI`` is set, where they fail instead.
"""

from __future__ import annotations

import os
import re
import sqlite3
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from share_gateway.crypto.keys import KeyRing
from share_gateway.devkit import MANIFEST_DAYS, Layout, create_federation, write_manifest
from share_gateway.domain.events import EventKind
from share_gateway.federation.manifest import Manifest, open_manifest
from share_gateway.ledger.cosignatures import check_cosignatures
from share_gateway.v1 import registry_pb2_grpc
from tests import netns
from tests.delaying_proxy import DelayingProxy
from tests.federation import OK, REGIONS, TIMEOUT, UNAVAILABLE, channel, federated, seed, statuses
from tests.processes import Process, logged, prepare
from tests.support import CALLERS, ROLES, debtor_request
from tests.waiting import PROCESS_TEST_SECONDS, eventually

pytestmark = pytest.mark.timeout(PROCESS_TEST_SECONDS)  # three nodes, each a process of its own
ASKER, CUT, SLOW = REGIONS
# Every node listens on this port at its own namespace's address (each namespace has its ports to itself).
PORT = 7443
# The node's own limit for one peer (its default, which a healthy peer on a loaded machine keeps): the client's
# deadline is far beyond it, so a region on a dead or slow link is reported ``timeout`` with time to spare (the node
# keeps only 50 ms of a tighter client deadline to log and reply, which a loaded machine overruns:
# tests/integration/test_federation.py tests that bound in one process).
PEER_TIMEOUT = 5.0
CLIENT_DEADLINE = 20.0
# The slow link's delay each way: longer than the client's whole deadline.
SLOW_DELAY = 2 * CLIENT_DEADLINE
SETTINGS = {"federation": {"peer_timeout_seconds": PEER_TIMEOUT}}


@dataclass
class Partitioned:
    """The federation in its namespaces: the network, the nodes, and the proxy on the slow region's link."""

    layout: Layout
    network: netns.Network
    proxy: DelayingProxy
    manifest: Manifest

    def address(self, region: str) -> str:
        return f"{self.network.addresses[region]}:{PORT}"

    def database(self, region: str) -> Path:
        return self.layout.node_dir(region) / f"{region}.db"


@pytest.fixture(scope="module")
def partitioned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Partitioned]:
    """One federation for the module: the tests cut and slow different links, and restore them."""
    reason = netns.missing()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"network namespaces are required in CI: {reason}")
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("partitioned")
    with ExitStack() as stack:
        network = stack.enter_context(netns.network(REGIONS))
        now = datetime.now(UTC)
        clients = {name: c[0] for name, c in CALLERS.items()}
        layout = create_federation(
            root, REGIONS, clients, now, roles=ROLES, ports=dict.fromkeys(REGIONS, PORT), hosts=network.addresses
        )
        # The slow region's peers reach it through the proxy, in the root namespace on the bridge.
        proxy = DelayingProxy(network.gateway, (network.addresses[SLOW], PORT))
        stack.callback(proxy.close)
        endpoint = f"{network.gateway}:{proxy.start()}"
        write_manifest(layout, 2, now + timedelta(days=MANIFEST_DAYS), endpoints={SLOW: endpoint})
        processes: dict[str, Process] = {}

        def stop() -> None:  # before the namespaces go (a namespace lives on while a process is in it)
            for process in processes.values():
                process.stop()

        stack.callback(stop)
        for region in REGIONS:
            config = layout.node_config(region)
            config.write_text(yaml.safe_dump(yaml.safe_load(config.read_text()) | SETTINGS))
            prepare(config)
            serve = [sys.executable, "-m", "share_gateway.cli", "serve", "--config", str(config)]
            processes[region] = Process(network.run_in(region) + serve, "mTLS port")
        for region, process in processes.items():
            served = re.search(r"mTLS port (\d+)", process.wait_ready())
            assert served is not None, region
            assert int(served.group(1)) == PORT, region
        authority = KeyRing([layout.authority().verifying_key])
        manifest = open_manifest(layout.manifest.read_bytes(), authority).manifest
        assert manifest.nodes[SLOW].endpoint == endpoint
        yield Partitioned(layout, network, proxy, manifest)


def received(layout: Layout, region: str, record_id: str) -> bool:
    """Whether ``region`` logged receiving the asker's record."""
    return any(
        e.kind is EventKind.RECORD_RECEIVED and e.records[0].record_id == record_id for e in logged(layout, region)
    )


def cosigners(partitioned: Partitioned, origin: str) -> set[str]:
    """The peers whose valid cosignature the origin's latest checkpoint carries, if it covers every event logged."""
    with closing(sqlite3.connect(partitioned.database(origin))) as connection:
        events: int = connection.execute("SELECT count(*) FROM events").fetchone()[0]
        latest = connection.execute("SELECT size, note FROM log_checkpoints ORDER BY size DESC LIMIT 1").fetchone()
    if latest is None or latest[0] < events:
        return set()
    return set(check_cosignatures(bytes(latest[1]), partitioned.manifest.witnesses_of(origin)).valid)


def witnessed(partitioned: Partitioned, witness: str, origin: str) -> int:
    """The size of the origin's log the witness last cosigned (0: none yet)."""
    with closing(sqlite3.connect(partitioned.database(witness))) as connection:
        row = connection.execute("SELECT size FROM witnessed WHERE origin = ?", (origin,)).fetchone()
    return int(row[0]) if row else 0


def latest_size(partitioned: Partitioned, region: str) -> int:
    with closing(sqlite3.connect(partitioned.database(region))) as connection:
        size = connection.execute("SELECT max(size) FROM log_checkpoints").fetchone()[0]
    return int(size or 0)


def converged(partitioned: Partitioned) -> bool:
    """Every region's latest checkpoint covers its whole log and is cosigned by both peers, and each peer's own
    record of what it cosigned of that log has caught up with it."""
    for origin in REGIONS:
        peers = set(REGIONS) - {origin}
        if cosigners(partitioned, origin) != peers:
            return False
        size = latest_size(partitioned, origin)
        if any(witnessed(partitioned, witness, origin) != size for witness in peers):
            return False
    return True


async def test_a_region_cut_off_is_reported_missing_then_receives_everything_and_the_witnesses_converge(
    partitioned: Partitioned,
) -> None:
    layout, network = partitioned.layout, partitioned.network
    await seed(layout, {region: partitioned.address(region) for region in REGIONS})
    await eventually(lambda: converged(partitioned))  # every link witnesses before the cut
    network.cut(CUT)
    try:
        started = time.monotonic()
        answer = await federated(layout, partitioned.address(ASKER), deadline=CLIENT_DEADLINE)
        assert time.monotonic() - started < CLIENT_DEADLINE
        found = statuses(answer)
        assert found[CUT] in (TIMEOUT, UNAVAILABLE), found
        assert {region: found[region] for region in (ASKER, SLOW)} == {ASKER: OK, SLOW: OK}
        # A nationally shared record published during the cut: the region on the other link has it, and the
        # checkpoint that logs it is cosigned by that region alone.
        async with channel(layout, partitioned.address(ASKER), "court") as court:
            submitted = await registry_pb2_grpc.RegistryServiceStub(court).SubmitRecord(
                debtor_request("during-the-cut"), timeout=CLIENT_DEADLINE
            )
        record_id = submitted.record.record_id
        await eventually(lambda: received(layout, SLOW, record_id))
        await eventually(lambda: SLOW in cosigners(partitioned, ASKER))
        assert not received(layout, CUT, record_id)
        assert cosigners(partitioned, ASKER) == {SLOW}, "cosigned across a cut link"
    finally:
        network.restore(CUT)
    await eventually(lambda: received(layout, CUT, record_id))
    await eventually(lambda: converged(partitioned))
    answer = await federated(layout, partitioned.address(ASKER), deadline=CLIENT_DEADLINE)
    assert set(statuses(answer).values()) == {OK}


async def test_a_slow_link_keeps_the_clients_deadline(partitioned: Partitioned) -> None:
    layout, proxy = partitioned.layout, partitioned.proxy
    answer = await federated(layout, partitioned.address(ASKER), deadline=CLIENT_DEADLINE)
    assert set(statuses(answer).values()) == {OK}
    assert proxy.connections > 0, "the slow region is not reached through the proxy"
    proxy.set_delay(SLOW_DELAY)
    try:
        started = time.monotonic()
        answer = await federated(layout, partitioned.address(ASKER), deadline=CLIENT_DEADLINE)
        assert time.monotonic() - started < CLIENT_DEADLINE
        assert statuses(answer) == {ASKER: OK, CUT: OK, SLOW: TIMEOUT}
    finally:
        proxy.set_delay(0.0)
    # The link's delay gone, what it held goes on at once: the region answers again on the same connection.
    answer = await federated(layout, partitioned.address(ASKER), deadline=CLIENT_DEADLINE)
    assert set(statuses(answer).values()) == {OK}
