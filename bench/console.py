"""``python -m bench.console``: does the web console stay quick with a large log?

Issue 16's goal: with ``--events`` events in one region's log (default 1,000,000), the first page of an event
search and the overview each render in under 500 ms, measured in the same run against the bare gRPC calls they
rest on (SearchEvents for a page of 50; GetActivitySummary over the overview's 14 days, GetDeliveryBacklog and
the overdue repair applications and listings), and the ratio printed. The events (inquiries by four purposes,
allowed and denied, quota refusals and harvesting alerts, spread over the last 30 days) are written straight
into the node's SQLite database in batches and integrated by the log's own code before the node starts; the
node (``bench.inquiry_path.serve_node``) and the console (``share-gateway console``) each run in a process of
their own.

    python -m bench.console --events 100000 --rounds 10     # a smaller run: say so beside the figures
"""

from __future__ import annotations

import argparse
import asyncio
import http.cookiejar
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
from sqlalchemy import insert

from bench.harness import spawn, stop
from bench.inquiry_path import serve_node
from bench.log.support import goal
from share_gateway.client import credentials, open_channel
from share_gateway.config import NodeConfig
from share_gateway.devkit import Layout, create_federation
from share_gateway.domain.events import Event, EventKind, Outcome
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.domain.principals import Identity, IdentityKind, Role
from share_gateway.store import schema
from share_gateway.store.database import migrate, open_database
from share_gateway.store.events import _event_row
from share_gateway.store.log import LogStore
from share_gateway.v1 import compliance_pb2, compliance_pb2_grpc, registry_pb2, registry_pb2_grpc

REGION = "110000"
OFFICER = Identity(IdentityKind.PERSON, "12010119850505123X")
BANKS = [f"sgw://institution/9111000{n}MA0000001L" for n in range(8)]
PURPOSES = ("loan_underwriting", "utility_connection", "public_procurement_review", "administrative_licensing_review")
SUBJECT = "91110105MA01ABCD00"
BATCH = 50_000
GOAL_MS = 500.0


def _events(count: int, now: datetime, rng: random.Random) -> Iterator[Event]:
    """``count`` events over the last 30 days, oldest first; one in a thousand about ``SUBJECT``."""
    start = now - timedelta(days=30)
    step = timedelta(days=30) / count
    for i in range(count):
        at = start + step * i
        subject = Subject(SubjectKind.LEGAL_ENTITY, SUBJECT if i % 1000 == 0 else f"9111{i:014d}")
        roll = rng.random()
        if roll < 0.002:
            yield Event(
                str(uuid.uuid4()), EventKind.HARVESTING_SUSPECTED, at, REGION, rng.choice(BANKS), Outcome.DENIED
            )
        elif roll < 0.01:
            yield Event(str(uuid.uuid4()), EventKind.QUOTA_REFUSED, at, REGION, rng.choice(BANKS), Outcome.DENIED)
        else:
            outcome = Outcome.DENIED if roll > 0.9 else Outcome.ALLOWED
            purpose = rng.choice(PURPOSES)
            yield Event(str(uuid.uuid4()), EventKind.INQUIRY, at, REGION, rng.choice(BANKS), outcome, subject, purpose)


def load(config: Path, count: int) -> float:
    """Write ``count`` events into the node's database and integrate them; the seconds it took."""
    started = time.perf_counter()
    database = open_database(NodeConfig.load(config).database)
    try:
        migrate(database)
        rng, batch = random.Random(16), []
        for event in _events(count, datetime.now(UTC), rng):
            batch.append(_event_row(event))
            if len(batch) == BATCH:
                with database.writer.begin() as connection:
                    connection.execute(insert(schema.events), batch)
                batch = []
        if batch:
            with database.writer.begin() as connection:
                connection.execute(insert(schema.events), batch)
        log = LogStore(database)
        while log.integrate(limit=BATCH).added:
            print(f"    integrated {log.size()}/{count} ({time.perf_counter() - started:.0f} s)", flush=True)
        with database.writer.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
    finally:
        database.dispose()
    return time.perf_counter() - started


async def _timed(call: Callable[[], Awaitable[object]], rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        await call()
        times.append((time.perf_counter() - began) * 1000)
    return times


def _opener(url: str) -> urllib.request.OpenerDirector:
    """A client that spent the console's one-time token and holds its session cookie."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with opener.open(url, timeout=60) as answer:
        answer.read()
    return opener


def _page_times(opener: urllib.request.OpenerDirector, url: str, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        with opener.open(url, timeout=60) as answer:
            body = answer.read()
        times.append((time.perf_counter() - began) * 1000)
        if answer.status != 200 or b"<table" not in body:
            raise SystemExit(f"{url} answered {answer.status} without its table")
    return times


async def _published(stub: compliance_pb2_grpc.ComplianceServiceAsyncStub) -> int:
    """The size of the node's latest checkpoint; 0 until its sequencer published one (after a start on a large log
    it first builds the index's tree from the stored chains)."""
    try:
        return (await stub.GetCheckpoint(compliance_pb2.GetCheckpointRequest(), timeout=60)).size
    except grpc.aio.AioRpcError as error:
        if error.code() is not grpc.StatusCode.FAILED_PRECONDITION:
            raise
        return 0


async def _grpc_times(layout: Layout, port: int, rounds: int, total: int) -> tuple[list[float], list[float]]:
    files = layout.client("officer")
    async with open_channel(f"localhost:{port}", credentials(files.certificate, files.key, files.ca)) as channel:
        stub = compliance_pb2_grpc.ComplianceServiceStub(channel)
        deadline = time.monotonic() + 600
        while await _published(stub) < total:
            if time.monotonic() > deadline:
                raise SystemExit("the node published no checkpoint of the whole log")
            await asyncio.sleep(0.5)
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        summary = compliance_pb2.GetActivitySummaryRequest()
        summary.since.FromDatetime(today - timedelta(days=13))
        summary.until.FromDatetime(today + timedelta(days=1))

        registry = registry_pb2_grpc.RegistryServiceStub(channel)

        async def overview_calls() -> None:
            await asyncio.gather(
                stub.GetActivitySummary(summary, timeout=60),
                stub.GetDeliveryBacklog(compliance_pb2.GetDeliveryBacklogRequest(), timeout=60),
                registry.ListRepairApplications(registry_pb2.ListRepairApplicationsRequest(overdue_only=True)),
                registry.ListListings(registry_pb2.ListListingsRequest(overdue_only=True)),
            )

        search = compliance_pb2.SearchEventsRequest(
            filter=compliance_pb2.EventFilter(subject_identifier=SUBJECT, kind="inquiry"), page_size=50
        )

        async def search_call() -> None:
            _ = [m async for m in stub.SearchEvents(search, timeout=60)]

        await overview_calls()
        await search_call()
        return await _timed(overview_calls, rounds), await _timed(search_call, rounds)


def _line(name: str, page: list[float], bare: list[float]) -> str:
    p, b = statistics.median(page), statistics.median(bare)
    return (
        f"{name}: page p50 {p:.0f} ms (max {max(page):.0f}), bare gRPC p50 {b:.0f} ms; ratio {p / b:.2f}; "
        f"goal < {GOAL_MS:.0f} ms: {goal(p < GOAL_MS)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        layout = create_federation(
            Path(directory),
            [REGION],
            {"officer": OFFICER},
            datetime.now(UTC),
            roles={"officer": (Role.COMPLIANCE_OFFICER,)},
        )
        config = layout.node_config(REGION)
        print(f"loading {args.events} events ...", flush=True)
        print(f"loaded and integrated in {load(config, args.events):.0f} s", flush=True)
        node, port = spawn(serve_node, str(config))
        console = None
        try:
            overview_bare, search_bare = asyncio.run(_grpc_times(layout, port, args.rounds, args.events))
            command = [sys.executable, "-m", "share_gateway.cli", "console", "--node", f"localhost:{port}"]
            console = subprocess.Popen(
                [*command, "--identity", str(layout.client("officer").directory)], stdout=subprocess.PIPE, text=True
            )
            assert console.stdout is not None
            match = re.search(r"(http://127\.0\.0\.1:\d+)/\?token=\S+", console.stdout.readline())
            if match is None:
                raise SystemExit("the console printed no URL")
            opener = _opener(match.group(0))
            base = match.group(1)
            _page_times(opener, f"{base}/", 1)
            overview_page = _page_times(opener, f"{base}/", args.rounds)
            search_page = _page_times(opener, f"{base}/search?subject={SUBJECT}&kind=inquiry", args.rounds)
        finally:
            if console is not None:
                console.terminate()
                console.wait(20)
            stop(node)
    print(f"{args.events} events in the log, {args.rounds} rounds each")
    print(_line("overview (14 days)", overview_page, overview_bare))
    print(_line("event search, first page", search_page, search_bare))


if __name__ == "__main__":
    main()
