"""The synthetic population: valid identifiers in the requested regions, realistic names, reproducible output.

Identifiers are checked with python-stdnum (DOMAIN.md, "Identifiers").
"""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import date

import pytest
from stdnum.cn import ric, uscc

from share_gateway import synthetic
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.domain.records import RecordDraft
from share_gateway.synthetic import REGIONS, SUPPORTED_REGIONS, Population, Sex, SyntheticSubject, division_existed
from tests.unit.synthetic_support import TODAY

REQUIRED_REGIONS = ("110000", "310000", "440000", "330000", "510000", "120000")
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


# --- identifiers --------------------------------------------------------------------------


def test_every_required_region_is_supported() -> None:
    assert set(REQUIRED_REGIONS) <= set(SUPPORTED_REGIONS)


@pytest.mark.parametrize("region", REQUIRED_REGIONS)
def test_companies_have_a_valid_uscc_in_the_requested_region(region: str) -> None:
    """GB 32100-2015: 9 1 + division code of the region + organisation code + check (stdnum)."""
    population = Population(11, TODAY)
    companies = population.companies(40, [region])
    for company in companies:
        code = company.uscc
        assert uscc.validate(code) == code
        assert len(code) == 18
        assert code[:2] == "91"  # market regulation, enterprise
        assert code[2:4] == region[:2]
        assert code[2:8] == company.division.code
        assert company.division in REGIONS[region].divisions
        assert all(c in USCC_ALPHABET for c in code[8:])
        assert code[-1] == uscc.calc_check_digit(code[:17])
        assert Subject.parse("legal_entity", code).region == company.division.code
    assert len({c.uscc for c in companies}) == len(companies)


def test_beijing_companies_are_registered_in_beijing_districts() -> None:
    companies = Population(3, TODAY).companies(30, ["110000"])
    assert {c.uscc[2:6] for c in companies} == {"1101"}
    assert all(c.name.startswith("北京") and c.address.startswith("北京市") for c in companies)
    assert all(c.registration_authority.startswith("北京市") for c in companies)


@pytest.mark.parametrize("region", REQUIRED_REGIONS)
def test_persons_have_a_valid_resident_id_from_the_requested_region(region: str) -> None:
    """GB 11643-1999: stdnum checks the check digit, the birth date and that the division existed then."""
    people = Population(12, TODAY).persons(40, [region])
    for person in people:
        number = person.resident_id
        assert ric.validate(number) == number
        assert number[:2] == region[:2]
        assert ric.get_birth_date(number) == person.birth_date
        assert number[-1] == ric.calc_check_digit(number)
        assert (int(number[14:17]) % 2 == 1) == (person.sex is Sex.MALE)  # odd sequence: male
        assert 20 <= person.age_on(TODAY) <= 72
        assert person.division.current
        assert person.division.code[:2] == region[:2]
    assert len({p.resident_id for p in people}) == len(people)


def test_older_residents_of_young_districts_still_validate() -> None:
    """Guangdong has no division code older than 1983 in stdnum's database, yet old residents exist."""
    people = Population(5, TODAY).persons(120, ["440000"])
    assert any(p.birth_date.year < 1983 for p in people)
    assert all(ric.is_valid(p.resident_id) for p in people)


def test_division_tables_agree_with_stdnum_database() -> None:
    """Each current division exists today under the name we print; each historical one existed in 1980."""
    for region in REGIONS.values():
        for division in region.birth_divisions:
            year = TODAY if division.current else date(1980, 1, 1)
            assert division_existed(division.code, year), division
            place = ric.get_birth_place(f"{division.code}{year:%Y%m%d}0000")
            assert place["province"] == region.name
            if division.current:
                assert place["county"] == division.name, division


def test_unsupported_region_is_refused() -> None:
    population = Population(1, TODAY)
    with pytest.raises(ValueError, match="not supported"):
        population.company("990000")
    with pytest.raises(ValueError, match="not supported"):
        population.person("110108")  # a district, not a province-level region


def test_names_look_chinese() -> None:
    population = Population(2, TODAY)
    for company in population.companies(30):
        assert re.fullmatch(r"[\u4e00-\u9fff]{8,}", company.name), company.name
        assert company.name.endswith(("有限公司", "有限责任公司"))
        assert re.fullmatch(r"[\u4e00-\u9fff]{2,4}", company.legal_representative)
    for person in population.persons(30):
        assert re.fullmatch(r"[\u4e00-\u9fff]{2,4}", person.name), person.name


def test_the_package_exports_the_documented_api() -> None:
    assert set(synthetic.__all__) == {
        "REGIONS", "REGISTRATION", "SUPPORTED_REGIONS", "Division", "Population", "Region", "Sex",
        "SyntheticCompany", "SyntheticPerson", "SyntheticSubject", "department", "division_existed", "region_of",
        "sample_catalog",
    }  # fmt: skip
    assert all(hasattr(synthetic, name) for name in synthetic.__all__)


def test_subjects_spread_across_regions_and_kinds() -> None:
    subjects = Population(18, TODAY).subjects(60, REQUIRED_REGIONS)
    assert Counter(s.region for s in subjects) == dict.fromkeys(REQUIRED_REGIONS, 10)
    assert {s.kind for s in subjects} == {SubjectKind.LEGAL_ENTITY, SubjectKind.INDIVIDUAL}
    assert all(s.identifier[2 if s.kind is SubjectKind.LEGAL_ENTITY else 0 :][:2] == s.region[:2] for s in subjects)


# --- reproducibility ------------------------------------------------------------------------


def sample(seed: int) -> tuple[list[SyntheticSubject], list[RecordDraft]]:
    population = Population(seed, TODAY)
    subjects = population.subjects(20)
    return subjects, population.drafts(subjects, 3)


def test_same_seed_gives_the_same_population() -> None:
    assert sample(42) == sample(42)


def test_different_seeds_give_different_populations() -> None:
    first, second = sample(42), sample(43)
    assert first[0] != second[0]
    assert {s.identifier for s in first[0]}.isdisjoint({s.identifier for s in second[0]})
    assert first[1] != second[1]


def test_global_random_is_neither_used_nor_disturbed() -> None:
    random.seed(1)
    state = random.getstate()
    first = sample(7)
    assert random.getstate() == state
    random.seed(2)
    assert sample(7) == first
