"""What a client of a node needs: channels with its certificate, and verification of answers.

``verify_record_disclosure`` is the function a bank's or utility's system
calls on each record of an answer: it checks the origin's signature over the
exact statement bytes and every disclosed value against its salted digest.
``verify_receipt`` checks the node's signed receipt of an answer, and
``verify_revocation`` a revocation from the feed (records to delete).
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc

from share_gateway.api.convert import SUBJECT_KINDS, subject_kind_text, value_to_wire
from share_gateway.crypto.consent import SignedConsent, sign_consent
from share_gateway.crypto.disclosure import VerifiedDisclosure, verify_disclosure
from share_gateway.crypto.envelope import Envelope
from share_gateway.crypto.errors import VerificationError
from share_gateway.crypto.keys import KeyRing
from share_gateway.domain.catalog import FieldType
from share_gateway.domain.consent import ConsentStatement
from share_gateway.domain.errors import InvalidInput
from share_gateway.domain.events import EVENT_MEDIA_TYPE, Event
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.domain.key_names import node_key_name
from share_gateway.domain.repair import REVOCATION_TYPE, Revocation
from share_gateway.federation.wire import disclosure_from_wire, envelope_from_wire
from share_gateway.v1 import common_pb2, inquiry_pb2


def credentials(certificate: Path | None, key: Path | None, ca: Path) -> grpc.ChannelCredentials:
    """mTLS credentials from PEM files; without a certificate, server-authenticated TLS only."""
    return grpc.ssl_channel_credentials(
        root_certificates=ca.read_bytes(),
        private_key=key.read_bytes() if key else None,
        certificate_chain=certificate.read_bytes() if certificate else None,
    )


def open_channel(
    target: str, channel_credentials: grpc.ChannelCredentials, max_message_bytes: int = 4 << 20
) -> grpc.aio.Channel:
    return grpc.aio.secure_channel(
        target, channel_credentials, options=[("grpc.max_receive_message_length", max_message_bytes)]
    )


def verify_record_disclosure(message: common_pb2.RecordDisclosure, keys: KeyRing) -> VerifiedDisclosure:
    """Verify one disclosed record against its origin node's key; raises ``VerificationError``."""
    disclosure = disclosure_from_wire(message)
    verified = verify_disclosure(disclosure, keys)
    _signed_by(disclosure.statement, keys, verified.statement.origin_region)
    return verified


def verify_revocation(message: common_pb2.SignedEnvelope, keys: KeyRing) -> Revocation:
    """Verify a revocation from the feed against its origin node's key; raises ``VerificationError``."""
    envelope = envelope_from_wire(message)
    revocation = envelope.open(keys, REVOCATION_TYPE, Revocation.from_bytes)
    _signed_by(envelope, keys, revocation.origin_region)
    keys.require_in_force(envelope.key_id, revocation.at)
    return revocation


def _signed_by(envelope: Envelope, keys: KeyRing, region: str) -> None:
    """Any node of the federation can sign; only the region a payload names as its origin may sign it."""
    signer = keys[envelope.key_id]
    if signer.name != node_key_name(region):
        raise VerificationError(f"signed by {signer.name}, not by the origin {node_key_name(region)}")


def verify_receipt(message: common_pb2.SignedEnvelope, keys: KeyRing) -> Event:
    """Verify a node's signed inquiry receipt and return the logged event it carries.

    A key retired by a rotation verifies receipts dated before its retirement only (``KeyRetired`` after).
    """
    envelope = envelope_from_wire(message)
    event = envelope.open(keys, EVENT_MEDIA_TYPE, Event.from_bytes)
    keys.require_in_force(envelope.key_id, event.at)
    return event


def subject_from_text(text: str) -> common_pb2.Subject:
    """``legal_entity:<USCC>``, ``individual:<resident ID>``, or a bare identifier (kind inferred)."""
    kind_text, _, identifier = text.rpartition(":")
    if not kind_text:
        try:
            Subject.parse(SubjectKind.INDIVIDUAL.value, identifier)
            kind_text = SubjectKind.INDIVIDUAL.value
        except InvalidInput:
            kind_text = SubjectKind.LEGAL_ENTITY.value
    try:
        kind = SUBJECT_KINDS[SubjectKind(kind_text)]
    except ValueError:
        raise ValueError(f"unknown subject kind {kind_text!r}: use legal_entity or individual") from None
    return common_pb2.Subject(kind=kind, identifier=identifier)


def typed_value(field_type: str | None, raw: str) -> common_pb2.FieldValue:
    """A command-line value as the wire type the catalog gives its field (text when the catalog has none)."""
    if field_type is None:
        return common_pb2.FieldValue(text=raw)
    kind = FieldType(field_type)
    if kind is FieldType.BOOLEAN:
        if raw.lower() not in {"true", "false"}:
            raise ValueError(f"{raw!r} is not true or false")
        raw = raw.lower()
    return value_to_wire(kind, raw)


def consent_file(signed: SignedConsent) -> bytes:
    """A signed consent as a file a requester keeps and sends with its inquiries: the ``Consent`` message in
    proto3 JSON (each field base64), so grpcurl and other gRPC tools take it as it is."""
    return (
        json.dumps(
            {
                "statement": base64.b64encode(signed.statement).decode(),
                "signature": base64.b64encode(signed.signature).decode(),
                "certificate": base64.b64encode(signed.certificate).decode(),
            },
            indent=2,
        ).encode()
        + b"\n"
    )


def consent_from_file(data: bytes) -> inquiry_pb2.Consent:
    """The wire form of a consent file ``consent_file`` wrote (``ValueError`` if it is not one)."""
    try:
        raw = json.loads(data)
        return inquiry_pb2.Consent(
            statement=base64.b64decode(raw["statement"], validate=True),
            signature=base64.b64decode(raw["signature"], validate=True),
            certificate=base64.b64decode(raw["certificate"], validate=True),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"not a consent file: {error}") from error


def consent_to_wire(signed: SignedConsent) -> inquiry_pb2.Consent:
    return inquiry_pb2.Consent(statement=signed.statement, signature=signed.signature, certificate=signed.certificate)


def sign_consent_as(
    identity: Path,
    subject: common_pb2.Subject,
    requester: str,
    purposes: tuple[str, ...],
    evidence: bytes,
    *,
    attested: bool,
    days: int = 365,
) -> inquiry_pb2.Consent:
    """A consent signed with the key of ``identity`` (tls.key, tls.crt): the subject's, or the requester's attesting
    the ``evidence`` it keeps (only its SHA-256 is signed)."""
    now = datetime.now(UTC).replace(microsecond=0)
    statement = ConsentStatement(
        subject=Subject.parse(subject_kind_text(subject.kind), subject.identifier),
        requester=requester,
        purposes=purposes,
        not_before=now,
        not_after=now + timedelta(days=days),
        evidence_sha256=hashlib.sha256(evidence).hexdigest(),
        attested=attested,
    )
    key, certificate = (identity / "tls.key").read_bytes(), (identity / "tls.crt").read_bytes()
    return consent_to_wire(sign_consent(statement, key, certificate))
