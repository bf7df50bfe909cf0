"""The node's Prometheus metrics, over plain HTTP on ``metrics.listen`` (off unless configured).

Each node has a registry of its own (several nodes may share a process, as in
tests), and its collectors read the gateway at scrape time, so a value is
never older than the scrape. For now they are the expiry of the trust
material (``domain.trust_expiry``); a later issue adds more.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from share_gateway.config import listen_address
from share_gateway.gateway.trust_expiry import TrustExpiry

EXPIRY_SECONDS = "share_gateway_trust_expiry_seconds"
EXPIRING = "share_gateway_trust_expiring"


class TrustExpiryCollector(Collector):
    """Per artefact: seconds until it expires (negative once expired; absent if it never does), and whether it
    expires within the horizon or has expired (1) or not (0)."""

    def __init__(self, trust: TrustExpiry) -> None:
        self.trust = trust

    def collect(self) -> Iterator[Metric]:
        seconds = GaugeMetricFamily(
            EXPIRY_SECONDS, "Seconds until this trust material expires (negative: expired)", labels=["artefact"]
        )
        expiring = GaugeMetricFamily(
            EXPIRING,
            f"1 while this trust material expires within {self.trust.horizon.days} days or has expired",
            labels=["artefact"],
        )
        for standing in self.trust.standings():
            artefact = [standing.material.artefact.value]
            if standing.remaining is not None:
                seconds.add_metric(artefact, standing.remaining.total_seconds())
            expiring.add_metric(artefact, 1.0 if standing.warns else 0.0)
        yield seconds
        yield expiring


@dataclass
class MetricsServer:
    server: WSGIServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.server.server_port)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def serve_metrics(listen: str, trust: TrustExpiry) -> MetricsServer:
    """Serve the node's metrics at ``listen`` (host:port, port 0: any free one) from a thread of their own."""
    host, port = listen_address(listen)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(TrustExpiryCollector(trust))
    server, thread = start_http_server(port, host, registry=registry)
    return MetricsServer(server, thread)
