"""Admitting records: only as the sample catalog defines them, on a legally effective document.

Every refusal is checked by the exact paths of its violations, all at once.
Disclosure windows are checked against the rule they implement (DOMAIN.md,
"Disclosure periods": State Council General Office 2025 No. 22 / NDRC Order
36 -- minor at most 3 months, general 3 months to 1 year, serious 1 to 3
years; the clock starts at the decision date).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from importlib import resources

import pytest

from share_gateway.domain.catalog import Catalog, FieldType
from share_gateway.domain.errors import InvalidInput, InvalidState
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.domain.records import (
    LegalDocument,
    LegalDocumentDraft,
    Record,
    RecordDraft,
    RecordStatus,
    TypedValue,
    admit_record,
    canonical_text,
    change_status,
    parse_canonical,
)

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
        kind="administrative penalty decision",
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
        legal_document=document("2020-05-01", kind="business licence"),
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


# --- Admitted drafts ---------------------------------------------------------------


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
    assert record.disclose_until is None  # no severity periods: no end to publication
    assert record.decided_on == date(2020, 5, 1)
    assert record.legal_document == LegalDocument(
        number="Jing Shi Jian Fa [2026] No. 101",
        issuer="Beijing Municipal Administration for Market Regulation",
        kind="business licence",
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
    assert record.decided_on == TODAY
    # Credit Reporting Industry Regulation Art. 16: negative information kept five years.
    assert record.disclose_until == TODAY + timedelta(days=1825)


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
    assert record.disclose_until is None


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
            legal_document=document("2026-10-01", kind="decision to list"),
            severity="standard",
        )
    )
    assert record.fields["age"] == "46"
    assert record.disclose_until == date(2026, 10, 1) + timedelta(days=730)


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
        )
    )
    assert record.fields["arrears_amount"] == "0.01"
    assert record.fields["notices_sent"] == "3"
    assert record.disclose_until == TODAY + timedelta(days=400)


def test_legal_document_text_is_trimmed() -> None:
    draft = dataclasses.replace(penalty(), legal_document=document(number="  CF-2026-001 ", issuer=" SAMR\t"))
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


# --- Refused drafts, each named by the path of its fault ---------------------------


def test_unknown_record_type_is_refused_at_record_type() -> None:
    draft = dataclasses.replace(penalty(), record_type="bankruptcy")
    assert violations(draft) == [("record_type", "'bankruptcy' is not in catalog version 1")]


def test_unknown_field_is_refused() -> None:
    assert paths(penalty(colour=text("red"))) == ["fields.colour"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("penalty_amount", text("1500")),
        ("party_name", money("1500")),
        ("penalty", integer(3)),
        ("decision_number", boolean(True)),
        ("issuing_authority", day("2026-11-20")),
    ],
)
def test_value_of_the_wrong_type_is_refused(name: str, value: TypedValue) -> None:
    draft = penalty()
    found = violations(dataclasses.replace(draft, fields={**draft.fields, name: value}))
    assert [field for field, _ in found] == [f"fields.{name}"]
    assert f"not {value.type.value}" in found[0][1]


@pytest.mark.parametrize("name", ["decision_number", "party_name", "violation_type", "penalty", "issuing_authority"])
def test_missing_required_field_is_refused(name: str) -> None:
    draft = penalty()
    draft = dataclasses.replace(draft, fields={k: v for k, v in draft.fields.items() if k != name})
    assert violations(draft) == [(f"fields.{name}", "is required")]


def test_optional_field_may_be_left_out() -> None:
    draft = penalty()
    draft = dataclasses.replace(draft, fields={k: v for k, v in draft.fields.items() if k != "penalty_amount"})
    assert "penalty_amount" not in admit(draft).fields


@pytest.mark.parametrize(
    "raw",
    ["-1", "-0.01", "1.005", "12.345", "abc", "", "1,500", "NaN", "Infinity", "-Infinity"],
    ids=[
        "negative",
        "negative-cent",
        "three-decimals",
        "three-decimals-b",
        "letters",
        "empty",
        "thousands-separator",
        "nan",
        "infinity",
        "minus-infinity",
    ],
)
def test_money_that_is_not_yuan_with_two_decimals_is_refused(raw: str) -> None:
    found = violations(penalty(penalty_amount=money(raw)))
    assert found == [("fields.penalty_amount", f"{raw!r} is not an amount in yuan below 10^15 with two decimals")]


@pytest.mark.parametrize("raw", ["1e30", "1" + "0" * 28], ids=["exponent", "29-digits"])
def test_money_beyond_decimal_precision_is_refused_not_crashing(raw: str) -> None:
    """An amount too large to quantize to cents must be a violation, never an unhandled error."""
    assert paths(penalty(penalty_amount=money(raw))) == ["fields.penalty_amount"]


@pytest.mark.parametrize(
    "raw",
    ["2020-5-01", "2020/05/01", "01-05-2020", "2020-02-30", "2020-13-01", "", "2020-05-01T00:00", "20200501"],
)
def test_field_date_that_is_not_yyyy_mm_dd_is_refused(raw: str) -> None:
    found = violations(registration(established_on=day(raw)))
    assert found == [("fields.established_on", f"{raw!r} is not an ISO 8601 date (YYYY-MM-DD)")]


def test_iso_week_date_is_not_accepted_as_yyyy_mm_dd() -> None:
    """'2020-W18-5' is 10 characters and ``date.fromisoformat`` reads it on Python 3.11+,
    but the format promised (and named in the violation) is YYYY-MM-DD."""
    assert paths(registration(established_on=day("2020-W18-5"))) == ["fields.established_on"]


def test_string_longer_than_max_length_is_refused() -> None:
    """Fields without max_length in the catalog allow 2000 characters (DEFAULT_MAX_TEXT)."""
    assert paths(penalty(violation_facts=text("x" * 2001))) == ["fields.violation_facts"]
    assert admit(penalty(violation_facts=text("x" * 2000))).fields["violation_facts"] == "x" * 2000


@pytest.mark.parametrize("raw", ["", "   "])
def test_empty_string_is_refused(raw: str) -> None:
    assert violations(penalty(party_name=text(raw))) == [("fields.party_name", "must not be empty")]


def test_missing_legal_document_is_refused_where_required() -> None:
    """Principle 1: a finding of untrustworthy conduct must rest on a legally effective document."""
    draft = dataclasses.replace(penalty(), legal_document=None)
    assert paths(draft) == ["legal_document"]


def test_document_not_yet_effective_is_refused() -> None:
    draft = dataclasses.replace(penalty(), legal_document=document("2026-11-20", "2026-11-27"))
    assert violations(draft) == [("legal_document.effective_on", "the document is not yet legally effective")]


def test_document_effective_today_is_accepted() -> None:
    draft = dataclasses.replace(penalty(), legal_document=document("2026-11-20", TODAY.isoformat()))
    assert admit(draft).legal_document is not None


def test_document_effective_before_issue_is_refused() -> None:
    draft = dataclasses.replace(penalty(), legal_document=document("2026-11-20", "2026-11-19"))
    assert violations(draft) == [("legal_document.effective_on", "precedes the issue date")]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"issued_on": "20/11/2026"}, ["legal_document.issued_on"]),
        ({"effective_on": "2026-11-31"}, ["legal_document.effective_on"]),
        ({"issued_on": "", "effective_on": ""}, ["legal_document.effective_on", "legal_document.issued_on"]),
        ({"number": "  "}, ["legal_document.number"]),
        ({"issuer": ""}, ["legal_document.issuer"]),
        ({"kind": ""}, ["legal_document.kind"]),
        ({"issuer": "x" * 201}, ["legal_document.issuer"]),
    ],
    ids=[
        "issued-on-format",
        "effective-on-impossible",
        "both-dates-empty",
        "number-blank",
        "issuer-empty",
        "kind-empty",
        "issuer-too-long",
    ],
)
def test_malformed_legal_document_is_refused_by_path(changes: dict[str, str], expected: list[str]) -> None:
    draft = dataclasses.replace(penalty(), legal_document=dataclasses.replace(document(), **changes))
    assert paths(draft) == expected


def test_business_registration_about_an_individual_is_refused() -> None:
    draft = dataclasses.replace(registration(), subject_kind="individual", subject_identifier=PERSON)
    assert violations(draft) == [("subject.kind", "business_registration is not recorded about individual")]


@pytest.mark.parametrize(
    ("kind", "identifier", "path"),
    [
        ("individual", "110105198001011239", "subject.identifier"),
        ("legal_entity", PERSON, "subject.identifier"),
        ("company", ENTITY, "subject.kind"),
    ],
)
def test_bad_subject_is_refused_by_path(kind: str, identifier: str, path: str) -> None:
    assert paths(penalty(subject_kind=kind, subject_identifier=identifier)) == [path]


@pytest.mark.parametrize("severity", ["grave", "", "Serious"])
def test_severity_outside_the_catalog_is_refused(severity: str) -> None:
    found = violations(penalty(severity=severity))
    assert found == [("severity", "must be one of minor, general, serious")]


def test_severity_on_a_type_without_severities_is_refused() -> None:
    draft = dataclasses.replace(registration(), severity="serious", disclosure_days=400)
    assert paths(draft) == ["disclosure_days", "severity"]


def test_every_violation_is_reported_at_once() -> None:
    draft = dataclasses.replace(
        penalty(
            subject_identifier="110105198001011239",
            severity="grave",
            penalty_amount=text("1500"),
            colour=text("red"),
        ),
        legal_document=document("2026-11-20", "2026-12-01"),
    )
    draft = dataclasses.replace(draft, fields={k: v for k, v in draft.fields.items() if k != "party_name"})
    assert paths(draft) == [
        "fields.colour",
        "fields.party_name",
        "fields.penalty_amount",
        "legal_document.effective_on",
        "severity",
        "subject.identifier",
    ]


def test_invalid_input_message_names_each_path() -> None:
    with pytest.raises(InvalidInput) as error:
        admit(penalty(severity="grave", colour=text("red")))
    assert "fields.colour: " in str(error.value)
    assert "severity: " in str(error.value)


# --- Disclosure windows (2025 No. 22; the clock starts at the decision date) -------


@pytest.mark.parametrize(
    ("severity", "days"),
    [
        ("minor", 0),
        ("minor", 90),
        ("general", 90),
        ("general", 365),
        ("serious", 365),
        ("serious", 1095),
    ],
)
def test_disclosure_days_at_the_bounds_of_each_severity_are_accepted(severity: str, days: int) -> None:
    """2025 No. 22: minor at most 3 months (0-90d), general 3 months-1 year (90-365d),
    serious 1-3 years (365-1095d); the window ends decision date + days."""
    record = admit(penalty(severity=severity, disclosure_days=days, issued_on="2026-11-20"))
    assert record.disclose_until == date(2026, 11, 20) + timedelta(days=days)


@pytest.mark.parametrize(
    ("severity", "days"),
    [("minor", 91), ("minor", -1), ("general", 89), ("general", 366), ("serious", 364), ("serious", 1096)],
)
def test_disclosure_days_outside_the_severity_range_are_refused(severity: str, days: int) -> None:
    """2025 No. 22 bounds: a period outside its severity's range is refused at disclosure_days."""
    found = violations(penalty(severity=severity, disclosure_days=days))
    assert [field for field, _ in found] == ["disclosure_days"]
    assert f"not {days}" in found[0][1]


@pytest.mark.parametrize(("severity", "maximum"), [("minor", 90), ("general", 365), ("serious", 1095)])
def test_without_disclosure_days_the_maximum_applies(severity: str, maximum: int) -> None:
    """2025 No. 22: publication stops automatically at the maximum."""
    record = admit(penalty(severity=severity, issued_on="2026-11-20"))
    assert record.disclose_until == date(2026, 11, 20) + timedelta(days=maximum)


def test_clock_starts_at_the_decision_date_not_effective_date_or_today() -> None:
    """2025 No. 22: the clock starts at the decision date (the document's issue date)."""
    draft = dataclasses.replace(penalty(severity="serious"), legal_document=document("2026-03-01", "2026-04-15"))
    record = admit(draft)
    assert record.decided_on == date(2026, 3, 1)
    assert record.disclose_until == date(2026, 3, 1) + timedelta(days=1095)


def test_minor_penalty_with_zero_days_is_admitted_but_never_published() -> None:
    """2025 No. 22: a minor finding may stay unpublished."""
    record = admit(penalty(severity="minor", disclosure_days=0, issued_on="2026-01-10"))
    assert record.disclose_until == date(2026, 1, 10)
    assert not record.is_disclosable(TODAY)


def test_disclosure_period_that_already_ended_is_refused() -> None:
    """A general penalty decided 2025-06-01 and published 90 days ended on 2025-08-30."""
    found = violations(penalty(severity="general", disclosure_days=90, issued_on="2025-06-01"))
    assert found == [("legal_document.issued_on", "the disclosure period already ended on 2025-08-30")]


def test_disclosure_period_ending_today_counts_as_ended() -> None:
    issued = TODAY - timedelta(days=90)
    assert paths(penalty(severity="minor", issued_on=issued.isoformat())) == ["legal_document.issued_on"]


def test_disclosure_period_ending_tomorrow_is_admitted_and_disclosable_today_only() -> None:
    issued = TODAY - timedelta(days=89)
    record = admit(penalty(severity="minor", issued_on=issued.isoformat()))
    assert record.disclose_until == TODAY + timedelta(days=1)
    assert record.is_disclosable(TODAY)
    assert not record.is_disclosable(TODAY + timedelta(days=1))


# --- is_disclosable ---------------------------------------------------------------


def test_is_disclosable_until_but_excluding_disclose_until() -> None:
    record = admit(penalty(severity="general", disclosure_days=100, issued_on="2026-11-20"))
    until = date(2026, 11, 20) + timedelta(days=100)
    assert record.disclose_until == until
    assert record.is_disclosable(until - timedelta(days=1))
    assert not record.is_disclosable(until)
    assert not record.is_disclosable(until + timedelta(days=1))


def test_record_without_period_is_disclosable_while_active() -> None:
    record = admit(registration())
    assert record.is_disclosable(TODAY)
    assert record.is_disclosable(date(2100, 1, 1))


@pytest.mark.parametrize("status", [s for s in RecordStatus if s is not RecordStatus.ACTIVE])
def test_only_active_records_are_disclosable(status: RecordStatus) -> None:
    record = dataclasses.replace(admit(penalty()), status=status)
    assert not record.is_disclosable(TODAY)


# --- Status changes ---------------------------------------------------------------


def test_active_record_can_be_withdrawn() -> None:
    record = admit(penalty())
    withdrawn = change_status(record, RecordStatus.WITHDRAWN)
    assert withdrawn.status is RecordStatus.WITHDRAWN
    assert withdrawn.version == 2
    assert dataclasses.replace(withdrawn, status=RecordStatus.ACTIVE, version=1) == record
    assert record.status is RecordStatus.ACTIVE  # the original is untouched
    assert not withdrawn.is_disclosable(TODAY)


@pytest.mark.parametrize(
    ("start", "to"),
    [
        (RecordStatus.WITHDRAWN, RecordStatus.WITHDRAWN),
        (RecordStatus.WITHDRAWN, RecordStatus.ACTIVE),
        (RecordStatus.ACTIVE, RecordStatus.ACTIVE),
        (RecordStatus.EXPIRED, RecordStatus.ACTIVE),
    ],
)
def test_status_change_outside_the_table_is_refused(start: RecordStatus, to: RecordStatus) -> None:
    record = dataclasses.replace(admit(penalty()), status=start)
    with pytest.raises(InvalidState):
        change_status(record, to)


def test_withdrawing_twice_is_refused() -> None:
    withdrawn = change_status(admit(penalty()), RecordStatus.WITHDRAWN)
    with pytest.raises(InvalidState, match="withdrawn"):
        change_status(withdrawn, RecordStatus.WITHDRAWN)


# --- canonical_text / parse_canonical ---------------------------------------------


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


@pytest.mark.parametrize(
    "value",
    [TypedValue(FieldType.INTEGER, "178"), TypedValue(FieldType.INTEGER, True), TypedValue(FieldType.INTEGER, -1)],
    ids=["text-claiming-integer", "boolean-claiming-integer", "negative-count"],
)
def test_an_integer_field_takes_only_a_non_negative_integer(value: TypedValue) -> None:
    draft = loan_default()
    draft = dataclasses.replace(draft, fields={**draft.fields, "days_overdue": value})
    assert [field for field, _ in violations(draft)] == ["fields.days_overdue"]
