"""Bad input at a real node: refused INVALID_ARGUMENT in one place, logged, and never anyone else's failure."""

from __future__ import annotations

import asyncio
import logging

import grpc
import pytest

from share_gateway.domain.events import Event, EventKind, Outcome
from share_gateway.node import Node
from share_gateway.v1 import inquiry_pb2, inquiry_pb2_grpc, registry_pb2_grpc
from tests.integration.conftest import Connect
from tests.support import CALLERS, field_violations, inquiry, penalty_request

INQUIRE = "/share_gateway.v1.InquiryService/Inquire"
BANK = CALLERS["bank"][0].uri


def denied_inquiries(node: Node) -> list[Event]:
    events = [Event.from_bytes(body) for _, body in node.gateway.store.events.read(limit=10_000)]
    return [e for e in events if e.kind is EventKind.INQUIRY and e.outcome is Outcome.DENIED]


async def test_a_nul_purpose_fails_alone_among_many_concurrent_inquiries(any_node: Node, dial: Connect) -> None:
    await registry_pb2_grpc.RegistryServiceStub(dial("regulator")).SubmitRecord(penalty_request(), timeout=10)
    # One bank's 150 concurrent calls stand for many requesters' at once: its own quotas are not what this is about.
    any_node.gateway.inquiries.quotas = None
    bank = inquiry_pb2_grpc.InquiryServiceStub(dial("bank"))
    legitimate = [inquiry("loan_underwriting", consent=f"AUTH-{i}") for i in range(150)]
    attack = inquiry("loan_underwriting\x00' OR 1=1")
    calls = [bank.Inquire(r, timeout=30) for r in legitimate[:75]]
    calls += [bank.Inquire(attack, timeout=30)]
    calls += [bank.Inquire(r, timeout=30) for r in legitimate[75:]]
    results = await asyncio.gather(*calls, return_exceptions=True)
    refused = results.pop(75)
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert all(len(r.records) == 1 for r in results if isinstance(r, inquiry_pb2.InquireResponse))
    assert isinstance(refused, grpc.aio.AioRpcError)
    assert refused.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "NUL" in field_violations(refused)["purpose"]
    [denied] = denied_inquiries(any_node)
    assert denied.actor == BANK
    assert denied.reason == "INVALID_ARGUMENT"
    assert "purpose" in denied.details["detail"]
    assert any_node.gateway.store.count("events") == 1 + 150 + 1  # the submission, the inquiries, the refusal


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("corrupt protobuf", b"\x0a\xff\xff\xff\xff\x0f"),
        ("invalid UTF-8", inquiry("loan\xe9").SerializeToString().replace("loan\xe9".encode(), b"loan\xe9")),
        ("truncated", inquiry("loan_underwriting").SerializeToString()[:-3]),
    ],
)
async def test_an_undecodable_request_is_invalid_argument_without_a_traceback(
    any_node: Node, dial: Connect, caplog: pytest.LogCaptureFixture, name: str, data: bytes
) -> None:
    caplog.set_level(logging.DEBUG)
    raw: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = dial("bank").unary_unary(INQUIRE)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await raw(data, timeout=10)
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT, name
    assert raised.value.details() == "request: is not a valid share_gateway.v1.InquireRequest message"
    assert "request" in field_violations(raised.value)
    assert not [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]
    [denied] = denied_inquiries(any_node)
    assert (denied.actor, denied.reason) == (BANK, "INVALID_ARGUMENT")


async def test_an_unknown_scope_is_refused_not_read_as_local(any_node: Node, dial: Connect) -> None:
    request = inquiry("loan_underwriting", consent="AUTH-1")
    request.scope = 7  # type: ignore[assignment]
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await inquiry_pb2_grpc.InquiryServiceStub(dial("bank")).Inquire(request, timeout=10)
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "InquiryScope" in field_violations(raised.value)["scope"]


async def test_a_submission_with_a_nul_in_a_field_is_refused_with_its_path(any_node: Node, dial: Connect) -> None:
    request = penalty_request()
    request.fields["decision_number"].text = "1\x00"
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await registry_pb2_grpc.RegistryServiceStub(dial("regulator")).SubmitRecord(request, timeout=10)
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "NUL" in field_violations(raised.value)["fields.decision_number.text"]
    assert any_node.gateway.store.count("records") == 0
