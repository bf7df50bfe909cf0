"""Lawfulness and necessity (DESIGN section 4): deny by default, cite every basis.

The catalog is compiled once per version into lookup tables, so a decision on
the inquiry path is a few dictionary lookups. ``authorise`` settles what
depends only on the purpose (kind, grant, consent, self-only); ``rule_for``
settles each record type (scope reached, necessary fields); ``decide`` is the
two together.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from share_gateway.domain.catalog import Catalog, DisclosureScope, Measure, Purpose
from share_gateway.domain.debtor_endings import check_maker
from share_gateway.domain.debtor_list import courts_list
from share_gateway.domain.errors import Citation, FieldViolation, InvalidInput, Refused
from share_gateway.domain.identifiers import Subject, validate_uscc
from share_gateway.domain.periods import Audience
from share_gateway.domain.principals import Role

if TYPE_CHECKING:
    from share_gateway.domain.consent import Consent

MAX_CONSENT_REFERENCE = 200


class GrantRole(StrEnum):
    """What a grant lets an institution do: inquire for a purpose, or submit a record type."""

    INQUIRE = "inquire"
    SUBMIT = "submit"


class Denial(StrEnum):
    """Machine-readable reasons for a refusal (sent as ``google.rpc.ErrorInfo.reason``)."""

    REQUESTER_KIND_NOT_ALLOWED = "REQUESTER_KIND_NOT_ALLOWED"
    NO_GRANT = "NO_GRANT"
    CONSENT_REQUIRED = "CONSENT_REQUIRED"
    NOT_THE_SUBJECT = "NOT_THE_SUBJECT"
    SCOPE_NOT_REACHED = "SCOPE_NOT_REACHED"
    NOT_NECESSARY = "NOT_NECESSARY"
    RECORD_TYPE_NOT_GRANTED = "RECORD_TYPE_NOT_GRANTED"
    # The institution's registered kind is not among the catalog's providers of the record type (提供单位).
    NOT_A_PROVIDER = "NOT_A_PROVIDER"
    NOT_A_COMPLIANCE_OFFICER = "NOT_A_COMPLIANCE_OFFICER"
    # Only a certificate carrying the administrator role changes the registry of institutions and grants.
    NOT_AN_ADMINISTRATOR = "NOT_AN_ADMINISTRATOR"
    NOT_SELF_ONLY = "NOT_SELF_ONLY"
    PEER_NOT_ADMITTED = "PEER_NOT_ADMITTED"
    # The calling node's certificate is not the one the manifest pins for its region (an unpinned re-issue, or
    # manifests not yet alike during a rollout): about the caller, not about what it sent.
    CERTIFICATE_NOT_PINNED = "CERTIFICATE_NOT_PINNED"
    CATALOG_MISMATCH = "CATALOG_MISMATCH"
    REPLAYED = "REPLAYED"
    MANIFEST_EXPIRED = "MANIFEST_EXPIRED"
    NOT_SHARED = "NOT_SHARED"
    # A node identity called a service of clients: node certificates call PeerService only.
    NOT_A_CLIENT = "NOT_A_CLIENT"
    # A peer's delivery rests on a record of its own that is not here yet (retryable: it may arrive).
    RECORD_NOT_HELD = "RECORD_NOT_HELD"
    # A peer's listing names another subject or type than the record it rests on (permanent).
    LISTING_MISMATCH = "LISTING_MISMATCH"
    # Consent (domain.consent): each way a consent fails has its own reason.
    # Text where a signed consent statement is needed (the old consent_reference alone).
    CONSENT_FREE_TEXT = "CONSENT_FREE_TEXT"
    # The statement's signature, its signer's certificate or its chain to the federation CA does not hold.
    CONSENT_FORGED = "CONSENT_FORGED"
    CONSENT_EXPIRED = "CONSENT_EXPIRED"
    CONSENT_NOT_YET_VALID = "CONSENT_NOT_YET_VALID"
    CONSENT_REVOKED = "CONSENT_REVOKED"
    CONSENT_OTHER_REQUESTER = "CONSENT_OTHER_REQUESTER"
    CONSENT_OTHER_PURPOSE = "CONSENT_OTHER_PURPOSE"
    CONSENT_OTHER_SUBJECT = "CONSENT_OTHER_SUBJECT"


@dataclass(frozen=True, slots=True)
class Grant:
    role: GrantRole
    scope: str
    valid_from: datetime
    valid_until: datetime | None = None

    def covers(self, role: GrantRole, scope: str, now: datetime) -> bool:
        return (
            self.role is role
            and self.scope == scope
            and self.valid_from <= now
            and (self.valid_until is None or now < self.valid_until)
        )


@dataclass(frozen=True, slots=True)
class Principal:
    """An institution or person as its verified certificate and the node's grants describe it."""

    identity: str
    uri: str
    kind: str
    grants: tuple[Grant, ...] = ()
    # The subject the caller itself is (its own records), if any: what self-only purposes compare.
    itself: Subject | None = None
    roles: frozenset[Role] = frozenset()

    def holds(self, role: GrantRole, scope: str, now: datetime) -> bool:
        return any(grant.covers(role, scope, now) for grant in self.grants)


@dataclass(frozen=True, slots=True)
class Decision:
    lawful: bool
    fields: frozenset[str]
    citations: tuple[Citation, ...]
    reason: str = ""


@dataclass(frozen=True, slots=True)
class _Rule:
    scope: DisclosureScope
    fields: frozenset[str]
    citation: Citation


@dataclass(frozen=True, slots=True)
class AppliedMeasure:
    """A catalog measure whose triggers hold, with what triggered it (``record_type/…``, ``list/…``).

    ``information_only``: the requester is not of a kind the measure is addressed to, so it learns of the
    measure as information about the subject and must not apply it (a bank is not made to enforce a court's
    order against high consumption).
    """

    measure: Measure
    grounds: tuple[str, ...]
    information_only: bool = False

    @property
    def citation(self) -> Citation:
        return Citation(f"measure/{self.measure.name}", self.measure.legal_basis)


def audience_of(purpose: Purpose) -> Audience:
    """Which end of a record a purpose's answers honour (NDRC Order No. 36: publication and sharing end apart).

    The subject's own inquiry sees its records published or not; a purpose that reaches only the public scope
    is publication (public lookup, the public port); any other is a purpose-bound sharing.
    """
    if purpose.self_only:
        return Audience.SUBJECT
    if purpose.reaches == frozenset({DisclosureScope.PUBLIC}):
        return Audience.PUBLICATION
    return Audience.SHARING


def _purpose_citation(purpose: Purpose) -> Citation:
    return Citation(f"purpose/{purpose.name}", purpose.legal_basis)


class Policy:
    """The catalog's rules compiled for one catalog version."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._purposes: Mapping[str, Purpose] = dict(catalog.purposes)
        self._audiences = {name: audience_of(purpose) for name, purpose in catalog.purposes.items()}
        self._rules: dict[tuple[str, str], _Rule] = {}
        for record_type in catalog.record_types.values():
            citation = Citation(f"record_type/{record_type.name}", record_type.legal_basis)
            for purpose, fields in record_type.necessity.items():
                self._rules[(purpose, record_type.name)] = _Rule(record_type.disclosure, fields, citation)
        self._measures: dict[str, tuple[Measure, ...]] = {
            purpose: tuple(m for _, m in sorted(catalog.measures.items()) if purpose in m.purposes)
            for purpose in catalog.purposes
        }

    def authorise(
        self,
        requester: Principal,
        purpose_name: str,
        subject: Subject,
        consent_reference: str,
        now: datetime,
        consent: Consent | None = None,
        skew: timedelta = timedelta(0),
    ) -> Citation:
        """Settle the purpose-level conditions or raise; return the purpose's citation.

        Where the purpose needs consent only a verified consent statement (``consent``) that covers this
        requester, subject and purpose at ``now`` (read with ``skew``) will do: text alone is refused.
        """
        purpose = self._purposes.get(purpose_name)
        if purpose is None:
            raise InvalidInput.one("purpose", f"{purpose_name!r} is not a purpose of catalog {self.catalog.version}")
        if len(consent_reference) > MAX_CONSENT_REFERENCE:
            raise InvalidInput.one("consent_reference", f"is longer than {MAX_CONSENT_REFERENCE} characters")
        citation = _purpose_citation(purpose)
        if requester.kind not in purpose.requester_kinds:
            raise Refused(
                Denial.REQUESTER_KIND_NOT_ALLOWED,
                f"a requester of kind {requester.kind!r} may not inquire for {purpose.name}",
                [citation],
            )
        if purpose.grant_required and not requester.holds(GrantRole.INQUIRE, purpose.name, now):
            raise Refused(Denial.NO_GRANT, f"no current grant for {purpose.name}", [citation])
        if purpose.self_only and requester.itself != subject:
            raise Refused(Denial.NOT_THE_SUBJECT, f"{purpose.name} is only for the subject itself", [citation])
        if purpose.consent_required:
            if consent is None and consent_reference.strip():
                raise Refused(
                    Denial.CONSENT_FREE_TEXT,
                    f"{purpose.name} needs the subject's signed consent statement, not a text reference",
                    [citation],
                )
            if consent is None:
                raise Refused(Denial.CONSENT_REQUIRED, f"{purpose.name} needs the subject's consent", [citation])
            refusal = consent.statement.refusal(requester.uri, purpose.name, subject, now, skew)
            if refusal is not None:
                raise Refused(refusal[0], refusal[1], [citation])
        return citation

    def audience(self, purpose_name: str) -> Audience:
        """The audience an authorised purpose answers (which of a record's ends it honours)."""
        return self._audiences[purpose_name]

    def rule_for(self, purpose_name: str, record_type: str, consent_reference: str) -> Decision:
        """Whether records of a type may go out for an authorised purpose, and which fields.

        ``consent_reference`` is the id of the consent ``authorise`` accepted ('' if none).
        """
        purpose = self._purposes[purpose_name]
        rule = self._rules.get((purpose_name, record_type))
        if rule is None:
            return Decision(False, frozenset(), (), Denial.NOT_NECESSARY)
        if rule.scope not in purpose.reaches:
            return Decision(False, frozenset(), (rule.citation,), Denial.SCOPE_NOT_REACHED)
        if rule.scope is DisclosureScope.AUTHORISED and not (purpose.self_only or consent_reference.strip()):
            return Decision(False, frozenset(), (rule.citation,), Denial.CONSENT_REQUIRED)
        return Decision(True, rule.fields, (rule.citation,))

    def decide(
        self,
        requester: Principal,
        purpose_name: str,
        record_type: str,
        subject: Subject,
        consent_reference: str,
        now: datetime,
        consent: Consent | None = None,
    ) -> Decision:
        """The whole decision for one (requester, purpose, record type); never raises a refusal."""
        try:
            purpose_citation = self.authorise(requester, purpose_name, subject, consent_reference, now, consent)
        except Refused as refusal:
            return Decision(False, frozenset(), refusal.citations, refusal.reason)
        decision = self.rule_for(purpose_name, record_type, "" if consent is None else consent.consent_id)
        return Decision(decision.lawful, decision.fields, (purpose_citation, *decision.citations), decision.reason)

    def lists_visible(self, purpose_name: str) -> bool:
        """Whether an answer for this purpose states the subject's lists: list membership is public information,
        so every purpose reaching public records sees it (public lookup included)."""
        purpose = self._purposes.get(purpose_name)
        return purpose is not None and DisclosureScope.PUBLIC in purpose.reaches

    def lists_matter(self, purpose_name: str) -> bool:
        """Whether a list can trigger a measure for this purpose: if not, nobody need look the subject up."""
        return any(measure.triggered_by_lists for measure in self._measures.get(purpose_name, ()))

    def measures_for(
        self, purpose_name: str, record_types: Iterable[str], lists: Iterable[str], *, requester_kind: str
    ) -> tuple[AppliedMeasure, ...]:
        """The catalog's measures for this purpose whose triggers hold: nothing else can ever be returned.

        ``record_types`` are the types of the records the answer discloses, ``lists`` the lists the
        subject is on: a measure is only ever shown with grounds the requester may see. A requester of a
        kind the measure is addressed to sees it as a measure, any other only as information.
        """
        types, listed = frozenset(record_types), frozenset(lists)
        applied = []
        for measure in self._measures.get(purpose_name, ()):
            grounds = [f"record_type/{t}" for t in sorted(measure.triggered_by_record_types & types)]
            grounds += [f"list/{name}" for name in sorted(measure.triggered_by_lists & listed)]
            if grounds:
                addressed = requester_kind in measure.addressed_to
                applied.append(AppliedMeasure(measure, tuple(grounds), information_only=not addressed))
        return tuple(applied)

    def authorise_submission(self, agency: Principal, record_type: str, now: datetime) -> Citation:
        """An agency may submit only the record types its grant lists, and only as a kind the catalog names."""
        definition = self.catalog.record_types.get(record_type)
        if definition is None:
            raise InvalidInput.one("record_type", f"{record_type!r} is not in catalog version {self.catalog.version}")
        citation = Citation(f"record_type/{record_type}", definition.legal_basis)
        if not agency.holds(GrantRole.SUBMIT, record_type, now):
            raise Refused(Denial.RECORD_TYPE_NOT_GRANTED, f"no current grant to submit {record_type}", [citation])
        if not definition.provision.may_provide(agency.kind):
            providers = ", ".join(sorted(definition.provision.providers))
            raise Refused(
                Denial.NOT_A_PROVIDER, f"{record_type} is provided by {providers}, not {agency.kind!r}", [citation]
            )
        # A record that is itself an entry on a courts' list is made only by that list's makers (the courts).
        entry_of = courts_list(self.catalog, record_type)
        if entry_of is not None:
            check_maker(entry_of[0], agency.kind)
        return citation


def check_registration(catalog: Catalog, institution: str, kind: str | None, grants: Iterable[Grant]) -> None:
    """Refuse what the catalog does not know: a registration is checked before it is stored."""
    violations: list[FieldViolation] = []
    try:
        validate_uscc(institution, "institution")
    except InvalidInput as error:
        violations.extend(error.violations)
    if kind is not None and kind not in catalog.requester_kinds:
        violations.append(FieldViolation("kind", f"{kind!r} is not a requester kind of catalog {catalog.version}"))
    known = {GrantRole.INQUIRE: (catalog.purposes, "purpose"), GrantRole.SUBMIT: (catalog.record_types, "record type")}
    for grant in grants:
        names, what = known[grant.role]
        if grant.scope not in names:
            violations.append(FieldViolation(grant.role.value, f"{grant.scope!r} is not a {what} of the catalog"))
        elif (
            grant.role is GrantRole.SUBMIT
            and kind
            and not catalog.record_types[grant.scope].provision.may_provide(kind)
        ):
            providers = ", ".join(sorted(catalog.record_types[grant.scope].provision.providers))
            violations.append(FieldViolation("submit", f"{grant.scope} is provided by {providers}, not {kind!r}"))
        if grant.valid_until is not None and grant.valid_until <= grant.valid_from:
            violations.append(FieldViolation("valid_until", "a grant must end after it starts"))
    if violations:
        raise InvalidInput(violations)


def unique_citations(citations: Iterable[Citation]) -> tuple[Citation, ...]:
    """Citations in first-seen order without repeats."""
    return tuple(dict.fromkeys(citations))
