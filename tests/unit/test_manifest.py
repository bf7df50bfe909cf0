"""The federation manifest: signed by the authority, versions only forward, fails closed on expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from share_gateway.crypto.errors import BadSignature, UnknownKey
from share_gateway.crypto.keys import KeyRing, SigningKey
from share_gateway.federation.manifest import (
    Manifest,
    ManifestExpired,
    ManifestInvalid,
    ManifestNode,
    open_manifest,
    sign_manifest,
)

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
AUTHORITY = SigningKey.generate("share-gateway-authority")
RING = KeyRing([AUTHORITY.verifying_key])
NODES = {
    region: ManifestNode(
        region, f"node-{region}:7443", SigningKey.generate(f"share-gateway/node/{region}").verifying_key, "ab" * 32
    )
    for region in ("110000", "310000", "440000")
}


def manifest(version: int = 1, expires: datetime = NOW + timedelta(days=30)) -> Manifest:
    return Manifest(version, expires, "cd" * 32, NODES)


def test_a_signed_manifest_round_trips() -> None:
    opened = open_manifest(sign_manifest(manifest(3), AUTHORITY), RING)
    assert opened.manifest == manifest(3)
    assert len(opened.digest) == 64
    assert {key.name for key in opened.manifest.keys.values()} == {f"share-gateway/node/{r}" for r in NODES}


def test_a_tampered_or_foreign_manifest_is_refused() -> None:
    document = sign_manifest(manifest(), AUTHORITY)
    with pytest.raises(BadSignature):
        open_manifest(document.replace(b"node-110000", b"evil-110000"), RING)
    with pytest.raises(UnknownKey):
        open_manifest(sign_manifest(manifest(), SigningKey.generate("share-gateway-authority")), RING)


def test_an_expired_manifest_fails_closed() -> None:
    current = manifest(expires=NOW + timedelta(seconds=1))
    current.require_current(NOW)
    with pytest.raises(ManifestExpired):
        current.require_current(NOW + timedelta(seconds=1))


@pytest.mark.parametrize(
    ("mutation", "message"),
    [
        (lambda t: t.replace('"v":1', '"v":3'), "unknown manifest format"),
        (lambda t: t.replace('"version":1', '"version":"one"'), "malformed"),
        (lambda t: t.replace("ab" * 32, "zz" * 32, 1), "tls_fingerprint"),
        (lambda t: t.replace('"110000"', '"11000X"', 1), "malformed"),
        (lambda t: t.replace('"catalog_digest"', '"catalogue_digest"'), "malformed"),
    ],
    ids=["format", "version-type", "fingerprint", "region", "missing-digest"],
)
def test_malformed_manifests_are_refused(mutation, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ManifestInvalid, match=message):
        Manifest.parse(mutation(manifest().text()))


def test_versions_start_at_one() -> None:
    with pytest.raises(ManifestInvalid):
        manifest(version=0)
