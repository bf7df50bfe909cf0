"""RegistryService: agencies submit, read and withdraw records, and decide repair applications about them."""

from __future__ import annotations

from datetime import date
from typing import Any

import grpc

from share_gateway.api.auth import calling_principal
from share_gateway.api.convert import (
    document_from_wire,
    draft_from_wire,
    listing_to_wire,
    record_to_wire,
    repair_to_wire,
)
from share_gateway.api.errors import handles_errors
from share_gateway.gateway import Gateway
from share_gateway.v1 import registry_pb2, registry_pb2_grpc

Context = grpc.aio.ServicerContext[Any, Any]


class RegistryServicer(registry_pb2_grpc.RegistryServiceServicer):
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    @handles_errors
    async def SubmitRecord(
        self, request: registry_pb2.SubmitRecordRequest, context: Context
    ) -> registry_pb2.SubmitRecordResponse:
        agency = await calling_principal(self.gateway, context)
        stored = await self.gateway.registry.submit(agency, request.request_id, draft_from_wire(request))
        return registry_pb2.SubmitRecordResponse(record=record_to_wire(stored, self.gateway.catalog.catalog))

    @handles_errors
    async def GetRecord(
        self, request: registry_pb2.GetRecordRequest, context: Context
    ) -> registry_pb2.GetRecordResponse:
        agency = await calling_principal(self.gateway, context)
        stored = await self.gateway.registry.get(agency, request.record_id)
        return registry_pb2.GetRecordResponse(record=record_to_wire(stored, self.gateway.catalog.catalog))

    @handles_errors
    async def WithdrawRecord(
        self, request: registry_pb2.WithdrawRecordRequest, context: Context
    ) -> registry_pb2.WithdrawRecordResponse:
        agency = await calling_principal(self.gateway, context)
        document = document_from_wire(request.revoking_document) if request.HasField("revoking_document") else None
        stored = await self.gateway.registry.withdraw(agency, request.record_id, request.reason, document)
        return registry_pb2.WithdrawRecordResponse(record=record_to_wire(stored, self.gateway.catalog.catalog))

    @handles_errors
    async def AcceptRepair(
        self, request: registry_pb2.AcceptRepairRequest, context: Context
    ) -> registry_pb2.AcceptRepairResponse:
        agency = await calling_principal(self.gateway, context)
        accepted = await self.gateway.repairs.accept(agency, request.application_id)
        return registry_pb2.AcceptRepairResponse(application=repair_to_wire(accepted, self._today()))

    @handles_errors
    async def DecideRepair(
        self, request: registry_pb2.DecideRepairRequest, context: Context
    ) -> registry_pb2.DecideRepairResponse:
        agency = await calling_principal(self.gateway, context)
        decided = await self.gateway.repairs.decide(agency, request.application_id, request.approve, request.reason)
        return registry_pb2.DecideRepairResponse(application=repair_to_wire(decided, self._today()))

    @handles_errors
    async def ListRepairApplications(
        self, request: registry_pb2.ListRepairApplicationsRequest, context: Context
    ) -> registry_pb2.ListRepairApplicationsResponse:
        agency = await calling_principal(self.gateway, context)
        pending = await self.gateway.repairs.applications(agency, request.overdue_only)
        today = self._today()
        return registry_pb2.ListRepairApplicationsResponse(applications=[repair_to_wire(a, today) for a in pending])

    @handles_errors
    async def ProposeListing(
        self, request: registry_pb2.ProposeListingRequest, context: Context
    ) -> registry_pb2.ProposeListingResponse:
        agency = await calling_principal(self.gateway, context)
        listing = await self.gateway.listings.propose(
            agency,
            request.record_id,
            request.list_name,
            request.document,
            request.reason,
            request.removal_conditions,
            request.remedies,
        )
        return registry_pb2.ProposeListingResponse(listing=listing_to_wire(listing, self._today()))

    @handles_errors
    async def NotifyListing(
        self, request: registry_pb2.NotifyListingRequest, context: Context
    ) -> registry_pb2.NotifyListingResponse:
        agency = await calling_principal(self.gateway, context)
        listing = await self.gateway.listings.notify(agency, request.listing_id, request.document, request.reason)
        return registry_pb2.NotifyListingResponse(listing=listing_to_wire(listing, self._today()))

    @handles_errors
    async def ReviewObjection(
        self, request: registry_pb2.ReviewObjectionRequest, context: Context
    ) -> registry_pb2.ReviewObjectionResponse:
        agency = await calling_principal(self.gateway, context)
        listing = await self.gateway.listings.review(
            agency, request.listing_id, request.upheld, request.document, request.reason
        )
        return registry_pb2.ReviewObjectionResponse(listing=listing_to_wire(listing, self._today()))

    @handles_errors
    async def ConfirmListing(
        self, request: registry_pb2.ConfirmListingRequest, context: Context
    ) -> registry_pb2.ConfirmListingResponse:
        agency = await calling_principal(self.gateway, context)
        listing = await self.gateway.listings.confirm(agency, request.listing_id, request.document, request.reason)
        return registry_pb2.ConfirmListingResponse(listing=listing_to_wire(listing, self._today()))

    @handles_errors
    async def GetListing(
        self, request: registry_pb2.GetListingRequest, context: Context
    ) -> registry_pb2.GetListingResponse:
        caller = await calling_principal(self.gateway, context)
        listing = await self.gateway.listings.listing(caller, request.listing_id)
        return registry_pb2.GetListingResponse(listing=listing_to_wire(listing, self._today()))

    @handles_errors
    async def ListListings(
        self, request: registry_pb2.ListListingsRequest, context: Context
    ) -> registry_pb2.ListListingsResponse:
        agency = await calling_principal(self.gateway, context)
        listings = await self.gateway.listings.listings(agency, request.overdue_only)
        today = self._today()
        return registry_pb2.ListListingsResponse(listings=[listing_to_wire(x, today) for x in listings])

    def _today(self) -> date:
        return self.gateway.runtime.clock().date()
