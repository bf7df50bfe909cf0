"""Building, starting and stopping the gRPC server, in one small place.

Two listeners share one server: the main port requires a client certificate
from the federation CA (mTLS); the public port only proves the server (or is
plaintext for probes) and serves what anyone may read: the catalog, health
and reflection. Calls to other services there fail UNAUTHENTICATED, because
they find no verified certificate.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from share_gateway.api.admin import AdminServicer
from share_gateway.api.catalog import CatalogServicer
from share_gateway.api.compliance import ComplianceServicer
from share_gateway.api.inquiry import InquiryServicer
from share_gateway.api.peer import PeerServicer
from share_gateway.api.registry import RegistryServicer
from share_gateway.api.requests import add_checked_service
from share_gateway.config import TlsMaterial
from share_gateway.federation.manifest import ManifestExpired
from share_gateway.gateway import Gateway
from share_gateway.v1 import (
    admin_pb2,
    catalog_pb2,
    compliance_pb2,
    inquiry_pb2,
    peer_pb2,
    registry_pb2,
)

SERVICES = (
    catalog_pb2.DESCRIPTOR.services_by_name["CatalogService"].full_name,
    inquiry_pb2.DESCRIPTOR.services_by_name["InquiryService"].full_name,
    registry_pb2.DESCRIPTOR.services_by_name["RegistryService"].full_name,
    compliance_pb2.DESCRIPTOR.services_by_name["ComplianceService"].full_name,
    peer_pb2.DESCRIPTOR.services_by_name["PeerService"].full_name,
    admin_pb2.DESCRIPTOR.services_by_name["AdminService"].full_name,
)


@dataclass
class RunningServer:
    server: grpc.aio.Server
    health: health.aio.HealthServicer
    port: int
    public_port: int | None
    # The loops that keep health up to date (the manifest's, the trust material's); cancelled at stop.
    watchers: tuple[asyncio.Task[None], ...] = ()
    # Ends the calls that never end by themselves (revocation watches) with UNAVAILABLE, waiting at most the
    # seconds given: their clients resume from their cursor elsewhere instead of seeing the server cancel them.
    end_streams: Callable[[float], Awaitable[None]] | None = None

    async def stop(self, grace: float = 5.0) -> None:
        for watcher in self.watchers:
            watcher.cancel()
        await self.health.enter_graceful_shutdown()
        if self.end_streams is not None:
            await self.end_streams(max(grace, 1.0))
        await self.server.stop(grace)


PEER_SERVICE = peer_pb2.DESCRIPTOR.services_by_name["PeerService"].full_name
# Not a service anyone calls: a health name NOT_SERVING while trust material expires within the horizon (or has
# expired), for probes and alerting. gRPC health has no "warning" state, and "" and the API services stay SERVING.
TRUST_MATERIAL_SERVICE = "share_gateway.TrustMaterial"


async def _watch_manifest(gateway: Gateway, health_servicer: health.aio.HealthServicer, every: float = 1.0) -> None:
    """Health says whether federation traffic is served: NOT_SERVING for PeerService once the manifest expires."""
    federation = gateway.federation
    assert federation is not None
    while True:
        try:
            federation.require_current()
            status = health_pb2.HealthCheckResponse.SERVING
        except ManifestExpired:
            status = health_pb2.HealthCheckResponse.NOT_SERVING
        await health_servicer.set(PEER_SERVICE, status)
        await asyncio.sleep(every)


async def _watch_trust_material(
    gateway: Gateway, health_servicer: health.aio.HealthServicer, every: float = 1.0
) -> None:
    """Health warns of expiring trust material: NOT_SERVING for ``TRUST_MATERIAL_SERVICE`` while any warns."""
    while True:
        await health_servicer.set(TRUST_MATERIAL_SERVICE, _trust_status(gateway))
        await asyncio.sleep(every)


def _trust_status(gateway: Gateway) -> health_pb2.HealthCheckResponse.ServingStatus.ValueType:
    if gateway.trust.warning():
        return health_pb2.HealthCheckResponse.NOT_SERVING
    return health_pb2.HealthCheckResponse.SERVING


async def start_server(
    gateway: Gateway,
    tls: TlsMaterial,
    listen: str,
    public_listen: str | None = None,
    public_plaintext: bool = False,
    max_message_bytes: int = 1 << 20,
    interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
) -> RunningServer:
    server = grpc.aio.server(
        interceptors=interceptors,
        options=[
            # Two servers must never silently share a port.
            ("grpc.so_reuseport", 0),
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.max_send_message_length", 4 * max_message_bytes),
        ],
    )
    # Requests are decoded and checked in one place (api.requests), not by grpcio before the servicer runs.
    for service, servicer in (
        (catalog_pb2.DESCRIPTOR.services_by_name["CatalogService"], CatalogServicer(lambda: gateway.catalog_in_force)),
        (inquiry_pb2.DESCRIPTOR.services_by_name["InquiryService"], InquiryServicer(gateway)),
        (registry_pb2.DESCRIPTOR.services_by_name["RegistryService"], RegistryServicer(gateway)),
        (compliance_pb2.DESCRIPTOR.services_by_name["ComplianceService"], ComplianceServicer(gateway)),
        (peer_pb2.DESCRIPTOR.services_by_name["PeerService"], PeerServicer(gateway)),
        (admin_pb2.DESCRIPTOR.services_by_name["AdminService"], AdminServicer(gateway)),
    ):
        add_checked_service(server, gateway, service, servicer)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection((*SERVICES, health.SERVICE_NAME, reflection.SERVICE_NAME), server)

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
    for name in (*SERVICES, ""):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    await health_servicer.set(TRUST_MATERIAL_SERVICE, _trust_status(gateway))
    watchers = [asyncio.create_task(_watch_trust_material(gateway, health_servicer))]
    if gateway.federation is not None:
        watchers.append(asyncio.create_task(_watch_manifest(gateway, health_servicer)))
    else:
        await health_servicer.set(PEER_SERVICE, health_pb2.HealthCheckResponse.NOT_SERVING)
    return RunningServer(server, health_servicer, port, public_port, tuple(watchers), gateway.revocation_watch.close)
