"""InquiryService: requesters ask about one subject for one declared purpose."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import grpc

from share_gateway.api.auth import calling_principal
from share_gateway.api.convert import listing_to_wire, repair_to_wire, subject_kind_text
from share_gateway.api.disputes_wire import correction_to_wire, dispute_mark_to_wire, dispute_to_wire
from share_gateway.api.errors import handles_errors, streams_errors
from share_gateway.crypto.consent import SignedConsent
from share_gateway.domain.canonical import day_text
from share_gateway.federation.wire import citation_to_wire, disclosure_to_wire, envelope_to_wire
from share_gateway.gateway import Gateway, InquiryRequest
from share_gateway.gateway.federation import RegionStatus
from share_gateway.gateway.history import HistoryRequest
from share_gateway.store.consents import RegisteredConsent
from share_gateway.v1 import inquiry_pb2, inquiry_pb2_grpc

Context = grpc.aio.ServicerContext[Any, Any]
REGION_STATUSES = {
    RegionStatus.OK: inquiry_pb2.REGION_STATUS_OK,
    RegionStatus.TIMEOUT: inquiry_pb2.REGION_STATUS_TIMEOUT,
    RegionStatus.UNAVAILABLE: inquiry_pb2.REGION_STATUS_UNAVAILABLE,
    RegionStatus.REFUSED: inquiry_pb2.REGION_STATUS_REFUSED,
    RegionStatus.INVALID: inquiry_pb2.REGION_STATUS_INVALID,
}


def _deadline(context: Context) -> float | None:
    """The client's deadline on this process's monotonic clock, to pass on to peers."""
    remaining = context.time_remaining()
    return None if remaining is None else time.monotonic() + remaining


def _consent_from_wire(request: inquiry_pb2.InquireRequest) -> SignedConsent | None:
    if not request.HasField("consent"):
        return None
    consent = request.consent
    return SignedConsent(consent.statement, consent.signature, consent.certificate)


def consent_to_wire(registered: RegisteredConsent) -> inquiry_pb2.ConsentSummary:
    statement = registered.statement
    summary = inquiry_pb2.ConsentSummary(
        consent_id=registered.consent_id,
        requester=statement.requester,
        purposes=statement.purposes,
        attested=statement.attested,
        evidence_sha256=statement.evidence_sha256,
    )
    summary.not_before.FromDatetime(statement.not_before)
    summary.not_after.FromDatetime(statement.not_after)
    summary.registered_at.FromDatetime(registered.registered_at)
    if registered.revoked_at is not None:
        summary.revoked_at.FromDatetime(registered.revoked_at)
    return summary


def _mandate(request: inquiry_pb2.ApplyForRepairRequest | inquiry_pb2.FileDisputeRequest) -> SignedConsent | None:
    """An agent's mandate as the subject signed it, if the request carries one."""
    if not request.HasField("mandate"):
        return None
    mandate = request.mandate
    return SignedConsent(mandate.statement, mandate.signature, mandate.certificate)


class InquiryServicer(inquiry_pb2_grpc.InquiryServiceServicer):
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    @handles_errors
    async def Inquire(self, request: inquiry_pb2.InquireRequest, context: Context) -> inquiry_pb2.InquireResponse:
        requester = await calling_principal(self.gateway, context)
        answer = await self.gateway.inquiries.inquire(
            requester,
            InquiryRequest(
                subject_kind=subject_kind_text(request.subject.kind),
                subject_identifier=request.subject.identifier,
                purpose=request.purpose,
                consent_reference=request.consent_reference,
                consent=_consent_from_wire(request),
                record_types=tuple(request.record_types),
                federated=request.scope == inquiry_pb2.INQUIRY_SCOPE_FEDERATION,
                deadline=_deadline(context),
            ),
        )
        today = self.gateway.runtime.clock().date()
        return inquiry_pb2.InquireResponse(
            inquiry_id=answer.inquiry_id,
            records=[disclosure_to_wire(d) for d in answer.disclosures],
            citations=[citation_to_wire(c) for c in answer.citations],
            receipt=envelope_to_wire(answer.receipt),
            measures=[
                inquiry_pb2.AppliedMeasure(
                    name=m.measure.name,
                    description=m.measure.description,
                    legal_basis=m.measure.legal_basis,
                    grounds=m.grounds,
                    kind=m.measure.kind.value,
                    implementing_body=m.measure.implementing_body,
                    addressed_to=sorted(m.measure.addressed_to),
                    basic_list_item=m.measure.basic_list_item,
                    information_only=m.information_only,
                )
                for m in answer.measures
            ],
            lists=[
                inquiry_pb2.ListMembership(
                    list_name=m.list_name,
                    origin_region=m.origin_region,
                    decision_reference=m.decision_reference,
                    listed_on=day_text(m.listed_on),
                    listed_until=day_text(m.listed_until),
                    listing_id=m.listing_id,
                )
                for m in answer.lists
            ],
            regions=[
                inquiry_pb2.RegionAnswer(
                    region=o.region,
                    status=REGION_STATUSES[o.status],
                    detail=o.detail,
                    records=len(o.disclosures),
                )
                for o in answer.regions
            ],
            disputed=[dispute_mark_to_wire(d, today) for d in answer.disputed],
        )

    @handles_errors
    async def GetInquiryHistory(
        self, request: inquiry_pb2.GetInquiryHistoryRequest, context: Context
    ) -> inquiry_pb2.GetInquiryHistoryResponse:
        requester = await calling_principal(self.gateway, context)
        answer = await self.gateway.history.read(
            requester,
            HistoryRequest(
                subject_kind=subject_kind_text(request.subject.kind),
                subject_identifier=request.subject.identifier,
                purpose=request.purpose,
                page_size=request.page_size,
                page_token=request.page_token,
                federated=request.scope == inquiry_pb2.INQUIRY_SCOPE_FEDERATION,
                deadline=_deadline(context),
            ),
        )
        response = inquiry_pb2.GetInquiryHistoryResponse(
            days=self.gateway.history.days, next_page_token=answer.next_page_token, total=answer.total
        )
        for entry in answer.entries:
            item = response.entries.add(
                institution=entry.actor.uri,
                purpose=entry.purpose,
                outcome=entry.outcome,
                node=entry.node,
                leaf_index=entry.leaf_index,
                actor_kind=entry.actor.kind,
                actor_id=entry.actor.identifier,
                actor_name=entry.actor.name,
                reason=entry.reason,
            )
            item.at.FromDatetime(entry.at)
        for outcome in answer.regions:
            response.regions.add(
                region=outcome.region,
                status=REGION_STATUSES[outcome.status],
                detail=outcome.detail,
                records=sum(1 for e in answer.entries if e.node == outcome.region),
            )
        return response

    @handles_errors
    async def ApplyForRepair(
        self, request: inquiry_pb2.ApplyForRepairRequest, context: Context
    ) -> inquiry_pb2.ApplyForRepairResponse:
        caller = await calling_principal(self.gateway, context)
        application, origin = await self.gateway.repair_intake.apply(
            caller, request.record_id, request.evidence, request.commitment, _mandate(request)
        )
        today = self.gateway.runtime.clock().date()
        return inquiry_pb2.ApplyForRepairResponse(
            application=repair_to_wire(application, today, self.gateway.repairs.deadlines, origin)
        )

    @handles_errors
    async def GetRepairApplication(
        self, request: inquiry_pb2.GetRepairApplicationRequest, context: Context
    ) -> inquiry_pb2.GetRepairApplicationResponse:
        caller = await calling_principal(self.gateway, context)
        application, origin = await self.gateway.repair_intake.application(
            caller, request.application_id, request.origin_region
        )
        today = self.gateway.runtime.clock().date()
        return inquiry_pb2.GetRepairApplicationResponse(
            application=repair_to_wire(application, today, self.gateway.repairs.deadlines, origin)
        )

    @handles_errors
    async def FileDispute(
        self, request: inquiry_pb2.FileDisputeRequest, context: Context
    ) -> inquiry_pb2.FileDisputeResponse:
        subject = await calling_principal(self.gateway, context)
        disputes = self.gateway.disputes
        dispute = await self.gateway.repair_intake.dispute(subject, request.record_id, request.claim, _mandate(request))
        today = self.gateway.runtime.clock().date()
        return inquiry_pb2.FileDisputeResponse(dispute=dispute_to_wire(dispute, today, disputes.rules_of(dispute)))

    @handles_errors
    async def ListMyDisputes(
        self, request: inquiry_pb2.ListMyDisputesRequest, context: Context
    ) -> inquiry_pb2.ListMyDisputesResponse:
        subject = await calling_principal(self.gateway, context)
        disputes = self.gateway.disputes
        mine = await disputes.mine(subject)
        today = self.gateway.runtime.clock().date()
        return inquiry_pb2.ListMyDisputesResponse(
            disputes=[dispute_to_wire(d, today, disputes.rules_of(d)) for d in mine]
        )

    @handles_errors
    async def ListMyRepairApplications(
        self, request: inquiry_pb2.ListMyRepairApplicationsRequest, context: Context
    ) -> inquiry_pb2.ListMyRepairApplicationsResponse:
        subject = await calling_principal(self.gateway, context)
        repairs = self.gateway.repairs
        mine = await repairs.mine(subject)
        today = self.gateway.runtime.clock().date()
        return inquiry_pb2.ListMyRepairApplicationsResponse(
            applications=[repair_to_wire(a, today, repairs.deadlines, self.gateway.runtime.region) for a in mine]
        )

    @handles_errors
    async def ApplyForCorrection(
        self, request: inquiry_pb2.ApplyForCorrectionRequest, context: Context
    ) -> inquiry_pb2.ApplyForCorrectionResponse:
        party = await calling_principal(self.gateway, context)
        debtors = self.gateway.debtors
        applied = await debtors.apply(party, request.record_id, request.grounds)
        today = self.gateway.runtime.clock().date()
        return inquiry_pb2.ApplyForCorrectionResponse(
            application=correction_to_wire(applied, today, debtors.rules_of(applied))
        )

    @handles_errors
    async def ListMyCorrections(
        self, request: inquiry_pb2.ListMyCorrectionsRequest, context: Context
    ) -> inquiry_pb2.ListMyCorrectionsResponse:
        party = await calling_principal(self.gateway, context)
        debtors = self.gateway.debtors
        mine = await debtors.mine(party)
        today = self.gateway.runtime.clock().date()
        return inquiry_pb2.ListMyCorrectionsResponse(
            applications=[correction_to_wire(a, today, debtors.rules_of(a)) for a in mine]
        )

    @handles_errors
    async def ListRevocations(
        self, request: inquiry_pb2.ListRevocationsRequest, context: Context
    ) -> inquiry_pb2.ListRevocationsResponse:
        requester = await calling_principal(self.gateway, context)
        entries = await self.gateway.revocations.since(requester, request.after, request.limit)
        return inquiry_pb2.ListRevocationsResponse(
            revocations=[
                inquiry_pb2.RevocationEntry(position=position, revocation=envelope_to_wire(envelope))
                for position, envelope in entries
            ]
        )

    @streams_errors
    async def WatchRevocations(
        self, request: inquiry_pb2.WatchRevocationsRequest, context: Context
    ) -> AsyncIterator[inquiry_pb2.WatchRevocationsResponse]:
        requester = await calling_principal(self.gateway, context)
        async for batch in self.gateway.revocation_watch.watch(requester, request.after):
            for position, envelope in batch:
                yield inquiry_pb2.WatchRevocationsResponse(
                    entry=inquiry_pb2.RevocationEntry(position=position, revocation=envelope_to_wire(envelope))
                )

    @handles_errors
    async def AcknowledgeRevocations(
        self, request: inquiry_pb2.AcknowledgeRevocationsRequest, context: Context
    ) -> inquiry_pb2.AcknowledgeRevocationsResponse:
        requester = await calling_principal(self.gateway, context)
        receipt = await self.gateway.revocation_watch.acknowledge(requester, request.cursor)
        return inquiry_pb2.AcknowledgeRevocationsResponse(acknowledged=receipt.acknowledged, late=receipt.late)

    @handles_errors
    async def ListMyListings(
        self, request: inquiry_pb2.ListMyListingsRequest, context: Context
    ) -> inquiry_pb2.ListMyListingsResponse:
        party = await calling_principal(self.gateway, context)
        listings = await self.gateway.listings.about(party)
        today = self.gateway.runtime.clock().date()
        return inquiry_pb2.ListMyListingsResponse(listings=[listing_to_wire(x, today) for x in listings])

    @handles_errors
    async def ObjectToListing(
        self, request: inquiry_pb2.ObjectToListingRequest, context: Context
    ) -> inquiry_pb2.ObjectToListingResponse:
        party = await calling_principal(self.gateway, context)
        listing = await self.gateway.listings.object(party, request.listing_id, request.statement)
        today = self.gateway.runtime.clock().date()
        return inquiry_pb2.ObjectToListingResponse(listing=listing_to_wire(listing, today))

    @handles_errors
    async def GetReceiptProof(
        self, request: inquiry_pb2.GetReceiptProofRequest, context: Context
    ) -> inquiry_pb2.GetReceiptProofResponse:
        caller = await calling_principal(self.gateway, context)
        answer = await self.gateway.receipts.prove(caller, request.event_id, request.tree_size)
        return inquiry_pb2.GetReceiptProofResponse(
            leaf_index=answer.leaf_index,
            tree_size=answer.checkpoint.size,
            event=answer.event.body,
            redacted=answer.event.redacted,
            checkpoint=answer.checkpoint.note,
            tlog_proof=answer.tlog_proof.encode(),
        )

    @handles_errors
    async def ListMyConsents(
        self, request: inquiry_pb2.ListMyConsentsRequest, context: Context
    ) -> inquiry_pb2.ListMyConsentsResponse:
        subject = await calling_principal(self.gateway, context)
        consents = await self.gateway.consents.about(subject)
        return inquiry_pb2.ListMyConsentsResponse(consents=[consent_to_wire(c) for c in consents])

    @handles_errors
    async def RevokeConsent(
        self, request: inquiry_pb2.RevokeConsentRequest, context: Context
    ) -> inquiry_pb2.RevokeConsentResponse:
        subject = await calling_principal(self.gateway, context)
        revoked = await self.gateway.consents.revoke(subject, request.consent_id)
        return inquiry_pb2.RevokeConsentResponse(consent=consent_to_wire(revoked))
