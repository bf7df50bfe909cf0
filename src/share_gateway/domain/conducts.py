"""A record's conduct code: the conduct a rule names, which list criteria select on (never a disclosure tier)."""

from __future__ import annotations

from collections.abc import Mapping

from share_gateway.domain.catalog import Catalog, RecordType
from share_gateway.domain.catalog_lists import CONDUCT_FIELD
from share_gateway.domain.debtor_list import check_entry
from share_gateway.domain.errors import FieldViolation

__all__ = ["CONDUCT_FIELD", "check_conduct_code", "conduct_of"]


def conduct_of(fields: Mapping[str, str]) -> str:
    """The conduct code a record names ('' if none: such a record grounds no listing)."""
    return fields.get(CONDUCT_FIELD, "")


def check_conduct_code(
    catalog: Catalog, record_type: RecordType, fields: Mapping[str, str], violations: list[FieldViolation]
) -> None:
    """A conduct code, where given, is one of the conducts the catalog defines for the record's type; an entry
    on the courts' list asks for no extension its rules do not allow."""
    code = conduct_of(fields)
    if code and code not in record_type.conducts:
        violations.append(
            FieldViolation(
                f"fields.{CONDUCT_FIELD}",
                f"{code!r} is not a conduct of {record_type.name}; conducts: {sorted(record_type.conducts)}",
            )
        )
        return
    check_entry(catalog, record_type.name, fields, violations)
