"""What some checks cost a node, in instructions per inquiry: load-independent, in one process.

On a two-core machine that also runs other work, calls a second and CPU seconds
swing by more than a 5 % budget from one span to the next. Instructions do not:
the node runs under ``valgrind --tool=callgrind`` with its instrumentation off,
and is switched between the two sides by the bench-only signals of
``bench.inquiry_path --ab`` (``bench.boundary_checks``). For each span the
bench turns counting on, sends the same number of the bench bank's inquiries
(the same subjects in the same order in every span, each span with consents
the node has not seen: so both sides read the same records and verify as many
new consents), dumps the count and turns counting off again. Spans alternate with,
without, with, ...; ``alternating_ratio`` cancels a drift over the run.

The count is every thread of the node process: the request path, the group
commit, the sequencer integrating the inquiries' events, and also what the node
does by the clock while merely waiting (the sequencer's and the watchers' polls).
Under valgrind a span lasts some fifty times longer than natively, so that
clock-driven work would weigh fifty times more than it does in a real node, and
more for the slower side. The bench therefore also counts the node idle, before
the first span and after the last, and takes that rate times each span's
duration off the span's count; it prints both. Before that, every period the
node keeps by the clock (the sequencer's, the witness's, the sweeps', the
health checks' and the watches' polls, the leadership's confirmations, how long
a caller's grants and the consent withdrawals are cached) is stretched by the
same factor (``DILATION``), so that per inquiry the
node does as much of that work as it does natively.

    python -m bench.instruction_counts [--ab consent-quota] [--records 2000] [--calls 200] [--spans 7] [--keep DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from bench import boundary_checks
from bench.harness import alternating_ratio
from bench.inquiry_path import (
    AGENCY,
    BANK,
    CONSENT_USES,
    REGION,
    _seed,
    _serve,
    bank_inquiries,
    switching_signals,
    unlimited_quota,
)
from share_gateway.client import credentials, open_channel
from share_gateway.config import (
    LogSettings,
    NodeConfig,
    ProcedureSettings,
    RevocationWatchSettings,
)
from share_gateway.config_operations import HealthSettings
from share_gateway.devkit import Layout, create_federation
from share_gateway.node import Node
from share_gateway.v1 import inquiry_pb2, inquiry_pb2_grpc


class _Stdout:
    """Where the node under valgrind sends its port: its standard output, read by the bench."""

    def send(self, port: int) -> None:
        print(port, flush=True)


# How much slower a node runs under callgrind than natively (roughly; 50 here). What the node does by the clock,
# it does that much more often per call under valgrind.
DILATION = 50


def _dilated(node: Node) -> None:
    """Withdrawals are read again after ``withdrawn_ttl`` seconds: per call, as often as natively."""
    consents = node.gateway.consents
    consents.withdrawn_ttl *= DILATION


def _dilated_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """``settings`` (a node.yaml) with every period the node keeps by the clock ``DILATION`` times longer."""
    log = LogSettings()
    return {
        **settings,
        "principal_ttl_seconds": 2.0 * DILATION,
        "revocation_poll_seconds": 5.0 * DILATION,
        "log": {
            "integrate_interval_seconds": log.integrate_interval_seconds * DILATION,
            "checkpoint_interval_seconds": log.checkpoint_interval_seconds * DILATION,
            "witness_interval_seconds": log.witness_interval_seconds * DILATION,
            "leader_retry_seconds": log.leader_retry_seconds * DILATION,
        },
        "health": {"interval_seconds": HealthSettings().interval_seconds * DILATION},
        "procedures": {"sweep_interval_seconds": ProcedureSettings().sweep_interval_seconds * DILATION},
        "revocation_watch": {"reread_seconds": RevocationWatchSettings().reread_seconds * DILATION},
    }


def _serve_switching(config_path: str, checks: str) -> None:
    """The node under valgrind: checks out on SIGUSR1, back on SIGUSR2 (as ``serve_node_switching``)."""
    asyncio.run(_serve(_Stdout(), config_path, switching_signals(checks), _dilated))


def _callgrind(pid: int, *options: str) -> None:
    subprocess.run(["callgrind_control", *options, str(pid)], check=True, capture_output=True, timeout=600)


def _counted(pid: int, folder: Path, work: Callable[[], None]) -> tuple[int, float]:
    """Instructions the node ran while ``work`` ran (counting on only then), and the seconds it took."""
    _callgrind(pid, "-i", "on")
    _callgrind(pid, "-z")
    started = time.monotonic()
    work()
    seconds = time.monotonic() - started
    before = set(folder.iterdir())
    _callgrind(pid, "-d")
    count = _dumped_instructions(folder, pid, before)
    _callgrind(pid, "-i", "off")
    return count, seconds


def _dumped_instructions(folder: Path, pid: int, before: set[Path]) -> int:
    """The instruction count of the dump ``callgrind_control -d`` just wrote (the one file not seen before)."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        new = [p for p in folder.glob(f"callgrind.{pid}*") if p not in before]
        for path in new:
            for line in path.read_text().splitlines():
                if line.startswith(("summary:", "totals:")):
                    return int(line.split()[1])
        time.sleep(0.2)
    raise RuntimeError("callgrind wrote no dump within 600 s")


async def _send(port: int, layout: Layout, requests: list[inquiry_pb2.InquireRequest]) -> None:
    """Every one of ``requests``, 8 in flight; each must be answered."""
    files = layout.client("bank")
    numbers = iter(requests)
    async with open_channel(f"localhost:{port}", credentials(files.certificate, files.key, files.ca)) as channel:
        stub = inquiry_pb2_grpc.InquiryServiceStub(channel)

        async def worker() -> None:
            for request in numbers:
                await stub.Inquire(request, timeout=600)

        await asyncio.gather(*(worker() for _ in range(8)))


def main() -> None:
    if sys.argv[1:2] == ["serve"]:
        _serve_switching(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ab", choices=boundary_checks.CHECKS, default="consent-quota")
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--calls", type=int, default=200, help="inquiries per measured span")
    parser.add_argument("--spans", type=int, default=7, help="measured spans, alternating with and without")
    parser.add_argument("--consent-uses", type=int, default=CONSENT_USES)
    parser.add_argument("--idle-seconds", type=float, default=20.0, help="how long the idle node is counted")
    parser.add_argument("--keep", type=Path, help="keep callgrind's dumps in this folder (for callgrind_annotate)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sgw-bench-") as directory:
        root = Path(directory)
        layout = create_federation(root / "federation", [REGION], {"bank": BANK, "agency": AGENCY}, datetime.now(UTC))
        config_path = layout.node_config(REGION)
        settings = yaml.safe_load(config_path.read_text())
        config_path.write_text(yaml.safe_dump(_dilated_settings({**settings, "quotas": unlimited_quota(BANK.uri)})))
        print(f"seeding {args.records} records ...", flush=True)
        subjects = asyncio.run(_seed(NodeConfig.load(config_path), args.records))
        consents = -(-args.calls // args.consent_uses)

        def span_inquiries(span: str) -> list[inquiry_pb2.InquireRequest]:
            forms = f"bench authorisation form, {span}"
            return bank_inquiries(layout.client("bank").directory, subjects, args.consent_uses, consents, forms)[
                : args.calls
            ]

        dumps = args.keep or root / "callgrind"
        dumps.mkdir(parents=True, exist_ok=True)
        command = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={dumps}/callgrind.%p",
            sys.executable,
            "-m",
            "bench.instruction_counts",
            "serve",
            str(config_path),
            args.ab,
        ]
        node_log = (root / "node.log").open("w")
        node = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=node_log, text=True)
        try:
            assert node.stdout is not None
            port = int(node.stdout.readline())
            print(f"node under callgrind on port {port}; {args.calls} inquiries per span", flush=True)
            # One span uncounted: a fresh node's first calls fill its caches (and would favour the later side).
            asyncio.run(_send(port, layout, span_inquiries("warm-up")))
            idle = [_counted(node.pid, dumps, lambda: time.sleep(args.idle_seconds))]
            spans: list[tuple[int, float]] = []
            for span in range(args.spans):
                checked = span % 2 == 0
                os.kill(node.pid, signal.SIGUSR2 if checked else signal.SIGUSR1)
                work = functools.partial(asyncio.run, _send(port, layout, span_inquiries(f"span {span}")))
                spans.append(_counted(node.pid, dumps, work))
                count, seconds = spans[-1]
                side = "with" if checked else "without"
                print(
                    f"  span {span + 1} {side:<7} the {args.ab} checks: {count / args.calls:12,.0f} instr/call "
                    f"over {seconds:.0f} s",
                    flush=True,
                )
            idle.append(_counted(node.pid, dumps, lambda: time.sleep(args.idle_seconds)))
        except BaseException:
            words = (root / "node.log").read_text()
            print("the node's last words:\n" + "".join(words.splitlines(True)[-30:]))
            if args.keep is not None:
                (args.keep / "node.log").write_text(words)
            raise
        finally:
            node.terminate()
            node.wait(120)
            node_log.close()
        rate = sum(count for count, _ in idle) / sum(seconds for _, seconds in idle)
        print(f"  idle node: {rate:,.0f} instr/s")
        raw = alternating_ratio([count / args.calls for count, _ in spans])
        net = alternating_ratio([(count - rate * seconds) / args.calls for count, seconds in spans])
        print(
            f"instructions per inquiry with/without the {args.ab} checks, {len(spans)} alternating spans, "
            f"drift cancelled: {net:.3f} idle work taken off, {raw:.3f} as counted (budget <= 1.05)"
        )


if __name__ == "__main__":
    main()
