"""``python -m bench.scale``: does a region's node stay as fast at a million records as at ten thousand?

Issue 14's goals, on PostgreSQL: the inquiry's p50 and p99 with ``--large`` records (default 1,000,000) over the
same with ``--small`` (default 10,000) at most 1.2; an inclusion proof at the large log's size (a leaf per
record and more) under 2 ms. Each database is loaded with ``share-gateway seed`` (COPY), in ``--jobs``
processes at once, and served by its own node process, whose sequencer integrates every seeded event before
anything is measured. The two nodes are measured in turn, ``--rounds`` times (small, large, small, ...), with
the bench bank's loan-underwriting inquiries about seeded subjects (a consent each, as ``bench.inquiry_path``);
the ratio of medians over the rounds is the figure.

    python -m bench.scale --large 100000 --seconds 10     # a smaller run: say so beside the figures
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from multiprocessing.process import BaseProcess
from pathlib import Path

import yaml

from bench.harness import Result, closed_loop, postgres_schema, spawn, stop
from bench.inquiry_path import BANK, REGION, bank_inquiries, register_callers, serve_node, unlimited_quota
from bench.log.support import goal
from share_gateway.api.convert import subject_to_wire
from share_gateway.client import credentials, open_channel
from share_gateway.devkit import Layout, create_federation
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.store.database import migrate, open_database
from share_gateway.store.log import LogStore
from share_gateway.store.repositories import Store
from share_gateway.synthetic import Population
from share_gateway.v1 import common_pb2, inquiry_pb2, inquiry_pb2_grpc

DEFAULT_POSTGRES = os.environ.get("SHARE_GATEWAY_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SAMPLE_SUBJECTS = 4096


def _configure(layout: Layout, name: str, url: str) -> Path:
    """A node configuration of its own on ``url``, the bench bank's quota out of reach."""
    base = yaml.safe_load(layout.node_config(REGION).read_text())
    path = layout.node_config(REGION).parent / f"{name}.yaml"
    path.write_text(yaml.safe_dump({**base, "database": url, "quotas": unlimited_quota(BANK.uri)}))
    return path


def _seed(config: Path, records: int, jobs: int) -> float:
    """Load ``records`` with ``share-gateway seed``: a first small run registers the seeding providers, then
    ``jobs`` processes at once, each its own population seed; the seconds it took."""
    started = time.perf_counter()
    command = [sys.executable, "-m", "share_gateway.cli", "seed", "--config", str(config)]
    first = min(records, 1000)
    subprocess.run([*command, "--records", str(first), "--seed", "1"], check=True, stdout=subprocess.DEVNULL)
    left, share = records - first, -(-(records - first) // jobs) if records > first else 0
    running = []
    for job in range(jobs):
        count = min(share, left - job * share)
        if count > 0:
            seed = ["--records", str(count), "--seed", str(job + 2)]
            running.append(subprocess.Popen([*command, *seed], stdout=subprocess.DEVNULL))
    if any(process.wait() for process in running):
        raise SystemExit("a seed job failed")
    return time.perf_counter() - started


def _scalar(url: str, sql: str) -> int:
    database = open_database(url)
    try:
        with database.reader.connect() as connection:
            return int(connection.exec_driver_sql(sql).scalar() or 0)
    finally:
        database.dispose()


def _integrated(url: str, events: int, patience: float) -> float:
    """Wait until the node's sequencer has checkpointed ``events`` leaves; the seconds it took."""
    started = time.perf_counter()
    while _scalar(url, "SELECT coalesce(max(size), 0) FROM log_checkpoints") < events:
        if time.perf_counter() - started > patience:
            raise SystemExit(f"the log did not reach {events} leaves within {patience:g} s")
        time.sleep(1)
    return time.perf_counter() - started


def _subjects(url: str) -> list[common_pb2.Subject]:
    """A fixed random sample of the seeded subjects (the ones the bench bank asks about)."""
    sql = f"SELECT DISTINCT subject_kind, subject_id FROM records ORDER BY subject_id LIMIT {SAMPLE_SUBJECTS * 8}"
    database = open_database(url)
    try:
        with database.reader.connect() as connection:
            rows = connection.exec_driver_sql(sql).all()
    finally:
        database.dispose()
    sample = random.Random(5).sample(rows, min(SAMPLE_SUBJECTS, len(rows)))
    return [subject_to_wire(Subject(SubjectKind(kind), identifier)) for kind, identifier in sample]


async def _measure(
    layout: Layout, port: int, requests: list[inquiry_pb2.InquireRequest], name: str, args: argparse.Namespace
) -> Result:
    files = layout.client("bank")
    async with open_channel(f"localhost:{port}", credentials(files.certificate, files.key, files.ca)) as channel:
        stub = inquiry_pb2_grpc.InquiryServiceStub(channel)
        sample = [await stub.Inquire(r, timeout=30) for r in requests[:20]]
        if not any(answer.records for answer in sample):
            raise SystemExit(f"{name}: the inquiries found no records; the bench would measure an empty path")
        start = random.Random(len(name)).randrange(len(requests))

        async def inquire(n: int) -> object:
            return await stub.Inquire(requests[(start + n) % len(requests)], timeout=30)

        return await closed_loop(name, inquire, args.concurrency, args.seconds)


def _inclusion_proofs(url: str, count: int) -> Result:
    """Inclusion proofs of random leaves at the log's latest checkpoint, read from the stored tree."""
    database = open_database(url)
    try:
        size = _scalar(url, "SELECT max(size) FROM log_checkpoints")
        log = LogStore(database)
        rng = random.Random(11)
        for index in (rng.randrange(size) for _ in range(20)):
            log.inclusion_proof(index, size)  # warm-up
        latencies = []
        began = time.perf_counter()
        for index in (rng.randrange(size) for _ in range(count)):
            before = time.perf_counter()
            log.inclusion_proof(index, size)
            latencies.append((time.perf_counter() - before) * 1000)
        return Result(f"inclusion proof at {size} leaves", count, time.perf_counter() - began, latencies, "proofs/s")
    finally:
        database.dispose()


def run(args: argparse.Namespace, directory: Path) -> None:
    layout = create_federation(directory / "federation", [REGION], {"bank": BANK}, datetime.now(UTC))
    population = Population(seed=1, today=datetime.now(UTC).date())
    sizes = {"small": args.small, "large": args.large}
    with ExitStack() as stack:
        nodes: dict[str, tuple[BaseProcess, int, str]] = {}
        requests = {}
        for name, records in sizes.items():
            url = stack.enter_context(postgres_schema(args.postgres_url))
            config = _configure(layout, name, url)
            database = open_database(url)
            try:
                migrate(database)
                register_callers(Store(database), population.catalog.record_types, datetime.now(UTC))
            finally:
                database.dispose()
            seconds = _seed(config, records, args.jobs)
            events = _scalar(url, "SELECT count(*) FROM events")
            print(f"  {name}: seeded {records} records ({events} events) in {seconds:.1f} s", flush=True)
            process, port = spawn(serve_node, str(config))
            stack.callback(stop, process)
            waited = _integrated(url, events, args.patience)
            print(f"  {name}: its node integrated {events} leaves in {waited:.1f} s", flush=True)
            nodes[name] = (process, port, url)
            requests[name] = bank_inquiries(layout.client("bank").directory, _subjects(url))
        measured: dict[str, list[Result]] = {name: [] for name in sizes}
        for round_number in range(args.rounds):
            for name in sizes if round_number % 2 == 0 else reversed(list(sizes)):
                label = f"{name} ({sizes[name]} records)"
                result = asyncio.run(_measure(layout, nodes[name][1], requests[name], label, args))
                measured[name].append(result)
                print("  " + result.line(), flush=True)
        for p in (50, 99):
            small = statistics.median(r.percentile(p) for r in measured["small"])
            large = statistics.median(r.percentile(p) for r in measured["large"])
            print(
                f"  inquiry p{p}: {large:.2f} ms at {args.large} records / {small:.2f} ms at {args.small} "
                f"= {large / small:.2f} (goal <= 1.2: {goal(large / small <= 1.2)})",
                flush=True,
            )
        proofs = _inclusion_proofs(nodes["large"][2], args.proofs)
        print("  " + proofs.line())
        median, p99 = proofs.percentile(50), proofs.percentile(99)
        print(f"  inclusion proof: median {median:.2f} ms ({goal(median < 2)}), p99 {p99:.2f} ms ({goal(p99 < 2)})")


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scale", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--small", type=int, default=10_000, help="records of the small database")
    parser.add_argument("--large", type=int, default=1_000_000, help="records of the large database")
    parser.add_argument("--jobs", type=int, default=2, help="seed processes at once")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of each measurement")
    parser.add_argument("--concurrency", type=int, default=8, help="concurrent inquiries")
    parser.add_argument("--rounds", type=int, default=3, help="measurements of each node, alternating")
    parser.add_argument("--proofs", type=int, default=2000, help="inclusion proofs timed")
    parser.add_argument("--patience", type=float, default=7200.0, help="seconds to wait for the log's integration")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as directory:
        print(f"== scale: inquiry at {args.large} vs {args.small} records on PostgreSQL ==", flush=True)
        run(args, Path(directory))


if __name__ == "__main__":
    main()
