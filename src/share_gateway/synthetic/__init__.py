"""Synthetic subjects and credit records for tests, the demo and benchmarks.

Toy values ("ACME", "123") hide the faults real data exposes: check characters,
division codes that did not exist at a birth date, Chinese text, money with
cents, documents dated so that their disclosure window is still open. This
package draws realistic ones instead:

* companies with a valid Unified Social Credit Code (GB 32100-2015) whose
  division code lies in the requested province-level region;
* persons with a valid resident ID number (GB 11643-1999), checked with
  ``stdnum.cn.ric.validate`` including its historical division database;
* record drafts for every record type the catalog allows, field by field from
  the catalog's definitions, each one accepted by ``admit_record``: made as the
  recording region's bodies would make them (its authority, court, tax bureau,
  utility, lender branch), with no decision date where no decision exists, and
  none of a type whose threshold no source gives (the catalog says so; no
  amount is invented).

Everything comes from one ``random.Random(seed)`` owned by the ``Population``:
the same seed and the same calls give the same output, and the global random
state is never touched. Names of authorities, laws and document numbers follow
real patterns but are illustrative; they are not real cases.

Modules: ``regions`` (divisions and local bodies), ``people`` (companies and
persons), ``case`` with ``penalties``, ``licences`` and ``obligations`` (the
facts a record is written from), ``fields`` (field values and documents),
``draws`` (shared helpers). Only the names in ``__all__`` are the public API.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from functools import cache

from share_gateway.catalog import sample_catalog_text
from share_gateway.domain.catalog import Catalog, RecordType
from share_gateway.domain.debtor_list import courts_list
from share_gateway.domain.identifiers import SubjectKind
from share_gateway.domain.records import RecordDraft
from share_gateway.synthetic.case import Case
from share_gateway.synthetic.draws import between
from share_gateway.synthetic.fields import draft_fields, legal_document
from share_gateway.synthetic.obligations import conduct_ended
from share_gateway.synthetic.people import (
    Sex,
    SyntheticCompany,
    SyntheticPerson,
    SyntheticSubject,
    earliest,
    new_company,
    new_person,
)
from share_gateway.synthetic.regions import (
    REGIONS,
    SUPPORTED_REGIONS,
    Division,
    Region,
    department,
    division_existed,
    region_of,
)

__all__ = [
    "REGIONS",
    "REGISTRATION",
    "SUPPORTED_REGIONS",
    "Division",
    "Population",
    "Region",
    "Sex",
    "SyntheticCompany",
    "SyntheticPerson",
    "SyntheticSubject",
    "department",
    "division_existed",
    "region_of",
    "sample_catalog",
]


@cache
def sample_catalog() -> Catalog:
    """The shipped sample catalog, parsed once: what drafts are generated against by default."""
    return Catalog.from_yaml(sample_catalog_text())


# How far back a decision may lie, by record type (before the disclosure window narrows it).
_MAX_AGE_DAYS: Mapping[str, int] = {
    "administrative_licence": 4 * 365,
    "tax_arrears": 2 * 365,
    "dishonest_judgment_debtor": 4 * 365,
}
# How often each severity is drawn; severities the table lacks weigh 1.
_SEVERITY_WEIGHTS: Mapping[str, float] = {
    "minor": 3,
    "general": 5,
    "serious": 2,
    "standard": 8,
    "extended": 2,
}
# How common each record type is in a subject's history; record types the table lacks weigh 1.
_MIX_WEIGHTS: Mapping[str, float] = {
    "administrative_licence": 4,
    "credit_commitment": 4,
    "administrative_penalty": 3,
    "tax_arrears": 1.5,
    "utility_arrears": 1.5,
    "loan_default": 1.5,
    "dishonest_judgment_debtor": 1,
}
REGISTRATION = "business_registration"


# --- The population ---------------------------------------------------------------------


class Population:
    """A reproducible population of companies and persons, and credit record drafts about them.

    All randomness comes from ``random.Random(seed)``: the same seed, ``today``
    and sequence of calls give the same subjects and drafts. Identifiers are
    unique within a population.
    """

    def __init__(self, seed: int, today: date, catalog: Catalog | None = None) -> None:
        self.seed = seed
        self.today = today
        self.catalog = catalog if catalog is not None else sample_catalog()
        # Reproducible test data, not secrets: a seeded PRNG is what is wanted here.
        self._rng = random.Random(seed)  # noqa: S311
        self._identifiers: set[str] = set()
        self._company_names: set[str] = set()

    # -- subjects

    def company(self, region: str) -> SyntheticCompany:
        """A company registered in a current division of ``region`` (a province-level code such as 110000)."""
        return new_company(self._rng, region_of(region), self.today, self._identifiers, self._company_names)

    def person(self, region: str) -> SyntheticPerson:
        """An adult (20 to 72) whose resident ID number was issued in ``region`` and validates with stdnum."""
        return new_person(self._rng, region_of(region), self.today, self._identifiers)

    def companies(self, n: int, regions: Sequence[str] = SUPPORTED_REGIONS) -> list[SyntheticCompany]:
        """``n`` companies, regions taken in turn so that each gets its share."""
        return [self.company(regions[i % len(regions)]) for i in range(n)]

    def persons(self, n: int, regions: Sequence[str] = SUPPORTED_REGIONS) -> list[SyntheticPerson]:
        """``n`` persons, regions taken in turn so that each gets its share."""
        return [self.person(regions[i % len(regions)]) for i in range(n)]

    def subjects(
        self, n: int, regions: Sequence[str] = SUPPORTED_REGIONS, company_share: float = 0.5
    ) -> list[SyntheticSubject]:
        """``n`` subjects across ``regions`` in turn, each a company with probability ``company_share``."""
        if not regions:
            raise ValueError("at least one region is needed")
        return [
            self.company(region) if self._rng.random() < company_share else self.person(region)
            for region in (regions[i % len(regions)] for i in range(n))
        ]

    # -- records

    def record_types_for(self, kind: SubjectKind) -> list[str]:
        """The catalog's record types about ``kind``, in catalog order."""
        return [name for name, spec in self.catalog.record_types.items() if kind in spec.subject_kinds]

    def record_draft(self, subject: SyntheticSubject, record_type: str, region: str | None = None) -> RecordDraft:
        """A draft of ``record_type`` about ``subject`` that ``admit_record`` accepts as of ``today``.

        It is made as the bodies of ``region`` (default: the subject's own) would make it: their authority,
        court, tax bureau, utility or lender branch. ``ValueError`` where the catalog does not allow the record:
        a type whose threshold no source gives, or a registration outside the company's own region.
        """
        spec = self.catalog.record_types.get(record_type)
        if spec is None:
            raise ValueError(f"{record_type!r} is not in catalog version {self.catalog.version}")
        if subject.kind not in spec.subject_kinds:
            raise ValueError(f"{record_type} is not recorded about {subject.kind.value}")
        if not self.allows(spec, subject, region):
            raise ValueError(self._refusal(spec, subject, region))
        division = self._recording_division(subject, region)
        severity, disclosure_days, window = self._severity(spec)
        decided_on = self._decision_date(subject, spec, window)
        case = Case(self._rng, subject, spec, self.today, decided_on, severity, division)
        fields = draft_fields(case)
        document = legal_document(case)
        return RecordDraft(
            record_type=spec.name,
            subject_kind=subject.kind.value,
            subject_identifier=subject.identifier,
            fields=fields,
            legal_document=document,
            severity=severity,
            disclosure_days=disclosure_days,
            settled_on=conduct_ended(case),
        )

    def drafts_for(self, subject: SyntheticSubject, count: int, region: str | None = None) -> list[RecordDraft]:
        """``count`` drafts about ``subject`` made in ``region`` (default: its own), in a realistic mix of the
        types the catalog allows there; a company's list in its own region opens with its registration."""
        names = [
            name
            for name in self.record_types_for(subject.kind)
            if self.allows(self.catalog.record_types[name], subject, region)
        ]
        if not names:
            raise ValueError(f"catalog version {self.catalog.version} allows no record about {subject.kind.value}")
        drafts: list[RecordDraft] = []
        if count > 0 and REGISTRATION in names:
            drafts.append(self.record_draft(subject, REGISTRATION, region))
        others = [name for name in names if name != REGISTRATION] or names
        weights = [_MIX_WEIGHTS.get(name, 1.0) for name in others]
        drafts.extend(
            self.record_draft(subject, name, region)
            for name in self._rng.choices(others, weights, k=count - len(drafts))
        )
        return drafts

    def drafts(
        self, subjects: Iterable[SyntheticSubject], per_subject: int, region: str | None = None
    ) -> list[RecordDraft]:
        """Drafts for many subjects at once, made in ``region`` (default: each its own): what a benchmark or the
        demo submits."""
        return [draft for subject in subjects for draft in self.drafts_for(subject, per_subject, region)]

    def allows(self, spec: RecordType, subject: SyntheticSubject, region: str | None = None) -> bool:
        """Whether the catalog lets a record of ``spec`` be made about ``subject`` in ``region``: not where its
        threshold is not given by a source (none is invented), not a registration outside the company's region."""
        if spec.threshold is not None and not spec.threshold.given:
            return False
        return not (spec.name == REGISTRATION and region is not None and region != subject.region)

    def _refusal(self, spec: RecordType, subject: SyntheticSubject, region: str | None) -> str:
        if spec.threshold is not None and not spec.threshold.given:
            return f"{spec.name} is not generated: its threshold is not given by a source ({spec.threshold.source})"
        return f"{spec.name} is made where the company is registered ({subject.region}), not in {region}"

    def _recording_division(self, subject: SyntheticSubject, region: str | None) -> Division:
        """Where the record is made: the subject's division in its own region, else a division of ``region``."""
        if region is None or region == subject.region:
            return subject.division
        return self._rng.choice(region_of(region).divisions)

    def _severity(self, spec: RecordType) -> tuple[str, int | None, int | None]:
        """Severity, the disclosure days to request (``None``: the maximum) and the window that will apply."""
        if not spec.severity_periods:
            return "", None, None
        found = courts_list(self.catalog, spec.name)
        if found is not None:  # the court's term sets the window: its shortest fixed one, which every conduct allows
            terms = [term.days for term in found[1].terms if term.days is not None]
            return next(iter(spec.severity_periods)), None, min(terms, default=None)
        names = list(spec.severity_periods)
        severity = self._rng.choices(names, [_SEVERITY_WEIGHTS.get(name, 1.0) for name in names])[0]
        period = spec.severity_periods[severity]
        if period.minimum_days < period.maximum_days and self._rng.random() < 0.25:
            days = self._rng.randint(period.minimum_days, period.maximum_days)
            return severity, days, days
        return severity, None, period.maximum_days

    def _decision_date(self, subject: SyntheticSubject, spec: RecordType, window: int | None) -> date | None:
        """When the document was issued: late enough that the disclosure window is still open today; None for a
        type that rests on no decision (a loan default, a commitment): it has no decision date to show."""
        if not spec.legal_document_required:
            return None
        if spec.name == REGISTRATION and isinstance(subject, SyntheticCompany):
            if self._rng.random() < 0.7:
                return subject.established_on
            return between(self._rng, subject.established_on, self.today)  # licence reissued after a change
        max_age = _MAX_AGE_DAYS.get(spec.name, 3 * 365)
        if window is not None and window > 0:
            max_age = min(max_age, window - 1)
        start = min(self.today, max(earliest(subject), self.today - timedelta(days=max_age)))
        return between(self._rng, start, self.today)
