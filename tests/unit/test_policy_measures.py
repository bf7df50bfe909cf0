"""Disciplinary measures: only the catalog's, for the purposes they name (Guo Ban Fa [2020] No. 49, principle 4)."""

from __future__ import annotations

from tests.unit.policy_support import CATALOG, POLICY


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
