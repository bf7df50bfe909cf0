"""Synthetic record drafts: the catalog admits them, and their values look like the real documents'.

Drafts are checked by the one gate that matters, ``admit_record``, against
the sample catalog, including the disclosure window rule (2025 No. 22: the
clock starts at the decision date and the window must still be open).
"""

from __future__ import annotations

import dataclasses
import re
import zlib
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest

from share_gateway.catalog import sample_catalog_text
from share_gateway.domain.catalog import Catalog, FieldSpec, FieldType
from share_gateway.domain.catalog_provision import ANY_PROVISION
from share_gateway.domain.debtor_list import courts_list
from share_gateway.domain.errors import InvalidInput
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.domain.periods import Audience
from share_gateway.domain.records import Record, RecordDraft, admit_record
from share_gateway.synthetic import Population, SyntheticCompany, SyntheticPerson, SyntheticSubject
from tests.unit.synthetic_support import NOW, TODAY

CATALOG = Catalog.from_yaml(sample_catalog_text())
MONEY = re.compile(r"^[0-9]+\.[0-9]{2}$")
ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
# 京海市监罚〔2026〕123号, 穗环罚〔2025〕7号: issuer mark, year in 〔〕, serial, 号.
DECISION_NUMBER = re.compile(r"^[\u4e00-\u9fff]+〔(?P<year>[0-9]{4})〕[0-9]+号$")
# （2025）京0108执1234号: filing year, province abbreviation and court code, 执 for enforcement.
CASE_NUMBER = re.compile(r"^（(?P<year>[0-9]{4})）(?P<court>[\u4e00-\u9fff][0-9]{4})执[0-9]+号$")


def admit(draft: RecordDraft, subject: SyntheticSubject) -> Record:
    """Admit a draft as the registry would, failing the test with every violation if it is refused."""
    try:
        return admit_record(
            CATALOG, draft, record_id=f"r-{id(draft)}", origin_region=subject.region, submitted_by="test", now=NOW
        )
    except InvalidInput as error:
        pytest.fail(f"{draft.record_type} about {subject.identifier} refused: {error}")


def raw_text(draft: RecordDraft, name: str) -> str:
    value = draft.fields[name].raw
    assert isinstance(value, str)
    return value


def subjects_of(kind: SubjectKind, population: Population, n: int) -> list[SyntheticSubject]:
    if kind is SubjectKind.LEGAL_ENTITY:
        return list(population.companies(n))
    return list(population.persons(n))


# Record types the catalog lets a generator make: not one whose threshold no source gives (utility arrears).
GENERATED = {name for name, t in CATALOG.record_types.items() if t.threshold is None or t.threshold.given}
KIND_AND_TYPE = [
    (kind, name) for name, record_type in CATALOG.record_types.items() for kind in sorted(record_type.subject_kinds)
    if name in GENERATED
]  # fmt: skip


def test_every_record_type_and_kind_is_covered() -> None:
    """The sample catalog has eight record types; all but registration are about both kinds; all but utility
    arrears (whose threshold no source gives) are generated."""
    assert set(CATALOG.record_types) - {"utility_arrears"} == GENERATED
    assert {name for _, name in KIND_AND_TYPE} == GENERATED
    assert len(KIND_AND_TYPE) == 2 * len(GENERATED) - 1


@pytest.mark.parametrize(("kind", "record_type"), KIND_AND_TYPE)
def test_drafts_of_every_record_type_are_admitted(kind: SubjectKind, record_type: str) -> None:
    population = Population(zlib.crc32(f"{kind}:{record_type}".encode()), TODAY)
    spec = CATALOG.record_types[record_type]
    for subject in subjects_of(kind, population, 30):
        draft = population.record_draft(subject, record_type)
        assert draft.record_type == record_type
        for name, field in spec.fields.items():
            if field.required:
                assert name in draft.fields, name
            if name in draft.fields:
                assert draft.fields[name].type is field.type, name
        record = admit(draft, subject)
        assert record.subject == Subject(kind, subject.identifier)
        assert record.visible_to(Audience.SHARING, TODAY) or draft.disclosure_days == 0
        if spec.legal_document_required:
            assert draft.legal_document is not None
            assert record.legal_document is not None
            assert record.legal_document.effective_on <= TODAY
        # period_start None: a default not yet settled; period_days None: a courts' entry lasting until performance.
        if spec.severity_periods and record.period_start is not None and record.period_days is not None:
            assert record.share_until is not None
            assert record.share_until > TODAY or draft.disclosure_days == 0


def test_hundreds_of_mixed_drafts_are_admitted() -> None:
    population = Population(2026, TODAY)
    subjects = population.subjects(120)
    admitted = Counter[str]()
    for subject in subjects:
        for draft in population.drafts_for(subject, 4):
            admit(draft, subject)
            admitted[draft.record_type] += 1
    assert sum(admitted.values()) == 480
    assert set(admitted) == GENERATED


def test_value_formats_follow_the_field_types() -> None:
    population = Population(8, TODAY)
    for subject in population.subjects(40):
        for draft in population.drafts_for(subject, 5):
            for name, value in draft.fields.items():
                if value.type is FieldType.MONEY:
                    assert isinstance(value.raw, str)
                    assert MONEY.match(value.raw), (name, value.raw)
                elif value.type is FieldType.DATE:
                    assert isinstance(value.raw, str)
                    assert ISO_DATE.match(value.raw)
                    assert date.fromisoformat(value.raw) <= TODAY or name == "valid_until"
                elif value.type is FieldType.BOOLEAN:
                    assert isinstance(value.raw, bool)
                elif value.type is FieldType.INTEGER:
                    assert isinstance(value.raw, int)
                    assert not isinstance(value.raw, bool)
                else:
                    assert isinstance(value.raw, str)
                    assert value.raw.strip()


def test_severities_come_from_the_catalog_and_all_are_used() -> None:
    population = Population(9, TODAY)
    subjects = population.subjects(20)
    for name, spec in CATALOG.record_types.items():
        if name not in GENERATED:
            continue
        seen: set[str] = set()
        eligible = [s for s in subjects if s.kind in spec.subject_kinds]
        for i in range(150):
            draft = population.record_draft(eligible[i % len(eligible)], name)
            if not spec.severity_periods:
                assert draft.severity == ""
                assert draft.disclosure_days is None
                continue
            assert draft.severity in spec.severity_periods
            period = spec.severity_periods[draft.severity]
            if draft.disclosure_days is not None:
                assert period.minimum_days <= draft.disclosure_days <= period.maximum_days
            seen.add(draft.severity)
        if spec.severity_periods and courts_list(CATALOG, name) is None:  # a courts' entry: the court's term
            assert seen == set(spec.severity_periods), name


def test_decision_leaves_the_disclosure_window_open() -> None:
    """2025 No. 22: the window runs from the decision date; a draft must not arrive already expired."""
    population = Population(10, TODAY)
    companies = population.companies(10)
    for i in range(200):
        draft = population.record_draft(companies[i % 10], "administrative_penalty")
        assert draft.legal_document is not None
        issued = date.fromisoformat(draft.legal_document.issued_on)
        days = draft.disclosure_days
        if days is None:
            days = CATALOG.record_types["administrative_penalty"].severity_periods[draft.severity].maximum_days
        assert days == 0 or issued + timedelta(days=days) > TODAY


def test_business_registration_is_for_companies_only() -> None:
    population = Population(4, TODAY)
    person = population.person("310000")
    with pytest.raises(ValueError, match="not recorded about individual"):
        population.record_draft(person, "business_registration")
    assert "business_registration" not in population.record_types_for(SubjectKind.INDIVIDUAL)
    assert all(d.record_type != "business_registration" for d in population.drafts_for(person, 30))
    company = population.company("310000")
    drafts = population.drafts_for(company, 30)
    assert len(drafts) == 30
    assert drafts[0].record_type == "business_registration"
    assert [d.record_type for d in drafts].count("business_registration") == 1
    assert len({d.record_type for d in drafts}) >= 4


def test_unknown_record_type_is_refused() -> None:
    population = Population(4, TODAY)
    with pytest.raises(ValueError, match="not in catalog"):
        population.record_draft(population.company("110000"), "parking_ticket")


def test_registration_matches_the_company() -> None:
    population = Population(13, TODAY)
    company = population.company("440000")
    draft = population.record_draft(company, "business_registration")
    assert raw_text(draft, "entity_name") == company.name
    assert raw_text(draft, "legal_representative") == company.legal_representative
    assert raw_text(draft, "established_on") == company.established_on.isoformat()
    assert raw_text(draft, "registration_authority").endswith("市场监督管理局")
    document = draft.legal_document
    assert document is not None
    assert document.kind == "business_licence"
    assert document.number == company.uscc
    assert document.issued_on >= company.established_on.isoformat()


def test_penalty_documents_are_realistic() -> None:
    """SAMR Order 45 Art. 4 fields; the decision number is the document number, issued in its year."""
    population = Population(14, TODAY)
    for subject in population.subjects(60):
        draft = population.record_draft(subject, "administrative_penalty")
        document = draft.legal_document
        assert document is not None
        assert document.kind == "administrative_penalty_decision"
        assert raw_text(draft, "decision_number") == document.number
        assert raw_text(draft, "issuing_authority") == document.issuer
        assert raw_text(draft, "party_name") == subject.name
        match = DECISION_NUMBER.match(document.number)
        assert match, document.number
        assert match["year"] == document.issued_on[:4]
        assert document.issuer.endswith(("局", "委员会"))
        assert document.issued_on <= document.effective_on <= TODAY.isoformat()
        if "penalty_amount" in draft.fields:
            amount = Decimal(raw_text(draft, "penalty_amount"))
            assert amount > 0
            assert "罚款人民币" in raw_text(draft, "penalty")


def test_dishonest_debtor_fields_follow_the_supreme_court_rules() -> None:
    """Fa Shi [2017] No. 7: organisations with legal representative, persons with sex and age."""
    population = Population(15, TODAY)
    for subject in population.subjects(40):
        draft = population.record_draft(subject, "dishonest_judgment_debtor")
        case = CASE_NUMBER.match(raw_text(draft, "case_number"))
        assert case, raw_text(draft, "case_number")
        assert case["court"][1:] == subject.division.code[2:6]
        assert draft.legal_document is not None
        assert draft.legal_document.number == raw_text(draft, "case_number")
        assert raw_text(draft, "filed_on") <= draft.legal_document.issued_on
        assert raw_text(draft, "court").endswith("人民法院")
        assert raw_text(draft, "performance") in {"全部未履行", "部分未履行"}
        if isinstance(subject, SyntheticCompany):
            assert raw_text(draft, "legal_representative") == subject.legal_representative
            assert "sex" not in draft.fields
            assert "age" not in draft.fields
        else:
            assert isinstance(subject, SyntheticPerson)
            assert raw_text(draft, "sex") == subject.sex.value
            age = draft.fields["age"].raw
            assert isinstance(age, int)
            assert age >= 18
            assert "legal_representative" not in draft.fields


def test_loan_defaults_are_consistent() -> None:
    population = Population(16, TODAY)
    for subject in population.subjects(60):
        draft = population.record_draft(subject, "loan_default")
        principal = Decimal(raw_text(draft, "principal"))
        overdue = Decimal(raw_text(draft, "overdue_amount"))
        since = date.fromisoformat(raw_text(draft, "overdue_since"))
        days = draft.fields["days_overdue"].raw
        assert isinstance(days, int)
        assert 0 < overdue <= principal
        assert days > 90  # beyond the grace period
        if draft.fields["settled"].raw is False:
            assert since + timedelta(days=days) == TODAY
        else:
            assert since + timedelta(days=days) <= TODAY


def test_commitment_breach_only_when_not_kept() -> None:
    population = Population(17, TODAY)
    kept_values = set()
    for subject in population.subjects(80):
        draft = population.record_draft(subject, "credit_commitment")
        kept = draft.fields["kept"].raw
        kept_values.add(kept)
        assert ("breach" in draft.fields) is (kept is False)
    assert kept_values == {True, False}


def test_a_newer_catalog_still_gets_admissible_drafts() -> None:
    """Fields and record types no generator knows get a value of their type and a generic decision."""
    base = CATALOG.record_types["administrative_penalty"]
    fields = {
        "party_name": base.fields["party_name"],
        "issuing_authority": base.fields["issuing_authority"],
        "note": FieldSpec("note", FieldType.STRING, required=True, description="责令限期改正"),
        "deposit": FieldSpec("deposit", FieldType.MONEY, required=True),
        "noted_on": FieldSpec("noted_on", FieldType.DATE, required=True),
        "rectified": FieldSpec("rectified", FieldType.BOOLEAN, required=True),
        "visits": FieldSpec("visits", FieldType.INTEGER, required=True),
        "age": FieldSpec("age", FieldType.STRING),  # a person's age, but as text: left out
    }
    # A type of its own: none of the penalty's document kinds or decision-number field (catalog provision).
    warning = dataclasses.replace(base, name="market_warning", fields=fields, necessity={}, provision=ANY_PROVISION)
    catalog = dataclasses.replace(CATALOG, record_types={"market_warning": warning})
    population = Population(19, TODAY, catalog)
    for subject in population.subjects(20):
        draft = population.record_draft(subject, "market_warning")
        admit_record(catalog, draft, record_id="r-1", origin_region=subject.region, submitted_by="test", now=NOW)
        assert raw_text(draft, "note") == "责令限期改正"
        assert raw_text(draft, "issuing_authority").endswith("市场监督管理局")
        assert "age" not in draft.fields
        assert draft.legal_document is not None
        assert draft.legal_document.kind == "administrative_decision"
        assert DECISION_NUMBER.match(draft.legal_document.number), draft.legal_document.number
