"""Refused drafts: whatever the sample catalog does not define, or rests on no legally effective document.

Every refusal is checked by the exact paths of its violations, all at once.
"""

from __future__ import annotations

import dataclasses

import pytest

from share_gateway.domain.catalog import FieldType
from share_gateway.domain.errors import InvalidInput
from share_gateway.domain.records import TypedValue
from tests.unit.records_support import (
    ENTITY,
    PERSON,
    TODAY,
    admit,
    boolean,
    day,
    document,
    integer,
    loan_default,
    money,
    paths,
    penalty,
    registration,
    text,
    violations,
)


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


@pytest.mark.parametrize(
    "value",
    [TypedValue(FieldType.INTEGER, "178"), TypedValue(FieldType.INTEGER, True), TypedValue(FieldType.INTEGER, -1)],
    ids=["text-claiming-integer", "boolean-claiming-integer", "negative-count"],
)
def test_an_integer_field_takes_only_a_non_negative_integer(value: TypedValue) -> None:
    draft = loan_default()
    draft = dataclasses.replace(draft, fields={**draft.fields, "days_overdue": value})
    assert [field for field, _ in violations(draft)] == ["fields.days_overdue"]
