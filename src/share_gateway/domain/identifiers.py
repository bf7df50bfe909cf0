"""Identifiers of subjects and regions, check digits verified by python-stdnum.

* Unified Social Credit Code, GB 32100-2015 (``stdnum.cn.uscc``);
* resident ID number, GB 11643-1999, ISO 7064 MOD 11-2 (``stdnum.cn.ric``);
* region codes, GB/T 2260 six-digit division codes.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from enum import StrEnum

from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError

from share_gateway.domain.errors import InvalidInput

_REGION = re.compile(r"[1-9][0-9]{5}")


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
    """Return the compact USCC or raise ``InvalidInput`` naming ``field``."""
    try:
        return str(uscc.validate(value.upper()))
    except ValidationError as error:
        raise InvalidInput.one(field, _explain(error, "Unified Social Credit Code")) from error


def validate_resident_id(value: str, field: str = "identifier") -> str:
    """Return the compact resident ID number or raise ``InvalidInput`` naming ``field``.

    Checked: length, digits, birth date and the MOD 11-2 check digit. Not checked:
    whether the division code existed in the birth year, as ``ric.validate`` does,
    because real numbers carry the code in force when they were issued.
    """
    number = ric.compact(value.upper())
    try:
        if len(number) != 18:
            raise InvalidLength()
        if not number[:-1].isdigit() or not number[:-1].isascii():
            raise InvalidFormat()
        if number[-1] != ric.calc_check_digit(number):
            raise InvalidChecksum()
        ric.get_birth_date(number)
    except ValidationError as error:
        raise InvalidInput.one(field, _explain(error, "resident ID number")) from error
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


@dataclass(frozen=True, slots=True)
class Subject:
    """Who a record is about. Only valid subjects can be built."""

    kind: SubjectKind
    identifier: str

    @classmethod
    def parse(cls, kind: str, identifier: str, field: str = "subject") -> Subject:
        """Build a subject from untrusted text; violations name ``field``."""
        return _parse_subject(kind, identifier, field)

    @property
    def region(self) -> str:
        """The GB/T 2260 division the identifier was issued in."""
        return self.identifier[2:8] if self.kind is SubjectKind.LEGAL_ENTITY else self.identifier[:6]

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.identifier}"


@functools.lru_cache(maxsize=65536)
def _parse_subject(kind: str, identifier: str, field: str) -> Subject:
    """Cached: the same subjects are asked about again and again, and check digits cost more than a lookup."""
    try:
        subject_kind = SubjectKind(kind)
    except ValueError as error:
        raise InvalidInput.one(f"{field}.kind", f"must be one of {', '.join(k.value for k in SubjectKind)}") from error
    validate = validate_uscc if subject_kind is SubjectKind.LEGAL_ENTITY else validate_resident_id
    return Subject(subject_kind, validate(identifier.strip(), f"{field}.identifier"))
