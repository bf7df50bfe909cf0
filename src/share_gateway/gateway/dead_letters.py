"""Dead letters: deliveries a peer refused for a reason that cannot change, until an operator sends them again.

``redeliver`` is the operator's step (``share-gateway outbox redeliver``): the
dead letter is pending and due again, and an event says who asked and why, in
the same transaction. ``DeliveryReview`` tells a compliance officer how many
deliveries wait and how many are dead, per peer: a logged review like every
other look at the node's accountability.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from share_gateway.domain.errors import Refused
from share_gateway.domain.events import Event, EventKind, Outcome
from share_gateway.domain.policy import Denial, Principal
from share_gateway.gateway.audit import is_officer, review_event
from share_gateway.gateway.runtime import NodeRuntime, node_principal
from share_gateway.store.deliveries import PeerBacklog, QueuedDelivery
from share_gateway.store.repositories import Store
from share_gateway.store.unit_of_work import UnitOfWork


def redeliver(
    store: Store, region: str, seqs: Sequence[int], now: datetime, operator: str, reason: str
) -> list[QueuedDelivery]:
    """Make dead letters ``seqs`` of node ``region`` due now, each logged as redelivered on ``operator``'s word for
    ``reason``, in one transaction: all or none. Return the dead letters as they were.

    Raises ``NotFound`` for no such delivery, ``InvalidState`` for one that is not a dead letter.
    """

    def revive(tx: UnitOfWork) -> list[QueuedDelivery]:
        revived = [store.outbox.redeliver(tx, seq, now) for seq in seqs]
        store.events.append(tx, [_redelivered(region, dead, now, operator, reason) for dead in revived])
        return revived

    return store.write(revive)


def _redelivered(region: str, dead: QueuedDelivery, now: datetime, operator: str, reason: str) -> Event:
    """The event of one redelivery: the node acts, on an operator's word, for a stated reason."""
    details = {
        "to": node_principal(dead.peer).uri,
        "seq": str(dead.seq),
        "delivery": dead.kind.value,
        "operator": operator,
        "was": (dead.dead_reason or "")[:500],
    } | ({} if dead.listing_id is None else {"listing_id": dead.listing_id})
    node = node_principal(region)
    return Event(
        event_id=str(uuid.uuid4()),
        kind=EventKind.DELIVERY_REDELIVERED,
        at=now,
        node=region,
        actor=node.uri,
        outcome=Outcome.ALLOWED,
        reason=reason,
        details=details,
    )


@dataclass
class DeliveryReview:
    runtime: NodeRuntime

    async def backlog(self, officer: Principal) -> list[PeerBacklog]:
        """Per peer, pending deliveries and dead letters; for compliance officers, and logged either way."""
        await self.runtime.event_log.append(review_event(self.runtime, officer, "delivery_backlog"))
        if not is_officer(officer):
            raise Refused(
                Denial.NOT_A_COMPLIANCE_OFFICER, "the outbox is reviewed with a compliance officer's certificate"
            )
        return await self.runtime.read(self.runtime.store.outbox.backlog)
