"""The certificate revocation list: signed by the authority, canonical, versioned, every field checked."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from share_gateway.crypto.errors import BadSignature, UnknownKey
from share_gateway.crypto.keys import KeyRing, SigningKey
from share_gateway.crypto.note import sign_note
from share_gateway.federation.revocation_list import (
    RevocationList,
    RevocationListInvalid,
    RevokedCertificate,
    open_revocation_list,
    sign_revocation_list,
)

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
AUTHORITY = SigningKey.generate("share-gateway-authority")
RING = KeyRing([AUTHORITY.verifying_key])
BANK = RevokedCertificate("ab" * 32, "14157f214d973b08", "key compromise", NOW)
COURT = RevokedCertificate("01" * 32, "", "superseded", NOW - timedelta(days=1))


def test_a_signed_list_round_trips_with_its_fingerprints_as_a_set() -> None:
    listed = RevocationList(2, NOW, (BANK, COURT))
    opened = open_revocation_list(sign_revocation_list(listed, AUTHORITY), RING)
    assert opened.revocation_list == listed
    assert opened.revocation_list.fingerprints == frozenset({"ab" * 32, "01" * 32})
    assert len(opened.digest) == 64


def test_the_text_is_canonical_json_spelled_out_field_by_field() -> None:
    text = RevocationList(2, NOW, (BANK,)).text()
    assert text == (
        '{"issued":"2026-12-01T10:00:00.000000Z","revoked":[{"fingerprint":"' + "ab" * 32 + '",'
        '"reason":"key compromise","revoked_at":"2026-12-01T10:00:00.000000Z","serial":"14157f214d973b08"}],'
        '"v":1,"version":2}\n'
    )


def test_the_empty_first_list_revokes_nothing() -> None:
    opened = open_revocation_list(sign_revocation_list(RevocationList(1, NOW), AUTHORITY), RING)
    assert opened.revocation_list.fingerprints == frozenset()


def test_the_next_version_adds_certificates_and_keeps_the_first_listing_of_each() -> None:
    first = RevocationList(1, NOW, (BANK,))
    again = RevokedCertificate("ab" * 32, "", "another reason", NOW + timedelta(days=1))
    following = first.revoking([COURT, again], NOW + timedelta(days=1))
    assert following.version == 2
    assert following.issued == NOW + timedelta(days=1)
    assert set(following.revoked) == {BANK, COURT}


def test_only_the_authority_signs_a_list() -> None:
    other = SigningKey.generate("share-gateway-authority")
    with pytest.raises(UnknownKey):
        open_revocation_list(sign_revocation_list(RevocationList(1, NOW), other), RING)
    signed = sign_revocation_list(RevocationList(1, NOW, (BANK,)), AUTHORITY)
    with pytest.raises(BadSignature):
        open_revocation_list(signed.replace(b"key compromise", b"key compromisE"), RING)


def _signed_text(body: dict[str, object]) -> bytes:
    return sign_note(json.dumps(body, separators=(",", ":"), sort_keys=True) + "\n", AUTHORITY).encode()


def _body(**changes: object) -> dict[str, object]:
    return {"v": 1, "version": 2, "issued": "2026-12-01T10:00:00.000000Z", "revoked": []} | changes


ENTRY = {
    "fingerprint": "ab" * 32,
    "serial": "",
    "reason": "key compromise",
    "revoked_at": "2026-12-01T10:00:00.000000Z",
}


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        (_body(v=2), "unknown revocation list format"),
        (_body(version=0), "version is at least 1"),
        (_body(version="2"), "version is an integer"),
        (_body(version=True), "version is an integer"),
        (_body(revoked={}), "a list"),
        (_body(issued="2026-12-01T10:00:00Z"), "not an instant"),
        (_body(extra=1), "exactly v, version, issued, revoked"),
        ({"v": 1, "version": 2, "revoked": []}, "exactly v, version, issued, revoked"),
        (_body(revoked=[ENTRY, ENTRY]), "listed twice"),
        (_body(revoked=[ENTRY | {"fingerprint": "AB" * 32}]), "lowercase hex SHA-256"),
        (_body(revoked=[ENTRY | {"fingerprint": "ab" * 31}]), "lowercase hex SHA-256"),
        (_body(revoked=[ENTRY | {"serial": "0f"}]), "serial"),
        (_body(revoked=[ENTRY | {"serial": "f" * 41}]), "serial"),
        (_body(revoked=[ENTRY | {"reason": " "}]), "reason"),
        (_body(revoked=[ENTRY | {"reason": "x" * 501}]), "reason"),
        (_body(revoked=[ENTRY | {"reason": 7}]), "strings"),
        (_body(revoked=[ENTRY | {"note": "x"}]), "four fields"),
    ],
)
def test_a_list_breaking_a_rule_of_its_format_is_refused(body: dict[str, object], complaint: str) -> None:
    with pytest.raises(RevocationListInvalid, match=complaint):
        open_revocation_list(_signed_text(body), RING)


def test_a_list_in_another_spelling_of_the_same_content_is_refused() -> None:
    """One text per list: two documents of one version must be the same bytes, or the node refuses the second."""
    canonical = RevocationList(2, NOW, (BANK,)).text()
    spaced = json.dumps(json.loads(canonical), indent=1, sort_keys=True) + "\n"
    with pytest.raises(RevocationListInvalid, match="canonical"):
        open_revocation_list(sign_note(spaced, AUTHORITY).encode(), RING)


def test_entries_are_ordered_by_fingerprint_whatever_order_they_were_given_in() -> None:
    assert RevocationList(2, NOW, (BANK, COURT)).text() == RevocationList(2, NOW, (COURT, BANK)).text()


def test_a_list_without_a_time_zone_is_refused() -> None:
    with pytest.raises(RevocationListInvalid, match="time zone"):
        RevocationList(1, NOW.replace(tzinfo=None))
    with pytest.raises(RevocationListInvalid, match="time zone"):
        RevokedCertificate("ab" * 32, "", "key compromise", NOW.replace(tzinfo=None))
