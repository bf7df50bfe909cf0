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
from share_gateway.domain.catalog_repair import DisputeRules, RepairRules
from share_gateway.domain.catalog_text import NO_TEXTS, Texts
from share_gateway.domain.catalog_threshold import Threshold
from share_gateway.domain.identifiers import SubjectKind
from share_gateway.domain.periods import PeriodRule
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
    # The conduct a record of this type may name (field ``conduct_code``): what list criteria select on.
    conducts: Mapping[str, Conduct] = field(default_factory=dict)
    # When the clock starts, how long publication and sharing last, the maximum (domain.periods).
    periods: PeriodRule = field(default_factory=PeriodRule)
    # How repair works and what its notice says (optional ``repair`` section); the dispute answer time.
    repair_rules: RepairRules = field(default_factory=RepairRules)
    dispute_rules: DisputeRules | None = None
    texts: Texts = NO_TEXTS
    # Who may provide records of this type and on which documents (unrestricted when the catalog says nothing).
    provision: Provision = ANY_PROVISION
    # The amount from which a record of this type may be made, with its source, or a note that none is given.
    threshold: Threshold | None = None


@dataclass(frozen=True, slots=True)
class Conduct:
    """One kind of conduct a rule names, with the rule that names it (a list ground is conduct, never a tier)."""

    code: str
    text: str
    source: str


class MeasureKind(StrEnum):
    """Who imposes a measure: an organ (administrative), the market, an industry body, or society."""

    ADMINISTRATIVE = "administrative"
    MARKET = "market"
    INDUSTRY = "industry"
    SOCIAL = "social"


@dataclass(frozen=True, slots=True)
class Measure:
    name: str
    legal_basis: str
    triggered_by_lists: frozenset[str]
    triggered_by_record_types: frozenset[str]
    purposes: frozenset[str]
    description: str = ""
    kind: MeasureKind = MeasureKind.ADMINISTRATIVE
    # Who applies the measure (a court, a procurement body, ...).
    implementing_body: str = ""
    # The requester kinds that apply it: to any other requester it is information, not a measure to take.
    addressed_to: frozenset[str] = frozenset()
    # Its item in the national basic list of disciplinary measures ("unverified" where no source gives it).
    basic_list_item: str = ""
    texts: Texts = NO_TEXTS


@dataclass(frozen=True, slots=True)
class ListCriterion:
    """A listing ground: records of one type for the conduct named, each ground with its source."""

    record_type: str
    conducts: frozenset[str]
    source: str


class ListKind(StrEnum):
    """A list run by notice and objection (Guo Ban Fa [2020] No. 49 part IV item (8)), or the courts' own list."""

    UNTRUSTWORTHY = "untrustworthy"
    COURT_DEBTORS = "court_debtors"


@dataclass(frozen=True, slots=True)
class DebtorTerm:
    """How long an entry on the courts' list lasts for the conduct named (None: until performance)."""

    conducts: frozenset[str]
    days: int | None
    source: str


@dataclass(frozen=True, slots=True)
class DebtorListRules:
    """The courts' list of dishonest judgment debtors (Fa Shi [2017] No. 7), as the catalog states it."""

    terms: tuple[DebtorTerm, ...]
    extension_minimum_days: int
    extension_maximum_days: int
    # The aggravating conduct for which alone a term may be extended.
    aggravations: Mapping[str, Conduct]
    extension_source: str
    deletion_working_days: int
    deletion_source: str
    correction_review_days: int
    correction_source: str


@dataclass(frozen=True, slots=True)
class ListDefinition:
    name: str
    legal_basis: str
    criteria: tuple[ListCriterion, ...]
    notice_working_days: int
    objection_working_days: int
    duration_days: int
    kind: ListKind = ListKind.UNTRUSTWORTHY
    # The institution kinds that make entries (the courts for their list); empty: the record's own agency.
    makers: frozenset[str] = frozenset()
    debtor_rules: DebtorListRules | None = None


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
