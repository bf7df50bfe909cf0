"""Issue 12 item 13: identifiers as GB 32100-2015, GB 11643-1999 and GB/T 2260 write them (DOMAIN.md "Identifiers")."""

from __future__ import annotations

from datetime import date

import pytest
from stdnum.cn import ric, uscc

from share_gateway.domain.errors import InvalidInput
from share_gateway.domain.identifiers import Subject, validate_resident_id, validate_uscc


def _with_ric_check(body: str) -> str:
    return body + ric.calc_check_digit(body + "0")


@pytest.mark.parametrize(
    "number",
    [
        "N2330102MA20000018",  # the example: registering department N (agriculture)
        "A1110000MA0000001" + uscc.calc_check_digit("A1110000MA0000001"),
        "Y1310000MA0000002" + uscc.calc_check_digit("Y1310000MA0000002"),
        "NA330102MA2000001" + uscc.calc_check_digit("NA330102MA2000001"),  # entity type may be a letter too
    ],
)
def test_letter_first_uscc_accepted(number: str) -> None:
    """GB 32100-2015 gives registering departments letter codes (A, N, Y ...); the check character stays stdnum's.

    DOMAIN.md "Identifiers": a checksum-valid ``N2330102MA20000018`` is real-world valid and must be accepted.
    """
    assert validate_uscc(number) == number
    assert validate_uscc(number.lower()) == number


def test_letter_first_uscc_with_wrong_check_character_refused() -> None:
    """GB 32100-2015 check character, computed by ``stdnum.cn.uscc.calc_check_digit``, still applies."""
    with pytest.raises(InvalidInput) as error:
        validate_uscc("N2330102MA20000019")
    assert error.value.violations[0].description == "Unified Social Credit Code has a wrong check character"


@pytest.mark.parametrize("letter", ["I", "O", "S", "V", "Z"])
def test_letter_first_uscc_outside_the_alphabet_refused(letter: str) -> None:
    """GB 32100-2015's alphabet has no I, O, S, V or Z, in the first position as anywhere else."""
    body = letter + "2330102MA2000001"
    with pytest.raises(InvalidInput):
        validate_uscc(body + "0")


def test_all_zero_uscc_refused() -> None:
    """The all-zero code has a valid GB 32100-2015 check character (0) but names no entity."""
    assert uscc.calc_check_digit("0" * 17) == "0"
    with pytest.raises(InvalidInput) as error:
        Subject.parse("legal_entity", "0" * 18)
    assert error.value.violations[0].field == "subject.identifier"
    assert "all zeros" in error.value.violations[0].description


def test_resident_id_birth_date_must_be_real_and_past() -> None:
    """GB 11643-1999: positions 7-14 are the birth date, so it is a real day, and not after today (injected)."""
    today = date(2026, 12, 1)
    born_today = _with_ric_check("11010520261201001")
    assert validate_resident_id(born_today, today=today) == born_today
    tomorrow = _with_ric_check("11010520261202001")
    with pytest.raises(InvalidInput) as error:
        validate_resident_id(tomorrow, today=today)
    assert "after today" in error.value.violations[0].description
    with pytest.raises(InvalidInput) as parsed:
        Subject.parse("individual", tomorrow, today=today)
    assert parsed.value.violations[0].field == "subject.identifier"
    assert validate_resident_id(tomorrow, today=date(2026, 12, 2)) == tomorrow
    for impossible in ("11010519810229001", "11010519800001001", "11010500000101001"):
        with pytest.raises(InvalidInput):
            validate_resident_id(_with_ric_check(impossible), today=today)


@pytest.mark.parametrize(
    "body",
    [
        "11010319800101001",  # 110103 Chongwen district, abolished 2010: an ID issued before keeps it
        "12022519900101001",  # 120225 Ji county, 1982-2016
        "11011519800101001",  # 110115 Daxing district since 2001, on an ID issued later to someone born 1980
    ],
)
def test_resident_id_historical_division_code_accepted(body: str) -> None:
    """GB/T 2260 codes as python-stdnum's ``cn/loc`` table holds them, historical ones included: an ID keeps
    the code in force when it was issued (DOMAIN.md "Identifiers"; issue 12 item 13)."""
    number = _with_ric_check(body)
    assert validate_resident_id(number, today=date(2026, 12, 1)) == number


@pytest.mark.parametrize(
    "body",
    [
        "11999919800101001",  # no such county in Beijing
        "99999919800101001",  # no such province
        "11010320150101001",  # Chongwen ended in 2010: nobody born in 2015 was issued its code
    ],
)
def test_resident_id_division_code_must_be_a_real_gb2260_code(body: str) -> None:
    """A resident ID's first six digits are a GB/T 2260 division code in force when it was issued (after birth)."""
    with pytest.raises(InvalidInput) as error:
        validate_resident_id(_with_ric_check(body))
    assert "division code" in error.value.violations[0].description
