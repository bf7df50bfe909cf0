"""Building, starting and stopping the gRPC server, in one small place.

Two listeners share one server: the main port requires a client certificate
from the federation CA (mTLS); the public port only proves the server (or is
plaintext for probes) and serves what anyone may read: the catalog, health
and reflection, and the trust material (TrustService: manifest, catalog,
revocation list and every key as a C2SP verifier key). Calls to other services there fail UNAUTHENTICATED, because
they find no verified certificate.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import grpc
from grpc_health.v1 import health, health_pb2_grpc

from share_gateway.api.admin import AdminServicer
from share_gateway.api.catalog import CatalogServicer
from share_gateway.api.compliance import ComplianceServicer
from share_gateway.api.health import TRUST_MATERIAL_SERVICE, NodeHealth
from share_gateway.api.in_flight import CallsInFlight
from share_gateway.api.inquiry import InquiryServicer
from share_gateway.api.peer import PeerServicer
from share_gateway.api.reflection import serve_reflection
from share_gateway.api.registry import RegistryServicer
from share_gateway.api.requests import add_checked_service
from share_gateway.api.trust import TrustServicer
from share_gateway.config import TlsMaterial
from share_gateway.config_operations import HealthSettings
from share_gateway.gateway import Gateway
from share_gateway.gateway.health import HealthChecks
from share_gateway.v1 import (
    admin_pb2,
    catalog_pb2,
    compliance_pb2,
    inquiry_pb2,
    peer_pb2,
    registry_pb2,
    trust_pb2,
)

log = logging.getLogger(__name__)

SERVICES = (
    catalog_pb2.DESCRIPTOR.services_by_name["CatalogService"].full_name,
    trust_pb2.DESCRIPTOR.services_by_name["TrustService"].full_name,
    inquiry_pb2.DESCRIPTOR.services_by_name["InquiryService"].full_name,
    registry_pb2.DESCRIPTOR.services_by_name["RegistryService"].full_name,
    compliance_pb2.DESCRIPTOR.services_by_name["ComplianceService"].full_name,
    peer_pb2.DESCRIPTOR.services_by_name["PeerService"].full_name,
    admin_pb2.DESCRIPTOR.services_by_name["AdminService"].full_name,
)


@dataclass
class RunningServer:
    server: grpc.aio.Server
    health: NodeHealth
    port: int
    public_port: int | None
    # Loops to cancel at stop (health keeps its own: ``NodeHealth.enter_graceful_shutdown`` ends it).
    watchers: tuple[asyncio.Task[None], ...] = ()
    # Ends the calls that never end by themselves (revocation watches) with UNAVAILABLE, waiting at most the
    # seconds given: their clients resume from their cursor elsewhere instead of seeing the server cancel them.
    end_streams: Callable[[float], Awaitable[None]] | None = None
    # The calls being served: at stop, new ones are refused UNAVAILABLE and these finish before the server stops.
    calls: CallsInFlight = field(default_factory=CallsInFlight)

    async def drain(self) -> None:
        """Say NOT_SERVING on every health name, for good, while still answering: balancers stop sending here."""
        for watcher in self.watchers:
            watcher.cancel()
        await self.health.enter_graceful_shutdown()

    async def stop(self, grace: float = 5.0) -> None:
        """Drain (if not yet), refuse new calls (UNAVAILABLE), end the streams that never end by themselves, and
        give the calls in flight ``grace`` seconds in all to finish; then stop the server, which cancels what is
        left. Stopping the server only once the calls ended keeps grpcio from cancelling those it had taken in
        but not yet handed to a handler."""
        await self.drain()
        ends = time.monotonic() + grace
        self.calls.close()
        if self.end_streams is not None:
            await self.end_streams(max(grace, 1.0))
        if not await self.calls.finished(max(0.0, ends - time.monotonic())):
            log.warning("%d calls still in flight after the grace period: cancelled", self.calls.count)
        await self.server.stop(max(0.0, ends - time.monotonic()))


PEER_SERVICE = peer_pb2.DESCRIPTOR.services_by_name["PeerService"].full_name
__all__ = ["PEER_SERVICE", "SERVICES", "TRUST_MATERIAL_SERVICE", "RunningServer", "start_server"]


async def start_server(
    gateway: Gateway,
    tls: TlsMaterial,
    listen: str,
    public_listen: str | None = None,
    public_plaintext: bool = False,
    max_message_bytes: int = 1 << 20,
    health_settings: HealthSettings | None = None,
    node_health: NodeHealth | None = None,
    interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
) -> RunningServer:
    """Serve ``gateway``; ``node_health`` (already serving a plain port, say) is the health it serves and keeps true."""
    settings = health_settings or HealthSettings()
    node_health = node_health or NodeHealth()
    server = grpc.aio.server(
        interceptors=interceptors,
        options=[
            # Two servers must never silently share a port.
            ("grpc.so_reuseport", 0),
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.max_send_message_length", 4 * max_message_bytes),
        ],
    )
    calls = CallsInFlight()
    # Requests are decoded and checked in one place (api.requests), not by grpcio before the servicer runs.
    for service, servicer in (
        (catalog_pb2.DESCRIPTOR.services_by_name["CatalogService"], CatalogServicer(lambda: gateway.catalog_in_force)),
        (trust_pb2.DESCRIPTOR.services_by_name["TrustService"], TrustServicer(gateway)),
        (inquiry_pb2.DESCRIPTOR.services_by_name["InquiryService"], InquiryServicer(gateway)),
        (registry_pb2.DESCRIPTOR.services_by_name["RegistryService"], RegistryServicer(gateway)),
        (compliance_pb2.DESCRIPTOR.services_by_name["ComplianceService"], ComplianceServicer(gateway)),
        (peer_pb2.DESCRIPTOR.services_by_name["PeerService"], PeerServicer(gateway)),
        (admin_pb2.DESCRIPTOR.services_by_name["AdminService"], AdminServicer(gateway)),
    ):
        add_checked_service(server, gateway, service, servicer, calls)
    health_pb2_grpc.add_HealthServicer_to_server(node_health.servicer, server)
    serve_reflection(server, (*SERVICES, health.SERVICE_NAME))

    identity = [(tls.key, tls.certificate)]
    port = server.add_secure_port(
        listen, grpc.ssl_server_credentials(identity, root_certificates=tls.ca, require_client_auth=True)
    )
    public_port = None
    if public_listen:
        credentials = None if public_plaintext else grpc.ssl_server_credentials(identity)
        public_port = (
            server.add_insecure_port(public_listen)
            if credentials is None
            else server.add_secure_port(public_listen, credentials)
        )
    await server.start()
    checks = HealthChecks(gateway, settings)
    others = tuple(name for name in SERVICES if name != PEER_SERVICE)
    await node_health.follow(checks, others, PEER_SERVICE, settings.interval_seconds)
    return RunningServer(server, node_health, port, public_port, (), gateway.revocation_watch.close, calls)
