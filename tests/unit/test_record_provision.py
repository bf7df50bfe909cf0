"""Providing bodies and documents per record type (issue 12 item 11): the catalog names who provides a type (提供单位)
and on which documents, and submission checks both."""

from __future__ import annotations

import dataclasses

import pytest

from share_gateway.domain.catalog_provision import ANY_PROVISION
from share_gateway.domain.errors import InvalidInput, Refused
from share_gateway.domain.policy import Denial, GrantRole, check_registration
from share_gateway.domain.records import admit_record
from tests.unit.catalog_support import problems_of, sample_document
from tests.unit.policy_support import NOW, POLICY, grant, principal
from tests.unit.records_support import CATALOG, admit, document, penalty, text, violations

COURT_ID = "11110000MB0000005B"


def test_document_kind_must_be_accepted_for_record_type() -> None:
    """A record must rest on a legally effective document (Guo Ban Fa [2020] No. 49, principle 1; DOMAIN.md "The
    policy being implemented") of a kind its type rests on: a penalty on a penalty decision, not on a licence."""
    assert CATALOG.record_types["administrative_penalty"].provision.document_kinds == {
        "administrative_penalty_decision"
    }
    assert admit(penalty()).legal_document is not None
    licence = dataclasses.replace(penalty(), legal_document=document("2026-11-20", kind="business_licence"))
    assert violations(licence) == [
        (
            "legal_document.kind",
            "administrative_penalty rests on administrative_penalty_decision, not 'business_licence'",
        )
    ]


def test_document_number_matches_decision_number() -> None:
    """SAMR Order 45 Art. 4: a penalty record carries its decision document's number, so ``decision_number`` is the
    number of the legal document it rests on (DOMAIN.md "Catalog categories")."""
    number = penalty().fields["decision_number"].raw
    assert document().number == number
    assert admit(penalty()).fields["decision_number"] == number
    other = penalty(decision_number=text("Jing Shi Jian Fa [2026] No. 102"))
    assert violations(other) == [
        ("fields.decision_number", "must be the number of its legal document, 'Jing Shi Jian Fa [2026] No. 101'")
    ]


def test_a_record_type_without_provision_keys_takes_any_document() -> None:
    """The keys are optional: a catalog without them admits what it admitted before."""
    bare = dataclasses.replace(CATALOG.record_types["administrative_penalty"], provision=ANY_PROVISION)
    catalog = dataclasses.replace(CATALOG, record_types={**CATALOG.record_types, "administrative_penalty": bare})
    draft = dataclasses.replace(
        penalty(decision_number=text("another number")), legal_document=document(kind="any kind of decision")
    )
    admit_record(catalog, draft, record_id="r", origin_region="110000", submitted_by="x", now=NOW)


def test_only_providing_bodies_may_submit_type() -> None:
    """提供单位: the catalog names the institution kinds that provide each type, matched against the kind the node
    registered (issue 12 item 11); the courts' debtor list is made by courts (Fa Shi [2017] No. 7, DOMAIN.md)."""
    debtors = grant("dishonest_judgment_debtor", GrantRole.SUBMIT)
    court = principal("court", debtors, identity=COURT_ID)
    POLICY.authorise_submission(court, "dishonest_judgment_debtor", NOW)
    agency = principal("public_agency", debtors, identity=COURT_ID)
    with pytest.raises(Refused) as refusal:
        POLICY.authorise_submission(agency, "dishonest_judgment_debtor", NOW)
    assert refusal.value.reason == Denial.NOT_A_PROVIDER
    assert "provided by court, not 'public_agency'" in str(refusal.value)
    # A court provides no penalties.
    penalties = grant("administrative_penalty", GrantRole.SUBMIT)
    with pytest.raises(Refused) as other:
        POLICY.authorise_submission(principal("court", penalties, identity=COURT_ID), "administrative_penalty", NOW)
    assert other.value.reason == Denial.NOT_A_PROVIDER
    # Types the catalog names no providers for stay open to any granted institution.
    loans = grant("loan_default", GrantRole.SUBMIT)
    POLICY.authorise_submission(principal("bank", loans), "loan_default", NOW)


def test_registering_a_kind_that_does_not_provide_a_type_is_refused() -> None:
    """An operator cannot grant a market regulator the courts' list: refused with the field at fault."""
    debtors = grant("dishonest_judgment_debtor", GrantRole.SUBMIT)
    check_registration(CATALOG, COURT_ID, "court", [debtors])
    check_registration(CATALOG, COURT_ID, None, [debtors])  # the kind registered before: checked at submission
    with pytest.raises(InvalidInput) as error:
        check_registration(CATALOG, COURT_ID, "public_agency", [debtors])
    assert [(v.field, v.description) for v in error.value.violations] == [
        ("submit", "dishonest_judgment_debtor is provided by court, not 'public_agency'")
    ]


@pytest.mark.parametrize(
    ("key", "value", "path", "description"),
    [
        ("providers", ["notary"], "providers[0]", "unknown requester kind 'notary'"),
        ("providers", [], "providers", "must be a non-empty list"),
        ("document_kinds", ["Penalty Decision"], "document_kinds[0]", "must be a lower_snake_case name"),
        ("document_number_field", "number", "document_number_field", "unknown field 'number'"),
    ],
)
def test_provision_keys_are_checked_when_the_catalog_is_read(
    key: str, value: object, path: str, description: str
) -> None:
    changed = sample_document()
    changed["record_types"]["administrative_penalty"][key] = value
    assert (f"record_types.administrative_penalty.{path}", description) in problems_of(changed)
