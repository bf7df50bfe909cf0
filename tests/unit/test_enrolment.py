"""Enrolment by certificate signing request: what a request may ask for, and the certificate issued for it.

Identifier checks follow GB 32100-2015 (USCC) and GB 11643-1999 (resident ID), as DOMAIN.md "Identifiers"
gives them; the PKCS #10 request format and its self-signature are (unverified) against a written source here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from share_gateway.crypto.pki import (
    Issued,
    certificate_fingerprint,
    certificate_serial,
    check_request,
    create_ca,
    create_request,
    identity_uris,
    issue_certificate,
    issue_for_request,
)
from share_gateway.devkit import Layout, enrol, init_authority, issued_certificates
from share_gateway.domain.enrolment import Enrolment, asked
from share_gateway.domain.errors import InvalidInput
from share_gateway.domain.principals import Identity, IdentityKind, Role
from share_gateway.federation.issuance_register import IssuanceRegisterInvalid, IssuedCertificate
from share_gateway.federation.revocation_list import RevokedCertificate
from tests.support import COMPANY, OFFICER, OTHER_COMPANY

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
INSTITUTION = Identity(IdentityKind.INSTITUTION, COMPANY)
PERSON = Identity(IdentityKind.PERSON, OFFICER)
OFFICER_ROLE = "sgw://role/compliance_officer"


@pytest.fixture(scope="module")
def ca() -> Issued:
    return create_ca("share-gateway test CA", NOW)


def _csr(uris: Sequence[str], key: ec.EllipticCurvePrivateKey | None = None, dns: Sequence[str] = ()) -> bytes:
    """A request as anyone may make one: any names, signed with any key (``pki request`` makes only valid ones)."""
    names: list[x509.GeneralName] = [x509.UniformResourceIdentifier(uri) for uri in uris]
    names += [x509.DNSName(name) for name in dns]
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "requester")])
    )
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    csr = builder.sign(key or ec.generate_private_key(ec.SECP256R1()), hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM)


def _refused(field: str, csr_pem: bytes, roles: Sequence[Role] = (), ca: Issued | None = None) -> str:
    def check_and_issue() -> None:
        issue_for_request(ca or create_ca("unused", NOW), check_request(csr_pem, NOW.date()), roles, NOW)

    with pytest.raises(InvalidInput) as refused:
        check_and_issue()
    [violation] = refused.value.violations
    assert violation.field == field, violation
    return violation.description


def test_a_valid_institution_is_issued_a_client_certificate_like_the_development_ones(ca: Issued) -> None:
    """An institution asks for its USCC identity (GB 32100-2015); the certificate carries it, the request's own key,
    and the very extensions of a development client certificate, so a node accepts it."""
    requested = create_request(Enrolment(INSTITUTION))
    cert_pem = issue_for_request(ca, check_request(requested.csr_pem, NOW.date()), (), NOW)
    certificate = x509.load_pem_x509_certificate(cert_pem)
    certificate.verify_directly_issued_by(ca.certificate)
    assert identity_uris(cert_pem) == [INSTITUTION.uri]
    key = serialization.load_pem_private_key(requested.key_pem, password=None)
    assert certificate.public_key() == key.public_key()
    development = issue_certificate(ca, INSTITUTION, NOW).certificate
    assert [(e.oid, e.critical, e.value) for e in certificate.extensions] == [
        (e.oid, e.critical, e.value) for e in development.extensions
    ]
    assert certificate.subject == development.subject
    assert certificate.not_valid_after_utc - certificate.not_valid_before_utc == timedelta(days=825, minutes=5)


def test_a_valid_person_is_issued_the_role_the_authority_grants(ca: Issued) -> None:
    """A person asks for a resident ID identity (GB 11643-1999) and the officer role; the authority grants it."""
    requested = create_request(Enrolment(PERSON, frozenset({Role.COMPLIANCE_OFFICER})))
    cert_pem = issue_for_request(ca, check_request(requested.csr_pem), [Role.COMPLIANCE_OFFICER], NOW, days=30)
    assert identity_uris(cert_pem) == [PERSON.uri, OFFICER_ROLE]
    certificate = x509.load_pem_x509_certificate(cert_pem)
    assert certificate.not_valid_after_utc == NOW + timedelta(days=30)


def test_a_uscc_with_a_letter_department_is_enrolled() -> None:
    """GB 32100-2015 gives registering departments letter codes: N2330102MA20000018 is valid (DOMAIN.md)."""
    checked = check_request(_csr(["sgw://institution/N2330102MA20000018"]))
    assert checked.asked.identity == Identity(IdentityKind.INSTITUTION, "N2330102MA20000018")


@pytest.mark.parametrize(
    "uri",
    [f"sgw://institution/{COMPANY[:-1]}1", f"sgw://person/{OFFICER[:-1]}1"],
    ids=["uscc-check-character", "resident-id-check-digit"],
)
def test_an_identifier_with_a_wrong_check_digit_is_refused(uri: str) -> None:
    """GB 32100-2015 check character, GB 11643-1999 ISO 7064 MOD 11-2 check digit (DOMAIN.md "Identifiers")."""
    assert "check" in _refused("csr.identity", _csr([uri]))


def test_a_person_born_after_today_is_refused() -> None:
    """GB 11643-1999: positions 7-14 are the birth date; one after the day of issue names nobody yet."""
    with pytest.raises(InvalidInput, match="after today"):
        check_request(_csr(["sgw://person/110105202701010016"]), date(2026, 12, 1))


def test_a_request_for_two_identities_is_refused() -> None:
    """One certificate, one identity: a node would refuse a certificate carrying two (unverified)."""
    two = [INSTITUTION.uri, f"sgw://institution/{OTHER_COMPANY}"]
    assert "exactly one" in _refused("csr.identity", _csr(two))


def test_a_request_for_no_identity_is_refused() -> None:
    """A request must name the identity it asks for (unverified)."""
    assert "exactly one" in _refused("csr.identity", _csr([]))
    assert "exactly one" in _refused("csr.identity", _csr([OFFICER_ROLE]))


def test_a_node_identity_is_not_enrolled_by_request() -> None:
    """Node certificates come with the node's configuration and are pinned in the manifest (unverified)."""
    assert "node identity" in _refused("csr.identity", _csr(["sgw://node/110000"]))
    with pytest.raises(InvalidInput, match="node identity"):
        asked(["sgw://node/110000"])


def test_names_other_than_sgw_uris_are_refused() -> None:
    """A client certificate carries no DNS name, address or foreign URI (unverified)."""
    assert "localhost" in _refused("csr.identity", _csr([INSTITUTION.uri], dns=["localhost"]))
    assert "https://" in _refused("csr.identity", _csr([INSTITUTION.uri, "https://bank.example"]))


def test_a_role_not_granted_is_refused(ca: Issued) -> None:
    """The request alone never confers a role: the authority grants it by its own flag (unverified)."""
    asking = _csr([PERSON.uri, OFFICER_ROLE])
    assert "does not grant" in _refused("csr.roles", asking, ca=ca)
    assert "does not ask for" in _refused("csr.roles", _csr([PERSON.uri]), [Role.COMPLIANCE_OFFICER], ca=ca)
    assert "unknown role" in _refused("csr.roles", _csr([PERSON.uri, "sgw://role/superuser"]))
    assert "does not grant" in _refused("csr.roles", _csr([PERSON.uri, "sgw://role/administrator"]), ca=ca)


def test_a_tampered_request_signature_is_refused() -> None:
    """A request altered after signing (here: to ask for another, valid, institution) does not verify (unverified)."""
    original = x509.load_pem_x509_csr(_csr([f"sgw://institution/{COMPANY}"]))
    der = original.public_bytes(serialization.Encoding.DER)
    tampered_der = der.replace(COMPANY.encode(), OTHER_COMPANY.encode())
    assert tampered_der != der
    tampered = x509.load_der_x509_csr(tampered_der).public_bytes(serialization.Encoding.PEM)
    assert "does not verify" in _refused("csr.signature", tampered)


def test_a_key_other_than_p256_is_refused() -> None:
    """The nodes' TLS (grpcio) takes ECDSA P-256 certificates, as the development PKI makes them (unverified)."""
    assert "P-256" in _refused("csr.key", _csr([INSTITUTION.uri], key=ec.generate_private_key(ec.SECP384R1())))


def test_what_is_not_a_request_is_refused() -> None:
    assert "not a PEM" in _refused(
        "csr", b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"
    )


@pytest.mark.parametrize("days", [0, 826, -1])
def test_a_validity_outside_one_to_825_days_is_refused(ca: Issued, days: int) -> None:
    with pytest.raises(InvalidInput, match="825"):
        issue_for_request(ca, check_request(_csr([INSTITUTION.uri])), (), NOW, days)


def test_a_certificate_never_outlives_its_ca() -> None:
    short = create_ca("short-lived CA", NOW, days=10)
    with pytest.raises(InvalidInput, match="CA expires"):
        issue_for_request(short, check_request(_csr([INSTITUTION.uri])), (), NOW, 11)


def test_the_register_records_each_issue_in_order_and_the_revocation_list_takes_its_fingerprint(
    tmp_path: Path,
) -> None:
    """Each issue appends one line (earlier ones unchanged) naming the certificate by the fingerprint and serial a
    revocation list takes; a refused request writes nothing."""
    layout = Layout(tmp_path / "federation")
    init_authority(layout, NOW)
    with pytest.raises(InvalidInput):
        enrol(layout, _csr(["sgw://node/110000"]), (), NOW)
    assert not layout.issuance_register.exists()
    first_pem, first = enrol(layout, _csr([INSTITUTION.uri]), (), NOW)
    first_line = layout.issuance_register.read_bytes()
    second_pem, _ = enrol(layout, _csr([PERSON.uri, OFFICER_ROLE]), [Role.COMPLIANCE_OFFICER], NOW + timedelta(1))
    assert layout.issuance_register.read_bytes().startswith(first_line)
    recorded = issued_certificates(layout)
    assert [entry.identity for entry in recorded] == [INSTITUTION.uri, PERSON.uri]
    assert recorded[0] == first
    assert recorded[1].roles == ("compliance_officer",)
    assert recorded[1].issued_at == NOW + timedelta(1)
    for entry, pem in zip(recorded, (first_pem, second_pem), strict=True):
        assert entry.fingerprint == certificate_fingerprint(pem)
        assert entry.serial == certificate_serial(pem)
        RevokedCertificate(entry.fingerprint, entry.serial, "superseded", NOW)  # the list accepts what is recorded
    line = json.loads(first_line)
    assert line["v"] == 1
    assert set(line) == {"v", "fingerprint", "serial", "identity", "roles", "not_before", "not_after", "issued_at"}


def test_a_register_line_of_another_format_is_refused() -> None:
    line = IssuedCertificate("ab" * 32, "1f", INSTITUTION.uri, (), NOW, NOW, NOW).line()
    assert IssuedCertificate.parse(line).fingerprint == "ab" * 32
    with pytest.raises(IssuanceRegisterInvalid, match="format"):
        IssuedCertificate.parse(line.replace(b'"v":1', b'"v":2'))
    with pytest.raises(IssuanceRegisterInvalid):
        IssuedCertificate.parse(line.replace(b'"serial":"1f",', b""))
