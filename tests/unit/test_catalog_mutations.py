"""The catalog loader refuses each mutation of the sample at the exact paths of its faults.

The refusal cases are a table of mutations of the sample catalog, each named
by the mutation it makes (the transparency-dev/merkle habit: ``happy-path``,
``modified-proof[0]`` ...). A case lists the exact paths the loader must
report, so a fault reported at the wrong place, or a spurious extra fault,
fails the case.
"""

from __future__ import annotations

import copy

import pytest

from share_gateway.domain.catalog import Catalog
from share_gateway.domain.catalog_document import parse_catalog
from tests.unit.catalog_support import (
    PENALTY,
    SAMPLE_TEXT,
    Mutate,
    append,
    delete,
    problems_of,
    rename,
    sample_document,
    set_,
)


@pytest.fixture(scope="module")
def sample() -> Catalog:
    return Catalog.from_yaml(SAMPLE_TEXT)


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
            # Every record type has a maximum period, or says none with its source (NDRC Order No. 36 of 2025).
            "record_types.credit_commitment.periods.maximum",
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
        ("record_types.administrative_penalty.severity_periods.Serious",),
    ),
    (
        "severity-periods-empty",
        set_(*PENALTY, "severity_periods", value={}),
        ("record_types.administrative_penalty.severity_periods",),
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
        set_("lists", "serious_untrustworthy", "criteria", 0, "record_type", value="tax_arrears"),
        ("lists.serious_untrustworthy.criteria[0].record_type",),
    ),
    (
        "list-criterion-unknown-record-type",
        set_("lists", "serious_untrustworthy", "criteria", 0, "record_type", value="bankruptcy"),
        ("lists.serious_untrustworthy.criteria[0].record_type",),
    ),
    (
        "list-criterion-severities-refused",
        set_("lists", "serious_untrustworthy", "criteria", 0, "severities", value=["serious"]),
        ("lists.serious_untrustworthy.criteria[0].severities",),
    ),
    (
        "list-criterion-unknown-conduct",
        set_("lists", "serious_untrustworthy", "criteria", 0, "conducts", value=["grave"]),
        ("lists.serious_untrustworthy.criteria[0].conducts[0]",),
    ),
    (
        "list-criterion-without-source",
        delete("lists", "serious_untrustworthy", "criteria", 0, "source"),
        ("lists.serious_untrustworthy.criteria[0].source",),
    ),
    (
        "record-type-conducts-without-conduct-field",
        delete(*PENALTY, "fields", "conduct_code"),
        ("record_types.administrative_penalty.conducts",),
    ),
    (
        "debtor-list-conduct-without-term",
        set_("lists", "dishonest_judgment_debtors", "debtor_rules", "terms", 0, "conducts", value=["x"]),
        ("lists.dishonest_judgment_debtors.debtor_rules.terms",),
    ),
    (
        "measure-unknown-kind",
        set_("measures", "restrict_high_consumption", "kind", value="moral"),
        ("measures.restrict_high_consumption.kind",),
    ),
    (
        "measure-addressed-to-unknown-kind",
        set_("measures", "restrict_high_consumption", "addressed_to", value=["pawnshop"]),
        ("measures.restrict_high_consumption.addressed_to[0]",),
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
