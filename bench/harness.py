"""What every benchmark shares: servers in child processes, a closed-loop load generator, statistics.

Servers run in their own process so the load generator (this process) and
the server do not share one interpreter lock; a benchmark and its baseline
always run in the same invocation, one after the other, and the ratio is
what to read, because these machines are noisy.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import os
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import sqlalchemy

Call = Callable[[int], Awaitable[Any]]


@dataclass(frozen=True)
class Result:
    name: str
    calls: int
    seconds: float
    latencies_ms: list[float]
    unit: str = "QPS"
    # CPU seconds the server process spent over the measured span (all its threads), if it was watched.
    server_cpu: float | None = None

    @property
    def qps(self) -> float:
        return self.calls / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    @property
    def cpu_per_call_us(self) -> float | None:
        return None if self.server_cpu is None else self.server_cpu / self.calls * 1e6

    def line(self) -> str:
        cpu = "" if self.cpu_per_call_us is None else f"   server CPU {self.cpu_per_call_us:5.0f} us/call"
        return (
            f"{self.name:<28} {self.qps:>9.0f} {self.unit}   p50 {self.percentile(50):6.2f} ms   "
            f"p99 {self.percentile(99):6.2f} ms   ({self.calls} calls){cpu}"
        )


def process_cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of process ``pid`` so far, every thread included (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def closed_loop(
    name: str, call: Call, concurrency: int, seconds: float, warmup: float = 1.0, server_pid: int | None = None
) -> Result:
    """``concurrency`` workers call back to back for ``seconds`` after ``warmup``; every error is fatal.

    With ``server_pid``, the server's CPU time over the measured span is kept too: on a busy machine the CPU a
    call costs the server varies less than the calls a second."""
    latencies: list[float] = []
    measuring = False
    stop_at = time.monotonic() + warmup + seconds

    async def worker(index: int) -> None:
        n = index
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            await call(n)
            if measuring:
                latencies.append((time.perf_counter() - started) * 1000)
            n += concurrency

    tasks = [asyncio.create_task(worker(i)) for i in range(concurrency)]
    await asyncio.sleep(warmup)
    measuring = True
    began = time.monotonic()
    cpu_began = None if server_pid is None else process_cpu_seconds(server_pid)
    await asyncio.gather(*tasks)
    ended = time.monotonic()
    cpu = None if server_pid is None or cpu_began is None else process_cpu_seconds(server_pid) - cpu_began
    return Result(name, len(latencies), ended - began, latencies, server_cpu=cpu)


def spawn_with_pipe(target: Callable[[Connection, Any], None], argument: Any) -> tuple[BaseProcess, Connection]:
    """Start ``target(pipe, argument)`` in a fresh process; return once it sends its first message (kept)."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=target, args=(child, argument), daemon=True)
    process.start()
    if not parent.poll(120):
        process.kill()
        raise RuntimeError("the child did not start within 120 s")
    return process, parent


def spawn(target: Callable[[Connection, Any], None], argument: Any) -> tuple[BaseProcess, int]:
    """Start a server ``target(pipe, argument)`` in a fresh process; it sends its port once serving."""
    process, pipe = spawn_with_pipe(target, argument)
    port = pipe.recv()
    if isinstance(port, BaseException):
        raise port
    return process, int(port)


def stop(process: BaseProcess) -> None:
    process.terminate()
    process.join(10)


def ratio_line(measured: Result, baseline: Result) -> str:
    return (
        f"ratio {measured.name} / {baseline.name}: QPS {measured.qps / baseline.qps:.2f}x, "
        f"p50 {measured.percentile(50) / baseline.percentile(50):.2f}x, "
        f"p99 {measured.percentile(99) / baseline.percentile(99):.2f}x"
    )


def median_ratio(pairs: list[tuple[Result, Result]]) -> float:
    return statistics.median(m.qps / b.qps for m, b in pairs)


def alternating_ratio(values: list[float]) -> float:
    """A over B from measurements taken A, B, A, B, ...: the median over every inner measurement of it against
    the geometric mean of its two neighbours (inverted for a B), so a drift of the machine or of the process over
    the run, linear over three spans, cancels instead of favouring the side measured later."""
    if len(values) < 3:
        raise ValueError("at least three alternating measurements")
    ratios = []
    for index in range(1, len(values) - 1):
        ratio = values[index] / math.sqrt(values[index - 1] * values[index + 1])
        ratios.append(ratio if index % 2 == 0 else 1 / ratio)
    return statistics.median(ratios)


@contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    """A throwaway schema on the PostgreSQL server at ``url``: yields a URL that uses it, drops it afterwards."""
    schema = f"bench_{os.getpid()}_{datetime.now(UTC).strftime('%H%M%S%f')}"
    admin = sqlalchemy.create_engine(url)
    try:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        separator = "&" if "?" in url else "?"
        try:
            yield f"{url}{separator}options=-csearch_path%3D{schema}"
        finally:
            with admin.begin() as connection:
                connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    finally:
        admin.dispose()


def postgres_reachable(url: str) -> str | None:
    """None if a connection to ``url`` opens, else why not."""
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect():
            return None
    except sqlalchemy.exc.OperationalError as error:
        return str(error).splitlines()[0]
    finally:
        engine.dispose()
