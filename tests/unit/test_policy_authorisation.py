"""Authorising an inquiry or a submission, and the legal-basis citations a decision carries."""

from __future__ import annotations

import pytest

from share_gateway.domain.errors import Citation, InvalidInput, Refused
from share_gateway.domain.policy import Denial, Grant, GrantRole, check_registration, unique_citations
from tests.unit.policy_support import (
    BANK,
    CATALOG,
    CONSENT,
    ENTITY,
    NOW,
    POLICY,
    covering,
    decide,
    grant,
    principal,
    purpose_citation,
    type_citation,
)

# --- Citations ---------------------------------------------------------------------


def test_citations_carry_the_catalog_legal_bases() -> None:
    decision = decide(BANK, "loan_underwriting", "loan_default")
    purpose, record_type = decision.citations
    assert purpose.rule == "purpose/loan_underwriting"
    assert "Arts. 18 and 20" in purpose.legal_basis
    assert record_type.rule == "record_type/loan_default"
    assert "Art. 16" in record_type.legal_basis


def test_unique_citations_keeps_first_seen_order() -> None:
    a, b, c = Citation("a", "x"), Citation("b", "y"), Citation("c", "z")
    assert unique_citations([b, a, b, c, a]) == (b, a, c)
    assert unique_citations([]) == ()


# --- authorise ---------------------------------------------------------------------


def test_authorise_returns_the_purpose_citation() -> None:
    consent = covering(BANK, "loan_underwriting")
    citation = POLICY.authorise(BANK, "loan_underwriting", ENTITY, CONSENT, NOW, consent)
    assert citation == purpose_citation("loan_underwriting")


def test_authorise_raises_refused_with_reason_and_citation() -> None:
    with pytest.raises(Refused) as error:
        POLICY.authorise(principal("bank"), "loan_underwriting", ENTITY, CONSENT, NOW)
    assert error.value.reason == Denial.NO_GRANT
    assert error.value.citations == (purpose_citation("loan_underwriting"),)


@pytest.mark.parametrize("purpose", ["debt_collection", "", "Loan_Underwriting"])
def test_unknown_purpose_is_invalid_input_naming_purpose(purpose: str) -> None:
    with pytest.raises(InvalidInput) as authorise_error:
        POLICY.authorise(BANK, purpose, ENTITY, CONSENT, NOW)
    assert [v.field for v in authorise_error.value.violations] == ["purpose"]
    with pytest.raises(InvalidInput) as decide_error:
        decide(BANK, purpose, "loan_default")
    assert [v.field for v in decide_error.value.violations] == ["purpose"]


# --- authorise_submission -----------------------------------------------------------

REGULATOR = principal(
    "public_agency",
    grant("administrative_penalty", GrantRole.SUBMIT),
    grant("tax_arrears", GrantRole.SUBMIT, valid_until=NOW),
    grant("loan_default", GrantRole.INQUIRE),
    identity="11110000MB00000048",
)


def test_submission_of_a_granted_type_is_authorised_with_its_citation() -> None:
    assert POLICY.authorise_submission(REGULATOR, "administrative_penalty", NOW) == type_citation(
        "administrative_penalty"
    )


@pytest.mark.parametrize(
    "record_type",
    ["dishonest_judgment_debtor", "tax_arrears", "loan_default"],
    ids=["never-granted", "grant-expired", "inquire-grant-only"],
)
def test_submission_of_an_ungranted_type_is_refused(record_type: str) -> None:
    with pytest.raises(Refused) as error:
        POLICY.authorise_submission(REGULATOR, record_type, NOW)
    assert error.value.reason == Denial.RECORD_TYPE_NOT_GRANTED
    assert error.value.citations == (type_citation(record_type),)


def test_submission_of_an_unknown_type_is_invalid_input_naming_record_type() -> None:
    with pytest.raises(InvalidInput) as error:
        POLICY.authorise_submission(REGULATOR, "bankruptcy", NOW)
    assert [v.field for v in error.value.violations] == ["record_type"]


def test_a_registration_names_only_what_the_catalog_knows() -> None:
    catalog = CATALOG
    grants = [
        Grant(GrantRole.INQUIRE, "loan_underwriting", NOW),
        Grant(GrantRole.INQUIRE, "marketing", NOW),
        Grant(GrantRole.SUBMIT, "gossip", NOW),
        Grant(GrantRole.SUBMIT, "loan_default", NOW, NOW),
    ]
    with pytest.raises(InvalidInput) as refused:
        check_registration(catalog, "91110000MA0000001X", "casino", grants)
    assert [v.field for v in refused.value.violations] == ["institution", "kind", "inquire", "submit", "valid_until"]
    check_registration(catalog, "91110000MA0000001L", "bank", grants[:1])
