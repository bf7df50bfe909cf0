"""Channels to peer nodes, each presenting this node's own certificate (its identity is sgw://node/<region>)."""

from __future__ import annotations

from dataclasses import dataclass, field

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from share_gateway.config import TlsMaterial
from share_gateway.domain.principals import node_host_name
from share_gateway.federation.manifest import Manifest
from share_gateway.v1 import peer_pb2, peer_pb2_grpc


@dataclass
class PeerClients:
    tls: TlsMaterial
    # region -> (endpoint, channel, stub); a new manifest may move a peer to another endpoint.
    _stubs: dict[str, tuple[str, grpc.aio.Channel, peer_pb2_grpc.PeerServiceAsyncStub]] = field(default_factory=dict)

    def _stub(self, manifest: Manifest, region: str) -> peer_pb2_grpc.PeerServiceAsyncStub:
        endpoint = manifest.nodes[region].endpoint
        known = self._stubs.get(region)
        if known is not None and known[0] == endpoint:
            return known[2]
        credentials = grpc.ssl_channel_credentials(self.tls.ca, self.tls.key, self.tls.certificate)
        # The peer must present a certificate naming its region, not merely one from the federation's CA.
        options = [
            ("grpc.max_receive_message_length", 16 << 20),
            ("grpc.ssl_target_name_override", node_host_name(region)),
        ]
        channel = grpc.aio.secure_channel(endpoint, credentials, options=options)
        stub = peer_pb2_grpc.PeerServiceStub(channel)
        self._stubs[region] = (endpoint, channel, stub)
        return stub

    async def inquire(
        self, manifest: Manifest, region: str, request: peer_pb2.PeerServiceInquireRequest, seconds: float
    ) -> peer_pb2.PeerServiceInquireResponse:
        """One call with the remaining time as its gRPC deadline, so the peer sees it too."""
        response: peer_pb2.PeerServiceInquireResponse = await self._stub(manifest, region).Inquire(
            request, timeout=seconds
        )
        return response

    async def publish(
        self, manifest: Manifest, region: str, request: peer_pb2.PublishRequest, seconds: float
    ) -> peer_pb2.PublishResponse:
        response: peer_pb2.PublishResponse = await self._stub(manifest, region).Publish(request, timeout=seconds)
        return response

    async def witness(
        self, manifest: Manifest, region: str, request: peer_pb2.WitnessRequest, seconds: float
    ) -> peer_pb2.WitnessResponse:
        response: peer_pb2.WitnessResponse = await self._stub(manifest, region).Witness(request, timeout=seconds)
        return response

    async def close(self) -> None:
        for _, channel, _ in self._stubs.values():
            await channel.close()
        self._stubs.clear()


def error_info(error: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo | None:
    """The google.rpc.ErrorInfo a peer's error carries, if any: its machine reason and metadata."""
    status = rpc_status.from_call(error)
    for detail in status.details if status is not None else ():
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return info
    return None
