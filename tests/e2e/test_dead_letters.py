"""One undeliverable item never holds back a peer's queue: each node in its own process, a picky peer process.

The peer (``tests.faulty_peer`` ``picky``) refuses publications about one subject, permanently
(``NOT_SHARED``) or for now (``CATALOG_MISMATCH``), and takes everything else with a signed receipt.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from share_gateway.config import NodeConfig
from share_gateway.domain.deliveries import DeliveryState
from share_gateway.domain.events import Event
from share_gateway.domain.identifiers import Subject
from share_gateway.store.database import open_database
from share_gateway.store.deliveries import DeliveryKind, QueuedDelivery
from share_gateway.store.repositories import Store
from share_gateway.v1 import compliance_pb2, compliance_pb2_grpc, registry_pb2, registry_pb2_grpc
from tests.federation import REGIONS, channel
from tests.processes import Cluster, Process, federation_cluster
from tests.support import OTHER_COMPANY, debtor_request, entity, withdrawal
from tests.waiting import PATIENCE, PROCESS_TEST_SECONDS, eventually

ASKER, HONEST, PICKY = REGIONS

pytestmark = pytest.mark.timeout(PROCESS_TEST_SECONDS)  # three nodes, each a process of its own


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    with federation_cluster(tmp_path / "federation") as running:
        yield running


def refuse(cluster: Cluster, subject: str, reason: str | None) -> None:
    """Make the picky peer refuse publications about ``subject`` with ``reason`` (None: stop refusing)."""
    rule = cluster.layout.root / "refusals" / subject
    rule.parent.mkdir(exist_ok=True)
    if reason is None:
        rule.unlink()
    else:
        rule.write_text(reason)


async def submit(cluster: Cluster, request: registry_pb2.SubmitRecordRequest) -> str:
    async with channel(cluster.layout, cluster.ports[ASKER], "court") as court:
        answer = await registry_pb2_grpc.RegistryServiceStub(court).SubmitRecord(request, timeout=10)
    return str(answer.record.record_id)


def said(peer: Process, line: str) -> bool:
    return any(text.strip() == line for text in peer.output)


def outbox(cluster: Cluster) -> list[QueuedDelivery]:
    """Every undelivered delivery of the asking node, read from its database."""
    database = open_database(NodeConfig.load(cluster.layout.node_config(ASKER)).database)
    try:
        return Store(database).outbox.undelivered()
    finally:
        database.dispose()


def cli(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "share_gateway.cli", *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


async def logged(cluster: Cluster, kind: str) -> list[Event]:
    """The asking node's events of ``kind``, as a compliance officer finds them with the audit search."""
    request = compliance_pb2.SearchEventsRequest(filter=compliance_pb2.EventFilter(kind=kind))
    async with channel(cluster.layout, cluster.ports[ASKER], "officer") as officer:
        found: list[Event] = []
        async for page in compliance_pb2_grpc.ComplianceServiceStub(officer).SearchEvents(request, timeout=10):
            found.extend(Event.from_bytes(e.event) for e in page.events)
    return found


async def until_logged(cluster: Cluster, kind: str) -> list[Event]:
    """Wait until the sequencer integrated an event of ``kind`` (the search reads the log); each look is itself
    logged, so look twice a second rather than at ``POLL``."""
    deadline = time.monotonic() + PATIENCE
    while not (found := await logged(cluster, kind)):
        assert time.monotonic() < deadline, f"no {kind} event was logged within {PATIENCE} s"
        await asyncio.sleep(0.5)
    return found


async def test_a_permanently_refused_item_is_a_dead_letter_and_later_deliveries_flow_on(cluster: Cluster) -> None:
    peer = cluster.replace(PICKY, "picky")
    refuse(cluster, OTHER_COMPANY, "NOT_SHARED")
    refused = await submit(cluster, debtor_request("refused", entity(OTHER_COMPANY)))
    await eventually(lambda: said(peer, f"publish {refused} refused NOT_SHARED"))
    # Its revocation is queued behind it: never sent before the record's publication closed.
    async with channel(cluster.layout, cluster.ports[ASKER], "court") as court:
        await registry_pb2_grpc.RegistryServiceStub(court).WithdrawRecord(
            withdrawal(refused, reason="the judgment was annulled"), timeout=10
        )
    later = await submit(cluster, debtor_request("later"))
    await eventually(lambda: said(peer, f"publish {later} ok"))
    assert not said(peer, f"revoke {refused} ok")

    [dead] = [d for d in outbox(cluster) if d.state is DeliveryState.DEAD]
    assert (dead.peer, dead.kind, dead.record_id, dead.attempts) == (PICKY, DeliveryKind.RECORD, refused, 1)
    assert (dead.dead_reason or "").startswith("NOT_SHARED")
    assert dead.dead_at is not None
    [revocation] = [d for d in outbox(cluster) if d.peer == PICKY and d.kind is DeliveryKind.REVOCATION]
    assert revocation.waiting_on == dead.seq

    # The alarm, found by an officer with the audit search; the backlog, per peer.
    [alarm] = await until_logged(cluster, "delivery_dead_lettered")
    assert (alarm.reason, alarm.details["seq"], alarm.details["to"]) == (
        "NOT_SHARED",
        str(dead.seq),
        "sgw://node/440000",
    )
    assert alarm.subject == Subject.parse("legal_entity", OTHER_COMPANY)
    async with channel(cluster.layout, cluster.ports[ASKER], "officer") as officer:
        backlog = await compliance_pb2_grpc.ComplianceServiceStub(officer).GetDeliveryBacklog(
            compliance_pb2.GetDeliveryBacklogRequest(), timeout=10
        )
    assert {(p.region, p.pending, p.dead_letters) for p in backlog.peers if p.region == PICKY} == {(PICKY, 1, 1)}

    # The operator lists it, fixes the cause and redelivers it: the withdrawn record is not published, and
    # its revocation follows.
    config = str(cluster.layout.node_config(ASKER))
    listed = cli("outbox", "list", "--config", config, "--dead", "--peer", PICKY)
    assert "1 dead letter(s)" in listed
    assert refused in listed
    assert "NOT_SHARED" in listed
    assert f"waits for {dead.seq}" in cli("outbox", "list", "--config", config)
    refuse(cluster, OTHER_COMPANY, None)
    answer = cli(
        "outbox", "redeliver", "--config", config, str(dead.seq), "--reason", "peer fixed", "--operator", "alice"
    )
    assert "is due again" in answer
    await eventually(lambda: said(peer, f"revoke {refused} ok"))
    assert not said(peer, f"publish {refused} ok")
    await eventually(lambda: [d for d in outbox(cluster) if d.peer == PICKY] == [])
    [again] = await until_logged(cluster, "delivery_redelivered")
    assert (again.reason, again.details["operator"], again.details["seq"]) == ("peer fixed", "alice", str(dead.seq))


async def test_an_item_refused_for_now_is_retried_and_delivered_once_the_cause_is_gone(cluster: Cluster) -> None:
    peer = cluster.replace(PICKY, "picky")
    refuse(cluster, OTHER_COMPANY, "CATALOG_MISMATCH")
    waiting = await submit(cluster, debtor_request("waiting", entity(OTHER_COMPANY)))
    refusal = f"publish {waiting} refused CATALOG_MISMATCH"
    await eventually(lambda: sum(line.strip() == refusal for line in peer.output) >= 2)
    # Backing off, it holds nothing else back.
    later = await submit(cluster, debtor_request("later"))
    await eventually(lambda: said(peer, f"publish {later} ok"))
    [pending] = [d for d in outbox(cluster) if d.peer == PICKY]
    assert (pending.record_id, pending.state) == (waiting, DeliveryState.PENDING)
    assert pending.attempts >= 2
    assert pending.next_attempt_at > pending.created_at
    refuse(cluster, OTHER_COMPANY, None)
    await eventually(lambda: said(peer, f"publish {waiting} ok"))
    await eventually(lambda: [d for d in outbox(cluster) if d.peer == PICKY] == [])
