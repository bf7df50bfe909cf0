"""Rotating keys in a development federation: a node's signing or witness key or TLS certificate, and the
authority's key.

A node's old key is retired at once and stays in the manifest (format 3), so
what it signed before verifies and nothing it signs after does; the node signs
with the new key from its next start. The authority hands over to a new key
with a statement both keys sign (``federation/authority_rotation.py``), and the
catalog, manifest and revocation list are re-signed by the new key.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from share_gateway.catalog import AUTHORITY_KEY_NAME, sign_catalog
from share_gateway.crypto.keys import KeyRing, SigningKey, VerifyingKey
from share_gateway.crypto.note import open_note
from share_gateway.crypto.pki import certificate_fingerprint
from share_gateway.devkit import MANIFEST_DAYS, Layout, node_certificate, publish, write_file
from share_gateway.domain.key_names import node_key_name, witness_key_name
from share_gateway.federation.authority_rotation import (
    ROTATIONS_DIRECTORY,
    AuthorityRotation,
    rotations_beside,
    sign_rotation,
)
from share_gateway.federation.manifest import Manifest, open_manifest, sign_manifest
from share_gateway.federation.revocation_list import open_revocation_list, sign_revocation_list


def rotate_key(layout: Layout, region: str, which: str, now: datetime) -> Manifest:
    """Replace a node's ``signing`` or ``witness`` key, or its ``tls`` certificate, and re-sign the manifest one
    version up. A key's old half is retired at ``now`` and stays in the manifest (what it signed before stays
    verifiable); a certificate is pinned by its fingerprint, which the manifest now gives for the new one.

    The node signs with the new key, or serves the new certificate, from its next start.
    """
    authority = layout.authority()
    current = open_manifest(layout.manifest.read_bytes(), KeyRing([authority.verifying_key])).manifest
    if region not in current.nodes:
        raise ValueError(f"the manifest lists no node of region {region}")
    directory = layout.node_dir(region)
    if which == "tls":
        tls = node_certificate(layout, region, now)
        old = directory / "tls.crt"
        write_file(
            directory / "retired" / f"tls-{certificate_fingerprint(old.read_bytes())[:16]}.crt", old.read_bytes()
        )
        write_file(directory / "tls.key", tls.key_pem, secret=True)
        write_file(old, tls.cert_pem)
        node = replace(current.nodes[region], tls_fingerprint=certificate_fingerprint(tls.cert_pem))
    else:
        name = node_key_name(region) if which == "signing" else witness_key_name(region)
        new = SigningKey.generate(name)
        node = current.nodes[region].rotated(which, new.verifying_key, now)  # refuses an unknown kind of key
        retired = VerifyingKey.from_pem(name, (directory / f"{which}.pub").read_bytes())
        write_file(directory / "retired" / f"{which}-{retired.key_id.hex()}.pub", retired.to_pem())
        write_file(directory / f"{which}.key", new.to_pem(), secret=True)
        write_file(directory / f"{which}.pub", new.verifying_key.to_pem())
    expires = max(current.expires, now + timedelta(days=MANIFEST_DAYS))
    manifest = replace(current, version=current.version + 1, expires=expires, nodes={**current.nodes, region: node})
    write_file(layout.manifest, sign_manifest(manifest, authority))
    return manifest


def rotate_authority(layout: Layout, now: datetime) -> AuthorityRotation:
    """Replace the authority key: the old key and the new sign a rotation kept beside the pinned ``authority.pub``,
    and the catalog, manifest and revocation list are re-signed by the new key (manifest and list one version up)."""
    old = layout.authority()
    ring = KeyRing([old.verifying_key])
    catalog = open_note(layout.catalog.read_bytes(), ring)[0]
    manifest = open_manifest(layout.manifest.read_bytes(), ring).manifest
    revocations = open_revocation_list(layout.revocation_list.read_bytes(), ring).revocation_list
    rotations = layout.authority_public_key.parent / ROTATIONS_DIRECTORY
    new = SigningKey.generate(AUTHORITY_KEY_NAME)
    sequence = len(rotations_beside(layout.authority_public_key)) + 1
    rotation = AuthorityRotation(sequence, old.verifying_key, new.verifying_key, now)
    write_file(rotations / f"{rotation.sequence:04d}.signed", sign_rotation(rotation, old, new))
    write_file(layout.authority_key, new.to_pem(), secret=True)
    write_file(layout.catalog, sign_catalog(catalog, new))
    write_file(layout.manifest, sign_manifest(replace(manifest, version=manifest.version + 1), new))
    publish(
        layout.revocation_list,
        sign_revocation_list(replace(revocations, version=revocations.version + 1, issued=now), new),
    )
    return rotation
