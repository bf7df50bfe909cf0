"""The signed catalog document: YAML inside a C2SP signed note by the federation authority.

A node installs a catalog only when the authority's signature holds; an
unsigned or tampered document is refused. The digest (SHA-256 of the signed
text) is what a federation manifest pins.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources

from share_gateway.crypto.keys import KeyRing, SigningKey
from share_gateway.crypto.note import open_note, sign_note
from share_gateway.domain.catalog import Catalog

AUTHORITY_KEY_NAME = "share-gateway-authority"


@dataclass(frozen=True)
class SignedCatalog:
    catalog: Catalog
    document: bytes
    digest: str


def sample_catalog_text() -> str:
    """The sample catalog shipped with the package (unsigned YAML)."""
    return (resources.files(__package__) / "sample.yaml").read_text(encoding="utf-8")


def sign_catalog(text: str, authority: SigningKey) -> bytes:
    """Sign a catalog after checking that it parses: a broken catalog is never signed."""
    Catalog.from_yaml(text)
    if not text.endswith("\n"):
        text += "\n"
    return sign_note(text, authority).encode()


def open_catalog(document: bytes, authority: KeyRing) -> SignedCatalog:
    """Verify the authority's signature, then parse; raise on either failure."""
    text, _ = open_note(document, authority)
    return SignedCatalog(Catalog.from_yaml(text), document, hashlib.sha256(text.encode()).hexdigest())
