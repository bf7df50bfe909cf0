"""Inquiries: only what is lawful for the purpose, only the necessary fields, signed, and logged."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from share_gateway import tracing
from share_gateway.crypto.consent import SignedConsent
from share_gateway.crypto.disclosure import Disclosure, RecordStatement, disclose
from share_gateway.crypto.envelope import Envelope
from share_gateway.domain.consent import Consent
from share_gateway.domain.disputes import Dispute
from share_gateway.domain.errors import Citation, Exhausted, InvalidInput, Refused
from share_gateway.domain.events import EVENT_MEDIA_TYPE, DisclosedRecord, Event, EventKind, Outcome
from share_gateway.domain.identifiers import Subject
from share_gateway.domain.list_membership import ListMembership, courts_entry_lists, memberships
from share_gateway.domain.policy import AppliedMeasure, Denial, Policy, Principal, unique_citations
from share_gateway.domain.records import is_disclosable
from share_gateway.domain.text import storable
from share_gateway.gateway.consents import ConsentDesk
from share_gateway.gateway.federation import FederationDesk, RegionOutcome, RegionStatus
from share_gateway.gateway.quotas import QuotaDesk
from share_gateway.gateway.runtime import NodeRuntime
from share_gateway.gateway.telemetry import UNKNOWN_PURPOSE, Recorder
from share_gateway.store.consents import ConsentToKeep
from share_gateway.store.records import Disclosable


@dataclass(frozen=True, slots=True)
class InquiryRequest:
    subject_kind: str
    subject_identifier: str
    purpose: str
    # Old clients' text reference: refused where the purpose needs consent, never logged.
    consent_reference: str = ""
    record_types: tuple[str, ...] = ()
    # Ask every region of the federation too.
    federated: bool = False
    # The client's deadline (time.monotonic()), which the fan-out passes on.
    deadline: float | None = None
    # For an inquiry a peer forwarded: who forwarded it and the digest of its signed request, for the log.
    exchange: Mapping[str, str] = field(default_factory=dict)
    # For an inquiry a peer forwarded: the asking region, whose quota it spends besides its requester's.
    asking_region: str = ""
    # The subject's signed consent, where the purpose needs one.
    consent: SignedConsent | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    inquiry_id: str
    disclosures: tuple[Disclosure, ...]
    citations: tuple[Citation, ...]
    receipt: Envelope
    # For a federated inquiry: how each region answered, this one included.
    regions: tuple[RegionOutcome, ...] = ()
    measures: tuple[AppliedMeasure, ...] = ()
    # The lists the subject is on today, with their decisions (list membership is information).
    lists: tuple[ListMembership, ...] = ()
    # Open disputes about records of this answer: each record is shown "under dispute" meanwhile.
    disputed: tuple[Dispute, ...] = ()


@dataclass
class InquiryDesk:
    runtime: NodeRuntime
    policy: Policy
    federation: FederationDesk | None = None
    quotas: QuotaDesk | None = None
    consents: ConsentDesk | None = None
    # Counts inquiries by purpose and outcome, for the node's metrics.
    recorder: Recorder = field(default_factory=Recorder)

    async def inquire(self, requester: Principal, request: InquiryRequest) -> Answer:
        """Admit the inquiry under its requester's quotas (``Exhausted`` if spent), then answer it; counted by
        purpose and outcome, and (when tracing) a span of its own."""
        purpose = request.purpose if request.purpose in self.policy.catalog.purposes else UNKNOWN_PURPOSE
        outcome = "cancelled"
        try:
            answer = await tracing.traced(
                "inquiry", self._admitted(requester, request), purpose=purpose, federated=request.federated
            )
        except Exhausted:
            outcome = "exhausted"
            raise
        except Refused:
            outcome = "refused"
            raise
        except InvalidInput:
            outcome = "invalid"
            raise
        except Exception:
            outcome = "failed"
            raise
        else:
            outcome = "allowed"
            return answer
        finally:
            self.recorder.inquiry(purpose, "peer" if request.asking_region else "client", outcome)

    async def _admitted(self, requester: Principal, request: InquiryRequest) -> Answer:
        quotas = self.quotas
        if quotas is None:
            return await self._answer(requester, request)
        region = request.asking_region
        ticket = await quotas.admit(
            requester, request.purpose, request.subject_kind, request.subject_identifier, region
        )
        refused = False  # only the policy's refusal counts: a cancellation or failure here is not the requester's
        try:
            return await self._answer(requester, request)
        except (InvalidInput, Refused):
            refused = True
            raise
        finally:
            if refused:
                await quotas.finished(ticket, request.purpose, refused, region)
            else:
                quotas.release(ticket)

    async def _answer(self, requester: Principal, request: InquiryRequest) -> Answer:
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
            consent = await self._consent(request)
            # The purpose-level half of Policy.decide, once; the record-type half below per record.
            purpose_citation = self.policy.authorise(
                requester, request.purpose, subject, request.consent_reference, now, consent, self._skew()
            )
            if consent is not None and self.consents is not None:
                await self.consents.require_not_revoked(consent)
        except (InvalidInput, Refused) as error:
            await runtime.event_log.append(self._denied(requester, request, error))
            error.logged = True
            raise
        # A consent seen here first is registered in the transaction that logs the answer.
        first_seen: tuple[ConsentToKeep, ...] = ()
        if consent is not None and request.consent is not None and self.consents is not None:
            first_seen = self.consents.to_keep(request.consent, consent)
        consent_id = "" if consent is None else consent.consent_id
        visible = self.policy.lists_visible(request.purpose)
        view = await tracing.traced(
            "inquiry.read",
            runtime.read(
                runtime.store.subject_view, subject, now.date(), visible or self.policy.lists_matter(request.purpose)
            ),
        )
        if request.federated:
            if self.federation is None:
                raise InvalidInput.one("scope", "this node is not part of a federation")
            self.federation.require_current()
            local, remote = await asyncio.gather(
                self._local(view.records, request, consent_id, now),
                self._fan_out(requester, subject, request, consent_id),
            )
        else:
            local, remote = await self._local(view.records, request, consent_id, now), []
        disclosures, disclosed, citations = local
        own = RegionOutcome(runtime.region, RegionStatus.OK, disclosures=tuple(disclosures))
        details = _consent_details(request, consent) | dict(request.exchange)
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
        in_force = view.listings
        lists = frozenset(listing.list_name for listing in in_force)
        measures = self.policy.measures_for(
            request.purpose, {r.record_type for r in disclosed}, lists, requester_kind=requester.kind
        )
        if measures:
            details["measures"] = ",".join(m.measure.name for m in measures)
        stated = memberships(in_force, self._court_entries(disclosures, disclosed)) if visible else ()
        if stated:
            details["lists"] = ",".join(f"{m.list_name}@{m.origin_region}" for m in stated)[:300]
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
        await tracing.traced("inquiry.log", runtime.event_log.append(event, first_seen))
        if first_seen and self.consents is not None:
            self.consents.kept(*first_seen)
        regions: tuple[RegionOutcome, ...] = ()
        if request.federated:
            regions = (own, *remote)
        shown = {(r.origin_region, r.record_id) for r in disclosed}
        disputed = _disputed(view.disputes, remote, shown)
        return Answer(event.event_id, tuple(disclosures), event.citations, receipt, regions, measures, stated, disputed)

    async def _fan_out(
        self, requester: Principal, subject: Subject, request: InquiryRequest, consent_id: str
    ) -> list[RegionOutcome]:
        """Every peer asked at once (a span over the fan-out when tracing; each hop is a span of its own)."""
        federation = self.federation
        assert federation is not None
        ask = federation.fan_out(
            requester, subject, request.purpose, consent_id, request.record_types, request.deadline, request.consent
        )
        return await tracing.traced("inquiry.fan_out", ask)

    async def _consent(self, request: InquiryRequest) -> Consent | None:
        """The verified consent where the purpose needs one (``Refused(CONSENT_FORGED)`` if it does not verify)."""
        purpose = self.policy.catalog.purposes.get(request.purpose)
        if request.consent is None or purpose is None or not purpose.consent_required:
            return None
        if self.consents is None:
            raise Refused(Denial.CONSENT_FORGED, "this node verifies no consent")
        return await self.consents.open_aside(request.consent)

    def _court_entries(self, disclosures: list[Disclosure], disclosed: list[DisclosedRecord]) -> list[ListMembership]:
        """The disclosed records that are themselves entries on a courts' list, as memberships (their signed
        statements give the origin, the court's decision and the period)."""
        entry_lists = courts_entry_lists(self.policy.catalog)
        entries = []
        for disclosure, record in zip(disclosures, disclosed, strict=True):
            list_name = entry_lists.get(record.record_type)
            if list_name is None:
                continue
            statement = RecordStatement.from_bytes(disclosure.statement.payload)
            number = "" if statement.legal_document is None else statement.legal_document.number
            entries.append(
                ListMembership(
                    list_name,
                    statement.origin_region,
                    statement.record_id,
                    number,
                    statement.decided_on,
                    statement.share_until,
                )
            )
        return entries

    def _skew(self) -> timedelta:
        return timedelta(0) if self.consents is None else self.consents.clock_skew

    async def _local(
        self, candidates: list[Disclosable], request: InquiryRequest, consent_id: str, now: datetime
    ) -> tuple[list[Disclosure], list[DisclosedRecord], list[Citation]]:
        """This node's lawful records about the subject, each with only the necessary fields."""
        today = now.date()
        wanted = frozenset(request.record_types)
        disclosures: list[Disclosure] = []
        disclosed: list[DisclosedRecord] = []
        citations: list[Citation] = []
        # Publication, sharing or the subject's own view: each honours its own end of a record.
        audience = self.policy.audience(request.purpose)
        for item in candidates:
            if not is_disclosable(item.status, audience, item.publish_until, item.share_until, today) or (
                wanted and item.record_type not in wanted
            ):
                continue
            decision = self.policy.rule_for(request.purpose, item.record_type, consent_id)
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


def _disputed(held: list[Dispute], remote: list[RegionOutcome], shown: set[tuple[str, str]]) -> tuple[Dispute, ...]:
    """The open disputes about records of the answer, each on its origin's word only: this node's own, the marks
    origins delivered here, and for a record its origin answered with just now, that answer's signed marks
    (fresher than a delivered mark, which may not have caught up with the origin's answer yet)."""
    ok = [outcome for outcome in remote if outcome.status == RegionStatus.OK]
    from_origin = {(r.origin_region, r.record_id) for o in ok for r in o.records if r.origin_region == o.region}
    marks = {(d.origin_region, d.record_id): d for d in held if d.open}
    marks = {key: d for key, d in marks.items() if key not in from_origin}
    marks |= {(d.origin_region, d.record_id): d for o in ok for d in o.disputed}
    return tuple(d for key, d in sorted(marks.items()) if key in shown)


def _denied_event(
    runtime: NodeRuntime, requester: Principal, request: InquiryRequest, error: InvalidInput | Refused, kind: EventKind
) -> Event:
    """The logged refusal: the subject as asked (if it parses), the reason and the rule that refused.

    What the caller sent is kept storable (NUL and the like escaped): a refusal is always logged.
    """
    try:
        subject: Subject | None = Subject.parse(request.subject_kind, request.subject_identifier)
        details = _consent_details(request) | dict(request.exchange)
    except InvalidInput:
        subject = None
        details = (
            _consent_details(request)
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


def _consent_details(request: InquiryRequest, consent: Consent | None = None) -> dict[str, str]:
    """Which consent an inquiry came with (its id: never the evidence, never a caller's free text)."""
    if consent is not None:
        signer = "requester" if consent.statement.attested else "subject"
        return {"consent_id": consent.consent_id, "consent_signer": signer}
    if request.consent is not None:
        return {"consent_id": request.consent.consent_id}
    return {}
