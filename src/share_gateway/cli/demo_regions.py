"""The demo's regions, each a ``share-gateway serve`` process of its own, as an operator runs them.

The demo prepares each region's database before its node serves (``prepare``: the cast registered and the
synthetic records recorded, through the node's own use cases), then starts the three nodes at once and talks to
them over gRPC only. What it shows of a region's log and records it reads from that region's database, as an
auditor could while the node runs. With ``--keep-running`` it prints each node's PID: stopping one region
(``kill <pid>``) leaves the others serving, and they deliver to it once it is back.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from share_gateway.config import NodeConfig
from share_gateway.domain.records import RecordStatus
from share_gateway.gateway import Gateway
from share_gateway.node import prepare_gateway
from share_gateway.store.database import Database, open_database
from share_gateway.store.log import StoredCheckpoint
from share_gateway.store.repositories import Store

READY = re.compile(r"node (\d{6}) listening: mTLS port (\d+)(?:, public port (\d+))?")
# How long a region may take to start serving: imports and migrations on a loaded machine.
START_SECONDS = 120.0


async def prepare(config: NodeConfig, work: Callable[[Gateway], Awaitable[None]]) -> None:
    """Run ``work`` on the region's gateway before its node serves, then close it: what an operator bootstraps."""
    database, gateway = prepare_gateway(config)
    try:
        await work(gateway)
    finally:
        await gateway.close()
        database.dispose()


@dataclass
class RegionNode:
    """One region's node as the demo sees it: its process and ports, and its database opened for reading."""

    region: str
    process: subprocess.Popen[str]
    port: int
    public_port: int
    database: Database
    output: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def store(self) -> Store:
        return Store(self.database)

    def status(self, origin: str, record_id: str) -> RecordStatus | None:
        stored = self.store.records.get(origin, record_id)
        return None if stored is None else stored.record.status

    def count(self, table: str) -> int:
        return self.store.count(table)

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        return self.store.log.latest_checkpoint()

    def leaf_of(self, event_id: str) -> int | None:
        """The leaf index of a logged event once the node's sequencer has integrated it, else None."""
        entry = self.store.log.entry(event_id)
        return None if entry is None else entry.leaf_index

    def stop(self) -> None:
        """SIGTERM, as an operator stops a node; SIGKILL if it has not stopped within a generous grace."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.database.dispose()


def start_regions(configs: Mapping[str, Path]) -> dict[str, RegionNode]:
    """Start every region's ``share-gateway serve`` at once; return them once each says it listens."""
    started = {
        region: subprocess.Popen(  # noqa: S603 (this interpreter, our own command, the demo's own files)
            [sys.executable, "-m", "share_gateway.cli", "serve", "--config", str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        for region, path in configs.items()
    }
    nodes: dict[str, RegionNode] = {}
    try:
        for region, process in started.items():
            output: list[str] = []
            port, public_port = _wait_listening(process, output)
            database = open_database(NodeConfig.load(configs[region]).database)
            nodes[region] = RegionNode(region, process, port, public_port, database, output)
            threading.Thread(target=_drain, args=(process.stdout, output), daemon=True).start()
    except BaseException:
        for process in started.values():
            process.kill()
        raise
    return nodes


def stop_regions(nodes: Mapping[str, RegionNode]) -> None:
    """SIGTERM to every node at once (each drains on its own), then wait for each."""
    for node in nodes.values():
        if node.process.poll() is None:
            node.process.terminate()
    for node in nodes.values():
        node.stop()


def _wait_listening(process: subprocess.Popen[str], output: list[str]) -> tuple[int, int]:
    """The node's mTLS and public ports, from the line ``serve`` prints once it listens."""
    found: list[tuple[int, int]] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line)
            ready = READY.search(line)
            if ready is not None:
                found.append((int(ready.group(2)), int(ready.group(3) or 0)))
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(START_SECONDS)
    if not found:
        process.kill()
        raise RuntimeError(f"a region's node did not start:\n{''.join(output)[-2000:]}")
    return found[0]


def _drain(stream: IO[str] | None, output: list[str]) -> None:
    """Keep reading a node's output (a full pipe would block it); kept for a failure's message."""
    if stream is not None:
        output.extend(stream)


async def until(holds: Callable[[], bool], seconds: float = 60.0) -> bool:
    """Whether ``holds`` came true within ``seconds`` (the nodes work asynchronously: deliveries, checkpoints)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not holds():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


def pids_line(nodes: Mapping[str, RegionNode], names: Sequence[str]) -> str:
    """``110000 Beijing: pid 1234`` for each region."""
    return "\n".join(
        f"  {node.region} {name}: pid {node.pid}" for node, name in zip(nodes.values(), names, strict=True)
    )
