"""Identity from the verified peer certificate, never from request metadata.

asyncio interceptors cannot see the peer certificate, so servicers call
``calling_principal`` (client services) or ``calling_peer`` (PeerService)
with their context; both read the certificate that the TLS layer verified
against the federation CA, parse its ``sgw://`` URI SAN, refuse it if the
authority's revocation list revokes it (grpcio has no CRL hook), and apply
the roles: node identities call PeerService only, and only with the
certificate the manifest pins for their region; clients never call it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import grpc

from share_gateway.crypto.pki import certificate_fingerprint, identity_uris
from share_gateway.domain.errors import InvalidInput, Refused, Unauthenticated
from share_gateway.domain.events import EventKind
from share_gateway.domain.policy import Denial, Principal
from share_gateway.domain.principals import Identity, IdentityKind, Role, roles_of
from share_gateway.gateway import Gateway
from share_gateway.gateway.federation import FederationDesk

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


def certified_caller(context: grpc.aio.ServicerContext[Any, Any]) -> Caller:
    """The caller the TLS layer verified; ``Unauthenticated`` (mapped like every domain error) if there is none."""
    pems = list(context.auth_context().get(PEM_KEY, ()))
    verified = caller_of_certificate(pems[0]) if pems else None
    if verified is None:
        raise Unauthenticated("a client certificate from the federation CA carrying one sgw:// identity is required")
    return verified


async def caller(gateway: Gateway, context: grpc.aio.ServicerContext[Any, Any]) -> Caller:
    """The verified caller, unless the authority revoked its certificate (refused, and logged once per window)."""
    verified = certified_caller(context)
    if verified.fingerprint in gateway.certificates.revoked:
        await gateway.certificates.refuse(verified.identity, verified.fingerprint)
    return verified


async def calling_principal(gateway: Gateway, context: grpc.aio.ServicerContext[Any, Any]) -> Principal:
    """The verified client as the node's registry describes it: a node identity is no client.

    A node acts for its region on PeerService only; anywhere else its certificate (a peer's, or a
    stolen or re-issued one) would act as a local agency, requester or officer.
    """
    verified = await caller(gateway, context)
    if verified.identity.kind is IdentityKind.NODE:
        # A peer's node certificate, or a stolen one, probing client services: logged like a peer's refusal.
        why = f"{verified.identity.uri} is a node identity: node certificates call PeerService only"
        await gateway.refusals.refused(EventKind.PEER_REFUSED, verified.identity, Denial.NOT_A_CLIENT.value, why)
        raise Refused(Denial.NOT_A_CLIENT, why)
    return await gateway.runtime.principal(verified.identity, verified.roles)


async def calling_peer(gateway: Gateway, context: grpc.aio.ServicerContext[Any, Any]) -> tuple[FederationDesk, str]:
    """The calling node's region, once the manifest admits the very certificate it presents; clients never."""
    verified = await caller(gateway, context)
    federation = gateway.federation
    if verified.identity.kind is not IdentityKind.NODE or federation is None:
        raise Refused(Denial.PEER_NOT_ADMITTED, "only nodes of this node's federation exchange records")
    region = verified.identity.identifier
    federation.admit(region, verified.fingerprint)
    return federation, region
