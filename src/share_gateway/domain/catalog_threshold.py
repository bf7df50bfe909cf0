"""A record type's threshold: from what amount a record of it may be made at all (issue 12).

Unpaid bills of ¥165 are not untrustworthiness information to share with banks merely because a utility
recorded them; where a rule sets the amount from which they are, the catalog states it with its source, and
admission refuses records below it. Where no source gives one, the catalog says so instead of inventing one:

    threshold: {field: arrears_amount, minimum: "1000.00", source: "…"}   # a source gives the amount
    threshold: {minimum: none, source: "No source gives … (unverified)"}  # none given, none invented

The key is optional (older catalogs stay valid); a ``minimum: none`` must carry "(unverified", the project's
marker for a basis it could not check. Data generators make no records of a type whose threshold is not given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from share_gateway.domain.catalog_text import is_unverified
from share_gateway.domain.errors import FieldViolation

__all__ = ["THRESHOLD_KEY", "Threshold", "check_threshold", "parse_threshold"]

THRESHOLD_KEY = "threshold"


@dataclass(frozen=True, slots=True)
class Threshold:
    """The smallest amount of ``field`` a record may state, and its source; ``minimum`` None: none given."""

    source: str
    field: str | None = None
    minimum: Decimal | None = None

    @property
    def given(self) -> bool:
        """Whether a source gives the threshold (otherwise the catalog only says that none does)."""
        return self.minimum is not None


def parse_threshold(
    entry: Mapping[str, Any], path: str, faults: list[FieldViolation], fields: Mapping[str, Any]
) -> Threshold | None:
    """The ``threshold`` of the record type at ``path``, or None when it has none; faults by exact path."""
    value = entry.get(THRESHOLD_KEY)
    if value is None:
        return None
    path = f"{path}.{THRESHOLD_KEY}"
    if not isinstance(value, Mapping):
        faults.append(FieldViolation(path, "must be a mapping"))
        return None
    faults.extend(
        FieldViolation(f"{path}.{k}", "unknown key") for k in value if k not in ("field", "minimum", "source")
    )
    source = value.get("source")
    if not isinstance(source, str) or not source.strip():
        faults.append(FieldViolation(f"{path}.source", "is required: the rule that sets it, or that none does"))
        return None
    raw = value.get("minimum")
    if raw == "none":
        if not is_unverified(source):
            faults.append(FieldViolation(f"{path}.source", "a threshold no source gives is marked unverified"))
        return Threshold(source.strip())
    name = value.get("field")
    if not isinstance(name, str) or name not in fields:
        faults.append(FieldViolation(f"{path}.field", f"unknown field {name!r}"))
        return None
    if str(getattr(fields[name], "type", "")) not in ("money", "integer"):
        faults.append(FieldViolation(f"{path}.field", f"{name} is not an amount (money or integer)"))
        return None
    try:
        minimum = Decimal(str(raw)) if isinstance(raw, str | int) and not isinstance(raw, bool) else None
    except InvalidOperation:
        minimum = None
    if minimum is None or not minimum.is_finite() or minimum <= 0:
        faults.append(FieldViolation(f"{path}.minimum", f"must be a positive amount or 'none', not {raw!r}"))
        return None
    return Threshold(source.strip(), name, minimum)


def check_threshold(threshold: Threshold | None, fields: Mapping[str, str], violations: list[FieldViolation]) -> None:
    """A record below its type's sourced threshold is refused (canonical field texts); none given: no check."""
    if threshold is None or threshold.minimum is None or threshold.field is None:
        return
    text = fields.get(threshold.field)
    try:
        amount = Decimal(text) if text is not None else None
    except InvalidOperation:  # not an amount: the field's own type check reports it
        return
    if amount is not None and amount < threshold.minimum:
        violations.append(
            FieldViolation(
                f"fields.{threshold.field}", f"is below the threshold {threshold.minimum} ({threshold.source})"
            )
        )
