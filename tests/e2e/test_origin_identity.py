"""Origin-scoped identity across regions, every node in its own process and a hostile region in a process of its own.

A record, its revocation and a listing are identified by (origin region, id): a hostile region cannot squat
another region's record id at a peer, and cannot list a company on a record it does not have here.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from share_gateway.client import verify_record_disclosure
from share_gateway.config import NodeConfig
from share_gateway.crypto.keys import KeyRing
from share_gateway.store import schema
from share_gateway.store.database import open_database
from share_gateway.store.repositories import Store
from share_gateway.v1 import inquiry_pb2_grpc, registry_pb2_grpc
from tests.federation import REGIONS, channel
from tests.processes import Cluster, Process, federation_cluster
from tests.support import COMPANY, OTHER_COMPANY, debtor_request, entity, inquiry, withdrawal
from tests.waiting import PROCESS_TEST_SECONDS, eventually

GENUINE, RECEIVER, HOSTILE = REGIONS

pytestmark = pytest.mark.timeout(PROCESS_TEST_SECONDS)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    """Three regions' databases ready; each test starts the nodes it needs."""
    with federation_cluster(tmp_path / "federation", start=()) as running:
        yield running


def hostile(cluster: Cluster, action: str, record_id: str, company: str) -> str:
    """What the receiving node answered the hostile region's process (``acknowledged`` or ``refused ...``)."""
    args = [sys.executable, "-m", "tests.hostile_region", str(cluster.layout.root), HOSTILE]
    process = Process([*args, str(cluster.ports[RECEIVER]), action, record_id, company], "")
    try:
        while not (said := process.wait_for("")).startswith(("acknowledged", "refused")):
            pass  # a warning of the runtime, not its answer
    finally:
        process.stop()
    return said.strip()


def node_store(cluster: Cluster, region: str) -> Store:
    return Store(open_database(NodeConfig.load(cluster.layout.node_config(region)).database))


def undelivered_to(cluster: Cluster, region: str, peer: str) -> int:
    """How many of ``region``'s deliveries to ``peer`` are still queued, read from its database."""
    store = node_store(cluster, region)
    try:
        with store.database.reader.connect() as connection:
            box = schema.outbox.c
            rows = connection.execute(select(box.seq).where(box.peer == peer, box.delivered_at.is_(None)))
            return len(rows.all())
    finally:
        store.database.dispose()


def listings_at(cluster: Cluster, region: str) -> int:
    store = node_store(cluster, region)
    try:
        return store.count("listings")
    finally:
        store.database.dispose()


async def debtors_disclosed(cluster: Cluster, region: str, company: str = COMPANY) -> set[tuple[str, str]]:
    """(origin, record id) of each dishonest judgment debtor record ``region`` discloses about ``company``."""
    request = inquiry("loan_underwriting", entity(company), "AUTH-1", ("dishonest_judgment_debtor",))
    async with channel(cluster.layout, cluster.ports[region], "bank") as bank:
        answer = await inquiry_pb2_grpc.InquiryServiceStub(bank).Inquire(request, timeout=10)
    keys = KeyRing(cluster.layout.node_verifying_key(r) for r in REGIONS)
    statements = [verify_record_disclosure(r, keys).statement for r in answer.records]
    return {(s.origin_region, s.record_id) for s in statements}


async def submitted_debtor(cluster: Cluster, region: str) -> str:
    async with channel(cluster.layout, cluster.ports[region], "court") as court:
        answer = await registry_pb2_grpc.RegistryServiceStub(court).SubmitRecord(debtor_request(), timeout=10)
    return str(answer.record.record_id)


async def test_a_hostile_region_cannot_squat_another_regions_record_id(cluster: Cluster) -> None:
    cluster.start(GENUINE)
    genuine_id = await submitted_debtor(cluster, GENUINE)
    cluster.kill(GENUINE)  # its publication to the receiver waits in its outbox
    cluster.start(RECEIVER)
    # The hostile region gets there first with a record of its own, under the genuine record's id.
    assert hostile(cluster, "squat", genuine_id, COMPANY) == "acknowledged"
    cluster.start(GENUINE)
    await eventually(lambda: undelivered_to(cluster, GENUINE, RECEIVER) == 0)
    # Both are kept: the genuine record is disclosed alongside the impostor, each under its own origin.
    assert await debtors_disclosed(cluster, RECEIVER) == {(GENUINE, genuine_id), (HOSTILE, genuine_id)}
    # The genuine origin's revocation is accepted and applied to its record, not to the impostor.
    withdrawn = withdrawal(genuine_id, reason="原执行依据被撤销")
    async with channel(cluster.layout, cluster.ports[GENUINE], "court") as court:
        await registry_pb2_grpc.RegistryServiceStub(court).WithdrawRecord(withdrawn, timeout=10)
    await eventually(lambda: undelivered_to(cluster, GENUINE, RECEIVER) == 0)
    assert await debtors_disclosed(cluster, RECEIVER) == {(HOSTILE, genuine_id)}


async def test_a_listing_resting_on_no_record_of_the_sender_here_is_refused(cluster: Cluster) -> None:
    cluster.start(GENUINE, RECEIVER)
    genuine_id = await submitted_debtor(cluster, GENUINE)
    await eventually(lambda: undelivered_to(cluster, GENUINE, RECEIVER) == 0)
    # A company the hostile region has no record about at all.
    assert hostile(cluster, "list", "no-such-record", OTHER_COMPANY).startswith("refused RECORD_NOT_HELD")
    # Another region's record under that id is not the hostile region's record.
    assert hostile(cluster, "list", genuine_id, COMPANY).startswith("refused RECORD_NOT_HELD")
    assert listings_at(cluster, RECEIVER) == 0


async def test_a_listing_naming_another_subject_than_its_record_is_refused(cluster: Cluster) -> None:
    cluster.start(RECEIVER)
    assert hostile(cluster, "publish", "hostile-1", COMPANY) == "acknowledged"
    assert hostile(cluster, "list", "hostile-1", OTHER_COMPANY).startswith("refused LISTING_MISMATCH")
    assert listings_at(cluster, RECEIVER) == 0
    # Resting on its own record held here and naming that record's subject, a listing is taken.
    assert hostile(cluster, "list", "hostile-1", COMPANY) == "acknowledged"
    assert listings_at(cluster, RECEIVER) == 1
