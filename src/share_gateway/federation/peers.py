"""Channels to peer nodes, each presenting this node's own certificate (its identity is sgw://node/<region>)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf.message import Message
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from share_gateway.config import TlsMaterial
from share_gateway.domain.principals import node_host_name
from share_gateway.federation.manifest import Manifest
from share_gateway.v1 import peer_pb2, peer_pb2_grpc

# What a retired channel's calls in flight may still take before it is closed under them.
RETIRE_GRACE = 30.0


@dataclass
class PeerClients:
    tls: TlsMaterial
    # region -> (endpoint, channel, stub); a new manifest may move a peer to another endpoint.
    _stubs: dict[str, tuple[str, grpc.aio.Channel, peer_pb2_grpc.PeerServiceAsyncStub]] = field(default_factory=dict)
    _closing: dict[asyncio.Task[None], grpc.aio.Channel] = field(default_factory=dict)

    def _stub(self, manifest: Manifest, region: str) -> peer_pb2_grpc.PeerServiceAsyncStub:
        endpoint = manifest.nodes[region].endpoint
        known = self._stubs.get(region)
        if known is not None and known[0] == endpoint:
            return known[2]
        self._retire(region)
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

    def _retire(self, region: str) -> None:
        """Drop a region's channel; the calls still on it get ``RETIRE_GRACE`` to finish."""
        known = self._stubs.pop(region, None)
        if known is not None:
            task = asyncio.create_task(known[1].close(grace=RETIRE_GRACE))
            self._closing[task] = known[1]
            task.add_done_callback(lambda done: self._closing.pop(done, None))

    async def _call(self, manifest: Manifest, region: str, method: str, request: Message, seconds: float) -> Any:
        """One call with ``seconds`` as its gRPC deadline, so the peer sees it too.

        A peer that could not be reached loses its channel: gRPC would otherwise fail every call
        at once until its reconnect backoff (up to two minutes) ran out, long after the peer returned.
        """
        try:
            return await getattr(self._stub(manifest, region), method)(request, timeout=seconds)
        except grpc.aio.AioRpcError as error:
            if error.code() is grpc.StatusCode.UNAVAILABLE:
                self._retire(region)
            raise

    async def inquire(
        self, manifest: Manifest, region: str, request: peer_pb2.PeerServiceInquireRequest, seconds: float
    ) -> peer_pb2.PeerServiceInquireResponse:
        response: peer_pb2.PeerServiceInquireResponse = await self._call(manifest, region, "Inquire", request, seconds)
        return response

    async def publish(
        self, manifest: Manifest, region: str, request: peer_pb2.PublishRequest, seconds: float
    ) -> peer_pb2.PublishResponse:
        response: peer_pb2.PublishResponse = await self._call(manifest, region, "Publish", request, seconds)
        return response

    async def witness(
        self, manifest: Manifest, region: str, request: peer_pb2.WitnessRequest, seconds: float
    ) -> peer_pb2.WitnessResponse:
        response: peer_pb2.WitnessResponse = await self._call(manifest, region, "Witness", request, seconds)
        return response

    async def revoke(
        self, manifest: Manifest, region: str, request: peer_pb2.RevokeRequest, seconds: float
    ) -> peer_pb2.RevokeResponse:
        response: peer_pb2.RevokeResponse = await self._call(manifest, region, "Revoke", request, seconds)
        return response

    async def share_listing(
        self, manifest: Manifest, region: str, request: peer_pb2.ShareListingRequest, seconds: float
    ) -> peer_pb2.ShareListingResponse:
        response: peer_pb2.ShareListingResponse = await self._call(manifest, region, "ShareListing", request, seconds)
        return response

    async def close(self) -> None:
        for _, channel, _ in self._stubs.values():
            await channel.close()
        self._stubs.clear()
        for task, channel in list(self._closing.items()):
            task.cancel()
            await channel.close()


def error_info(error: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo | None:
    """The google.rpc.ErrorInfo a peer's error carries, if any: its machine reason and metadata."""
    status = rpc_status.from_call(error)
    for detail in status.details if status is not None else ():
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return info
    return None
