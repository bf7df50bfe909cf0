"""A harvesting client at full speed against another requester's latency, in one run.

A person enumerates sequential resident ID numbers on ``public_lookup`` as fast
as its connections allow; it is cut off by its quotas (the sample catalog's
public_lookup quota) and keeps pushing, refused. Meanwhile the bench bank
inquires for loan underwriting at a steady closed loop. On one node process the
bank is measured in spans beside the harvester and alone, taking turns (the
harvester process is started once and paused between spans, so its start is
never measured); each span's p99 is compared with its two neighbours', so a
node or machine drifting over the run favours neither side. Goal: the
harvester raises the bank's p99 by at most 20 %.

    python -m bench.harvesting [--records 3000] [--seconds 6] [--concurrency 8] [--harvesters 32] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import multiprocessing
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from multiprocessing.synchronize import Event as EventType
from pathlib import Path
from typing import Any

import grpc
import yaml

from bench.harness import alternating_ratio, closed_loop, spawn, stop
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
    layout: Layout, port: int, concurrency: int, gate: EventType, stopped: asyncio.Event, counts: Any
) -> None:
    """Enumerate at full speed while ``gate`` is set, until ``stopped``, counting (answered, refused) in
    ``counts``; its connection stays open while paused, so a resumed harvester harvests at once."""
    files = layout.client("harvester")
    serials = itertools.count(1)
    harvesting = asyncio.Event()

    async def follow_gate() -> None:
        # A multiprocessing event cannot be awaited; a look every 20 ms is far below a span's length.
        while not stopped.is_set():
            harvesting.set() if gate.is_set() else harvesting.clear()
            await asyncio.sleep(0.02)
        harvesting.set()

    async with open_channel(f"localhost:{port}", credentials(files.certificate, files.key, files.ca)) as channel:
        stub = inquiry_pb2_grpc.InquiryServiceStub(channel)

        async def worker() -> None:
            while not stopped.is_set():
                await harvesting.wait()
                subject = common_pb2.Subject(
                    kind=common_pb2.SUBJECT_KIND_INDIVIDUAL, identifier=_resident_id(next(serials) % 28000)
                )
                try:
                    await stub.Inquire(inquiry_pb2.InquireRequest(subject=subject, purpose="public_lookup"), timeout=10)
                    counts[0] += 1
                except grpc.aio.AioRpcError:
                    counts[1] += 1

        await asyncio.gather(follow_gate(), *(worker() for _ in range(concurrency)))


def _harvester_process(
    root: str, port: int, concurrency: int, gate: EventType, stop_flag: EventType, counts: Any
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
        await _harvest(layout, port, concurrency, gate, stopped, counts)
        await watcher

    asyncio.run(run())


class Harvester:
    """A harvester process that is started once and then paused and resumed between spans."""

    def __init__(self, layout: Layout, port: int, concurrency: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.gate, self._stop, self.counts = context.Event(), context.Event(), context.Array("q", 2)
        self._process = context.Process(
            target=_harvester_process, args=(str(layout.root), port, concurrency, self.gate, self._stop, self.counts)
        )
        self._process.start()

    def calls(self) -> tuple[int, int]:
        return self.counts[0], self.counts[1]

    async def resume(self, settled_calls: int) -> None:
        """Harvest again, returning once ``settled_calls`` more calls have ended: measured at full speed only (on
        two cores, a process getting going would be counted against the bank)."""
        before = sum(self.calls())
        self.gate.set()
        async with asyncio.timeout(120):
            # The counts live in another process: nothing to await but time.
            while sum(self.calls()) < before + settled_calls:  # noqa: ASYNC110
                await asyncio.sleep(0.05)

    async def pause(self) -> None:
        """Stop harvesting; returns once no call of the harvester has ended for a while (its calls in flight ended)."""
        self.gate.clear()
        last = self.calls()
        async with asyncio.timeout(120):
            while True:
                await asyncio.sleep(0.5)
                if self.calls() == last:
                    return
                last = self.calls()

    def close(self) -> None:
        self._stop.set()
        self.gate.set()
        self._process.join(30)
        if self._process.is_alive():
            self._process.kill()


async def _spans(layout: Layout, port: int, bank: Bank, args: argparse.Namespace) -> list[float]:
    """The bank's p99 over spans taken beside, alone, beside, ... (an odd count, the ends beside the harvester)."""
    files = layout.client("bank")
    requests, stream = bank
    harvester = Harvester(layout, port, args.harvesters)
    p99s: list[float] = []
    try:
        async with open_channel(f"localhost:{port}", credentials(files.certificate, files.key, files.ca)) as channel:
            stub = inquiry_pb2_grpc.InquiryServiceStub(channel)

            async def inquire(n: int) -> object:
                return await stub.Inquire(requests[next(stream) % len(requests)], timeout=10)

            await closed_loop("warm-up", inquire, args.concurrency, args.seconds / 2)
            for span in range(2 * args.rounds + 1):
                beside = span % 2 == 0
                if beside:
                    await harvester.resume(settled_calls=2 * args.harvesters)
                before = harvester.calls()
                result = await closed_loop(
                    "bank beside a harvester" if beside else "bank alone", inquire, args.concurrency, args.seconds
                )
                answered, refused = (now - then for now, then in zip(harvester.calls(), before, strict=True))
                if beside:
                    await harvester.pause()
                print(
                    f"  {result.line()}" + (f"   harvester: {answered} answered, {refused} refused" if beside else "")
                )
                p99s.append(result.percentile(99))
    finally:
        harvester.close()
    return p99s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=6.0, help="each span")
    parser.add_argument("--concurrency", type=int, default=8, help="the bank's calls in flight")
    parser.add_argument("--harvesters", type=int, default=32, help="the harvester's calls in flight")
    parser.add_argument("--rounds", type=int, default=3, help="pairs of spans alone and beside, one more beside")
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
        process, port = spawn(serve_node, str(config_path))
        try:
            p99s = asyncio.run(_spans(layout, port, bank, args))
        finally:
            stop(process)
        ratio = alternating_ratio(p99s)
        print(
            f"bank p99 beside a harvester / alone, each span against its neighbours, median of {len(p99s) - 2}: "
            f"{ratio:.2f} (goal <= 1.20)"
        )


if __name__ == "__main__":
    main()
