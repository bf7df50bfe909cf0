"""Consent as a signed statement, at one node over real mTLS: text alone, a statement that does not cover the
inquiry, a forged one and a withdrawn one are each refused with their own reason and logged; a statement the
subject signed, or the requester attested, is accepted and the inquiry's event names it; the subject lists
its consents and withdraws one."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

import grpc
import pytest

from share_gateway.client import credentials
from share_gateway.crypto.consent import CertifiedConsent, ConsentSigner, SignedConsent, certify_consent
from share_gateway.devkit import Layout
from share_gateway.domain.events import Event, EventKind, Outcome
from share_gateway.gateway import consents
from share_gateway.node import Node
from share_gateway.v1 import common_pb2 as pb
from share_gateway.v1 import inquiry_pb2, inquiry_pb2_grpc, registry_pb2_grpc
from tests.conftest import ChannelFactory
from tests.consents import consent_to_wire, identity_of, signed_consent
from tests.support import COMPANY, OTHER_COMPANY, entity, error_reason, inquiry, penalty_request

BANK_URI = "sgw://institution/91110000MA0000001L"
NOW = datetime.now(UTC)


def with_consent(signed: SignedConsent, subject: pb.Subject | None = None) -> inquiry_pb2.InquireRequest:
    request = inquiry("loan_underwriting", subject=subject)
    request.consent.CopyFrom(consent_to_wire(signed))
    return request


def plain_stub(node: Node, federation: Layout, name: str) -> inquiry_pb2_grpc.InquiryServiceAsyncStub:
    """A stub whose inquiries go as written (no consent attached for a text reference)."""
    files = federation.client(name)
    channel = grpc.aio.secure_channel(f"localhost:{node.port}", credentials(files.certificate, files.key, files.ca))
    return inquiry_pb2_grpc.InquiryServiceStub(channel)


def events(node: Node, kind: EventKind = EventKind.INQUIRY) -> list[Event]:
    logged = [Event.from_bytes(body) for _, body in node.gateway.store.events.read()]
    return [e for e in logged if e.kind is kind]


async def refused_with(connect: ChannelFactory, request: inquiry_pb2.InquireRequest) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await inquiry_pb2_grpc.InquiryServiceStub(connect("bank")).Inquire(request, timeout=5)
    assert raised.value.code() is grpc.StatusCode.PERMISSION_DENIED
    return error_reason(raised.value)


@pytest.mark.parametrize("text", ["AUTH-1", "x", "\u200b"])
async def test_free_text_consent_is_refused_and_never_logged(node: Node, federation: Layout, text: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await plain_stub(node, federation, "bank").Inquire(inquiry("loan_underwriting", consent=text), timeout=5)
    assert raised.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert error_reason(raised.value) == "CONSENT_FREE_TEXT"
    [event] = events(node)
    assert (event.outcome, event.reason) == (Outcome.DENIED, "CONSENT_FREE_TEXT")
    assert "consent_reference" not in event.details


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("expired", "CONSENT_EXPIRED"),
        ("not yet valid", "CONSENT_NOT_YET_VALID"),
        ("another requester's", "CONSENT_OTHER_REQUESTER"),
        ("another purpose's", "CONSENT_OTHER_PURPOSE"),
        ("another subject's", "CONSENT_OTHER_SUBJECT"),
    ],
)
async def test_a_consent_that_does_not_cover_the_inquiry_is_refused_with_its_reason(
    node: Node, connect: ChannelFactory, federation: Layout, case: str, reason: str
) -> None:
    company, bank = federation.client("company"), federation.client("bank")
    signed = {
        "expired": lambda: signed_consent(
            company, entity(), BANK_URI, not_before=NOW - timedelta(days=60), not_after=NOW - timedelta(days=1)
        ),
        "not yet valid": lambda: signed_consent(
            company, entity(), BANK_URI, not_before=NOW + timedelta(days=1), not_after=NOW + timedelta(days=60)
        ),
        "another requester's": lambda: signed_consent(company, entity(), identity_of(federation.client("utility"))),
        "another purpose's": lambda: signed_consent(company, entity(), BANK_URI, ("utility_connection",)),
        "another subject's": lambda: signed_consent(bank, entity(OTHER_COMPANY), BANK_URI, attested=True),
    }[case]()
    assert await refused_with(connect, with_consent(signed)) == reason
    [event] = events(node)
    assert (event.outcome, event.reason, event.details["consent_id"]) == (Outcome.DENIED, reason, signed.consent_id)


@pytest.mark.parametrize("case", ["signed by someone else", "altered after signing", "another CA"])
async def test_a_forged_consent_is_refused(
    node: Node, connect: ChannelFactory, federation: Layout, foreign_client: Layout, case: str
) -> None:
    if case == "signed by someone else":
        # Another caller's key, claiming to be the subject's signature (not an attestation).
        signed = signed_consent(federation.client("twin_bank"), entity(), BANK_URI)
    elif case == "altered after signing":
        genuine = signed_consent(federation.client("company"), entity(), BANK_URI, ("utility_connection",))
        altered = genuine.statement.replace(b"utility_connection", b"loan_underwriting")
        signed = SignedConsent(altered, genuine.signature, genuine.certificate)
    else:
        # The bank's own identity, certified by a CA that is not the federation's.
        signed = signed_consent(foreign_client.client("bank"), entity(), BANK_URI, attested=True)
    assert await refused_with(connect, with_consent(signed)) == "CONSENT_FORGED"
    assert events(node)[0].reason == "CONSENT_FORGED"


@pytest.mark.parametrize("signer", ["subject", "requester"])
async def test_a_subject_signed_or_attested_consent_is_accepted_and_named_by_the_event(
    node: Node, connect: ChannelFactory, federation: Layout, signer: str
) -> None:
    await registry_pb2_grpc.RegistryServiceStub(connect("regulator")).SubmitRecord(penalty_request(), timeout=5)
    signed = (
        signed_consent(federation.client("company"), entity(), BANK_URI)
        if signer == "subject"
        else signed_consent(federation.client("bank"), entity(), BANK_URI, attested=True)
    )
    answer = await inquiry_pb2_grpc.InquiryServiceStub(connect("bank")).Inquire(with_consent(signed), timeout=5)
    assert len(answer.records) == 1
    [event] = events(node)
    assert event.outcome is Outcome.ALLOWED
    assert (event.details["consent_id"], event.details["consent_signer"]) == (signed.consent_id, signer)
    assert b"signed authorisation form" not in event.canonical_bytes()


async def test_a_signer_certificate_already_verified_lets_no_altered_consent_through(
    node: Node, connect: ChannelFactory, federation: Layout
) -> None:
    """The node remembers a signer's certificate once its chain held (a requester attests every consent with one),
    never a signature: another statement under the same certificate is verified again."""
    await registry_pb2_grpc.RegistryServiceStub(connect("regulator")).SubmitRecord(penalty_request(), timeout=5)
    genuine = signed_consent(federation.client("bank"), entity(), BANK_URI, attested=True)
    answer = await inquiry_pb2_grpc.InquiryServiceStub(connect("bank")).Inquire(with_consent(genuine), timeout=5)
    assert len(answer.records) == 1
    other = signed_consent(federation.client("bank"), entity(), BANK_URI, attested=True, evidence=b"another form")
    altered = SignedConsent(other.statement, genuine.signature, genuine.certificate)
    assert await refused_with(connect, with_consent(altered)) == "CONSENT_FORGED"


async def test_calls_bringing_the_same_new_consent_at_once_share_one_verification(
    node: Node, connect: ChannelFactory, federation: Layout, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new consent is verified on a worker thread (the event loop serves others meanwhile), once however many
    calls bring it at the same moment; an altered one sent at once is refused to every call."""
    verified: list[bytes] = []
    loop_thread = threading.current_thread()

    def counted(signed: SignedConsent, signer: ConsentSigner) -> CertifiedConsent:
        assert threading.current_thread() is not loop_thread, "verified on the event loop's thread"
        verified.append(signed.statement)
        return certify_consent(signed, signer)

    monkeypatch.setattr(consents, "certify_consent", counted)
    await registry_pb2_grpc.RegistryServiceStub(connect("regulator")).SubmitRecord(penalty_request(), timeout=5)
    bank = inquiry_pb2_grpc.InquiryServiceStub(connect("bank"))
    genuine = signed_consent(federation.client("bank"), entity(), BANK_URI, attested=True, evidence=b"at once")
    answers = await asyncio.gather(*(bank.Inquire(with_consent(genuine), timeout=5) for _ in range(8)))
    assert [len(a.records) for a in answers] == [1] * 8
    assert verified == [genuine.statement]
    other = signed_consent(federation.client("bank"), entity(), BANK_URI, attested=True, evidence=b"altered at once")
    altered = SignedConsent(other.statement, genuine.signature, genuine.certificate)
    reasons = await asyncio.gather(*(refused_with(connect, with_consent(altered)) for _ in range(4)))
    assert reasons == ["CONSENT_FORGED"] * 4


async def test_the_subject_lists_and_withdraws_its_consent_and_it_is_refused_after(
    node: Node, connect: ChannelFactory, federation: Layout
) -> None:
    signed = signed_consent(federation.client("company"), entity(), BANK_URI)
    bank = inquiry_pb2_grpc.InquiryServiceStub(connect("bank"))
    await bank.Inquire(with_consent(signed), timeout=5)
    company = inquiry_pb2_grpc.InquiryServiceStub(connect("company"))
    listed = await company.ListMyConsents(inquiry_pb2.ListMyConsentsRequest(), timeout=5)
    assert [(c.consent_id, c.requester, list(c.purposes), c.HasField("revoked_at")) for c in listed.consents] == [
        (signed.consent_id, BANK_URI, ["loan_underwriting"], False)
    ]
    # Nobody else sees or withdraws it: the same answer as for an unknown id.
    other = inquiry_pb2_grpc.InquiryServiceStub(connect("person"))
    assert not (await other.ListMyConsents(inquiry_pb2.ListMyConsentsRequest(), timeout=5)).consents
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await other.RevokeConsent(inquiry_pb2.RevokeConsentRequest(consent_id=signed.consent_id), timeout=5)
    assert raised.value.code() is grpc.StatusCode.NOT_FOUND
    revoked = await company.RevokeConsent(inquiry_pb2.RevokeConsentRequest(consent_id=signed.consent_id), timeout=5)
    assert revoked.consent.HasField("revoked_at")
    assert await refused_with(connect, with_consent(signed)) == "CONSENT_REVOKED"
    [withdrawn] = events(node, EventKind.CONSENT_REVOKED)
    assert withdrawn.actor == f"sgw://institution/{COMPANY}"
    assert [r.record_id for r in withdrawn.records] == [signed.consent_id]


async def test_a_malformed_consent_id_is_invalid_argument(node: Node, connect: ChannelFactory) -> None:
    company = inquiry_pb2_grpc.InquiryServiceStub(connect("company"))
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await company.RevokeConsent(inquiry_pb2.RevokeConsentRequest(consent_id="x"), timeout=5)
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
