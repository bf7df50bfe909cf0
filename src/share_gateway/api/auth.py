"""Identity from the verified peer certificate, never from request metadata.

asyncio interceptors cannot see the peer certificate, so servicers call
``caller`` with their context; it reads the certificate that the TLS layer
verified against the federation CA and parses its ``sgw://`` URI SAN.
"""

from __future__ import annotations

import functools
from typing import Any

import grpc

from share_gateway.crypto.pki import identity_uris
from share_gateway.domain.errors import InvalidInput, Unauthenticated
from share_gateway.domain.principals import Identity

PEM_KEY = "x509_pem_cert"


@functools.lru_cache(maxsize=4096)
def identity_of_certificate(pem: bytes) -> Identity | None:
    """The one sgw:// identity a certificate carries, or None (cached: parsing costs more than a lookup)."""
    identities = []
    for uri in identity_uris(pem):
        try:
            identities.append(Identity.from_uri(uri))
        except InvalidInput:
            continue
    return identities[0] if len(identities) == 1 else None


def caller(context: grpc.aio.ServicerContext[Any, Any]) -> Identity:
    """The verified caller; ``Unauthenticated`` (mapped like every domain error) if there is none."""
    pems = list(context.auth_context().get(PEM_KEY, ()))
    identity = identity_of_certificate(pems[0]) if pems else None
    if identity is None:
        raise Unauthenticated("a client certificate from the federation CA carrying one sgw:// identity is required")
    return identity
