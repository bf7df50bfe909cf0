"""Reading and checking a catalog document: YAML text in, a coherent ``Catalog`` out.

Anything the format does not allow is refused with the exact path of the fault
(``record_types.administrative_penalty.fields.penalty_amount.type``), every
fault at once. Cross references (necessity naming a purpose and fields,
measures naming lists and purposes, list criteria naming list-eligible types)
are checked too, so a loaded catalog is always coherent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Any, TypeVar

import yaml

from share_gateway.domain.catalog import (
    DEFAULT_MAX_TEXT,
    Catalog,
    Category,
    DisclosurePeriod,
    DisclosureScope,
    FieldSpec,
    FieldType,
    Purpose,
    RecordType,
)
from share_gateway.domain.catalog_lists import parse_lists_and_measures
from share_gateway.domain.catalog_periods import parse_period_rule
from share_gateway.domain.catalog_provision import PROVISION_KEYS, parse_provision
from share_gateway.domain.catalog_repair import parse_repair_sections
from share_gateway.domain.catalog_text import Language, parse_texts
from share_gateway.domain.catalog_threshold import THRESHOLD_KEY, parse_threshold
from share_gateway.domain.errors import CatalogInvalid, FieldViolation
from share_gateway.domain.identifiers import SubjectKind
from share_gateway.domain.quotas import DEFAULT_QUOTA, QUOTA_FIELDS, QuotaLimits

__all__ = ["load_yaml", "parse_catalog"]

# Names fit the 64-character columns they are stored in.
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_DAYS = re.compile(r"^([0-9]+)d$")
_E = TypeVar("_E", bound=StrEnum)


def load_yaml(text: str | bytes) -> Any:
    """The document in ``text``, as YAML with duplicate keys refused; raise ``CatalogInvalid`` at ``$`` if not YAML."""
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        raise CatalogInvalid([FieldViolation("$", f"not YAML: {error}")]) from error


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate keys: in a signed document, the last one must not silently win."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


class _Reader:
    """Reads one mapping of the document, recording faults under exact paths."""

    def __init__(self, value: Any, path: str, faults: list[FieldViolation]) -> None:
        self.path = path
        self.faults = faults
        if not isinstance(value, Mapping):
            self.fault("", "must be a mapping")
            value = {}
        self.value: Mapping[str, Any] = value

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fault(self, key: str, description: str) -> None:
        self.faults.append(FieldViolation(self.at(key) if key else self.path or "$", description))

    def allow_only(self, *keys: str) -> None:
        for key in self.value:
            if key not in keys:
                self.fault(str(key), "unknown key")

    def raw(self, key: str, required: bool) -> Any:
        if key not in self.value:
            if required:
                self.fault(key, "is required")
            return None
        return self.value[key]

    def text(self, key: str, required: bool = True, default: str = "") -> str:
        value = self.raw(key, required)
        if value is None:
            return default
        if not isinstance(value, str) or not value.strip():
            self.fault(key, "must be non-empty text")
            return default
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.raw(key, False)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fault(key, "must be true or false")
            return default
        return value

    def count(self, key: str, required: bool = True, minimum: int = 0) -> int:
        value = self.raw(key, required)
        if value is None:
            return minimum
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            self.fault(key, f"must be an integer of at least {minimum}")
            return minimum
        return value

    def days(self, key: str, value: Any) -> int:
        match = _DAYS.match(value) if isinstance(value, str) else None
        if match is None:
            self.fault(key, f"must be a number of days such as '90d', not {value!r}")
            return 0
        return int(match.group(1))

    def names(self, key: str, allowed: Mapping[str, Any] | frozenset[str] | None, what: str) -> frozenset[str]:
        value = self.raw(key, True)
        if value is None:
            return frozenset()
        if not isinstance(value, list) or not value:
            self.fault(key, "must be a non-empty list")
            return frozenset()
        found: set[str] = set()
        for index, item in enumerate(value):
            if not isinstance(item, str):
                self.fault(f"{key}[{index}]", "must be a name")
            elif allowed is not None and item not in allowed:
                self.fault(f"{key}[{index}]", f"unknown {what} {item!r}")
            elif item in found:
                self.fault(f"{key}[{index}]", f"{item!r} is listed twice")
            else:
                found.add(item)
        return frozenset(found)

    def choice(self, key: str, enum: type[_E], default: _E | None = None) -> _E:
        value = self.raw(key, default is None)
        if value is None:
            return default if default is not None else next(iter(enum))
        try:
            return enum(value)
        except ValueError:
            self.fault(key, f"must be one of {', '.join(e.value for e in enum)}, not {value!r}")
            return default if default is not None else next(iter(enum))

    def section(self, key: str, required: bool = True) -> dict[str, _Reader]:
        """The named entries of a mapping of mappings, each name checked."""
        value = self.raw(key, required)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.fault(key, "must be a mapping of named entries")
            return {}
        entries: dict[str, _Reader] = {}
        for name, body in value.items():
            if not isinstance(name, str) or not _NAME.match(name):
                self.fault(f"{key}.{name}", "names are lower_snake_case")
                continue
            entries[name] = _Reader(body, self.at(f"{key}.{name}"), self.faults)
        return entries


def _parse_purpose(name: str, r: _Reader, kinds: Mapping[str, str]) -> Purpose:
    r.allow_only(
        "legal_basis",
        "requester_kinds",
        "consent_required",
        "reaches",
        "grant_required",
        "self_only",
        "description",
        "title",
        "quota",
    )
    texts = parse_texts(r.value, r.path, r.faults)
    reaches = frozenset(DisclosureScope(s) for s in r.names("reaches", {s.value: s for s in DisclosureScope}, "scope"))
    purpose = Purpose(
        name=name,
        legal_basis=r.text("legal_basis"),
        requester_kinds=r.names("requester_kinds", kinds, "requester kind"),
        consent_required=r.flag("consent_required", False),
        reaches=reaches,
        grant_required=r.flag("grant_required", True),
        self_only=r.flag("self_only", False),
        description=texts.description(Language.EN),
        texts=texts,
        quota=_parse_quota(r),
    )
    if DisclosureScope.AUTHORISED in reaches and not (purpose.consent_required or purpose.self_only):
        r.fault("reaches", "a purpose reaching 'authorised' records must require consent or be self-only")
    return purpose


def _parse_quota(r: _Reader) -> QuotaLimits:
    """A purpose's quota: each number optional, the rest from ``DEFAULT_QUOTA`` (older catalogs have none)."""
    if r.raw("quota", False) is None:
        return DEFAULT_QUOTA
    qr = _Reader(r.value["quota"], r.at("quota"), r.faults)
    qr.allow_only(*QUOTA_FIELDS)
    given = {name: qr.count(name, minimum=1) for name in QUOTA_FIELDS if name in qr.value}
    return DEFAULT_QUOTA.replaced(**given)


def _parse_field(name: str, r: _Reader) -> FieldSpec:
    r.allow_only("type", "required", "max_length", "description")
    return FieldSpec(
        name=name,
        type=r.choice("type", FieldType),
        required=r.flag("required", False),
        max_length=r.count("max_length", required=False, minimum=1) if "max_length" in r.value else DEFAULT_MAX_TEXT,
        description=r.text("description", required=False),
    )


def _parse_periods(r: _Reader) -> dict[str, DisclosurePeriod]:
    periods: dict[str, DisclosurePeriod] = {}
    raw = r.raw("severity_periods", False)
    if raw is None:
        return periods
    if not isinstance(raw, Mapping) or not raw:
        r.fault("severity_periods", "must map severities to [minimum, maximum]")
        return periods
    for severity, bounds in raw.items():
        key = f"severity_periods.{severity}"
        if not isinstance(severity, str) or not _NAME.match(severity):
            r.fault(key, "severities are lower_snake_case")
            continue
        if not isinstance(bounds, list) or len(bounds) != 2:
            r.fault(key, "must be [minimum, maximum], e.g. [90d, 365d]")
            continue
        low, high = r.days(f"{key}[0]", bounds[0]), r.days(f"{key}[1]", bounds[1])
        if low > high:
            r.fault(key, "minimum exceeds maximum")
        periods[severity] = DisclosurePeriod(low, high)
    return periods


def _parse_record_type(name: str, r: _Reader, purposes: Mapping[str, Purpose], kinds: Mapping[str, str]) -> RecordType:
    r.allow_only(
        "category",
        "subject_kinds",
        "legal_basis",
        "legal_document_required",
        "disclosure",
        "severity_periods",
        "repairable",
        "repair_on_performance",
        "list_eligible",
        "shared_nationwide",
        "conducts",
        "fields",
        "necessity",
        "description",
        "periods",
        "repair",
        "dispute",
        "title",
        THRESHOLD_KEY,
        *PROVISION_KEYS,
    )
    texts = parse_texts(r.value, r.path, r.faults)
    fields = {field_name: _parse_field(field_name, fr) for field_name, fr in r.section("fields").items()}
    if not fields:
        r.fault("fields", "a record type defines at least one field")
    necessity: dict[str, frozenset[str]] = {}
    raw_necessity = r.raw("necessity", True)
    if isinstance(raw_necessity, Mapping):
        nr = _Reader(raw_necessity, r.at("necessity"), r.faults)
        for purpose in raw_necessity:
            if purpose not in purposes:
                nr.fault(str(purpose), f"unknown purpose {purpose!r}")
                continue
            necessity[purpose] = nr.names(purpose, fields, "field")
    elif raw_necessity is not None:
        r.fault("necessity", "must map purposes to the fields they may see")
    subject_kinds = {k.value: k for k in SubjectKind}
    return RecordType(
        name=name,
        category=r.choice("category", Category),
        subject_kinds=frozenset(SubjectKind(k) for k in r.names("subject_kinds", subject_kinds, "subject kind")),
        legal_basis=r.text("legal_basis"),
        legal_document_required=r.flag("legal_document_required", True),
        disclosure=r.choice("disclosure", DisclosureScope),
        fields=fields,
        necessity=necessity,
        severity_periods=_parse_periods(r),
        repairable=r.flag("repairable", False),
        repair_on_performance=r.flag("repair_on_performance", False),
        list_eligible=r.flag("list_eligible", False),
        shared_nationwide=r.flag("shared_nationwide", False),
        description=texts.description(Language.EN),
        texts=texts,
        provision=parse_provision(r.value, r.path, r.faults, kinds, fields),
        threshold=parse_threshold(r.value, r.path, r.faults, fields),
        periods=parse_period_rule(r, r.raw("severity_periods", False)),
        **parse_repair_sections(r.value, r.path, r.faults, fields),
    )


def parse_catalog(document: Any) -> Catalog:
    """Build a coherent catalog from a parsed document or raise ``CatalogInvalid``."""
    faults: list[FieldViolation] = []
    root = _Reader(document, "", faults)
    root.allow_only("version", "authority", "requester_kinds", "purposes", "record_types", "measures", "lists")
    version = root.count("version", minimum=1)
    authority = root.text("authority")
    raw_kinds = root.raw("requester_kinds", True)
    kinds: dict[str, str] = {}
    if isinstance(raw_kinds, Mapping) and raw_kinds:
        kr = _Reader(raw_kinds, "requester_kinds", faults)
        for kind in raw_kinds:
            if isinstance(kind, str) and _NAME.match(kind):
                kinds[kind] = kr.text(kind)
            else:
                kr.fault(str(kind), "names are lower_snake_case")
    elif raw_kinds is not None:
        root.fault("requester_kinds", "must map each requester kind to its description")
    purposes = {name: _parse_purpose(name, r, kinds) for name, r in root.section("purposes").items()}
    record_types = {n: _parse_record_type(n, r, purposes, kinds) for n, r in root.section("record_types").items()}
    record_types, lists, measures = parse_lists_and_measures(root, record_types, purposes, kinds)
    if faults:
        raise CatalogInvalid(faults)
    return Catalog(
        version=version,
        authority=authority,
        requester_kinds=MappingProxyType(kinds),
        purposes=MappingProxyType(purposes),
        record_types=MappingProxyType(record_types),
        measures=MappingProxyType(measures),
        lists=MappingProxyType(lists),
    )
