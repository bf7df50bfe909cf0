"""Leader takeover: two replicas of a region on PostgreSQL; SIGKILL the leader, time the new leader's first checkpoint.

Both replicas are `share-gateway serve` processes on one fresh schema, as an
operator runs them. This process appends events to the region's log all the
while (so every leader has something to checkpoint), kills whichever replica
leads, and times from the SIGKILL to the survivor saying it leads and to the
first checkpoint larger than any before the kill (the new leader's). The
killed replica is started again as a follower before the next round.
Goal: takeover within 5 s (gateway.leadership: the retry interval plus the
first step).

    python -m bench.takeover [--rounds 5] [--postgres URL]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import yaml

from bench.harness import postgres_reachable, postgres_schema
from share_gateway.devkit import create_federation, free_ports
from share_gateway.domain.events import Event, EventKind, Outcome
from share_gateway.store.database import migrate, open_database
from share_gateway.store.repositories import Store
from tests.processes import Process

REGION = "110000"
LEADING = "leading the region"
NODE = f"sgw://node/{REGION}"
DEFAULT_POSTGRES = os.environ.get("SHARE_GATEWAY_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def replica(config: Path) -> Process:
    return Process([sys.executable, "-m", "share_gateway.cli", "-v", "serve", "--config", str(config)], "mTLS port")


def leads(process: Process, since: int = 0) -> bool:
    return any(LEADING in line for line in process.output[since:])


class Appender(threading.Thread):
    """Appends one event every ``every`` seconds until stopped: the log always has something to checkpoint."""

    def __init__(self, store: Store, every: float = 0.01) -> None:
        super().__init__(daemon=True)
        self.store, self.every, self.running = store, every, True

    def run(self) -> None:
        while self.running:
            now = datetime.now(UTC)
            self.store.append(
                [Event(str(uuid.uuid4()), EventKind.INQUIRY, now, REGION, "sgw://node/110000", Outcome.ALLOWED)]
            )
            time.sleep(self.every)


def wait(condition: Callable[[], bool], seconds: float = 60.0, poll: float = 0.005) -> float:
    """Poll ``condition`` until it holds; return the monotonic time it was first seen to."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {seconds} s")
        time.sleep(poll)
    return time.monotonic()


def latest_size(store: Store) -> int:
    latest = store.log.latest_checkpoint()
    return -1 if latest is None else latest.size


def kill_the_leader(processes: list[Process], configs: list[Path], store: Store) -> tuple[float, float]:
    """One round: SIGKILL the leader; seconds until the survivor leads and until its first checkpoint. The killed
    replica is started again (a follower now)."""
    wait(lambda: any(leads(p) for p in processes))
    leader = next(i for i, p in enumerate(processes) if leads(p))
    survivor = processes[1 - leader]
    mark = len(survivor.output)
    before = latest_size(store)
    killed = time.monotonic()
    processes[leader].kill()
    led = wait(lambda: leads(survivor, mark))
    checkpointed = wait(lambda: latest_size(store) > before)
    processes[leader] = replica(configs[leader])
    processes[leader].wait_ready()
    return led - killed, checkpointed - killed


def measure(url: str, rounds: int, root: Path) -> list[tuple[float, float]]:
    layout = create_federation(root, [REGION], {}, datetime.now(UTC))
    settings = yaml.safe_load(layout.node_config(REGION).read_text()) | {"database": url, "public_listen": None}
    configs = []
    for index, port in enumerate(free_ports(2)):
        config = layout.node_dir(REGION) / f"replica-{index}.yaml"
        config.write_text(yaml.safe_dump(settings | {"listen": f"127.0.0.1:{port}"}))
        configs.append(config)
    database = open_database(url, pool_size=2)
    migrate(database)
    store = Store(database)
    appender = Appender(store)
    processes = [replica(config) for config in configs]
    results = []
    try:
        for process in processes:
            process.wait_ready()
        appender.start()
        for _ in range(rounds):
            results.append(kill_the_leader(processes, configs, store))
            led, checkpointed = results[-1]
            print(f"  round {len(results)}: leading after {led:.2f} s, first checkpoint after {checkpointed:.2f} s")
    finally:
        appender.running = False
        for process in processes:
            process.stop()
        database.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.takeover", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES)
    args = parser.parse_args()
    if (why := postgres_reachable(args.postgres)) is not None:
        raise SystemExit(f"no PostgreSQL at {args.postgres}: {why}")
    with postgres_schema(args.postgres) as url, tempfile.TemporaryDirectory() as root:
        results = measure(url, args.rounds, Path(root))
    checkpoints = [c for _, c in results]
    median, worst = statistics.median(checkpoints), max(checkpoints)
    print(
        f"leader takeover (SIGKILL -> first checkpoint by the new leader): median {median:.2f} s,"
        f" max {worst:.2f} s over {len(checkpoints)} rounds (goal <= 5 s)"
    )


if __name__ == "__main__":
    main()
