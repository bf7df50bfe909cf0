"""Repair at any node: an application made at a node that holds only a copy travels to the record's origin,
and its status comes back (2025 No. 22: one intake for the subject; DOMAIN.md "Disputes, notice and repair
channels": any node, forwarded to the origin).

Asking (the intake node): the subject applies here for a record another region made; this node signs a
request (subject, the subject's own certificate identity as requester, the record, the proof and the
commitment, nonce and time) for the origin, and relays the application the origin signs back, checked:
the origin's key, the digest of this very request, the record asked about. Answering (the origin): the
peer is the node its manifest pins; the request must verify under that region's key, be fresh and unseen,
name the same catalog and be on behalf of the subject itself; the origin then applies as if the subject
had come to it, so every rule of the application holds there. An agent's mandate (a consent the subject
signed) travels with the application or dispute exactly as signed: the requester is then the agent, and the origin
verifies the mandate itself (its signature, its subject, its agent, its purpose, its withdrawal), never on
the intake node's word; a request naming an agent without a mandate is refused there. A dispute about a
record (异议) is carried the same way: the subject disputes at any node, the origin files it and signs it back.
"""

from __future__ import annotations

from dataclasses import dataclass

from share_gateway.crypto.consent import SignedConsent
from share_gateway.crypto.envelope import Envelope
from share_gateway.crypto.errors import VerificationError
from share_gateway.crypto.keys import KeyRing
from share_gateway.domain.dispute_status import DISPUTE_STATUS_TYPE, DisputeStatus
from share_gateway.domain.disputes import Dispute
from share_gateway.domain.errors import InvalidInput, InvalidState, NotFound, Refused
from share_gateway.domain.events import EventKind, Outcome
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.domain.mandates import MANDATE_INVALID, mandated_subject
from share_gateway.domain.policy import Denial, Principal
from share_gateway.domain.principals import Identity, IdentityKind
from share_gateway.domain.repair import RepairApplication
from share_gateway.domain.repair_status import REPAIR_STATUS_TYPE, RepairStatus
from share_gateway.federation.messages import digest
from share_gateway.federation.peers import PeerError
from share_gateway.federation.repair_request import APPLY, DISPUTE, PEER_REPAIR_TYPE, STATUS, PeerRepairRequest
from share_gateway.gateway.disputes import DisputeDesk
from share_gateway.gateway.federation import FederationDesk
from share_gateway.gateway.repair import RepairDesk
from share_gateway.gateway.runtime import node_principal

_ITSELF = {IdentityKind.PERSON: SubjectKind.INDIVIDUAL, IdentityKind.INSTITUTION: SubjectKind.LEGAL_ENTITY}


@dataclass
class RepairIntake:
    desk: RepairDesk
    federation: FederationDesk | None = None
    # Disputes (异议) travel to the origin the same way.
    disputes: DisputeDesk | None = None

    async def apply(
        self,
        caller: Principal,
        record_id: str,
        evidence: str,
        commitment: str,
        mandate: SignedConsent | None = None,
    ) -> tuple[RepairApplication, str]:
        """Apply here if the record is this region's; else carry the subject's application to its origin.
        Returns the application and the region whose node holds it."""
        here = self.desk.runtime.region
        try:
            return await self.desk.apply(caller, record_id, evidence, commitment, mandate), here
        except InvalidState as error:
            origin = error.metadata.get("origin_region", "")
            if error.reason != "NOT_THE_ORIGIN" or self.federation is None:
                raise
        fields = {"record_id": record_id, "evidence": evidence, "commitment": commitment}
        return await self._forward(caller, origin, APPLY, mandate, **fields), origin

    async def application(
        self, caller: Principal, application_id: str, origin_region: str = ""
    ) -> tuple[RepairApplication, str]:
        """An application here, or (``origin_region`` another region) as its origin says, for its applicant."""
        here = self.desk.runtime.region
        if not origin_region or origin_region == here or self.federation is None:
            return await self.desk.application(caller, application_id), here
        return await self._forward(caller, origin_region, STATUS, application_id=application_id), origin_region

    async def dispute(
        self, caller: Principal, record_id: str, claim: str, mandate: SignedConsent | None = None
    ) -> Dispute:
        """File a dispute here if the record is this region's; else carry it (with an agent's mandate, if any)
        to the record's origin."""
        if self.disputes is None:
            raise InvalidState("this node takes no disputes", "NOT_THE_ORIGIN")
        try:
            return await self.disputes.file(caller, record_id, claim, mandate=mandate)
        except InvalidState as error:
            origin = error.metadata.get("origin_region", "")
            if error.reason != "NOT_THE_ORIGIN" or self.federation is None:
                raise
        signed, answer = await self._carry(caller, origin, DISPUTE, mandate, record_id=record_id, claim=claim)
        try:
            dispute = checked_dispute(self._key_id(origin), self._keys(), origin, answer, signed)
        except (VerificationError, ValueError) as error:
            raise _invalid(origin, error) from error
        await self._log(
            caller, origin, DISPUTE, signed, answer, record_id=dispute.record_id, dispute_id=dispute.dispute_id
        )
        return dispute

    async def _forward(
        self, caller: Principal, region: str, action: str, mandate: SignedConsent | None = None, **values: str
    ) -> RepairApplication:
        """Carry a repair application or status question to ``region``; the application it signed back."""
        signed, answer = await self._carry(caller, region, action, mandate, **values)
        try:
            application = checked_status(self._key_id(region), self._keys(), region, answer, signed)
        except (VerificationError, ValueError) as error:
            raise _invalid(region, error) from error
        await self._log(
            caller,
            region,
            action,
            signed,
            answer,
            record_id=application.record_id,
            application_id=application.application_id,
            state=application.state.value,
        )
        return application

    async def _carry(
        self, caller: Principal, region: str, action: str, mandate: SignedConsent | None = None, **values: str
    ) -> tuple[Envelope, Envelope]:
        """Sign the request for the subject itself, or for the agent with the subject's ``mandate``, and send it
        to ``region``: the request and the signed answer."""
        federation = self.federation
        assert federation is not None
        subject = caller.itself if mandate is None else self._mandated(caller, mandate)
        if subject is None:
            raise NotFound("only a subject's own application, or an agent's with its mandate, is carried to the origin")
        runtime = federation.runtime
        request = PeerRepairRequest.new(
            origin=runtime.region,
            requester_uri=caller.uri,
            subject=subject,
            mandate=mandate,
            action=action,
            record_id=values.get("record_id", ""),
            application_id=values.get("application_id", ""),
            evidence=values.get("evidence", ""),
            commitment=values.get("commitment", ""),
            claim=values.get("claim", ""),
            catalog_digest=federation.catalog_digest,
            at=runtime.clock(),
        )
        signed = Envelope.seal(runtime.signing_key, PEER_REPAIR_TYPE, request.to_bytes())
        manifest = federation.manifest.manifest
        if region not in manifest.nodes:
            raise InvalidInput.one("origin_region", f"no region {region!r} in the federation")
        try:
            return signed, await federation.clients.repair(manifest, region, signed, federation.peer_timeout)
        except PeerError as error:
            raise _relayed(region, error) from error

    async def _log(
        self, caller: Principal, region: str, action: str, signed: Envelope, answer: Envelope, **details: str
    ) -> None:
        """The exchange is logged on both sides, each naming the digest of what the intake node signed."""
        runtime = self.desk.runtime
        await runtime.event_log.append(
            runtime.event(
                EventKind.REPAIR_FORWARDED,
                caller,
                Outcome.ALLOWED,
                # The subject applied for: the caller itself, or the subject whose mandate an agent carried.
                subject=PeerRepairRequest.from_bytes(signed.payload).subject,
                details={
                    "action": action,
                    "origin_region": region,
                    "request_digest": digest(signed.payload),
                    "answer_digest": digest(answer.payload),
                }
                | details,
            )
        )

    def _mandated(self, caller: Principal, mandate: SignedConsent) -> Subject:
        """The subject ``mandate`` lets the calling agent apply for (checked here too, to refuse early; the origin
        checks it again itself)."""
        consents = self.desk.consents
        if consents is None:
            raise Refused(MANDATE_INVALID, "this node verifies no mandate")
        return mandated_subject(consents.open(mandate), caller.uri)

    def _key_id(self, region: str) -> bytes:
        assert self.federation is not None
        return self.federation.key_id(region)

    def _keys(self) -> KeyRing:
        assert self.federation is not None
        return self.federation.manifest.manifest.keys

    async def answer(self, region: str, envelope: Envelope) -> Envelope:
        """At the origin: verify a peer's carried application, status question or dispute; act; sign the result."""
        federation = self.federation
        assert federation is not None
        what = "repair request"
        request = federation.opened(region, envelope, PEER_REPAIR_TYPE, PeerRepairRequest.from_bytes, what)
        await federation.require_fresh(region, request.origin, request.catalog_digest, request.at, request.nonce, what)
        subject = _on_behalf_of(request)
        request_digest = digest(envelope.payload)
        if request.mandate is not None and request.action == STATUS:
            raise InvalidInput.one("mandate", "a mandate is carried only with an application or a dispute")
        exchange = {"via": node_principal(region).uri, "request_digest": request_digest}
        key = federation.runtime.signing_key
        if request.action == DISPUTE:
            if self.disputes is None:
                raise InvalidState("this node takes no disputes", "NOT_THE_ORIGIN")
            dispute = await self.disputes.file(
                subject, request.record_id, request.claim, exchange=exchange, mandate=request.mandate
            )
            if dispute.subject != request.subject:
                raise Refused(MANDATE_INVALID, "the mandate is another subject's than the request names")
            return Envelope.seal(key, DISPUTE_STATUS_TYPE, DisputeStatus(request_digest, dispute).to_bytes())
        if request.action == APPLY:
            # With a mandate, the desk verifies it here, as for an agent at this node, and it must be the subject's
            # the intake node named.
            application = await self.desk.apply(
                subject, request.record_id, request.evidence, request.commitment, request.mandate, exchange=exchange
            )
            if application.subject != request.subject:
                raise Refused(MANDATE_INVALID, "the mandate is another subject's than the request names")
        else:
            application = await self.desk.application(subject, request.application_id)
        status = RepairStatus(federation.runtime.region, request_digest, application)
        return Envelope.seal(key, REPAIR_STATUS_TYPE, status.to_bytes())


def checked_status(key_id: bytes, keys: KeyRing, region: str, answer: Envelope, signed: Envelope) -> RepairApplication:
    """The application the origin signed for the ``signed`` request, or ``VerificationError``/``ValueError``."""
    request = PeerRepairRequest.from_bytes(signed.payload)
    if answer.key_id != key_id:
        raise VerificationError(f"the application is not signed by region {region}")
    status = answer.open(keys, REPAIR_STATUS_TYPE, RepairStatus.from_bytes)
    application = status.application
    if status.origin_region != region or status.request_digest != digest(signed.payload):
        raise VerificationError("the origin's answer is for another request")
    if application.subject != request.subject or (
        request.action == APPLY and application.record_id != request.record_id
    ):
        raise VerificationError("the origin's answer is about another record or subject")
    if request.action == APPLY and application.mandate_id != (
        "" if request.mandate is None else request.mandate.consent_id
    ):
        raise VerificationError("the origin's answer is under another mandate than the one carried")
    return application


def checked_dispute(key_id: bytes, keys: KeyRing, region: str, answer: Envelope, signed: Envelope) -> Dispute:
    """The dispute the origin signed for the ``signed`` request, or ``VerificationError``/``ValueError``."""
    request = PeerRepairRequest.from_bytes(signed.payload)
    if answer.key_id != key_id:
        raise VerificationError(f"the dispute is not signed by region {region}")
    status = answer.open(keys, DISPUTE_STATUS_TYPE, DisputeStatus.from_bytes)
    dispute = status.dispute
    if status.request_digest != digest(signed.payload):
        raise VerificationError("the origin's answer is for another request")
    if (dispute.origin_region, dispute.record_id, dispute.subject) != (region, request.record_id, request.subject):
        raise VerificationError("the origin's answer is about another record or subject")
    return dispute


def _invalid(region: str, error: Exception) -> InvalidState:
    return InvalidState(
        f"region {region} answered what does not verify: {error}"[:300],
        "ORIGIN_ANSWER_INVALID",
        {"origin_region": region},
    )


def _on_behalf_of(request: PeerRepairRequest) -> Principal:
    """Who the intake node applies for: the requester itself (its certificate identity is the subject), or with
    a mandate the agent it names, whose mandate the origin then verifies."""
    try:
        identity = Identity.from_uri(request.requester_uri)
    except InvalidInput as error:
        raise Refused(Denial.NOT_THE_SUBJECT, "the repair request names no subject as its requester") from error
    if request.mandate is not None:
        return Principal(identity.identifier, identity.uri, "agent")
    kind = _ITSELF.get(identity.kind)
    if kind is None or Subject(kind, identity.identifier) != request.subject:
        raise Refused(Denial.NOT_THE_SUBJECT, "a repair is carried only for the subject itself")
    return Principal(identity.identifier, identity.uri, kind.value, itself=request.subject)


def _relayed(region: str, error: PeerError) -> Exception:
    """The origin's refusal as this node's own error, its reason kept; a silent origin as ORIGIN_UNAVAILABLE."""
    said = f"region {region}: {error.details}"[:300]
    match error.code:
        case "NOT_FOUND":
            return NotFound(said)
        case "INVALID_ARGUMENT":
            return InvalidInput.one("application", said)
        case "PERMISSION_DENIED":
            return Refused(error.reason or "ORIGIN_REFUSED", said)
        case "FAILED_PRECONDITION":
            return InvalidState(said, error.reason or "", error.metadata)
    return InvalidState(
        f"region {region}, where the record was made, did not answer: try again",
        "ORIGIN_UNAVAILABLE",
        {"origin_region": region},
    )
