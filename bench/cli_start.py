"""How long ``share-gateway`` takes to start (issue 15, "Slow CLI"): ``--help``, a verb's ``--help``, and a verb
making one RPC (``catalog show --node``, on the public port) against a node this bench serves, each run as a
user runs it.

    .venv/bin/python -m bench.cli_start [--runs 10]

Each figure is the median of the runs' wall time, and their CPU time (user and system, of the child): a loaded
machine stretches the wall time, the CPU time much less. The targets: ``--help`` under 0.5 s, one RPC under 1 s.
"""

from __future__ import annotations

import argparse
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

COMMAND = [sys.executable, "-m", "share_gateway.cli"]


def _run_once(args: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of the command (the children's CPU counted before and after)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([*COMMAND, *args], check=True, capture_output=True, timeout=120)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(name: str, args: list[str], runs: int) -> None:
    _run_once(args)  # warm the file cache, as a user's second command is
    times = [_run_once(args) for _ in range(runs)]
    wall = statistics.median(t[0] for t in times)
    cpu = statistics.median(t[1] for t in times)
    print(f"{name:<34} wall {wall * 1000:6.0f} ms   CPU {cpu * 1000:6.0f} ms   ({runs} runs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    measure("share-gateway --help", ["--help"], runs)
    measure("share-gateway inquire --help", ["inquire", "--help"], runs)
    with tempfile.TemporaryDirectory() as directory:
        fed = Path(directory)
        subprocess.run([*COMMAND, "pki", "init", "--dir", str(fed), "--region", "110000"], check=True, timeout=120)
        node = subprocess.Popen(
            [*COMMAND, "serve", "--config", str(fed / "nodes" / "110000" / "node.yaml")],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            assert node.stdout is not None
            port = next(m.group(1) for line in node.stdout if (m := re.search(r"public port (\d+)", line)))
            threading.Thread(target=node.stdout.read, daemon=True).start()  # a full pipe would stall the node
            verb = ["catalog", "show", "--node", f"localhost:{port}", "--ca", str(fed / "ca" / "ca.crt")]
            verb += ["--authority", str(fed / "authority" / "authority.pub")]
            measure("share-gateway catalog show (1 RPC)", verb, runs)
        finally:
            node.terminate()
            node.wait(timeout=60)


if __name__ == "__main__":
    main()
