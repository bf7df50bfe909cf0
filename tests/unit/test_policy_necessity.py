"""Necessity (DESIGN.md section 4) over the sample catalog: exactly the catalog's necessity set goes out.

Deny by default: a record type with no necessity entry for the purpose gives
nothing, whatever else holds, and every decision carries its citations.
"""

from __future__ import annotations

import pytest

from share_gateway.domain.identifiers import Subject
from share_gateway.domain.policy import Denial, Principal
from tests.unit.policy_support import (
    BANK,
    CATALOG,
    PERSON,
    UTILITY,
    decide,
    grant,
    principal,
    purpose_citation,
    refused,
    type_citation,
)

NECESSARY = sorted(
    (purpose, name) for name, record_type in CATALOG.record_types.items() for purpose in record_type.necessity
)
NOT_NECESSARY = sorted(
    (purpose, name)
    for name in CATALOG.record_types
    for purpose in CATALOG.purposes
    if (purpose, name) not in set(NECESSARY)
)


def qualified_requester(purpose: str, subject: Subject) -> Principal:
    """A requester that meets every purpose-level condition of ``purpose``."""
    definition = CATALOG.purposes[purpose]
    kind = sorted(definition.requester_kinds)[0]
    if definition.self_only:
        return principal(kind, grant(purpose), identity=subject.identifier, itself=subject)
    return principal(kind, grant(purpose))


# --- Lawful decisions give exactly the necessity set ------------------------------


@pytest.mark.parametrize(("purpose", "record_type"), NECESSARY)
def test_lawful_decision_gives_exactly_the_necessity_set(purpose: str, record_type: str) -> None:
    """DESIGN 4 'Necessary': the fields returned are exactly the necessity set for (type, purpose)."""
    decision = decide(qualified_requester(purpose, PERSON), purpose, record_type, subject=PERSON)
    assert decision.lawful is True
    assert decision.reason == ""
    assert decision.fields == CATALOG.record_types[record_type].necessity[purpose]
    assert decision.citations == (purpose_citation(purpose), type_citation(record_type))


def test_necessity_is_narrower_than_the_record_for_utility_connection() -> None:
    """A utility sees only the violation type and authority of a penalty, not the amount or party."""
    decision = decide(UTILITY, "utility_connection", "administrative_penalty")
    assert decision.lawful is True
    assert decision.fields == frozenset({"violation_type", "issuing_authority"})


def test_bank_sees_loan_default_without_contract_number() -> None:
    decision = decide(BANK, "loan_underwriting", "loan_default")
    assert decision.lawful is True
    assert decision.fields == frozenset(
        {"lender", "principal", "overdue_amount", "overdue_since", "days_overdue", "settled"}
    )
    assert "contract_number" not in decision.fields


# --- Deny by default --------------------------------------------------------------


@pytest.mark.parametrize(("purpose", "record_type"), NOT_NECESSARY)
def test_record_type_without_necessity_for_the_purpose_is_denied(purpose: str, record_type: str) -> None:
    """Deny by default: no necessity entry, no fields, whatever else holds."""
    decision = decide(qualified_requester(purpose, PERSON), purpose, record_type, subject=PERSON)
    refused(decision, Denial.NOT_NECESSARY)
    assert decision.citations == (purpose_citation(purpose),)


def test_there_are_denied_by_default_pairs_in_the_sample() -> None:
    assert ("utility_connection", "loan_default") in NOT_NECESSARY
    assert ("public_lookup", "loan_default") in NOT_NECESSARY
    assert ("utility_connection", "administrative_licence") in NOT_NECESSARY


def test_record_type_outside_the_catalog_is_denied() -> None:
    refused(decide(BANK, "loan_underwriting", "bankruptcy"), Denial.NOT_NECESSARY)
