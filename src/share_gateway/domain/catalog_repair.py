"""A record type's repair and dispute rules in the catalog: the ``repair`` and ``dispute`` sub-structures.

Both are optional, so older catalogs stay valid. ``repair`` says whether the
type is untrustworthiness information at all (only then does NDRC Order No. 36
of 2025 Art. 2 apply: repairable unless a law says otherwise, and then the
catalog names that law), what the repair notice served with a decision tells
the party (两书同达, 2025 No. 22), and, where no source gives the type a
severity tier, says so instead of inventing one. ``dispute`` sets how many
calendar days the origin has to answer a dispute about a record (异议): 20 for
credit-reporting types (Credit Reporting Industry Regulation Art. 25), a
per-type default for the others.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from share_gateway.domain.errors import FieldViolation

__all__ = ["DisputeRules", "RepairRules", "parse_repair_sections"]

_DAYS = re.compile(r"^([0-9]+)d$")
_REPAIR_KEYS = ("untrustworthiness", "untrustworthy_when", "forbidden_by", "how", "basis", "severity_note", "remedy")


@dataclass(frozen=True, slots=True)
class RepairRules:
    """How a record of the type is repaired, as its repair notice states it."""

    # Untrustworthiness information: Order 36 Art. 2 makes it repairable unless a law says otherwise.
    untrustworthiness: bool = False
    # Field values that make a record of the type untrustworthiness information (a commitment not kept);
    # empty: every record of an untrustworthiness type is.
    untrustworthy_when: Mapping[str, bool | str] = field(default_factory=lambda: MappingProxyType({}))
    # The law that forbids repair, when the type is untrustworthiness information and not repairable.
    forbidden_by: str = ""
    # What the party hands in, and the basis of the repair path.
    how: str = ""
    basis: str = ""
    # Where no source gives the type a severity tier, the catalog says so here.
    severity_note: str = ""
    # The remedy a rejected applicant has (reconsideration, litigation), stated in every rejection.
    remedy: str = ""

    def applies_to(self, fields: Mapping[str, str]) -> bool:
        """Whether a record with these canonical field texts is untrustworthiness information (so repairable)."""
        return all(fields.get(name) == _canonical(value) for name, value in self.untrustworthy_when.items())


@dataclass(frozen=True, slots=True)
class DisputeRules:
    """How long the origin has to answer a dispute about a record of the type, in calendar days, and why."""

    answer_days: int
    basis: str


def parse_repair_sections(
    raw: Mapping[str, Any], path: str, faults: list[FieldViolation], field_names: Mapping[str, Any]
) -> dict[str, Any]:
    """The ``repair_rules`` and ``dispute_rules`` of a record type document, faults recorded by exact path."""
    rules = _repair(raw.get("repair"), f"{path}.repair", faults, field_names)
    repairable = raw.get("repairable") is True
    if rules.untrustworthiness and not repairable and not rules.forbidden_by:
        faults.append(
            FieldViolation(
                f"{path}.repair.forbidden_by",
                "untrustworthiness information is repairable unless a law says otherwise (NDRC Order No. 36 "
                "Art. 2): set repairable, or name the law that forbids repair",
            )
        )
    if repairable and rules.forbidden_by:
        faults.append(FieldViolation(f"{path}.repair.forbidden_by", "a repairable type names no law forbidding it"))
    return {"repair_rules": rules, "dispute_rules": _dispute(raw.get("dispute"), f"{path}.dispute", faults)}


def _repair(value: Any, path: str, faults: list[FieldViolation], field_names: Mapping[str, Any]) -> RepairRules:
    if value is None:
        return RepairRules()
    if not isinstance(value, Mapping):
        faults.append(FieldViolation(path, "must be a mapping"))
        return RepairRules()
    faults.extend(FieldViolation(f"{path}.{key}", "unknown key") for key in value if key not in _REPAIR_KEYS)
    texts = {key: _text(value, key, path, faults) for key in _REPAIR_KEYS[2:]}
    flag = value.get("untrustworthiness", False)
    if not isinstance(flag, bool):
        faults.append(FieldViolation(f"{path}.untrustworthiness", "must be true or false"))
        flag = False
    when: dict[str, bool | str] = {}
    raw_when = value.get("untrustworthy_when", {})
    if not isinstance(raw_when, Mapping):
        faults.append(FieldViolation(f"{path}.untrustworthy_when", "must map fields to the values that make it"))
        raw_when = {}
    for name, expected in raw_when.items():
        if name not in field_names:
            faults.append(FieldViolation(f"{path}.untrustworthy_when.{name}", f"unknown field {name!r}"))
        elif not isinstance(expected, bool | str):
            faults.append(FieldViolation(f"{path}.untrustworthy_when.{name}", "must be true, false or text"))
        else:
            when[name] = expected
    return RepairRules(untrustworthiness=flag, untrustworthy_when=MappingProxyType(when), **texts)


def _dispute(value: Any, path: str, faults: list[FieldViolation]) -> DisputeRules | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        faults.append(FieldViolation(path, "must be a mapping"))
        return None
    faults.extend(
        FieldViolation(f"{path}.{key}", "unknown key") for key in value if key not in ("answer_days", "basis")
    )
    raw_days = value.get("answer_days")
    match = _DAYS.match(raw_days) if isinstance(raw_days, str) else None
    if match is None or int(match.group(1)) < 1:
        faults.append(FieldViolation(f"{path}.answer_days", f"must be calendar days such as '20d', not {raw_days!r}"))
        return None
    basis = _text(value, "basis", path, faults)
    if not basis:
        faults.append(FieldViolation(f"{path}.basis", "is required"))
    return DisputeRules(int(match.group(1)), basis)


def _canonical(value: bool | str) -> str:
    """A condition's value as a record field's canonical text (booleans as ``true`` / ``false``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _text(value: Mapping[str, Any], key: str, path: str, faults: list[FieldViolation]) -> str:
    text = value.get(key, "")
    if not isinstance(text, str):
        faults.append(FieldViolation(f"{path}.{key}", "must be text"))
        return ""
    return text.strip()
