"""What observing a call costs (issue 14, "Metrics"): the interceptor's per-call work, the gateway's counters, an
access line, tracing off, and a real gRPC server with and without the interceptor, in alternating rounds.

    .venv/bin/python -m bench.observe_cost

The in-process figures time the very functions a call runs (best of several rounds, so a loaded machine
inflates them less). The server A/B puts them beside a whole call's CPU time (client and server in this process):
a loaded 2-core machine moves that by tens of microseconds between rounds, more than the interceptor costs, so
it bounds the cost rather than measures it.
"""

from __future__ import annotations

import asyncio
import io
import logging
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from prometheus_client import CollectorRegistry

from share_gateway import tracing
from share_gateway.api.observe import ACCESS_LOGGER, Observer, RpcMetrics
from share_gateway.cli.logs import CallIds, JsonLines
from share_gateway.gateway.telemetry import Recorder

ROUNDS = 7
CALLS = 20_000


class FakeContext:
    """Just what the interceptor's wrapper reads of a servicer context."""

    def code(self) -> None:
        return None

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return (("user-agent", "bench"),)

    def auth_context(self) -> dict[str, list[bytes]]:
        return {}


def best_us(run: Callable[[], float]) -> float:
    return min(run() for _ in range(ROUNDS))


async def per_call_us(call: Callable[[Any, Any], Awaitable[Any]], n: int = CALLS) -> float:
    context = FakeContext()
    started = time.perf_counter()
    for _ in range(n):
        await call(None, context)
    return (time.perf_counter() - started) / n * 1e6


async def behaviour(request: Any, context: Any) -> None:
    return None


async def interceptor_work() -> tuple[float, float]:
    """The wrapper's work per call (access line off) and the look-up ``intercept_service`` makes per call."""
    observer = Observer(RpcMetrics(CollectorRegistry()), access_level=logging.DEBUG)
    logging.getLogger(ACCESS_LOGGER).setLevel(logging.INFO)  # the access line below its level: off
    handler: grpc.RpcMethodHandler[Any, Any] = grpc.unary_unary_rpc_method_handler(behaviour)

    async def continuation(details: Any) -> Any:
        return handler

    class Details:
        method = "/share_gateway.v1.InquiryService/Inquire"
        invocation_metadata = ()

    wrapped = await observer.intercept_service(continuation, Details())  # type: ignore[arg-type]
    assert wrapped is not None
    bare, observed = [], []
    for _ in range(ROUNDS):
        bare.append(await per_call_us(behaviour))
        observed.append(await per_call_us(wrapped.unary_unary))  # type: ignore[arg-type]
    started = time.perf_counter()
    for _ in range(CALLS):
        await observer.intercept_service(continuation, Details())  # type: ignore[arg-type]
    lookup = (time.perf_counter() - started) / CALLS * 1e6
    return min(observed) - min(bare), lookup


def recorder_us() -> float:
    recorder = Recorder()

    def run() -> float:
        started = time.perf_counter()
        for _ in range(CALLS):
            recorder.inquiry("loan_underwriting", "client", "allowed")
        return (time.perf_counter() - started) / CALLS * 1e6

    return best_us(run)


def tracing_off_us() -> float:
    tracing.use_tracer(None)

    def run() -> float:
        started = time.perf_counter()
        for _ in range(CALLS):
            if tracing.tracer() is not None:
                raise AssertionError
        return (time.perf_counter() - started) / CALLS * 1e6

    return best_us(run)


def access_line_us() -> float:
    """One JSON access line, formatted and written (to memory: the cost a pipe or file adds is the system's)."""
    log = logging.getLogger("bench.access")
    log.propagate = False
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(JsonLines())
    handler.addFilter(CallIds())
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    extra = {"method": "/share_gateway.v1.InquiryService/Inquire", "status": "OK", "duration_ms": 1.234}

    def run() -> float:
        started = time.perf_counter()
        for _ in range(CALLS // 4):
            log.info("%s %s %.2fms %s", "m", "OK", 1.234, "sgw://institution/x", extra=extra | {"requester": "x"})
        return (time.perf_counter() - started) / (CALLS // 4) * 1e6

    return best_us(run)


async def server_cpu_us(observe: bool, calls: int = 3_000) -> float:
    """CPU microseconds per health Check call over loopback, one at a time (client and server both here)."""
    interceptors = [Observer(RpcMetrics(CollectorRegistry()), access_level=logging.DEBUG)] if observe else []
    server = grpc.aio.server(interceptors=interceptors, options=[("grpc.so_reuseport", 0)])
    health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            request = health_pb2.HealthCheckRequest()
            await stub.Check(request)
            started = time.process_time()
            for _ in range(calls):
                await stub.Check(request)
            return (time.process_time() - started) / calls * 1e6
    finally:
        await server.stop(0)


async def main() -> None:
    logging.getLogger(ACCESS_LOGGER).setLevel(logging.INFO)
    wrapper, lookup = await interceptor_work()
    print(f"interceptor wrapper per call (access line off): {wrapper:.2f} us")
    print(f"intercept_service look-up per call: {lookup:.2f} us")
    print(f"gateway counter (Recorder.inquiry): {recorder_us():.3f} us")
    print(f"tracing off, per traced place: {tracing_off_us():.3f} us")
    print(f"one JSON access line: {access_line_us():.1f} us")
    bare, observed = [], []
    for _ in range(2 * ROUNDS):
        bare.append(await server_cpu_us(False))
        observed.append(await server_cpu_us(True))
    b, o = statistics.median(bare), statistics.median(observed)
    print(f"health Check over loopback, CPU per call (median of {2 * ROUNDS}): {b:.1f} us bare, {o:.1f} us observed")


if __name__ == "__main__":
    asyncio.run(main())
