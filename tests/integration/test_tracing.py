"""Issue 14, "No traces": a federated inquiry is one OpenTelemetry trace across the nodes it reaches.

The nodes run in this process (the ``nodes`` fixture) so that the SDK's
``InMemorySpanExporter`` sees every node's spans: the W3C trace context still
crosses between them only in gRPC metadata, since grpcio runs each incoming
call in a task of the server's own, which inherits nothing from the caller
(the peer's server span has a *remote* parent, which only the propagator
makes). Nodes in processes would need an exporter writing to a file, which
the SDK does not ship.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from share_gateway import tracing
from share_gateway.api.observe import ACCESS_LOGGER
from share_gateway.cli.logs import CallIds, JsonLines
from share_gateway.config import NodeConfig
from share_gateway.config_operations import TracingSettings
from share_gateway.devkit import Layout
from share_gateway.node import start_node
from tests.federation import OK, REGIONS, Nodes, federated, seed, statuses

ASKING = "110000"
PEERS = tuple(region for region in REGIONS if region != ASKING)
PEER_INQUIRE = "share_gateway.v1.PeerService/Inquire"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on, every finished span kept in memory (as a node with ``tracing.enabled`` would, minus export)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.use_tracer(provider.get_tracer("tests"))
    yield exporter
    tracing.use_tracer(None)
    provider.shutdown()


def attributes_of(span: ReadableSpan) -> dict[str, object]:
    return dict(span.attributes or {})


@pytest.fixture
def access() -> Iterator[io.StringIO]:
    """The access lines of this process's nodes, as JSON lines (as ``serve`` writes them with ``format: json``)."""
    written = io.StringIO()
    handler = logging.StreamHandler(written)
    handler.setFormatter(JsonLines())
    handler.addFilter(CallIds())
    logger = logging.getLogger(ACCESS_LOGGER)
    logger.addHandler(handler)
    saved = logger.level
    logger.setLevel(logging.INFO)
    yield written
    logger.setLevel(saved)
    logger.removeHandler(handler)


def one(spans: list[ReadableSpan], name: str, **attributes: str) -> ReadableSpan:
    found = [s for s in spans if s.name == name and attributes.items() <= attributes_of(s).items()]
    assert len(found) == 1, f"{name} {attributes}: {[s.name for s in spans]}"
    return found[0]


def parent_of(span: ReadableSpan) -> int:
    assert span.parent is not None, f"{span.name} has no parent"
    return span.parent.span_id


async def test_a_federated_inquiry_is_one_trace_across_the_nodes(
    layout: Layout, nodes: Nodes, spans: InMemorySpanExporter, access: io.StringIO
) -> None:
    await seed(layout, nodes)
    answer = await federated(layout, nodes[ASKING])
    assert statuses(answer) == dict.fromkeys(REGIONS, OK)
    finished = list(spans.get_finished_spans())
    root = one(finished, "share_gateway.v1.InquiryService/Inquire", **{"share_gateway.region": ASKING})
    assert root.parent is None
    assert root.kind is SpanKind.SERVER
    trace = [s for s in finished if s.context.trace_id == root.context.trace_id]
    [inquiry] = [s for s in trace if s.name == "inquiry" and parent_of(s) == root.context.span_id]
    assert attributes_of(inquiry)["purpose"] == "loan_underwriting"
    fan_out = one(trace, "inquiry.fan_out")
    assert parent_of(fan_out) == inquiry.context.span_id
    # The inquiry's own steps at the asking node: reading the subject's records, logging the inquiry.
    for step in ("inquiry.read", "inquiry.log"):
        [mine] = [s for s in trace if s.name == step and parent_of(s) == inquiry.context.span_id]
        assert mine.end_time is not None
    for peer in PEERS:
        hop = one(trace, PEER_INQUIRE, peer_region=peer)
        assert hop.kind is SpanKind.CLIENT
        assert parent_of(hop) == fan_out.context.span_id
        assert attributes_of(hop)["rpc.grpc.status_code"] == "OK"
        # The peer's own span of the call: a child of the hop, its context come over the wire.
        served = one(trace, PEER_INQUIRE, **{"share_gateway.region": peer})
        assert served.kind is SpanKind.SERVER
        assert served.parent is not None
        assert served.parent.is_remote
        assert parent_of(served) == hop.context.span_id
        # The peer's inquiry path in the same trace, under its server span.
        answered = [s for s in trace if s.name == "inquiry" and s.parent and s.parent.span_id == served.context.span_id]
        assert len(answered) == 1
    assert all(s.status.status_code is not StatusCode.ERROR for s in trace)
    # Each node's access line of its part names the trace: from a line to the whole federated inquiry.
    lines = [json.loads(line) for line in access.getvalue().splitlines()]
    traced = [line for line in lines if line.get("trace_id") == format(root.context.trace_id, "032x")]
    assert sorted(line["method"] for line in traced) == sorted(
        ["/share_gateway.v1.InquiryService/Inquire"] + ["/share_gateway.v1.PeerService/Inquire"] * len(PEERS)
    )


async def test_a_peer_that_does_not_answer_is_an_error_span_and_tracing_off_makes_none(
    layout: Layout, nodes: Nodes, spans: InMemorySpanExporter
) -> None:
    down = PEERS[0]
    await nodes.pop(down).stop(grace=0)
    await federated(layout, nodes[ASKING])
    hop = one(list(spans.get_finished_spans()), PEER_INQUIRE, peer_region=down)
    assert hop.status.status_code is StatusCode.ERROR
    assert attributes_of(hop)["rpc.grpc.status_code"] == "UNAVAILABLE"
    # Tracing off: the same inquiry makes no span at all (no no-op spans either: the tracer is never asked).
    tracing.use_tracer(None)
    spans.clear()
    await federated(layout, nodes[ASKING])
    assert spans.get_finished_spans() == ()


def test_a_node_configured_to_trace_starts_and_stops_the_process_tracer() -> None:
    assert not tracing.start_tracing(False, "share-gateway", ASKING, 1.0, None)
    assert tracing.tracer() is None
    assert tracing.start_tracing(True, "share-gateway", ASKING, 1.0, None)
    try:
        assert tracing.tracer() is not None
        # A second node in the process keeps the tracer the first made (the process has one provider).
        assert not tracing.start_tracing(True, "share-gateway", "310000", 1.0, None)
    finally:
        tracing.stop_tracing()
    assert tracing.tracer() is None


async def test_a_node_with_tracing_enabled_traces_while_it_runs(node_config: NodeConfig) -> None:
    node = await start_node(dataclasses.replace(node_config, tracing=TracingSettings(enabled=True)))
    try:
        assert tracing.tracer() is not None
    finally:
        await node.stop(grace=0)
    assert tracing.tracer() is None
