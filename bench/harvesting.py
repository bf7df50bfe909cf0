"""A harvesting client at full speed against another requester's latency, in one run.

A person enumerates sequential resident ID numbers on ``public_lookup`` as fast
as its connections allow; it is cut off by its quotas (the sample catalog's
public_lookup quota) and keeps pushing, refused. Meanwhile the bench bank
inquires for loan underwriting at a steady closed loop. Each round measures the
bank alone and the bank beside the harvester (the two in alternating order) on
the same node process, and reports the bank's p99 with and without the
harvester. Goal: the harvester raises the bank's p99 by at most 20 %.

    python -m bench.harvesting [--records 3000] [--seconds 8] [--concurrency 8] [--harvesters 32] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import multiprocessing
import statistics
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from multiprocessing.synchronize import Event as EventType
from pathlib import Path
from typing import Any

import grpc
import yaml

from bench.harness import Result, closed_loop, spawn, stop
from bench.inquiry_path import (
    AGENCY,
    BANK,
    CONSENT_USES,
    REGION,
    _seed,
    bank_inquiries,
    serve_node,
    unlimited_quota,
)
from share_gateway.client import credentials, open_channel
from share_gateway.config import NodeConfig
from share_gateway.devkit import Layout, create_federation
from share_gateway.domain.principals import Identity, IdentityKind
from share_gateway.v1 import common_pb2, inquiry_pb2, inquiry_pb2_grpc

# The bank's inquiries and the numbers of those to send next.
Bank = tuple[list[inquiry_pb2.InquireRequest], Iterator[int]]
HARVESTER = Identity(IdentityKind.PERSON, "110105198001011238")
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def _resident_id(serial: int) -> str:
    """The ``serial``-th valid resident ID number of people born 1980-01-01 onwards (order codes counted through)."""
    body = f"110105{19800101 + serial // 1000:08d}{serial % 1000:03d}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True)) % 11]


async def _harvest(
    layout: Layout, port: int, concurrency: int, running: EventType, stopped: asyncio.Event, counts: Any
) -> None:
    """Enumerate at full speed until ``stopped``, counting (answered, refused) in ``counts`` as it goes and
    setting ``running`` once every worker has had an answer."""
    files = layout.client("harvester")
    serials = itertools.count(1)
    warm = itertools.count(1)
    async with open_channel(f"localhost:{port}", credentials(files.certificate, files.key, files.ca)) as channel:
        stub = inquiry_pb2_grpc.InquiryServiceStub(channel)

        async def worker() -> None:
            first = True
            while not stopped.is_set():
                subject = common_pb2.Subject(
                    kind=common_pb2.SUBJECT_KIND_INDIVIDUAL, identifier=_resident_id(next(serials) % 28000)
                )
                try:
                    await stub.Inquire(inquiry_pb2.InquireRequest(subject=subject, purpose="public_lookup"), timeout=10)
                    counts[0] += 1
                except grpc.aio.AioRpcError:
                    counts[1] += 1
                if first:
                    first = False
                    if next(warm) == concurrency:
                        running.set()

        await asyncio.gather(*(worker() for _ in range(concurrency)))


async def _bank(layout: Layout, port: int, bank: Bank, seconds: float, concurrency: int, name: str) -> Result:
    files = layout.client("bank")
    requests, stream = bank
    async with open_channel(f"localhost:{port}", credentials(files.certificate, files.key, files.ca)) as channel:
        stub = inquiry_pb2_grpc.InquiryServiceStub(channel)

        async def inquire(n: int) -> object:
            return await stub.Inquire(requests[next(stream) % len(requests)], timeout=10)

        return await closed_loop(name, inquire, concurrency, seconds)


def _harvester_process(
    root: str, port: int, concurrency: int, running: EventType, stop_flag: EventType, counts: Any
) -> None:
    """The harvester in a process of its own: its client work must not slow the bank's client."""
    layout = Layout(Path(root))

    async def run() -> None:
        stopped = asyncio.Event()

        async def watch() -> None:
            # A multiprocessing event cannot be awaited: its wait runs on a thread.
            await asyncio.to_thread(stop_flag.wait)
            stopped.set()

        watcher = asyncio.ensure_future(watch())
        await _harvest(layout, port, concurrency, running, stopped, counts)
        await watcher

    asyncio.run(run())


def _round(
    layout: Layout, port: int, bank: Bank, args: argparse.Namespace, harvested: bool
) -> tuple[Result, tuple[int, int]]:
    if not harvested:
        return asyncio.run(_bank(layout, port, bank, args.seconds, args.concurrency, "bank alone")), (0, 0)
    context = multiprocessing.get_context("spawn")
    running, stop_flag, counts = context.Event(), context.Event(), context.Array("q", 2)
    harvester = context.Process(
        target=_harvester_process, args=(str(layout.root), port, args.harvesters, running, stop_flag, counts)
    )
    harvester.start()
    try:
        # Measured at full speed only: the harvester's start (a Python process importing its client, connecting)
        # is not harvesting, and on two cores it would be counted against the bank.
        if not running.wait(60):
            raise RuntimeError("the harvester did not get going within 60 s")
        before = (counts[0], counts[1])
        result = asyncio.run(_bank(layout, port, bank, args.seconds, args.concurrency, "bank beside a harvester"))
    finally:
        stop_flag.set()
        harvester.join(30)
    return result, (counts[0] - before[0], counts[1] - before[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=8, help="the bank's calls in flight")
    parser.add_argument("--harvesters", type=int, default=32, help="the harvester's calls in flight")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--consent-uses",
        type=int,
        default=CONSENT_USES,
        help="the bank's inquiries per consent: 1 in N brings a new one",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sgw-bench-") as directory:
        clients = {"bank": BANK, "agency": AGENCY, "harvester": HARVESTER}
        layout = create_federation(Path(directory), [REGION], clients, datetime.now(UTC))
        config_path = layout.node_config(REGION)
        settings = yaml.safe_load(config_path.read_text())
        # The bank's quota is out of reach; the harvester has the catalog's public_lookup quota, as anyone has.
        config_path.write_text(yaml.safe_dump({**settings, "quotas": unlimited_quota(BANK.uri)}))
        print(f"seeding {args.records} records ...", flush=True)
        subjects = asyncio.run(_seed(NodeConfig.load(config_path), args.records))
        # One stream of the bank's inquiries over the whole run: 1 in --consent-uses brings a consent the node
        # has not seen, in every measurement alike.
        bank = (bank_inquiries(layout.client("bank").directory, subjects, args.consent_uses), itertools.count())
        ratios: list[float] = []
        for round_number in range(1, args.rounds + 1):
            process, port = spawn(serve_node, str(config_path))
            try:
                print(f"round {round_number}:")
                results: dict[bool, Result] = {}
                # Alone and beside the harvester take turns going first.
                for harvested in (False, True) if round_number % 2 else (True, False):
                    result, (answered, refused) = _round(layout, port, bank, args, harvested)
                    results[harvested] = result
                    print("  " + result.line())
                    if harvested:
                        print(f"  harvester: {answered} answered, {refused} refused")
            finally:
                stop(process)
            ratio = results[True].percentile(99) / results[False].percentile(99)
            ratios.append(ratio)
            print(f"  bank p99 beside/alone: {ratio:.2f}x")
        median = statistics.median(ratios)
        print(f"median bank p99 ratio beside a harvester over {len(ratios)} rounds: {median:.2f} (goal <= 1.20)")


if __name__ == "__main__":
    main()
