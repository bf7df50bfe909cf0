"""The catalog loader reads the sample: every record type, purpose, list and measure as the rules cited say.

Optional keys take their defaults, and the objects read are frozen.
"""

from __future__ import annotations

import dataclasses

import pytest

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
from share_gateway.domain.identifiers import SubjectKind
from tests.unit.catalog_support import SAMPLE_TEXT, sample_document

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
        "court",
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
