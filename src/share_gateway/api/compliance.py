"""ComplianceService: officers search the log and obtain proofs and offline bundles."""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, Literal

import grpc

from share_gateway.api.auth import calling_principal
from share_gateway.api.errors import handles_errors, streams_errors
from share_gateway.domain.errors import FieldViolation, InvalidInput
from share_gateway.domain.events import EventKind, Outcome
from share_gateway.gateway import Gateway
from share_gateway.store.log_reading import LogQuery
from share_gateway.v1 import compliance_pb2, compliance_pb2_grpc

Context = grpc.aio.ServicerContext[Any, Any]
CHUNK = 500
# The largest piece of an exported bundle per message: well under the 4 MiB a node sends at most.
EXPORT_CHUNK_BYTES = 1 << 20
OUTCOMES = frozenset(o.value for o in Outcome)
KINDS = frozenset(k.value for k in EventKind)


def query_from_wire(wire: compliance_pb2.EventFilter) -> LogQuery:
    """The search a filter asks for; a value no event can have is refused, never silently an empty answer."""
    violations = []
    if wire.outcome and wire.outcome not in OUTCOMES:
        violations.append(FieldViolation("filter.outcome", f"is not one of {', '.join(sorted(OUTCOMES))}"))
    if wire.kind and wire.kind not in KINDS:
        violations.append(FieldViolation("filter.kind", "is not a kind of event the log holds"))
    if violations:
        raise InvalidInput(violations)
    return LogQuery(
        actor=wire.actor,
        subject_id=wire.subject_identifier,
        purpose=wire.purpose,
        outcome=wire.outcome,
        kind=wire.kind,
        since=_instant(wire, "since"),
        until=_instant(wire, "until"),
    )


def _instant(wire: compliance_pb2.EventFilter, name: Literal["since", "until"]) -> datetime | None:
    """A bound of the filter; one outside the years 1 to 9999 is the caller's error, not INTERNAL."""
    if not wire.HasField(name):
        return None
    try:
        instant: datetime = getattr(wire, name).ToDatetime(UTC)
    except (ValueError, OverflowError) as error:
        raise InvalidInput.one(f"filter.{name}", "is not a valid timestamp") from error
    return instant


def _page_token(after_leaf: int) -> str:
    return base64.urlsafe_b64encode(f"after:{after_leaf}".encode()).decode()


def _after(token: str) -> int:
    if not token:
        return -1
    try:
        kind, _, value = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        after = int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise InvalidInput.one("page_token", "is not a token this service issued") from error
    if kind != "after":
        raise InvalidInput.one("page_token", "is not a token this service issued")
    return after


class ComplianceServicer(compliance_pb2_grpc.ComplianceServiceServicer):
    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    @streams_errors
    async def SearchEvents(
        self, request: compliance_pb2.SearchEventsRequest, context: Context
    ) -> AsyncIterator[compliance_pb2.SearchEventsResponse]:
        officer = await calling_principal(self.gateway, context)
        limit = request.page_size or 100
        events, matching = await self.gateway.audit.search(
            officer, query_from_wire(request.filter), _after(request.page_token), limit, request.count_matching
        )
        for start in range(0, max(len(events), 1), CHUNK):
            chunk = events[start : start + CHUNK]
            message = compliance_pb2.SearchEventsResponse(
                events=[
                    compliance_pb2.LoggedEvent(leaf_index=e.leaf_index, event=e.body, redacted=e.redacted)
                    for e in chunk
                ]
            )
            if start == 0 and matching is not None:
                message.matching = matching
            if start + CHUNK >= len(events) and len(events) == limit:
                message.next_page_token = _page_token(events[-1].leaf_index)
            yield message

    @handles_errors
    async def GetCheckpoint(
        self, request: compliance_pb2.GetCheckpointRequest, context: Context
    ) -> compliance_pb2.GetCheckpointResponse:
        officer = await calling_principal(self.gateway, context)
        checkpoint = await self.gateway.audit.latest_checkpoint(officer)
        return compliance_pb2.GetCheckpointResponse(size=checkpoint.size, checkpoint=checkpoint.note)

    @handles_errors
    async def GetInclusionProof(
        self, request: compliance_pb2.GetInclusionProofRequest, context: Context
    ) -> compliance_pb2.GetInclusionProofResponse:
        officer = await calling_principal(self.gateway, context)
        answer = await self.gateway.audit.inclusion(
            officer,
            leaf_index=request.leaf_index if request.WhichOneof("entry") == "leaf_index" else None,
            event_id=request.event_id,
            tree_size=request.tree_size,
        )
        return compliance_pb2.GetInclusionProofResponse(
            leaf_index=answer.leaf_index,
            tree_size=answer.checkpoint.size,
            proof=list(answer.proof),
            event=answer.event.body,
            checkpoint=answer.checkpoint.note,
            tlog_proof=answer.tlog_proof.encode(),
        )

    @handles_errors
    async def GetConsistencyProof(
        self, request: compliance_pb2.GetConsistencyProofRequest, context: Context
    ) -> compliance_pb2.GetConsistencyProofResponse:
        officer = await calling_principal(self.gateway, context)
        answer = await self.gateway.audit.consistency(officer, request.from_size, request.to_size)
        return compliance_pb2.GetConsistencyProofResponse(
            proof=list(answer.proof), from_checkpoint=answer.old.note, to_checkpoint=answer.new.note
        )

    @handles_errors
    async def ExportBundle(
        self, request: compliance_pb2.ExportBundleRequest, context: Context
    ) -> compliance_pb2.ExportBundleResponse:
        officer = await calling_principal(self.gateway, context)
        bundle, count = await self.gateway.audit.export(officer, query_from_wire(request.filter), request.limit or 1000)
        return compliance_pb2.ExportBundleResponse(bundle=bundle, events=count)

    @streams_errors
    async def StreamExportBundle(
        self, request: compliance_pb2.StreamExportBundleRequest, context: Context
    ) -> AsyncIterator[compliance_pb2.StreamExportBundleResponse]:
        officer = await calling_principal(self.gateway, context)
        pieces = self.gateway.audit.export_pieces(officer, query_from_wire(request.filter), request.limit or None)
        pending, count = bytearray(), 0
        async for piece, so_far in pieces:
            pending += piece
            count = so_far
            while len(pending) >= EXPORT_CHUNK_BYTES:
                yield compliance_pb2.StreamExportBundleResponse(data=bytes(pending[:EXPORT_CHUNK_BYTES]))
                del pending[:EXPORT_CHUNK_BYTES]
        yield compliance_pb2.StreamExportBundleResponse(data=bytes(pending), events=count)

    @handles_errors
    async def GetDeliveryBacklog(
        self, request: compliance_pb2.GetDeliveryBacklogRequest, context: Context
    ) -> compliance_pb2.GetDeliveryBacklogResponse:
        officer = await calling_principal(self.gateway, context)
        backlog = await self.gateway.deliveries.backlog(officer)
        # After the officer check and its logged review: requesters behind with pushed revocations.
        behind = await self.gateway.revocation_watch.review()
        return compliance_pb2.GetDeliveryBacklogResponse(
            peers=[
                compliance_pb2.PeerDeliveryBacklog(region=b.peer, pending=b.pending, dead_letters=b.dead)
                for b in backlog
            ],
            requesters=[
                compliance_pb2.RequesterAcknowledgementBacklog(requester=r.requester, overdue=r.overdue, late=r.late)
                for r in behind
            ],
        )

    @handles_errors
    async def GetActivitySummary(
        self, request: compliance_pb2.GetActivitySummaryRequest, context: Context
    ) -> compliance_pb2.GetActivitySummaryResponse:
        officer = await calling_principal(self.gateway, context)
        summary = await self.gateway.activity.summary(
            officer, _bound(request, "since"), _bound(request, "until"), request.actor
        )
        return compliance_pb2.GetActivitySummaryResponse(
            counts=[
                compliance_pb2.ActivityCount(
                    day=c.day, kind=c.kind, purpose=c.purpose, outcome=c.outcome, count=c.count
                )
                for c in summary.counts
            ],
            log_size=summary.log_size,
            checkpoint=b"" if summary.checkpoint is None else summary.checkpoint.note,
            witnessed=[
                compliance_pb2.WitnessedCheckpoint(witness=name, size=c.size, checkpoint=c.note)
                for name, c in sorted(summary.witnessed.items())
            ],
        )


def _bound(wire: compliance_pb2.GetActivitySummaryRequest, name: Literal["since", "until"]) -> datetime | None:
    """A bound of the summary's range, if given; one outside the years 1 to 9999 is the caller's error."""
    if not wire.HasField(name):
        return None
    try:
        instant: datetime = getattr(wire, name).ToDatetime(UTC)
    except (ValueError, OverflowError) as error:
        raise InvalidInput.one(name, "is not a valid timestamp") from error
    return instant
