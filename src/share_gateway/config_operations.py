"""The node's operational settings: how it is run, watched and stopped (``config.py`` gathers them on ``NodeConfig``).

Metrics, health, tracing, logging, database connections and shutdown: what an operator tunes for a deployment,
apart from the settings that carry the rules (the log, the procedures, the federation, the quotas).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, StrictBool, StrictStr
from pydantic.dataclasses import dataclass

from share_gateway.config_sources import Section
from share_gateway.config_types import SECTION, seconds, upper_text, whole


def listen_address(listen: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:9464`` for IPv6; port 0: any free port) as (host, port); ValueError otherwise."""
    host, colon, port = listen.rpartition(":") if isinstance(listen, str) else ("", "", "")
    host = host.removeprefix("[").removesuffix("]")
    if not colon or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"must be host:port with a port from 0 to 65535, not {listen!r}")
    return host, int(port)


def _listen(value: str) -> str:
    listen_address(value)
    return value


ListenAddress = Annotated[StrictStr, AfterValidator(_listen)]


@dataclass(frozen=True, config=SECTION)
class MetricsSettings(Section):
    """Where Prometheus scrapes the node's metrics (plain HTTP); without ``listen`` none are served."""

    listen: ListenAddress | None = None


def _up_to_an_hour(default: float) -> Any:
    """A field in seconds from 0 (none) to an hour."""
    return Field(default, strict=True, ge=0, le=3600, allow_inf_nan=False)


@dataclass(frozen=True, config=SECTION)
class ShutdownSettings(Section):
    """How a node stops on SIGTERM: health NOT_SERVING for the drain delay, then no new calls and a grace period
    for the calls in flight, then the loops and the sequencer (README, "Stopping a node")."""

    # Seconds health says NOT_SERVING while the node still answers, so load balancers and probes stop sending
    # before the server stops taking calls: their probe period × failure threshold (Kubernetes endpoints follow
    # a pod's deletion within a few seconds: 5). 0: no drain, for a node no balancer sends to.
    drain_delay_seconds: float = _up_to_an_hour(0.0)
    # Seconds the calls in flight may take to finish once the server takes no new ones; then they are cancelled.
    # Above the longest call (a federated inquiry waits up to federation.peer_timeout_seconds for a peer).
    grace_seconds: float = _up_to_an_hour(10.0)
    # Seconds the sequencer may integrate what is left once the loops stopped; the rest waits for the next
    # sequencer (appends are durable), so a backlog never holds a stop past the orchestrator's kill.
    sequencer_seconds: float = _up_to_an_hour(10.0)


@dataclass(frozen=True, config=SECTION)
class HealthSettings(Section):
    """What health reports, and where a probe without a client certificate reads it (docs/operations.md, Health)."""

    # A plain (no TLS) gRPC port serving only health, for Kubernetes' gRPC probes; without it health is served on
    # the mTLS port and the public port. It is up while the node waits for its database at start.
    listen: ListenAddress | None = None
    # How often every dependency is looked at; probes read the last look, so they never load the database.
    interval_seconds: float = seconds(1.0, most=60)
    # The database's look (one cheap query) fails after this long: a hung database is not reachable.
    database_timeout_seconds: float = seconds(2.0, most=60)
    # The sequencer is stalled when the oldest event not yet in the log's tree is older than this.
    sequencer_lag_seconds: float = seconds(60.0, most=86400)
    # The outbox is behind when a delivery has waited longer than this (a peer down that long needs a look).
    outbox_backlog_seconds: float = seconds(3600.0, most=31 * 86400)
    # A peer is behind when this node's checkpoints have waited longer than this for its cosignature.
    cosignature_age_seconds: float = seconds(600.0, most=31 * 86400)
    # A node started while its database is down tries again after a pause doubling up to this, NOT_SERVING meanwhile.
    database_retry_most_seconds: float = seconds(10.0, most=600)


def _share(default: float) -> Any:
    """A field that is a share, from 0 to 1."""
    return Field(default, strict=True, ge=0, le=1, allow_inf_nan=False)


@dataclass(frozen=True, config=SECTION)
class TracingSettings(Section):
    """OpenTelemetry tracing, off unless ``enabled``: spans of the inquiry path and of each peer hop."""

    enabled: StrictBool = False
    # The service.name spans carry; the region is added as a resource attribute.
    service_name: StrictStr = "share-gateway"
    # The share of new traces recorded (a trace begun elsewhere follows its caller's decision).
    sample_ratio: float = _share(1.0)
    # Where spans go: an OTLP/HTTP collector (needs the ``otlp`` extra), or nowhere but the in-process
    # processors a test or an embedding program adds.
    otlp_endpoint: StrictStr | None = None


@dataclass(frozen=True, config=SECTION)
class ConnectionSettings(Section):
    """The node's connections to its database (``connections:``): sized for its replicas and the server's limit."""

    # Connections the pool keeps open, and as many again under load: on PostgreSQL (reads and writes share one
    # pool) a process holds up to 2 x pool_size, so processes x 2 x pool_size must stay under max_connections.
    # On SQLite it sizes the readers' pool (one writer, whatever it says).
    pool_size: int = whole(8, least=1, most=1000)
    # How long a call waits for a free connection before it fails, rather than queueing without end; none: the
    # store's own (30 s on PostgreSQL, 60 s for SQLite's readers).
    pool_timeout_seconds: float | None = seconds(None, most=3600)
    # PostgreSQL cancels a statement running longer than this (its ``statement_timeout``); none by default, as
    # the log's integration and a bulk load run long statements on purpose.
    statement_timeout_seconds: float | None = seconds(None, most=86400)


# A logging level, in any case (``info`` or ``INFO``).
LogLevel = Annotated[Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], BeforeValidator(upper_text)]


@dataclass(frozen=True, config=SECTION)
class LoggingSettings(Section):
    """How the process writes its log lines (``logging:``), every one with its UTC timestamp."""

    # ``text``: one readable line each; ``json``: one JSON object each, for a log collector.
    format: Literal["text", "json"] = "text"
    level: LogLevel = "INFO"
    # The one line per call (method, status, duration, requester). INFO: an operator sees every call by default
    # (issue 14 found nothing logged per request on success); a line costs about 15 us, under 1% of an inquiry's
    # CPU (README, "Metrics, logs and traces"). DEBUG (below ``level``) turns it off: one level check per call.
    access_level: LogLevel = "INFO"
