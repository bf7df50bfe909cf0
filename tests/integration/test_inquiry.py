"""InquiryService over real mTLS gRPC: only what is lawful, only the necessary fields, signed and logged."""

from __future__ import annotations

import grpc
import pytest

from share_gateway.catalog import sample_catalog_text
from share_gateway.client import verify_receipt, verify_record_disclosure
from share_gateway.crypto.keys import KeyRing
from share_gateway.devkit import Layout
from share_gateway.domain.catalog import Catalog
from share_gateway.domain.events import Event, EventKind, Outcome
from share_gateway.node import Node
from share_gateway.v1 import common_pb2 as pb
from share_gateway.v1 import inquiry_pb2, inquiry_pb2_grpc, registry_pb2_grpc
from tests.conftest import ChannelFactory
from tests.support import (
    COMPANY,
    OTHER_PERSON,
    PERSON,
    REGION,
    debtor_request,
    entity,
    error_reason,
    field_violations,
    inquiry,
    loan_default_request,
    penalty_request,
    person,
    utility_arrears_request,
    withdrawal,
)

CATALOG = Catalog.from_yaml(sample_catalog_text())


async def seed(connect: ChannelFactory) -> dict[str, str]:
    """A penalty (public), a loan default (authorised) and utility arrears (shared) about one company."""
    stub = registry_pb2_grpc.RegistryServiceStub(connect("regulator"))
    ids = {}
    for request in (penalty_request(), loan_default_request(), utility_arrears_request()):
        ids[request.record_type] = (await stub.SubmitRecord(request, timeout=5)).record.record_id
    return ids


async def ask(connect: ChannelFactory, caller: str, request: inquiry_pb2.InquireRequest) -> inquiry_pb2.InquireResponse:
    return await inquiry_pb2_grpc.InquiryServiceStub(connect(caller)).Inquire(request, timeout=5)


def by_type(answer: inquiry_pb2.InquireResponse, keys: KeyRing) -> dict[str, dict[str, str]]:
    verified = [verify_record_disclosure(r, keys) for r in answer.records]
    return {v.statement.record_type: dict(v.fields) for v in verified}


def necessity(record_type: str, purpose: str) -> set[str]:
    return set(CATALOG.record_types[record_type].necessity[purpose])


def inquiry_events(node: Node) -> list[Event]:
    events = [Event.from_bytes(body) for _, body in node.gateway.store.events.read()]
    return [e for e in events if e.kind is EventKind.INQUIRY]


@pytest.fixture
def keys(federation: Layout) -> KeyRing:
    return KeyRing([federation.node_verifying_key(REGION)])


async def test_a_bank_gets_the_necessary_fields_of_lawful_records(
    node: Node, connect: ChannelFactory, keys: KeyRing
) -> None:
    await seed(connect)
    answer = await ask(connect, "bank", inquiry("loan_underwriting", consent="AUTH-2026-0001"))
    found = by_type(answer, keys)
    # Loan underwriting reaches public, shared and authorised records (with consent): all three.
    assert set(found) == {"administrative_penalty", "loan_default", "utility_arrears"}
    for record_type, fields in found.items():
        assert set(fields) == necessity(record_type, "loan_underwriting")
    assert {c.rule for c in answer.citations} >= {"purpose/loan_underwriting", "record_type/loan_default"}
    [event] = inquiry_events(node)
    assert event.outcome is Outcome.ALLOWED
    assert event.event_id == answer.inquiry_id
    assert {r.record_type: set(r.fields) for r in event.records} == {t: set(f) for t, f in found.items()}
    # The event names the consent used (its id), never the evidence or a caller's text.
    assert len(event.details["consent_id"]) == 32
    assert event.details["consent_signer"] == "requester"
    assert "AUTH-2026-0001" not in event.canonical_bytes().decode()


async def test_the_receipt_is_the_signed_log_entry(node: Node, connect: ChannelFactory, keys: KeyRing) -> None:
    await seed(connect)
    answer = await ask(connect, "bank", inquiry("loan_underwriting", consent="AUTH-1"))
    receipt = verify_receipt(answer.receipt, keys)
    [(_, stored)] = [
        row for row in node.gateway.store.events.read() if Event.from_bytes(row[1]).kind is EventKind.INQUIRY
    ]
    assert receipt.canonical_bytes() == stored


async def test_withheld_fields_never_reach_the_wire(node: Node, connect: ChannelFactory) -> None:
    await seed(connect)
    answer = await ask(connect, "utility", inquiry("utility_connection"))
    wire = answer.SerializeToString()
    # utility_connection sees violation_type and issuing_authority of a penalty, not the facts or amount.
    assert "虚假宣传".encode() in wire
    for withheld in ("在官网发布未经证实的产品功效", "50000.00", "violation_facts", "penalty_amount", "BJ-EL-77120931"):
        assert withheld.encode() not in wire, withheld


async def test_a_utility_sees_no_authorised_records(node: Node, connect: ChannelFactory, keys: KeyRing) -> None:
    await seed(connect)
    found = by_type(await ask(connect, "utility", inquiry("utility_connection")), keys)
    assert set(found) == {"administrative_penalty", "utility_arrears"}
    assert set(found["utility_arrears"]) == necessity("utility_arrears", "utility_connection")


async def test_public_lookup_reaches_only_public_records(node: Node, connect: ChannelFactory, keys: KeyRing) -> None:
    await seed(connect)
    # The person has no grant and is unregistered: public lookup needs neither.
    found = by_type(await ask(connect, "person", inquiry("public_lookup")), keys)
    assert set(found) == {"administrative_penalty"}


async def test_record_types_narrow_the_answer(node: Node, connect: ChannelFactory, keys: KeyRing) -> None:
    await seed(connect)
    answer = await ask(connect, "bank", inquiry("loan_underwriting", consent="A", record_types=("loan_default",)))
    assert set(by_type(answer, keys)) == {"loan_default"}


async def test_a_subject_sees_all_its_own_records(node: Node, connect: ChannelFactory, keys: KeyRing) -> None:
    stub = registry_pb2_grpc.RegistryServiceStub(connect("regulator"))
    await stub.SubmitRecord(loan_default_request(subject=person(PERSON)), timeout=5)
    found = by_type(await ask(connect, "person", inquiry("self_inquiry", subject=person(PERSON))), keys)
    assert set(found["loan_default"]) == necessity("loan_default", "self_inquiry")


async def test_withdrawn_and_expired_records_are_not_disclosed(
    node: Node, connect: ChannelFactory, keys: KeyRing
) -> None:
    stub = registry_pb2_grpc.RegistryServiceStub(connect("regulator"))
    withdrawn = (await stub.SubmitRecord(penalty_request("w"), timeout=5)).record
    await stub.WithdrawRecord(withdrawal(withdrawn.record_id))
    # A minor penalty may stay unpublished (2025 No. 22): zero days of disclosure.
    unpublished = penalty_request("m", severity="minor")
    unpublished.disclosure_days = 0
    await stub.SubmitRecord(unpublished, timeout=5)
    assert by_type(await ask(connect, "bank", inquiry("loan_underwriting", consent="A")), keys) == {}


DENIALS = [
    ("unknown purpose", "bank", inquiry("marketing"), grpc.StatusCode.INVALID_ARGUMENT, "purpose"),
    (
        "requester kind not allowed the purpose",
        "utility",
        inquiry("loan_underwriting", consent="A"),
        grpc.StatusCode.PERMISSION_DENIED,
        "REQUESTER_KIND_NOT_ALLOWED",
    ),
    (
        "requester without a grant",
        "bank_without_grant",
        inquiry("loan_underwriting", consent="A"),
        grpc.StatusCode.PERMISSION_DENIED,
        "NO_GRANT",
    ),
    ("consent missing", "bank", inquiry("loan_underwriting"), grpc.StatusCode.PERMISSION_DENIED, "CONSENT_REQUIRED"),
    (
        "someone else's self inquiry",
        "person",
        inquiry("self_inquiry", subject=person(OTHER_PERSON)),
        grpc.StatusCode.PERMISSION_DENIED,
        "NOT_THE_SUBJECT",
    ),
    (
        "USCC with a wrong check character",
        "bank",
        inquiry("loan_underwriting", subject=entity(COMPANY[:-1] + "1"), consent="A"),
        grpc.StatusCode.INVALID_ARGUMENT,
        "subject.identifier",
    ),
    (
        "resident ID with a wrong check digit",
        "bank",
        inquiry("loan_underwriting", subject=person(PERSON[:-1] + "0"), consent="A"),
        grpc.StatusCode.INVALID_ARGUMENT,
        "subject.identifier",
    ),
    (
        "subject kind unspecified",
        "bank",
        inquiry("loan_underwriting", subject=pb.Subject(identifier=COMPANY), consent="A"),
        grpc.StatusCode.INVALID_ARGUMENT,
        "subject.kind",
    ),
    (
        "a person whose number is also a bank's USCC borrows nothing from the bank",
        "twin_person",
        inquiry("loan_underwriting", consent="A"),
        grpc.StatusCode.PERMISSION_DENIED,
        "REQUESTER_KIND_NOT_ALLOWED",
    ),
    (
        "record type not in the catalog",
        "bank",
        inquiry("loan_underwriting", consent="A", record_types=("gossip",)),
        grpc.StatusCode.INVALID_ARGUMENT,
        "record_types",
    ),
]


@pytest.mark.parametrize(("case", "caller", "request_", "code", "detail"), DENIALS, ids=[d[0] for d in DENIALS])
async def test_denied_inquiries_are_refused_and_logged(
    node: Node,
    connect: ChannelFactory,
    case: str,
    caller: str,
    request_: inquiry_pb2.InquireRequest,
    code: grpc.StatusCode,
    detail: str,
) -> None:
    await seed(connect)
    records_before = node.gateway.store.count("records")
    events_before = node.gateway.store.count("events")
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await ask(connect, caller, request_)
    assert raised.value.code() is code, case
    if code is grpc.StatusCode.INVALID_ARGUMENT:
        assert detail in field_violations(raised.value)
    else:
        assert error_reason(raised.value) == detail
    # Nothing written but the denied-inquiry event.
    assert node.gateway.store.count("records") == records_before
    assert node.gateway.store.count("events") == events_before + 1
    [event] = inquiry_events(node)
    assert event.outcome is Outcome.DENIED
    assert event.records == ()
    if code is grpc.StatusCode.PERMISSION_DENIED:
        assert event.reason == detail
        assert event.citations, "a refusal cites the rule that refused"


async def test_no_answer_leaves_before_its_log_entry(
    node: Node, connect: ChannelFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the event cannot be committed the requester gets INTERNAL, no records, and no internal text."""
    await seed(connect)

    def disk_gone(*_: object) -> None:
        raise OSError("disk gone: /var/lib/secret/path")

    monkeypatch.setattr(node.gateway.store.events, "append_now", disk_gone)
    monkeypatch.setattr(node.gateway.store.events, "append", disk_gone)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await ask(connect, "bank", inquiry("loan_underwriting", consent="A"))
    assert raised.value.code() is grpc.StatusCode.INTERNAL
    assert raised.value.details() == "internal error"
    assert inquiry_events(node) == []


async def test_the_twin_bank_itself_keeps_its_grant(node: Node, connect: ChannelFactory, keys: KeyRing) -> None:
    await seed(connect)
    assert by_type(await ask(connect, "twin_bank", inquiry("loan_underwriting", consent="A")), keys)


async def test_rule_measures_an_answer_lists_the_catalog_measures_its_records_trigger(
    node: Node, connect: ChannelFactory
) -> None:
    await seed(connect)
    await registry_pb2_grpc.RegistryServiceStub(connect("court")).SubmitRecord(debtor_request(), timeout=5)
    answer = await ask(connect, "procurement", inquiry("public_procurement_review"))
    assert {m.name: list(m.grounds) for m in answer.measures} == {
        "exclude_from_public_procurement": ["record_type/dishonest_judgment_debtor"],
        "restrict_high_consumption": ["record_type/dishonest_judgment_debtor"],
    }
    assert all(m.legal_basis == CATALOG.measures[m.name].legal_basis for m in answer.measures)
    assert {c.rule for c in answer.citations} >= {f"measure/{m.name}" for m in answer.measures}
    # The log holds what was applied; a utility's purpose names no measure, so it gets none.
    assert inquiry_events(node)[-1].details["measures"] == "exclude_from_public_procurement,restrict_high_consumption"
    utility = await ask(connect, "utility", inquiry("utility_connection"))
    assert len(utility.records) > 0
    assert list(utility.measures) == []


async def test_bank_is_told_of_the_high_consumption_restriction_only_as_information(
    node: Node, connect: ChannelFactory
) -> None:
    """Issue 12 item 10; Fa Shi [2015] No. 17 Art. 3: the restriction is the court's order addressed to the
    debtor; a bank under loan underwriting is told of it as information, a procurement body applies the
    exclusion addressed to it; each measure states kind, implementing body, addressees and basic-list item."""
    await seed(connect)
    await registry_pb2_grpc.RegistryServiceStub(connect("court")).SubmitRecord(debtor_request(), timeout=5)
    bank = await ask(connect, "bank", inquiry("loan_underwriting", consent="A"))
    assert [(m.name, m.information_only, list(m.addressed_to)) for m in bank.measures] == [
        ("restrict_high_consumption", True, ["court"])
    ]
    assert (bank.measures[0].kind, bank.measures[0].basic_list_item) == ("administrative", "unverified")
    assert bank.measures[0].implementing_body
    procurement = await ask(connect, "procurement", inquiry("public_procurement_review"))
    assert {m.name: m.information_only for m in procurement.measures} == {
        "exclude_from_public_procurement": False,
        "restrict_high_consumption": True,
    }
    # The courts' entry is itself list membership, stated with the court's decision.
    assert [(m.list_name, m.decision_reference) for m in procurement.lists] == [
        ("dishonest_judgment_debtors", debtor_request().legal_document.number)
    ]
