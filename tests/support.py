"""Helpers for tests: the test federation's callers, valid requests, and reading rich errors."""

from __future__ import annotations

from datetime import date, timedelta

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from share_gateway.domain.policy import GrantRole
from share_gateway.domain.principals import Identity, IdentityKind, Role
from share_gateway.v1 import common_pb2 as pb
from share_gateway.v1 import inquiry_pb2, registry_pb2

REGION = "110000"
COMPANY = "91110105MA01ABCD00"
OTHER_COMPANY = "91310000MA00000025"
PERSON = "110105198001011238"
OTHER_PERSON = "310104199003074561"
TWIN = "11010519800101122X"
OFFICER = "12010119850505123X"

# Callers of the test federation: (identity, kind registered by the node, grants as (role, scope)).
CALLERS: dict[str, tuple[Identity, str | None, tuple[tuple[GrantRole, str], ...]]] = {
    "bank": (
        Identity(IdentityKind.INSTITUTION, "91110000MA0000001L"),
        "bank",
        ((GrantRole.INQUIRE, "loan_underwriting"),),
    ),
    "utility": (
        Identity(IdentityKind.INSTITUTION, "91310000MA00000025"),
        "utility",
        ((GrantRole.INQUIRE, "utility_connection"),),
    ),
    "procurement": (
        Identity(IdentityKind.INSTITUTION, "12440000MA0000003G"),
        "government_department",
        ((GrantRole.INQUIRE, "public_procurement_review"),),
    ),
    "licensing": (
        Identity(IdentityKind.INSTITUTION, "11440000MB0000000C"),
        "government_department",
        ((GrantRole.INQUIRE, "administrative_licensing_review"),),
    ),
    "regulator": (
        Identity(IdentityKind.INSTITUTION, "11110000MB00000048"),
        "public_agency",
        tuple(
            (GrantRole.SUBMIT, t)
            for t in (
                "business_registration",
                "administrative_penalty",
                "administrative_licence",
                "credit_commitment",
                "tax_arrears",
                "loan_default",
                "utility_arrears",
            )
        ),
    ),
    "court": (
        Identity(IdentityKind.INSTITUTION, "11110000MB0000005B"),
        "court",
        ((GrantRole.SUBMIT, "dishonest_judgment_debtor"),),
    ),
    "bank_without_grant": (Identity(IdentityKind.INSTITUTION, "91110000MA00000064"), "bank", ()),
    # Another agency holding the same grant as the regulator: it must not touch the regulator's records.
    "regulator_branch": (
        Identity(IdentityKind.INSTITUTION, "11110000MB0000007H"),
        "public_agency",
        ((GrantRole.SUBMIT, "administrative_penalty"),),
    ),
    # One string valid both as a USCC and as a resident ID: a bank and, unrelated, a person.
    "twin_bank": (
        Identity(IdentityKind.INSTITUTION, TWIN),
        "bank",
        ((GrantRole.INQUIRE, "loan_underwriting"),),
    ),
    "twin_person": (Identity(IdentityKind.PERSON, TWIN), None, ()),
    # The company most records are about, acting for itself (credit repair).
    "company": (Identity(IdentityKind.INSTITUTION, COMPANY), None, ()),
    "officer": (Identity(IdentityKind.PERSON, OFFICER), None, ()),
    "person": (Identity(IdentityKind.PERSON, PERSON), None, ()),
}
# Roles carried in certificates (sgw://role/...), by caller.
ROLES = {"officer": (Role.COMPLIANCE_OFFICER,)}


def days_ago(days: int) -> str:
    return (date.today() - timedelta(days=days)).isoformat()


def text(value: str) -> pb.FieldValue:
    return pb.FieldValue(text=value)


def entity(identifier: str = COMPANY) -> pb.Subject:
    return pb.Subject(kind=pb.SUBJECT_KIND_LEGAL_ENTITY, identifier=identifier)


def person(identifier: str = PERSON) -> pb.Subject:
    return pb.Subject(kind=pb.SUBJECT_KIND_INDIVIDUAL, identifier=identifier)


def resident_id(serial: int) -> str:
    """A valid resident ID number of 1980-01-01 with order code ``serial``: what an enumerator counts through."""
    body = f"11010519800101{serial:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]
    return body + check


def penalty_request(
    request_id: str = "penalty-1", subject: pb.Subject | None = None, severity: str = "general", issued: int = 30
) -> registry_pb2.SubmitRecordRequest:
    """A valid administrative penalty (SAMR Order 45 Art. 4 fields) decided ``issued`` days ago."""
    return registry_pb2.SubmitRecordRequest(
        request_id=request_id,
        record_type="administrative_penalty",
        subject=subject or entity(),
        fields={
            "decision_number": text("京市监罚〔2026〕118号"),
            "party_name": text("北京恒信科技有限公司"),
            "violation_type": text("虚假宣传"),
            "violation_facts": text("在官网发布未经证实的产品功效"),
            "penalty": text("罚款"),
            "penalty_amount": pb.FieldValue(money="50000.00"),
            "issuing_authority": text("北京市市场监督管理局"),
        },
        legal_document=pb.LegalDocument(
            number="京市监罚〔2026〕118号",
            issuer="北京市市场监督管理局",
            kind="administrative_penalty_decision",
            issued_on=days_ago(issued),
            effective_on=days_ago(issued),
        ),
        severity=severity,
    )


def listable_penalty_request(
    request_id: str = "penalty-listable",
    subject: pb.Subject | None = None,
    conduct: str = "refuses_statutory_obligation",
    issued: int = 30,
) -> registry_pb2.SubmitRecordRequest:
    """A serious penalty finding conduct a list criterion names (Guo Ban Fa [2020] No. 49 part IV item (6))."""
    request = penalty_request(request_id, subject, severity="serious", issued=issued)
    request.fields["conduct_code"].CopyFrom(text(conduct))
    return request


def loan_default_request(
    request_id: str = "loan-1", subject: pb.Subject | None = None
) -> registry_pb2.SubmitRecordRequest:
    return registry_pb2.SubmitRecordRequest(
        request_id=request_id,
        record_type="loan_default",
        subject=subject or entity(),
        fields={
            "lender": text("中国工商银行北京分行"),
            "contract_number": text("ICBC-BJ-2024-00917"),
            "principal": pb.FieldValue(money="2000000.00"),
            "overdue_amount": pb.FieldValue(money="350000.00"),
            "overdue_since": pb.FieldValue(date=days_ago(200)),
            "days_overdue": pb.FieldValue(integer=200),
            "settled": pb.FieldValue(boolean=False),
        },
        severity="negative",
    )


def utility_arrears_request(
    request_id: str = "utility-1", subject: pb.Subject | None = None
) -> registry_pb2.SubmitRecordRequest:
    return registry_pb2.SubmitRecordRequest(
        request_id=request_id,
        record_type="utility_arrears",
        subject=subject or entity(),
        fields={
            "utility_kind": text("electricity"),
            "provider": text("国网北京市电力公司"),
            "account_reference": text("BJ-EL-77120931"),
            "arrears_amount": pb.FieldValue(money="18230.55"),
            "arrears_since": pb.FieldValue(date=days_ago(120)),
            "notices_sent": pb.FieldValue(integer=3),
        },
        severity="general",
    )


def debtor_request(request_id: str = "debtor-1", subject: pb.Subject | None = None) -> registry_pb2.SubmitRecordRequest:
    """A dishonest judgment debtor: a type the sample catalog shares nationwide."""
    return registry_pb2.SubmitRecordRequest(
        request_id=request_id,
        record_type="dishonest_judgment_debtor",
        subject=subject or entity(),
        fields={
            "debtor_name": text("北京恒信科技有限公司"),
            "legal_representative": text("王建国"),
            "obligation": text("支付货款人民币120万元及利息"),
            "performance": text("全部未履行"),
            "conduct": text("有履行能力而拒不履行生效法律文书确定义务"),
            "enforcement_basis_issuer": text("北京市朝阳区人民法院"),
            "enforcement_basis_number": text("(2025)京0105民初1234号"),
            "case_number": text("(2026)京0105执567号"),
            "filed_on": pb.FieldValue(date=days_ago(90)),
            "court": text("北京市朝阳区人民法院"),
        },
        legal_document=pb.LegalDocument(
            number="(2026)京0105执567号之一",
            issuer="北京市朝阳区人民法院",
            kind="dishonest_judgment_debtor_decision",
            issued_on=days_ago(60),
            effective_on=days_ago(60),
        ),
        severity="standard",
    )


def revoking_document(issued: int = 0) -> pb.LegalDocument:
    """The decision that revoked a record's decision, issued ``issued`` days ago: a withdrawal rests on it."""
    return pb.LegalDocument(
        number="京政复〔2026〕7号",
        issuer="北京市人民政府",
        kind="reconsideration",
        issued_on=days_ago(issued),
        effective_on=days_ago(issued),
    )


def withdrawal(record_id: str, reason: str = "revoked", issued: int = 0) -> registry_pb2.WithdrawRecordRequest:
    """A withdrawal of ``record_id`` on its revoking decision, issued ``issued`` days ago."""
    return registry_pb2.WithdrawRecordRequest(
        record_id=record_id, reason=reason, revoking_document=revoking_document(issued)
    )


def inquiry(
    purpose: str, subject: pb.Subject | None = None, consent: str = "", record_types: tuple[str, ...] = ()
) -> inquiry_pb2.InquireRequest:
    return inquiry_pb2.InquireRequest(
        subject=subject or entity(), purpose=purpose, consent_reference=consent, record_types=record_types
    )


def field_violations(error: grpc.aio.AioRpcError) -> dict[str, str]:
    """The google.rpc.BadRequest field violations a status carries, by field path."""
    status = rpc_status.from_call(error)
    assert status is not None, "the status carries no google.rpc details"
    violations: dict[str, str] = {}
    for detail in status.details:
        bad = error_details_pb2.BadRequest()
        if detail.Unpack(bad):
            violations.update({v.field: v.description for v in bad.field_violations})
    return violations


def error_reason(error: grpc.aio.AioRpcError) -> str:
    """The google.rpc.ErrorInfo reason a status carries."""
    status = rpc_status.from_call(error)
    assert status is not None, "the status carries no google.rpc details"
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return str(info.reason)
    raise AssertionError("no ErrorInfo in the status")
