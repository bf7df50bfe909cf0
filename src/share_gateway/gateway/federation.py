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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from share_gateway.catalog import SignedCatalog
from share_gateway.crypto.consent import SignedConsent
from share_gateway.crypto.disclosure import (
    Disclosure,
    RecordStatement,
    SealedRecord,
    verify_disclosure,
)
from share_gateway.crypto.envelope import Envelope
from share_gateway.crypto.errors import VerificationError
from share_gateway.domain.conformance import describe_violations, nonconformities
from share_gateway.domain.errors import Citation, Refused
from share_gateway.domain.events import EVENT_MEDIA_TYPE, DisclosedRecord, Event, EventKind, Outcome
from share_gateway.domain.identifiers import Subject, validate_item_id
from share_gateway.domain.listings import LISTING_TYPE, Listing
from share_gateway.domain.policy import Denial, Grant, GrantRole, Policy, Principal
from share_gateway.domain.records import Record, RecordStatus
from share_gateway.domain.repair import REVOCATION_TYPE, Revocation
from share_gateway.federation.manifest import SignedManifest
from share_gateway.federation.messages import PEER_INQUIRY_TYPE, REPLAY_WINDOW, PeerInquiry, digest
from share_gateway.federation.peers import PeerClients, PeerError
from share_gateway.gateway.answers import Asked, RelayRules
from share_gateway.gateway.runtime import NodeRuntime, node_principal, record_ref
from share_gateway.store.records import publication_key
from share_gateway.store.unit_of_work import UnitOfWork

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


@dataclass(frozen=True, slots=True)
class _Question:
    inquiry: Envelope
    asked: Asked
    seconds: float


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
        self.catalog_digest = self.catalog.digest
        # The record types the catalog shares nationwide: the only ones a peer may publish here.
        self.shared_types = frozenset(
            name for name, kind in self.catalog.catalog.record_types.items() if kind.shared_nationwide
        )
        self.relay = RelayRules(self.policy, self.shared_types)

    def _key_id(self, region: str) -> bytes:
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
        self.require_current()
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
        question = _Question(envelope, asked, max(0.01, min(self.peer_timeout, remaining)))
        peers = self.manifest.manifest.peers_of(self.runtime.region)
        return list(await asyncio.gather(*(self._ask(region, question) for region in peers)))

    async def _ask(self, region: str, question: _Question) -> RegionOutcome:
        try:
            async with asyncio.timeout(question.seconds):
                answer = await self.clients.inquire(self.manifest.manifest, region, question.inquiry, question.seconds)
        except TimeoutError:
            return RegionOutcome(region, RegionStatus.TIMEOUT, f"no answer within {question.seconds:.2f} s")
        except PeerError as error:
            return _failed(region, error)
        try:
            # Everything a region sent, checked against the manifest and this node's policy before any of it is used.
            checked = self.relay.check(
                self.manifest.manifest, self.runtime.region, region, answer, question.asked, self.runtime.clock().date()
            )
        except (VerificationError, ValueError, KeyError) as error:
            return RegionOutcome(region, RegionStatus.INVALID, str(error)[:300])
        if checked.records:
            pairs = [(r.origin_region, r.record_id) for r in checked.records]
            checked = self.relay.without(
                checked, await self.runtime.read(self.runtime.store.revocations.revoked_among, pairs)
            )
        return RegionOutcome(
            region, RegionStatus.OK, "", checked.disclosures, checked.records, checked.citations, checked.receipt_digest
        )

    # --- publication --------------------------------------------------------------

    async def receive(self, region: str, disclosure: Disclosure) -> Envelope:
        """Store a record a peer published (only its own, of a nationally shared type); return the signed receipt."""
        try:
            verified = verify_disclosure(disclosure, self.manifest.manifest.keys)
        except VerificationError as error:
            raise Refused(Denial.PEER_NOT_ADMITTED, f"the published record does not verify: {error}") from error
        statement = verified.statement
        validate_item_id(statement.record_id, "record.statement.record_id")
        if statement.origin_region != region or disclosure.statement.key_id != self._key_id(region):
            raise Refused(Denial.PEER_NOT_ADMITTED, "a region publishes only its own records, signed with its key")
        if statement.record_type not in self.shared_types or not verified.complete(self._required(statement)):
            raise Refused(Denial.NOT_SHARED, f"{statement.record_type} is not shared nationwide, or incomplete")
        publisher = node_principal(region)
        record = record_of(statement, verified.fields, publisher.uri)
        # A region still on an older catalog may publish what this one no longer admits: refused, retried
        # until the origin's own conformance sweep quarantines it (and its courier stops sending it).
        faults = nonconformities(self.catalog.catalog, record)
        if faults:
            raise Refused(
                Denial.CATALOG_MISMATCH, f"the catalog in force no longer admits it: {describe_violations(faults)}"
            )
        sealed = SealedRecord(disclosure.statement, {o.name: o for o in disclosure.fields})
        return await self.acknowledge(
            EventKind.RECORD_RECEIVED,
            region,
            record.subject,
            record_ref(record, tuple(sorted(record.fields))),
            disclosure.statement.payload,
            lambda event: self._keep_published(record, sealed, event),
        )

    def _keep_published(self, record: Record, sealed: SealedRecord, event: Event) -> None:
        """Store a published record with its event; a repeat logs only its event. A revocation its origin sent
        before the record itself (deliveries may cross) applies at once."""
        store = self.runtime.store

        def keep(tx: UnitOfWork) -> None:
            stored = store.records.add(tx, record, sealed, publication_key(record.origin_region, record.record_id))
            store.events.append(tx, [event])  # holds the append lock: a crossing revocation waits for it
            if stored.record is record:
                held = store.revocations.held_status(tx, record.record_id, record.origin_region)
                if held is not None:
                    store.records.revoke_copy(tx, record.record_id, record.origin_region, held, event.at)

        store.write(keep)

    async def revoke(self, region: str, envelope: Envelope) -> Envelope:
        """Take a revocation its origin signed: stop disclosing any copy, keep it for the feed, sign a receipt."""
        revocation = self.opened(region, envelope, REVOCATION_TYPE, Revocation.from_bytes, "revocation")
        validate_item_id(revocation.record_id, "revocation.record_id")
        if revocation.origin_region != region:
            raise Refused(Denial.PEER_NOT_ADMITTED, "a region revokes only its own records")
        if revocation.status not in (RecordStatus.REPAIRED, RecordStatus.WITHDRAWN):
            raise Refused(
                Denial.PEER_NOT_ADMITTED, f"a revocation ends disclosure; it cannot make a record {revocation.status}"
            )
        # The region's own record under that id: another region's record of the same id is not this one.
        copy = await self.runtime.read(self.runtime.store.records.get, region, revocation.record_id)
        if copy is not None and (
            copy.record.subject != revocation.subject or copy.record.record_type != revocation.record_type
        ):
            raise Refused(Denial.PEER_NOT_ADMITTED, "the revocation names another subject or type than the record")
        return await self.acknowledge(
            EventKind.RECORD_REVOKED,
            region,
            revocation.subject,
            DisclosedRecord(revocation.record_id, revocation.record_type, region),
            envelope.payload,
            lambda event: self._keep_revocation(revocation, envelope, event),
            status=revocation.status.value,
        )

    async def receive_listing(self, region: str, envelope: Envelope) -> Envelope:
        """Take a listing its origin signed, of a nationally shared type, resting on a record of that origin held
        here and about that record's subject; keep it if newer; sign a receipt."""
        listing = self.opened(region, envelope, LISTING_TYPE, Listing.from_bytes, "listing")
        validate_item_id(listing.listing_id, "listing.listing_id")
        validate_item_id(listing.record_id, "listing.record_id")
        if listing.origin_region != region:
            raise Refused(Denial.PEER_NOT_ADMITTED, "a region shares only its own listings")
        if listing.record_type not in self.shared_types:
            raise Refused(Denial.NOT_SHARED, f"listings on {listing.record_type} records are not shared nationwide")
        # A listing stands only on its origin's record: else a region could list anyone, record or not.
        record = await self.runtime.read(self.runtime.store.records.get, region, listing.record_id)
        if record is None:
            raise Refused(
                Denial.RECORD_NOT_HELD, f"record {listing.record_id} of region {region} is not held here (yet)"
            )
        if (record.record.subject, record.record.record_type) != (listing.subject, listing.record_type):
            raise Refused(Denial.LISTING_MISMATCH, "the listing names another subject or type than its record")
        return await self.acknowledge(
            EventKind.LISTING_RECEIVED,
            region,
            listing.subject,
            DisclosedRecord(listing.record_id, listing.record_type, region),
            envelope.payload,
            lambda event: self._keep_listing(listing, event),
            listing_id=listing.listing_id,
            list=listing.list_name,
            state=listing.state.value,
            version=str(listing.version),
        )

    def _keep_revocation(self, revocation: Revocation, envelope: Envelope, event: Event) -> None:
        """Keep a peer's revocation of its own record for the feed and stop disclosing the local copy, if there
        is one; the event is logged either way, so every delivery, repeated or not, is accounted for."""
        store, origin = self.runtime.store, revocation.origin_region

        def keep(tx: UnitOfWork) -> None:
            tx.serialise()  # against a publication of the record committing meanwhile
            store.revocations.keep(tx, revocation.record_id, origin, envelope, event.at)
            store.records.revoke_copy(tx, revocation.record_id, origin, revocation.status, event.at)
            store.events.append(tx, [event])

        store.write(keep)

    def _keep_listing(self, listing: Listing, event: Event) -> None:
        """Keep a peer's listing if newer than the copy held; the event is logged either way."""
        store = self.runtime.store
        store.write_logged(lambda tx: store.listings.receive(tx, listing, event.at), event)

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

    def _required(self, statement: RecordStatement) -> frozenset[str]:
        """The fields the catalog in force here requires of the statement's type (none for a type it lacks)."""
        kind = self.catalog.catalog.record_types.get(statement.record_type)
        return frozenset() if kind is None else frozenset(n for n, spec in kind.fields.items() if spec.required)

    def opened(self, region: str, envelope: Envelope, media_type: str, parse: Callable[[bytes], T], what: str) -> T:
        """The payload of an envelope that region's node key signed, or ``Refused``."""
        if envelope.key_id != self._key_id(region):
            raise Refused(Denial.PEER_NOT_ADMITTED, f"the {what} is not signed by region {region}")
        try:
            return envelope.open(self.manifest.manifest.keys, media_type, parse)
        except (VerificationError, ValueError, KeyError, TypeError) as error:
            raise Refused(Denial.PEER_NOT_ADMITTED, f"the {what} does not verify: {error}") from error

    def acknowledged(self, region: str, record_id: str, receipt: Envelope, kind: EventKind) -> str:
        """Verify a peer's signed receipt of a delivery (``kind`` of event, about this node's record
        ``record_id``: deliveries are of this node's own records); return its digest."""
        if receipt.key_id != self._key_id(region):
            raise VerificationError(f"the acknowledgement is not signed by region {region}")
        event = receipt.open(self.manifest.manifest.keys, EVENT_MEDIA_TYPE, Event.from_bytes)
        delivered = [(self.runtime.region, record_id)]
        if event.kind is not kind or [(r.origin_region, r.record_id) for r in event.records] != delivered:
            raise VerificationError("the acknowledgement is for another delivery")
        return digest(receipt.payload)

    # --- answering --------------------------------------------------------------

    def admit(self, region: str, certificate_fingerprint: str) -> None:
        """A peer is the node the manifest names, with the very certificate it pins."""
        self.require_current()
        node = self.manifest.manifest.nodes.get(region)
        if node is None or node.tls_fingerprint != certificate_fingerprint:
            raise Refused(
                Denial.CERTIFICATE_NOT_PINNED, f"region {region}'s certificate is not the one the manifest pins"
            )

    async def accept(self, region: str, envelope: Envelope) -> tuple[PeerInquiry, Principal, str]:
        """Verify a forwarded inquiry; return it, the requester it vouches for, and its digest."""
        if envelope.key_id != self._key_id(region):
            raise Refused(Denial.PEER_NOT_ADMITTED, f"the inquiry is not signed by region {region}")
        try:
            inquiry = envelope.open(self.manifest.manifest.keys, PEER_INQUIRY_TYPE, PeerInquiry.from_bytes)
        except VerificationError as error:
            raise Refused(Denial.PEER_NOT_ADMITTED, f"the inquiry does not verify: {error}") from error
        now = self.runtime.clock()
        if inquiry.origin != region:
            raise Refused(Denial.PEER_NOT_ADMITTED, "the inquiry names another origin than its sender")
        if inquiry.catalog_digest != self.catalog_digest:
            raise Refused(Denial.CATALOG_MISMATCH, "the peers hold different catalogs: nothing is exchanged")
        skew = self.clock_skew
        if abs(now - inquiry.at) > skew:
            raise Refused(Denial.REPLAYED, "the inquiry is too old or too new")
        # A nonce is kept as long as its inquiry could still pass as fresh: `at` may lie a skew either side of now.
        fresh = await self.runtime.write(
            lambda tx: self.runtime.store.nonces.remember(tx, inquiry.nonce, region, now, now - 2 * skew)
        )
        if not fresh:
            raise Refused(Denial.REPLAYED, "this inquiry was already answered")
        # The asking node vouches for a grant current by its own clock, which may run ahead of this one's.
        grants = (Grant(GrantRole.INQUIRE, inquiry.purpose, inquiry.at - skew),) if inquiry.granted else ()
        requester = Principal(
            identity=inquiry.requester_uri.rsplit("/", 1)[-1],
            uri=inquiry.requester_uri,
            kind=inquiry.requester_kind,
            grants=grants,
        )
        return inquiry, requester, digest(envelope.payload)


def _failed(region: str, error: PeerError) -> RegionOutcome:
    if error.timed_out:
        return RegionOutcome(region, RegionStatus.TIMEOUT, "deadline exceeded")
    if error.refused:
        said = error.code if error.reason is None else error.reason
        return RegionOutcome(region, RegionStatus.REFUSED, f"{said}: {error.details}"[:200])
    return RegionOutcome(region, RegionStatus.UNAVAILABLE, f"{error.code}: {error.details}"[:200])


def record_of(statement: RecordStatement, fields: Mapping[str, str], publisher: str) -> Record:
    """A published record as the origin signed it: everything but the values is in the statement."""
    return Record(
        record_id=statement.record_id,
        record_type=statement.record_type,
        subject=statement.subject,
        origin_region=statement.origin_region,
        fields=dict(fields),
        legal_document=statement.legal_document,
        severity=statement.severity,
        decided_on=statement.decided_on,
        disclose_until=statement.disclose_until,
        status=RecordStatus.ACTIVE,
        recorded_at=statement.recorded_at,
        version=statement.version,
        submitted_by=publisher,
        catalog_version=statement.catalog_version,
    )
