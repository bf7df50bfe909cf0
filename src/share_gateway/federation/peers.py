"""Channels to peer nodes, each presenting this node's own certificate (its identity is sgw://node/<region>).

``PeerClients`` is the one place a node speaks PeerService as a client: it
takes and returns signed domain objects (envelopes, disclosures) and turns a
failed call into ``PeerError``, so the use cases above never see gRPC.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf.message import Message
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from share_gateway import tracing
from share_gateway.config import TlsMaterial
from share_gateway.crypto.disclosure import Disclosure
from share_gateway.crypto.envelope import Envelope
from share_gateway.domain.errors import Citation
from share_gateway.domain.principals import node_host_name
from share_gateway.federation.manifest import Manifest
from share_gateway.federation.wire import (
    citation_from_wire,
    disclosure_from_wire,
    disclosure_to_wire,
    envelope_from_wire,
    envelope_to_wire,
)
from share_gateway.v1 import peer_pb2, peer_pb2_grpc

# What a retired channel's calls in flight may still take before it is closed under them.
RETIRE_GRACE = 30.0
# Status codes by which a peer refuses a request (it answered, and said no), as against failing to answer.
_REFUSALS = frozenset(
    code.name
    for code in (
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.UNAUTHENTICATED,
    )
)


class PeerError(Exception):
    """A call to a peer that did not succeed: the status it ended with and, if the peer said, why."""

    def __init__(self, code: str, details: str, reason: str | None = None, metadata: dict[str, str] | None = None):
        super().__init__(f"{code}: {details}")
        self.code = code
        self.details = details
        # The machine reason of the peer's google.rpc.ErrorInfo (such as CATALOG_MISMATCH), if it sent one.
        self.reason = reason
        self.metadata = metadata or {}
        self.timed_out = code == grpc.StatusCode.DEADLINE_EXCEEDED.name
        self.refused = code in _REFUSALS

    @classmethod
    def of(cls, error: grpc.aio.AioRpcError) -> PeerError:
        info = error_info(error)
        reason = None if info is None else info.reason
        return cls(error.code().name, error.details() or "", reason, None if info is None else dict(info.metadata))


@dataclass(frozen=True, slots=True)
class PeerAnswer:
    """A peer's answer to a forwarded inquiry, as received: nothing of it is verified yet."""

    receipt: Envelope
    disclosures: tuple[Disclosure, ...]
    citations: tuple[Citation, ...]
    # The answering node's signed dispute marks (checked against its own records of the answer before use).
    disputes: tuple[Envelope, ...] = ()


def _none_revoked() -> frozenset[str]:
    return frozenset()


# Told of every call to a peer once it ended: the peer's region, the method, the status code and its seconds.
Observe = Callable[[str, str, str, float], None]


def _unobserved(region: str, method: str, code: str, seconds: float) -> None:
    return None


@dataclass
class PeerClients:
    tls: TlsMaterial
    # The certificate fingerprints the authority revoked (read at each call: a newer list applies at once).
    # grpcio does not show a client the certificate the server presented, so a peer is refused only when the
    # certificate its manifest pins is revoked; a thief presenting a revoked certificate as the server still
    # receives calls, signed ones it cannot forge answers to without the peer's signing key.
    revoked: Callable[[], frozenset[str]] = _none_revoked
    # Each call's outcome, for the node's metrics (``gateway.telemetry.Recorder.peer_call``).
    observe: Observe = _unobserved
    # region -> (endpoint, channel, stub); a new manifest may move a peer to another endpoint.
    _stubs: dict[str, tuple[str, grpc.aio.Channel, peer_pb2_grpc.PeerServiceAsyncStub]] = field(default_factory=dict)
    _closing: dict[asyncio.Task[None], grpc.aio.Channel] = field(default_factory=dict)

    def _stub(self, manifest: Manifest, region: str) -> peer_pb2_grpc.PeerServiceAsyncStub:
        endpoint = manifest.nodes[region].endpoint
        known = self._stubs.get(region)
        if known is not None and known[0] == endpoint:
            return known[2]
        self._retire(region)
        credentials = grpc.ssl_channel_credentials(self.tls.ca, self.tls.key, self.tls.certificate)
        # The peer must present a certificate naming its region, not merely one from the federation's CA.
        options = [
            ("grpc.max_receive_message_length", 16 << 20),
            ("grpc.ssl_target_name_override", node_host_name(region)),
        ]
        channel = grpc.aio.secure_channel(endpoint, credentials, options=options)
        stub = peer_pb2_grpc.PeerServiceStub(channel)
        self._stubs[region] = (endpoint, channel, stub)
        return stub

    def _retire(self, region: str) -> None:
        """Drop a region's channel; the calls still on it get ``RETIRE_GRACE`` to finish."""
        known = self._stubs.pop(region, None)
        if known is not None:
            task = asyncio.create_task(known[1].close(grace=RETIRE_GRACE))
            self._closing[task] = known[1]
            task.add_done_callback(lambda done: self._closing.pop(done, None))

    async def _call(self, manifest: Manifest, region: str, method: str, request: Message, seconds: float) -> Any:
        """One call with ``seconds`` as its gRPC deadline, so the peer sees it too; its outcome observed, and
        (when tracing) a client span whose context travels in the call's metadata.

        A peer that could not be reached loses its channel: gRPC would otherwise fail every call
        at once until its reconnect backoff (up to two minutes) ran out, long after the peer returned.
        """
        if tracing.tracer() is None:
            return await self._observed(manifest, region, method, request, seconds, None)
        with tracing.span(
            f"share_gateway.v1.PeerService/{method}", tracing.SpanKind.CLIENT, peer_region=region, rpc_method=method
        ) as span:
            metadata: list[tuple[str, str]] = []
            tracing.inject(metadata)
            try:
                answer = await self._observed(manifest, region, method, request, seconds, tuple(metadata))
            except PeerError as error:
                tracing.failed(span, error.code)
                raise
            tracing.failed(span, "OK")
            return answer

    async def _observed(
        self,
        manifest: Manifest,
        region: str,
        method: str,
        request: Message,
        seconds: float,
        metadata: tuple[tuple[str, str], ...] | None,
    ) -> Any:
        started, code = time.perf_counter(), "CANCELLED"  # unless it ends otherwise: cancelled by our own deadline
        try:
            if manifest.nodes[region].tls_fingerprint in self.revoked():
                code = grpc.StatusCode.UNAVAILABLE.name
                raise PeerError(
                    code,
                    f"the certificate the manifest pins for region {region} is revoked: "
                    "no call until a new one is pinned",
                )
            try:
                answer = await getattr(self._stub(manifest, region), method)(
                    request, timeout=seconds, metadata=metadata
                )
            except grpc.aio.AioRpcError as error:
                code = error.code().name
                if error.code() is grpc.StatusCode.UNAVAILABLE:
                    self._retire(region)
                raise PeerError.of(error) from error
            code = "OK"
            return answer
        finally:
            self.observe(region, method, code, time.perf_counter() - started)

    async def inquire(self, manifest: Manifest, region: str, inquiry: Envelope, seconds: float) -> PeerAnswer:
        """Forward a signed inquiry; the answer's signed disclosures, citations and receipt."""
        request = peer_pb2.PeerServiceInquireRequest(inquiry=envelope_to_wire(inquiry))
        answer: peer_pb2.PeerServiceInquireResponse = await self._call(manifest, region, "Inquire", request, seconds)
        return PeerAnswer(
            envelope_from_wire(answer.receipt),
            tuple(disclosure_from_wire(wire) for wire in answer.records),
            tuple(citation_from_wire(wire) for wire in answer.citations),
            tuple(envelope_from_wire(wire) for wire in answer.disputes),
        )

    async def publish(self, manifest: Manifest, region: str, record: Disclosure, seconds: float) -> Envelope:
        """Publish a record (every field opened); the peer's signed receipt."""
        request = peer_pb2.PublishRequest(record=disclosure_to_wire(record))
        response: peer_pb2.PublishResponse = await self._call(manifest, region, "Publish", request, seconds)
        return envelope_from_wire(response.receipt)

    async def revoke(self, manifest: Manifest, region: str, revocation: Envelope, seconds: float) -> Envelope:
        """Deliver this node's signed revocation of one of its records; the peer's signed receipt."""
        request = peer_pb2.RevokeRequest(revocation=envelope_to_wire(revocation))
        response: peer_pb2.RevokeResponse = await self._call(manifest, region, "Revoke", request, seconds)
        return envelope_from_wire(response.receipt)

    async def share_listing(self, manifest: Manifest, region: str, listing: Envelope, seconds: float) -> Envelope:
        """Share this node's signed listing; the peer's signed receipt."""
        request = peer_pb2.ShareListingRequest(listing=envelope_to_wire(listing))
        response: peer_pb2.ShareListingResponse = await self._call(manifest, region, "ShareListing", request, seconds)
        return envelope_from_wire(response.receipt)

    async def share_dispute(self, manifest: Manifest, region: str, mark: Envelope, seconds: float) -> Envelope:
        """Share where a dispute about one of this node's records stands, signed; the peer's signed receipt."""
        request = peer_pb2.ShareDisputeRequest(mark=envelope_to_wire(mark))
        response: peer_pb2.ShareDisputeResponse = await self._call(manifest, region, "ShareDispute", request, seconds)
        return envelope_from_wire(response.receipt)

    async def history(self, manifest: Manifest, region: str, request: Envelope, seconds: float) -> Envelope:
        """Ask for a page of a subject's history with this node's signed request; the peer's signed page."""
        message = peer_pb2.GetHistoryRequest(request=envelope_to_wire(request))
        response: peer_pb2.GetHistoryResponse = await self._call(manifest, region, "GetHistory", message, seconds)
        return envelope_from_wire(response.page)

    async def repair(self, manifest: Manifest, region: str, request: Envelope, seconds: float) -> Envelope:
        """Carry a subject's repair application (or status question) to the record's origin; its signed answer."""
        message = peer_pb2.ForwardRepairRequest(request=envelope_to_wire(request))
        response: peer_pb2.ForwardRepairResponse = await self._call(manifest, region, "ForwardRepair", message, seconds)
        return envelope_from_wire(response.application)

    async def share_consent_revocation(
        self, manifest: Manifest, region: str, revocation: Envelope, seconds: float
    ) -> Envelope:
        """Deliver a consent withdrawal this node's subject made; the peer's signed receipt."""
        request = peer_pb2.ShareConsentRevocationRequest(revocation=envelope_to_wire(revocation))
        response: peer_pb2.ShareConsentRevocationResponse = await self._call(
            manifest, region, "ShareConsentRevocation", request, seconds
        )
        return envelope_from_wire(response.receipt)

    async def witness(
        self, manifest: Manifest, region: str, note: bytes, old_size: int, proof: list[bytes], seconds: float
    ) -> str:
        """Ask a peer to cosign this node's checkpoint, proved consistent from ``old_size``; its cosignature line."""
        request = peer_pb2.WitnessRequest(checkpoint=note, old_size=old_size, consistency_proof=proof)
        response: peer_pb2.WitnessResponse = await self._call(manifest, region, "Witness", request, seconds)
        return response.cosignature

    async def witnessed(self, manifest: Manifest, region: str, seconds: float) -> bytes:
        """The latest checkpoint of this node's log that the peer cosigned, as this node signed it (empty: none)."""
        request = peer_pb2.GetWitnessedRequest()
        response: peer_pb2.GetWitnessedResponse = await self._call(manifest, region, "GetWitnessed", request, seconds)
        return response.checkpoint

    async def close(self) -> None:
        for _, channel, _ in self._stubs.values():
            await channel.close()
        self._stubs.clear()
        for task, channel in list(self._closing.items()):
            task.cancel()
            await channel.close()


def error_info(error: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo | None:
    """The google.rpc.ErrorInfo a peer's error carries, if any: its machine reason and metadata."""
    status = rpc_status.from_call(error)
    for detail in status.details if status is not None else ():
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return info
    return None
