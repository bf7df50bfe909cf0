"""Nodes and faulty peers in their own processes, started as an operator starts them, killed as a crash kills them."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import yaml

from share_gateway.config import NodeConfig
from share_gateway.devkit import Layout, create_federation, free_ports
from share_gateway.domain.events import Event
from share_gateway.store.database import migrate, open_database
from share_gateway.store.repositories import Store
from tests.conftest import seed_grants
from tests.federation import REGIONS
from tests.support import CALLERS, ROLES
from tests.waiting import PATIENCE


class Process:
    """A child process whose output is read line by line, so a test can wait for what it says."""

    def __init__(self, args: list[str], ready: str, cwd: Path | None = None) -> None:
        """Start it (in ``cwd``, else here); ``ready`` is what it says once it serves (see ``wait_ready``)."""
        self.ready = ready
        self.popen = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            cwd=cwd,
        )
        self._lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def wait_ready(self) -> str:
        return self.wait_for(self.ready)

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self.output.append(line)
            self._lines.put(line)
        self._lines.put("")  # end of output

    def wait_for(self, text: str, seconds: float = PATIENCE) -> str:
        """The first further line containing ``text``; fails if the process ends or stays silent too long."""
        while True:
            try:
                line = self._lines.get(timeout=seconds)
            except queue.Empty:
                raise AssertionError(f"no {text!r} within {seconds} s:\n{''.join(self.output)[-3000:]}") from None
            if not line:
                raise AssertionError(f"the process ended before saying {text!r}:\n{''.join(self.output)[-3000:]}")
            if text in line:
                return line

    def read_to_end(self) -> str:
        """All it said, once it has ended and its output is read to the end (after ``stop``)."""
        self._reader.join(PATIENCE)
        assert not self._reader.is_alive(), "its output did not end"
        return "".join(self.output)

    def kill(self) -> None:
        """SIGKILL: no graceful stop, nothing flushed: a crash."""
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=20)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def prepare(config: Path) -> None:
    """Create the node's database and give the test callers their grants, before it serves."""
    database = open_database(NodeConfig.load(config).database)
    try:
        migrate(database)
        seed_grants(Store(database))
    finally:
        database.dispose()


def logged(layout: Layout, region: str) -> list[Event]:
    """Every event in a region's database, read as an auditor would (the node may be running)."""
    database = open_database(NodeConfig.load(layout.node_config(region)).database)
    try:
        return [Event.from_bytes(body) for _, body in Store(database).events.read(limit=100_000)]
    finally:
        database.dispose()


def serve_node(config: Path) -> Process:
    return Process([sys.executable, "-m", "share_gateway.cli", "serve", "--config", str(config)], "mTLS port")


def serve_skewed_node(config: Path, seconds: float) -> Process:
    """A node whose clock runs ``seconds`` ahead of the machine's (see tests/skewed_node.py)."""
    return Process([sys.executable, "-m", "tests.skewed_node", str(config), str(seconds)], "mTLS port")


def faulty_peer(layout: Layout, region: str, behaviour: str, seconds: float = 0.0) -> Process:
    args = [sys.executable, "-m", "tests.faulty_peer", str(layout.root), region, behaviour, str(seconds)]
    return Process(args, "listening")


@dataclass
class Cluster:
    """Three regional nodes, each `share-gateway serve` in its own process on its manifest endpoint."""

    layout: Layout
    ports: dict[str, int]
    processes: dict[str, Process] = field(default_factory=dict)

    def start(self, *regions: str) -> None:
        """Start nodes (concurrently: each waits for its own readiness line)."""
        started = {region: serve_node(self.layout.node_config(region)) for region in regions}
        for region, process in started.items():
            port = re.search(r"mTLS port (\d+)", process.wait_ready())
            assert port is not None
            assert int(port.group(1)) == self.ports[region]
            self.processes[region] = process

    def kill(self, region: str) -> None:
        self.processes.pop(region).kill()

    def replace(self, region: str, behaviour: str, seconds: float = 0.0) -> Process:
        """Kill the region's node and put a faulty peer on its endpoint, with its certificate and key."""
        self.kill(region)
        process = faulty_peer(self.layout, region, behaviour, seconds)
        process.wait_ready()
        self.processes[region] = process
        return process

    def close(self) -> None:
        for process in self.processes.values():
            process.stop()


@contextmanager
def federation_cluster(
    root: Path,
    start: Sequence[str] = REGIONS,
    prepared: Sequence[str] = REGIONS,
    settings: Mapping[str, object] | None = None,
) -> Iterator[Cluster]:
    """The test federation made in ``root`` (every node's config given ``settings``), the ``prepared`` nodes'
    databases ready, and the nodes ``start`` names serving, each in its own process; all stopped after."""
    ports = dict(zip(REGIONS, free_ports(len(REGIONS)), strict=True))
    clients = {name: c[0] for name, c in CALLERS.items()}
    layout = create_federation(root, REGIONS, clients, datetime.now(UTC), roles=ROLES, ports=ports)
    for region in prepared:
        config = layout.node_config(region)
        if settings:
            config.write_text(yaml.safe_dump(yaml.safe_load(config.read_text()) | dict(settings)))
        prepare(config)
    cluster = Cluster(layout, ports)
    try:
        cluster.start(*start)
        yield cluster
    finally:
        cluster.close()
