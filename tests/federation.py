"""Helpers for tests of a three-region federation (fixtures ``layout`` and ``nodes`` in tests/integration)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import grpc

from share_gateway.client import credentials, open_channel
from share_gateway.devkit import Layout
from share_gateway.domain.events import Event
from share_gateway.node import Node
from share_gateway.v1 import peer_pb2_grpc

REGIONS = ("110000", "310000", "440000")
Nodes = dict[str, Node]


def channel(layout: Layout, node: Node, name: str) -> grpc.aio.Channel:
    files = layout.client(name)
    return open_channel(f"localhost:{node.port}", credentials(files.certificate, files.key, files.ca))


def peer_call(layout: Layout, node: Node, as_region: str) -> peer_pb2_grpc.PeerServiceAsyncStub:
    """A PeerService stub presenting ``as_region``'s node certificate."""
    directory = layout.node_dir(as_region)
    creds = credentials(directory / "tls.crt", directory / "tls.key", layout.ca_certificate)
    return peer_pb2_grpc.PeerServiceStub(open_channel(f"localhost:{node.port}", creds))


def events(node: Node) -> list[Event]:
    return [Event.from_bytes(body) for _, body in node.gateway.store.events()]


async def eventually(condition: Callable[[], bool], seconds: float = 15.0) -> None:
    """Wait until ``condition`` holds; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s")
        await asyncio.sleep(0.05)
