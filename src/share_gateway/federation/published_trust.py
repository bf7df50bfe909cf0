"""What an outsider checks in the trust material a node publishes (TrustService), with the authority's key only.

0. The authority key in force is the pinned one, followed through the rotations served (each signed by the key
   before it and by the key it names: ``authority_rotation.follow_rotations``); a node cannot forge one.
1. The catalog is a note the authority signed.
2. The manifest (if the node is in a federation) is a note the authority signed, and pins that catalog.
3. The revocation list (if any) is a note the authority signed.
4. The verifier keys the node lists beside them are exactly those of the verified manifest: a node cannot slip
   in a key the authority did not publish, because the keys an outsider uses are taken from the manifest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from share_gateway.catalog import SignedCatalog, open_catalog
from share_gateway.crypto.keys import KeyRing, VerifyingKey
from share_gateway.domain.errors import DomainError
from share_gateway.federation.authority_rotation import follow_rotations
from share_gateway.federation.manifest import SignedManifest, open_manifest
from share_gateway.federation.manifest_keys import ManifestInvalid, PublishedKey
from share_gateway.federation.revocation_list import SignedRevocationList, open_revocation_list


class PublishedTrustInvalid(DomainError):
    """The documents verify, but do not agree with each other or with the keys listed beside them."""


@dataclass(frozen=True)
class PublishedTrust:
    catalog: SignedCatalog
    manifest: SignedManifest | None
    revocation_list: SignedRevocationList | None

    @property
    def keys(self) -> tuple[PublishedKey, ...]:
        """The node keys an outsider may use: the verified manifest's, never the node's own say-so."""
        return () if self.manifest is None else self.manifest.manifest.published_keys()


def authority_in_force(pinned: VerifyingKey, rotations: Iterable[bytes]) -> KeyRing:
    """Step 0: the key the documents must be signed by, reached from the pinned key alone."""
    return KeyRing([follow_rotations(pinned, list(rotations))])


def verify_published_trust(
    catalog: bytes,
    manifest: bytes,
    revocation_list: bytes,
    listed: Iterable[tuple[str, str, str]],
    authority: KeyRing,
) -> PublishedTrust:
    """Check the documents as served (``b""``: not held) and the listed ``(region, role, verifier key)``."""
    signed_catalog = open_catalog(catalog, authority)  # step 1
    signed_manifest = open_manifest(manifest, authority) if manifest else None  # step 2
    if signed_manifest is not None and signed_manifest.manifest.catalog_digest != signed_catalog.digest:
        raise ManifestInvalid(
            f"manifest version {signed_manifest.manifest.version} pins another catalog than the one served"
        )
    revocations = open_revocation_list(revocation_list, authority) if revocation_list else None  # step 3
    trust = PublishedTrust(signed_catalog, signed_manifest, revocations)
    expected = sorted((key.region, key.role, key.vkey) for key in trust.keys)  # step 4
    if sorted(listed) != expected:
        raise PublishedTrustInvalid("the verifier keys listed are not those of the authority-signed manifest")
    return trust
