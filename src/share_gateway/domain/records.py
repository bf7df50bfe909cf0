"""Credit records: admitted only as the catalog defines them, on a legally effective document.

``admit_record`` is the single gate: it checks a draft against the catalog
and returns a ``Record`` or raises ``InvalidInput`` with every violation, each
named by its request path. A record has two ends, publication and sharing,
worked out from the catalog's severity periods and the type's period rule
(``share_gateway.domain.periods``).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from share_gateway.domain.catalog import Catalog, FieldSpec, FieldType, RecordType
from share_gateway.domain.catalog_threshold import check_threshold
from share_gateway.domain.conducts import check_conduct_code
from share_gateway.domain.debtor_list import CourtTerm, court_term
from share_gateway.domain.errors import FieldViolation, InvalidInput, InvalidState
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.domain.periods import Audience, Ends, PeriodStart, period_start, record_ends, visible_to
from share_gateway.domain.record_documents import (
    LegalDocument,
    LegalDocumentDraft,
    admit_legal_document,
    check_document_provision,
    parse_date,
)
from share_gateway.domain.withdrawal import Withdrawal

FieldValue = str | int | Decimal | date | bool
_CENT = Decimal("0.01")
# Amounts below a quadrillion yuan: far above any real penalty, far below Decimal's 28 digits.
MAX_MONEY_DIGITS = 15
_MONEY = re.compile(rf"(0|[1-9][0-9]{{0,{MAX_MONEY_DIGITS - 1}}})(\.[0-9]{{1,2}})?")
MAX_INTEGER = 2**63 - 1


class RecordStatus(StrEnum):
    ACTIVE = "active"
    REPAIRED = "repaired"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    QUARANTINED = "quarantined"


@dataclass(frozen=True, slots=True)
class TypedValue:
    """A value as a client sent it: the type it claims and its raw content."""

    type: FieldType
    raw: str | int | bool


def canonical_text(field_type: FieldType, value: FieldValue) -> str:
    """The one text form of a value: what is hashed, stored and disclosed."""
    if field_type is FieldType.BOOLEAN:
        return "true" if value else "false"
    if field_type is FieldType.MONEY:
        assert isinstance(value, Decimal)
        return str(value.quantize(_CENT))
    if field_type is FieldType.DATE:
        assert isinstance(value, date)
        return value.isoformat()
    return str(value)


def parse_canonical(field_type: FieldType, text: str) -> FieldValue:
    """Inverse of ``canonical_text`` for text we wrote ourselves (or verified)."""
    if field_type is FieldType.BOOLEAN:
        return text == "true"
    if field_type is FieldType.MONEY:
        return Decimal(text)
    if field_type is FieldType.DATE:
        return date.fromisoformat(text)
    if field_type is FieldType.INTEGER:
        return int(text)
    return text


_RAW_TYPES: Mapping[FieldType, type] = {
    FieldType.STRING: str,
    FieldType.MONEY: str,
    FieldType.DATE: str,
    FieldType.INTEGER: int,
    FieldType.BOOLEAN: bool,
}


def _coerce(spec: FieldSpec, value: TypedValue, path: str, violations: list[FieldViolation]) -> FieldValue | None:
    raw = value.raw
    # bool is an int in Python; an integer field must not take True.
    if value.type is not spec.type or type(raw) is not _RAW_TYPES[spec.type]:
        violations.append(FieldViolation(path, f"must be of type {spec.type.value}, not {value.type.value}"))
        return None
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int):
        if not 0 <= raw <= MAX_INTEGER:
            violations.append(FieldViolation(path, f"must be a count from 0 to {MAX_INTEGER}"))
            return None
        return raw
    if spec.type is FieldType.STRING:
        if not raw.strip():
            violations.append(FieldViolation(path, "must not be empty"))
        elif len(raw) > spec.max_length:
            violations.append(FieldViolation(path, f"is longer than {spec.max_length} characters"))
        else:
            return raw
        return None
    if spec.type is FieldType.MONEY:
        if not _MONEY.fullmatch(raw):
            violations.append(
                FieldViolation(path, f"{raw!r} is not an amount in yuan below 10^{MAX_MONEY_DIGITS} with two decimals")
            )
            return None
        return Decimal(raw).quantize(_CENT)
    return parse_date(raw, path, violations)


@dataclass(frozen=True, slots=True)
class RecordDraft:
    """A submission as received, not yet trusted."""

    record_type: str
    subject_kind: str
    subject_identifier: str
    fields: Mapping[str, TypedValue]
    legal_document: LegalDocumentDraft | None = None
    severity: str = ""
    disclosure_days: int | None = None
    # ISO date the conduct ended (a debt settled), for types whose clock runs from it; "" while it goes on.
    settled_on: str = ""


@dataclass(frozen=True, slots=True)
class Record:
    record_id: str
    record_type: str
    subject: Subject
    origin_region: str
    # Canonical text of each value (``canonical_text``): what is hashed, stored and disclosed.
    fields: Mapping[str, str]
    legal_document: LegalDocument | None
    severity: str | None
    # The decision date (the document's issue date); None for a record that rests on no decision.
    decided_on: date | None
    # The day the clock started (decision, publication or end of the conduct); None while the conduct goes on.
    period_start: date | None
    # The severity period chosen at admission; None for a type without severity periods.
    period_days: int | None
    # Publication (公示) ends at ``publish_until``, sharing and use (共享) at ``share_until``; each excluded.
    publish_until: date | None
    share_until: date | None
    status: RecordStatus
    recorded_at: datetime
    version: int
    submitted_by: str
    catalog_version: int
    # For a record withdrawn after its decision was revoked: when, and whether in time.
    withdrawal: Withdrawal | None = None

    def visible_to(self, audience: Audience, today: date) -> bool:
        return is_disclosable(self.status, audience, self.publish_until, self.share_until, today)


def is_disclosable(
    status: RecordStatus, audience: Audience, publish_until: date | None, share_until: date | None, today: date
) -> bool:
    """Active and inside the window ``audience`` is answered from (publication or sharing; a subject: always)."""
    return status is RecordStatus.ACTIVE and visible_to(audience, publish_until, share_until, today)


def check_disclosure_period(
    record_type: RecordType, severity: str, days: int | None, violations: list[FieldViolation]
) -> tuple[str | None, int | None]:
    """The severity and the days of disclosure if the record type allows them (``days`` None: its maximum)."""
    periods = record_type.severity_periods
    if not periods:
        if severity:
            violations.append(FieldViolation("severity", f"{record_type.name} has no severity levels"))
        if days is not None:
            violations.append(FieldViolation("disclosure_days", f"{record_type.name} has no disclosure period"))
        return None, None
    period = periods.get(severity)
    if period is None:
        violations.append(FieldViolation("severity", f"must be one of {', '.join(periods)}"))
        return None, None
    chosen = period.maximum_days if days is None else days
    if not period.minimum_days <= chosen <= period.maximum_days:
        violations.append(
            FieldViolation(
                "disclosure_days",
                f"{severity} allows {period.minimum_days} to {period.maximum_days} days, not {chosen}",
            )
        )
        return severity, None
    return severity, chosen


def _windows(
    record_type: RecordType,
    draft: RecordDraft,
    decided_on: date | None,
    today: date,
    violations: list[FieldViolation],
    term: CourtTerm | None = None,
) -> tuple[str | None, int | None, Ends]:
    """The severity, its days and both ends of a draft, each fault recorded. A courts' list entry lasts its
    court's ``term`` (Fa Shi [2017] No. 7 Art. 2: none for Art. 1(1)), not the tier an older client sends."""
    severity, days = check_disclosure_period(record_type, draft.severity, draft.disclosure_days, violations)
    if term is not None:
        days = term.days
        ends = record_ends(record_type.periods, None, days, period_start(record_type.periods, decided_on, None, today))
        if ends.share_until is not None and ends.share_until <= today:
            violations.append(
                FieldViolation("legal_document.issued_on", f"the entry's term ended on {ends.share_until}")
            )
        return severity, days, ends
    rule = record_type.periods
    settled_on = None
    if draft.settled_on:
        if rule.starts is not PeriodStart.CONDUCT_END:
            violations.append(
                FieldViolation("settled_on", f"{record_type.name} runs from its {rule.starts}, not the conduct's end")
            )
        else:
            settled_on = parse_date(draft.settled_on, "settled_on", violations)
            if settled_on is not None and settled_on > today:
                violations.append(FieldViolation("settled_on", "the conduct cannot have ended in the future"))
    if record_type.severity_periods and days is None:
        return severity, None, Ends(None, None, None)
    ends = record_ends(rule, severity, days, period_start(rule, decided_on, settled_on, today))
    if ends.share_until is not None and ends.share_until <= today and (days is None or days > 0):
        path = "settled_on" if rule.starts is PeriodStart.CONDUCT_END else "legal_document.issued_on"
        violations.append(FieldViolation(path, f"the disclosure period already ended on {ends.share_until}"))
    return severity, days, ends


# --- the checks a record must pass against a catalog: at admission, and again when a new catalog is installed ---


def find_record_type(catalog: Catalog, name: str, violations: list[FieldViolation]) -> RecordType | None:
    """The catalog's record type of that name, or None with the violation recorded."""
    record_type = catalog.record_types.get(name)
    if record_type is None:
        violations.append(FieldViolation("record_type", f"{name!r} is not in catalog version {catalog.version}"))
    return record_type


def check_subject_kind(record_type: RecordType, kind: SubjectKind, violations: list[FieldViolation]) -> None:
    if kind not in record_type.subject_kinds:
        violations.append(FieldViolation("subject.kind", f"{record_type.name} is not recorded about {kind}"))


def field_spec(record_type: RecordType, name: str, violations: list[FieldViolation]) -> FieldSpec | None:
    """The catalog's definition of a field, or None with the violation recorded."""
    spec = record_type.fields.get(name)
    if spec is None:
        violations.append(FieldViolation(f"fields.{name}", f"is not a field of {record_type.name}"))
    return spec


def check_required_fields(record_type: RecordType, present: Collection[str], violations: list[FieldViolation]) -> None:
    for name, spec in record_type.fields.items():
        if spec.required and name not in present:
            violations.append(FieldViolation(f"fields.{name}", "is required"))


def check_legal_document(record_type: RecordType, has_document: bool, violations: list[FieldViolation]) -> None:
    if not has_document and record_type.legal_document_required:
        violations.append(
            FieldViolation("legal_document", f"{record_type.name} must rest on a legally effective document")
        )


_STORED_INTEGER = re.compile(r"0|[1-9][0-9]{0,18}")


def _as_sent(field_type: FieldType, text: str) -> TypedValue:
    """A stored text as a client would have sent it for a field of ``field_type`` (as text if it cannot be)."""
    if field_type is FieldType.INTEGER and _STORED_INTEGER.fullmatch(text):
        return TypedValue(field_type, int(text))
    if field_type is FieldType.BOOLEAN and text in ("true", "false"):
        return TypedValue(field_type, text == "true")
    if field_type in (FieldType.INTEGER, FieldType.BOOLEAN):
        return TypedValue(FieldType.STRING, text)
    return TypedValue(field_type, text)


def check_stored_value(spec: FieldSpec, text: str, path: str, violations: list[FieldViolation]) -> None:
    """Whether a stored value (canonical text) would still be admitted for ``spec``, by the admission checks."""
    coerced = _coerce(spec, _as_sent(spec.type, text), path, violations)
    if coerced is not None and canonical_text(spec.type, coerced) != text:
        violations.append(FieldViolation(path, f"{text!r} is not the canonical text of a {spec.type.value}"))


def admit_record(
    catalog: Catalog, draft: RecordDraft, *, record_id: str, origin_region: str, submitted_by: str, now: datetime
) -> Record:
    """Admit a draft as a record of the catalog, or raise ``InvalidInput`` with every violation."""
    violations: list[FieldViolation] = []
    record_type = find_record_type(catalog, draft.record_type, violations)
    if record_type is None:
        raise InvalidInput(violations)
    today = now.date()
    subject: Subject | None = None
    try:
        subject = Subject.parse(draft.subject_kind, draft.subject_identifier, today=today)
        check_subject_kind(record_type, subject.kind, violations)
    except InvalidInput as error:
        violations.extend(error.violations)
    fields: dict[str, str] = {}
    for name, value in draft.fields.items():
        spec = field_spec(record_type, name, violations)
        if spec is None:
            continue
        coerced = _coerce(spec, value, f"fields.{name}", violations)
        if coerced is not None:
            fields[name] = canonical_text(spec.type, coerced)
    check_required_fields(record_type, draft.fields, violations)
    check_conduct_code(catalog, record_type, fields, violations)
    check_threshold(record_type.threshold, fields, violations)
    document: LegalDocument | None = None
    if draft.legal_document is not None:
        document = admit_legal_document(draft.legal_document, today, "legal_document", violations)
    check_legal_document(record_type, draft.legal_document is not None, violations)
    check_document_provision(record_type, document, fields, violations)
    decided_on = document.issued_on if document else None
    term = court_term(catalog, record_type.name, fields)
    severity, days, ends = _windows(record_type, draft, decided_on, today, violations, term)
    if violations or subject is None:
        raise InvalidInput(violations)
    return Record(
        record_id=record_id,
        record_type=record_type.name,
        subject=subject,
        origin_region=origin_region,
        fields=fields,
        legal_document=document,
        severity=severity,
        decided_on=decided_on,
        period_start=ends.start,
        period_days=days,
        publish_until=ends.publish_until,
        share_until=ends.share_until,
        status=RecordStatus.ACTIVE,
        recorded_at=now,
        version=1,
        submitted_by=submitted_by,
        catalog_version=catalog.version,
    )


# Which status changes are allowed; every other change is refused. Only an active record moves:
# withdrawn by its agency, expired at the end of its disclosure period, repaired on an approved
# application, quarantined when a new catalog no longer admits it. An expired record on which a
# listing still rests is repaired too: repair is possible wherever a measure still bites.
_TRANSITIONS: Mapping[RecordStatus, frozenset[RecordStatus]] = {
    RecordStatus.ACTIVE: frozenset(
        {RecordStatus.WITHDRAWN, RecordStatus.EXPIRED, RecordStatus.REPAIRED, RecordStatus.QUARANTINED}
    ),
    RecordStatus.EXPIRED: frozenset({RecordStatus.REPAIRED}),
}


def change_status(record: Record, to: RecordStatus) -> Record:
    """The record with its new status and version, or ``InvalidState`` for a change the table does not allow."""
    if to not in _TRANSITIONS.get(record.status, frozenset()):
        raise InvalidState(f"a {record.status} record cannot become {to}")
    return replace(record, status=to, version=record.version + 1)
