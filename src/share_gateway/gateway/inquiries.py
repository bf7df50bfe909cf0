"""Inquiries: only what is lawful for the purpose, only the necessary fields, signed, and logged."""

from __future__ import annotations

from dataclasses import dataclass

from share_gateway.crypto.disclosure import Disclosure, disclose
from share_gateway.crypto.envelope import Envelope
from share_gateway.domain.errors import Citation, InvalidInput, Refused
from share_gateway.domain.events import EVENT_MEDIA_TYPE, DisclosedRecord, Event, EventKind, Outcome
from share_gateway.domain.identifiers import Subject
from share_gateway.domain.policy import Policy, Principal, unique_citations
from share_gateway.domain.records import is_disclosable
from share_gateway.gateway.runtime import NodeRuntime


@dataclass(frozen=True, slots=True)
class InquiryRequest:
    subject_kind: str
    subject_identifier: str
    purpose: str
    consent_reference: str = ""
    record_types: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Answer:
    inquiry_id: str
    disclosures: tuple[Disclosure, ...]
    citations: tuple[Citation, ...]
    receipt: Envelope


@dataclass
class InquiryDesk:
    runtime: NodeRuntime
    policy: Policy

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
        candidates = await runtime.read(runtime.store.disclosable, subject)
        today = now.date()
        wanted = frozenset(request.record_types)
        disclosures: list[Disclosure] = []
        disclosed: list[DisclosedRecord] = []
        citations: list[Citation] = [purpose_citation]
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
        event = runtime.event(
            EventKind.INQUIRY,
            requester,
            Outcome.ALLOWED,
            subject=subject,
            purpose=request.purpose,
            citations=unique_citations(citations),
            records=tuple(disclosed),
            details=_consent(request),
        )
        receipt = Envelope.seal(runtime.signing_key, EVENT_MEDIA_TYPE, event.canonical_bytes())
        await runtime.event_log.append(event)
        return Answer(event.event_id, tuple(disclosures), event.citations, receipt)

    def _denied(self, requester: Principal, request: InquiryRequest, error: InvalidInput | Refused) -> Event:
        try:
            subject: Subject | None = Subject.parse(request.subject_kind, request.subject_identifier)
            details = _consent(request)
        except InvalidInput:
            subject = None
            details = _consent(request) | {"subject_identifier": request.subject_identifier[:64]}
        if isinstance(error, Refused):
            reason, citations = str(error.reason), error.citations
        else:
            reason, citations = "INVALID_ARGUMENT", ()
            details = details | {"violations": str(error)[:500]}
        return self.runtime.event(
            EventKind.INQUIRY,
            requester,
            Outcome.DENIED,
            subject=subject,
            purpose=request.purpose[:64],
            reason=reason,
            citations=citations,
            details=details,
        )


def _consent(request: InquiryRequest) -> dict[str, str]:
    return {"consent_reference": request.consent_reference[:200]} if request.consent_reference else {}
