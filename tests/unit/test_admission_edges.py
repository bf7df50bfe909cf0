"""Admission at its edges: counts from 0 to 2^63-1, every violation reported, a one-day period, stored booleans.

Each case sits on a boundary mutation testing found unpinned in ``domain/records.py``;
the numbers are written out rather than read from the module.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from share_gateway.catalog import sample_catalog_text
from share_gateway.domain.catalog import Catalog, FieldSpec, FieldType
from share_gateway.domain.errors import FieldViolation, InvalidInput
from share_gateway.domain.record_documents import LegalDocumentDraft, admit_legal_document
from share_gateway.domain.records import Record, RecordDraft, TypedValue, admit_record, check_stored_value

CATALOG = Catalog.from_yaml(sample_catalog_text())
NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
TODAY = NOW.date()


def utility_arrears(notices_sent: int, **extra: TypedValue) -> RecordDraft:
    return RecordDraft(
        record_type="utility_arrears",
        subject_kind="legal_entity",
        subject_identifier="91110105MA01ABCD00",
        fields={
            "utility_kind": TypedValue(FieldType.STRING, "electricity"),
            "provider": TypedValue(FieldType.STRING, "国网北京市电力公司"),
            "account_reference": TypedValue(FieldType.STRING, "0105-778812"),
            "arrears_amount": TypedValue(FieldType.MONEY, "1200.00"),
            "arrears_since": TypedValue(FieldType.DATE, "2026-06-01"),
            "notices_sent": TypedValue(FieldType.INTEGER, notices_sent),
            **extra,
        },
        severity="general",
    )


def admit(draft: RecordDraft, now: datetime = NOW) -> Record:
    return admit_record(CATALOG, draft, record_id="r-1", origin_region="110000", submitted_by="agency", now=now)


def refused(draft: RecordDraft, now: datetime = NOW) -> list[str]:
    with pytest.raises(InvalidInput) as error:
        admit(draft, now)
    return [v.field for v in error.value.violations]


@pytest.mark.parametrize(("count", "text"), [(0, "0"), (9223372036854775807, "9223372036854775807")])
def test_a_count_is_admitted_from_0_to_2_to_the_63_minus_1(count: int, text: str) -> None:
    assert admit(utility_arrears(count)).fields["notices_sent"] == text


@pytest.mark.parametrize("count", [-1, 9223372036854775808])
def test_a_count_outside_0_to_2_to_the_63_minus_1_is_refused(count: int) -> None:
    assert refused(utility_arrears(count)) == ["fields.notices_sent"]


def test_every_field_violation_is_reported_not_only_the_first() -> None:
    # An unknown field first, then a bad amount: both are named.
    draft = utility_arrears(3)
    fields = {"gossip": TypedValue(FieldType.STRING, "x"), **draft.fields}
    fields["arrears_amount"] = TypedValue(FieldType.MONEY, "12.345")
    assert refused(replace(draft, fields=fields)) == ["fields.gossip", "fields.arrears_amount"]


def test_a_one_day_disclosure_period_that_already_ended_is_refused() -> None:
    def minor(days: int, decided: date) -> RecordDraft:
        return RecordDraft(
            record_type="administrative_penalty",
            subject_kind="legal_entity",
            subject_identifier="91110105MA01ABCD00",
            fields={
                name: TypedValue(FieldType.STRING, "n" if name == "decision_number" else "x")
                for name in ("decision_number", "party_name", "violation_type", "penalty", "issuing_authority")
            },
            legal_document=LegalDocumentDraft(
                "n", "i", "administrative_penalty_decision", decided.isoformat(), decided.isoformat()
            ),
            severity="minor",
            disclosure_days=days,
        )

    yesterday = TODAY - timedelta(days=1)
    assert refused(minor(1, yesterday)) == ["legal_document.issued_on"]
    assert admit(minor(1, TODAY)).share_until == TODAY + timedelta(days=1)
    assert admit(minor(2, yesterday)).share_until == TODAY + timedelta(days=1)


def test_a_legal_document_with_a_missing_text_is_not_admitted_even_with_valid_dates() -> None:
    violations: list[FieldViolation] = []
    draft = LegalDocumentDraft(" ", "北京市市场监督管理局", "decision", "2026-12-01", "2026-12-01")
    assert admit_legal_document(draft, TODAY, "legal_document", violations) is None
    assert violations == [FieldViolation("legal_document.number", "is required")]


SETTLED = FieldSpec("settled", FieldType.BOOLEAN, required=True)
DAYS = FieldSpec("days_overdue", FieldType.INTEGER, required=True)


@pytest.mark.parametrize(("spec", "text"), [(SETTLED, "true"), (SETTLED, "false"), (DAYS, "0"), (DAYS, "731")])
def test_a_stored_canonical_value_still_conforms(spec: FieldSpec, text: str) -> None:
    violations: list[FieldViolation] = []
    check_stored_value(spec, text, f"fields.{spec.name}", violations)
    assert violations == []


@pytest.mark.parametrize(("spec", "text"), [(SETTLED, "True"), (SETTLED, "1"), (DAYS, "007"), (DAYS, "-1")])
def test_a_stored_value_in_another_form_no_longer_conforms(spec: FieldSpec, text: str) -> None:
    violations: list[FieldViolation] = []
    check_stored_value(spec, text, f"fields.{spec.name}", violations)
    assert [v.field for v in violations] == [f"fields.{spec.name}"]
