"""The console's only way to the federation: each ``--node`` over mTLS with the identity's own certificate.

Every call goes through ``NodeLink`` so that a node's refusal reaches the page as what it is (``NodeRefused`` with
the status) and one node down never hides the others' figures.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import grpc

from share_gateway.client import credentials, open_channel
from share_gateway.crypto.pki import identity_uris
from share_gateway.domain.errors import InvalidInput
from share_gateway.domain.principals import Identity, IdentityKind, Role, roles_of
from share_gateway.v1 import (
    common_pb2,
    compliance_pb2,
    compliance_pb2_grpc,
    inquiry_pb2,
    inquiry_pb2_grpc,
    registry_pb2,
    registry_pb2_grpc,
)

T = TypeVar("T")
TIMEOUT = 15.0
# An export streams every matching event with its proof: it may take far longer than a page.
EXPORT_TIMEOUT = 600.0
# The catalog's purpose for a subject asking about itself.
SELF_PURPOSE = "self_inquiry"


class NodeRefused(Exception):
    """A node answered a call with an error status (or could not be reached)."""

    def __init__(self, address: str, code: grpc.StatusCode, details: str) -> None:
        super().__init__(f"{address}: {code.name}: {details}")
        self.address = address
        self.code = code
        self.details = details

    @property
    def denied(self) -> bool:
        return self.code is grpc.StatusCode.PERMISSION_DENIED


@dataclass(frozen=True)
class IdentityFiles:
    """An identity's directory as ``pki init`` writes it: tls.crt, tls.key and the federation's ca.crt."""

    directory: Path

    def credentials(self) -> grpc.ChannelCredentials:
        return credentials(self.directory / "tls.crt", self.directory / "tls.key", self.directory / "ca.crt")

    @property
    def uris(self) -> list[str]:
        return identity_uris((self.directory / "tls.crt").read_bytes())

    @property
    def roles(self) -> frozenset[Role]:
        return roles_of(self.uris)

    @property
    def is_officer(self) -> bool:
        return Role.COMPLIANCE_OFFICER in self.roles

    @property
    def subject(self) -> common_pb2.Subject | None:
        """The company or person the certificate names, as the subject of its own pages; None for a node's."""
        for uri in self.uris:
            try:
                identity = Identity.from_uri(uri)
            except InvalidInput:
                continue  # a role's URI
            if identity.kind is IdentityKind.INSTITUTION:
                return common_pb2.Subject(kind=common_pb2.SUBJECT_KIND_LEGAL_ENTITY, identifier=identity.identifier)
            if identity.kind is IdentityKind.PERSON:
                return common_pb2.Subject(kind=common_pb2.SUBJECT_KIND_INDIVIDUAL, identifier=identity.identifier)
        return None


@dataclass
class NodeLink:
    """One node as the console calls it."""

    address: str
    identity: IdentityFiles
    _channel: grpc.aio.Channel | None = field(default=None, init=False)

    @property
    def channel(self) -> grpc.aio.Channel:
        """The one mTLS channel to the node, opened at first use."""
        if self._channel is None:
            self._channel = open_channel(self.address, self.identity.credentials())
        return self._channel

    @property
    def compliance(self) -> compliance_pb2_grpc.ComplianceServiceAsyncStub:
        return compliance_pb2_grpc.ComplianceServiceStub(self.channel)

    @property
    def inquiry(self) -> inquiry_pb2_grpc.InquiryServiceAsyncStub:
        return inquiry_pb2_grpc.InquiryServiceStub(self.channel)

    @property
    def registry(self) -> registry_pb2_grpc.RegistryServiceAsyncStub:
        return registry_pb2_grpc.RegistryServiceStub(self.channel)

    async def oversight(
        self, overdue_only: bool = False
    ) -> tuple[list[common_pb2.RepairApplication], list[common_pb2.Listing]]:
        """Every open repair application and listing the node decides (all agencies', for an officer: a review
        step the node logs); with ``overdue_only``, those with a step past its deadline."""
        repairs_request = registry_pb2.ListRepairApplicationsRequest(overdue_only=overdue_only)
        listings_request = registry_pb2.ListListingsRequest(overdue_only=overdue_only)
        repairs, listings = await self._answer(
            asyncio.gather(
                self.registry.ListRepairApplications(repairs_request, timeout=TIMEOUT),
                self.registry.ListListings(listings_request, timeout=TIMEOUT),
            )
        )
        return list(repairs.applications), list(listings.listings)

    async def close(self) -> None:
        if self._channel is not None:
            await self._channel.close()
            self._channel = None

    def _refused(self, error: grpc.aio.AioRpcError) -> NodeRefused:
        return NodeRefused(self.address, error.code(), error.details() or "")

    async def _answer(self, call: Awaitable[T]) -> T:
        """A unary call's answer, or ``NodeRefused`` with the status the node gave."""
        try:
            return await call
        except grpc.aio.AioRpcError as error:
            raise self._refused(error) from error

    async def activity(
        self, since: datetime, until: datetime, actor: str = ""
    ) -> compliance_pb2.GetActivitySummaryResponse:
        """The node's day counts in [since, until), of every event or (``actor``) of one requester's."""
        request = compliance_pb2.GetActivitySummaryRequest(actor=actor)
        request.since.FromDatetime(since)
        request.until.FromDatetime(until)
        return await self._answer(self.compliance.GetActivitySummary(request, timeout=TIMEOUT))

    async def backlog(self) -> compliance_pb2.GetDeliveryBacklogResponse:
        return await self._answer(
            self.compliance.GetDeliveryBacklog(compliance_pb2.GetDeliveryBacklogRequest(), timeout=TIMEOUT)
        )

    async def search(
        self, wire_filter: compliance_pb2.EventFilter, page_size: int, page_token: str, count: bool = False
    ) -> tuple[list[compliance_pb2.LoggedEvent], str, int | None]:
        """One page of matching events, the token of the next ("" when none) and, with ``count``, how many match
        in all (None when not counted)."""
        request = compliance_pb2.SearchEventsRequest(
            filter=wire_filter, page_size=page_size, page_token=page_token, count_matching=count
        )
        found: list[compliance_pb2.LoggedEvent] = []
        token, matching = "", None
        try:
            async for message in self._stream(request):
                found += message.events
                token = message.next_page_token or token
                if message.HasField("matching"):
                    matching = message.matching
        except grpc.aio.AioRpcError as error:
            raise self._refused(error) from error
        return found, token, matching

    async def export(self, wire_filter: compliance_pb2.EventFilter) -> AsyncIterator[bytes]:
        """The bundle of every matching event with its proofs, piece by piece as the node streams it (the bytes
        ``audit export`` writes, so ``audit verify-bundle`` checks it offline)."""
        request = compliance_pb2.StreamExportBundleRequest(filter=wire_filter)
        pieces = self.compliance.StreamExportBundle(request, timeout=EXPORT_TIMEOUT)
        try:
            async for piece in pieces:
                yield piece.data
        except grpc.aio.AioRpcError as error:
            raise self._refused(error) from error

    def _stream(
        self, request: compliance_pb2.SearchEventsRequest
    ) -> AsyncIterator[compliance_pb2.SearchEventsResponse]:
        return self.compliance.SearchEvents(request, timeout=TIMEOUT)  # type: ignore[return-value]

    async def inclusion(self, leaf_index: int, tree_size: int = 0) -> compliance_pb2.GetInclusionProofResponse:
        """The entry's inclusion proof under the checkpoint of ``tree_size`` (the latest for 0)."""
        return await self._answer(
            self.compliance.GetInclusionProof(
                compliance_pb2.GetInclusionProofRequest(leaf_index=leaf_index, tree_size=tree_size), timeout=TIMEOUT
            )
        )

    async def history(
        self, subject: common_pb2.Subject, page_size: int, page_token: str
    ) -> inquiry_pb2.GetInquiryHistoryResponse:
        """One page of "who looked at me" across every region, gathered by this node (a self-only purpose)."""
        request = inquiry_pb2.GetInquiryHistoryRequest(
            subject=subject,
            purpose=SELF_PURPOSE,
            scope=inquiry_pb2.INQUIRY_SCOPE_FEDERATION,
            page_size=page_size,
            page_token=page_token,
        )
        return await self._answer(self.inquiry.GetInquiryHistory(request, timeout=TIMEOUT))

    async def consents(self) -> list[inquiry_pb2.ConsentSummary]:
        answer = await self._answer(self.inquiry.ListMyConsents(inquiry_pb2.ListMyConsentsRequest(), timeout=TIMEOUT))
        return list(answer.consents)

    async def revoke_consent(self, consent_id: str) -> inquiry_pb2.ConsentSummary:
        request = inquiry_pb2.RevokeConsentRequest(consent_id=consent_id)
        return (await self._answer(self.inquiry.RevokeConsent(request, timeout=TIMEOUT))).consent

    async def disputes(self) -> list[common_pb2.Dispute]:
        answer = await self._answer(self.inquiry.ListMyDisputes(inquiry_pb2.ListMyDisputesRequest(), timeout=TIMEOUT))
        return list(answer.disputes)

    async def repair_applications(self) -> list[common_pb2.RepairApplication]:
        """The caller's own repair applications this node holds (those about its region's records)."""
        request = inquiry_pb2.ListMyRepairApplicationsRequest()
        answer = await self._answer(self.inquiry.ListMyRepairApplications(request, timeout=TIMEOUT))
        return list(answer.applications)

    async def listings(self) -> list[common_pb2.Listing]:
        answer = await self._answer(self.inquiry.ListMyListings(inquiry_pb2.ListMyListingsRequest(), timeout=TIMEOUT))
        return list(answer.listings)

    async def object_to_listing(self, listing_id: str, statement: str) -> common_pb2.Listing:
        request = inquiry_pb2.ObjectToListingRequest(listing_id=listing_id, statement=statement)
        return (await self._answer(self.inquiry.ObjectToListing(request, timeout=TIMEOUT))).listing

    async def own_records(self, subject: common_pb2.Subject) -> inquiry_pb2.InquireResponse:
        """The subject's own records in every region, as a self inquiry discloses them (logged as one)."""
        request = inquiry_pb2.InquireRequest(
            subject=subject, purpose=SELF_PURPOSE, scope=inquiry_pb2.INQUIRY_SCOPE_FEDERATION
        )
        return await self._answer(self.inquiry.Inquire(request, timeout=TIMEOUT))

    async def apply_for_repair(self, record_id: str, evidence: str, commitment: str) -> common_pb2.RepairApplication:
        request = inquiry_pb2.ApplyForRepairRequest(record_id=record_id, evidence=evidence, commitment=commitment)
        return (await self._answer(self.inquiry.ApplyForRepair(request, timeout=TIMEOUT))).application

    async def repair_application(self, application_id: str, origin_region: str) -> common_pb2.RepairApplication:
        """An application as the record's origin holds it (this node asks the origin when it is another)."""
        request = inquiry_pb2.GetRepairApplicationRequest(application_id=application_id, origin_region=origin_region)
        return (await self._answer(self.inquiry.GetRepairApplication(request, timeout=TIMEOUT))).application
