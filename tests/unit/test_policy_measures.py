"""Disciplinary measures: only the catalog's, for the purposes they name (Guo Ban Fa [2020] No. 49, principle 4)."""

from __future__ import annotations

from tests.unit.policy_support import CATALOG, POLICY


def test_rule_measures_only_catalog_measures_for_the_purposes_they_name() -> None:
    policy = POLICY
    applied = policy.measures_for(
        "public_procurement_review",
        {"dishonest_judgment_debtor", "tax_arrears"},
        (),
        requester_kind="government_department",
    )
    assert {m.measure.name: m.grounds for m in applied} == {
        "exclude_from_public_procurement": ("record_type/dishonest_judgment_debtor",),
        "restrict_high_consumption": ("record_type/dishonest_judgment_debtor",),
    }
    assert [m.citation.rule for m in applied] == [
        "measure/exclude_from_public_procurement",
        "measure/restrict_high_consumption",
    ]
    # The same records for a purpose no measure names: nothing.
    assert policy.measures_for("utility_connection", {"dishonest_judgment_debtor"}, (), requester_kind="utility") == ()
    # A listing triggers the measures that name its list.
    listed = policy.measures_for(
        "administrative_licensing_review", (), {"serious_untrustworthy"}, requester_kind="government_department"
    )
    assert [(m.measure.name, m.grounds) for m in listed] == [
        ("no_simplified_licensing", ("list/serious_untrustworthy",))
    ]
    # Nothing triggers without grounds, and unknown names ground nothing.
    assert (
        policy.measures_for(
            "public_procurement_review",
            {"administrative_penalty"},
            {"some_list"},
            requester_kind="government_department",
        )
        == ()
    )
    assert policy.measures_for("no_such_purpose", {"dishonest_judgment_debtor"}, (), requester_kind="bank") == ()


def test_rule_measures_every_measure_returned_is_in_the_catalog_for_that_purpose() -> None:
    every_type, every_list = set(CATALOG.record_types), set(CATALOG.lists)
    returned = 0
    for purpose in CATALOG.purposes:
        for applied in POLICY.measures_for(purpose, every_type, every_list, requester_kind="bank"):
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


def test_bank_sees_high_consumption_restriction_only_as_information() -> None:
    """Issue 12 item 10; Fa Shi [2015] No. 17 Art. 3 (the order is the court's, addressed to the debtor) and the
    seed's principle 4 (measures follow law, nothing is added at will): a requester of a kind a measure is
    addressed to sees it as a measure, any other only as information. A bank under loan underwriting is told
    of the restriction and is never made to apply it."""
    bank = POLICY.measures_for("loan_underwriting", {"dishonest_judgment_debtor"}, (), requester_kind="bank")
    assert [(m.measure.name, m.information_only) for m in bank] == [("restrict_high_consumption", True)]
    measure = bank[0].measure
    assert (measure.kind.value, measure.addressed_to) == ("administrative", frozenset({"court"}))
    assert "court" in measure.implementing_body
    assert measure.basic_list_item == "unverified"
    procurement = POLICY.measures_for(
        "public_procurement_review", {"dishonest_judgment_debtor"}, (), requester_kind="government_department"
    )
    assert [(m.measure.name, m.information_only) for m in procurement] == [
        ("exclude_from_public_procurement", False),
        ("restrict_high_consumption", True),
    ]


def test_every_measure_states_kind_body_addressees_and_basic_list_item() -> None:
    """Issue 12 item 10: each measure states its kind, implementing body, the requester kinds it is addressed
    to and its item in the national basic list of disciplinary measures ("unverified" where DOMAIN.md has none)."""
    for measure in CATALOG.measures.values():
        assert measure.implementing_body, measure.name
        assert measure.addressed_to <= set(CATALOG.requester_kinds), measure.name
        assert measure.addressed_to, measure.name
        assert measure.basic_list_item, measure.name
