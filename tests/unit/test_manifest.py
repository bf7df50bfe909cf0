"""The federation manifest: signed by the authority, versions only forward, fails closed on expiry."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from share_gateway.crypto.cosignature import CosignerKey
from share_gateway.crypto.errors import BadSignature, UnknownKey
from share_gateway.crypto.keys import KeyRing, SigningKey
from share_gateway.federation.manifest import (
    Manifest,
    ManifestExpired,
    ManifestNode,
    open_manifest,
    sign_manifest,
)
from share_gateway.federation.manifest_keys import ManifestInvalid

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
        (lambda t: t.replace('"v":1', '"v":5'), "unknown manifest format"),
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


WITNESSES = {region: SigningKey.generate(f"share-gateway/witness/{region}").verifying_key for region in NODES}


def witnessed(version: int = 1) -> Manifest:
    nodes = {region: replace(node, witness_key=WITNESSES[region]) for region, node in NODES.items()}
    return Manifest(version, NOW + timedelta(days=30), "cd" * 32, nodes)


def test_format_two_lists_each_nodes_witness_key_and_the_peers_that_witness_a_log() -> None:
    opened = open_manifest(sign_manifest(witnessed(4), AUTHORITY), RING).manifest
    assert '"v":2' in opened.text()
    assert opened == witnessed(4)
    witnesses = opened.witnesses_of("110000")
    assert [w.region for w in witnesses] == ["310000", "440000"]
    assert [k.name for w in witnesses for k in w.keys] == [f"share-gateway/witness/{r}" for r in ("310000", "440000")]
    assert witnesses[0].keys[0].raw == WITNESSES["310000"].raw
    assert witnesses[0].log_key == NODES["310000"].signing_key  # what a legacy cosignature line was signed with


def test_a_format_one_manifest_still_parses_with_no_witnesses() -> None:
    text = manifest().text()
    assert '"v":1' in text, "a manifest without witness keys is written as before"
    old = open_manifest(sign_manifest(manifest(), AUTHORITY), RING).manifest
    assert all(node.witness_key is None for node in old.nodes.values())
    assert old.witnesses_of("110000") == ()
    # A format-1 document is read by its own rules: a witness key there is nothing the authority meant.
    injected = witnessed().text().replace('"v":2', '"v":1')
    assert Manifest.parse(injected).witnesses_of("110000") == ()


def test_a_witness_key_must_not_be_the_log_key() -> None:
    node = NODES["110000"]
    with pytest.raises(ManifestInvalid, match="witness key must not be the log key"):
        replace(node, witness_key=node.signing_key)
    text = (
        witnessed()
        .text()
        .replace(base64.b64encode(WITNESSES["110000"].raw).decode(), base64.b64encode(node.signing_key.raw).decode())
    )
    with pytest.raises(ManifestInvalid, match="witness key must not be the log key"):
        Manifest.parse(text)


def test_two_keys_under_one_key_id_are_refused() -> None:
    """A verifier finds a key by its 4-byte id: a second key under one id would stand in for the first."""
    nodes = dict(NODES)
    nodes["310000"] = replace(NODES["310000"], signing_key=NODES["110000"].signing_key)
    with pytest.raises(ManifestInvalid, match="share a key id"):
        Manifest(1, NOW + timedelta(days=30), "cd" * 32, nodes)
    nodes = {region: replace(node, witness_key=WITNESSES["110000"]) for region, node in NODES.items()}
    with pytest.raises(ManifestInvalid, match="share a key id"):
        Manifest(1, NOW + timedelta(days=30), "cd" * 32, nodes)


# --- format 4: every key also as a C2SP verifier key --------------------------------------------------------


def _with_witnesses() -> Manifest:
    nodes = {
        region: replace(node, witness_key=SigningKey.generate(f"share-gateway/witness/{region}").verifying_key)
        for region, node in NODES.items()
    }
    return Manifest(1, NOW + timedelta(days=30), "cd" * 32, nodes, verifier_keys=True)


def test_format_4_lists_each_key_as_a_verifier_key_and_round_trips() -> None:
    current = _with_witnesses()
    body = json.loads(current.text())
    assert body["v"] == 4
    entry = body["nodes"]["110000"]["signing_keys"][-1]
    node = current.nodes["110000"]
    assert entry["vkey"] == node.signing_key.verifier_key
    assert entry["vkey"].startswith("share-gateway/node/110000+")
    witness = body["nodes"]["110000"]["witness_keys"][-1]["vkey"]
    assert witness == CosignerKey.of(node.witness_key).verifier_key  # type: ignore[arg-type]
    assert base64.b64decode(witness.split("+", 2)[2])[0] == 0x04  # tlog-cosignature's type, not the note's 0x01
    opened = open_manifest(sign_manifest(current, AUTHORITY), RING).manifest
    assert opened == current
    assert [key.vkey for key in opened.published_keys()][:2] == [
        node.signing_key.verifier_key,
        CosignerKey.of(node.witness_key).verifier_key,  # type: ignore[arg-type]
    ]


def test_a_manifest_without_verifier_keys_is_written_as_before() -> None:
    assert json.loads(manifest().text())["v"] == 1
    assert "vkey" not in manifest().text()


def test_a_format_4_verifier_key_that_is_not_its_keys_is_refused() -> None:
    body = json.loads(_with_witnesses().text())
    other = SigningKey.generate("share-gateway/node/110000").verifying_key.verifier_key
    body["nodes"]["110000"]["signing_keys"][-1]["vkey"] = other
    with pytest.raises(ManifestInvalid, match="vkey is not the verifier key"):
        Manifest.parse(json.dumps(body) + "\n")
    del body["nodes"]["110000"]["signing_keys"][-1]["vkey"]
    with pytest.raises(ManifestInvalid, match="with vkey"):
        Manifest.parse(json.dumps(body) + "\n")


def test_re_signing_keeps_format_4() -> None:
    again = replace(_with_witnesses(), version=2)
    assert json.loads(open_manifest(sign_manifest(again, AUTHORITY), RING).manifest.text())["v"] == 4
