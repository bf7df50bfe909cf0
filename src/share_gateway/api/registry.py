"""RegistryService: agencies submit, read and withdraw records, and decide repair applications about them; courts
end their entries on the dishonest-debtor list (performance, correction)."""

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
from share_gateway.api.disputes_wire import correction_to_wire, dispute_to_wire, notice_to_wire
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
        return registry_pb2.SubmitRecordResponse(
            record=record_to_wire(stored, self.gateway.catalog.catalog),
            repair_notice=notice_to_wire(self.gateway.repairs.notice_for(stored.record)),
        )

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
        return registry_pb2.AcceptRepairResponse(
            application=repair_to_wire(accepted, self._today(), self.gateway.repairs.deadlines)
        )

    @handles_errors
    async def DecideRepair(
        self, request: registry_pb2.DecideRepairRequest, context: Context
    ) -> registry_pb2.DecideRepairResponse:
        agency = await calling_principal(self.gateway, context)
        decided = await self.gateway.repairs.decide(
            agency, request.application_id, request.approve, request.reason, request.remedy
        )
        return registry_pb2.DecideRepairResponse(
            application=repair_to_wire(decided, self._today(), self.gateway.repairs.deadlines)
        )

    @handles_errors
    async def ListRepairApplications(
        self, request: registry_pb2.ListRepairApplicationsRequest, context: Context
    ) -> registry_pb2.ListRepairApplicationsResponse:
        agency = await calling_principal(self.gateway, context)
        pending = await self.gateway.repairs.applications(agency, request.overdue_only)
        today, deadlines = self._today(), self.gateway.repairs.deadlines
        return registry_pb2.ListRepairApplicationsResponse(
            applications=[repair_to_wire(a, today, deadlines) for a in pending]
        )

    @handles_errors
    async def ExtendRepair(
        self, request: registry_pb2.ExtendRepairRequest, context: Context
    ) -> registry_pb2.ExtendRepairResponse:
        agency = await calling_principal(self.gateway, context)
        extended = await self.gateway.repairs.extend(
            agency, request.application_id, request.working_days, request.reason
        )
        return registry_pb2.ExtendRepairResponse(
            application=repair_to_wire(extended, self._today(), self.gateway.repairs.deadlines)
        )

    @handles_errors
    async def GetRepairNotice(
        self, request: registry_pb2.GetRepairNoticeRequest, context: Context
    ) -> registry_pb2.GetRepairNoticeResponse:
        agency = await calling_principal(self.gateway, context)
        notice = await self.gateway.repairs.notice(agency, request.record_id)
        return registry_pb2.GetRepairNoticeResponse(notice=notice_to_wire(notice))

    @handles_errors
    async def ListDisputes(
        self, request: registry_pb2.ListDisputesRequest, context: Context
    ) -> registry_pb2.ListDisputesResponse:
        agency = await calling_principal(self.gateway, context)
        disputes = self.gateway.disputes
        pending = await disputes.open_for(agency, request.overdue_only)
        today = self._today()
        return registry_pb2.ListDisputesResponse(
            disputes=[dispute_to_wire(d, today, disputes.rules_of(d)) for d in pending]
        )

    @handles_errors
    async def AnswerDispute(
        self, request: registry_pb2.AnswerDisputeRequest, context: Context
    ) -> registry_pb2.AnswerDisputeResponse:
        agency = await calling_principal(self.gateway, context)
        correction = draft_from_wire(request.correction) if request.HasField("correction") else None
        disputes = self.gateway.disputes
        answered, corrected = await disputes.answer(agency, request.dispute_id, request.answer, correction)
        response = registry_pb2.AnswerDisputeResponse(
            dispute=dispute_to_wire(answered, self._today(), disputes.rules_of(answered))
        )
        if corrected is not None:
            response.record.CopyFrom(record_to_wire(corrected, self.gateway.catalog.catalog))
        return response

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

    @handles_errors
    async def ReportPerformance(
        self, request: registry_pb2.ReportPerformanceRequest, context: Context
    ) -> registry_pb2.ReportPerformanceResponse:
        court = await calling_principal(self.gateway, context)
        stored, performance = await self.gateway.debtors.report_performance(
            court, request.record_id, request.performed_on
        )
        return registry_pb2.ReportPerformanceResponse(
            record=record_to_wire(stored, self.gateway.catalog.catalog),
            performed_on=performance.performed_on.isoformat(),
            deletion_due=performance.deletion_due.isoformat(),
            late=performance.late,
        )

    @handles_errors
    async def ListCorrectionApplications(
        self, request: registry_pb2.ListCorrectionApplicationsRequest, context: Context
    ) -> registry_pb2.ListCorrectionApplicationsResponse:
        court = await calling_principal(self.gateway, context)
        debtors = self.gateway.debtors
        pending = await debtors.pending(court, request.overdue_only)
        today = self._today()
        return registry_pb2.ListCorrectionApplicationsResponse(
            applications=[correction_to_wire(a, today, debtors.rules_of(a)) for a in pending]
        )

    @handles_errors
    async def ReviewCorrection(
        self, request: registry_pb2.ReviewCorrectionRequest, context: Context
    ) -> registry_pb2.ReviewCorrectionResponse:
        court = await calling_principal(self.gateway, context)
        debtors = self.gateway.debtors
        reviewed = await debtors.review(court, request.application_id, request.upheld, request.reason)
        return registry_pb2.ReviewCorrectionResponse(
            application=correction_to_wire(reviewed, self._today(), debtors.rules_of(reviewed))
        )

    def _today(self) -> date:
        return self.gateway.runtime.clock().date()
