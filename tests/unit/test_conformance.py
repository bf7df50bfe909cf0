"""Catalog conformance: which stored records a new catalog version no longer admits, and why (by path)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml

from share_gateway.api.convert import draft_from_wire
from share_gateway.catalog import sample_catalog_text
from share_gateway.domain.catalog import Catalog
from share_gateway.domain.catalog_document import parse_catalog
from share_gateway.domain.conformance import MAX_REPORTED_IDS, Quarantined, SweepReport, nonconformities
from share_gateway.domain.errors import FieldViolation
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.domain.records import Record, admit_record
from share_gateway.v1 import registry_pb2
from tests.support import REGION, loan_default_request, penalty_request, person, utility_arrears_request

V1 = Catalog.from_yaml(sample_catalog_text())
NOW = datetime.now(UTC)


def v2(edit: Callable[[dict[str, Any]], None]) -> Catalog:
    """The sample catalog as version 2, with one edit to its document."""
    document = yaml.safe_load(sample_catalog_text())
    document["version"] = 2
    edit(document)
    return parse_catalog(document)


def types(document: dict[str, Any]) -> dict[str, Any]:
    record_types: dict[str, Any] = document["record_types"]
    return record_types


def admitted(request: registry_pb2.SubmitRecordRequest) -> Record:
    return admit_record(
        V1,
        draft_from_wire(request),
        record_id=request.request_id,
        origin_region=REGION,
        submitted_by="sgw://x",
        now=NOW,
    )


def paths(violations: tuple[FieldViolation, ...]) -> list[str]:
    return [v.field for v in violations]


def test_catalog_conformance_every_record_conforms_to_the_catalog_that_admitted_it() -> None:
    for request in (penalty_request(), loan_default_request(), utility_arrears_request()):
        assert nonconformities(V1, admitted(request)) == ()
    assert nonconformities(v2(lambda d: None), admitted(penalty_request())) == ()


def test_catalog_conformance_a_record_whose_type_left_the_catalog_does_not_conform() -> None:
    def drop(document: dict[str, Any]) -> None:
        del types(document)["utility_arrears"]

    assert nonconformities(v2(drop), admitted(utility_arrears_request())) == (
        FieldViolation("record_type", "'utility_arrears' is not in catalog version 2"),
    )
    assert nonconformities(v2(drop), admitted(loan_default_request())) == ()


def test_catalog_conformance_a_field_that_left_the_catalog_or_became_required() -> None:
    def edit(document: dict[str, Any]) -> None:
        penalty = types(document)["administrative_penalty"]
        del penalty["fields"]["penalty_amount"]
        for fields in penalty["necessity"].values():
            if "penalty_amount" in fields:
                fields.remove("penalty_amount")
        penalty["fields"]["violation_facts"]["required"] = True

    with_amount = admitted(penalty_request())
    without_facts = replace(with_amount, fields={k: v for k, v in with_amount.fields.items() if k != "violation_facts"})
    assert paths(nonconformities(v2(edit), with_amount)) == ["fields.penalty_amount"]
    found = nonconformities(v2(edit), without_facts)
    assert found == (
        FieldViolation("fields.penalty_amount", "is not a field of administrative_penalty"),
        FieldViolation("fields.violation_facts", "is required"),
    )


@pytest.mark.parametrize(
    ("new_type", "expected"),
    [
        ("date", "'3' is not an ISO 8601 date (YYYY-MM-DD)"),
        ("boolean", "must be of type boolean, not string"),
        ("money", "'3' is not the canonical text of a money"),
    ],
)
def test_catalog_conformance_a_value_the_retyped_field_no_longer_admits(new_type: str, expected: str) -> None:
    def retype(document: dict[str, Any]) -> None:
        types(document)["utility_arrears"]["fields"]["notices_sent"]["type"] = new_type

    assert nonconformities(v2(retype), admitted(utility_arrears_request())) == (
        FieldViolation("fields.notices_sent", expected),
    )


def test_catalog_conformance_values_are_checked_by_the_admission_rules() -> None:
    def edit(document: dict[str, Any]) -> None:
        fields = types(document)["utility_arrears"]["fields"]
        fields["provider"]["max_length"] = 4  # narrowed
        fields["account_reference"]["type"] = "integer"  # "BJ-EL-77120931" is no count
        fields["utility_kind"]["type"] = "string"  # unchanged type: still fine

    found = nonconformities(v2(edit), admitted(utility_arrears_request()))
    assert set(found) == {  # in the order the fields were stored
        FieldViolation("fields.provider", "is longer than 4 characters"),
        FieldViolation("fields.account_reference", "must be of type integer, not string"),
    }
    assert len(found) == 2


def test_catalog_conformance_an_amount_below_a_threshold_a_source_now_gives() -> None:
    """Issue 12: once a catalog gives utility arrears a sourced threshold, stored arrears below it no longer
    conform (a threshold no source gives, as in version 1, refuses nothing). The amount is unverified."""
    stored = admitted(utility_arrears_request())  # 18230.55 yuan

    def threshold(minimum: str) -> Callable[[dict[str, Any]], None]:
        def edit(document: dict[str, Any]) -> None:
            source = "a rule giving the amount (unverified)"
            types(document)["utility_arrears"]["threshold"] = {
                "field": "arrears_amount", "minimum": minimum, "source": source
            }  # fmt: skip

        return edit

    assert paths(nonconformities(v2(threshold("20000")), stored)) == ["fields.arrears_amount"]
    assert nonconformities(v2(threshold("18230.55")), stored) == ()


def test_catalog_conformance_a_subject_kind_the_type_no_longer_records() -> None:
    def entities_only(document: dict[str, Any]) -> None:
        types(document)["administrative_penalty"]["subject_kinds"] = ["legal_entity"]

    about_person = admitted(penalty_request(subject=person()))
    assert about_person.subject == Subject(SubjectKind.INDIVIDUAL, about_person.subject.identifier)
    assert paths(nonconformities(v2(entities_only), about_person)) == ["subject.kind"]
    assert nonconformities(v2(entities_only), admitted(penalty_request())) == ()


def test_catalog_conformance_a_severity_no_longer_defined_or_a_period_no_longer_allowed() -> None:
    def edit(document: dict[str, Any]) -> None:
        periods = types(document)["administrative_penalty"]["severity_periods"]
        del periods["minor"]
        periods["general"] = ["90d", "180d"]

    assert nonconformities(v2(edit), admitted(penalty_request(severity="minor"))) == (
        FieldViolation("severity", "must be one of general, serious"),
    )
    assert nonconformities(v2(edit), admitted(penalty_request(severity="general"))) == (
        FieldViolation("disclosure_days", "general allows 90 to 180 days, not 365"),
    )
    assert nonconformities(v2(edit), admitted(penalty_request(severity="serious"))) == ()


def test_catalog_conformance_a_type_that_now_needs_a_legal_document_or_loses_its_periods() -> None:
    def edit(document: dict[str, Any]) -> None:
        types(document)["loan_default"]["legal_document_required"] = True
        del types(document)["utility_arrears"]["severity_periods"]

    assert paths(nonconformities(v2(edit), admitted(loan_default_request()))) == ["legal_document"]
    assert paths(nonconformities(v2(edit), admitted(utility_arrears_request()))) == ["severity", "disclosure_days"]


def test_catalog_conformance_the_report_names_every_quarantined_record_but_caps_the_event() -> None:
    reasons = (FieldViolation("record_type", "gone"),)
    many = tuple(Quarantined(f"r-{n:04d}", reasons) for n in range(MAX_REPORTED_IDS + 5))
    report = SweepReport(2, "ab" * 32, 500, many, quarantined_before=("a-earlier",))
    details = report.event_details()
    assert details["quarantined"] == str(MAX_REPORTED_IDS + 6)
    assert details["record_ids"].split(",") == ["a-earlier", *(f"r-{n:04d}" for n in range(MAX_REPORTED_IDS - 1))]
    assert details["record_ids_truncated"] == "true"
    assert report.describe().splitlines()[0] == f"catalog version 2 ({'ab' * 6}…): 500 records checked, 106 quarantined"
    assert "  r-0000: record_type: gone" in report.describe().splitlines()
