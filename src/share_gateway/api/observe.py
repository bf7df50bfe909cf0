"""Every gRPC call observed in one server interceptor: its latency and status, its access line, its span.

The interceptor wraps each method's handler once (cached per method), so a
call pays a dictionary look-up to find it, then a few clock reads and counter
additions: about 3 µs, within the inquiry path's budget of a few (README,
"Metrics, logs and traces"; ``bench.observe_cost``). What a line or a span needs beyond that (the caller's identity
from its certificate, a request id, the trace context in the metadata) is
read only when a line is written or tracing is on.
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

import grpc
from opentelemetry import context as otel_context
from opentelemetry import trace
from prometheus_client import CollectorRegistry, Counter, Histogram

from share_gateway import tracing
from share_gateway.api.auth import PEM_KEY, caller_of_certificate
from share_gateway.gateway.telemetry import CallNote, current_call

Context = grpc.aio.ServicerContext[Any, Any]
if TYPE_CHECKING:
    Handler = grpc.RpcMethodHandler[Any, Any]
ACCESS_LOGGER = "share_gateway.access"
RPC_SECONDS = "share_gateway_rpc_duration_seconds"
RPC_HANDLED = "share_gateway_rpc_handled_total"
# From a health check (sub-millisecond) to a federated inquiry at its deadline (seconds).
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
REQUEST_ID = "x-request-id"
log = logging.getLogger(ACCESS_LOGGER)


class RpcMetrics:
    """Latency per method and calls per method and status code, in the node's own registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.seconds = Histogram(
            RPC_SECONDS, "Time to handle a gRPC call, by method", ["method"], registry=registry, buckets=BUCKETS
        )
        self.handled = Counter(
            RPC_HANDLED, "gRPC calls handled, by method and status code", ["method", "code"], registry=registry
        )


def _code(context: Context, raised: BaseException | None) -> str:
    """The status the call ends with: the one it set or aborted with, else OK, or UNKNOWN for an error that
    escaped every handler (grpcio sends UNKNOWN then), CANCELLED for a cancelled call."""
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code.name
    if raised is None:
        return "OK"
    return "UNKNOWN" if isinstance(raised, Exception) else "CANCELLED"


def requester(context: Context) -> str:
    """The caller's sgw:// identity, from the certificate the TLS layer verified ("-" for none)."""
    pems = list(context.auth_context().get(PEM_KEY, ()))
    caller = caller_of_certificate(pems[0]) if pems else None
    return "-" if caller is None else caller.identity.uri


def _given_id(context: Context) -> Callable[[], str | None]:
    """The request id the caller sent, if any: up to 64 of letters, digits and ``-_.:`` (it goes into every line)."""

    def read() -> str | None:
        for key, value in context.invocation_metadata() or ():
            if key == REQUEST_ID and isinstance(value, str):
                return "".join(c for c in value[:64] if c.isascii() and (c.isalnum() or c in "-_.:")) or None
        return None

    return read


class Observer(grpc.aio.ServerInterceptor):
    """Times, counts, logs and (when tracing) spans every call of the server it is given to."""

    def __init__(self, metrics: RpcMetrics, access_level: int = logging.INFO, region: str = "") -> None:
        self.metrics = metrics
        self.access_level = access_level
        self.region = region
        self._wrapped: dict[str, Handler] = {}
        # The counter child of each (method, code): ``labels`` takes a lock and builds a key at every call.
        self._handled: dict[tuple[str, str], Any] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]],
        details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        method: str = details.method
        wrapped = self._wrapped.get(method)
        if wrapped is None:
            handler = await continuation(details)
            if handler is None:
                return handler  # an unknown method: grpcio answers UNIMPLEMENTED
            wrapped = self._wrapped[method] = self._wrap(method, handler)
        return wrapped

    def _wrap(self, method: str, handler: Handler) -> Handler:
        seconds = self.metrics.seconds.labels(method)

        def observed(behaviour: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
            """A unary method, or a streaming one that writes with ``context.write`` (as grpc's health Watch)."""

            async def call(request: Any, context: Context) -> Any:
                note = CallNote(method, _given_id(context))
                token = current_call.set(note)
                span, raised, started = self._begin(method, context), None, time.perf_counter()
                try:
                    return await behaviour(request, context)
                except BaseException as error:
                    raised = error
                    raise
                finally:
                    self._end(method, context, note, started, seconds, span, raised)
                    current_call.reset(token)

            return call

        def observed_stream(streaming: Callable[..., AsyncIterator[Any]]) -> Callable[..., AsyncIterator[Any]]:
            async def stream(request: Any, context: Context) -> AsyncIterator[Any]:
                note = CallNote(method, _given_id(context))
                token = current_call.set(note)
                span, raised, started = self._begin(method, context), None, time.perf_counter()
                try:
                    async for response in streaming(request, context):
                        yield response
                except BaseException as error:
                    raised = error
                    raise
                finally:
                    self._end(method, context, note, started, seconds, span, raised)
                    current_call.reset(token)

            return stream

        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                observed(handler.unary_unary),
                handler.request_deserializer,
                handler.response_serializer,
            )
        if handler.unary_stream is not None:
            behaviour: Any = handler.unary_stream
            wrapped = observed_stream(behaviour) if inspect.isasyncgenfunction(behaviour) else observed(behaviour)
            return grpc.unary_stream_rpc_method_handler(
                wrapped, handler.request_deserializer, handler.response_serializer
            )
        return handler  # no method of the contract streams requests: left as it is

    def _begin(self, method: str, context: Context) -> tuple[Any, object] | None:
        """With tracing on: a server span, child of the caller's trace context from the metadata, made current."""
        chosen = tracing.tracer()
        if chosen is None:
            return None
        parent = tracing.extract(context.invocation_metadata())
        span = chosen.start_span(
            method.lstrip("/"),
            context=parent,
            kind=trace.SpanKind.SERVER,
            attributes={"rpc.system": "grpc", "share_gateway.region": self.region},
        )
        return span, otel_context.attach(trace.set_span_in_context(span, parent))

    def _end(
        self,
        method: str,
        context: Context,
        note: CallNote,
        started: float,
        seconds: Any,
        span: tuple[Any, object] | None,
        raised: BaseException | None,
    ) -> None:
        elapsed = time.perf_counter() - started
        code = _code(context, raised)
        seconds.observe(elapsed)
        handled = self._handled.get((method, code))
        if handled is None:
            handled = self._handled[method, code] = self.metrics.handled.labels(method, code)
        handled.inc()
        # The access line while the call's span is still current: it carries the trace id.
        if log.isEnabledFor(self.access_level):
            who = requester(context)
            log.log(
                self.access_level,
                "%s %s %.2fms %s",
                method,
                code,
                elapsed * 1000,
                who,
                extra={"method": method, "status": code, "duration_ms": round(elapsed * 1000, 3), "requester": who},
            )
        if span is not None:
            tracing.failed(span[0], code)
            span[0].end()
            otel_context.detach(span[1])  # type: ignore[arg-type]
