"""Every key as a C2SP verifier key: printed by ``pki init``; the published trust material checked with the
authority's key alone, and the keys listed beside it held to the manifest's."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
from dataclasses import replace

import pytest

from share_gateway.catalog import AUTHORITY_KEY_NAME
from share_gateway.cli import main
from share_gateway.crypto.errors import UnknownKey
from share_gateway.crypto.keys import KeyRing, SigningKey
from share_gateway.devkit import Layout
from share_gateway.federation.manifest import open_manifest, sign_manifest
from share_gateway.federation.manifest_keys import ManifestInvalid
from share_gateway.federation.published_trust import PublishedTrustInvalid, verify_published_trust

REGION = "110000"


def spec_vkey(name: str, signature_type: bytes, raw: bytes) -> str:
    """c2sp.org/signed-note, written out here: name + hex(SHA-256(name \\n type key)[:4]) + base64(type key)."""
    key_hash = hashlib.sha256(name.encode() + b"\n" + signature_type + raw).digest()[:4].hex()
    return f"{name}+{key_hash}+{base64.b64encode(signature_type + raw).decode()}"


@pytest.fixture(scope="module")
def initialised(tmp_path_factory: pytest.TempPathFactory) -> tuple[Layout, str]:
    root = tmp_path_factory.mktemp("pki")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        main(["pki", "init", "--dir", str(root), "--region", REGION])
    return Layout(root), printed.getvalue()


def test_pki_init_prints_every_key_as_a_verifier_key(initialised: tuple[Layout, str]) -> None:
    layout, printed = initialised
    authority = layout.authority().verifying_key.raw
    log = layout.node_verifying_key(REGION).raw
    witness = layout.witness_verifying_key(REGION)
    assert witness is not None
    assert spec_vkey(AUTHORITY_KEY_NAME, b"\x01", authority) in printed
    assert spec_vkey(f"share-gateway/node/{REGION}", b"\x01", log) in printed
    assert spec_vkey(f"share-gateway/witness/{REGION}", b"\x04", witness.raw) in printed


def test_pki_init_lists_the_verifier_keys_in_the_manifest(initialised: tuple[Layout, str]) -> None:
    layout, printed = initialised
    signed = open_manifest(layout.manifest.read_bytes(), KeyRing([layout.authority().verifying_key]))
    text = json.loads(signed.document.decode().split("\n\n")[0])
    assert text["v"] == 4
    for entry in (*text["nodes"][REGION]["signing_keys"], *text["nodes"][REGION]["witness_keys"]):
        assert entry["vkey"] in printed


def _documents(layout: Layout) -> tuple[bytes, bytes, bytes]:
    return layout.catalog.read_bytes(), layout.manifest.read_bytes(), layout.revocation_list.read_bytes()


def _listed(layout: Layout) -> list[tuple[str, str, str]]:
    manifest = open_manifest(layout.manifest.read_bytes(), KeyRing([layout.authority().verifying_key])).manifest
    return [(k.region, k.role, k.vkey) for k in manifest.published_keys()]


def test_the_published_material_verifies_with_the_authority_key(initialised: tuple[Layout, str]) -> None:
    layout, _ = initialised
    ring = KeyRing([layout.authority().verifying_key])
    trust = verify_published_trust(*_documents(layout), _listed(layout), ring)
    assert trust.manifest is not None
    assert trust.revocation_list is not None
    assert {k.role for k in trust.keys} == {"log", "witness"}


def test_a_key_the_manifest_does_not_list_is_refused(initialised: tuple[Layout, str]) -> None:
    layout, _ = initialised
    ring = KeyRing([layout.authority().verifying_key])
    slipped = SigningKey.generate(f"share-gateway/node/{REGION}").verifying_key.verifier_key
    listed = [(r, role, slipped if role == "log" else vkey) for r, role, vkey in _listed(layout)]
    with pytest.raises(PublishedTrustInvalid):
        verify_published_trust(*_documents(layout), listed, ring)


def test_documents_from_another_authority_are_refused(initialised: tuple[Layout, str]) -> None:
    layout, _ = initialised
    stranger = KeyRing([SigningKey.generate(AUTHORITY_KEY_NAME).verifying_key])
    with pytest.raises(UnknownKey):
        verify_published_trust(*_documents(layout), _listed(layout), stranger)


def test_a_manifest_pinning_another_catalog_is_refused(initialised: tuple[Layout, str]) -> None:
    layout, _ = initialised
    authority = layout.authority()
    ring = KeyRing([authority.verifying_key])
    manifest = open_manifest(layout.manifest.read_bytes(), ring).manifest
    other = sign_manifest(replace(manifest, catalog_digest="00" * 32), authority)
    catalog, _, revocations = _documents(layout)
    with pytest.raises(ManifestInvalid, match="another catalog"):
        verify_published_trust(catalog, other, revocations, _listed(layout), ring)
