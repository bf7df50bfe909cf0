"""The node's Prometheus metrics, over plain HTTP on ``metrics.listen`` (off unless configured).

Each node has a registry of its own (several nodes may share a process, as in
tests), and its collectors read the gateway at scrape time, so a value is
never older than the scrape: the expiry of the trust material
(``domain.trust_expiry``), the log, the outbox and the witnesses
(``NodeStateCollector``, read from the store), and what the use cases counted
as they worked (``RecorderCollector``, from ``gateway.telemetry``). Latency and
status per RPC are counted by the server interceptor (``api.observe``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from share_gateway.api.observe import RpcMetrics
from share_gateway.config_operations import listen_address
from share_gateway.gateway import Gateway
from share_gateway.gateway.telemetry import Recorder
from share_gateway.gateway.trust_expiry import TrustExpiry

log = logging.getLogger(__name__)

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


class RecorderCollector(Collector):
    """What the use cases counted: inquiries, quota refusals, calls to peers, and the witnesses' cosignatures."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def collect(self) -> Iterator[Metric]:
        recorder = self.recorder
        # dict(...) copies under the interpreter lock: the event loop may add a key while this thread reads.
        inquiries = CounterMetricFamily(
            "share_gateway_inquiries",
            "Inquiries answered or refused, by purpose, who asked (a client or a peer region) and outcome",
            labels=["purpose", "via", "outcome"],
        )
        for (purpose, via, outcome), count in dict(recorder.inquiries).items():
            inquiries.add_metric([purpose, via, outcome], count)
        yield inquiries
        refusals = CounterMetricFamily(
            "share_gateway_quota_refusals", "Calls refused for a spent quota, by reason", labels=["reason"]
        )
        for reason, count in dict(recorder.quota_refusals).items():
            refusals.add_metric([reason], count)
        yield refusals
        leases = CounterMetricFamily(
            "share_gateway_quota_leases",
            "Transactions leasing quota tokens, by whether a call waited on one (call) or it was taken ahead (ahead)",
            labels=["waited"],
        )
        for waited, count in dict(recorder.quota_leases).items():
            leases.add_metric([waited], count)
        yield leases
        calls = CounterMetricFamily(
            "share_gateway_peer_calls",
            "Calls to peer nodes, by peer region, method and status code",
            labels=["peer", "method", "code"],
        )
        for key, count in dict(recorder.peer_calls).items():
            calls.add_metric(list(key), count)
        yield calls
        seconds = CounterMetricFamily(
            "share_gateway_peer_call_seconds",
            "Seconds spent in calls to peer nodes, by peer region, method and status code",
            labels=["peer", "method", "code"],
        )
        for key, total in dict(recorder.peer_seconds).items():
            seconds.add_metric(list(key), total)
        yield seconds
        size = GaugeMetricFamily(
            "share_gateway_witness_cosigned_size",
            "The size of this node's log each witness last cosigned (on the process that asks them; 0: none yet)",
            labels=["witness"],
        )
        stamped = GaugeMetricFamily(
            "share_gateway_witness_cosigned_timestamp_seconds",
            "The time each witness's last cosignature of this node's log states, or when a witness that never cosigned"
            " was first asked (Unix seconds)",
            labels=["witness"],
        )
        for witness, cosigned in dict(recorder.cosigned).items():
            size.add_metric([witness], cosigned.size)
            stamped.add_metric([witness], cosigned.timestamp)
        yield size
        yield stamped


class NodeStateCollector(Collector):
    """The log, the sequencer and the outbox, read from the store at scrape time; and whether the store answers."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    def collect(self) -> Iterator[Metric]:
        gateway = self.gateway
        store = gateway.store
        up = GaugeMetricFamily("share_gateway_database_up", "1 while the node's database answers a scrape's reads")
        try:
            size, pending, latest, backlog = (
                store.log.size(),
                store.log.pending(),
                store.log.latest_checkpoint(),
                store.outbox.backlog(),
            )
        except Exception as error:  # noqa: BLE001 - a scrape reports the database down, whatever failed
            log.debug("metrics: the database did not answer: %s", error)
            up.add_metric([], 0.0)
            yield up
            return
        up.add_metric([], 1.0)
        yield up
        yield GaugeMetricFamily("share_gateway_log_size", "Leaves integrated into this node's log", value=size)
        yield GaugeMetricFamily(
            "share_gateway_log_pending_events",
            "Events appended but not yet integrated into the log (the sequencer's lag)",
            value=pending,
        )
        # Before the first checkpoint both read 0: a lag alert then counts from 1970, as it should.
        yield GaugeMetricFamily(
            "share_gateway_log_checkpoint_size",
            "The size of the latest published checkpoint (0: none yet)",
            value=0 if latest is None else latest.size,
        )
        yield GaugeMetricFamily(
            "share_gateway_log_checkpoint_timestamp_seconds",
            "When the latest checkpoint was published (Unix seconds; 0: none yet)",
            value=0.0 if latest is None else latest.published_at.timestamp(),
        )
        if gateway.restore is not None:
            yield GaugeMetricFamily(
                "share_gateway_restore_unacknowledged",
                "1 while this node refuses to serve: its log lacks a checkpoint its witnesses cosigned (a restore)",
                value=1.0 if gateway.restore.refusing else 0.0,
            )
        if gateway.log_settings.sequencer:
            yield GaugeMetricFamily(
                "share_gateway_sequencer_alarm",
                "1 once this process's sequencer refused to sign a tree that does not extend its last checkpoint",
                value=0.0 if gateway.sequencer.alarm is None else 1.0,
            )
        pending_to = GaugeMetricFamily(
            "share_gateway_outbox_pending", "Deliveries waiting for each peer", labels=["peer"]
        )
        dead_to = GaugeMetricFamily(
            "share_gateway_outbox_dead_letters",
            "Deliveries a peer refused for good, waiting for an operator (outbox redeliver)",
            labels=["peer"],
        )
        for peer in backlog:
            pending_to.add_metric([peer.peer], peer.pending)
            dead_to.add_metric([peer.peer], peer.dead)
        yield pending_to
        yield dead_to


@dataclass
class NodeMetrics:
    """A node's registry: the collectors reading its gateway, and the RPC metrics its interceptor counts into."""

    registry: CollectorRegistry
    rpc: RpcMetrics

    @classmethod
    def of(cls, gateway: Gateway) -> NodeMetrics:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(TrustExpiryCollector(gateway.trust))
        registry.register(RecorderCollector(gateway.recorder))
        registry.register(NodeStateCollector(gateway))
        return cls(registry, RpcMetrics(registry))


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


def serve_metrics(listen: str, registry: CollectorRegistry) -> MetricsServer:
    """Serve the node's metrics at ``listen`` (host:port, port 0: any free one) from a thread of their own."""
    host, port = listen_address(listen)
    server, thread = start_http_server(port, host, registry=registry)
    return MetricsServer(server, thread)
