"""Identifiers of subjects and regions, check digits verified by python-stdnum.

* Unified Social Credit Code, GB 32100-2015 (``stdnum.cn.uscc`` for the check character; the
  layout is checked here because stdnum wants digits where the standard allows letters);
* resident ID number, GB 11643-1999, ISO 7064 MOD 11-2 (``stdnum.cn.ric``), its division code
  looked up in stdnum's GB/T 2260 table, historical codes included;
* region codes, GB/T 2260 six-digit division codes.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from stdnum import numdb
from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError

from share_gateway.domain.errors import InvalidInput

_REGION = re.compile(r"[1-9][0-9]{5}")
# GB 32100-2015 layout, one class per position: registering department (1) and entity type (1) are
# "digits or capital letters" of the code's alphabet (departments A, N, Y ... as well as 1-9); the
# registering division (6) is a GB/T 2260 code, digits only; the organisation code (9, GB 11714) and the
# check character (1) again use the alphabet, which leaves out I, O, S, V and Z.
_USCC_ALPHABET = "0-9A-HJ-NP-RTUW-Y"
_USCC_LAYOUT = re.compile(rf"[{_USCC_ALPHABET}]{{2}}[0-9]{{6}}[{_USCC_ALPHABET}]{{10}}")
_ALL_ZERO_USCC = "0" * 18
# A division code's term in stdnum's GB/T 2260 table: "[1983-]上城区", "[-2010]崇文区", "[1982-2016]蓟县".
_TERM = re.compile(r"\[([0-9]*)-([0-9]*)\]")
# A year no ended code reaches: a code in force "since" it has no end year.
_STILL_IN_FORCE = 9999


class SubjectKind(StrEnum):
    LEGAL_ENTITY = "legal_entity"
    INDIVIDUAL = "individual"


def _explain(error: ValidationError, what: str) -> str:
    if isinstance(error, InvalidChecksum):
        return f"{what} has a wrong check character"
    if isinstance(error, InvalidLength):
        return f"{what} must be 18 characters"
    if isinstance(error, InvalidFormat):
        return f"{what} has characters outside its alphabet"
    if isinstance(error, InvalidComponent):
        return f"{what} has an invalid birth date or division code"
    return f"{what} is not valid"


def validate_uscc(value: str, field: str = "identifier") -> str:
    """Return the compact USCC or raise ``InvalidInput`` naming ``field``.

    The layout is GB 32100-2015's (``_USCC_LAYOUT``), so a letter-first code such as
    ``N2330102MA20000018`` passes; the check character is stdnum's ``calc_check_digit``. The
    all-zero code has a valid check character but names nobody.
    """
    number = uscc.compact(value)
    try:
        if len(number) != 18:
            raise InvalidLength()
        if not _USCC_LAYOUT.fullmatch(number):
            raise InvalidFormat()
        if number[-1] != uscc.calc_check_digit(number[:-1]):
            raise InvalidChecksum()
    except ValidationError as error:
        raise InvalidInput.one(field, _explain(error, "Unified Social Credit Code")) from error
    if number == _ALL_ZERO_USCC:
        raise InvalidInput.one(field, "Unified Social Credit Code of all zeros names no entity")
    return str(number)


@functools.lru_cache(maxsize=4096)
def division_in_force_since(code: str, year: int) -> bool:
    """Whether the GB/T 2260 county-level ``code`` was in force in ``year`` or later.

    A resident ID keeps the code in force when it was issued, and it is issued after the birth,
    so a code that ended before the birth year cannot be on it; one created later can. The table
    is python-stdnum's ``cn/loc`` (historical codes with their years).
    """
    info = {key: text for _, props in numdb.get("cn/loc").info(code) for key, text in props.items()}
    county = info.get("county")
    if county is None:
        return False
    for name in county.split(","):
        term = _TERM.match(name)
        if term is None or not term.group(2) or int(term.group(2)) >= year:
            return True
    return False


def validate_resident_id(value: str, field: str = "identifier", today: date | None = None) -> str:
    """Return the compact resident ID number or raise ``InvalidInput`` naming ``field``.

    Checked: length, digits, the MOD 11-2 check digit, a real birth date (not after ``today``
    when given), and a real GB/T 2260 division code in force in the birth year or later. Not
    required: that the code existed at the birth, as ``ric.validate`` does, because a number
    carries the code in force when it was issued.
    """
    number = ric.compact(value.upper())
    try:
        if len(number) != 18:
            raise InvalidLength()
        if not number[:-1].isdigit() or not number[:-1].isascii():
            raise InvalidFormat()
        if number[-1] != ric.calc_check_digit(number):
            raise InvalidChecksum()
        born = ric.get_birth_date(number)
    except ValidationError as error:
        raise InvalidInput.one(field, _explain(error, "resident ID number")) from error
    if today is not None and born > today:
        raise InvalidInput.one(field, f"resident ID number has a birth date after today ({born})")
    if not division_in_force_since(number[:6], born.year):
        code = number[:6]
        raise InvalidInput.one(field, f"resident ID number has division code {code}, not GB/T 2260 since the birth")
    return str(number)


# A record's, listing's or application's id as its origin made it: a UUID at every node, but a peer's is only
# text it signed; it must fit where every node keeps ids (36 characters) and be plain to log and show.
_ITEM_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,35}")


def validate_item_id(value: str, field: str) -> str:
    """An id a peer names its record, listing or revocation by, or ``InvalidInput``."""
    if not _ITEM_ID.fullmatch(value):
        raise InvalidInput.one(field, "an id is 1 to 36 letters, digits or ._:- starting with a letter or digit")
    return value


def validate_region(value: str, field: str = "region") -> str:
    if not _REGION.fullmatch(value):
        raise InvalidInput.one(field, f"{value!r} is not a GB/T 2260 six-digit division code")
    return value


def validate_division(value: str, field: str = "region") -> str:
    """A node's own region: a GB/T 2260 code that names a division in force today (python-stdnum's table), not
    only six digits: a typo such as 110001 would otherwise start a node for a region nobody else knows."""
    validate_region(value, field)
    if not division_in_force_since(value, _STILL_IN_FORCE):
        raise InvalidInput.one(field, f"{value!r} names no GB/T 2260 division in force")
    return value


@dataclass(frozen=True, slots=True)
class Subject:
    """Who a record is about. Only valid subjects can be built."""

    kind: SubjectKind
    identifier: str

    @classmethod
    def parse(cls, kind: str, identifier: str, field: str = "subject", today: date | None = None) -> Subject:
        """Build a subject from untrusted text; violations name ``field``; a birth after ``today`` is refused."""
        return _parse_subject(kind, identifier, field, today)

    @property
    def region(self) -> str:
        """The GB/T 2260 division the identifier was issued in."""
        return self.identifier[2:8] if self.kind is SubjectKind.LEGAL_ENTITY else self.identifier[:6]

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.identifier}"


@functools.lru_cache(maxsize=65536)
def _parse_subject(kind: str, identifier: str, field: str, today: date | None) -> Subject:
    """Cached: the same subjects are asked about again and again, and check digits cost more than a lookup."""
    try:
        subject_kind = SubjectKind(kind)
    except ValueError as error:
        raise InvalidInput.one(f"{field}.kind", f"must be one of {', '.join(k.value for k in SubjectKind)}") from error
    if subject_kind is SubjectKind.LEGAL_ENTITY:
        return Subject(subject_kind, validate_uscc(identifier.strip(), f"{field}.identifier"))
    return Subject(subject_kind, validate_resident_id(identifier.strip(), f"{field}.identifier", today))
