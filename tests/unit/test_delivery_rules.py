"""What a failed delivery does, and which deliveries wait for which: the rules of ``domain.deliveries``."""

from __future__ import annotations

import pytest

from share_gateway.crypto.errors import VerificationError
from share_gateway.domain.deliveries import (
    DeliveryKind,
    DeliveryState,
    Failure,
    classify,
    require_transition,
    waits_for,
)
from share_gateway.federation.peers import PeerError
from share_gateway.gateway.outbox import NOT_IN_MANIFEST, Undeliverable, failure_of

RECORD, REVOCATION, LISTING = DeliveryKind.RECORD, DeliveryKind.REVOCATION, DeliveryKind.LISTING


@pytest.mark.parametrize(
    ("code", "reason", "failure"),
    [
        # The peer did not answer, or cannot serve anything now: the whole peer rests.
        ("UNAVAILABLE", None, Failure.PEER),
        ("DEADLINE_EXCEEDED", None, Failure.PEER),
        ("UNIMPLEMENTED", None, Failure.PEER),
        ("RESOURCE_EXHAUSTED", None, Failure.PEER),
        ("UNAUTHENTICATED", None, Failure.PEER),
        ("FAILED_PRECONDITION", "MANIFEST_EXPIRED", Failure.PEER),
        # Refused for now (a catalog rollout, a record the peer does not hold yet): this item backs off.
        ("PERMISSION_DENIED", "CATALOG_MISMATCH", Failure.ITEM),
        ("PERMISSION_DENIED", "RECORD_NOT_HELD", Failure.ITEM),
        ("FAILED_PRECONDITION", "RECORD_NOT_HELD", Failure.ITEM),
        ("INTERNAL", None, Failure.ITEM),
        # A reason this node does not know yet is retried, never dead-lettered: nothing is lost on a guess.
        ("PERMISSION_DENIED", "SOME_FUTURE_REASON", Failure.ITEM),
        ("PERMISSION_DENIED", None, Failure.ITEM),
        # Refused for a reason that cannot change: a dead letter.
        ("PERMISSION_DENIED", "NOT_SHARED", Failure.PERMANENT),
        ("PERMISSION_DENIED", "PEER_NOT_ADMITTED", Failure.PERMANENT),
        ("PERMISSION_DENIED", "CERTIFICATE_NOT_PINNED", Failure.PEER),
        ("PERMISSION_DENIED", "LISTING_MISMATCH", Failure.PERMANENT),
        ("INVALID_ARGUMENT", None, Failure.PERMANENT),
    ],
)
def test_a_failure_is_classified_by_status_and_reason(code: str, reason: str | None, failure: Failure) -> None:
    assert classify(code, reason) is failure


def test_failures_found_on_this_side_are_classified_too() -> None:
    assert failure_of(PeerError("PERMISSION_DENIED", "no", "NOT_SHARED")) == (Failure.PERMANENT, "NOT_SHARED")
    assert failure_of(PeerError("UNAVAILABLE", "down")) == (Failure.PEER, "UNAVAILABLE")
    assert failure_of(TimeoutError()) == (Failure.PEER, "DEADLINE_EXCEEDED")
    assert failure_of(VerificationError("bad receipt")) == (Failure.PERMANENT, "RECEIPT_NOT_VERIFIED")
    assert failure_of(Undeliverable(NOT_IN_MANIFEST, "gone")) == (Failure.PERMANENT, NOT_IN_MANIFEST)


@pytest.mark.parametrize(
    ("kind", "earlier", "same_record", "same_listing", "waits"),
    [
        (REVOCATION, RECORD, True, False, True),  # a record's revocation after its publication
        (REVOCATION, RECORD, False, False, False),
        (REVOCATION, REVOCATION, True, False, False),
        (REVOCATION, LISTING, True, False, False),
        (LISTING, RECORD, True, False, True),  # a listing after its record's publication
        (LISTING, LISTING, True, True, True),  # a listing's later delivery after its earlier one
        (LISTING, LISTING, True, False, False),  # another listing on the same record flows on
        (LISTING, REVOCATION, True, False, False),
        (RECORD, RECORD, True, False, False),
        (RECORD, REVOCATION, True, False, False),
        (RECORD, LISTING, True, True, False),
    ],
)
def test_only_causality_orders_deliveries(
    kind: DeliveryKind, earlier: DeliveryKind, same_record: bool, same_listing: bool, waits: bool
) -> None:
    assert waits_for(kind, earlier, same_record, same_listing) is waits


def test_only_an_operator_brings_a_dead_letter_back_and_nothing_leaves_a_closed_delivery() -> None:
    require_transition(DeliveryState.PENDING, DeliveryState.DEAD)
    require_transition(DeliveryState.DEAD, DeliveryState.PENDING)
    for closed in (DeliveryState.DELIVERED, DeliveryState.SKIPPED):
        with pytest.raises(ValueError, match="cannot become"):
            require_transition(closed, DeliveryState.PENDING)
    with pytest.raises(ValueError, match="cannot become"):
        require_transition(DeliveryState.DEAD, DeliveryState.DELIVERED)
