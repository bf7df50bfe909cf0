"""Coherent synthetic data (issue 12): records as the recording region's bodies make them, as the catalog allows.

Each test names a weakness the review found in the generator: a Guangdong record naming a Beijing court, a
record without a decision showing a decision date, a debtor's term not following the conduct, small utility
arrears made into untrustworthiness records shared with banks, and drafts the catalog's own checks refuse.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest

from share_gateway.catalog import sample_catalog_text
from share_gateway.domain.catalog import Catalog
from share_gateway.domain.catalog_text import is_unverified
from share_gateway.domain.catalog_threshold import Threshold
from share_gateway.domain.errors import CatalogInvalid, InvalidInput
from share_gateway.domain.records import Record, RecordDraft, TypedValue, admit_record
from share_gateway.synthetic import REGIONS, Population, SyntheticSubject
from tests.unit.synthetic_support import NOW, TODAY

CATALOG = Catalog.from_yaml(sample_catalog_text())
# The fields (and the document) naming the body that made a record, by record type. The lender's branch is
# named too, but a national bank's name may hold another city (上海浦东发展银行): it is checked for its own place.
BODIES = {
    "administrative_penalty": ("issuing_authority",),
    "administrative_licence": ("issuing_authority",),
    "dishonest_judgment_debtor": ("court", "enforcement_basis_issuer"),
    "tax_arrears": ("tax_authority",),
    "credit_commitment": ("accepting_authority",),
}
PAIRS = [("110000", "440000"), ("310000", "110000"), ("440000", "510000"), ("330000", "120000")]


def places(region: str) -> set[str]:
    """The names a body of ``region`` carries: the province's (广东) and its cities' (广州, 深圳)."""
    found = REGIONS[region]
    return {found.name.removesuffix("省").removesuffix("市")} | {d.city for d in found.divisions}


def names_only(text: str, region: str) -> bool:
    """Whether ``text`` names a place of ``region`` and none of another supported region."""
    others = set().union(*(places(r) for r in REGIONS if r != region)) - places(region)
    return any(p in text for p in places(region)) and not any(p in text for p in others)


def admit(draft: RecordDraft, region: str) -> Record:
    try:
        return admit_record(CATALOG, draft, record_id="r-1", origin_region=region, submitted_by="test", now=NOW)
    except InvalidInput as error:
        pytest.fail(f"{draft.record_type} refused: {error}")


def text(draft: RecordDraft, name: str) -> str:
    value = draft.fields[name].raw
    assert isinstance(value, str)
    return value


@pytest.mark.parametrize(("home", "recorded_in"), PAIRS)
def test_the_recording_region_s_own_bodies_make_its_records(home: str, recorded_in: str) -> None:
    """SAMR Order 45 Art. 4: a penalty names its issuing authority; Fa Shi [2017] No. 7: an entry names its court.
    A record made in a region names that region's bodies, wherever its subject comes from (issue 12: a Guangdong
    record named a Beijing court; that a body records only its own decisions is unverified)."""
    population = Population(41, TODAY)
    for subject in population.subjects(24, regions=[home]):
        for record_type, fields in BODIES.items():
            draft = population.record_draft(subject, record_type, recorded_in)
            for name in fields:
                assert names_only(text(draft, name), recorded_in), (record_type, name, text(draft, name))
            if draft.legal_document is not None:
                assert names_only(draft.legal_document.issuer, recorded_in), draft.legal_document.issuer
            if record_type == "dishonest_judgment_debtor":  # （2025）粤0105执123号: the court's province and code
                assert text(draft, "case_number")[6] == REGIONS[recorded_in].abbr
            admit(draft, recorded_in)
        loan = population.record_draft(subject, "loan_default", recorded_in)
        assert any(p in text(loan, "lender") for p in places(recorded_in)), text(loan, "lender")


def test_a_registration_is_made_only_where_the_company_is_registered() -> None:
    """GB 32100-2015: the code carries the registering division; another region cannot register the company."""
    population = Population(42, TODAY)
    company = population.company("110000")
    with pytest.raises(ValueError, match="where the company is registered"):
        population.record_draft(company, "business_registration", "440000")
    assert all(d.record_type != "business_registration" for d in population.drafts_for(company, 20, "440000"))
    assert population.drafts_for(company, 3, "110000")[0].record_type == "business_registration"


def test_a_record_without_a_decision_shows_no_decision_date() -> None:
    """A record type resting on no decision (a loan default, a commitment) has no decision date: its period runs
    from the end of the conduct (Credit Reporting Industry Regulation Art. 16), never from an invented decision."""
    population = Population(43, TODAY)
    undecided = [name for name, t in CATALOG.record_types.items() if not t.legal_document_required]
    assert {"loan_default", "credit_commitment"} <= set(undecided)
    for subject in population.subjects(40):
        for record_type in undecided:
            if not population.allows(CATALOG.record_types[record_type], subject):
                continue
            draft = population.record_draft(subject, record_type)
            assert draft.legal_document is None
            record = admit(draft, subject.region)
            assert record.decided_on is None
            if record_type == "loan_default":
                assert record.period_start == (date.fromisoformat(draft.settled_on) if draft.settled_on else None)


def test_a_debtor_s_term_follows_its_conduct() -> None:
    """Fa Shi [2017] No. 7 Art. 2: conduct under Art. 1(1) has no fixed term; items (2)-(6) two years. No synthetic
    court extends a term (an extension needs the aggravating conduct Art. 2 names)."""
    population = Population(44, TODAY)
    terms = Counter[str]()
    for subject in population.subjects(200):
        draft = population.record_draft(subject, "dishonest_judgment_debtor")
        record = admit(draft, subject.region)
        assert draft.legal_document is not None
        assert "extension_days" not in draft.fields
        if record.fields["conduct_code"] == "able_but_refuses":
            assert (record.period_days, record.share_until) == (None, None)
            terms["none"] += 1
        else:
            assert record.period_days == 730
            assert record.share_until == date.fromisoformat(draft.legal_document.issued_on) + timedelta(days=730)
            terms["two years"] += 1
    assert set(terms) == {"none", "two years"}


def test_utility_arrears_without_a_sourced_threshold_are_not_made() -> None:
    """2025 No. 22 and Order 36 repair untrustworthiness information, but no source in hand says from what amount
    unpaid bills are such information: the catalog says so ("unverified") and no arrears record is invented."""
    threshold = CATALOG.record_types["utility_arrears"].threshold
    assert threshold is not None
    assert not threshold.given
    assert is_unverified(threshold.source)
    population = Population(45, TODAY)
    person = population.person("310000")
    with pytest.raises(ValueError, match="threshold is not given by a source"):
        population.record_draft(person, "utility_arrears")
    made = {d.record_type for d in population.drafts(population.subjects(60), 5)}
    assert "utility_arrears" not in made


def _with_threshold(minimum: str) -> Catalog:
    arrears = CATALOG.record_types["utility_arrears"]
    sourced = Threshold("a test rule (unverified)", "arrears_amount", Decimal(minimum))
    types = {**CATALOG.record_types, "utility_arrears": dataclasses.replace(arrears, threshold=sourced)}
    return dataclasses.replace(CATALOG, record_types=types)


def test_utility_arrears_are_made_only_at_or_above_a_sourced_threshold() -> None:
    """Where a catalog gives a threshold with its source, arrears are generated at or above it and admitted, and
    admission refuses an amount below it (issue 12: ¥165 of household arrears became a record shared with banks)."""
    catalog = _with_threshold("1000")
    population = Population(46, TODAY, catalog)
    for subject in population.subjects(60):
        draft = population.record_draft(subject, "utility_arrears")
        assert Decimal(text(draft, "arrears_amount")) >= 1000
        admit_record(catalog, draft, record_id="r-1", origin_region=subject.region, submitted_by="t", now=NOW)
    below = dataclasses.replace(
        draft, fields={**draft.fields, "arrears_amount": TypedValue(draft.fields["arrears_amount"].type, "165.00")}
    )
    with pytest.raises(InvalidInput) as refused:
        admit_record(catalog, below, record_id="r-2", origin_region="110000", submitted_by="t", now=NOW)
    assert [v.field for v in refused.value.violations] == ["fields.arrears_amount"]


def test_a_threshold_no_source_gives_must_say_it_is_unverified() -> None:
    """A basis the project cannot verify is marked so in the catalog, not presented as fact (issue 12 item 12)."""
    document = sample_catalog_text().replace(
        "(unverified: the National Basic Catalog (2024) names", "(the catalog names"
    )
    with pytest.raises(CatalogInvalid, match=r"threshold\.source"):
        Catalog.from_yaml(document)


def test_every_generated_record_admits_through_the_catalog_s_checks_wherever_it_is_made() -> None:
    """Guo Ban Fa [2020] No. 49 principle 1 (DOMAIN.md): only what the catalog defines is recorded; every draft,
    in its subject's region or another, passes ``admit_record`` as that region's node would run it."""
    population = Population(47, TODAY)
    subjects: list[SyntheticSubject] = population.subjects(60)
    for region in ("110000", "440000"):
        for draft in population.drafts(subjects, 4, region):
            admit(draft, region)


def test_the_same_seed_makes_the_same_records_in_each_region() -> None:
    """Reproducible data: the same seed, day and calls give the same drafts, recording region included."""

    def run() -> list[RecordDraft]:
        population = Population(48, TODAY)
        return population.drafts(population.subjects(10, regions=["310000"]), 3, "510000")

    assert run() == run()
