"""Inquiries: only what is lawful for the purpose, only the necessary fields, signed, and logged."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from share_gateway.crypto.disclosure import Disclosure, disclose
from share_gateway.crypto.envelope import Envelope
from share_gateway.domain.errors import Citation, InvalidInput, Refused
from share_gateway.domain.events import EVENT_MEDIA_TYPE, DisclosedRecord, Event, EventKind, Outcome, summarise
from share_gateway.domain.identifiers import Subject
from share_gateway.domain.policy import AppliedMeasure, Denial, Policy, Principal, unique_citations
from share_gateway.domain.records import is_disclosable
from share_gateway.domain.text import storable
from share_gateway.gateway.federation import FederationDesk, RegionOutcome, RegionStatus
from share_gateway.gateway.runtime import NodeRuntime
from share_gateway.store.log import LogQuery, LogStore


@dataclass(frozen=True, slots=True)
class InquiryRequest:
    subject_kind: str
    subject_identifier: str
    purpose: str
    consent_reference: str = ""
    record_types: tuple[str, ...] = ()
    # Ask every region of the federation too.
    federated: bool = False
    # The client's deadline (time.monotonic()), which the fan-out passes on.
    deadline: float | None = None
    # For an inquiry a peer forwarded: who forwarded it and the digest of its signed request, for the log.
    exchange: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Answer:
    inquiry_id: str
    disclosures: tuple[Disclosure, ...]
    citations: tuple[Citation, ...]
    receipt: Envelope
    # For a federated inquiry: how each region answered, this one included.
    regions: tuple[RegionOutcome, ...] = ()
    measures: tuple[AppliedMeasure, ...] = ()


@dataclass
class InquiryDesk:
    runtime: NodeRuntime
    policy: Policy
    federation: FederationDesk | None = None

    async def inquire(self, requester: Principal, request: InquiryRequest) -> Answer:
        """Answer one inquiry; log it whatever the outcome, and answer only once the event is committed.

        A call cancelled (say, by its deadline) after the decision is still logged
        as answered: the log may overstate what a requester received, never understate it.
        """
        runtime = self.runtime
        now = runtime.clock()
        try:
            subject = Subject.parse(request.subject_kind, request.subject_identifier)
            unknown = [t for t in request.record_types if t not in self.policy.catalog.record_types]
            if unknown:
                raise InvalidInput.one("record_types", f"not in the catalog: {', '.join(unknown)}")
            # The purpose-level half of Policy.decide, once; the record-type half below per record.
            purpose_citation = self.policy.authorise(
                requester, request.purpose, subject, request.consent_reference, now
            )
        except (InvalidInput, Refused) as error:
            await runtime.event_log.append(self._denied(requester, request, error))
            raise
        if request.federated:
            if self.federation is None:
                raise InvalidInput.one("scope", "this node is not part of a federation")
            self.federation.require_current()
            local, remote = await asyncio.gather(
                self._local(subject, request, now),
                self.federation.fan_out(
                    requester,
                    subject,
                    request.purpose,
                    request.consent_reference,
                    request.record_types,
                    request.deadline,
                ),
            )
        else:
            local, remote = await self._local(subject, request, now), []
        disclosures, disclosed, citations = local
        own = RegionOutcome(runtime.region, RegionStatus.OK, disclosures=tuple(disclosures))
        details = _consent(request) | dict(request.exchange)
        seen = {d.statement.payload for d in disclosures}
        for outcome in remote:
            details[f"region:{outcome.region}"] = f"{outcome.status} {outcome.receipt_digest or outcome.detail}"[:300]
            if outcome.status != RegionStatus.OK:
                continue  # nothing of a region that failed its checks is relayed, logged as disclosed or acted on
            for disclosure, record in zip(outcome.disclosures, outcome.records, strict=True):
                if disclosure.statement.payload not in seen:
                    seen.add(disclosure.statement.payload)
                    disclosures.append(disclosure)
                    disclosed.append(record)
            citations.extend(outcome.citations)
        lists = (
            await runtime.read(runtime.store.listings.lists_of, subject, now.date())
            if self.policy.lists_matter(request.purpose)
            else frozenset()
        )
        measures = self.policy.measures_for(request.purpose, {r.record_type for r in disclosed}, lists)
        if measures:
            details["measures"] = ",".join(m.measure.name for m in measures)
        event = runtime.event(
            EventKind.INQUIRY,
            requester,
            Outcome.ALLOWED,
            subject=subject,
            purpose=request.purpose,
            citations=unique_citations([purpose_citation, *citations, *(m.citation for m in measures)]),
            records=tuple(disclosed),
            details=details,
        )
        receipt = Envelope.seal(runtime.signing_key, EVENT_MEDIA_TYPE, event.canonical_bytes())
        await runtime.event_log.append(event)
        regions: tuple[RegionOutcome, ...] = ()
        if request.federated:
            regions = (own, *remote)
        return Answer(event.event_id, tuple(disclosures), event.citations, receipt, regions, measures)

    async def _local(
        self, subject: Subject, request: InquiryRequest, now: datetime
    ) -> tuple[list[Disclosure], list[DisclosedRecord], list[Citation]]:
        """This node's lawful records about the subject, each with only the necessary fields."""
        candidates = await self.runtime.read(self.runtime.store.records.disclosable, subject)
        today = now.date()
        wanted = frozenset(request.record_types)
        disclosures: list[Disclosure] = []
        disclosed: list[DisclosedRecord] = []
        citations: list[Citation] = []
        for item in candidates:
            if not is_disclosable(item.status, item.disclose_until, today) or (
                wanted and item.record_type not in wanted
            ):
                continue
            decision = self.policy.rule_for(request.purpose, item.record_type, request.consent_reference)
            if not decision.lawful:
                continue
            disclosure = disclose(item.sealed, decision.fields)
            disclosures.append(disclosure)
            disclosed.append(
                DisclosedRecord(
                    item.record_id, item.record_type, item.origin_region, tuple(o.name for o in disclosure.fields)
                )
            )
            citations.extend(decision.citations)
        return disclosures, disclosed, citations

    def _denied(self, requester: Principal, request: InquiryRequest, error: InvalidInput | Refused) -> Event:
        return _denied_event(self.runtime, requester, request, error, EventKind.INQUIRY)


def _denied_event(
    runtime: NodeRuntime, requester: Principal, request: InquiryRequest, error: InvalidInput | Refused, kind: EventKind
) -> Event:
    """The logged refusal: the subject as asked (if it parses), the reason and the rule that refused.

    What the caller sent is kept storable (NUL and the like escaped): a refusal is always logged.
    """
    try:
        subject: Subject | None = Subject.parse(request.subject_kind, request.subject_identifier)
        details = _consent(request) | dict(request.exchange)
    except InvalidInput:
        subject = None
        details = (
            _consent(request)
            | dict(request.exchange)
            | {"subject_identifier": storable(request.subject_identifier[:64])}
        )
    if isinstance(error, Refused):
        reason, citations = str(error.reason), error.citations
    else:
        reason, citations = "INVALID_ARGUMENT", ()
        details = details | {"violations": storable(str(error)[:500])}
    return runtime.event(
        kind,
        requester,
        Outcome.DENIED,
        subject=subject,
        purpose=storable(request.purpose[:64]),
        reason=reason,
        citations=citations,
        details=details,
    )


def _consent(request: InquiryRequest) -> dict[str, str]:
    return {"consent_reference": storable(request.consent_reference[:200])} if request.consent_reference else {}


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    at: datetime
    institution: str
    purpose: str
    outcome: str
    node: str
    leaf_index: int


@dataclass
class InquiryHistory:
    """ "Who looked at me": a subject reads, through a self-only purpose, who inquired about it and why."""

    runtime: NodeRuntime
    policy: Policy
    log: LogStore
    days: int

    async def read(
        self, requester: Principal, subject_kind: str, subject_identifier: str, purpose: str
    ) -> list[HistoryEntry]:
        now = self.runtime.clock()
        request = InquiryRequest(subject_kind, subject_identifier, purpose)
        try:
            subject = Subject.parse(subject_kind, subject_identifier)
            _require_self_only(self.policy, purpose)
            citation = self.policy.authorise(requester, purpose, subject, "", now)
        except (InvalidInput, Refused) as error:
            await self.runtime.event_log.append(
                _denied_event(self.runtime, requester, request, error, EventKind.INQUIRY_HISTORY)
            )
            raise
        query = LogQuery(
            kind=EventKind.INQUIRY.value,
            subject_kind=subject.kind.value,
            subject_id=subject.identifier,
            since=now - timedelta(days=self.days),
        )
        found = await self.runtime.read(self.log.search, query, -1, 10_000)
        entries = []
        for logged in found:
            summary = summarise(logged.body)
            if summary.actor != requester.uri:  # one's own lookups are not "who looked at me"
                entries.append(
                    HistoryEntry(
                        summary.at, summary.actor, summary.purpose, summary.outcome, summary.node, logged.leaf_index
                    )
                )
        await self.runtime.event_log.append(
            self.runtime.event(
                EventKind.INQUIRY_HISTORY,
                requester,
                Outcome.ALLOWED,
                subject=subject,
                purpose=purpose,
                citations=(citation,),
                details={"entries": str(len(entries))},
            )
        )
        return entries


def _require_self_only(policy: Policy, purpose: str) -> None:
    definition = policy.catalog.purposes.get(purpose)
    if definition is not None and not definition.self_only:
        raise Refused(Denial.NOT_SELF_ONLY, f"{purpose} is not a purpose for reading one's own history")
