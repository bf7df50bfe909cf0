"""Regions in network namespaces of their own, joined by one bridge in the root namespace: a partition is one
region's link cut (``ip link set … down`` inside its namespace), not a process killed.

Every name carries a token of its own (the process id and random digits), so runs side by side, or a run's
leftovers, never collide; ``network`` deletes what it made even when the test fails. The test process stays in the
root namespace and reaches every region through the bridge's address.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

# The interface a region's namespace reaches the bridge by (a namespace of its own: the name is free there).
LINK = "eth0"


def missing() -> str | None:
    """Why namespaces cannot be made here (not root, no ``ip netns``), or None."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "no `ip` command (iproute2)"
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False)
    if listed.returncode != 0:
        return f"`ip netns` is unavailable: {listed.stderr.strip()}"
    return None


def ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")


def _free_subnet() -> str:
    """A /24 of 10.0.0.0/8 no route of the root namespace touches yet: ``10.a.b``."""
    routes = subprocess.run(["ip", "-4", "route", "show"], capture_output=True, text=True, check=True).stdout
    for _ in range(100):
        prefix = f"10.{secrets.choice(range(200, 255))}.{secrets.randbelow(256)}"
        if f"{prefix}." not in routes:
            return prefix
    raise RuntimeError("no free 10.x.y.0/24 subnet for the test network")


@dataclass
class Network:
    """A bridge in the root namespace and, per region, a namespace linked to it by a veth pair."""

    token: str = field(default_factory=lambda: f"{os.getpid():x}{secrets.token_hex(1)}")
    subnet: str = field(default_factory=_free_subnet)
    namespaces: dict[str, str] = field(default_factory=dict)
    addresses: dict[str, str] = field(default_factory=dict)
    links: list[str] = field(default_factory=list)  # the veth ends in the root namespace
    bridge_up: bool = False

    @property
    def bridge(self) -> str:
        return f"sgb{self.token}"  # interface names are at most 15 characters

    @property
    def gateway(self) -> str:
        """The bridge's address: where the root namespace (the test, a proxy) is reached from every region."""
        return f"{self.subnet}.1"

    def open(self) -> None:
        ip("link", "add", self.bridge, "type", "bridge")
        self.bridge_up = True
        ip("addr", "add", f"{self.gateway}/24", "dev", self.bridge)
        ip("link", "set", self.bridge, "up")

    def add(self, region: str) -> str:
        """A namespace for ``region`` on the bridge; its address."""
        number = len(self.namespaces)
        namespace, outside = f"sgw-{self.token}-{region}", f"sgv{self.token}{number}"
        ip("netns", "add", namespace)
        self.namespaces[region] = namespace
        ip("link", "add", outside, "type", "veth", "peer", "name", LINK, "netns", namespace)
        self.links.append(outside)
        ip("link", "set", outside, "master", self.bridge)
        ip("link", "set", outside, "up")
        address = f"{self.subnet}.{number + 2}"
        ip("-n", namespace, "addr", "add", f"{address}/24", "dev", LINK)
        ip("-n", namespace, "link", "set", LINK, "up")
        ip("-n", namespace, "link", "set", "lo", "up")  # the node's public port and health listen on the loopback
        self.addresses[region] = address
        return address

    def run_in(self, region: str) -> list[str]:
        """The command prefix that runs a program inside ``region``'s namespace."""
        return ["ip", "netns", "exec", self.namespaces[region]]

    def cut(self, region: str) -> None:
        """The region's link goes down: nothing reaches it, nothing leaves it, its processes keep running."""
        ip("-n", self.namespaces[region], "link", "set", LINK, "down")

    def restore(self, region: str) -> None:
        ip("-n", self.namespaces[region], "link", "set", LINK, "up")

    def close(self) -> None:
        """Delete every veth pair, namespace and the bridge (at once: a namespace's own links would go only when
        the kernel gets round to it); every deletion is tried, the first failure is raised last."""
        deletions = [("link", "delete", link) for link in self.links]
        deletions += [("netns", "delete", namespace) for namespace in self.namespaces.values()]
        deletions += [("link", "delete", self.bridge)] if self.bridge_up else []
        self.links.clear()
        self.namespaces.clear()
        self.bridge_up = False
        failures: list[Exception] = []
        for deletion in deletions:
            try:
                ip(*deletion)
            except RuntimeError as error:
                failures.append(error)
        if failures:
            raise failures[0]


@contextmanager
def network(regions: Iterable[str]) -> Iterator[Network]:
    """A namespace per region on one bridge; all deleted afterwards, however the block ends. The processes run in
    the namespaces must be stopped first (a namespace lives on while a process is in it)."""
    made = Network()
    try:
        made.open()
        for region in regions:
            made.add(region)
        yield made
    finally:
        made.close()
