"""Consents: verified where they are used, registered where first seen, listed and withdrawn by their subject.

Every node that answers an inquiry checks the consent itself (signature and chain to the federation CA,
then ``Policy.authorise`` checks requester, subject, purpose and validity, then the withdrawals kept here):
a peer never trusts the asking node's word for it. A subject withdraws a consent at its own node; the
withdrawal goes to every peer through the outbox (``DeliveryKind.CONSENT_REVOCATION``) like a record's
revocation, and each node refuses the consent from the moment the withdrawal is kept, even one it has not
seen yet.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from share_gateway.crypto.consent import (
    CertifiedConsent,
    ConsentForged,
    ConsentSigner,
    SignedConsent,
    certify_consent,
    certify_signer,
)
from share_gateway.crypto.envelope import Envelope
from share_gateway.domain.consent import CONSENT_REVOCATION_TYPE, Consent, ConsentRevocation
from share_gateway.domain.deliveries import DeliveryKind
from share_gateway.domain.errors import InvalidInput, NotFound, Refused
from share_gateway.domain.events import DisclosedRecord, Event, EventKind, Outcome
from share_gateway.domain.identifiers import Subject
from share_gateway.domain.policy import Denial, Principal
from share_gateway.gateway.federation import FederationDesk
from share_gateway.gateway.runtime import NodeRuntime
from share_gateway.store.consents import ConsentToKeep, RegisteredConsent
from share_gateway.store.unit_of_work import UnitOfWork

# How an event names a consent among its records (a withdrawal's receipt is checked like a record's).
CONSENT_REF_TYPE = "consent"
# Registered ids remembered in memory, so the inquiry path writes a consent once, not once per inquiry.
_REMEMBERED = 100_000
# Consents whose chain and signature held, remembered (the time and revocation checks run at every use): a
# requester sends the same consent with each inquiry about a customer, and two ECDSA verifications and a
# certificate parse cost more than the rest of the consent checks. Signers' certificates are remembered apart:
# a requester attests every consent it keeps with one certificate, so a consent seen for the first time costs
# one ECDSA verification, not three and a parse.
_CERTIFIED = 4096

_K = TypeVar("_K")
_V = TypeVar("_V")


def consent_ref(consent_id: str, origin: str) -> DisclosedRecord:
    return DisclosedRecord(consent_id, CONSENT_REF_TYPE, origin)


@dataclass
class ConsentDesk:
    runtime: NodeRuntime
    # The federation CA(s) consent signers' certificates must chain to (PEM).
    ca_pems: tuple[bytes, ...]
    clock_skew: timedelta
    # The authority's revoked certificates (fingerprints) in force.
    revoked_certificates: Callable[[], frozenset[str]] = frozenset
    peers: Sequence[str] = ()
    wake: Callable[[], None] | None = None
    # How long this process goes on without looking for withdrawals other processes (replicas, or a peer's
    # delivery taken by another replica) kept: how late a replica may learn of one. Its own count at once.
    withdrawn_ttl: float = 2.0
    _registered: set[str] = field(default_factory=set)
    _certified: dict[tuple[bytes, bytes, bytes], CertifiedConsent] = field(default_factory=dict)
    _verifying: dict[tuple[bytes, bytes, bytes], asyncio.Future[CertifiedConsent]] = field(default_factory=dict)
    _signers: dict[bytes, ConsentSigner] = field(default_factory=dict)
    _withdrawn: set[str] = field(default_factory=set)
    _withdrawn_up_to: datetime | None = None
    _withdrawn_read_at: float = -math.inf

    def open(self, signed: SignedConsent) -> Consent:
        """The verified consent, or ``Refused(CONSENT_FORGED)``: what it says is checked by the policy after."""
        key = self._key(signed)
        try:
            certified = self._certified.get(key)
            if certified is None:
                certified = certify_consent(signed, self._signer(signed.certificate))
                _remember(self._certified, key, certified)
            return self._in_force(certified)
        except ConsentForged as error:
            raise Refused(Denial.CONSENT_FORGED, str(error)) from error

    async def open_aside(self, signed: SignedConsent) -> Consent:
        """``open``, with a consent's first verification on a worker thread: the ECDSA verification releases the
        interpreter lock, so the event loop serves other calls meanwhile; calls that bring the same new consent at
        once share one verification."""
        key = self._key(signed)
        try:
            certified = self._certified.get(key)
            if certified is None:
                verifying = self._verifying.get(key)
                if verifying is None:
                    signer = self._signer(signed.certificate)
                    verifying = asyncio.ensure_future(asyncio.to_thread(certify_consent, signed, signer))
                    self._verifying[key] = verifying
                    verifying.add_done_callback(lambda _: self._verifying.pop(key, None))
                certified = await asyncio.shield(verifying)
                if key not in self._certified:  # the first of the calls that waited keeps it
                    _remember(self._certified, key, certified)
            return self._in_force(certified)
        except ConsentForged as error:
            raise Refused(Denial.CONSENT_FORGED, str(error)) from error

    def _in_force(self, certified: CertifiedConsent) -> Consent:
        """What is checked at every use: the signer's certificate valid now and not revoked."""
        return certified.check(self.runtime.clock(), self.clock_skew, self.revoked_certificates())

    def _key(self, signed: SignedConsent) -> tuple[bytes, bytes, bytes]:
        if not self.ca_pems:
            raise Refused(Denial.CONSENT_FORGED, "this node holds no CA to verify a consent against")
        return (signed.statement, signed.signature, signed.certificate)

    def _signer(self, certificate: bytes) -> ConsentSigner:
        signer = self._signers.get(certificate)
        if signer is None:
            signer = certify_signer(certificate, self.ca_pems)
            _remember(self._signers, certificate, signer)
        return signer

    async def require_not_revoked(self, consent: Consent) -> None:
        """Refuse a withdrawn consent; the withdrawals are read from the store at most every ``withdrawn_ttl``
        seconds (a read per inquiry cost more than every other consent check together)."""
        if time.monotonic() - self._withdrawn_read_at >= self.withdrawn_ttl:
            await self._read_withdrawn()
        if consent.consent_id in self._withdrawn:
            raise Refused(Denial.CONSENT_REVOKED, f"the subject withdrew consent {consent.consent_id}")

    async def _read_withdrawn(self) -> None:
        started = time.monotonic()
        # Rows other replicas kept carry their clocks: read back over the clock skew, so none is missed.
        since = None if self._withdrawn_up_to is None else self._withdrawn_up_to - self.clock_skew
        found = await self.runtime.read(self.runtime.store.consents.withdrawn_since, since)
        for consent_id, kept_at in found:
            self._withdrawn.add(consent_id)
            if self._withdrawn_up_to is None or kept_at > self._withdrawn_up_to:
                self._withdrawn_up_to = kept_at
        self._withdrawn_read_at = started

    async def register(self, signed: SignedConsent, consent: Consent) -> None:
        """Keep a consent the first time this node sees it, so its subject can list and withdraw it here."""
        consents = self.runtime.store.consents
        for kept in self.to_keep(signed, consent):

            def keep(tx: UnitOfWork, kept: ConsentToKeep = kept) -> bool:
                return consents.register(tx, *kept)

            await self.runtime.write(keep)
            self.kept(kept)

    def to_keep(self, signed: SignedConsent, consent: Consent) -> tuple[ConsentToKeep, ...]:
        """The consent to register, unless this node did already: for an inquiry, registered with its event
        (``GroupCommit.append``), then ``kept``."""
        if consent.consent_id in self._registered:
            return ()
        now = self.runtime.clock()
        return (
            ConsentToKeep(
                consent.consent_id, signed.statement, signed.signature, signed.certificate, consent.statement, now
            ),
        )

    def kept(self, *consents: ConsentToKeep) -> None:
        """Remember consents registered, so the inquiry path writes each once, not once per inquiry."""
        for kept in consents:
            if len(self._registered) >= _REMEMBERED:
                self._registered.clear()
            self._registered.add(kept.consent_id)

    async def about(self, subject: Principal) -> list[RegisteredConsent]:
        """The consents about the caller itself registered here (a caller that is no subject has none)."""
        itself = _itself(subject)
        return await self.runtime.read(self.runtime.store.consents.about, itself)

    async def revoke(self, subject: Principal, consent_id: str) -> RegisteredConsent:
        """Withdraw one of the caller's consents: kept, logged and queued to every peer in one transaction."""
        itself = _itself(subject)
        if len(consent_id) != 32 or consent_id.strip("0123456789abcdef"):
            raise InvalidInput.one("consent_id", "must be the 32 hex digits of a consent id")
        store = self.runtime.store
        found = await self.runtime.read(store.consents.about, itself, consent_id)
        if not found:
            # One answer for an unknown id and another subject's consent alike.
            raise NotFound(f"no consent {consent_id} about the caller is registered here")
        now = self.runtime.clock()
        revocation = ConsentRevocation(consent_id, itself, now, self.runtime.region)
        event = self.runtime.event(
            EventKind.CONSENT_REVOKED,
            subject,
            Outcome.ALLOWED,
            subject=itself,
            records=(consent_ref(consent_id, self.runtime.region),),
            details={"requester": found[0].statement.requester},
        )

        def withdraw(tx: UnitOfWork) -> None:
            if store.consents.revoke(tx, revocation, now):
                store.outbox.queue(tx, DeliveryKind.CONSENT_REVOCATION, consent_id, self.peers, now)
                store.events.append(tx, [event])

        await self.runtime.write(withdraw)
        self._withdrawn.add(consent_id)
        if self.wake is not None:
            self.wake()
        return (await self.runtime.read(store.consents.about, itself, consent_id))[0]

    async def sealed_revocation(self, consent_id: str) -> Envelope | None:
        """The withdrawal kept here, signed by this node as the courier delivers it (None if none is kept)."""
        revocation = await self.runtime.read(self.runtime.store.consents.revocation, consent_id)
        if revocation is None:
            return None
        return Envelope.seal(self.runtime.signing_key, CONSENT_REVOCATION_TYPE, revocation.to_bytes())

    async def receive_revocation(self, federation: FederationDesk, region: str, envelope: Envelope) -> Envelope:
        """Take a withdrawal a peer's subject made there: keep it (refused from now on), log it, sign a receipt."""
        revocation = federation.opened(
            region, envelope, CONSENT_REVOCATION_TYPE, ConsentRevocation.from_bytes, "consent revocation"
        )
        if revocation.origin != region:
            raise Refused(Denial.PEER_NOT_ADMITTED, "a region forwards only the withdrawals made at it")
        store = self.runtime.store

        def keep(event: Event) -> None:
            def work(tx: UnitOfWork) -> None:
                if store.consents.revoke(tx, revocation, event.at):
                    store.events.append(tx, [event])

            store.write(work)
            self._withdrawn.add(revocation.consent_id)

        return await federation.acknowledge(
            EventKind.CONSENT_REVOCATION_RECEIVED,
            region,
            revocation.subject,
            consent_ref(revocation.consent_id, region),
            envelope.payload,
            keep,
        )


def _remember(memory: dict[_K, _V], key: _K, value: _V) -> None:
    """Keep ``value``, dropping the oldest entry past ``_CERTIFIED`` (what was checked once is checked again)."""
    if len(memory) >= _CERTIFIED:
        memory.pop(next(iter(memory)))
    memory[key] = value


def _itself(principal: Principal) -> Subject:
    if principal.itself is None:
        raise Refused(Denial.NOT_THE_SUBJECT, "only a subject (a person or a company) holds consents")
    return principal.itself
