"""Identifiers: USCC (GB 32100-2015), resident ID (GB 11643-1999), regions, identities.

Valid numbers are built with python-stdnum's ``calc_check_digit`` (DOMAIN.md,
"Identifiers"), so each refusal below differs from a valid number in exactly
the one way its test names.
"""

from __future__ import annotations

import pytest
from stdnum.cn import ric, uscc

from share_gateway.domain.errors import InvalidInput
from share_gateway.domain.identifiers import (
    Subject,
    SubjectKind,
    validate_region,
    validate_resident_id,
    validate_uscc,
)
from share_gateway.domain.principals import Identity, IdentityKind

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015: no I, O, S, V, Z


def with_uscc_check(body: str) -> str:
    """A USCC from its first 17 characters and the check character stdnum computes."""
    assert len(body) == 17
    return body + uscc.calc_check_digit(body)


def with_ric_check(body: str) -> str:
    """A resident ID from its first 17 digits and its ISO 7064 MOD 11-2 check character."""
    assert len(body) == 17
    return body + ric.calc_check_digit(body + "0")


def wrong_check(number: str, alphabet: str) -> str:
    """The same number with a different, still well-formed, check character."""
    replacement = next(c for c in alphabet if c != number[-1])
    return number[:-1] + replacement


def only_violation(error: pytest.ExceptionInfo[InvalidInput]) -> tuple[str, str]:
    assert len(error.value.violations) == 1
    violation = error.value.violations[0]
    return violation.field, violation.description


# --- Unified Social Credit Code ---------------------------------------------------


VALID_USCCS = [
    "91110000MA0000001L",  # known valid (stated in the brief; also used by the test federation)
    with_uscc_check("91310000MA0000002"),
    with_uscc_check("91440300MA5ABCDE1"),
    with_uscc_check("12100000MB0000004"),
    with_uscc_check("92110105MA0000007"),
]


@pytest.mark.parametrize("number", VALID_USCCS)
def test_uscc_with_correct_check_character_is_accepted(number: str) -> None:
    assert validate_uscc(number) == number


def test_uscc_check_character_matches_the_gb32100_formula() -> None:
    """GB 32100-2015: weights 3^i mod 31, check = (31 - sum mod 31) mod 31."""
    body = "91110000MA0000001"
    total = sum(USCC_ALPHABET.index(c) * pow(3, i, 31) for i, c in enumerate(body))
    assert USCC_ALPHABET[(31 - total % 31) % 31] == "L"
    assert validate_uscc(body + "L") == "91110000MA0000001L"


@pytest.mark.parametrize("number", VALID_USCCS)
def test_uscc_with_wrong_check_character_is_refused(number: str) -> None:
    with pytest.raises(InvalidInput) as error:
        validate_uscc(wrong_check(number, USCC_ALPHABET))
    assert only_violation(error) == ("identifier", "Unified Social Credit Code has a wrong check character")


@pytest.mark.parametrize(
    "number",
    ["91110000MA0000001", "91110000MA0000001LL", "", "9111"],
    ids=["17-chars", "19-chars", "empty", "4-chars"],
)
def test_uscc_of_wrong_length_is_refused(number: str) -> None:
    with pytest.raises(InvalidInput) as error:
        validate_uscc(number, "party")
    assert only_violation(error) == ("party", "Unified Social Credit Code must be 18 characters")


@pytest.mark.parametrize("letter", ["I", "O", "S", "V", "Z"])
def test_uscc_letters_outside_gb32100_alphabet_are_refused(letter: str) -> None:
    """GB 32100-2015 leaves I, O, S, V and Z out of the alphabet (they look like digits)."""
    number = "91110000MA" + letter + "00000" + "1L"
    assert len(number) == 18
    with pytest.raises(InvalidInput) as error:
        validate_uscc(number)
    assert only_violation(error) == (
        "identifier",
        "Unified Social Credit Code has characters outside its alphabet",
    )


def test_uscc_with_letter_in_division_code_is_refused() -> None:
    """Characters 3-8 are a GB/T 2260 division code: digits only."""
    with pytest.raises(InvalidInput) as error:
        validate_uscc("9111A000MA0000001L")
    assert only_violation(error)[0] == "identifier"


@pytest.mark.parametrize("number", VALID_USCCS)
def test_uscc_lowercase_is_accepted_and_normalised_to_uppercase(number: str) -> None:
    assert validate_uscc(number.lower()) == number


# --- Resident ID number ------------------------------------------------------------

VALID_RESIDENT_IDS = [
    "110105198001011238",  # known valid (stated in the brief)
    with_ric_check("31010419900307002"),
    with_ric_check("11010520000229000"),  # 29 February of a leap year
    with_ric_check("11010819751231100"),  # check character X
]


def test_resident_id_samples_include_an_x_check_character() -> None:
    assert VALID_RESIDENT_IDS[-1].endswith("X")


@pytest.mark.parametrize("number", VALID_RESIDENT_IDS)
def test_resident_id_with_correct_check_character_is_accepted(number: str) -> None:
    assert validate_resident_id(number) == number


@pytest.mark.parametrize("number", VALID_RESIDENT_IDS)
def test_resident_id_with_wrong_check_character_is_refused(number: str) -> None:
    """GB 11643-1999: ISO 7064 MOD 11-2 over the first 17 digits, 'X' standing for 10."""
    with pytest.raises(InvalidInput) as error:
        validate_resident_id(wrong_check(number, "0123456789X"))
    assert only_violation(error) == ("identifier", "resident ID number has a wrong check character")


def test_resident_id_lowercase_x_is_accepted_and_normalised() -> None:
    number = VALID_RESIDENT_IDS[-1]
    assert validate_resident_id(number.lower()) == number


@pytest.mark.parametrize(
    "number",
    ["11010519800101123", "1101051980010112380", ""],
    ids=["17-chars", "19-chars", "empty"],
)
def test_resident_id_of_wrong_length_is_refused(number: str) -> None:
    with pytest.raises(InvalidInput) as error:
        validate_resident_id(number)
    assert only_violation(error) == ("identifier", "resident ID number must be 18 characters")


def test_resident_id_with_letters_is_refused() -> None:
    with pytest.raises(InvalidInput) as error:
        validate_resident_id("11010519800101A238")
    assert only_violation(error) == ("identifier", "resident ID number has characters outside its alphabet")


@pytest.mark.parametrize(
    "body",
    ["11010519801301123", "11010519800230123"],
    ids=["month-13", "30-february"],
)
def test_resident_id_with_impossible_birth_date_is_refused(body: str) -> None:
    """Positions 7-14 are the birth date (GB 11643-1999)."""
    with pytest.raises(InvalidInput) as error:
        validate_resident_id(with_ric_check(body))
    assert only_violation(error) == (
        "identifier",
        "resident ID number has an invalid birth date or division code",
    )


@pytest.mark.parametrize(
    "number", ["440106197501011232", "110115198001011230"], ids=["tianhe-1985-code", "daxing-2001-code"]
)
def test_resident_id_with_a_division_code_newer_than_the_birth_is_accepted(number: str) -> None:
    """A number carries the division code in force when it was issued, which may postdate the birth."""
    assert validate_resident_id(number) == number


# --- Regions -----------------------------------------------------------------------


@pytest.mark.parametrize("code", ["110000", "310104", "999999"])
def test_six_digit_division_code_is_accepted(code: str) -> None:
    assert validate_region(code) == code


@pytest.mark.parametrize(
    "code",
    ["010000", "11000", "1100000", "11000a", "", " 110000", "110000\n"],
    ids=["leading-zero", "5-digits", "7-digits", "letter", "empty", "leading-space", "trailing-newline"],
)
def test_malformed_division_code_is_refused(code: str) -> None:
    with pytest.raises(InvalidInput) as error:
        validate_region(code, "origin_region")
    assert only_violation(error)[0] == "origin_region"


# --- Subject -----------------------------------------------------------------------


def test_subject_parse_legal_entity() -> None:
    subject = Subject.parse("legal_entity", "91110000MA0000001L")
    assert subject == Subject(SubjectKind.LEGAL_ENTITY, "91110000MA0000001L")
    assert str(subject) == "legal_entity:91110000MA0000001L"


def test_subject_parse_individual_strips_and_normalises() -> None:
    subject = Subject.parse("individual", "  11010819751231100x ")
    assert subject == Subject(SubjectKind.INDIVIDUAL, "11010819751231100X")


def test_subject_parse_unknown_kind_names_subject_kind() -> None:
    with pytest.raises(InvalidInput) as error:
        Subject.parse("company", "91110000MA0000001L")
    field, description = only_violation(error)
    assert field == "subject.kind"
    assert "legal_entity" in description
    assert "individual" in description


def test_subject_parse_empty_kind_names_subject_kind() -> None:
    with pytest.raises(InvalidInput) as error:
        Subject.parse("", "91110000MA0000001L")
    assert only_violation(error)[0] == "subject.kind"


@pytest.mark.parametrize(
    ("kind", "identifier"),
    [
        ("legal_entity", "91110000MA0000001A"),
        ("legal_entity", "110105198001011238"),  # a resident ID is not a USCC
        ("individual", "91110000MA0000001L"),  # a USCC is not a resident ID
        ("individual", "110105198001011239"),
    ],
    ids=["uscc-bad-check", "entity-with-resident-id", "individual-with-uscc", "resident-id-bad-check"],
)
def test_subject_parse_bad_identifier_names_subject_identifier(kind: str, identifier: str) -> None:
    with pytest.raises(InvalidInput) as error:
        Subject.parse(kind, identifier)
    assert only_violation(error)[0] == "subject.identifier"


def test_subject_parse_field_prefix_is_used_in_violations() -> None:
    with pytest.raises(InvalidInput) as kind_error:
        Subject.parse("robot", "x", field="query.subject")
    assert only_violation(kind_error)[0] == "query.subject.kind"
    with pytest.raises(InvalidInput) as id_error:
        Subject.parse("individual", "x", field="query.subject")
    assert only_violation(id_error)[0] == "query.subject.identifier"


@pytest.mark.parametrize(
    ("kind", "identifier", "region"),
    [
        ("legal_entity", "91110000MA0000001L", "110000"),  # USCC characters 3-8
        ("legal_entity", with_uscc_check("91440300MA5ABCDE1"), "440300"),
        ("individual", "110105198001011238", "110105"),  # resident ID characters 1-6
        ("individual", with_ric_check("31010419900307002"), "310104"),
    ],
)
def test_subject_region_is_the_division_code_in_the_identifier(kind: str, identifier: str, region: str) -> None:
    assert Subject.parse(kind, identifier).region == region


# --- Identity (certificate URI SANs) ---------------------------------------------


@pytest.mark.parametrize(
    ("uri", "kind", "identifier"),
    [
        ("sgw://node/110000", IdentityKind.NODE, "110000"),
        ("sgw://institution/91110000MA0000001L", IdentityKind.INSTITUTION, "91110000MA0000001L"),
        ("sgw://person/110105198001011238", IdentityKind.PERSON, "110105198001011238"),
    ],
)
def test_identity_from_uri(uri: str, kind: IdentityKind, identifier: str) -> None:
    identity = Identity.from_uri(uri)
    assert identity == Identity(kind, identifier)
    assert identity.uri == uri
    assert str(identity) == uri


def test_identity_from_uri_normalises_lowercase_uscc() -> None:
    identity = Identity.from_uri("sgw://institution/91110000ma0000001l")
    assert identity.identifier == "91110000MA0000001L"
    assert identity.uri == "sgw://institution/91110000MA0000001L"


@pytest.mark.parametrize(
    "uri",
    [
        "https://node/110000",
        "sgw:/node/110000",
        "sgw://node",
        "sgw://node/",
        "sgw://node/110000/extra",
        "sgw://robot/110000",
        "sgw://node/11000a",
        "sgw://node/110000\n",
        "sgw://institution/91110000MA0000001A",
        "sgw://institution/110105198001011238",
        "sgw://person/110105198001011239",
        "sgw://person/91110000MA0000001L",
        "",
    ],
    ids=[
        "wrong-scheme",
        "one-slash",
        "no-identifier",
        "empty-identifier",
        "extra-segment",
        "unknown-kind",
        "bad-region",
        "region-trailing-newline",
        "uscc-bad-check",
        "institution-with-resident-id",
        "resident-id-bad-check",
        "person-with-uscc",
        "empty",
    ],
)
def test_identity_from_bad_uri_is_refused_naming_the_certificate(uri: str) -> None:
    with pytest.raises(InvalidInput) as error:
        Identity.from_uri(uri)
    assert only_violation(error)[0] == "certificate"
