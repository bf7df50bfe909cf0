"""The courier: delivers queued records of nationally shared types, their revocations, their listings and
where disputes about them stand to every peer until each acknowledges.

The queue is the ``outbox`` table, written in the same transaction as the
record, so a record is never stored without its deliveries or delivered
without being stored, and a restart loses nothing. Each delivery sends the
origin's signed statement with every field opened; the peer verifies it,
stores it and answers with its signed receipt, which this node verifies and
logs (``record_published``) in the transaction that marks the delivery done.

A failure is classified (``domain.deliveries.classify``): a peer that did
not answer rests for a backoff that doubles up to ``max_backoff`` (the other
peers go on); a refusal of one item that may pass backs off that item only
(the peer's other items go on); a refusal that cannot change makes the item a
dead letter, with an alarm event (``delivery_dead_lettered``) in the same
transaction. Only what causally follows an item waits for it (see the outbox).

Replicas of one region each run a courier over the one outbox: a round claims
the rows it sends for ``claim`` seconds (``Outbox.claim``), renews the claims
of the rows still to send once half of that has passed, and ends every claim
it did not close, so each delivery is sent and logged by one replica. The
claim outlasts any one delivery (``claim`` ≥ 2 × ``timeout``); a replica that
dies holding claims leaves them to lapse after at most ``claim`` seconds (plus
the replicas' clock skew), and another takes the rows.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from share_gateway.crypto.disclosure import disclose
from share_gateway.crypto.envelope import Envelope
from share_gateway.crypto.errors import VerificationError
from share_gateway.domain.consent import CONSENT_REVOCATION_TYPE
from share_gateway.domain.deliveries import NOT_KEPT, RECEIPT_NOT_VERIFIED, Failure, classify
from share_gateway.domain.dispute_marks import DISPUTE_MARK_TYPE, mark_of
from share_gateway.domain.events import DisclosedRecord, EventKind, Outcome
from share_gateway.domain.listings import LISTING_TYPE
from share_gateway.domain.records import RecordStatus
from share_gateway.federation.peers import PeerError
from share_gateway.gateway.federation import FederationDesk
from share_gateway.gateway.periodic import Periodic
from share_gateway.gateway.runtime import node_principal, record_ref
from share_gateway.store.deliveries import MAX_ERROR, Delivery, DeliveryKind
from share_gateway.store.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)
# Why a delivery is dead when its peer is no longer a node of the manifest in force.
NOT_IN_MANIFEST = "NOT_IN_MANIFEST"


@dataclass
class CourierSettings:
    interval: float = 0.5
    first_backoff: float = 0.5
    max_backoff: float = 30.0
    timeout: float = 5.0
    batch: int = 100
    # Seconds a round's claim on the rows it sends holds: renewed at half, so a delivery (at most ``timeout``)
    # always starts with more than ``timeout`` left; a dead replica's rows are due again after it.
    claim: float = 20.0

    def __post_init__(self) -> None:
        if self.claim < 2 * self.timeout:
            raise ValueError("the courier's claim must last at least twice its delivery timeout")


def backoff(attempts: int, settings: CourierSettings) -> float:
    """Seconds to wait after the ``attempts``-th failure in a row."""
    return float(min(settings.max_backoff, settings.first_backoff * 2 ** max(0, attempts - 1)))


@dataclass
class Courier:
    federation: FederationDesk
    settings: CourierSettings = field(default_factory=CourierSettings)
    _failures: dict[str, int] = field(default_factory=dict)
    _resting_until: dict[str, float] = field(default_factory=dict)
    _resuming: set[asyncio.Task[None]] = field(default_factory=set)
    # Who this courier is in the outbox's claims: one per process, never reused after a restart.
    owner: str = field(default_factory=lambda: f"{os.getpid()}-{uuid.uuid4().hex[:16]}")

    def __post_init__(self) -> None:
        # Stopping cancels a round at any await: a delivery the peer stored but this node did not mark
        # done is sent again after the restart, and the peer stores it only once.
        self.loop = Periodic("courier", self.deliver_due, self.settings.interval)

    async def deliver_due(self) -> int:
        """One round: every due delivery to every peer not resting, claimed from the other replicas; return how
        many were acknowledged."""
        runtime, outbox = self.federation.runtime, self.federation.runtime.store.outbox
        if not await runtime.read(outbox.due, runtime.clock(), 1):
            return 0  # an idle round writes nothing
        started, now = time.monotonic(), runtime.clock()
        until = now + timedelta(seconds=self.settings.claim)
        claimed = await runtime.write(lambda tx: outbox.claim(tx, self.owner, now, until, self.settings.batch))
        if not claimed:
            return 0  # another replica took them
        by_peer: dict[str, list[Delivery]] = defaultdict(list)
        for delivery in claimed:
            if self._resting_until.get(delivery.peer, 0.0) <= started:
                by_peer[delivery.peer].append(delivery)
        try:
            # Each peer's rows are sent one after the other, and their claims renewed as they go.
            counts = await asyncio.gather(
                *(self._deliver_to(peer, rows, _Lease(started + self.settings.claim)) for peer, rows in by_peer.items())
            )
        finally:
            # Closed rows hold no claim; the rest (a resting peer's, or all at a stop) are due for anyone now.
            await asyncio.shield(runtime.write(lambda tx: outbox.release(tx, self.owner)))
        return sum(counts)

    async def release(self) -> None:
        """Give up every claim of this courier (after its loop stopped): the other replicas take the rows at once
        instead of when the claims lapse."""
        runtime = self.federation.runtime
        await runtime.write(lambda tx: runtime.store.outbox.release(tx, self.owner))

    async def _still_claimed(self, delivery: Delivery, rest: list[Delivery], lease: _Lease) -> bool:
        """Whether this courier may send ``delivery`` (the first of ``rest``): once half the claim has passed, the
        claims on ``rest`` are renewed first, and a row whose claim lapsed to another replica is left to it."""
        if time.monotonic() < lease.expires - self.settings.claim / 2:
            return delivery.seq not in lease.lost
        runtime, outbox = self.federation.runtime, self.federation.runtime.store.outbox
        started, seqs = time.monotonic(), [row.seq for row in rest]
        until = runtime.clock() + timedelta(seconds=self.settings.claim)
        held = await runtime.write(lambda tx: outbox.renew(tx, self.owner, seqs, until))
        lease.expires = started + self.settings.claim
        lease.lost.update(seq for seq in seqs if seq not in held)
        return delivery.seq in held

    def peer_back(self, peer: str) -> None:
        """A resting peer answered another call: end its rest and deliver at once, instead of waiting out a
        backoff that can reach ``max_backoff`` (a restarted peer would otherwise sit idle)."""
        if self._resting_until.get(peer, 0.0) <= time.monotonic():
            return
        self._resting_until.pop(peer, None)
        runtime = self.federation.runtime

        async def resume() -> None:
            await runtime.write(lambda tx: runtime.store.outbox.retry_now(tx, peer, runtime.clock()))
            self.loop.wake()

        task = asyncio.get_running_loop().create_task(resume())
        self._resuming.add(task)
        task.add_done_callback(self._resuming.discard)

    async def _deliver_to(self, peer: str, rows: list[Delivery], lease: _Lease) -> int:
        """Deliver in queue order; a peer that does not answer rests (its other items wait for it), an item the
        peer refuses is backed off or dead-lettered and the next one goes on."""
        delivered = 0
        for index, delivery in enumerate(rows):
            if not await self._still_claimed(delivery, rows[index:], lease):
                continue
            try:
                await self._deliver(delivery)
            except (PeerError, VerificationError, TimeoutError, Undeliverable) as error:
                failure, reason = failure_of(error)
                if failure is Failure.PEER:
                    await self._peer_failed(delivery, error)
                    return delivered
                self._failures.pop(peer, None)  # it answered
                if failure is Failure.ITEM:
                    await self._item_failed(delivery, error)
                else:
                    await self._dead_letter(delivery, reason, _describe(error))
                continue
            self._failures.pop(peer, None)
            delivered += 1
        return delivered

    async def _peer_failed(self, delivery: Delivery, error: Exception) -> None:
        """The peer rests for a backoff that grows with its failures in a row; the delivery is due after it."""
        peer = delivery.peer
        failures = self._failures.get(peer, 0) + 1
        self._failures[peer] = failures
        wait = backoff(failures, self.settings)
        self._resting_until[peer] = time.monotonic() + wait
        await self._retry_later(delivery, error, wait, whole_peer=True)

    async def _item_failed(self, delivery: Delivery, error: Exception) -> None:
        """The peer refused this item for now: it alone waits, for a backoff that grows with its own attempts."""
        await self._retry_later(delivery, error, backoff(delivery.attempts + 1, self.settings), whole_peer=False)

    async def _retry_later(self, delivery: Delivery, error: Exception, wait: float, *, whole_peer: bool) -> None:
        """Count the failed attempt; with ``whole_peer``, none of the peer's deliveries is due before the retry."""
        runtime, reason = self.federation.runtime, _describe(error)
        log.warning(
            "delivery of %s %s to %s failed (%s); next try in %.1f s",
            delivery.kind,
            delivery.record_id,
            delivery.peer,
            reason,
            wait,
        )
        retry_at = runtime.clock() + timedelta(seconds=wait)

        def later(tx: UnitOfWork) -> None:
            runtime.store.outbox.failed(tx, delivery.seq, retry_at, reason)
            if whole_peer:
                runtime.store.outbox.rest_peer(tx, delivery.peer, retry_at)

        await runtime.write(later)

    async def _dead_letter(self, delivery: Delivery, reason: str, error: str) -> None:
        """Keep the delivery as a dead letter with why and when, and log the alarm in the same transaction."""
        runtime = self.federation.runtime
        stored = await runtime.read(runtime.store.records.get, runtime.region, delivery.record_id)
        log.error(
            "delivery %d of %s %s to %s is a dead letter: %s",
            delivery.seq,
            delivery.kind,
            delivery.record_id,
            delivery.peer,
            error,
        )
        details = {
            "to": node_principal(delivery.peer).uri,
            "seq": str(delivery.seq),
            "delivery": delivery.kind.value,
            "error": error[:MAX_ERROR],
        } | ({} if delivery.listing_id is None else {"listing_id": delivery.listing_id})
        alarm = runtime.event(
            EventKind.DELIVERY_DEAD_LETTERED,
            node_principal(runtime.region),
            Outcome.DENIED,
            subject=None if stored is None else stored.record.subject,
            reason=reason,
            records=() if stored is None else (record_ref(stored.record),),
            details=details,
        )

        def bury(tx: UnitOfWork) -> None:
            if runtime.store.outbox.dead_lettered(tx, delivery.seq, alarm.at, f"{reason}: {error}"):
                runtime.store.events.append(tx, [alarm])

        await runtime.write(bury)

    async def _deliver(self, delivery: Delivery) -> None:
        """Send one delivery, verify the peer's signed receipt, and mark it done with the receipt's digest."""
        runtime, federation = self.federation.runtime, self.federation
        if delivery.kind is DeliveryKind.CONSENT_REVOCATION:
            await self._deliver_consent_revocation(delivery)
            return
        # The outbox holds this node's own deliveries: each names a record (and listing) of this region.
        stored = await runtime.read(runtime.store.records.get, runtime.region, delivery.record_id)
        if stored is None:
            raise Undeliverable(NOT_KEPT, f"record {delivery.record_id} is not in the store")
        manifest, peer, seconds = federation.manifest.manifest, delivery.peer, self.settings.timeout
        if peer not in manifest.nodes:
            raise Undeliverable(NOT_IN_MANIFEST, f"region {peer} is not a node of the manifest in force")
        why = await self._not_to_send(delivery, stored.record.status)
        if why:
            await runtime.write(lambda tx: runtime.store.outbox.skipped(tx, delivery.seq, runtime.clock(), why))
            return
        async with asyncio.timeout(seconds):
            if delivery.kind is DeliveryKind.RECORD:
                disclosure = disclose(stored.sealed, frozenset(stored.record.fields))
                receipt = await federation.clients.publish(manifest, peer, disclosure, seconds)
                acknowledged, logged = EventKind.RECORD_RECEIVED, EventKind.RECORD_PUBLISHED
            elif delivery.kind is DeliveryKind.REVOCATION:
                revocation = await runtime.read(runtime.store.revocations.get, runtime.region, delivery.record_id)
                if revocation is None:
                    raise Undeliverable(NOT_KEPT, f"no revocation of {delivery.record_id} is kept")
                receipt = await federation.clients.revoke(manifest, peer, revocation, seconds)
                acknowledged, logged = EventKind.RECORD_REVOKED, EventKind.REVOCATION_DELIVERED
            elif delivery.kind is DeliveryKind.DISPUTE:
                # Where the dispute stands now (``listing_id`` holds its id): the answer supersedes the filing.
                dispute = await runtime.read(runtime.store.disputes.get, delivery.listing_id or "")
                if dispute is None or dispute.origin_region != runtime.region:
                    raise Undeliverable(NOT_KEPT, f"no dispute {delivery.listing_id} of this region is kept")
                signed = Envelope.seal(runtime.signing_key, DISPUTE_MARK_TYPE, mark_of(dispute).to_bytes())
                receipt = await federation.clients.share_dispute(manifest, peer, signed, seconds)
                acknowledged, logged = EventKind.DISPUTE_MARK_RECEIVED, EventKind.DISPUTE_MARK_SHARED
            else:
                # The listing as it stands now: a later change supersedes what an earlier delivery carried.
                listing = await runtime.read(runtime.store.listings.get, runtime.region, delivery.listing_id or "")
                if listing is None:
                    raise Undeliverable(NOT_KEPT, f"no listing {delivery.listing_id} is kept")
                signed = Envelope.seal(runtime.signing_key, LISTING_TYPE, listing.to_bytes())
                receipt = await federation.clients.share_listing(manifest, peer, signed, seconds)
                acknowledged, logged = EventKind.LISTING_RECEIVED, EventKind.LISTING_SHARED
        receipt_digest = federation.acknowledged(peer, delivery.record_id, receipt, acknowledged)
        event = runtime.event(
            logged,
            node_principal(runtime.region),
            Outcome.ALLOWED,
            subject=stored.record.subject,
            records=(record_ref(stored.record, tuple(sorted(stored.record.fields))),),
            details={"to": node_principal(peer).uri, "receipt_digest": receipt_digest},
        )

        def done(tx: UnitOfWork) -> None:
            if runtime.store.outbox.delivered(tx, delivery.seq, event.at):  # else another replica logged it
                runtime.store.events.append(tx, [event])

        await runtime.write(done)

    async def _not_to_send(self, delivery: Delivery, status: RecordStatus) -> str:
        """Why a delivery is closed unsent, or "" to send it."""
        runtime = self.federation.runtime
        if delivery.kind is DeliveryKind.RECORD and status is not RecordStatus.ACTIVE:
            # Repaired or withdrawn before it left: a peer must never hold it as disclosable.
            return f"not published: the record is {status}"
        if delivery.kind in (DeliveryKind.LISTING, DeliveryKind.DISPUTE) and await runtime.read(
            runtime.store.outbox.skipped_publication, delivery.peer, delivery.record_id
        ):
            # The peer never held the record: a listing it would refuse as RECORD_NOT_HELD for ever, a dispute
            # would mark nothing there.
            return "not shared: the record it rests on was never published to this peer"
        return ""

    async def _deliver_consent_revocation(self, delivery: Delivery) -> None:
        """A subject's withdrawal of a consent (``record_id`` is the consent id), signed by this node."""
        runtime, federation = self.federation.runtime, self.federation
        revocation = await runtime.read(runtime.store.consents.revocation, delivery.record_id)
        if revocation is None:
            raise Undeliverable(NOT_KEPT, f"no withdrawal of consent {delivery.record_id} is kept")
        manifest, peer, seconds = federation.manifest.manifest, delivery.peer, self.settings.timeout
        if peer not in manifest.nodes:
            raise Undeliverable(NOT_IN_MANIFEST, f"region {peer} is not a node of the manifest in force")
        signed = Envelope.seal(runtime.signing_key, CONSENT_REVOCATION_TYPE, revocation.to_bytes())
        async with asyncio.timeout(seconds):
            receipt = await federation.clients.share_consent_revocation(manifest, peer, signed, seconds)
        receipt_digest = federation.acknowledged(
            peer, delivery.record_id, receipt, EventKind.CONSENT_REVOCATION_RECEIVED
        )
        event = runtime.event(
            EventKind.CONSENT_REVOCATION_DELIVERED,
            node_principal(runtime.region),
            Outcome.ALLOWED,
            subject=revocation.subject,
            records=(DisclosedRecord(delivery.record_id, "consent", runtime.region),),
            details={"to": node_principal(peer).uri, "receipt_digest": receipt_digest},
        )
        await runtime.write_logged(lambda tx: runtime.store.outbox.delivered(tx, delivery.seq, event.at), event)


@dataclass
class _Lease:
    """A round's claims on one peer's rows as this courier sees them: when they lapse on its own monotonic clock
    (measured from before the claim was written, so never later than in the database), and which were lost."""

    expires: float
    lost: set[int] = field(default_factory=set)


class Undeliverable(Exception):
    """This node cannot send the item at all (what it delivers is not kept, the peer left the manifest)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def failure_of(error: Exception) -> tuple[Failure, str]:
    """What a failed attempt does (``domain.deliveries.Failure``) and its machine reason."""
    if isinstance(error, PeerError):
        return classify(error.code, error.reason), error.reason or error.code
    if isinstance(error, TimeoutError):
        return Failure.PEER, "DEADLINE_EXCEEDED"
    if isinstance(error, VerificationError):
        # The peer's receipt for this item does not verify: sending the item again will not change the key.
        return Failure.PERMANENT, RECEIPT_NOT_VERIFIED
    if isinstance(error, Undeliverable):
        return Failure.PERMANENT, error.reason
    return Failure.ITEM, type(error).__name__


def _describe(error: Exception) -> str:
    if isinstance(error, PeerError):
        return str(error)
    return f"{type(error).__name__}: {error}"
