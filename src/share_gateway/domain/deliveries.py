"""Deliveries to peers as a state machine, what each kind of failure does to them, and which must wait.

One delivery is one item (a record's publication, its revocation, or a listing) for one peer. The
rules here keep one item that can never be delivered from holding back every later item to that peer:

* **States** (``TRANSITIONS``): a delivery is ``pending`` until the peer's signed receipt is verified
  (``delivered``), it is closed unsent because its record stopped being disclosable (``skipped``), or
  the peer refused it for a reason that cannot change (``dead``). Only an operator brings a dead letter
  back to ``pending`` (``outbox redeliver``).
* **Failures** (``classify``): a peer that did not answer rests as a whole (there is no point calling
  a dead peer for each item); a refusal of this item that may pass (a catalog rollout, a record the peer
  does not hold yet) backs off this item only; a refusal that cannot change makes it a dead letter.
* **Order** (``waits_for``): only where causality requires it, per peer. A revocation waits for its
  record's publication, a listing for its record's publication and for the earlier delivery of the same
  listing. Everything else flows independently.

A successor of a dead letter keeps waiting (it stays ``pending``, never sent): a revocation of a record
the peer never received has nothing to revoke there, and a listing on it would only be refused as
``RECORD_NOT_HELD``. Redelivering the dead letter releases its successors once it is delivered or skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

# Machine reasons (google.rpc.ErrorInfo.reason) a peer refuses one item with, for now: retried with backoff.
RETRYABLE_REASONS = frozenset({"CATALOG_MISMATCH", "RECORD_NOT_HELD", "REPLAYED"})
# Machine reasons that say the peer as a whole cannot take anything now (its manifest expired, or it does not
# pin this node's certificate yet): it rests like a peer that is down, and no item becomes a dead letter.
PEER_REASONS = frozenset({"MANIFEST_EXPIRED", "CERTIFICATE_NOT_PINNED"})
# Machine reasons that cannot change for this item: a dead letter.
PERMANENT_REASONS = frozenset({"NOT_SHARED", "PEER_NOT_ADMITTED", "LISTING_MISMATCH"})
# Status codes of a call the peer did not answer, or could not serve at all (another version, overloaded, or
# this node's certificate not accepted): nothing about the item.
PEER_CODES = frozenset(
    {"UNAVAILABLE", "DEADLINE_EXCEEDED", "CANCELLED", "RESOURCE_EXHAUSTED", "UNIMPLEMENTED", "UNAUTHENTICATED"}
)
# Status codes of a peer that answered and refused the item itself.
REFUSAL_CODES = frozenset({"PERMISSION_DENIED", "FAILED_PRECONDITION", "INVALID_ARGUMENT"})

# The reasons of failures found on this side (no status code): why a delivery is a dead letter.
RECEIPT_NOT_VERIFIED = "RECEIPT_NOT_VERIFIED"
NOT_KEPT = "NOT_KEPT"


class DeliveryKind(StrEnum):
    RECORD = "record"
    REVOCATION = "revocation"
    LISTING = "listing"
    # A subject withdrew a consent (``record_id`` holds the consent id): independent of every other delivery.
    CONSENT_REVOCATION = "consent_revoked"
    # Where a dispute about one of this node's records stands (``listing_id`` holds the dispute id).
    DISPUTE = "dispute"


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    SKIPPED = "skipped"
    DEAD = "dead"


# Which state each step may leave from (a failed attempt keeps a delivery pending).
TRANSITIONS: Mapping[DeliveryState, frozenset[DeliveryState]] = {
    DeliveryState.PENDING: frozenset(
        {DeliveryState.PENDING, DeliveryState.DELIVERED, DeliveryState.SKIPPED, DeliveryState.DEAD}
    ),
    DeliveryState.DEAD: frozenset({DeliveryState.PENDING}),
    DeliveryState.DELIVERED: frozenset(),
    DeliveryState.SKIPPED: frozenset(),
}

# Which earlier deliveries to the same peer each kind waits for: (kind, what they must share with it).
WAITS_FOR: Mapping[DeliveryKind, tuple[tuple[DeliveryKind, str], ...]] = {
    DeliveryKind.RECORD: (),
    DeliveryKind.REVOCATION: ((DeliveryKind.RECORD, "record_id"),),
    DeliveryKind.LISTING: ((DeliveryKind.RECORD, "record_id"), (DeliveryKind.LISTING, "listing_id")),
    DeliveryKind.CONSENT_REVOCATION: (),
    # The record first, then each statement of the dispute in order.
    DeliveryKind.DISPUTE: ((DeliveryKind.RECORD, "record_id"), (DeliveryKind.DISPUTE, "listing_id")),
}


class Failure(StrEnum):
    """What a failed delivery attempt does: rest the peer, back off the item, or make it a dead letter."""

    PEER = "peer"
    ITEM = "item"
    PERMANENT = "permanent"


def classify(code: str, reason: str | None) -> Failure:
    """The failure a peer's status ``code`` and machine ``reason`` (if it sent one) stand for.

    Fails towards retrying: a refusal whose reason this node does not know is backed off, not dead-lettered
    (a newer peer may refuse for a reason that passes), so an unknown answer never loses a delivery.
    """
    if reason in PEER_REASONS or code in PEER_CODES:
        return Failure.PEER
    if reason in RETRYABLE_REASONS:
        return Failure.ITEM
    if code in REFUSAL_CODES and reason in PERMANENT_REASONS:
        return Failure.PERMANENT
    if code == "INVALID_ARGUMENT" and reason is None:
        return Failure.PERMANENT  # the peer cannot read what this node sends for the item: sending it again won't do
    return Failure.ITEM


def waits_for(kind: DeliveryKind, earlier: DeliveryKind, same_record: bool, same_listing: bool) -> bool:
    """Whether a delivery of ``kind`` must wait for an earlier, undelivered one (to the same peer)."""
    shared = {"record_id": same_record, "listing_id": same_listing}
    return any(earlier is waited and shared[key] for waited, key in WAITS_FOR[kind])


def require_transition(current: DeliveryState, target: DeliveryState) -> None:
    """Raise ``ValueError`` unless a delivery in ``current`` may go to ``target``."""
    if target not in TRANSITIONS[current]:
        raise ValueError(f"a {current} delivery cannot become {target}")
