"""Requesters, grants and the sample catalog's policy, shared by the lawfulness and necessity tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib import resources

from share_gateway.domain.catalog import Catalog
from share_gateway.domain.consent import Consent, ConsentStatement
from share_gateway.domain.errors import Citation
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.domain.policy import Decision, Denial, Grant, GrantRole, Policy, Principal

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
SAMPLE_TEXT = resources.files("share_gateway").joinpath("catalog/sample.yaml").read_text(encoding="utf-8")
CATALOG = Catalog.from_yaml(SAMPLE_TEXT)
POLICY = Policy(CATALOG)

BANK_ID = "91110000MA0000001L"
ENTITY = Subject(SubjectKind.LEGAL_ENTITY, "91440300MA5ABCDE1H")
PERSON = Subject(SubjectKind.INDIVIDUAL, "110105198001011238")
OTHER_PERSON = Subject(SubjectKind.INDIVIDUAL, "310104199003070026")
CONSENT = "written consent LN-2026-0042"


def grant(scope: str, role: GrantRole = GrantRole.INQUIRE, **window: datetime | None) -> Grant:
    valid_from = window.get("valid_from") or NOW - timedelta(days=30)
    return Grant(role, scope, valid_from, window.get("valid_until"))


def principal(kind: str, *grants: Grant, identity: str = BANK_ID, itself: Subject | None = None) -> Principal:
    return Principal(
        identity=identity,
        uri=f"sgw://institution/{identity}",
        kind=kind,
        grants=grants,
        itself=itself or Subject(SubjectKind.LEGAL_ENTITY, identity),
    )


BANK = principal("bank", grant("loan_underwriting"))
UTILITY = principal("utility", grant("utility_connection"), identity="91310000MA00000025")
PERSON_ITSELF = Principal(PERSON.identifier, f"sgw://person/{PERSON.identifier}", "individual", itself=PERSON)


def purpose_citation(purpose: str) -> Citation:
    return Citation(f"purpose/{purpose}", CATALOG.purposes[purpose].legal_basis)


def type_citation(record_type: str) -> Citation:
    return Citation(f"record_type/{record_type}", CATALOG.record_types[record_type].legal_basis)


def covering(
    requester: Principal, purpose: str, subject: Subject = ENTITY, now: datetime = NOW, **changes: object
) -> Consent:
    """A verified consent (as ``crypto.consent`` returns one) covering exactly this inquiry, with ``changes``."""
    values: dict[str, object] = {
        "subject": subject,
        "requester": requester.uri,
        "purposes": (purpose,),
        "not_before": now - timedelta(days=1),
        "not_after": now + timedelta(days=30),
        "evidence_sha256": "ab" * 32,
        "attested": True,
    } | changes
    statement = ConsentStatement(**values)  # type: ignore[arg-type]
    return Consent("0" * 32, statement, requester.uri)


def decide(
    requester: Principal,
    purpose: str,
    record_type: str,
    subject: Subject = ENTITY,
    consent: str = CONSENT,
    now: datetime = NOW,
) -> Decision:
    """The policy's decision where the subject consented (``consent`` text given) or did not (``''``)."""
    verified = covering(requester, purpose, subject, now) if consent.strip() else None
    return POLICY.decide(requester, purpose, record_type, subject, consent, now, verified)


def refused(decision: Decision, reason: Denial) -> None:
    assert decision.lawful is False
    assert decision.fields == frozenset()
    assert decision.reason == reason
