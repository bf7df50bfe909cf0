"""Helpers for tests of a three-region federation (fixtures ``layout`` and ``nodes`` in tests/integration).

A node is addressed by its ``Node`` (in this process), by its port (a node in its own process, on the loopback) or
by its ``host:port`` (a node in a network namespace of its own).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import grpc

from share_gateway.catalog import open_catalog
from share_gateway.client import credentials, open_channel
from share_gateway.crypto.envelope import Envelope
from share_gateway.crypto.keys import KeyRing, SigningKey
from share_gateway.devkit import Layout
from share_gateway.domain.events import Event
from share_gateway.domain.identifiers import Subject
from share_gateway.federation.messages import PEER_INQUIRY_TYPE, PeerInquiry
from share_gateway.federation.wire import envelope_to_wire
from share_gateway.node import Node
from share_gateway.v1 import inquiry_pb2, inquiry_pb2_grpc, peer_pb2, peer_pb2_grpc, registry_pb2_grpc
from tests.consents import consenting_channel, signed_consent
from tests.support import COMPANY, entity, inquiry, penalty_request

REGIONS = ("110000", "310000", "440000")
Nodes = dict[str, Node]
Target = Node | int | str
OK, TIMEOUT, UNAVAILABLE, REFUSED, INVALID = (
    inquiry_pb2.REGION_STATUS_OK,
    inquiry_pb2.REGION_STATUS_TIMEOUT,
    inquiry_pb2.REGION_STATUS_UNAVAILABLE,
    inquiry_pb2.REGION_STATUS_REFUSED,
    inquiry_pb2.REGION_STATUS_INVALID,
)


def _address(target: Target) -> str:
    if isinstance(target, str):
        return target
    return f"localhost:{target.port if isinstance(target, Node) else target}"


def channel(layout: Layout, target: Target, name: str) -> grpc.aio.Channel:
    files = layout.client(name)
    return consenting_channel(_address(target), files, credentials(files.certificate, files.key, files.ca))


def peer_call(layout: Layout, target: Target, as_region: str) -> peer_pb2_grpc.PeerServiceAsyncStub:
    """A PeerService stub presenting ``as_region``'s node certificate."""
    directory = layout.node_dir(as_region)
    creds = credentials(directory / "tls.crt", directory / "tls.key", layout.ca_certificate)
    return peer_pb2_grpc.PeerServiceStub(open_channel(_address(target), creds))


def events(node: Node) -> list[Event]:
    return [Event.from_bytes(body) for _, body in node.gateway.store.events.read()]


async def seed(layout: Layout, targets: Mapping[str, Target]) -> None:
    """One penalty about the same company recorded in each region."""
    for region, target in targets.items():
        async with channel(layout, target, "regulator") as agency:
            await registry_pb2_grpc.RegistryServiceStub(agency).SubmitRecord(penalty_request(f"p-{region}"), timeout=5)


async def federated(layout: Layout, target: Target, deadline: float = 10) -> inquiry_pb2.InquireResponse:
    """The bank's loan-underwriting inquiry about the company, across the federation."""
    request = inquiry("loan_underwriting", consent="AUTH-1")
    request.scope = inquiry_pb2.INQUIRY_SCOPE_FEDERATION
    async with channel(layout, target, "bank") as bank:
        return await inquiry_pb2_grpc.InquiryServiceStub(bank).Inquire(request, timeout=deadline)


def statuses(answer: inquiry_pb2.InquireResponse) -> dict[str, int]:
    return {r.region: r.status for r in answer.regions}


def signed_inquiry(layout: Layout, origin: str, **changes: object) -> peer_pb2.PeerServiceInquireRequest:
    """A peer inquiry as ``origin``'s node signs one (with ``changes`` to what it says)."""
    catalog = open_catalog(layout.catalog.read_bytes(), KeyRing([layout.authority().verifying_key]))
    values: dict[str, object] = {
        "origin": origin,
        "requester_uri": "sgw://institution/91110000MA0000001L",
        "requester_kind": "bank",
        "granted": True,
        "subject": Subject.parse("legal_entity", COMPANY),
        "purpose": "loan_underwriting",
        "consent_reference": "",
        "consent": signed_consent(
            layout.client("bank"), entity(), "sgw://institution/91110000MA0000001L", attested=True
        ),
        "record_types": (),
        "catalog_digest": catalog.digest,
        "at": datetime.now(UTC),
    } | changes
    key = SigningKey.load(f"share-gateway/node/{origin}", layout.node_dir(origin) / "signing.key")
    envelope = Envelope.seal(key, PEER_INQUIRY_TYPE, PeerInquiry.new(**values).to_bytes())
    return peer_pb2.PeerServiceInquireRequest(inquiry=envelope_to_wire(envelope))
