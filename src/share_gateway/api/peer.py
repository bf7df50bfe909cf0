"""PeerService: what another region's node asks of this one (an inquiry, a cosignature) or gives it (a record).

Every call refused (``Refused``, input refused as invalid, or a state that refuses it, such as an expired
manifest) is counted at this edge, once for all methods, into the gateway's ``Refusals``: the log shows who
was refused, why, and the digest of what they sent. Not counted: a refusal the use case logged itself (a forwarded
inquiry the policy denied is a denied inquiry event), a witness naming the size it last cosigned (a step of the
tlog-witness protocol, not a refusal) and a rewritten history (logged already, as an alarm holding the
evidence).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message

from share_gateway.api.auth import calling_peer, certified_caller
from share_gateway.api.errors import handles_errors
from share_gateway.domain.errors import InvalidInput, InvalidState, Refused, Unauthenticated
from share_gateway.domain.events import EventKind
from share_gateway.federation.messages import digest
from share_gateway.federation.wire import (
    citation_to_wire,
    disclosure_from_wire,
    disclosure_to_wire,
    envelope_from_wire,
    envelope_to_wire,
)
from share_gateway.gateway import Gateway, InquiryRequest
from share_gateway.gateway.intake import PeerIntake
from share_gateway.gateway.runtime import node_principal
from share_gateway.gateway.witness import INCONSISTENT, WitnessDesk
from share_gateway.ledger.witness import SIZE_MISMATCH
from share_gateway.v1 import peer_pb2, peer_pb2_grpc

Context = grpc.aio.ServicerContext[Any, Any]
# Answers in the refused states' form that are no refusal to count (see the module docstring).
NOT_REFUSALS = frozenset({SIZE_MISMATCH, INCONSISTENT})
Handler = TypeVar("Handler", bound=Callable[..., Awaitable[Any]])


def _signed_message(request: Message) -> bytes:
    """The signed bytes a peer sent, which its own log names by their digest; else the whole request."""
    if isinstance(request, peer_pb2.PeerServiceInquireRequest):
        return request.inquiry.payload
    if isinstance(request, peer_pb2.PublishRequest):
        return request.record.statement.payload
    if isinstance(request, peer_pb2.RevokeRequest):
        return request.revocation.payload
    if isinstance(request, peer_pb2.ShareListingRequest):
        return request.listing.payload
    if isinstance(request, peer_pb2.ShareConsentRevocationRequest):
        return request.revocation.payload
    if isinstance(request, peer_pb2.ShareDisputeRequest):
        return request.mark.payload
    if isinstance(request, peer_pb2.WitnessRequest):
        return request.checkpoint
    if isinstance(request, peer_pb2.GetHistoryRequest):
        return request.request.payload
    return request.SerializeToString(deterministic=True)


def records_refusals(handler: Handler) -> Handler:
    """Count a refused call (by the caller's certificate identity) before the refusal goes back to it."""

    @functools.wraps(handler)
    async def wrapper(self: PeerServicer, request: Message, context: Context) -> Any:
        try:
            return await handler(self, request, context)
        except (Refused, InvalidInput, InvalidState) as error:
            if error.logged or (isinstance(error, InvalidState) and error.reason in NOT_REFUSALS):
                raise
            try:
                identity = certified_caller(context).identity
            except Unauthenticated:
                raise error from None  # no identity to count it against: the TLS layer let no one in
            reason = (
                "INVALID_ARGUMENT" if isinstance(error, InvalidInput) else str(error.reason or "FAILED_PRECONDITION")
            )
            await self.gateway.refusals.refused(
                EventKind.PEER_REFUSED,
                identity,
                reason,
                str(error),
                call=handler.__name__,
                message_digest=digest(_signed_message(request)),
            )
            raise

    return wrapper  # type: ignore[return-value]


class PeerServicer(peer_pb2_grpc.PeerServiceServicer):
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    @handles_errors
    @records_refusals
    async def Inquire(
        self, request: peer_pb2.PeerServiceInquireRequest, context: Context
    ) -> peer_pb2.PeerServiceInquireResponse:
        federation, region = await calling_peer(self.gateway, context)
        inquiry, requester, request_digest = await federation.accept(region, envelope_from_wire(request.inquiry))
        async with federation.answering_once(inquiry):
            answer = await self.gateway.inquiries.inquire(
                requester,
                InquiryRequest(
                    subject_kind=inquiry.subject.kind.value,
                    subject_identifier=inquiry.subject.identifier,
                    purpose=inquiry.purpose,
                    consent_reference=inquiry.consent_reference,
                    consent=inquiry.consent,
                    record_types=inquiry.record_types,
                    exchange={"via": node_principal(region).uri, "request_digest": request_digest},
                    asking_region=region,
                ),
            )
        return peer_pb2.PeerServiceInquireResponse(
            records=[disclosure_to_wire(d) for d in answer.disclosures],
            citations=[citation_to_wire(c) for c in answer.citations],
            receipt=envelope_to_wire(answer.receipt),
            disputes=[envelope_to_wire(e) for e in federation.signed_marks(answer.disputed)],
        )

    @handles_errors
    @records_refusals
    async def Publish(self, request: peer_pb2.PublishRequest, context: Context) -> peer_pb2.PublishResponse:
        federation, region = await calling_peer(self.gateway, context)
        receipt = await PeerIntake(federation).receive(region, disclosure_from_wire(request.record))
        return peer_pb2.PublishResponse(receipt=envelope_to_wire(receipt))

    @handles_errors
    @records_refusals
    async def Witness(self, request: peer_pb2.WitnessRequest, context: Context) -> peer_pb2.WitnessResponse:
        federation, region = await calling_peer(self.gateway, context)
        cosignature = await WitnessDesk(federation).cosign(
            region, request.checkpoint, request.old_size, list(request.consistency_proof)
        )
        return peer_pb2.WitnessResponse(cosignature=cosignature)

    @handles_errors
    @records_refusals
    async def GetWitnessed(
        self, request: peer_pb2.GetWitnessedRequest, context: Context
    ) -> peer_pb2.GetWitnessedResponse:
        federation, region = await calling_peer(self.gateway, context)
        return peer_pb2.GetWitnessedResponse(checkpoint=await WitnessDesk(federation).witnessed(region))

    @handles_errors
    @records_refusals
    async def Revoke(self, request: peer_pb2.RevokeRequest, context: Context) -> peer_pb2.RevokeResponse:
        federation, region = await calling_peer(self.gateway, context)
        receipt = await PeerIntake(federation).revoke(region, envelope_from_wire(request.revocation))
        return peer_pb2.RevokeResponse(receipt=envelope_to_wire(receipt))

    @handles_errors
    @records_refusals
    async def ShareListing(
        self, request: peer_pb2.ShareListingRequest, context: Context
    ) -> peer_pb2.ShareListingResponse:
        federation, region = await calling_peer(self.gateway, context)
        receipt = await PeerIntake(federation).receive_listing(region, envelope_from_wire(request.listing))
        return peer_pb2.ShareListingResponse(receipt=envelope_to_wire(receipt))

    @handles_errors
    @records_refusals
    async def ShareDispute(
        self, request: peer_pb2.ShareDisputeRequest, context: Context
    ) -> peer_pb2.ShareDisputeResponse:
        federation, region = await calling_peer(self.gateway, context)
        receipt = await PeerIntake(federation).receive_dispute(region, envelope_from_wire(request.mark))
        return peer_pb2.ShareDisputeResponse(receipt=envelope_to_wire(receipt))

    @handles_errors
    @records_refusals
    async def GetHistory(self, request: peer_pb2.GetHistoryRequest, context: Context) -> peer_pb2.GetHistoryResponse:
        _, region = await calling_peer(self.gateway, context)
        peers = self.gateway.history.peers
        assert peers is not None  # calling_peer admits no one where this node has no federation
        page = await peers.answer(region, envelope_from_wire(request.request))
        return peer_pb2.GetHistoryResponse(page=envelope_to_wire(page))

    @handles_errors
    @records_refusals
    async def ForwardRepair(
        self, request: peer_pb2.ForwardRepairRequest, context: Context
    ) -> peer_pb2.ForwardRepairResponse:
        _, region = await calling_peer(self.gateway, context)
        answer = await self.gateway.repair_intake.answer(region, envelope_from_wire(request.request))
        return peer_pb2.ForwardRepairResponse(application=envelope_to_wire(answer))

    @handles_errors
    @records_refusals
    async def ShareConsentRevocation(
        self, request: peer_pb2.ShareConsentRevocationRequest, context: Context
    ) -> peer_pb2.ShareConsentRevocationResponse:
        federation, region = await calling_peer(self.gateway, context)
        receipt = await self.gateway.consents.receive_revocation(
            federation, region, envelope_from_wire(request.revocation)
        )
        return peer_pb2.ShareConsentRevocationResponse(receipt=envelope_to_wire(receipt))
