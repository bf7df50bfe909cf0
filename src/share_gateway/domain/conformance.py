"""Catalog conformance: whether a stored record would still be admitted by a newly installed catalog.

A new catalog version may drop a record type, narrow the subjects a type is
about, drop or retype a field, make a field required, or change the severity
periods. A stored record it no longer admits must not be disclosed under
rules that no longer define it: it is quarantined (kept, never disclosed)
with the reasons, and the sweep that checked every record is itself logged
with its report. The checks are the ones ``admit_record`` applies, on what
was stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from share_gateway.domain.catalog import Catalog
from share_gateway.domain.catalog_threshold import check_threshold
from share_gateway.domain.errors import FieldViolation
from share_gateway.domain.records import (
    Record,
    check_disclosure_period,
    check_legal_document,
    check_required_fields,
    check_stored_value,
    check_subject_kind,
    field_spec,
    find_record_type,
)

# The CATALOG_SWEPT event names at most this many quarantined records; each has its own event anyway.
MAX_REPORTED_IDS = 100


def nonconformities(catalog: Catalog, record: Record) -> tuple[FieldViolation, ...]:
    """Every reason the catalog would not admit the stored record, each named by its path; empty if it conforms."""
    violations: list[FieldViolation] = []
    record_type = find_record_type(catalog, record.record_type, violations)
    if record_type is None:
        return tuple(violations)
    check_subject_kind(record_type, record.subject.kind, violations)
    for name, text in record.fields.items():
        spec = field_spec(record_type, name, violations)
        if spec is not None:
            check_stored_value(spec, text, f"fields.{name}", violations)
    check_required_fields(record_type, record.fields, violations)
    check_threshold(record_type.threshold, record.fields, violations)
    check_legal_document(record_type, record.legal_document is not None, violations)
    check_disclosure_period(record_type, record.severity or "", record.period_days, violations)
    return tuple(violations)


def quarantine_reason(catalog_version: int) -> str:
    """The change reason stored on each record a sweep quarantines: how a resumed sweep finds the earlier ones."""
    return f"catalog version {catalog_version} no longer admits it"


def describe_violations(violations: tuple[FieldViolation, ...]) -> str:
    return "; ".join(f"{v.field}: {v.description}" for v in violations)


@dataclass(frozen=True, slots=True)
class Quarantined:
    record_id: str
    reasons: tuple[FieldViolation, ...]


@dataclass(frozen=True, slots=True)
class SweepReport:
    """What a sweep found: the operator's report, and the details of the CATALOG_SWEPT event."""

    catalog_version: int
    catalog_digest: str
    checked: int
    quarantined: tuple[Quarantined, ...]
    # Quarantined for this version by an earlier run that was interrupted before it finished.
    quarantined_before: tuple[str, ...] = ()

    @property
    def record_ids(self) -> tuple[str, ...]:
        """Every record quarantined for this catalog version, in id order."""
        return tuple(sorted((*self.quarantined_before, *(q.record_id for q in self.quarantined))))

    def event_details(self) -> dict[str, str]:
        ids = self.record_ids
        return {
            "catalog_version": str(self.catalog_version),
            "catalog_digest": self.catalog_digest,
            "checked": str(self.checked),
            "quarantined": str(len(ids)),
            "record_ids": ",".join(ids[:MAX_REPORTED_IDS]),
            "record_ids_truncated": "true" if len(ids) > MAX_REPORTED_IDS else "false",
        }

    def describe(self) -> str:
        """The report as an operator reads it: one line, then one per record quarantined."""
        ids = self.record_ids
        lines = [
            f"catalog version {self.catalog_version} ({self.catalog_digest[:12]}…): "
            f"{self.checked} records checked, {len(ids)} quarantined"
        ]
        lines += [f"  {q.record_id}: {describe_violations(q.reasons)}" for q in self.quarantined]
        lines += [
            f"  {record_id}: quarantined by an earlier, interrupted sweep" for record_id in self.quarantined_before
        ]
        return "\n".join(lines)
