"""Record drafts of the sample catalog's types, and admitting them, shared by the record admission tests."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from importlib import resources

import pytest

from share_gateway.domain.catalog import Catalog, FieldType
from share_gateway.domain.errors import InvalidInput
from share_gateway.domain.record_documents import LegalDocumentDraft
from share_gateway.domain.records import Record, RecordDraft, TypedValue, admit_record

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
TODAY = NOW.date()
ENTITY = "91440300MA5ABCDE1H"
PERSON = "110105198001011238"
SUBMITTER = "11110000MB00000048"

CATALOG = Catalog.from_yaml(
    resources.files("share_gateway").joinpath("catalog/sample.yaml").read_text(encoding="utf-8")
)


def text(value: str) -> TypedValue:
    return TypedValue(FieldType.STRING, value)


def money(value: str) -> TypedValue:
    return TypedValue(FieldType.MONEY, value)


def day(value: str) -> TypedValue:
    return TypedValue(FieldType.DATE, value)


def integer(value: int) -> TypedValue:
    return TypedValue(FieldType.INTEGER, value)


def boolean(value: bool) -> TypedValue:
    return TypedValue(FieldType.BOOLEAN, value)


def document(issued_on: str = "2026-11-20", effective_on: str | None = None, **changes: str) -> LegalDocumentDraft:
    draft = LegalDocumentDraft(
        number="Jing Shi Jian Fa [2026] No. 101",
        issuer="Beijing Municipal Administration for Market Regulation",
        kind="administrative_penalty_decision",
        issued_on=issued_on,
        effective_on=issued_on if effective_on is None else effective_on,
    )
    return dataclasses.replace(draft, **changes)


PENALTY_FIELDS: dict[str, TypedValue] = {
    "decision_number": text("Jing Shi Jian Fa [2026] No. 101"),
    "party_name": text("Zhang San"),
    "violation_type": text("selling goods past their shelf life"),
    "penalty": text("fine"),
    "penalty_amount": money("1500"),
    "issuing_authority": text("Beijing Municipal Administration for Market Regulation"),
}


def penalty(
    *,
    severity: str = "general",
    disclosure_days: int | None = None,
    issued_on: str = "2026-11-20",
    subject_kind: str = "individual",
    subject_identifier: str = PERSON,
    **fields: TypedValue,
) -> RecordDraft:
    return RecordDraft(
        record_type="administrative_penalty",
        subject_kind=subject_kind,
        subject_identifier=subject_identifier,
        fields={**PENALTY_FIELDS, **fields},
        legal_document=document(issued_on),
        severity=severity,
        disclosure_days=disclosure_days,
    )


def registration(**fields: TypedValue) -> RecordDraft:
    return RecordDraft(
        record_type="business_registration",
        subject_kind="legal_entity",
        subject_identifier=ENTITY,
        fields={
            "entity_name": text("Shenzhen Example Trading Co., Ltd."),
            "entity_type": text("limited liability company"),
            "legal_representative": text("Li Si"),
            "registered_capital": money("1500"),
            "established_on": day("2020-05-01"),
            "registered_address": text("1 Example Road, Bao'an, Shenzhen"),
            "registration_authority": text("Shenzhen Administration for Market Regulation"),
            **fields,
        },
        legal_document=document("2020-05-01", kind="business_licence"),
    )


def loan_default() -> RecordDraft:
    return RecordDraft(
        record_type="loan_default",
        subject_kind="individual",
        subject_identifier=PERSON,
        fields={
            "lender": text("Example Commercial Bank"),
            "contract_number": text("LN-2025-000123"),
            "principal": money("200000.5"),
            "overdue_amount": money("12000"),
            "overdue_since": day("2026-06-01"),
            "days_overdue": integer(178),
            "settled": boolean(False),
        },
        severity="negative",
    )


def admit(draft: RecordDraft, now: datetime = NOW) -> Record:
    return admit_record(CATALOG, draft, record_id="rec-0001", origin_region="110000", submitted_by=SUBMITTER, now=now)


def violations(draft: RecordDraft) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as error:
        admit(draft)
    return [(v.field, v.description) for v in error.value.violations]


def paths(draft: RecordDraft) -> list[str]:
    return sorted(field for field, _ in violations(draft))
