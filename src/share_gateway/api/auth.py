"""Identity from the verified peer certificate, never from request metadata.

asyncio interceptors cannot see the peer certificate, so servicers call
``caller`` with their context; it reads the certificate that the TLS layer
verified against the federation CA and parses its ``sgw://`` URI SAN.
"""

from __future__ import annotations

import functools
from typing import Any

import grpc
from google.rpc import code_pb2, status_pb2
from grpc_status import rpc_status

from share_gateway.crypto.pki import identity_uris
from share_gateway.domain.errors import InvalidInput
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


async def caller(context: grpc.aio.ServicerContext[Any, Any]) -> Identity:
    """The verified caller, or abort UNAUTHENTICATED."""
    pems = list(context.auth_context().get(PEM_KEY, ()))
    identity = identity_of_certificate(pems[0]) if pems else None
    if identity is None:
        await context.abort_with_status(
            rpc_status.to_status(
                status_pb2.Status(
                    code=code_pb2.UNAUTHENTICATED,
                    message="a client certificate from the federation CA carrying one sgw:// identity is required",
                )
            )
        )
        raise AssertionError("unreachable")  # abort raises
    return identity
