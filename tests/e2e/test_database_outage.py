"""Issue 14: a node on PostgreSQL through an outage of its database, and started before its database.

The database is a private PostgreSQL server (tests/private_postgres.py) the
test stops and starts; the node is `share-gateway serve` in its own process,
its health read on the plain port as a Kubernetes probe reads it; the load
is inquiries sent without pause from a thread of the test.
"""

from __future__ import annotations

import asyncio
import collections
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest
import sqlalchemy
import yaml
from grpc_health.v1 import health_pb2, health_pb2_grpc

from share_gateway.devkit import Layout, create_federation, free_ports
from share_gateway.v1 import inquiry_pb2_grpc
from tests.conftest import channels_to
from tests.private_postgres import PrivatePostgres, private_postgres
from tests.processes import Process, prepare, serve_node
from tests.support import CALLERS, REGION, ROLES, inquiry
from tests.waiting import PROCESS_TEST_SECONDS, wait_until

SERVING, NOT_SERVING = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING
# The most lines the node may write about one outage and its end, however many calls it fails (the old code
# wrote a traceback per failed call: tens of thousands of lines for ten seconds). About 10 are due: the first failure
# of each kind, the end of the outage, and each health name turning NOT_SERVING (or UNKNOWN) and back. The access
# line of each call is not counted.
OUTAGE_LINES_AT_MOST = 25
# Failed calls the outage must have seen, so that one line per failed call could not pass for bounded.
FAILED_AT_LEAST = 200

BANK = CALLERS["bank"][0].uri
UNLIMITED = {"per_minute": 10**7, "burst": 10**7, "per_day": 10**8}

pytestmark = pytest.mark.timeout(PROCESS_TEST_SECONDS)


@pytest.fixture(scope="module")
def postgres() -> Iterator[PrivatePostgres]:
    with private_postgres() as server:
        yield server


def database_of(server: PrivatePostgres, name: str) -> str:
    """A new database ``name`` on the private server: its URL."""
    engine = sqlalchemy.create_engine(server.url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        engine.dispose()
    return server.url.rsplit("/", 1)[0] + f"/{name}"


def node_on(root: Path, url: str, **health: float) -> tuple[Layout, Path, int]:
    """A one-region federation whose node uses ``url``, prepared (migrated, grants given) while the database is up,
    serving health without TLS on a port of its own: (layout, node.yaml, health port)."""
    clients = {name: c[0] for name, c in CALLERS.items()}
    layout = create_federation(root, [REGION], clients, datetime.now(UTC), databases={REGION: url}, roles=ROLES)
    config = layout.node_config(REGION)
    port = free_ports(1)[0]
    settings = yaml.safe_load(config.read_text()) | {
        "health": {"listen": f"127.0.0.1:{port}", "interval_seconds": 0.2, **health},
        # The load asks as fast as it can: its quota must not be what refuses it.
        "quotas": {"overrides": [{"requester": BANK, "purpose": "public_lookup", **UNLIMITED}]},
    }
    config.write_text(yaml.safe_dump(settings))
    prepare(config)
    return layout, config, port


def health(port: int, service: str = "") -> int | None:
    """What the plain health port says of ``service``; None while nothing answers there."""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service), timeout=5)
        except grpc.RpcError:
            return None
    return int(reply.status)


def says(port: int, status: int, *services: str) -> bool:
    return all(health(port, service) == status for service in services)


class Load:
    """Inquiries sent without pause by a few callers, from a thread of their own: what each call got."""

    def __init__(self, layout: Layout, port: int, callers: int = 4) -> None:
        self.layout, self.port, self.callers = layout, port, callers
        self.answered: list[str] = []
        self.failed: collections.Counter[grpc.StatusCode] = collections.Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)
        self._thread.start()

    async def _run(self) -> None:
        async with channels_to(self.port, self.layout) as connect:
            stub = inquiry_pb2_grpc.InquiryServiceStub(connect("bank"))

            async def caller() -> None:
                while not self._stop.is_set():
                    try:
                        answer = await stub.Inquire(inquiry("public_lookup"), timeout=30)
                    except grpc.aio.AioRpcError as error:
                        self.failed[error.code()] += 1
                        await asyncio.sleep(0.005)  # pacing, so failing fast does not starve the node of CPU
                    else:
                        self.answered.append(answer.inquiry_id)

            await asyncio.gather(*(caller() for _ in range(self.callers)))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=120)
        assert not self._thread.is_alive()


def answering(load: Load, answered: int, node: Process) -> None:
    """Wait until ``answered`` inquiries of the load were answered, saying what the calls got if they are not."""
    try:
        wait_until(lambda: len(load.answered) >= answered)
    except AssertionError as error:
        raise AssertionError(
            f"{len(load.answered)} answered, failed: {dict(load.failed)}; node said:\n" + "".join(node.output[-40:])
        ) from error


def logged_ids(url: str) -> tuple[set[str], set[str]]:
    """The event ids the node's database holds: appended, and integrated into the log's tree."""
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            appended = {r[0] for r in connection.exec_driver_sql("SELECT event_id FROM events")}
            integrated = {r[0] for r in connection.exec_driver_sql("SELECT event_id FROM log_entries")}
    finally:
        engine.dispose()
    return appended, integrated


def test_an_outage_under_load_is_unavailable_not_serving_bounded_in_the_log_and_loses_nothing(
    postgres: PrivatePostgres, tmp_path: Path
) -> None:
    url = database_of(postgres, "outage")
    layout, config, health_port = node_on(tmp_path, url)
    node = serve_node(config)
    load: Load | None = None
    try:
        port = int(re.search(r"mTLS port (\d+)", node.wait_ready()).group(1))  # type: ignore[union-attr]
        wait_until(lambda: says(health_port, SERVING, "", "share_gateway.Readiness", "share_gateway.Database"))
        load = Load(layout, port)
        answering(load, 50, node)

        mark = len(node.output)
        postgres.stop()
        wait_until(lambda: says(health_port, NOT_SERVING, "", "share_gateway.Readiness", "share_gateway.Database"))
        assert says(health_port, NOT_SERVING, "share_gateway.v1.InquiryService")
        assert says(health_port, SERVING, "share_gateway.Liveness"), "the process runs: no restart is needed"
        wait_until(lambda: load.failed[grpc.StatusCode.UNAVAILABLE] >= FAILED_AT_LEAST)

        postgres.start()
        answered_before = len(load.answered)
        wait_until(lambda: says(health_port, SERVING, "", "share_gateway.Readiness", "share_gateway.Database"))
        answering(load, answered_before + 50, node)
        load.stop()
        # Nothing answered is lost: each answered inquiry's event is in the log, and the running node's sequencer
        # integrates it once it leads again (a stopped node would leave that to the next sequencer, by design).
        answered = set(load.answered)
        wait_until(lambda: answered <= logged_ids(url)[1])
        # The access lines are one per call by design (logging.access_level): the bound is on what the outage adds.
        outage = [line for line in node.output[mark:] if " share_gateway.access " not in line]
    finally:
        if load is not None:
            load.stop()
        node.stop()

    print(f"outage: {len(outage)} lines logged for {load.failed[grpc.StatusCode.UNAVAILABLE]} failed calls")
    assert set(load.failed) == {grpc.StatusCode.UNAVAILABLE}, f"every failed call is retryable: {load.failed}"
    assert len(outage) <= OUTAGE_LINES_AT_MOST, "".join(outage)
    assert not [line for line in outage if "Traceback" in line], "".join(outage)
    assert any("database unreachable" in line for line in outage), "".join(outage)
    assert answered <= logged_ids(url)[0]


def test_a_node_started_before_its_database_waits_not_serving_and_serves_once_it_is_there(
    postgres: PrivatePostgres, tmp_path: Path
) -> None:
    url = database_of(postgres, "late")
    # Tries at most a second apart: each try is not one more line.
    layout, config, health_port = node_on(tmp_path, url, database_retry_most_seconds=1)
    postgres.stop()
    node: Process | None = None
    try:
        node = serve_node(config)
        wait_until(lambda: health(health_port) == NOT_SERVING)
        assert says(health_port, NOT_SERVING, "share_gateway.Readiness", "share_gateway.Database")
        assert says(health_port, SERVING, "share_gateway.Liveness")
        assert node.popen.poll() is None, "it waits rather than exits"
        postgres.start()
        port = int(re.search(r"mTLS port (\d+)", node.wait_ready()).group(1))  # type: ignore[union-attr]
        wait_until(lambda: says(health_port, SERVING, "", "share_gateway.Readiness", "share_gateway.Database"))

        async def inquire() -> str:
            async with channels_to(port, layout) as connect:
                stub = inquiry_pb2_grpc.InquiryServiceStub(connect("bank"))
                return (await stub.Inquire(inquiry("public_lookup"), timeout=30)).inquiry_id

        assert asyncio.run(inquire())
        waiting = "".join(node.output)
        assert "Traceback" not in waiting, waiting
        assert waiting.count("database unreachable") == 1, waiting
        assert "database answers again" in waiting, waiting
    finally:
        if not postgres.running:
            postgres.start()
        if node is not None:
            node.stop()
