"""Federated inquiries: forward a signed inquiry to every peer, and answer peers under this node's own policy.

Asking: each peer gets the inquiry signed by this node (requester, purpose,
consent, nonce, time) and answers with signed disclosures and its signed
receipt; every signature is verified against the manifest before anything
is used, and each region's outcome is reported: ok, timeout, unavailable,
refused or invalid. Answering: the peer is admitted only when its
certificate is the one the manifest pins for its region; the inquiry must
verify under that region's key, be fresh, carry an unseen nonce and name the
same catalog; then this node's own policy decides, and the exchange is
logged with the digest of the peer's signed request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from share_gateway import tracing
from share_gateway.catalog import SignedCatalog
from share_gateway.crypto.consent import SignedConsent
from share_gateway.crypto.disclosure import (
    Disclosure,
)
from share_gateway.crypto.envelope import Envelope
from share_gateway.crypto.errors import VerificationError
from share_gateway.domain.dispute_marks import DISPUTE_MARK_TYPE, mark_of
from share_gateway.domain.disputes import Dispute
from share_gateway.domain.errors import Citation, Refused
from share_gateway.domain.events import EVENT_MEDIA_TYPE, DisclosedRecord, Event, EventKind, Outcome
from share_gateway.domain.identifiers import Subject
from share_gateway.domain.policy import Denial, Grant, GrantRole, Policy, Principal
from share_gateway.federation.manifest import Manifest, SignedManifest
from share_gateway.federation.messages import PEER_INQUIRY_TYPE, REPLAY_WINDOW, PeerInquiry, digest
from share_gateway.federation.peers import PeerClients, PeerError
from share_gateway.gateway.answers import Asked, RelayRules
from share_gateway.gateway.group_commit import riding
from share_gateway.gateway.runtime import NodeRuntime, node_principal
from share_gateway.store.nonces import NonceSeen, PeerNonce

# Time kept back from the client's deadline for merging, logging and replying.
DEADLINE_MARGIN = 0.05
T = TypeVar("T")


class RegionStatus:
    OK = "ok"
    TIMEOUT = "timeout"
    UNAVAILABLE = "unavailable"
    REFUSED = "refused"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class RegionOutcome:
    region: str
    status: str
    detail: str = ""
    disclosures: tuple[Disclosure, ...] = ()
    records: tuple[DisclosedRecord, ...] = ()
    citations: tuple[Citation, ...] = ()
    receipt_digest: str = ""
    # The region's open disputes about its own records of this answer (from its signed marks).
    disputed: tuple[Dispute, ...] = ()


@dataclass(frozen=True, slots=True)
class _Question:
    inquiry: Envelope
    asked: Asked
    seconds: float
    # The manifest and the catalog's rules in force when the inquiry began: a newer one installed meanwhile
    # applies from the next inquiry, never to half of this one's regions.
    manifest: Manifest
    relay: RelayRules


@dataclass
class FederationDesk:
    runtime: NodeRuntime
    manifest: SignedManifest
    catalog: SignedCatalog
    clients: PeerClients
    # The node's own policy: what it re-applies to what peers return.
    policy: Policy
    peer_timeout: float = 5.0
    # How far apart two nodes' clocks may be: every time one node compares with another's (config.federation).
    clock_skew: timedelta = REPLAY_WINDOW

    def __post_init__(self) -> None:
        self.follow(self.catalog, self.policy)
        # (region, nonce) of the forwarded inquiries being answered: a replay arriving meanwhile is refused.
        self._answering: set[tuple[str, str]] = set()

    def follow(self, catalog: SignedCatalog, policy: Policy) -> None:
        """The catalog in force (a newer one installed at a running node): its digest is what inquiries carry and
        peers must match from now on."""
        self.catalog, self.policy = catalog, policy
        self.catalog_digest = catalog.digest
        # The record types the catalog shares nationwide: the only ones a peer may publish here.
        self.shared_types = frozenset(
            name for name, kind in catalog.catalog.record_types.items() if kind.shared_nationwide
        )
        self.relay = RelayRules(policy, self.shared_types)

    def key_id(self, region: str) -> bytes:
        """``region``'s signing key id: the manifest gives each key its own id, so it names the signer."""
        return self.manifest.manifest.nodes[region].signing_key.key_id

    def require_current(self) -> None:
        self.manifest.manifest.require_current(self.runtime.clock())

    # --- asking ---------------------------------------------------------------

    async def fan_out(
        self,
        requester: Principal,
        subject: Subject,
        purpose: str,
        consent: str,
        record_types: tuple[str, ...],
        deadline: float | None,
        signed_consent: SignedConsent | None = None,
    ) -> list[RegionOutcome]:
        """Ask every peer at once; each answer is verified, and no region can hold the others past the deadline.

        ``consent`` is the id of the consent this node accepted; ``signed_consent`` travels for peers to verify.
        """
        manifest, relay = self.manifest.manifest, self.relay
        manifest.require_current(self.runtime.clock())
        inquiry = PeerInquiry.new(
            origin=self.runtime.region,
            requester_uri=requester.uri,
            requester_kind=requester.kind,
            granted=requester.holds(GrantRole.INQUIRE, purpose, self.runtime.clock()),
            subject=subject,
            purpose=purpose,
            consent_reference=consent,
            record_types=record_types,
            catalog_digest=self.catalog_digest,
            at=self.runtime.clock(),
            consent=signed_consent,
        )
        envelope = Envelope.seal(self.runtime.signing_key, PEER_INQUIRY_TYPE, inquiry.to_bytes())
        remaining = self.peer_timeout if deadline is None else deadline - time.monotonic() - DEADLINE_MARGIN
        asked = Asked(digest(envelope.payload), subject, purpose, consent, frozenset(record_types))
        question = _Question(envelope, asked, max(0.01, min(self.peer_timeout, remaining)), manifest, relay)
        peers = manifest.peers_of(self.runtime.region)
        return list(await asyncio.gather(*(self._ask(region, question) for region in peers)))

    async def _ask(self, region: str, question: _Question) -> RegionOutcome:
        try:
            async with asyncio.timeout(question.seconds):
                answer = await self.clients.inquire(question.manifest, region, question.inquiry, question.seconds)
        except TimeoutError:
            return RegionOutcome(region, RegionStatus.TIMEOUT, f"no answer within {question.seconds:.2f} s")
        except PeerError as error:
            return RegionOutcome(region, *peer_failure(error))
        try:
            # Everything a region sent, checked against the manifest and this node's policy before any of it is used.
            with tracing.span("federation.check", peer_region=region):
                checked = question.relay.check(
                    question.manifest, self.runtime.region, region, answer, question.asked, self.runtime.clock().date()
                )
        except (VerificationError, ValueError, KeyError) as error:
            return RegionOutcome(region, RegionStatus.INVALID, str(error)[:300])
        if checked.records:
            pairs = [(r.origin_region, r.record_id) for r in checked.records]
            checked = question.relay.without(
                checked, await self.runtime.read(self.runtime.store.revocations.revoked_among, pairs)
            )
        return RegionOutcome(
            region,
            RegionStatus.OK,
            "",
            checked.disclosures,
            checked.records,
            checked.citations,
            checked.receipt_digest,
            checked.disputed,
        )

    def signed_marks(self, disputes: Iterable[Dispute]) -> list[Envelope]:
        """This node's signed statements of the open disputes about its own records of an answer to a peer, so
        the asking region marks them "under dispute" on this origin's word (never on a copy's)."""
        key, here = self.runtime.signing_key, self.runtime.region
        return [
            Envelope.seal(key, DISPUTE_MARK_TYPE, mark_of(d).to_bytes()) for d in disputes if d.origin_region == here
        ]

    async def acknowledge(
        self,
        kind: EventKind,
        region: str,
        subject: Subject,
        record: DisclosedRecord,
        payload: bytes,
        keep: Callable[[Event], object],
        **details: str,
    ) -> Envelope:
        """Log what a peer delivered (with the digest of its signed payload) in the transaction ``keep``
        stores it in, and return this node's signed receipt: the logged event."""
        origin = node_principal(region)
        event = self.runtime.event(
            kind,
            origin,
            Outcome.ALLOWED,
            subject=subject,
            records=(record,),
            details={"via": origin.uri, **details, "statement_digest": digest(payload)},
        )
        await self.runtime.off_loop(keep, event)
        return Envelope.seal(self.runtime.signing_key, EVENT_MEDIA_TYPE, event.canonical_bytes())

    def opened(self, region: str, envelope: Envelope, media_type: str, parse: Callable[[bytes], T], what: str) -> T:
        """The payload of an envelope that region's node key signed, or ``Refused``."""
        if envelope.key_id != self.key_id(region):
            raise Refused(Denial.PEER_NOT_ADMITTED, f"the {what} is not signed by region {region}")
        try:
            return envelope.open(self.manifest.manifest.keys, media_type, parse)
        except (VerificationError, ValueError, KeyError, TypeError) as error:
            raise Refused(Denial.PEER_NOT_ADMITTED, f"the {what} does not verify: {error}") from error

    def acknowledged(self, region: str, record_id: str, receipt: Envelope, kind: EventKind) -> str:
        """Verify a peer's signed receipt of a delivery (``kind`` of event, about this node's record
        ``record_id``: deliveries are of this node's own records); return its digest."""
        if receipt.key_id != self.key_id(region):
            raise VerificationError(f"the acknowledgement is not signed by region {region}")
        event = receipt.open(self.manifest.manifest.keys, EVENT_MEDIA_TYPE, Event.from_bytes)
        delivered = [(self.runtime.region, record_id)]
        if event.kind is not kind or [(r.origin_region, r.record_id) for r in event.records] != delivered:
            raise VerificationError("the acknowledgement is for another delivery")
        return digest(receipt.payload)

    # --- answering --------------------------------------------------------------

    async def require_fresh(
        self, region: str, origin: str, catalog_digest: str, at: datetime, nonce: str, what: str
    ) -> None:
        """Refuse a peer's signed request unless it names its sender as origin, this node's catalog, a time
        within the clock skew of this node's, and a nonce not seen before (then kept)."""
        if not await self._keep_alone(self.require_timely(region, origin, catalog_digest, at, nonce, what)):
            raise Refused(Denial.REPLAYED, f"this {what} was already answered")

    async def _keep_alone(self, kept: PeerNonce) -> bool:
        """Keep a nonce in a transaction of its own; False if it was kept before."""
        nonces = self.runtime.store.nonces
        return await self.runtime.write(lambda tx: nonces.remember(tx, kept))

    def require_timely(
        self, region: str, origin: str, catalog_digest: str, at: datetime, nonce: str, what: str
    ) -> PeerNonce:
        """``require_fresh`` but for the nonce: the nonce as it is to be kept."""
        if origin != region:
            raise Refused(Denial.PEER_NOT_ADMITTED, f"the {what} names another origin than its sender")
        if catalog_digest != self.catalog_digest:
            raise Refused(Denial.CATALOG_MISMATCH, "the peers hold different catalogs: nothing is exchanged")
        if abs(self.runtime.clock() - at) > self.clock_skew:
            raise Refused(Denial.REPLAYED, f"the {what} is too old or too new")
        return self._to_keep(region, nonce)

    def _to_keep(self, region: str, nonce: str) -> PeerNonce:
        """A nonce as kept: as long as its request could still pass as fresh (its time may lie a skew either side
        of now)."""
        now = self.runtime.clock()
        return PeerNonce(region, nonce, now, now - 2 * self.clock_skew)

    @asynccontextmanager
    async def answering_once(self, accepted: PeerInquiry) -> AsyncIterator[None]:
        """Answer an accepted inquiry in the block at most once: ``Refused(REPLAYED)`` if its nonce was kept or
        is being answered; else the nonce is kept in the transaction of the first event the block logs (the
        answer's, or its refusal's), or alone at the end if the block logged none. No answer leaves before its
        nonce is committed: the answer waits for its event, and the block's end for the nonce's."""
        region, nonce = accepted.origin, accepted.nonce  # its origin, time and catalog checked by ``accept``
        kept = self._to_keep(region, nonce)
        key = (region, nonce)
        seen = await self.runtime.read(self.runtime.store.nonces.seen, region, nonce)
        if seen or key in self._answering:
            raise Refused(Denial.REPLAYED, "this inquiry was already answered")
        self._answering.add(key)
        try:
            with riding(kept) as rider:
                try:
                    yield
                except NonceSeen as error:  # another replica answered it meanwhile: this answer never commits
                    raise Refused(Denial.REPLAYED, "this inquiry was already answered") from error
                except Exception:
                    if rider.committed is None:  # failed before it logged anything: the nonce is kept all the same
                        await self._keep_alone(kept)
                    raise
            if rider.committed is None:
                if not await self._keep_alone(kept):
                    raise Refused(Denial.REPLAYED, "this inquiry was already answered")
            else:
                try:
                    await asyncio.shield(rider.committed)
                except NonceSeen as error:
                    raise Refused(Denial.REPLAYED, "this inquiry was already answered") from error
        finally:
            self._answering.discard(key)

    def admit(self, region: str, certificate_fingerprint: str) -> None:
        """A peer is the node the manifest names, with the very certificate it pins."""
        self.require_current()
        node = self.manifest.manifest.nodes.get(region)
        if node is None or node.tls_fingerprint != certificate_fingerprint:
            raise Refused(
                Denial.CERTIFICATE_NOT_PINNED, f"region {region}'s certificate is not the one the manifest pins"
            )

    async def accept(self, region: str, envelope: Envelope) -> tuple[PeerInquiry, Principal, str]:
        """Verify a forwarded inquiry; return it, the requester it vouches for, and its digest. It is answered
        within ``answering_once``, which refuses a replay and keeps the nonce with the answer."""
        inquiry = self.opened(region, envelope, PEER_INQUIRY_TYPE, PeerInquiry.from_bytes, "inquiry")
        self.require_timely(region, inquiry.origin, inquiry.catalog_digest, inquiry.at, inquiry.nonce, "inquiry")
        # The asking node vouches for a grant current by its own clock, which may run ahead of this one's.
        grants = (Grant(GrantRole.INQUIRE, inquiry.purpose, inquiry.at - self.clock_skew),) if inquiry.granted else ()
        requester = Principal(
            identity=inquiry.requester_uri.rsplit("/", 1)[-1],
            uri=inquiry.requester_uri,
            kind=inquiry.requester_kind,
            grants=grants,
        )
        return inquiry, requester, digest(envelope.payload)


def peer_failure(error: PeerError) -> tuple[str, str]:
    """The region status and detail a failed call to a peer stands for: timeout, refused or unavailable."""
    if error.timed_out:
        return RegionStatus.TIMEOUT, "deadline exceeded"
    if error.refused:
        said = error.code if error.reason is None else error.reason
        return RegionStatus.REFUSED, f"{said}: {error.details}"[:200]
    return RegionStatus.UNAVAILABLE, f"{error.code}: {error.details}"[:200]
