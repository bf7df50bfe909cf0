"""The consent statement and its signature: a permanent format, who may sign it, and each way it fails."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from share_gateway.crypto.consent import ConsentForged, SignedConsent, sign_consent, verify_consent
from share_gateway.crypto.pki import Issued, certificate_fingerprint, create_ca, issue_certificate
from share_gateway.domain.consent import ConsentRevocation, ConsentStatement, consent_id
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.domain.policy import Denial
from share_gateway.domain.principals import Identity, IdentityKind
from share_gateway.federation.messages import PeerInquiry

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
SKEW = timedelta(seconds=60)
COMPANY = Subject(SubjectKind.LEGAL_ENTITY, "91110105MA01ABCD00")
PERSON = Subject(SubjectKind.INDIVIDUAL, "110105198001011238")
BANK = Identity(IdentityKind.INSTITUTION, "91110000MA0000001L")
CA = create_ca("test CA", NOW - timedelta(days=1))
OTHER_CA = create_ca("another CA", NOW - timedelta(days=1))


def certified(identity: Identity, ca: Issued = CA) -> Issued:
    return issue_certificate(ca, identity, NOW - timedelta(days=1))


COMPANY_CERT = certified(Identity(IdentityKind.INSTITUTION, COMPANY.identifier))
PERSON_CERT = certified(Identity(IdentityKind.PERSON, PERSON.identifier))
BANK_CERT = certified(BANK)


def statement(subject: Subject = COMPANY, attested: bool = False, **changes: object) -> ConsentStatement:
    values: dict[str, object] = {
        "subject": subject,
        "requester": BANK.uri,
        "purposes": ("loan_underwriting",),
        "not_before": NOW - timedelta(days=1),
        "not_after": NOW + timedelta(days=30),
        "evidence_sha256": hashlib.sha256(b"form").hexdigest(),
        "attested": attested,
    } | changes
    return ConsentStatement(**values)  # type: ignore[arg-type]


def signed(about: ConsentStatement, by: Issued) -> SignedConsent:
    return sign_consent(about, by.key_pem, by.cert_pem)


def test_format_1_is_canonical_json_and_parses_back_exactly() -> None:
    about = statement()
    data = about.to_bytes()
    assert data == (
        b'{"attested":false,"evidence_sha256":"' + hashlib.sha256(b"form").hexdigest().encode() + b'",'
        b'"not_after":"2026-12-31T10:00:00.000000Z","not_before":"2026-11-30T10:00:00.000000Z",'
        b'"purposes":["loan_underwriting"],"requester":"sgw://institution/91110000MA0000001L",'
        b'"subject":{"id":"91110105MA01ABCD00","kind":"legal_entity"},"v":1}'
    )
    assert ConsentStatement.from_bytes(data) == about
    assert consent_id(data) == hashlib.sha256(data).hexdigest()[:32]
    with pytest.raises(ValueError, match="canonical"):
        ConsentStatement.from_bytes(data.replace(b'{"attested"', b'{ "attested"'))
    with pytest.raises(ValueError, match="end after"):
        ConsentStatement.from_bytes(statement(not_after=NOW - timedelta(days=2)).to_bytes())


def test_a_withdrawal_round_trips() -> None:
    withdrawal = ConsentRevocation("ab" * 16, PERSON, NOW, "110000")
    assert ConsentRevocation.from_bytes(withdrawal.to_bytes()) == withdrawal


@pytest.mark.parametrize(
    ("subject", "signer", "attested"),
    [(COMPANY, COMPANY_CERT, False), (PERSON, PERSON_CERT, False), (COMPANY, BANK_CERT, True)],
    ids=["company signs", "person signs", "bank attests"],
)
def test_the_subject_or_an_attesting_requester_may_sign(subject: Subject, signer: Issued, attested: bool) -> None:
    consent = verify_consent(signed(statement(subject, attested), signer), (CA.cert_pem,), NOW, SKEW)
    assert consent.statement == statement(subject, attested)
    assert consent.signer == (BANK.uri if attested else consent.signer)


@pytest.mark.parametrize(
    "case",
    [
        "the bank signs as if it were the subject",
        "the subject's statement altered",
        "another CA",
        "a revoked certificate",
        "an expired certificate",
        "another subject's key",
    ],
)
def test_a_forged_consent_is_refused(case: str) -> None:
    revoked: frozenset[str] = frozenset()
    now = NOW
    if case == "the bank signs as if it were the subject":
        consent = signed(statement(), BANK_CERT)
    elif case == "the subject's statement altered":
        genuine = signed(statement(), COMPANY_CERT)
        consent = SignedConsent(genuine.statement.replace(b"loan_", b"Loan_"), genuine.signature, genuine.certificate)
    elif case == "another CA":
        consent = signed(statement(), certified(Identity(IdentityKind.INSTITUTION, COMPANY.identifier), OTHER_CA))
    elif case == "a revoked certificate":
        consent = signed(statement(), COMPANY_CERT)
        revoked = frozenset({certificate_fingerprint(COMPANY_CERT.cert_pem)})
    elif case == "an expired certificate":
        consent = signed(statement(), COMPANY_CERT)
        now = NOW + timedelta(days=900)
    else:
        consent = signed(statement(), PERSON_CERT)
    with pytest.raises(ConsentForged):
        verify_consent(consent, (CA.cert_pem,), now, SKEW, revoked)


@pytest.mark.parametrize(
    ("changes", "asked", "reason"),
    [
        ({"not_after": NOW - timedelta(minutes=2)}, {}, Denial.CONSENT_EXPIRED),
        ({"not_before": NOW + timedelta(minutes=2)}, {}, Denial.CONSENT_NOT_YET_VALID),
        ({"requester": "sgw://institution/91310000MA00000025"}, {}, Denial.CONSENT_OTHER_REQUESTER),
        ({"purposes": ("utility_connection",)}, {}, Denial.CONSENT_OTHER_PURPOSE),
        ({}, {"subject": PERSON}, Denial.CONSENT_OTHER_SUBJECT),
    ],
)
def test_each_way_a_consent_does_not_cover_an_inquiry_has_its_reason(
    changes: dict[str, object], asked: dict[str, object], reason: Denial
) -> None:
    about = statement(COMPANY, False, **changes)
    subject = asked.get("subject", COMPANY)
    assert isinstance(subject, Subject)
    refusal = about.refusal(BANK.uri, "loan_underwriting", subject, NOW, SKEW)
    assert refusal is not None
    assert refusal[0] is reason


def test_the_clock_skew_applies_to_the_other_partys_times() -> None:
    about = statement(not_before=NOW + timedelta(seconds=30), not_after=NOW - timedelta(seconds=1) + SKEW * 2)
    assert about.refusal(BANK.uri, "loan_underwriting", COMPANY, NOW, SKEW) is None


def test_a_peer_inquiry_without_consent_keeps_format_1_and_one_with_it_is_format_2() -> None:
    values: dict[str, object] = {
        "origin": "110000",
        "requester_uri": BANK.uri,
        "requester_kind": "bank",
        "granted": True,
        "subject": COMPANY,
        "purpose": "loan_underwriting",
        "consent_reference": "",
        "record_types": (),
        "catalog_digest": "00" * 32,
        "nonce": "ab" * 16,
        "at": NOW,
    }
    old = PeerInquiry(**values)  # type: ignore[arg-type]
    assert b'"v":1' in old.to_bytes()
    assert PeerInquiry.from_bytes(old.to_bytes()) == old
    carried = PeerInquiry(**values, consent=signed(statement(), COMPANY_CERT))  # type: ignore[arg-type]
    assert b'"v":2' in carried.to_bytes()
    assert PeerInquiry.from_bytes(carried.to_bytes()) == carried
