"""Admitting records: drafts of each sample catalog type go in with one canonical text for every value."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from decimal import Decimal

import pytest

from share_gateway.domain.catalog import FieldType
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.domain.record_documents import LegalDocument
from share_gateway.domain.records import RecordDraft, RecordStatus, canonical_text, parse_canonical
from tests.unit.records_support import (
    CATALOG,
    ENTITY,
    NOW,
    PENALTY_FIELDS,
    PERSON,
    SUBMITTER,
    TODAY,
    admit,
    boolean,
    day,
    document,
    integer,
    loan_default,
    money,
    penalty,
    registration,
    text,
    violations,
)


def test_business_registration_is_admitted_with_canonical_values() -> None:
    record = admit(registration())
    assert record.fields == {
        "entity_name": "Shenzhen Example Trading Co., Ltd.",
        "entity_type": "limited liability company",
        "legal_representative": "Li Si",
        "registered_capital": "1500.00",
        "established_on": "2020-05-01",
        "registered_address": "1 Example Road, Bao'an, Shenzhen",
        "registration_authority": "Shenzhen Administration for Market Regulation",
    }
    assert record.record_id == "rec-0001"
    assert record.record_type == "business_registration"
    assert record.subject == Subject(SubjectKind.LEGAL_ENTITY, ENTITY)
    assert record.origin_region == "110000"
    assert record.submitted_by == SUBMITTER
    assert record.status is RecordStatus.ACTIVE
    assert record.version == 1
    assert record.catalog_version == CATALOG.version == 1
    assert record.recorded_at == NOW
    assert record.severity is None
    assert record.share_until is None  # no severity periods: no end to publication
    assert record.decided_on == date(2020, 5, 1)
    assert record.legal_document == LegalDocument(
        number="Jing Shi Jian Fa [2026] No. 101",
        issuer="Beijing Municipal Administration for Market Regulation",
        kind="business_licence",
        issued_on=date(2020, 5, 1),
        effective_on=date(2020, 5, 1),
    )


def test_administrative_penalty_about_an_individual_is_admitted() -> None:
    record = admit(penalty(violation_facts=text("37 cartons of milk past their date")))
    assert record.subject == Subject(SubjectKind.INDIVIDUAL, PERSON)
    assert record.fields["penalty_amount"] == "1500.00"
    assert record.fields["violation_facts"] == "37 cartons of milk past their date"
    assert set(record.fields) == set(PENALTY_FIELDS) | {"violation_facts"}
    assert record.severity == "general"
    assert record.decided_on == date(2026, 11, 20)


def test_administrative_penalty_about_a_legal_entity_is_admitted() -> None:
    record = admit(penalty(subject_kind="legal_entity", subject_identifier=ENTITY.lower()))
    assert record.subject == Subject(SubjectKind.LEGAL_ENTITY, ENTITY)


def test_loan_default_without_legal_document_is_admitted_with_canonical_values() -> None:
    """loan_default needs no legal document; its clock starts on the day it is recorded."""
    record = admit(loan_default())
    assert record.fields == {
        "lender": "Example Commercial Bank",
        "contract_number": "LN-2025-000123",
        "principal": "200000.50",
        "overdue_amount": "12000.00",
        "overdue_since": "2026-06-01",
        "days_overdue": "178",
        "settled": "false",
    }
    assert record.legal_document is None
    # No decision: no decision date (never today), and an unsettled default has no end yet (Credit Reporting
    # Industry Regulation Art. 16: five years from the end of the conduct).
    assert (record.decided_on, record.period_start, record.share_until) == (None, None, None)


def test_credit_commitment_boolean_true_is_canonical_true() -> None:
    record = admit(
        RecordDraft(
            record_type="credit_commitment",
            subject_kind="legal_entity",
            subject_identifier=ENTITY,
            fields={
                "commitment_type": text("notification and commitment"),
                "matter": text("food business licence"),
                "committed_on": day("2026-01-15"),
                "accepting_authority": text("Shenzhen Administration for Market Regulation"),
                "kept": boolean(True),
            },
        )
    )
    assert record.fields["kept"] == "true"
    assert record.fields["committed_on"] == "2026-01-15"
    # No decision: the clock runs from publication, to the type's maximum (every record has one).
    assert record.decided_on is None
    assert record.share_until == TODAY + timedelta(days=1095)


def test_dishonest_judgment_debtor_is_admitted_with_integer_age() -> None:
    """Supreme People's Court rules: for a person name, sex, age, ID number; list period 2 years."""
    record = admit(
        RecordDraft(
            record_type="dishonest_judgment_debtor",
            subject_kind="individual",
            subject_identifier=PERSON,
            fields={
                "debtor_name": text("Zhang San"),
                "sex": text("male"),
                "age": integer(46),
                "obligation": text("repay 80000 yuan with interest"),
                "performance": text("not performed"),
                "conduct": text("evading enforcement by transferring property"),
                "enforcement_basis_issuer": text("Chaoyang District People's Court"),
                "enforcement_basis_number": text("(2025) Jing 0105 Min Chu 1234"),
                "case_number": text("(2026) Jing 0105 Zhi 567"),
                "filed_on": day("2026-03-02"),
                "court": text("Chaoyang District People's Court"),
            },
            legal_document=document("2026-10-01", kind="dishonest_judgment_debtor_decision"),
            severity="standard",
        )
    )
    assert record.fields["age"] == "46"
    assert record.share_until == date(2026, 10, 1) + timedelta(days=730)


def test_utility_arrears_with_chosen_disclosure_days() -> None:
    record = admit(
        RecordDraft(
            record_type="utility_arrears",
            subject_kind="legal_entity",
            subject_identifier=ENTITY,
            fields={
                "utility_kind": text("electricity"),
                "provider": text("State Grid Shenzhen"),
                "account_reference": text("E-000123"),
                "arrears_amount": money("0.01"),
                "arrears_since": day("2026-01-01"),
                "notices_sent": integer(3),
            },
            severity="serious",
            disclosure_days=400,
            settled_on="2026-10-01",
        )
    )
    assert record.fields["arrears_amount"] == "0.01"
    assert record.fields["notices_sent"] == "3"
    # Its clock runs from the end of the conduct (the arrears settled), not from the day it was entered.
    assert record.share_until == date(2026, 10, 1) + timedelta(days=400)


def test_legal_document_text_is_trimmed() -> None:
    draft = dataclasses.replace(
        penalty(decision_number=text("CF-2026-001")), legal_document=document(number="  CF-2026-001 ", issuer=" SAMR\t")
    )
    record = admit(draft)
    assert record.legal_document is not None
    assert record.legal_document.number == "CF-2026-001"
    assert record.legal_document.issuer == "SAMR"


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("1500", "1500.00"),
        ("1500.5", "1500.50"),
        ("1500.50", "1500.50"),
        ("0", "0.00"),
        ("0.01", "0.01"),
    ],
)
def test_money_has_one_canonical_text(raw: str, canonical: str) -> None:
    record = admit(penalty(penalty_amount=money(raw)))
    assert record.fields["penalty_amount"] == canonical


@pytest.mark.parametrize("raw", ["-0", "-0.00", "1500.500", "00012", "1e2", " 12", "+5"])
def test_money_is_accepted_only_in_its_plain_decimal_form(raw: str) -> None:
    """One text per amount: spellings that would need normalising ('-0', '1e2', '00012') are refused."""
    assert [field for field, _ in violations(penalty(penalty_amount=money(raw)))] == ["fields.penalty_amount"]


@pytest.mark.parametrize(
    ("field_type", "value", "canonical"),
    [
        (FieldType.STRING, "Zhang San", "Zhang San"),
        (FieldType.INTEGER, 178, "178"),
        (FieldType.MONEY, Decimal("1500"), "1500.00"),
        (FieldType.MONEY, Decimal("0.1"), "0.10"),
        (FieldType.DATE, date(2026, 1, 5), "2026-01-05"),
        (FieldType.BOOLEAN, True, "true"),
        (FieldType.BOOLEAN, False, "false"),
    ],
)
def test_canonical_text_and_back(
    field_type: FieldType, value: str | int | Decimal | date | bool, canonical: str
) -> None:
    assert canonical_text(field_type, value) == canonical
    assert parse_canonical(field_type, canonical) == value
    assert canonical_text(field_type, parse_canonical(field_type, canonical)) == canonical
