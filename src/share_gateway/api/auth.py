"""Identity from the verified peer certificate, never from request metadata.

asyncio interceptors cannot see the peer certificate, so servicers call
``caller`` with their context; it reads the certificate that the TLS layer
verified against the federation CA and parses its ``sgw://`` URI SAN.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import grpc

from share_gateway.crypto.pki import certificate_fingerprint, identity_uris
from share_gateway.domain.errors import InvalidInput, Unauthenticated
from share_gateway.domain.policy import Principal
from share_gateway.domain.principals import Identity, Role, roles_of
from share_gateway.gateway import Gateway

PEM_KEY = "x509_pem_cert"


@dataclass(frozen=True, slots=True)
class Caller:
    identity: Identity
    roles: frozenset[Role]
    # SHA-256 of the certificate (DER), hex: what a federation manifest pins for a node.
    fingerprint: str


@functools.lru_cache(maxsize=4096)
def caller_of_certificate(pem: bytes) -> Caller | None:
    """The one sgw:// identity a certificate carries, with its roles, or None (cached: parsing costs more)."""
    uris = identity_uris(pem)
    identities = []
    for uri in uris:
        try:
            identities.append(Identity.from_uri(uri))
        except InvalidInput:
            continue
    if len(identities) != 1:
        return None
    return Caller(identities[0], roles_of(uris), certificate_fingerprint(pem))


def caller(context: grpc.aio.ServicerContext[Any, Any]) -> Caller:
    """The verified caller; ``Unauthenticated`` (mapped like every domain error) if there is none."""
    pems = list(context.auth_context().get(PEM_KEY, ()))
    verified = caller_of_certificate(pems[0]) if pems else None
    if verified is None:
        raise Unauthenticated("a client certificate from the federation CA carrying one sgw:// identity is required")
    return verified


async def calling_principal(gateway: Gateway, context: grpc.aio.ServicerContext[Any, Any]) -> Principal:
    """The verified caller as the node's registry describes it."""
    verified = caller(context)
    return await gateway.runtime.principal(verified.identity, verified.roles)
