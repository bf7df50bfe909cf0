"""The node's gRPC health (grpc.health.v1): what ``gateway.health`` finds, under names probes and operators ask.

* ``""`` and ``share_gateway.Readiness``: the node can serve (its database
  answers, its TLS certificate and the CA have not expired). The API services
  follow it; ``PeerService`` also needs a manifest in force.
* ``share_gateway.Liveness``: the process runs its loops (a restart is not needed).
* ``share_gateway.<Component>``: each dependency (Database, Sequencer, Outbox,
  Manifest, TrustMaterial, ``Peer.<region>``), NOT_SERVING while it needs an
  operator, UNKNOWN while it cannot be read. These do not make the node unready.

One servicer serves every port: the mTLS port, the public port and, with
``health.listen``, a plain port of its own for Kubernetes' gRPC probes, which
cannot present a client certificate. The plain port is up before the database
is: a node waiting for it answers NOT_SERVING rather than nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from share_gateway.api.reflection import serve_reflection
from share_gateway.domain.health import Component, Finding, Standing
from share_gateway.gateway.health import HealthChecks, HealthReport

log = logging.getLogger(__name__)
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
PREFIX = "share_gateway."
LIVENESS = f"{PREFIX}Liveness"
READINESS = f"{PREFIX}Readiness"
DATABASE = f"{PREFIX}{Component.DATABASE}"
SEQUENCER = f"{PREFIX}{Component.SEQUENCER}"
# NOT_SERVING while trust material expires within the horizon (or has expired): a warning, gRPC has no such state.
TRUST_MATERIAL_SERVICE = f"{PREFIX}{Component.TRUST_MATERIAL}"
_STATUS = {
    Standing.SERVING: SERVING,
    Standing.NOT_SERVING: NOT_SERVING,
    Standing.UNKNOWN: health_pb2.HealthCheckResponse.UNKNOWN,
}


def status_of(finding: Finding) -> health_pb2.HealthCheckResponse.ServingStatus.ValueType:
    return _STATUS[finding.standing]


class NodeHealth:
    """The one health servicer of a node, the loop that keeps it true, and the plain port that serves it."""

    def __init__(self) -> None:
        self.servicer = health.aio.HealthServicer()
        self._plain: grpc.aio.Server | None = None
        self._follower: asyncio.Task[None] | None = None
        self.plain_port: int | None = None

    async def starting(self) -> None:
        """Before the node serves: alive, not ready, its database not yet known to answer."""
        await self.servicer.set(LIVENESS, SERVING)
        for name in ("", READINESS, DATABASE):
            await self.servicer.set(name, NOT_SERVING)

    async def serve_plain(self, listen: str) -> int:
        """Serve only health, without TLS, at ``listen`` (host:port; port 0: any free one); return the port."""
        server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
        health_pb2_grpc.add_HealthServicer_to_server(self.servicer, server)
        # Reflection of health alone: grpcurl asks without a .proto file at hand.
        serve_reflection(server, (health.SERVICE_NAME,))
        port = server.add_insecure_port(listen)
        await server.start()
        self._plain, self.plain_port = server, port
        return port

    async def follow(
        self, checks: HealthChecks, services: Sequence[str], peer_service: str | None, interval: float
    ) -> None:
        """Publish a first look now, then look at every dependency each ``interval`` until ``stop`` (a process
        serving no peers, the sequencer's, gives no ``peer_service``)."""
        await self._publish(await checks.look(), services, peer_service)
        self._follower = asyncio.create_task(self._follow(checks, services, peer_service, interval), name="health")

    async def _follow(
        self, checks: HealthChecks, services: Sequence[str], peer_service: str | None, interval: float
    ) -> None:
        try:
            while True:
                await asyncio.sleep(interval)
                try:
                    await self._publish(await checks.look(), services, peer_service)
                except Exception:
                    log.exception("health look failed; trying again in %g s", interval)
        finally:
            checks.close()

    async def _publish(self, report: HealthReport, services: Sequence[str], peer_service: str | None) -> None:
        ready = status_of(report.ready)
        await self.servicer.set(LIVENESS, status_of(report.live))
        for name in ("", READINESS, *services):
            await self.servicer.set(name, ready)
        if peer_service is not None:
            manifest = next((f for f in report.components if f.name == Component.MANIFEST), None)
            peers_served = ready == SERVING and manifest is not None and manifest.serving
            await self.servicer.set(peer_service, SERVING if peers_served else NOT_SERVING)
        for finding in report.components:
            await self.servicer.set(f"{PREFIX}{finding.name}", status_of(finding))

    async def enter_graceful_shutdown(self) -> None:
        """Every name NOT_SERVING from now on; the look stops."""
        if self._follower is not None:
            self._follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follower
        await self.servicer.enter_graceful_shutdown()

    async def stop(self, grace: float = 0.0) -> None:
        await self.enter_graceful_shutdown()
        if self._plain is not None:
            await self._plain.stop(grace)
            self._plain = None
