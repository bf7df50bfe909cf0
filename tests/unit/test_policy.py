"""Lawfulness and necessity (DESIGN.md section 4) over the sample catalog.

* Lawful: the purpose exists; the requester's kind is allowed; it holds a
  current grant; the record type's scope is reached; consent where required.
* Necessary: exactly the catalog's necessity set goes out, nothing else.
* Deny by default, and every decision carries its legal-basis citations.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from importlib import resources

import pytest
import yaml

from share_gateway.domain.catalog import Catalog, DisclosureScope
from share_gateway.domain.catalog_document import parse_catalog
from share_gateway.domain.errors import Citation, InvalidInput, Refused
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.domain.policy import (
    MAX_CONSENT_REFERENCE,
    Decision,
    Denial,
    Grant,
    GrantRole,
    Policy,
    Principal,
    check_registration,
    unique_citations,
)

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
SAMPLE_TEXT = resources.files("share_gateway").joinpath("catalog/sample.yaml").read_text(encoding="utf-8")
CATALOG = Catalog.from_yaml(SAMPLE_TEXT)
POLICY = Policy(CATALOG)

BANK_ID = "91110000MA0000001L"
ENTITY = Subject(SubjectKind.LEGAL_ENTITY, "91440300MA5ABCDE1H")
PERSON = Subject(SubjectKind.INDIVIDUAL, "110105198001011238")
OTHER_PERSON = Subject(SubjectKind.INDIVIDUAL, "310104199003070026")
CONSENT = "written consent LN-2026-0042"


def grant(scope: str, role: GrantRole = GrantRole.INQUIRE, **window: datetime | None) -> Grant:
    valid_from = window.get("valid_from") or NOW - timedelta(days=30)
    return Grant(role, scope, valid_from, window.get("valid_until"))


def principal(kind: str, *grants: Grant, identity: str = BANK_ID, itself: Subject | None = None) -> Principal:
    return Principal(
        identity=identity,
        uri=f"sgw://institution/{identity}",
        kind=kind,
        grants=grants,
        itself=itself or Subject(SubjectKind.LEGAL_ENTITY, identity),
    )


BANK = principal("bank", grant("loan_underwriting"))
UTILITY = principal("utility", grant("utility_connection"), identity="91310000MA00000025")
PERSON_ITSELF = Principal(PERSON.identifier, f"sgw://person/{PERSON.identifier}", "individual", itself=PERSON)


def purpose_citation(purpose: str) -> Citation:
    return Citation(f"purpose/{purpose}", CATALOG.purposes[purpose].legal_basis)


def type_citation(record_type: str) -> Citation:
    return Citation(f"record_type/{record_type}", CATALOG.record_types[record_type].legal_basis)


def decide(
    requester: Principal,
    purpose: str,
    record_type: str,
    subject: Subject = ENTITY,
    consent: str = CONSENT,
    now: datetime = NOW,
) -> Decision:
    return POLICY.decide(requester, purpose, record_type, subject, consent, now)


def refused(decision: Decision, reason: Denial) -> None:
    assert decision.lawful is False
    assert decision.fields == frozenset()
    assert decision.reason == reason


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
    assert POLICY.authorise(BANK, "loan_underwriting", ENTITY, CONSENT, NOW) == purpose_citation("loan_underwriting")


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


# --- disciplinary measures (Guo Ban Fa [2020] No. 49, principle 4: only the catalog's measures) ----------


def test_rule_measures_only_catalog_measures_for_the_purposes_they_name() -> None:
    policy = POLICY
    applied = policy.measures_for("public_procurement_review", {"dishonest_judgment_debtor", "tax_arrears"}, ())
    assert {m.measure.name: m.grounds for m in applied} == {
        "exclude_from_public_procurement": ("record_type/dishonest_judgment_debtor",),
        "restrict_high_consumption": ("record_type/dishonest_judgment_debtor",),
    }
    assert [m.citation.rule for m in applied] == [
        "measure/exclude_from_public_procurement",
        "measure/restrict_high_consumption",
    ]
    # The same records for a purpose no measure names: nothing.
    assert policy.measures_for("utility_connection", {"dishonest_judgment_debtor"}, ()) == ()
    # A listing triggers the measures that name its list.
    listed = policy.measures_for("administrative_licensing_review", (), {"serious_untrustworthy"})
    assert [(m.measure.name, m.grounds) for m in listed] == [
        ("no_simplified_licensing", ("list/serious_untrustworthy",))
    ]
    # Nothing triggers without grounds, and unknown names ground nothing.
    assert policy.measures_for("public_procurement_review", {"administrative_penalty"}, {"some_list"}) == ()
    assert policy.measures_for("no_such_purpose", {"dishonest_judgment_debtor"}, ()) == ()


def test_rule_measures_every_measure_returned_is_in_the_catalog_for_that_purpose() -> None:
    every_type, every_list = set(CATALOG.record_types), set(CATALOG.lists)
    returned = 0
    for purpose in CATALOG.purposes:
        for applied in POLICY.measures_for(purpose, every_type, every_list):
            returned += 1
            assert CATALOG.measures[applied.measure.name] == applied.measure
            assert purpose in applied.measure.purposes
    assert returned == sum(len(m.purposes) for m in CATALOG.measures.values())


def test_rule_measures_the_subjects_lists_are_looked_up_only_where_a_list_triggers_a_measure() -> None:
    assert POLICY.lists_matter("administrative_licensing_review")
    assert POLICY.lists_matter("public_procurement_review")
    # Loan underwriting's only measure follows from a record type, never from a list.
    assert not POLICY.lists_matter("loan_underwriting")
    assert not POLICY.lists_matter("utility_connection")
