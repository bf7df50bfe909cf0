"""Two replicas of one region, each `share-gateway serve` in its own process on one PostgreSQL schema, share one
outbox: 100 nationally shared records submitted through both reach each peer (each its own process) once, and each
delivery is logged once on both sides, because each outbox row is claimed by one replica's courier."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from share_gateway.devkit import Layout, free_ports
from share_gateway.domain.events import Event, EventKind
from share_gateway.store.database import open_database
from share_gateway.store.repositories import Store
from share_gateway.v1 import registry_pb2_grpc
from tests.federation import REGIONS, channel
from tests.processes import Process, federation_cluster, logged, prepare, serve_node
from tests.support import debtor_request
from tests.waiting import PROCESS_TEST_SECONDS, eventually

pytestmark = [pytest.mark.timeout(PROCESS_TEST_SECONDS), pytest.mark.postgres]
ORIGIN, *PEERS = REGIONS
RECORDS = 100


@dataclass
class Replicas:
    layout: Layout
    database: str
    ports: list[int]


@pytest.fixture
def replicas(tmp_path: Path, fresh_postgres: str) -> Iterator[Replicas]:
    """The origin as two replicas on one PostgreSQL schema (the first on the manifest's endpoint), its peers
    each a process of its own."""
    with federation_cluster(tmp_path / "federation", start=PEERS, prepared=PEERS) as cluster:
        layout = cluster.layout
        settings = yaml.safe_load(layout.node_config(ORIGIN).read_text()) | {"database": fresh_postgres}
        processes: list[Process] = []
        ports: list[int] = []
        try:
            # One after the other, the sequencer in the first only (until replicas elect their leader).
            for index, listen in enumerate([settings["listen"], f"127.0.0.1:{free_ports(1)[0]}"]):
                config = layout.node_dir(ORIGIN) / f"replica-{index}.yaml"
                log = {} if index == 0 else {"log": {"sequencer": False}}
                config.write_text(yaml.safe_dump(settings | {"listen": listen} | log))
                if index == 0:
                    prepare(config)
                process = serve_node(config)
                processes.append(process)
                served = re.search(r"mTLS port (\d+)", process.wait_ready())
                assert served is not None
                ports.append(int(served.group(1)))
            yield Replicas(layout, fresh_postgres, ports)
        finally:
            for process in processes:
                process.stop()


def origin_events(database: str) -> list[Event]:
    opened = open_database(database)
    try:
        return [Event.from_bytes(body) for _, body in Store(opened).events.read(limit=100_000)]
    finally:
        opened.dispose()


def undelivered(database: str) -> int:
    opened = open_database(database)
    try:
        return len(Store(opened).outbox.undelivered())
    finally:
        opened.dispose()


def received(layout: Layout, region: str) -> Counter[str]:
    """How often the peer logged receiving each of the origin's records."""
    return Counter(
        e.records[0].record_id
        for e in logged(layout, region)
        if e.kind is EventKind.RECORD_RECEIVED and e.records[0].origin_region == ORIGIN
    )


def published(database: str) -> Counter[tuple[str, str]]:
    """How often the origin logged a peer's receipt of each record, per peer."""
    return Counter(
        (e.records[0].record_id, e.details["to"])
        for e in origin_events(database)
        if e.kind is EventKind.RECORD_PUBLISHED
    )


async def test_records_submitted_through_two_replicas_are_delivered_and_logged_once(replicas: Replicas) -> None:
    async def submit(n: int) -> str:
        async with channel(replicas.layout, replicas.ports[n % 2], "court") as court:
            answer = await registry_pb2_grpc.RegistryServiceStub(court).SubmitRecord(
                debtor_request(f"debtor-{n}"), timeout=30
            )
        return str(answer.record.record_id)

    records: list[str] = []
    for start in range(0, RECORDS, 10):  # ten at a time, through both replicas
        records += await asyncio.gather(*(submit(n) for n in range(start, start + 10)))
    assert len(set(records)) == RECORDS

    def all_arrived() -> bool:
        return undelivered(replicas.database) == 0 and all(
            set(received(replicas.layout, p)) >= set(records) for p in PEERS
        )

    await eventually(all_arrived)
    for peer in PEERS:
        counts = received(replicas.layout, peer)
        assert {r: counts[r] for r in records} == dict.fromkeys(records, 1), f"{peer} logged some twice"
    origin = published(replicas.database)
    expected = {(r, f"sgw://node/{p}") for r in records for p in PEERS}
    assert set(origin) == expected
    assert [key for key, count in origin.items() if count != 1] == []
