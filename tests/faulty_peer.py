"""A misbehaving peer in its own process, holding one region's manifest entry (its certificate and signing key).

    python -m tests.faulty_peer <federation dir> <region> <behaviour> [seconds]

It listens on the region's endpoint with mTLS and answers PeerService.Inquire:

* ``slow``: says "received" on stdout, then answers only after ``seconds``;
* ``gated``: says "received" on stdout, then answers once the file ``<federation dir>/gate`` exists (or after
  ``seconds``), so a test holds calls in flight for as long as it needs;
* ``forged``: answers at once with a correct receipt but a record whose value was changed after signing;
* ``impostor:<other region>``: answers honestly-shaped, but presents the other region's TLS certificate;
* ``witness-legacy``: cosigns any checkpoint with a plain signature by its *log* key (the pre-C2SP form);
* ``witness-forged``: cosigns with its witness key, but over another checkpoint body (a bad signature);
* ``witness-future``: cosigns correctly with its witness key, but dated a day ahead.
  Either says "witnessed" on stdout after answering.
* ``third-origin:<other region>``: answers with a nationally shared record that claims the other region as its
  origin, signed with this region's own key (opening only the fields the purpose may see);
* ``overreach``: answers with its own penalty opening every field, the ones the purpose may not see too;
* ``unasked``: answers with its own penalty (only the fields the purpose may see) whatever types were asked for.
* ``picky``: takes publications, revocations and listings with a signed receipt, except a publication about a
  subject named by a file in ``<federation dir>/refusals/``: refused (PERMISSION_DENIED) with the machine
  reason the file holds, for as long as the file is there. It says ``publish|revoke|listing <record id> ok``
  or ``publish <record id> refused <reason>`` on stdout for each call.

It prints "listening" once it accepts calls.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import yaml
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from share_gateway.api.convert import draft_from_wire
from share_gateway.catalog import open_catalog
from share_gateway.crypto.cosignature import cosign_checkpoint
from share_gateway.crypto.disclosure import disclose, seal_record, verify_disclosure
from share_gateway.crypto.envelope import Envelope
from share_gateway.crypto.keys import KeyRing, SigningKey
from share_gateway.crypto.note import NoteSignature, parse_note
from share_gateway.devkit import Layout
from share_gateway.domain.consent import CONSENT_REVOCATION_TYPE, ConsentRevocation
from share_gateway.domain.events import EVENT_MEDIA_TYPE, DisclosedRecord, Event, EventKind, Outcome
from share_gateway.domain.key_names import node_key_name, witness_key_name
from share_gateway.domain.listings import LISTING_TYPE, Listing
from share_gateway.domain.policy import Policy
from share_gateway.domain.records import admit_record
from share_gateway.domain.repair import REVOCATION_TYPE, Revocation
from share_gateway.federation.messages import PeerInquiry, digest
from share_gateway.federation.wire import (
    disclosure_from_wire,
    disclosure_to_wire,
    envelope_from_wire,
    envelope_to_wire,
)
from share_gateway.v1 import common_pb2, peer_pb2, peer_pb2_grpc, registry_pb2
from tests.support import debtor_request, penalty_request


class FaultyPeer(peer_pb2_grpc.PeerServiceServicer):
    def __init__(self, layout: Layout, region: str, behaviour: str, seconds: float) -> None:
        self.layout = layout
        self.region = region
        self.behaviour = behaviour
        self.seconds = seconds
        self.key = SigningKey.load(node_key_name(region), layout.node_dir(region) / "signing.key")
        self.catalog = open_catalog(layout.catalog.read_bytes(), KeyRing([layout.authority().verifying_key]))
        self.keys = KeyRing(layout.node_verifying_key(node) for node in _regions(layout))

    async def Inquire(
        self, request: peer_pb2.PeerServiceInquireRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> peer_pb2.PeerServiceInquireResponse:
        envelope = envelope_from_wire(request.inquiry)
        inquiry = PeerInquiry.from_bytes(envelope.payload)
        print("received", flush=True)
        if self.behaviour == "slow":
            await asyncio.sleep(self.seconds)
        elif self.behaviour == "gated":
            await self._gate_opened()
        receipt = Event(
            event_id=str(uuid.uuid4()),
            kind=EventKind.INQUIRY,
            at=datetime.now(UTC),
            node=self.region,
            actor=inquiry.requester_uri,
            outcome=Outcome.ALLOWED,
            details={"request_digest": digest(envelope.payload)},
        )
        records = self._records(inquiry)
        return peer_pb2.PeerServiceInquireResponse(
            records=records,
            receipt=envelope_to_wire(Envelope.seal(self.key, EVENT_MEDIA_TYPE, receipt.canonical_bytes())),
        )

    async def Publish(
        self, request: peer_pb2.PublishRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> peer_pb2.PublishResponse:
        if self.behaviour != "picky":
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, "a faulty peer takes no publications")
        statement = verify_disclosure(disclosure_from_wire(request.record), self.keys).statement
        refusal = self.layout.root / "refusals" / statement.subject.identifier
        if refusal.exists():
            reason = refusal.read_text().strip()
            print(f"publish {statement.record_id} refused {reason}", flush=True)
            info = error_details_pb2.ErrorInfo(reason=reason, domain="share-gateway")
            status = status_pb2.Status(
                code=code_pb2.PERMISSION_DENIED, message=f"refused: {reason}", details=[_packed(info)]
            )
            await context.abort_with_status(rpc_status.to_status(status))
        print(f"publish {statement.record_id} ok", flush=True)
        receipt = self._receipt(
            EventKind.RECORD_RECEIVED, statement.origin_region, statement.record_id, statement.record_type
        )
        return peer_pb2.PublishResponse(receipt=receipt)

    def _receipt(self, kind: EventKind, origin: str, record_id: str, record_type: str) -> common_pb2.SignedEnvelope:
        """This region's signed receipt of a delivery of ``origin``'s record, as a real node signs one."""
        event = Event(
            event_id=str(uuid.uuid4()),
            kind=kind,
            at=datetime.now(UTC),
            node=self.region,
            actor="sgw://node/" + self.region,
            outcome=Outcome.ALLOWED,
            records=(DisclosedRecord(record_id, record_type, origin),),
        )
        return envelope_to_wire(Envelope.seal(self.key, EVENT_MEDIA_TYPE, event.canonical_bytes()))

    async def Witness(
        self, request: peer_pb2.WitnessRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> peer_pb2.WitnessResponse:
        text = parse_note(request.checkpoint).text
        if self.behaviour == "witness-legacy":
            line = NoteSignature(self.key.name, self.key.key_id, self.key.sign(text.encode())).line()
        elif self.behaviour == "witness-forged":
            witness = SigningKey.load(witness_key_name(self.region), self.layout.node_dir(self.region) / "witness.key")
            line = cosign_checkpoint(text.replace("\n", "\n0", 1), witness, int(datetime.now(UTC).timestamp())).line()
        elif self.behaviour == "witness-future":
            witness = SigningKey.load(witness_key_name(self.region), self.layout.node_dir(self.region) / "witness.key")
            line = cosign_checkpoint(text, witness, int(datetime.now(UTC).timestamp()) + 86_400).line()
        else:
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, "a faulty peer witnesses nothing")
        print("witnessed", flush=True)
        return peer_pb2.WitnessResponse(cosignature=line)

    async def Revoke(
        self, request: peer_pb2.RevokeRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> peer_pb2.RevokeResponse:
        if self.behaviour != "picky":
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, "a faulty peer takes no revocations")
        revocation = envelope_from_wire(request.revocation).open(self.keys, REVOCATION_TYPE, Revocation.from_bytes)
        print(f"revoke {revocation.record_id} ok", flush=True)
        receipt = self._receipt(
            EventKind.RECORD_REVOKED, revocation.origin_region, revocation.record_id, revocation.record_type
        )
        return peer_pb2.RevokeResponse(receipt=receipt)

    async def ShareListing(
        self, request: peer_pb2.ShareListingRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> peer_pb2.ShareListingResponse:
        if self.behaviour != "picky":
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, "a faulty peer takes no listings")
        listing = envelope_from_wire(request.listing).open(self.keys, LISTING_TYPE, Listing.from_bytes)
        print(f"listing {listing.record_id} ok", flush=True)
        receipt = self._receipt(
            EventKind.LISTING_RECEIVED, listing.origin_region, listing.record_id, listing.record_type
        )
        return peer_pb2.ShareListingResponse(receipt=receipt)

    async def GetHistory(
        self, request: peer_pb2.GetHistoryRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> peer_pb2.GetHistoryResponse:
        """As a node from before the method: its region is reported unavailable, the others still answer."""
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "a faulty peer keeps no history")
        raise AssertionError("abort raises")

    async def GetWitnessed(
        self, request: peer_pb2.GetWitnessedRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> peer_pb2.GetWitnessedResponse:
        # As a node of the previous release answers: a witness that cannot say what it cosigned.
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "a faulty peer keeps no witness state")
        raise AssertionError("abort raises")

    async def ForwardRepair(
        self, request: peer_pb2.ForwardRepairRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> peer_pb2.ForwardRepairResponse:
        """As a node from before the method: an application carried here is reported as its origin unavailable."""
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "a faulty peer takes no repair applications")
        raise AssertionError("abort raises")

    async def ShareConsentRevocation(
        self, request: peer_pb2.ShareConsentRevocationRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> peer_pb2.ShareConsentRevocationResponse:
        if self.behaviour != "picky":
            await context.abort(grpc.StatusCode.UNIMPLEMENTED, "a faulty peer takes no consent revocations")
        revocation = envelope_from_wire(request.revocation).open(
            self.keys, CONSENT_REVOCATION_TYPE, ConsentRevocation.from_bytes
        )
        print(f"consent {revocation.consent_id} ok", flush=True)
        receipt = self._receipt(
            EventKind.CONSENT_REVOCATION_RECEIVED, revocation.origin, revocation.consent_id, "consent"
        )
        return peer_pb2.ShareConsentRevocationResponse(receipt=receipt)

    async def ShareDispute(
        self, request: peer_pb2.ShareDisputeRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> peer_pb2.ShareDisputeResponse:
        """As a node from before the method: a dispute mark waits in the origin's outbox until it is upgraded."""
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "a faulty peer takes no dispute marks")
        raise AssertionError("abort raises")

    async def _gate_opened(self) -> None:
        """Until the test opens the gate (its file exists), or ``seconds`` passed."""
        gate = self.layout.root / "gate"
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.seconds or None):
                while not gate.exists():  # noqa: ASYNC110 - the gate is a file the test process creates
                    await asyncio.sleep(0.05)

    def _records(self, inquiry: PeerInquiry) -> list[common_pb2.RecordDisclosure]:
        """What this peer sends back, by behaviour: nothing but its receipt unless it is one that lies."""
        behaviour, _, other = self.behaviour.partition(":")
        if behaviour == "forged":
            return [self._tampered_record()]
        if behaviour == "third-origin":
            return [self._signed(debtor_request(f"debtor-{uuid.uuid4()}"), other, inquiry.purpose)]
        if behaviour == "overreach":
            return [self._signed(penalty_request(f"penalty-{uuid.uuid4()}"), self.region, None)]
        if behaviour == "unasked":
            return [self._signed(penalty_request(f"penalty-{uuid.uuid4()}"), self.region, inquiry.purpose)]
        return []

    def _signed(
        self, request: registry_pb2.SubmitRecordRequest, origin: str, purpose: str | None
    ) -> common_pb2.RecordDisclosure:
        """A record naming ``origin`` and signed with this region's key, opening the fields ``purpose`` may see
        (every field if None)."""
        draft = draft_from_wire(request)
        record = admit_record(
            self.catalog.catalog,
            draft,
            record_id=str(uuid.uuid4()),
            origin_region=origin,
            submitted_by="sgw://institution/11110000MB00000048",
            now=datetime.now(UTC),
        )
        opened = (
            frozenset(record.fields)
            if purpose is None
            else Policy(self.catalog.catalog).rule_for(purpose, record.record_type, "AUTH-1").fields
        )
        return disclosure_to_wire(disclose(seal_record(record, self.key), opened))

    def _tampered_record(self) -> common_pb2.RecordDisclosure:
        """A penalty this region really signed, with its amount changed on the way out."""
        draft = draft_from_wire(penalty_request(f"forged-{uuid.uuid4()}"))
        record = admit_record(
            self.catalog.catalog,
            draft,
            record_id=str(uuid.uuid4()),
            origin_region=self.region,
            submitted_by="sgw://institution/11110000MB00000048",
            now=datetime.now(UTC),
        )
        sealed = seal_record(record, self.key)
        wire = disclosure_to_wire(disclose(sealed, frozenset(record.fields)))
        for field in wire.fields:
            if field.name == "penalty_amount":
                field.value = "50.00"
        return wire


def _regions(layout: Layout) -> list[str]:
    """Every region with a node directory in the federation."""
    return sorted(path.parent.name for path in layout.root.glob("nodes/*/signing.key"))


def _packed(message: Any) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


async def serve(root: Path, region: str, behaviour: str, seconds: float) -> None:
    layout = Layout(root)
    presented = behaviour.split(":", 1)[1] if behaviour.startswith("impostor:") else region
    directory = layout.node_dir(presented)
    listen = yaml.safe_load(layout.node_config(region).read_text())["listen"]
    credentials = grpc.ssl_server_credentials(
        [((directory / "tls.key").read_bytes(), (directory / "tls.crt").read_bytes())],
        root_certificates=layout.ca_certificate.read_bytes(),
        require_client_auth=True,
    )
    server = grpc.aio.server()
    peer_pb2_grpc.add_PeerServiceServicer_to_server(FaultyPeer(layout, region, behaviour, seconds), server)
    server.add_secure_port(listen, credentials)
    await server.start()
    print("listening", flush=True)
    await server.wait_for_termination()


if __name__ == "__main__":
    asyncio.run(serve(Path(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4]) if len(sys.argv) > 4 else 0))
