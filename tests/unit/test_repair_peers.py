"""Repair at any node: the signed request an intake node carries to the origin, and the origin's signed answer."""

from __future__ import annotations

from dataclasses import replace

import pytest

from share_gateway.crypto.consent import SignedConsent
from share_gateway.crypto.envelope import Envelope
from share_gateway.crypto.errors import VerificationError
from share_gateway.crypto.keys import KeyRing, SigningKey
from share_gateway.domain.repair_status import REPAIR_STATUS_TYPE, RepairStatus
from share_gateway.federation.messages import digest
from share_gateway.federation.repair_request import APPLY, PEER_REPAIR_TYPE, PeerRepairRequest
from share_gateway.gateway.repair_peers import checked_status
from tests.unit.test_repair import NOW, application

ORIGIN, INTAKE = SigningKey.generate("share-gateway/node/110000"), SigningKey.generate("share-gateway/node/310000")
KEYS = KeyRing([ORIGIN.verifying_key, INTAKE.verifying_key])


def request() -> PeerRepairRequest:
    submitted = application()
    return PeerRepairRequest.new(
        origin="310000",
        requester_uri="sgw://institution/91110105MA01ABCD00",
        subject=submitted.subject,
        action=APPLY,
        record_id=submitted.record_id,
        application_id="",
        evidence="缴款书",
        commitment="承诺",
        claim="",
        catalog_digest="ab" * 32,
        at=NOW,
    )


def test_repair_request_and_status_are_canonical_and_permanent() -> None:
    """Signed formats are permanent: what was written parses back the same, and only canonical bytes parse."""
    carried = request()
    assert PeerRepairRequest.from_bytes(carried.to_bytes()) == carried
    status = RepairStatus("110000", "cd" * 32, replace(application(), evidence="", commitment=""))
    assert RepairStatus.from_bytes(status.to_bytes()) == status
    with pytest.raises(ValueError, match="canonical"):
        PeerRepairRequest.from_bytes(carried.to_bytes().replace(b'{"action"', b'{ "action"'))


def test_origin_answer_must_be_signed_by_origin_for_this_request() -> None:
    """The intake node relays only what the origin signed for this very request, about this record."""
    carried = request()
    signed = Envelope.seal(INTAKE, PEER_REPAIR_TYPE, carried.to_bytes())
    good = RepairStatus("110000", digest(signed.payload), application())
    answer = Envelope.seal(ORIGIN, REPAIR_STATUS_TYPE, good.to_bytes())
    assert checked_status(ORIGIN.key_id, KEYS, "110000", answer, signed).application_id == "a-1"
    forged = Envelope.seal(INTAKE, REPAIR_STATUS_TYPE, good.to_bytes())
    with pytest.raises(VerificationError, match="not signed by region"):
        checked_status(ORIGIN.key_id, KEYS, "110000", forged, signed)
    other = Envelope.seal(ORIGIN, REPAIR_STATUS_TYPE, replace(good, request_digest="00" * 32).to_bytes())
    with pytest.raises(VerificationError, match="another request"):
        checked_status(ORIGIN.key_id, KEYS, "110000", other, signed)
    elsewhere = replace(good, application=replace(application(), record_id="r-2"))
    moved = Envelope.seal(ORIGIN, REPAIR_STATUS_TYPE, elsewhere.to_bytes())
    with pytest.raises(VerificationError, match="another record"):
        checked_status(ORIGIN.key_id, KEYS, "110000", moved, signed)


def test_agents_mandate_travels_as_signed_in_format_2_and_the_answer_names_it() -> None:
    """An agent's mandate goes with the carried application exactly as the subject signed it (2025 No. 22: an
    agent applies with the subject's mandate), in format 2; a request without one stays format 1, and the
    origin's answer must name the very mandate carried."""
    plain = request()
    assert b'"v":1' in plain.to_bytes()
    assert b"mandate" not in plain.to_bytes()
    mandate = SignedConsent(b'{"consent":"statement"}', b"\x30\x45signature", b"-----BEGIN CERTIFICATE-----\n")
    carried = replace(plain, requester_uri="sgw://institution/91110000MA0000001L", mandate=mandate)
    assert b'"v":2' in carried.to_bytes()
    assert PeerRepairRequest.from_bytes(carried.to_bytes()) == carried
    # A format 1 request with a mandate slipped in is not canonical.
    slipped = carried.to_bytes().replace(b'"v":2', b'"v":1')
    with pytest.raises(ValueError, match="canonical"):
        PeerRepairRequest.from_bytes(slipped)
    signed = Envelope.seal(INTAKE, PEER_REPAIR_TYPE, carried.to_bytes())
    under = replace(application(), evidence="", commitment="", mandate_id=mandate.consent_id)
    status = RepairStatus("110000", digest(signed.payload), under)
    assert RepairStatus.from_bytes(status.to_bytes()) == status
    answer = Envelope.seal(ORIGIN, REPAIR_STATUS_TYPE, status.to_bytes())
    assert checked_status(ORIGIN.key_id, KEYS, "110000", answer, signed).mandate_id == mandate.consent_id
    unnamed = Envelope.seal(ORIGIN, REPAIR_STATUS_TYPE, replace(status, application=application()).to_bytes())
    with pytest.raises(VerificationError, match="another mandate"):
        checked_status(ORIGIN.key_id, KEYS, "110000", unnamed, signed)
