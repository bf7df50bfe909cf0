"""The catalog loader: the sample parses, and every fault is named by its exact path.

The refusal cases are a table of mutations of the sample catalog, each named
by the mutation it makes (the transparency-dev/merkle habit: ``happy-path``,
``modified-proof[0]`` ...). A case lists the exact paths the loader must
report, so a fault reported at the wrong place, or a spurious extra fault,
fails the case.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from importlib import resources
from typing import Any

import pytest
import yaml

from share_gateway.domain.catalog import (
    DEFAULT_MAX_TEXT,
    Catalog,
    Category,
    DisclosurePeriod,
    DisclosureScope,
    FieldType,
    ListCriterion,
)
from share_gateway.domain.catalog_document import parse_catalog
from share_gateway.domain.errors import CatalogInvalid
from share_gateway.domain.identifiers import SubjectKind

SAMPLE_TEXT = resources.files("share_gateway").joinpath("catalog/sample.yaml").read_text(encoding="utf-8")

RECORD_TYPES = {
    "business_registration",
    "administrative_penalty",
    "administrative_licence",
    "dishonest_judgment_debtor",
    "tax_arrears",
    "loan_default",
    "utility_arrears",
    "credit_commitment",
}
PURPOSES = {
    "loan_underwriting",
    "credit_report_compilation",
    "utility_connection",
    "public_procurement_review",
    "administrative_licensing_review",
    "public_lookup",
    "self_inquiry",
}


@pytest.fixture(scope="module")
def sample() -> Catalog:
    return Catalog.from_yaml(SAMPLE_TEXT)


_SAMPLE_DOCUMENT = yaml.safe_load(SAMPLE_TEXT)


def sample_document() -> dict[str, Any]:
    """A private deep copy of the sample as ``yaml.safe_load`` reads it, ready to mutate."""
    assert isinstance(_SAMPLE_DOCUMENT, dict)
    return copy.deepcopy(_SAMPLE_DOCUMENT)


def problems_of(document: Any) -> list[tuple[str, str]]:
    with pytest.raises(CatalogInvalid) as error:
        parse_catalog(document)
    return [(p.field, p.description) for p in error.value.problems]


# --- The sample parses -----------------------------------------------------------


def test_sample_catalog_parses_with_all_record_types_and_purposes(sample: Catalog) -> None:
    assert sample.version == 1
    assert sample.authority.startswith("Federation authority (sample)")
    assert set(sample.record_types) == RECORD_TYPES
    assert set(sample.purposes) == PURPOSES
    assert set(sample.lists) == {"serious_untrustworthy"}
    assert set(sample.measures) == {
        "exclude_from_public_procurement",
        "no_simplified_licensing",
        "restrict_high_consumption",
    }
    assert set(sample.requester_kinds) == {
        "bank",
        "credit_reporting_agency",
        "utility",
        "government_department",
        "public_agency",
        "legal_entity",
        "individual",
    }


def test_sample_catalog_parses_from_bytes_too() -> None:
    assert Catalog.from_yaml(SAMPLE_TEXT.encode()) == Catalog.from_yaml(SAMPLE_TEXT)


def test_parse_catalog_of_loaded_document_equals_from_yaml(sample: Catalog) -> None:
    assert parse_catalog(sample_document()) == sample


def test_administrative_penalty_severity_periods_follow_2025_no_22(sample: Catalog) -> None:
    """State Council General Office 2025 No. 22: minor at most 3 months, general 3 months-1 year,
    serious 1-3 years."""
    penalty = sample.record_types["administrative_penalty"]
    assert dict(penalty.severity_periods) == {
        "minor": DisclosurePeriod(0, 90),
        "general": DisclosurePeriod(90, 365),
        "serious": DisclosurePeriod(365, 1095),
    }
    assert penalty.category is Category.GOVERNMENT_AFFAIRS
    assert penalty.disclosure is DisclosureScope.PUBLIC
    assert penalty.subject_kinds == frozenset({SubjectKind.LEGAL_ENTITY, SubjectKind.INDIVIDUAL})
    assert penalty.legal_document_required is True
    assert penalty.repairable is True
    assert penalty.list_eligible is True


def test_administrative_penalty_fields_follow_samr_order_45(sample: Catalog) -> None:
    """SAMR Order 45 Art. 4: decision number, party, violation, penalty, authority."""
    fields = sample.record_types["administrative_penalty"].fields
    assert set(fields) == {
        "decision_number",
        "party_name",
        "violation_type",
        "violation_facts",
        "penalty",
        "penalty_amount",
        "issuing_authority",
    }
    assert fields["penalty_amount"].type is FieldType.MONEY
    assert fields["penalty_amount"].required is False
    assert fields["decision_number"].type is FieldType.STRING
    assert fields["decision_number"].required is True
    assert fields["decision_number"].max_length == DEFAULT_MAX_TEXT


def test_dishonest_judgment_debtor_standard_period_is_two_years(sample: Catalog) -> None:
    """Court list of dishonest debtors: 2 years, extendable (DOMAIN.md, seriously-untrustworthy list)."""
    debtor = sample.record_types["dishonest_judgment_debtor"]
    assert debtor.severity_periods["standard"] == DisclosurePeriod(730, 730)
    assert debtor.category is Category.JUDICIAL
    assert debtor.shared_nationwide is True
    assert debtor.fields["age"].type is FieldType.INTEGER
    assert debtor.fields["filed_on"].type is FieldType.DATE


def test_loan_default_is_authorised_and_kept_five_years(sample: Catalog) -> None:
    """Credit Reporting Industry Regulation Art. 16: negative information kept 5 years."""
    loan = sample.record_types["loan_default"]
    assert loan.disclosure is DisclosureScope.AUTHORISED
    assert loan.severity_periods == {"negative": DisclosurePeriod(1825, 1825)}
    assert loan.legal_document_required is False
    assert loan.category is Category.FINANCE
    assert loan.fields["settled"].type is FieldType.BOOLEAN
    assert set(loan.necessity) == {"loan_underwriting", "credit_report_compilation", "self_inquiry"}


def test_disclosure_scopes_of_sample(sample: Catalog) -> None:
    scopes = {name: rt.disclosure for name, rt in sample.record_types.items()}
    assert scopes["utility_arrears"] is DisclosureScope.SHARED
    assert scopes["loan_default"] is DisclosureScope.AUTHORISED
    assert {n for n, s in scopes.items() if s is DisclosureScope.PUBLIC} == RECORD_TYPES - {
        "utility_arrears",
        "loan_default",
    }


def test_business_registration_is_only_about_legal_entities(sample: Catalog) -> None:
    assert sample.record_types["business_registration"].subject_kinds == frozenset({SubjectKind.LEGAL_ENTITY})


def test_necessity_sets_are_read_exactly(sample: Catalog) -> None:
    penalty = sample.record_types["administrative_penalty"]
    assert penalty.necessity["utility_connection"] == frozenset({"violation_type", "issuing_authority"})
    assert sample.record_types["business_registration"].necessity["utility_connection"] == frozenset(
        {"entity_name", "registered_address"}
    )
    assert "public_lookup" not in sample.record_types["loan_default"].necessity
    assert "utility_connection" not in sample.record_types["administrative_licence"].necessity


def test_purposes_of_sample(sample: Catalog) -> None:
    loan = sample.purposes["loan_underwriting"]
    assert loan.requester_kinds == frozenset({"bank", "credit_reporting_agency"})
    assert loan.consent_required is True
    assert loan.grant_required is True
    assert loan.reaches == frozenset(DisclosureScope)
    assert "Arts. 18 and 20" in loan.legal_basis

    lookup = sample.purposes["public_lookup"]
    assert lookup.reaches == frozenset({DisclosureScope.PUBLIC})
    assert lookup.grant_required is False
    assert lookup.requester_kinds == frozenset(sample.requester_kinds)

    own = sample.purposes["self_inquiry"]
    assert own.self_only is True
    assert own.consent_required is False
    assert DisclosureScope.AUTHORISED in own.reaches

    assert sample.purposes["utility_connection"].reaches == frozenset({DisclosureScope.PUBLIC, DisclosureScope.SHARED})


def test_every_sample_purpose_reaching_authorised_needs_consent_or_is_self_only(sample: Catalog) -> None:
    for purpose in sample.purposes.values():
        if DisclosureScope.AUTHORISED in purpose.reaches:
            assert purpose.consent_required or purpose.self_only, purpose.name


def test_every_sample_necessity_names_defined_fields_and_a_purpose_that_reaches_it(sample: Catalog) -> None:
    for record_type in sample.record_types.values():
        assert record_type.necessity, record_type.name
        for purpose, fields in record_type.necessity.items():
            assert fields, (record_type.name, purpose)
            assert fields <= set(record_type.fields), (record_type.name, purpose)
            assert record_type.disclosure in sample.purposes[purpose].reaches, (record_type.name, purpose)


def test_sample_list_and_measures(sample: Catalog) -> None:
    listing = sample.lists["serious_untrustworthy"]
    assert listing.criteria == (
        ListCriterion("administrative_penalty", frozenset({"serious"})),
        ListCriterion("dishonest_judgment_debtor", frozenset()),
    )
    assert listing.notice_working_days == 5
    assert listing.objection_working_days == 5
    assert listing.duration_days == 1095

    exclude = sample.measures["exclude_from_public_procurement"]
    assert exclude.triggered_by_lists == frozenset({"serious_untrustworthy"})
    assert exclude.triggered_by_record_types == frozenset({"dishonest_judgment_debtor"})
    assert exclude.purposes == frozenset({"public_procurement_review"})
    assert sample.measures["no_simplified_licensing"].triggered_by_record_types == frozenset()
    assert sample.measures["restrict_high_consumption"].triggered_by_lists == frozenset()


def test_catalog_objects_are_frozen(sample: Catalog) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        sample.version = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        sample.record_types["loan_default"].disclosure = DisclosureScope.PUBLIC  # type: ignore[misc]


def test_optional_keys_take_their_defaults() -> None:
    document = sample_document()
    tax = document["record_types"]["tax_arrears"]
    del tax["legal_document_required"]
    del tax["repairable"]
    del document["purposes"]["utility_connection"]["consent_required"]
    del document["lists"]
    del document["measures"]["exclude_from_public_procurement"]
    del document["measures"]["no_simplified_licensing"]
    catalog = parse_catalog(document)
    assert catalog.record_types["tax_arrears"].legal_document_required is True
    assert catalog.record_types["tax_arrears"].repairable is False
    assert catalog.purposes["utility_connection"].consent_required is False
    assert catalog.purposes["utility_connection"].grant_required is True
    assert catalog.lists == {}


def test_max_length_is_read() -> None:
    document = sample_document()
    document["record_types"]["administrative_penalty"]["fields"]["party_name"]["max_length"] = 300
    catalog = parse_catalog(document)
    assert catalog.record_types["administrative_penalty"].fields["party_name"].max_length == 300


# --- Mutations of the sample, each with the exact paths it must be refused at -----

Mutate = Callable[[dict[str, Any]], None]


def at(document: dict[str, Any], path: tuple[str | int, ...]) -> Any:
    node: Any = document
    for key in path:
        node = node[key]
    return node


def set_(*path: str | int, value: Any) -> Mutate:
    def mutate(document: dict[str, Any]) -> None:
        at(document, path[:-1])[path[-1]] = value

    return mutate


def delete(*path: str | int) -> Mutate:
    def mutate(document: dict[str, Any]) -> None:
        del at(document, path[:-1])[path[-1]]

    return mutate


def append(*path: str | int, value: Any) -> Mutate:
    def mutate(document: dict[str, Any]) -> None:
        at(document, path).append(value)

    return mutate


def rename(*path: str | int, to: str) -> Mutate:
    def mutate(document: dict[str, Any]) -> None:
        parent = at(document, path[:-1])
        parent[to] = parent.pop(path[-1])

    return mutate


PENALTY = ("record_types", "administrative_penalty")

MUTATIONS: list[tuple[str, Mutate, tuple[str, ...]]] = [
    # Field definitions.
    (
        "unknown-field-type",
        set_(*PENALTY, "fields", "penalty_amount", "type", value="currency"),
        ("record_types.administrative_penalty.fields.penalty_amount.type",),
    ),
    (
        "missing-field-type",
        delete(*PENALTY, "fields", "penalty_amount", "type"),
        ("record_types.administrative_penalty.fields.penalty_amount.type",),
    ),
    (
        "unknown-key-in-field",
        set_(*PENALTY, "fields", "penalty_amount", "currency", value="CNY"),
        ("record_types.administrative_penalty.fields.penalty_amount.currency",),
    ),
    (
        "field-required-not-boolean",
        set_(*PENALTY, "fields", "party_name", "required", value="yes"),
        ("record_types.administrative_penalty.fields.party_name.required",),
    ),
    (
        "field-max-length-zero",
        set_(*PENALTY, "fields", "party_name", "max_length", value=0),
        ("record_types.administrative_penalty.fields.party_name.max_length",),
    ),
    (
        "field-name-not-snake-case",
        rename(*PENALTY, "fields", "violation_facts", to="ViolationFacts"),
        (
            "record_types.administrative_penalty.fields.ViolationFacts",
            "record_types.administrative_penalty.necessity.credit_report_compilation[3]",
            "record_types.administrative_penalty.necessity.self_inquiry[3]",
        ),
    ),
    # Necessity.
    (
        "necessity-unknown-field",
        set_(*PENALTY, "necessity", "loan_underwriting", 0, value="no_such_field"),
        ("record_types.administrative_penalty.necessity.loan_underwriting[0]",),
    ),
    (
        "necessity-field-listed-twice",
        append(*PENALTY, "necessity", "utility_connection", value="violation_type"),
        ("record_types.administrative_penalty.necessity.utility_connection[2]",),
    ),
    (
        "necessity-unknown-purpose",
        set_(*PENALTY, "necessity", "debt_collection", value=["decision_number"]),
        ("record_types.administrative_penalty.necessity.debt_collection",),
    ),
    (
        "necessity-empty-list",
        set_(*PENALTY, "necessity", "utility_connection", value=[]),
        ("record_types.administrative_penalty.necessity.utility_connection",),
    ),
    (
        "necessity-not-a-mapping",
        set_(*PENALTY, "necessity", value=["loan_underwriting"]),
        ("record_types.administrative_penalty.necessity",),
    ),
    (
        "necessity-missing",
        delete(*PENALTY, "necessity"),
        ("record_types.administrative_penalty.necessity",),
    ),
    # Record type keys.
    (
        "unknown-key-in-record-type",
        set_("record_types", "tax_arrears", "retention", value="5y"),
        ("record_types.tax_arrears.retention",),
    ),
    (
        "record-type-unknown-category",
        set_("record_types", "loan_default", "category", value="banking"),
        ("record_types.loan_default.category",),
    ),
    (
        "record-type-unknown-disclosure",
        set_("record_types", "loan_default", "disclosure", value="secret"),
        ("record_types.loan_default.disclosure",),
    ),
    (
        "record-type-unknown-subject-kind",
        append("record_types", "business_registration", "subject_kinds", value="robot"),
        ("record_types.business_registration.subject_kinds[1]",),
    ),
    (
        "record-type-no-fields",
        set_("record_types", "utility_arrears", "fields", value={}),
        (
            "record_types.utility_arrears.fields",
            "record_types.utility_arrears.necessity.loan_underwriting[0]",
            "record_types.utility_arrears.necessity.loan_underwriting[1]",
            "record_types.utility_arrears.necessity.loan_underwriting[2]",
            "record_types.utility_arrears.necessity.loan_underwriting[3]",
            "record_types.utility_arrears.necessity.credit_report_compilation[0]",
            "record_types.utility_arrears.necessity.credit_report_compilation[1]",
            "record_types.utility_arrears.necessity.credit_report_compilation[2]",
            "record_types.utility_arrears.necessity.credit_report_compilation[3]",
            "record_types.utility_arrears.necessity.credit_report_compilation[4]",
            "record_types.utility_arrears.necessity.utility_connection[0]",
            "record_types.utility_arrears.necessity.utility_connection[1]",
            "record_types.utility_arrears.necessity.utility_connection[2]",
            "record_types.utility_arrears.necessity.utility_connection[3]",
            "record_types.utility_arrears.necessity.utility_connection[4]",
            "record_types.utility_arrears.necessity.self_inquiry[0]",
            "record_types.utility_arrears.necessity.self_inquiry[1]",
            "record_types.utility_arrears.necessity.self_inquiry[2]",
            "record_types.utility_arrears.necessity.self_inquiry[3]",
            "record_types.utility_arrears.necessity.self_inquiry[4]",
            "record_types.utility_arrears.necessity.self_inquiry[5]",
        ),
    ),
    (
        "record-type-name-not-snake-case",
        rename("record_types", "credit_commitment", to="Credit-Commitment"),
        ("record_types.Credit-Commitment",),
    ),
    (
        "record-type-not-a-mapping",
        set_("record_types", "credit_commitment", value="public"),
        # The body itself, then every required key of a record type.
        (
            "record_types.credit_commitment",
            "record_types.credit_commitment.fields",
            "record_types.credit_commitment.fields",
            "record_types.credit_commitment.necessity",
            "record_types.credit_commitment.category",
            "record_types.credit_commitment.subject_kinds",
            "record_types.credit_commitment.legal_basis",
            "record_types.credit_commitment.disclosure",
        ),
    ),
    # Missing or empty legal bases.
    (
        "purpose-missing-legal-basis",
        delete("purposes", "public_lookup", "legal_basis"),
        ("purposes.public_lookup.legal_basis",),
    ),
    (
        "purpose-blank-legal-basis",
        set_("purposes", "public_lookup", "legal_basis", value="   "),
        ("purposes.public_lookup.legal_basis",),
    ),
    (
        "record-type-missing-legal-basis",
        delete("record_types", "loan_default", "legal_basis"),
        ("record_types.loan_default.legal_basis",),
    ),
    (
        "measure-missing-legal-basis",
        delete("measures", "no_simplified_licensing", "legal_basis"),
        ("measures.no_simplified_licensing.legal_basis",),
    ),
    (
        "list-missing-legal-basis",
        delete("lists", "serious_untrustworthy", "legal_basis"),
        ("lists.serious_untrustworthy.legal_basis",),
    ),
    # Severity periods.
    (
        "severity-period-minimum-exceeds-maximum",
        set_(*PENALTY, "severity_periods", "general", value=["365d", "90d"]),
        ("record_types.administrative_penalty.severity_periods.general",),
    ),
    (
        "severity-period-days-with-unit-word",
        set_(*PENALTY, "severity_periods", "minor", 1, value="90 days"),
        ("record_types.administrative_penalty.severity_periods.minor[1]",),
    ),
    (
        "severity-period-days-as-integer",
        set_(*PENALTY, "severity_periods", "minor", 0, value=0),
        ("record_types.administrative_penalty.severity_periods.minor[0]",),
    ),
    (
        "severity-period-days-negative",
        set_(*PENALTY, "severity_periods", "minor", 0, value="-1d"),
        ("record_types.administrative_penalty.severity_periods.minor[0]",),
    ),
    (
        "severity-period-not-a-pair",
        set_(*PENALTY, "severity_periods", "general", value=["90d"]),
        ("record_types.administrative_penalty.severity_periods.general",),
    ),
    (
        "severity-name-not-snake-case",
        rename(*PENALTY, "severity_periods", "serious", to="Serious"),
        (
            "record_types.administrative_penalty.severity_periods.Serious",
            "lists.serious_untrustworthy.criteria[0].severities[0]",
        ),
    ),
    (
        "severity-periods-empty",
        set_(*PENALTY, "severity_periods", value={}),
        (
            "record_types.administrative_penalty.severity_periods",
            "lists.serious_untrustworthy.criteria[0].severities[0]",
        ),
    ),
    # Purposes.
    (
        "purpose-reaches-authorised-without-consent",
        append("purposes", "utility_connection", "reaches", value="authorised"),
        ("purposes.utility_connection.reaches",),
    ),
    (
        "purpose-reaching-authorised-drops-consent",
        set_("purposes", "loan_underwriting", "consent_required", value=False),
        ("purposes.loan_underwriting.reaches",),
    ),
    (
        "purpose-unknown-scope",
        append("purposes", "public_lookup", "reaches", value="secret"),
        ("purposes.public_lookup.reaches[1]",),
    ),
    (
        "purpose-unknown-requester-kind",
        append("purposes", "loan_underwriting", "requester_kinds", value="pawnshop"),
        ("purposes.loan_underwriting.requester_kinds[2]",),
    ),
    (
        "purpose-no-requester-kinds",
        set_("purposes", "loan_underwriting", "requester_kinds", value=[]),
        ("purposes.loan_underwriting.requester_kinds",),
    ),
    (
        "purpose-unknown-key",
        set_("purposes", "self_inquiry", "fee", value=0),
        ("purposes.self_inquiry.fee",),
    ),
    (
        "purpose-consent-not-boolean",
        set_("purposes", "utility_connection", "consent_required", value="no"),
        ("purposes.utility_connection.consent_required",),
    ),
    # Lists.
    (
        "list-criterion-not-list-eligible",
        set_("lists", "serious_untrustworthy", "criteria", 1, "record_type", value="tax_arrears"),
        ("lists.serious_untrustworthy.criteria[1].record_type",),
    ),
    (
        "list-criterion-unknown-record-type",
        set_("lists", "serious_untrustworthy", "criteria", 1, "record_type", value="bankruptcy"),
        ("lists.serious_untrustworthy.criteria[1].record_type",),
    ),
    (
        "list-criterion-unknown-severity",
        set_("lists", "serious_untrustworthy", "criteria", 0, "severities", value=["grave"]),
        ("lists.serious_untrustworthy.criteria[0].severities[0]",),
    ),
    (
        "list-criterion-unknown-key",
        set_("lists", "serious_untrustworthy", "criteria", 0, "amount", value=1000),
        ("lists.serious_untrustworthy.criteria[0].amount",),
    ),
    (
        "list-criteria-empty",
        set_("lists", "serious_untrustworthy", "criteria", value=[]),
        ("lists.serious_untrustworthy.criteria",),
    ),
    (
        "list-duration-bad-days",
        set_("lists", "serious_untrustworthy", "duration", value="3 years"),
        ("lists.serious_untrustworthy.duration",),
    ),
    (
        "list-notice-days-zero",
        set_("lists", "serious_untrustworthy", "notice_working_days", value=0),
        ("lists.serious_untrustworthy.notice_working_days",),
    ),
    # Measures.
    (
        "measure-unknown-purpose",
        set_("measures", "restrict_high_consumption", "purposes", 1, value="debt_collection"),
        ("measures.restrict_high_consumption.purposes[1]",),
    ),
    (
        "measure-unknown-list",
        set_("measures", "no_simplified_licensing", "triggered_by", "lists", 0, value="blacklist"),
        (
            "measures.no_simplified_licensing.triggered_by.lists[0]",
            "measures.no_simplified_licensing.triggered_by",
        ),
    ),
    (
        "measure-unknown-trigger-record-type",
        set_("measures", "restrict_high_consumption", "triggered_by", "record_types", 0, value="bankruptcy"),
        (
            "measures.restrict_high_consumption.triggered_by.record_types[0]",
            "measures.restrict_high_consumption.triggered_by",
        ),
    ),
    (
        "measure-without-trigger",
        set_("measures", "no_simplified_licensing", "triggered_by", value={}),
        ("measures.no_simplified_licensing.triggered_by",),
    ),
    (
        "measure-unknown-trigger-key",
        set_("measures", "no_simplified_licensing", "triggered_by", "courts", value=["x"]),
        ("measures.no_simplified_licensing.triggered_by.courts",),
    ),
    # The root.
    ("root-unknown-key", set_("signature", value="abc"), ("signature",)),
    ("root-version-zero", set_("version", value=0), ("version",)),
    ("root-version-text", set_("version", value="1"), ("version",)),
    ("root-version-boolean", set_("version", value=True), ("version",)),
    ("root-version-missing", delete("version"), ("version",)),
    ("root-authority-missing", delete("authority"), ("authority",)),
    (
        "root-requester-kind-without-description",
        set_("requester_kinds", "bank", value=""),
        ("requester_kinds.bank",),
    ),
    ("root-authority-not-text", set_("authority", value=["NDRC"]), ("authority",)),
]


@pytest.mark.parametrize(
    ("mutate", "paths"),
    [pytest.param(mutate, paths, id=name) for name, mutate, paths in MUTATIONS],
)
def test_mutated_catalog_is_refused_at_the_exact_path(mutate: Mutate, paths: tuple[str, ...]) -> None:
    document = sample_document()
    mutate(document)
    problems = problems_of(document)
    assert sorted(field for field, _ in problems) == sorted(paths)
    assert all(description for _, description in problems)


def test_mutation_names_are_unique() -> None:
    names = [name for name, _, _ in MUTATIONS]
    assert len(names) == len(set(names))


def test_mutations_do_not_touch_the_shared_sample(sample: Catalog) -> None:
    """Each mutation works on its own copy: the sample still parses to the same catalog."""
    document = sample_document()
    pristine = copy.deepcopy(document)
    for _, mutate, _ in MUTATIONS:
        mutate(copy.deepcopy(document))
    assert document == pristine
    assert parse_catalog(document) == sample


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
            set_("lists", "serious_untrustworthy", "criteria", 1, "record_type", value="tax_arrears"),
            "'tax_arrears' is not list-eligible",
            id="not-list-eligible",
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
