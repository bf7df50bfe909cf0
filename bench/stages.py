"""Where a call's time goes, per node: the node's own spans, summed by name (bench-only).

A node served by ``serve_node_staged`` traces every call with an in-process
span processor that adds up each span's wall time by name (no exporter, no
sampling), plus a few bench-only spans around the steps the node does not
trace itself (store writes, consent and quota checks, a peer hop's nonce).
The bench asks each node for its totals over the pipe (``stages``), once before
and once after the traced pass, so only that pass counts. Tracing costs time
of its own: the measured lines of a bench run with it off; this is the map.
"""

from __future__ import annotations

import asyncio
import statistics
import threading
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider

from share_gateway import tracing
from share_gateway.config import NodeConfig
from share_gateway.node import start_node

# name -> every ended span's seconds
Totals = dict[str, list[float]]


class StageTotals(SpanProcessor):
    """Adds up the wall time of every ended span by name."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.totals: Totals = {}

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        if span.start_time is None or span.end_time is None:
            return
        with self._lock:
            self.totals.setdefault(span.name, []).append((span.end_time - span.start_time) / 1e9)

    def taken(self) -> Totals:
        with self._lock:
            return {name: list(seconds) for name, seconds in self.totals.items()}


def _spanned(name: str, method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        with tracing.span(name):
            return await method(*args, **kwargs)

    return wrapper


def _trace_steps() -> None:
    """Bench-only spans around steps a node does not trace itself (patched on the classes, in this process)."""
    from share_gateway.gateway.consents import ConsentDesk  # noqa: PLC0415
    from share_gateway.gateway.federation import FederationDesk  # noqa: PLC0415
    from share_gateway.gateway.group_commit import GroupCommit  # noqa: PLC0415
    from share_gateway.gateway.quotas import QuotaDesk  # noqa: PLC0415
    from share_gateway.gateway.runtime import NodeRuntime  # noqa: PLC0415

    steps: list[tuple[type, str, str]] = [
        (NodeRuntime, "write", "store.write"),
        (NodeRuntime, "read", "store.read"),
        (FederationDesk, "accept", "peer.accept"),
        (GroupCommit, "append", "event_log.append"),
        (ConsentDesk, "open_aside", "consent.verify"),
        (ConsentDesk, "register", "consent.register"),
        (QuotaDesk, "admit", "quota.admit"),
    ]
    for owner, method, name in steps:
        setattr(owner, method, _spanned(name, getattr(owner, method)))


def serve_node_staged(pipe: Connection, config_path: str) -> None:
    """A node whose spans are summed by name; ``stages`` over the pipe answers with the totals so far."""
    processor = StageTotals()
    provider = TracerProvider()
    provider.add_span_processor(processor)
    tracing.use_tracer(provider.get_tracer("bench.stages"))
    _trace_steps()

    async def serve() -> None:
        node = await start_node(NodeConfig.load(Path(config_path)))
        pipe.send(node.port)
        while True:
            asked = await asyncio.to_thread(pipe.recv)
            if asked == "stages":
                pipe.send(processor.taken())

    asyncio.run(serve())


def difference(after: Totals, before: Totals) -> Totals:
    """The spans that ended between two ``taken``."""
    return {
        name: seconds[len(before.get(name, ())) :]
        for name, seconds in after.items()
        if len(seconds) > len(before.get(name, ()))
    }


def table(node: str, totals: Totals, calls: int) -> list[str]:
    """Each stage's median and its mean wall time per measured call (a stage run twice a call, as a hop on two
    peers, counts twice in the mean), slowest first; n is how often it ran per call."""
    lines = [f"  {node}: per federated call, ms (median of the stage; mean per call; times per call)"]
    for name, seconds in sorted(totals.items(), key=lambda item: -statistics.median(item[1])):
        median, mean = statistics.median(seconds) * 1000, sum(seconds) / calls * 1000
        lines.append(f"    {name:<46} p50 {median:7.2f}   mean {mean:7.2f}   n {len(seconds) / calls:4.1f}")
    return lines
