"""The published catalog: the closed list of what may be recorded, shared and disclosed.

This module holds the catalog's frozen objects. Reading a catalog document into
them, every fault named by its exact path and every cross reference checked, is
the job of ``share_gateway.domain.catalog_document``; ``Catalog.from_yaml`` is
its front door.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from share_gateway.domain.catalog_provision import ANY_PROVISION, Provision
from share_gateway.domain.catalog_text import NO_TEXTS, Texts
from share_gateway.domain.identifiers import SubjectKind
from share_gateway.domain.quotas import DEFAULT_QUOTA, QuotaLimits

DEFAULT_MAX_TEXT = 2000


class Category(StrEnum):
    GOVERNMENT_AFFAIRS = "government_affairs"
    FINANCE = "finance"
    PUBLIC_UTILITIES = "public_utilities"
    JUDICIAL = "judicial"


class DisclosureScope(StrEnum):
    """How widely a record type may be disclosed, narrowest last."""

    PUBLIC = "public"
    SHARED = "shared"
    AUTHORISED = "authorised"


class FieldType(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    MONEY = "money"
    DATE = "date"
    BOOLEAN = "boolean"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    type: FieldType
    required: bool = False
    max_length: int = DEFAULT_MAX_TEXT
    description: str = ""


@dataclass(frozen=True, slots=True)
class DisclosurePeriod:
    """Days of disclosure a severity allows, counted from the decision date."""

    minimum_days: int
    maximum_days: int


@dataclass(frozen=True, slots=True)
class Purpose:
    name: str
    legal_basis: str
    requester_kinds: frozenset[str]
    consent_required: bool
    reaches: frozenset[DisclosureScope]
    grant_required: bool = True
    self_only: bool = False
    description: str = ""
    # What one requester may take for this purpose before a node refuses it (optional in the document).
    quota: QuotaLimits = DEFAULT_QUOTA
    # Title and description in Chinese and English (``description`` above is the English one).
    texts: Texts = NO_TEXTS


@dataclass(frozen=True, slots=True)
class RecordType:
    name: str
    category: Category
    subject_kinds: frozenset[SubjectKind]
    legal_basis: str
    legal_document_required: bool
    disclosure: DisclosureScope
    fields: Mapping[str, FieldSpec]
    necessity: Mapping[str, frozenset[str]]
    severity_periods: Mapping[str, DisclosurePeriod] = field(default_factory=dict)
    repairable: bool = False
    # Repairable as soon as the obligation is performed, before the minimum period (the courts' debtor list).
    repair_on_performance: bool = False
    list_eligible: bool = False
    shared_nationwide: bool = False
    description: str = ""
    texts: Texts = NO_TEXTS
    # Who may provide records of this type and on which documents (unrestricted when the catalog says nothing).
    provision: Provision = ANY_PROVISION


@dataclass(frozen=True, slots=True)
class Measure:
    name: str
    legal_basis: str
    triggered_by_lists: frozenset[str]
    triggered_by_record_types: frozenset[str]
    purposes: frozenset[str]
    description: str = ""
    texts: Texts = NO_TEXTS


@dataclass(frozen=True, slots=True)
class ListCriterion:
    record_type: str
    severities: frozenset[str]


@dataclass(frozen=True, slots=True)
class ListDefinition:
    name: str
    legal_basis: str
    criteria: tuple[ListCriterion, ...]
    notice_working_days: int
    objection_working_days: int
    duration_days: int


@dataclass(frozen=True, slots=True)
class Catalog:
    version: int
    authority: str
    requester_kinds: Mapping[str, str]
    purposes: Mapping[str, Purpose]
    record_types: Mapping[str, RecordType]
    measures: Mapping[str, Measure]
    lists: Mapping[str, ListDefinition]

    @classmethod
    def from_yaml(cls, text: str | bytes) -> Catalog:
        """Parse a catalog document; raise ``CatalogInvalid`` listing every fault by path."""
        # The document module builds these objects, so it is imported when first needed, not at the top.
        from share_gateway.domain.catalog_document import load_yaml, parse_catalog  # noqa: PLC0415

        return parse_catalog(load_yaml(text))
