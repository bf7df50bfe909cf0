"""Drain time: from SIGTERM to the exit of a `share-gateway serve` process with 64 calls in flight.

A node seeded with synthetic records serves in its own process (the command an
operator runs); 64 clients ask it loan-underwriting inquiries back to back, so
64 calls are always in flight. After a warm-up the process gets SIGTERM: it
says NOT_SERVING for the drain delay (still answering), stops taking calls,
lets those in flight finish within the grace period, stops its loops and runs
its sequencer's last step. The figure is the time to its exit, with what
became of the calls sent before the signal (none may be CANCELLED). There is
no baseline to divide by: the drain delay is a setting, and the rest is what
a stop costs.

    python -m bench.drain [--records 2000] [--in-flight 64] [--drain-delay 0] [--grace 10] [--warmup 3]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import grpc
import yaml

from bench.inquiry_path import AGENCY, BANK, REGION, _seed, bank_inquiries, unlimited_quota
from share_gateway.client import credentials, open_channel
from share_gateway.config import NodeConfig
from share_gateway.devkit import Layout, create_federation
from share_gateway.v1 import inquiry_pb2, inquiry_pb2_grpc


def serve(config: Path) -> tuple[subprocess.Popen[str], int]:
    """`share-gateway serve`, once it says its port."""
    process = subprocess.Popen(
        [sys.executable, "-m", "share_gateway.cli", "serve", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if found := re.search(r"mTLS port (\d+)", line):
            return process, int(found.group(1))
    raise SystemExit(f"the node ended before serving (exit {process.wait()})")


async def load_and_stop(
    layout: Layout,
    process: subprocess.Popen[str],
    port: int,
    requests: list[inquiry_pb2.InquireRequest],
    args: argparse.Namespace,
) -> None:
    files = layout.client("bank")
    # Sent before the signal: what became of them (OK, or the code); sent after: the same, apart.
    before: Counter[str] = Counter()
    after: Counter[str] = Counter()
    signalled = asyncio.Event()
    async with open_channel(f"localhost:{port}", credentials(files.certificate, files.key, files.ca)) as channel:
        stub = inquiry_pb2_grpc.InquiryServiceStub(channel)

        async def client(index: int) -> None:
            n = index
            while True:
                sent_before = not signalled.is_set()
                try:
                    await stub.Inquire(requests[n % len(requests)], timeout=30)
                    outcome = "OK"
                except grpc.aio.AioRpcError as error:
                    outcome = error.code().name
                (before if sent_before else after)[outcome] += 1
                if outcome != "OK":
                    return  # the server takes no more calls
                n += args.in_flight

        clients = [asyncio.create_task(client(i)) for i in range(args.in_flight)]
        await asyncio.sleep(args.warmup)
        answered = before["OK"]
        process.send_signal(signal.SIGTERM)
        signalled.set()
        signalled_at = time.monotonic()
        code = await asyncio.to_thread(process.wait)
        drain = time.monotonic() - signalled_at
        await asyncio.gather(*clients)
    sent = sum(before.values())
    print(
        f"drain time: SIGTERM to exit {drain:.2f} s with {args.in_flight} calls in flight "
        f"(drain delay {args.drain_delay:g} s, grace {args.grace:g} s), exit code {code}; "
        f"calls sent before SIGTERM: {sent} ({answered} answered before it), "
        + ", ".join(f"{k} {v}" for k, v in sorted(before.items()))
        + "; sent after: "
        + (", ".join(f"{k} {v}" for k, v in sorted(after.items())) or "none")
    )
    if before["CANCELLED"]:
        raise SystemExit(f"{before['CANCELLED']} calls in flight were CANCELLED")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=2_000)
    parser.add_argument("--in-flight", type=int, default=64)
    parser.add_argument("--drain-delay", type=float, default=0.0)
    parser.add_argument("--grace", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sgw-bench-") as directory:
        layout = create_federation(Path(directory), [REGION], {"bank": BANK, "agency": AGENCY}, datetime.now(UTC))
        config = layout.node_config(REGION)
        settings = yaml.safe_load(config.read_text()) | {
            "quotas": unlimited_quota(BANK.uri),
            "shutdown": {"drain_delay_seconds": args.drain_delay, "grace_seconds": args.grace},
        }
        config.write_text(yaml.safe_dump(settings))
        print(f"seeding {args.records} records on SQLite ...", flush=True)
        subjects = asyncio.run(_seed(NodeConfig.load(config), args.records))
        requests = bank_inquiries(layout.client("bank").directory, subjects)
        process, port = serve(config)
        try:
            asyncio.run(load_and_stop(layout, process, port, requests, args))
        finally:
            if process.poll() is None:
                process.kill()


if __name__ == "__main__":
    main()
