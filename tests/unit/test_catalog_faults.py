"""The catalog loader's faults: what each says, all reported at once, and documents that are not catalogs at all."""

from __future__ import annotations

from typing import Any

import pytest

from share_gateway.domain.catalog import Catalog
from share_gateway.domain.catalog_document import parse_catalog
from share_gateway.domain.errors import CatalogInvalid
from tests.unit.catalog_support import PENALTY, Mutate, append, delete, problems_of, sample_document, set_


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        pytest.param(
            set_(*PENALTY, "fields", "penalty_amount", "type", value="currency"),
            "must be one of string, integer, money, date, boolean, not 'currency'",
            id="unknown-field-type",
        ),
        pytest.param(
            set_(*PENALTY, "necessity", "loan_underwriting", 0, value="no_such_field"),
            "unknown field 'no_such_field'",
            id="necessity-unknown-field",
        ),
        pytest.param(
            set_(*PENALTY, "necessity", "debt_collection", value=["decision_number"]),
            "unknown purpose 'debt_collection'",
            id="necessity-unknown-purpose",
        ),
        pytest.param(
            set_(*PENALTY, "severity_periods", "minor", 1, value="90 days"),
            "'90d', not '90 days'",
            id="days-with-unit-word",
        ),
        pytest.param(
            set_(*PENALTY, "severity_periods", "general", value=["365d", "90d"]),
            "minimum exceeds maximum",
            id="minimum-exceeds-maximum",
        ),
        pytest.param(
            set_("lists", "serious_untrustworthy", "criteria", 0, "record_type", value="tax_arrears"),
            "'tax_arrears' is not list-eligible",
            id="not-list-eligible",
        ),
        pytest.param(
            set_("lists", "serious_untrustworthy", "criteria", 0, "severities", value=["serious"]),
            "a disclosure tier is not a listing ground",
            id="severities-refused",
        ),
        pytest.param(
            append("purposes", "utility_connection", "reaches", value="authorised"),
            "must require consent or be self-only",
            id="authorised-without-consent",
        ),
        pytest.param(delete("authority"), "is required", id="missing-authority"),
        pytest.param(set_("signature", value="abc"), "unknown key", id="unknown-key"),
    ],
)
def test_fault_descriptions_say_what_is_wrong(mutate: Mutate, fragment: str) -> None:
    document = sample_document()
    mutate(document)
    (problem,) = problems_of(document)
    assert fragment in problem[1]


def test_every_fault_is_reported_at_once() -> None:
    document = sample_document()
    set_(*PENALTY, "fields", "penalty_amount", "type", value="currency")(document)
    set_(*PENALTY, "necessity", "loan_underwriting", 0, value="no_such_field")(document)
    set_(*PENALTY, "severity_periods", "minor", 1, value="90 days")(document)
    set_("measures", "restrict_high_consumption", "purposes", 1, value="debt_collection")(document)
    delete("purposes", "public_lookup", "legal_basis")(document)
    set_("version", value=0)(document)
    fields = [field for field, _ in problems_of(document)]
    assert sorted(fields) == sorted(
        [
            "version",
            "purposes.public_lookup.legal_basis",
            "record_types.administrative_penalty.fields.penalty_amount.type",
            "record_types.administrative_penalty.necessity.loan_underwriting[0]",
            "record_types.administrative_penalty.severity_periods.minor[1]",
            "measures.restrict_high_consumption.purposes[1]",
        ]
    )


def test_broken_purposes_section_is_named_first_and_its_dependants_after() -> None:
    """A purposes section that is not a mapping leaves every necessity and measure naming a
    purpose unresolved: the section itself is reported, and each dangling reference too."""
    document = sample_document()
    set_("purposes", value=["loan_underwriting"])(document)
    fields = [field for field, _ in problems_of(document)]
    assert fields[0] == "purposes"
    assert "record_types.loan_default.necessity.loan_underwriting" in fields
    assert "measures.restrict_high_consumption.purposes[0]" in fields


@pytest.mark.parametrize(
    "document",
    [["version", 1], "version: 1", 7, None],
    ids=["list", "string", "integer", "empty-document"],
)
def test_non_mapping_root_is_refused_at_the_root(document: Any) -> None:
    problems = problems_of(document)
    assert problems[0] == ("$", "must be a mapping")
    # With nothing readable, every required top-level key is reported too.
    assert {field for field, _ in problems[1:]} == {
        "version",
        "authority",
        "requester_kinds",
        "purposes",
        "record_types",
    }


def test_yaml_syntax_error_is_refused_at_the_root() -> None:
    with pytest.raises(CatalogInvalid) as error:
        Catalog.from_yaml("version: [1\npurposes: {")
    (problem,) = error.value.problems
    assert problem.field == "$"
    assert problem.description.startswith("not YAML")


def test_catalog_invalid_message_lists_each_problem_with_its_path() -> None:
    document = sample_document()
    set_("version", value=0)(document)
    delete("authority")(document)
    with pytest.raises(CatalogInvalid) as error:
        parse_catalog(document)
    lines = str(error.value).splitlines()
    assert lines == [f"{p.field}: {p.description}" for p in error.value.problems]
    assert [line.split(":")[0] for line in lines] == ["version", "authority"]
