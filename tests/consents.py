"""Consents for tests: signed statements, and channels that attach one where a test says "with consent".

Tests written before consent was a signed statement pass ``consent="AUTH-1"`` (any text) to mean "the
subject consented". ``consenting_channel`` keeps that meaning in one place: an inquiry it sends with text
and no statement gets a statement attested by the calling client (with the text's digest as evidence)
instead of the text. A test of text alone opens a plain channel.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc

from share_gateway.api.convert import subject_kind_text
from share_gateway.client import consent_to_wire
from share_gateway.crypto.consent import SignedConsent, sign_consent
from share_gateway.crypto.pki import identity_uris
from share_gateway.devkit import ClientFiles
from share_gateway.domain.consent import ConsentStatement
from share_gateway.domain.errors import InvalidInput
from share_gateway.domain.identifiers import Subject
from share_gateway.v1 import common_pb2 as pb
from share_gateway.v1 import inquiry_pb2

INQUIRE = "/share_gateway.v1.InquiryService/Inquire"
__all__ = ["attested_by", "consent_to_wire", "consenting_channel", "identity_of", "signed_consent", "subject_of"]


def identity_of(files: ClientFiles) -> str:
    """The sgw:// identity a client's certificate carries."""
    return next(uri for uri in identity_uris(files.certificate.read_bytes()) if not uri.startswith("sgw://role/"))


def subject_of(subject: pb.Subject) -> Subject:
    return Subject.parse(subject_kind_text(subject.kind), subject.identifier)


def signed_consent(
    signer: ClientFiles,
    subject: pb.Subject,
    requester: str,
    purposes: Sequence[str] = ("loan_underwriting",),
    *,
    attested: bool = False,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    evidence: bytes = b"signed authorisation form",
) -> SignedConsent:
    """A consent statement signed with ``signer``'s certificate key (the subject's, or the requester's if attested)."""
    now = datetime.now(UTC)
    statement = ConsentStatement(
        subject=subject_of(subject),
        requester=requester,
        purposes=tuple(purposes),
        not_before=not_before or now - timedelta(days=1),
        not_after=not_after or now + timedelta(days=30),
        evidence_sha256=hashlib.sha256(evidence).hexdigest(),
        attested=attested,
    )
    return sign_consent(statement, signer.key.read_bytes(), signer.certificate.read_bytes())


def attested_by(requester: ClientFiles, request: inquiry_pb2.InquireRequest) -> inquiry_pb2.Consent:
    """The requester's attestation of the evidence named by the request's text reference, for its purpose."""
    signed = signed_consent(
        requester,
        request.subject,
        identity_of(requester),
        (request.purpose,),
        attested=True,
        evidence=request.consent_reference.encode(),
    )
    return consent_to_wire(signed)


class _AttachConsent(grpc.aio.UnaryUnaryClientInterceptor):
    def __init__(self, files: ClientFiles) -> None:
        self.files = files
        # The channel, kept alive by the stubs that hold this interceptor (as a plain channel is by its stubs).
        self.channel: grpc.aio.Channel | None = None

    async def intercept_unary_unary(
        self, continuation: Callable[..., Any], client_call_details: grpc.aio.ClientCallDetails, request: Any
    ) -> Any:
        method = client_call_details.method
        name = method.decode() if isinstance(method, bytes) else method
        inquiry = isinstance(request, inquiry_pb2.InquireRequest)  # raw bytes are sent as they are
        if (
            name == INQUIRE
            and inquiry
            and request.consent_reference
            and not request.HasField("consent")
            and _valid(request)
        ):
            changed = inquiry_pb2.InquireRequest()
            changed.CopyFrom(request)
            changed.consent.CopyFrom(attested_by(self.files, request))
            changed.consent_reference = ""
            request = changed
        return await continuation(client_call_details, request)


def _valid(request: inquiry_pb2.InquireRequest) -> bool:
    """Whether a statement can name the request's subject (a malformed one is the server's to refuse)."""
    try:
        subject_of(request.subject)
    except InvalidInput:
        return False
    return True


def consenting_channel(address: str, files: ClientFiles, credentials: grpc.ChannelCredentials) -> grpc.aio.Channel:
    """A channel as ``files``' client whose inquiries "with consent" (text) carry its attested consent."""
    interceptor = _AttachConsent(files)
    interceptor.channel = grpc.aio.secure_channel(
        address,
        credentials,
        options=[("grpc.max_receive_message_length", 4 << 20)],
        interceptors=[interceptor],
    )
    return interceptor.channel
