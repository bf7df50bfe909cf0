"""Who may provide a record type and on which documents (提供单位, issue 12 item 11): the catalog's optional keys.

A record type may name

* ``providers``: the institution kinds (catalog ``requester_kinds``) that may provide it, matched against
  the kind a node registered for the submitting institution; a grant alone no longer makes a court of a
  market regulator;
* ``document_kinds``: the kinds of legally effective document its records rest on;
* ``document_number_field``: the record field that holds the number of that very document (a penalty's
  ``decision_number``), which must then equal the document's number.

Each key is optional; absent, the record type is checked as before (any granted institution, any kind of
document, no number match).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from share_gateway.domain.errors import FieldViolation

__all__ = ["ANY_PROVISION", "PROVISION_KEYS", "Provision", "parse_provision"]

PROVISION_KEYS = ("providers", "document_kinds", "document_number_field")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True, slots=True)
class Provision:
    """Who provides a record type and on which documents; an empty set means "not restricted"."""

    providers: frozenset[str] = frozenset()
    document_kinds: frozenset[str] = frozenset()
    document_number_field: str | None = None

    def may_provide(self, kind: str) -> bool:
        return not self.providers or kind in self.providers

    def accepts_document(self, kind: str) -> bool:
        return not self.document_kinds or kind in self.document_kinds


ANY_PROVISION = Provision()


def parse_provision(
    entry: Mapping[str, Any],
    path: str,
    faults: list[FieldViolation],
    requester_kinds: Mapping[str, str],
    fields: Mapping[str, Any],
) -> Provision:
    """The provision keys of the record type at ``path``; faults under their exact paths."""
    providers = _names(entry.get("providers"), f"{path}.providers", faults, requester_kinds, "requester kind")
    document_kinds = _names(entry.get("document_kinds"), f"{path}.document_kinds", faults, None, "document kind")
    number_field = entry.get("document_number_field")
    if number_field is not None and (not isinstance(number_field, str) or number_field not in fields):
        faults.append(FieldViolation(f"{path}.document_number_field", f"unknown field {number_field!r}"))
        number_field = None
    if number_field is not None and entry.get("legal_document_required") is False:
        faults.append(
            FieldViolation(f"{path}.document_number_field", "needs legal_document_required: a number to match")
        )
    return Provision(providers, document_kinds, number_field)


def _names(
    value: Any, path: str, faults: list[FieldViolation], allowed: Mapping[str, str] | None, what: str
) -> frozenset[str]:
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not value:
        faults.append(FieldViolation(path, "must be a non-empty list"))
        return frozenset()
    found: set[str] = set()
    for index, item in enumerate(value):
        if not isinstance(item, str) or not _NAME.match(item):
            faults.append(FieldViolation(f"{path}[{index}]", "must be a lower_snake_case name"))
        elif allowed is not None and item not in allowed:
            faults.append(FieldViolation(f"{path}[{index}]", f"unknown {what} {item!r}"))
        elif item in found:
            faults.append(FieldViolation(f"{path}[{index}]", f"{item!r} is listed twice"))
        else:
            found.add(item)
    return frozenset(found)
