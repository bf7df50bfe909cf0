"""The courier: delivers queued records of nationally shared types, their revocations and their listings
to every peer until each acknowledges.

The queue is the ``outbox`` table, written in the same transaction as the
record, so a record is never stored without its deliveries or delivered
without being stored, and a restart loses nothing. Each delivery sends the
origin's signed statement with every field opened; the peer verifies it,
stores it and answers with its signed receipt, which this node verifies and
logs (``record_published``) in the transaction that marks the delivery done.
A peer that fails rests for a backoff that doubles up to ``max_backoff``;
the others go on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

import grpc

from share_gateway.api.convert import disclosure_to_wire, envelope_to_wire
from share_gateway.crypto.disclosure import disclose
from share_gateway.crypto.envelope import Envelope
from share_gateway.crypto.errors import VerificationError
from share_gateway.domain.events import EventKind, Outcome
from share_gateway.domain.listings import LISTING_TYPE
from share_gateway.domain.records import RecordStatus
from share_gateway.gateway.federation import FederationDesk
from share_gateway.gateway.periodic import Periodic
from share_gateway.gateway.runtime import node_principal, record_ref
from share_gateway.store.repository import Delivery, DeliveryKind
from share_gateway.v1 import peer_pb2

log = logging.getLogger(__name__)


@dataclass
class CourierSettings:
    interval: float = 0.5
    first_backoff: float = 0.5
    max_backoff: float = 30.0
    timeout: float = 5.0
    batch: int = 100


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

    def __post_init__(self) -> None:
        # Stopping cancels a round at any await: a delivery the peer stored but this node did not mark
        # done is sent again after the restart, and the peer stores it only once.
        self.loop = Periodic("courier", self.deliver_due, self.settings.interval)

    async def deliver_due(self) -> int:
        """One round: every due delivery to every peer not resting; return how many were acknowledged."""
        runtime = self.federation.runtime
        due = await runtime.read(runtime.store.due_deliveries, runtime.clock(), self.settings.batch)
        by_peer: dict[str, list[Delivery]] = defaultdict(list)
        now = time.monotonic()
        for delivery in due:
            if self._resting_until.get(delivery.peer, 0.0) <= now:
                by_peer[delivery.peer].append(delivery)
        counts = await asyncio.gather(*(self._deliver_to(peer, rows) for peer, rows in by_peer.items()))
        return sum(counts)

    def peer_back(self, peer: str) -> None:
        """A resting peer answered another call: end its rest and deliver at once, instead of waiting out a
        backoff that can reach ``max_backoff`` (a restarted peer would otherwise sit idle)."""
        if self._resting_until.get(peer, 0.0) <= time.monotonic():
            return
        self._resting_until.pop(peer, None)
        runtime = self.federation.runtime

        async def resume() -> None:
            await runtime.off_loop(runtime.store.retry_now, peer, runtime.clock())
            self.loop.wake()

        task = asyncio.get_running_loop().create_task(resume())
        self._resuming.add(task)
        task.add_done_callback(self._resuming.discard)

    async def _deliver_to(self, peer: str, rows: list[Delivery]) -> int:
        """Deliver in queue order; on the first failure the peer rests and the rest waits."""
        runtime = self.federation.runtime
        delivered = 0
        for delivery in rows:
            try:
                await self._deliver(delivery)
            except (grpc.aio.AioRpcError, VerificationError, TimeoutError, LookupError) as error:
                failures = self._failures.get(peer, 0) + 1
                self._failures[peer] = failures
                wait = backoff(failures, self.settings)
                self._resting_until[peer] = time.monotonic() + wait
                reason = _describe(error)
                log.warning(
                    "delivery of %s %s to %s failed (%s); next try in %.1f s",
                    delivery.kind,
                    delivery.record_id,
                    peer,
                    reason,
                    wait,
                )
                await runtime.off_loop(
                    runtime.store.delivery_failed, delivery.seq, runtime.clock() + timedelta(seconds=wait), reason
                )
                return delivered
            self._failures.pop(peer, None)
            delivered += 1
        return delivered

    async def _deliver(self, delivery: Delivery) -> None:
        """Send one delivery, verify the peer's signed receipt, and mark it done with the receipt's digest."""
        runtime, federation = self.federation.runtime, self.federation
        stored = await runtime.read(runtime.store.get, delivery.record_id)
        if stored is None:
            raise LookupError(f"record {delivery.record_id} is not in the store")
        manifest, peer, seconds = federation.manifest.manifest, delivery.peer, self.settings.timeout
        if delivery.kind is DeliveryKind.RECORD and stored.record.status is not RecordStatus.ACTIVE:
            # Repaired or withdrawn before it left: a peer must never hold it as disclosable.
            why = f"not published: the record is {stored.record.status}"
            await runtime.off_loop(runtime.store.delivery_skipped, delivery.seq, runtime.clock(), why)
            return
        async with asyncio.timeout(seconds):
            if delivery.kind is DeliveryKind.RECORD:
                disclosure = disclose(stored.sealed, frozenset(stored.record.fields))
                publication = peer_pb2.PublishRequest(record=disclosure_to_wire(disclosure))
                receipt = (await federation.clients.publish(manifest, peer, publication, seconds)).receipt
                acknowledged, logged = EventKind.RECORD_RECEIVED, EventKind.RECORD_PUBLISHED
            elif delivery.kind is DeliveryKind.REVOCATION:
                revocation = await runtime.read(runtime.store.revocation, runtime.region, delivery.record_id)
                if revocation is None:
                    raise LookupError(f"no revocation of {delivery.record_id} is kept")
                request = peer_pb2.RevokeRequest(revocation=envelope_to_wire(revocation))
                receipt = (await federation.clients.revoke(manifest, peer, request, seconds)).receipt
                acknowledged, logged = EventKind.RECORD_REVOKED, EventKind.REVOCATION_DELIVERED
            else:
                # The listing as it stands now: a later change supersedes what an earlier delivery carried.
                listing = await runtime.read(runtime.store.listing, delivery.listing_id or "")
                if listing is None:
                    raise LookupError(f"no listing {delivery.listing_id} is kept")
                signed = Envelope.seal(runtime.signing_key, LISTING_TYPE, listing.to_bytes())
                sharing = peer_pb2.ShareListingRequest(listing=envelope_to_wire(signed))
                receipt = (await federation.clients.share_listing(manifest, peer, sharing, seconds)).receipt
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
        await runtime.off_loop(runtime.store.delivered, delivery.seq, event)


def _describe(error: Exception) -> str:
    if isinstance(error, grpc.aio.AioRpcError):
        return f"{error.code().name}: {error.details()}"
    return f"{type(error).__name__}: {error}"
