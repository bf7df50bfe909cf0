"""RegistryService over real mTLS gRPC on SQLite: agencies record only what the catalog and their grants allow."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import grpc
import pytest

from share_gateway.client import verify_record_disclosure
from share_gateway.crypto.keys import KeyRing
from share_gateway.devkit import Layout
from share_gateway.domain.events import Event, EventKind
from share_gateway.node import Node
from share_gateway.v1 import common_pb2 as pb
from share_gateway.v1 import registry_pb2, registry_pb2_grpc
from tests.conftest import ChannelFactory
from tests.support import (
    REGION,
    days_ago,
    error_reason,
    field_violations,
    loan_default_request,
    penalty_request,
    person,
    text,
    withdrawal,
)


def registry(connect: ChannelFactory, caller: str = "regulator") -> registry_pb2_grpc.RegistryServiceAsyncStub:
    return registry_pb2_grpc.RegistryServiceStub(connect(caller))


def logged(node: Node) -> list[Event]:
    return [Event.from_bytes(body) for _, body in node.gateway.store.events.read()]


async def test_submission_is_signed_stored_and_logged(node: Node, connect: ChannelFactory, federation: Layout) -> None:
    response = await registry(connect).SubmitRecord(penalty_request(), timeout=5)
    record = response.record
    assert record.status == pb.RECORD_STATUS_ACTIVE
    assert record.fields["penalty_amount"].money == "50000.00"
    assert record.origin_region == REGION
    # General severity: 3 months to 1 year (2025 No. 22); no disclosure_days asks for the maximum.
    assert record.severity == "general"
    verified = verify_record_disclosure(record.disclosure, KeyRing([federation.node_verifying_key(REGION)]))
    assert verified.fields["decision_number"] == "京市监罚〔2026〕118号"
    assert len(verified.fields) == 7
    [event] = logged(node)
    assert event.kind is EventKind.RECORD_SUBMITTED
    assert event.actor == "sgw://institution/11110000MB00000048"
    assert event.records[0].record_id == record.record_id


async def test_a_retried_request_id_returns_the_first_record(node: Node, connect: ChannelFactory) -> None:
    stub = registry(connect)
    first = await stub.SubmitRecord(penalty_request("same-id"), timeout=5)
    second = await stub.SubmitRecord(penalty_request("same-id"), timeout=5)
    assert first.record.record_id == second.record.record_id
    assert node.gateway.store.count("records") == 1
    assert node.gateway.store.count("events") == 1


async def test_a_request_id_reused_for_another_record_is_refused(node: Node, connect: ChannelFactory) -> None:
    stub = registry(connect)
    await stub.SubmitRecord(penalty_request("reused"), timeout=5)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.SubmitRecord(loan_default_request("reused"), timeout=5)
    assert raised.value.code() is grpc.StatusCode.ALREADY_EXISTS
    assert node.gateway.store.count("records") == 1


def _unknown_type(r: registry_pb2.SubmitRecordRequest) -> None:
    r.record_type = "social_media_posts"


def _unknown_field(r: registry_pb2.SubmitRecordRequest) -> None:
    r.fields["shoe_size"].text = "42"


def _wrong_type(r: registry_pb2.SubmitRecordRequest) -> None:
    r.fields["penalty_amount"].CopyFrom(text("fifty thousand"))


def _missing_required(r: registry_pb2.SubmitRecordRequest) -> None:
    del r.fields["violation_type"]


def _missing_document(r: registry_pb2.SubmitRecordRequest) -> None:
    r.ClearField("legal_document")


def _future_document(r: registry_pb2.SubmitRecordRequest) -> None:
    r.legal_document.effective_on = "2999-01-01"


def _bad_uscc(r: registry_pb2.SubmitRecordRequest) -> None:
    r.subject.identifier = "91110105MA01ABCD01"  # check character should be 0


def _bad_resident_id(r: registry_pb2.SubmitRecordRequest) -> None:
    r.subject.CopyFrom(person("110105198001011230"))  # check digit should be 8


def _money_with_three_decimals(r: registry_pb2.SubmitRecordRequest) -> None:
    r.fields["penalty_amount"].money = "10.005"


def _severity_not_in_catalog(r: registry_pb2.SubmitRecordRequest) -> None:
    r.severity = "catastrophic"


BAD_SUBMISSIONS: list[tuple[str, Callable[[registry_pb2.SubmitRecordRequest], None], str]] = [
    ("unknown record type", _unknown_type, "record_type"),
    ("unknown field", _unknown_field, "fields.shoe_size"),
    ("field of the wrong type", _wrong_type, "fields.penalty_amount"),
    ("missing required field", _missing_required, "fields.violation_type"),
    ("missing legal document", _missing_document, "legal_document"),
    ("document not yet effective", _future_document, "legal_document.effective_on"),
    ("USCC with a wrong check character", _bad_uscc, "subject.identifier"),
    ("resident ID with a wrong check digit", _bad_resident_id, "subject.identifier"),
    ("money with three decimals", _money_with_three_decimals, "fields.penalty_amount"),
    ("severity not in the catalog", _severity_not_in_catalog, "severity"),
]


@pytest.mark.parametrize(("case", "mutate", "field"), BAD_SUBMISSIONS, ids=[c[0] for c in BAD_SUBMISSIONS])
async def test_bad_submissions_are_refused_and_write_nothing(
    node: Node,
    connect: ChannelFactory,
    case: str,
    mutate: Callable[[registry_pb2.SubmitRecordRequest], None],
    field: str,
) -> None:
    request = penalty_request()
    mutate(request)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await registry(connect).SubmitRecord(request, timeout=5)
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT, case
    assert field in field_violations(raised.value), case
    assert node.gateway.store.count("records") == 0
    assert node.gateway.store.count("events") == 0


async def test_all_violations_are_reported_at_once(node: Node, connect: ChannelFactory) -> None:
    request = penalty_request()
    _wrong_type(request)
    _missing_required(request)
    _bad_uscc(request)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await registry(connect).SubmitRecord(request, timeout=5)
    assert {"fields.penalty_amount", "fields.violation_type", "subject.identifier"} <= field_violations(
        raised.value
    ).keys()


async def test_an_agency_submits_only_the_types_its_grant_lists(node: Node, connect: ChannelFactory) -> None:
    request = penalty_request()
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await registry(connect, "court").SubmitRecord(request, timeout=5)
    assert raised.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert error_reason(raised.value) == "RECORD_TYPE_NOT_GRANTED"
    assert node.gateway.store.count("records") == 0
    assert node.gateway.store.count("events") == 0


async def test_a_requester_cannot_submit(node: Node, connect: ChannelFactory) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await registry(connect, "bank").SubmitRecord(penalty_request(), timeout=5)
    assert raised.value.code() is grpc.StatusCode.PERMISSION_DENIED
    assert error_reason(raised.value) == "RECORD_TYPE_NOT_GRANTED"
    assert node.gateway.store.count("records") == 0
    assert node.gateway.store.count("events") == 0


async def test_get_record_is_logged_and_hidden_from_other_agencies(node: Node, connect: ChannelFactory) -> None:
    submitted = (await registry(connect).SubmitRecord(penalty_request(), timeout=5)).record
    got = (await registry(connect).GetRecord(registry_pb2.GetRecordRequest(record_id=submitted.record_id))).record
    assert got == submitted
    assert [e.kind for e in logged(node)] == [EventKind.RECORD_SUBMITTED, EventKind.RECORD_READ]
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await registry(connect, "court").GetRecord(registry_pb2.GetRecordRequest(record_id=submitted.record_id))
    assert raised.value.code() is grpc.StatusCode.NOT_FOUND


async def test_withdrawal_changes_status_once_and_is_logged(node: Node, connect: ChannelFactory) -> None:
    stub = registry(connect)
    submitted = (await stub.SubmitRecord(penalty_request(), timeout=5)).record
    request = registry_pb2.WithdrawRecordRequest(
        record_id=submitted.record_id,
        reason="penalty decision revoked on administrative reconsideration",
        revoking_document=pb.LegalDocument(
            number="京政复〔2026〕7号",
            issuer="北京市人民政府",
            kind="reconsideration",
            issued_on=days_ago(2),
            effective_on=days_ago(2),
        ),
    )
    withdrawn = (await stub.WithdrawRecord(request, timeout=5)).record
    assert withdrawn.status == pb.RECORD_STATUS_WITHDRAWN
    assert withdrawn.version == 2
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.WithdrawRecord(request, timeout=5)
    assert raised.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    events = logged(node)
    assert [e.kind for e in events] == [EventKind.RECORD_SUBMITTED, EventKind.RECORD_WITHDRAWN]
    assert events[1].details["revoking_document"].startswith("reconsideration 京政复〔2026〕7号")


async def test_a_withdrawal_states_its_reason(node: Node, connect: ChannelFactory) -> None:
    stub = registry(connect)
    submitted = (await stub.SubmitRecord(penalty_request(), timeout=5)).record
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.WithdrawRecord(registry_pb2.WithdrawRecordRequest(record_id=submitted.record_id), timeout=5)
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "reason" in field_violations(raised.value)
    assert node.gateway.store.count("events") == 1


async def test_an_agency_cannot_read_or_withdraw_another_agency_s_record(node: Node, connect: ChannelFactory) -> None:
    """Holding the same grant is not owning the record: the record id is in every disclosure."""
    submitted = (await registry(connect).SubmitRecord(penalty_request(), timeout=5)).record
    other = registry(connect, "regulator_branch")
    for call in (
        other.GetRecord(registry_pb2.GetRecordRequest(record_id=submitted.record_id), timeout=5),
        other.WithdrawRecord(
            registry_pb2.WithdrawRecordRequest(record_id=submitted.record_id, reason="not mine"), timeout=5
        ),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await call
        assert raised.value.code() is grpc.StatusCode.NOT_FOUND
    assert [e.kind for e in logged(node)] == [EventKind.RECORD_SUBMITTED]
    assert (await registry(connect).GetRecord(registry_pb2.GetRecordRequest(record_id=submitted.record_id))).record


async def test_a_retry_with_another_legal_document_is_refused(node: Node, connect: ChannelFactory) -> None:
    stub = registry(connect)
    await stub.SubmitRecord(penalty_request("doc"), timeout=5)
    changed = penalty_request("doc")
    changed.legal_document.number = "京市监罚〔2026〕119号"
    changed.fields["decision_number"].text = "京市监罚〔2026〕119号"  # the number of its document (SAMR Order 45)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.SubmitRecord(changed, timeout=5)
    assert raised.value.code() is grpc.StatusCode.ALREADY_EXISTS


async def test_concurrent_identical_submissions_make_one_record(node: Node, connect: ChannelFactory) -> None:
    stub = registry(connect)
    answers = await asyncio.gather(*(stub.SubmitRecord(penalty_request("race"), timeout=10) for _ in range(6)))
    assert len({a.record.record_id for a in answers}) == 1
    assert node.gateway.store.count("records") == 1
    assert node.gateway.store.count("events") == 1


async def test_concurrent_withdrawals_change_the_record_once(node: Node, connect: ChannelFactory) -> None:
    stub = registry(connect)
    submitted = (await stub.SubmitRecord(penalty_request(), timeout=5)).record
    request = withdrawal(submitted.record_id)
    results = await asyncio.gather(
        *(stub.WithdrawRecord(request, timeout=10) for _ in range(4)), return_exceptions=True
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    # A loser that read before the winner wrote is aborted (read again); one that read after is refused.
    losers = {r.code() for r in results if isinstance(r, grpc.aio.AioRpcError)}
    assert losers <= {grpc.StatusCode.ABORTED, grpc.StatusCode.FAILED_PRECONDITION}
    assert [e.kind for e in logged(node)] == [EventKind.RECORD_SUBMITTED, EventKind.RECORD_WITHDRAWN]


async def test_a_field_without_a_value_is_refused(node: Node, connect: ChannelFactory) -> None:
    request = penalty_request()
    request.fields["penalty"].Clear()
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await registry(connect).SubmitRecord(request, timeout=5)
    assert raised.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "fields.penalty" in field_violations(raised.value)
    assert node.gateway.store.count("records") == 0
