"""TrustService: the manifest, catalog and revocation list in force, and every key as a C2SP verifier key.

Served on the public port beside the catalog: an outsider holding only the
authority's key verifies the three documents (the bytes as installed, never
re-encoded) and takes the node keys from the manifest.
"""

from __future__ import annotations

from typing import Any

import grpc

from share_gateway.api.errors import handles_errors
from share_gateway.domain.events import format_instant
from share_gateway.federation.manifest_keys import PublishedKey
from share_gateway.gateway import Gateway
from share_gateway.v1 import trust_pb2, trust_pb2_grpc

Context = grpc.aio.ServicerContext[Any, Any]


def published_key_to_wire(key: PublishedKey) -> trust_pb2.PublishedKey:
    start, until = key.period.start, key.period.until
    return trust_pb2.PublishedKey(
        region=key.region,
        role=key.role,
        verifier_key=key.vkey,
        in_force_from="" if start is None else format_instant(start),
        in_force_until="" if until is None else format_instant(until),
    )


class TrustServicer(trust_pb2_grpc.TrustServiceServicer):
    def __init__(self, gateway: Gateway) -> None:
        self._gateway = gateway

    @handles_errors
    async def GetTrustMaterial(
        self, request: trust_pb2.GetTrustMaterialRequest, context: Context
    ) -> trust_pb2.GetTrustMaterialResponse:
        # Read at each call: material installed at a running node is published at once.
        gateway = self._gateway
        manifest = gateway.manifest_in_force()
        revocations = gateway.certificates.in_force
        authority = gateway.revocation_settings.authority
        return trust_pb2.GetTrustMaterialResponse(
            signed_manifest=b"" if manifest is None else manifest.document,
            signed_catalog=gateway.catalog_in_force.document,
            signed_revocation_list=b"" if revocations is None else revocations.document,
            authority_keys=[] if authority is None else sorted(key.verifier_key for key in authority.values()),
            keys=[] if manifest is None else [published_key_to_wire(k) for k in manifest.manifest.published_keys()],
            region=gateway.runtime.region,
            authority_rotations=list(gateway.revocation_settings.authority_rotations),
        )
