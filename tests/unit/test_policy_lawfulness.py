"""Lawfulness (DESIGN.md section 4) over the sample catalog.

The purpose exists; the requester's kind is allowed; it holds a current
grant; consent where required; the record type's disclosure scope is reached.
"""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
import yaml

from share_gateway.domain.catalog import Catalog, DisclosureScope
from share_gateway.domain.catalog_document import parse_catalog
from share_gateway.domain.errors import InvalidInput
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.domain.policy import MAX_CONSENT_REFERENCE, Denial, GrantRole, Policy
from tests.unit.policy_support import (
    BANK,
    CATALOG,
    CONSENT,
    ENTITY,
    NOW,
    OTHER_PERSON,
    PERSON,
    PERSON_ITSELF,
    POLICY,
    SAMPLE_TEXT,
    UTILITY,
    decide,
    grant,
    principal,
    purpose_citation,
    refused,
    type_citation,
)

# --- Purpose-level refusals -------------------------------------------------------


def test_requester_kind_not_allowed_for_the_purpose() -> None:
    utility_with_grant = principal("utility", grant("loan_underwriting"))
    decision = decide(utility_with_grant, "loan_underwriting", "loan_default")
    refused(decision, Denial.REQUESTER_KIND_NOT_ALLOWED)
    assert decision.citations == (purpose_citation("loan_underwriting"),)


def test_requester_of_unregistered_kind_is_refused() -> None:
    refused(
        decide(principal("", grant("loan_underwriting")), "loan_underwriting", "loan_default"),
        Denial.REQUESTER_KIND_NOT_ALLOWED,
    )


def test_no_grant_is_refused() -> None:
    decision = decide(principal("bank"), "loan_underwriting", "business_registration")
    refused(decision, Denial.NO_GRANT)
    assert decision.citations == (purpose_citation("loan_underwriting"),)


def test_grant_for_another_purpose_is_not_a_grant() -> None:
    refused(
        decide(principal("bank", grant("credit_report_compilation")), "loan_underwriting", "business_registration"),
        Denial.NO_GRANT,
    )


def test_submit_grant_is_not_an_inquiry_grant() -> None:
    refused(
        decide(principal("bank", grant("loan_underwriting", GrantRole.SUBMIT)), "loan_underwriting", "loan_default"),
        Denial.NO_GRANT,
    )


def test_expired_grant_is_refused() -> None:
    """A grant is valid up to, excluding, valid_until."""
    expired = principal("bank", grant("loan_underwriting", valid_until=NOW))
    refused(decide(expired, "loan_underwriting", "loan_default"), Denial.NO_GRANT)
    ending = principal("bank", grant("loan_underwriting", valid_until=NOW + timedelta(seconds=1)))
    assert decide(ending, "loan_underwriting", "loan_default").lawful is True


def test_grant_not_yet_valid_is_refused() -> None:
    """A grant is valid from, including, valid_from."""
    future = principal("bank", grant("loan_underwriting", valid_from=NOW + timedelta(seconds=1)))
    refused(decide(future, "loan_underwriting", "loan_default"), Denial.NO_GRANT)
    starting = principal("bank", grant("loan_underwriting", valid_from=NOW))
    assert decide(starting, "loan_underwriting", "loan_default").lawful is True


def test_one_current_grant_among_stale_ones_is_enough() -> None:
    requester = principal(
        "bank",
        grant("loan_underwriting", valid_until=NOW - timedelta(days=1)),
        grant("utility_connection"),
        grant("loan_underwriting"),
    )
    assert decide(requester, "loan_underwriting", "loan_default").lawful is True


@pytest.mark.parametrize("consent", ["", "   "])
def test_consent_missing_where_required_is_refused(consent: str) -> None:
    """Credit Reporting Industry Regulation Art. 18: written consent for inquiries."""
    decision = decide(BANK, "loan_underwriting", "business_registration", consent=consent)
    refused(decision, Denial.CONSENT_REQUIRED)
    assert decision.citations == (purpose_citation("loan_underwriting"),)


def test_consent_not_needed_where_the_purpose_does_not_require_it() -> None:
    assert decide(UTILITY, "utility_connection", "utility_arrears", consent="").lawful is True


def test_consent_reference_longer_than_the_limit_is_invalid_input() -> None:
    assert decide(BANK, "loan_underwriting", "loan_default", consent="c" * MAX_CONSENT_REFERENCE).lawful is True
    with pytest.raises(InvalidInput) as error:
        decide(BANK, "loan_underwriting", "loan_default", consent="c" * (MAX_CONSENT_REFERENCE + 1))
    assert [v.field for v in error.value.violations] == ["consent_reference"]


def test_self_inquiry_about_another_subject_is_refused() -> None:
    decision = decide(PERSON_ITSELF, "self_inquiry", "loan_default", subject=OTHER_PERSON, consent="")
    refused(decision, Denial.NOT_THE_SUBJECT)
    assert decision.citations == (purpose_citation("self_inquiry"),)


def test_self_inquiry_reaches_authorised_records_without_consent_or_grant() -> None:
    decision = decide(PERSON_ITSELF, "self_inquiry", "loan_default", subject=PERSON, consent="")
    assert decision.lawful is True
    assert decision.fields == CATALOG.record_types["loan_default"].necessity["self_inquiry"]
    assert "contract_number" in decision.fields


def test_institution_may_self_inquire_about_itself_only() -> None:
    itself = principal("legal_entity", identity=ENTITY.identifier)
    assert decide(itself, "self_inquiry", "administrative_penalty", subject=ENTITY, consent="").lawful is True
    refused(
        decide(principal("bank"), "self_inquiry", "administrative_penalty", subject=ENTITY, consent=""),
        Denial.NOT_THE_SUBJECT,
    )


def test_self_only_compares_the_kind_of_subject_too() -> None:
    """About 3% of valid resident ID numbers are also valid USCCs: a person is never the company."""
    same_digits = Subject(SubjectKind.LEGAL_ENTITY, PERSON.identifier)
    refused(
        decide(PERSON_ITSELF, "self_inquiry", "administrative_penalty", subject=same_digits, consent=""),
        Denial.NOT_THE_SUBJECT,
    )


# --- Disclosure scope --------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(CATALOG.requester_kinds))
def test_public_lookup_needs_no_grant_and_reaches_public_records(kind: str) -> None:
    decision = decide(principal(kind), "public_lookup", "administrative_penalty", consent="")
    assert decision.lawful is True
    assert decision.fields == CATALOG.record_types["administrative_penalty"].necessity["public_lookup"]


@pytest.mark.parametrize("record_type", ["loan_default", "utility_arrears"])
def test_public_lookup_does_not_reach_authorised_or_shared_records(record_type: str) -> None:
    """loan_default is 'authorised', utility_arrears is 'shared'; public_lookup reaches 'public' only."""
    decision = decide(principal("individual"), "public_lookup", record_type, consent="")
    assert decision.lawful is False
    assert decision.fields == frozenset()
    assert decision.reason == Denial.NOT_NECESSARY


def catalog_with_public_lookup_necessity() -> Catalog:
    """The sample, with a (mistaken) necessity entry for public_lookup on non-public types."""
    document = copy.deepcopy(yaml.safe_load(SAMPLE_TEXT))
    document["record_types"]["loan_default"]["necessity"]["public_lookup"] = ["lender"]
    document["record_types"]["utility_arrears"]["necessity"]["public_lookup"] = ["provider"]
    return parse_catalog(document)


@pytest.mark.parametrize("record_type", ["loan_default", "utility_arrears"])
def test_scope_not_reached_even_when_a_necessity_entry_exists(record_type: str) -> None:
    """The scope check stands on its own: a necessity entry cannot widen a purpose's reach."""
    catalog = catalog_with_public_lookup_necessity()
    assert catalog.record_types[record_type].disclosure is not DisclosureScope.PUBLIC
    decision = Policy(catalog).decide(principal("individual"), "public_lookup", record_type, ENTITY, "", NOW)
    refused(decision, Denial.SCOPE_NOT_REACHED)
    assert decision.citations == (purpose_citation("public_lookup"), type_citation(record_type))


def test_utility_connection_reaches_shared_utility_arrears() -> None:
    decision = decide(UTILITY, "utility_connection", "utility_arrears", consent="")
    assert decision.lawful is True
    assert "account_reference" not in decision.fields


def test_authorised_scope_needs_consent_at_the_record_level() -> None:
    """An authorised record goes out only with consent, unless the subject itself asks."""
    refused(POLICY.rule_for("loan_underwriting", "loan_default", ""), Denial.CONSENT_REQUIRED)
    refused(POLICY.rule_for("loan_underwriting", "loan_default", "  "), Denial.CONSENT_REQUIRED)
    assert POLICY.rule_for("loan_underwriting", "loan_default", CONSENT).lawful is True
    assert POLICY.rule_for("self_inquiry", "loan_default", "").lawful is True
    # Public records need no consent at the record level.
    assert POLICY.rule_for("loan_underwriting", "business_registration", "").lawful is True


def test_bank_without_consent_is_refused_authorised_loan_default() -> None:
    refused(decide(BANK, "loan_underwriting", "loan_default", consent=""), Denial.CONSENT_REQUIRED)
