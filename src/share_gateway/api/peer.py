"""PeerService: what another region's node asks of this one (an inquiry, a cosignature) or gives it (a record)."""

from __future__ import annotations

from typing import Any

import grpc

from share_gateway.api.auth import calling_peer
from share_gateway.api.errors import handles_errors
from share_gateway.federation.wire import (
    citation_to_wire,
    disclosure_from_wire,
    disclosure_to_wire,
    envelope_from_wire,
    envelope_to_wire,
)
from share_gateway.gateway import Gateway, InquiryRequest
from share_gateway.gateway.runtime import node_principal
from share_gateway.gateway.witness import WitnessDesk
from share_gateway.v1 import peer_pb2, peer_pb2_grpc

Context = grpc.aio.ServicerContext[Any, Any]


class PeerServicer(peer_pb2_grpc.PeerServiceServicer):
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    @handles_errors
    async def Inquire(
        self, request: peer_pb2.PeerServiceInquireRequest, context: Context
    ) -> peer_pb2.PeerServiceInquireResponse:
        federation, region = await calling_peer(self.gateway, context)
        inquiry, requester, request_digest = await federation.accept(region, envelope_from_wire(request.inquiry))
        answer = await self.gateway.inquiries.inquire(
            requester,
            InquiryRequest(
                subject_kind=inquiry.subject.kind.value,
                subject_identifier=inquiry.subject.identifier,
                purpose=inquiry.purpose,
                consent_reference=inquiry.consent_reference,
                record_types=inquiry.record_types,
                exchange={"via": node_principal(region).uri, "request_digest": request_digest},
            ),
        )
        return peer_pb2.PeerServiceInquireResponse(
            records=[disclosure_to_wire(d) for d in answer.disclosures],
            citations=[citation_to_wire(c) for c in answer.citations],
            receipt=envelope_to_wire(answer.receipt),
        )

    @handles_errors
    async def Publish(self, request: peer_pb2.PublishRequest, context: Context) -> peer_pb2.PublishResponse:
        federation, region = await calling_peer(self.gateway, context)
        receipt = await federation.receive(region, disclosure_from_wire(request.record))
        return peer_pb2.PublishResponse(receipt=envelope_to_wire(receipt))

    @handles_errors
    async def Witness(self, request: peer_pb2.WitnessRequest, context: Context) -> peer_pb2.WitnessResponse:
        federation, region = await calling_peer(self.gateway, context)
        cosignature = await WitnessDesk(federation).cosign(
            region, request.checkpoint, request.old_size, list(request.consistency_proof)
        )
        return peer_pb2.WitnessResponse(cosignature=cosignature)

    @handles_errors
    async def Revoke(self, request: peer_pb2.RevokeRequest, context: Context) -> peer_pb2.RevokeResponse:
        federation, region = await calling_peer(self.gateway, context)
        receipt = await federation.revoke(region, envelope_from_wire(request.revocation))
        return peer_pb2.RevokeResponse(receipt=envelope_to_wire(receipt))

    @handles_errors
    async def ShareListing(
        self, request: peer_pb2.ShareListingRequest, context: Context
    ) -> peer_pb2.ShareListingResponse:
        federation, region = await calling_peer(self.gateway, context)
        receipt = await federation.receive_listing(region, envelope_from_wire(request.listing))
        return peer_pb2.ShareListingResponse(receipt=envelope_to_wire(receipt))
