"""Reading the catalog's conduct codes, lists and measures: what may ground a listing and what follows from one.

Called once from ``catalog_document.parse_catalog``. A list criterion names
record types *and* the conduct codes it covers, each with its source (Guo Ban
Fa [2020] No. 49 part IV items (6)-(7)): a disclosure tier is never a listing
ground, so the old ``severities`` key is refused with a fault saying so. The
courts' list of dishonest judgment debtors (Fa Shi [2017] No. 7) is a list of
its own kind with its own terms. Each measure states its kind, its
implementing body, the requester kinds it is addressed to and its item in the
national basic list of measures.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from share_gateway.domain.catalog import (
    Conduct,
    DebtorListRules,
    DebtorTerm,
    ListCriterion,
    ListDefinition,
    ListKind,
    Measure,
    MeasureKind,
    Purpose,
    RecordType,
)
from share_gateway.domain.catalog_text import Language, parse_texts

if TYPE_CHECKING:
    from share_gateway.domain.catalog_document import _Reader

__all__ = ["CONDUCT_FIELD", "parse_lists_and_measures"]

# The record field that carries a record's conduct code, where its type defines conducts.
CONDUCT_FIELD = "conduct_code"
_SEVERITIES_REFUSED = (
    "a disclosure tier is not a listing ground (Guo Ban Fa [2020] No. 49 part IV items (6)-(7)): "
    "name the conduct codes the criterion covers under 'conducts', with their 'source'"
)


def _child(r: _Reader, key: str, value: Any) -> _Reader:
    """A reader for a nested mapping, its faults under ``r``'s path."""
    return type(r)(value, r.at(key), r.faults)


def _conducts(r: _Reader, key: str) -> dict[str, Conduct]:
    """A mapping of conduct codes, each with its text and the rule that names it."""
    return {code: _conduct(code, cr) for code, cr in r.section(key).items()}


def _conduct(code: str, r: _Reader) -> Conduct:
    r.allow_only("text", "source")
    return Conduct(code, r.text("text"), r.text("source"))


def _with_conducts(r: _Reader, record_type: RecordType) -> RecordType:
    """The record type with the conduct codes its catalog entry defines (none: the key is optional)."""
    if "conducts" not in r.value:
        return record_type
    conducts = _conducts(r, "conducts")
    if CONDUCT_FIELD not in record_type.fields:
        r.fault("conducts", f"a record type with conducts defines the field {CONDUCT_FIELD!r} that names one")
    if not conducts:
        r.fault("conducts", "must name at least one conduct")
    return replace(record_type, conducts=conducts)


def _criteria(r: _Reader, record_types: Mapping[str, RecordType]) -> tuple[ListCriterion, ...]:
    raw = r.raw("criteria", True)
    if not isinstance(raw, list) or not raw:
        if raw is not None:
            r.fault("criteria", "must be a non-empty list")
        return ()
    criteria = []
    for index, item in enumerate(raw):
        cr = _child(r, f"criteria[{index}]", item)
        if "severities" in cr.value:
            cr.fault("severities", _SEVERITIES_REFUSED)
        cr.allow_only("record_type", "conducts", "source", "severities")
        type_name = cr.text("record_type")
        record_type = record_types.get(type_name)
        if record_type is None:
            cr.fault("record_type", f"unknown record type {type_name!r}")
            continue
        if not record_type.list_eligible:
            cr.fault("record_type", f"{type_name!r} is not list-eligible")
            continue
        conducts = cr.names("conducts", record_type.conducts, f"conduct of {type_name}")
        criteria.append(ListCriterion(type_name, conducts, cr.text("source")))
    return tuple(criteria)


def _term(r: _Reader) -> DebtorTerm:
    r.allow_only("conducts", "term", "source")
    raw = r.raw("term", True)
    days = None if raw == "none" else r.days("term", raw) if raw is not None else 0
    return DebtorTerm(r.names("conducts", None, "conduct"), days, r.text("source"))


def _debtor_rules(r: _Reader, criteria: tuple[ListCriterion, ...]) -> DebtorListRules:
    """The courts' list rules: a term per conduct, the extension only for aggravation, deletion, correction."""
    r.allow_only("terms", "extension", "deletion_working_days", "deletion_source", "correction")
    raw_terms = r.raw("terms", True)
    terms = tuple(_term(_child(r, f"terms[{i}]", t)) for i, t in enumerate(raw_terms or []))
    covered = frozenset(c for criterion in criteria for c in criterion.conducts)
    termed = [c for term in terms for c in term.conducts]
    if sorted(termed) != sorted(covered):
        r.fault("terms", f"must give each conduct of the criteria exactly one term: {sorted(covered)}")
    er = _child(r, "extension", r.raw("extension", True) or {})
    er.allow_only("minimum", "maximum", "only_for", "source")
    low, high = er.days("minimum", er.raw("minimum", True)), er.days("maximum", er.raw("maximum", True))
    if low > high:
        er.fault("minimum", "exceeds the maximum")
    cr = _child(r, "correction", r.raw("correction", True) or {})
    cr.allow_only("review_days", "source")
    return DebtorListRules(
        terms=terms,
        extension_minimum_days=low,
        extension_maximum_days=high,
        aggravations=_conducts(er, "only_for"),
        extension_source=er.text("source"),
        deletion_working_days=r.count("deletion_working_days", minimum=1),
        deletion_source=r.text("deletion_source"),
        correction_review_days=cr.count("review_days", minimum=1),
        correction_source=cr.text("source"),
    )


def _parse_list(
    name: str, r: _Reader, record_types: Mapping[str, RecordType], kinds: Mapping[str, str]
) -> ListDefinition:
    kind = r.choice("kind", ListKind, ListKind.UNTRUSTWORTHY)
    common = ("kind", "legal_basis", "criteria", "makers", "description")
    procedure = ("notice_working_days", "objection_working_days", "duration")
    debtors = kind is ListKind.COURT_DEBTORS
    r.allow_only(*common, *(("debtor_rules",) if debtors else procedure))
    criteria = _criteria(r, record_types)
    raw_duration = None if debtors else r.raw("duration", True)
    return ListDefinition(
        name=name,
        legal_basis=r.text("legal_basis"),
        criteria=criteria,
        notice_working_days=0 if debtors else r.count("notice_working_days", minimum=1),
        objection_working_days=0 if debtors else r.count("objection_working_days", minimum=1),
        duration_days=r.days("duration", raw_duration) if raw_duration is not None else 0,
        kind=kind,
        makers=r.names("makers", kinds, "institution kind") if "makers" in r.value or debtors else frozenset(),
        debtor_rules=_debtor_rules(_child(r, "debtor_rules", r.raw("debtor_rules", True)), criteria)
        if debtors
        else None,
    )


def _parse_measure(
    name: str,
    r: _Reader,
    lists: Mapping[str, Any],
    record_types: Mapping[str, RecordType],
    purposes: Mapping[str, Purpose],
    kinds: Mapping[str, str],
) -> Measure:
    r.allow_only(
        "legal_basis",
        "triggered_by",
        "purposes",
        "description",
        "kind",
        "implementing_body",
        "addressed_to",
        "basic_list_item",
        "title",
    )
    texts = parse_texts(r.value, r.path, r.faults)
    triggers = _child(r, "triggered_by", r.raw("triggered_by", True) or {})
    triggers.allow_only("lists", "record_types")
    by_lists = triggers.names("lists", lists, "list") if "lists" in triggers.value else frozenset()
    by_types = (
        triggers.names("record_types", record_types, "record type") if "record_types" in triggers.value else frozenset()
    )
    if not by_lists and not by_types:
        r.fault("triggered_by", "a measure needs at least one list or record type that triggers it")
    return Measure(
        name=name,
        legal_basis=r.text("legal_basis"),
        triggered_by_lists=by_lists,
        triggered_by_record_types=by_types,
        purposes=r.names("purposes", purposes, "purpose"),
        description=texts.description(Language.EN),
        texts=texts,
        kind=r.choice("kind", MeasureKind, MeasureKind.ADMINISTRATIVE),
        implementing_body=r.text("implementing_body", required=False),
        addressed_to=r.names("addressed_to", kinds, "requester kind") if "addressed_to" in r.value else frozenset(),
        basic_list_item=r.text("basic_list_item", required=False, default="unverified"),
    )


def parse_lists_and_measures(
    root: _Reader,
    record_types: Mapping[str, RecordType],
    purposes: Mapping[str, Purpose],
    kinds: Mapping[str, str],
) -> tuple[dict[str, RecordType], dict[str, ListDefinition], dict[str, Measure]]:
    """The record types with their conducts, then the lists and measures that refer to them."""
    typed, raw = dict(record_types), root.value.get("record_types")
    for name, record_type in record_types.items():
        body = raw.get(name) if isinstance(raw, Mapping) else None
        if isinstance(body, Mapping):
            typed[name] = _with_conducts(_child(root, f"record_types.{name}", body), record_type)
    lists = {name: _parse_list(name, r, typed, kinds) for name, r in root.section("lists", required=False).items()}
    measures = {
        name: _parse_measure(name, r, lists, typed, purposes, kinds)
        for name, r in root.section("measures", required=False).items()
    }
    return typed, lists, measures
