"""OpenTelemetry tracing, opt-in: one tracer per process, or none, and nothing at all is done without one.

Every place that traces asks ``tracer()`` first and does nothing more when it
is None (the default), so a node without ``tracing.enabled`` pays one global
read per place, not the OpenTelemetry API's no-op spans. Trace context
crosses nodes in gRPC metadata as W3C ``traceparent``/``tracestate``
(``inject``/``extract``), so a federated inquiry is one trace over the nodes
it reaches.

The tracer is per process, as OpenTelemetry's provider is: nodes sharing one
process (tests) share it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.trace import Span, Tracer

__all__ = ["SpanKind", "extract", "inject", "span", "trace_on", "traced", "tracer", "use_tracer"]
T = TypeVar("T")

_tracer: Tracer | None = None
_propagator = TraceContextTextMapPropagator()


def tracer() -> Tracer | None:
    """The process's tracer, or None while tracing is off."""
    return _tracer


def use_tracer(chosen: Tracer | None) -> None:
    """Trace with ``chosen`` from now on (None: stop tracing)."""
    global _tracer  # noqa: PLW0603 - one tracer per process, as OpenTelemetry has one provider
    _tracer = chosen


def trace_on() -> bool:
    return _tracer is not None


@contextmanager
def span(name: str, kind: SpanKind = SpanKind.INTERNAL, **attributes: str | int | bool) -> Iterator[Span | None]:
    """A span named ``name`` as the current one while the block runs; None (and nothing done) without a tracer.

    An exception leaving the block marks the span as an error and is recorded on it.
    """
    chosen = _tracer
    if chosen is None:
        yield None
        return
    with chosen.start_as_current_span(name, kind=kind, attributes=attributes) as current:
        yield current


def traced(name: str, step: Awaitable[T], **attributes: str | int | bool) -> Awaitable[T]:
    """``step`` in a span named ``name`` when tracing; ``step`` itself (no frame, no span) when not."""
    if _tracer is None:
        return step
    return _in_span(name, step, attributes)


async def _in_span(name: str, step: Awaitable[T], attributes: dict[str, str | int | bool]) -> T:
    chosen = _tracer
    if chosen is None:  # tracing stopped meanwhile
        return await step
    with chosen.start_as_current_span(name, attributes=attributes):
        return await step


def inject(metadata: list[tuple[str, str]]) -> None:
    """Add the current trace context to outgoing gRPC metadata (W3C trace context headers)."""
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    metadata.extend(carrier.items())


def extract(metadata: Iterable[tuple[str, str | bytes]] | None) -> Context:
    """The trace context incoming gRPC metadata carries (an empty one if none)."""
    carrier = {key: value for key, value in metadata or () if isinstance(value, str) and key.startswith("trace")}
    return _propagator.extract(carrier) if carrier else otel_context.Context()


def failed(current: Span | None, code: str) -> None:
    """Mark ``current`` as ended with gRPC status ``code`` (an error unless OK)."""
    if current is None:
        return
    current.set_attribute("rpc.grpc.status_code", code)
    if code != "OK":
        current.set_status(Status(StatusCode.ERROR, code))


def current_trace_id() -> str | None:
    """The current span's trace id (32 hex digits), for log lines; None without tracing."""
    if _tracer is None:
        return None
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


def start_tracing(
    enabled: bool, service_name: str, region: str, sample_ratio: float, otlp_endpoint: str | None
) -> bool:
    """Trace this process from now on, as configured; True if it made the tracer (``stop_tracing`` ends it).

    A tracer already in use (an embedding program's, a test's) is kept: the process has one.
    """
    if not enabled or _tracer is not None:
        return False
    # Imported here: a node that does not trace never loads the SDK.
    from opentelemetry.sdk.resources import Resource  # noqa: PLC0415
    from opentelemetry.sdk.trace import TracerProvider  # noqa: PLC0415
    from opentelemetry.sdk.trace.export import BatchSpanProcessor  # noqa: PLC0415
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased  # noqa: PLC0415

    resource = Resource.create({"service.name": service_name, "share_gateway.region": region})
    provider = TracerProvider(resource=resource, sampler=ParentBased(TraceIdRatioBased(sample_ratio)))
    if otlp_endpoint is not None:
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # noqa: PLC0415
        except ImportError as error:
            raise ValueError("tracing.otlp_endpoint needs the otlp extra: pip install 'share-gateway[otlp]'") from error
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=otlp_endpoint)))
    use_tracer(provider.get_tracer("share_gateway"))
    global _provider  # noqa: PLW0603 - the provider this module made, to flush and shut down at stop
    _provider = provider
    return True


_provider: object | None = None


def stop_tracing() -> None:
    """Flush and end the tracing ``start_tracing`` began."""
    global _provider
    provider, _provider = _provider, None
    use_tracer(None)
    shutdown = getattr(provider, "shutdown", None)
    if shutdown is not None:
        shutdown()
