"""Development PKI: ECDSA P-256 CA and leaf certificates carrying sgw:// identities."""

from __future__ import annotations

import hashlib
import ipaddress
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from share_gateway.crypto.pki import Issued, certificate_fingerprint, create_ca, identity_uris, issue_certificate
from share_gateway.domain.principals import Identity, IdentityKind

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
NODE = Identity(IdentityKind.NODE, "110000")
BANK = Identity(IdentityKind.INSTITUTION, "91110000MA0000001L")


@pytest.fixture(scope="module")
def ca() -> Issued:
    return create_ca("share-gateway test CA", NOW)


@pytest.fixture(scope="module")
def server(ca: Issued) -> Issued:
    return issue_certificate(
        ca, NODE, NOW, server=True, dns_names=["localhost", "node-110000.example"], ip_addresses=["127.0.0.1", "::1"]
    )


@pytest.fixture(scope="module")
def client(ca: Issued) -> Issued:
    return issue_certificate(ca, BANK, NOW)


def _assert_p256(issued: Issued) -> None:
    cert = issued.certificate
    public = cert.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    assert isinstance(public.curve, ec.SECP256R1)
    assert isinstance(cert.signature_hash_algorithm, hashes.SHA256)
    assert cert.signature_algorithm_oid == x509.SignatureAlgorithmOID.ECDSA_WITH_SHA256
    private = serialization.load_pem_private_key(issued.key_pem, password=None)
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    assert isinstance(private.curve, ec.SECP256R1)
    assert private.public_key() == public


def test_ca_is_self_signed_p256_ca(ca: Issued) -> None:
    _assert_p256(ca)
    cert = ca.certificate
    assert cert.subject == cert.issuer
    cert.verify_directly_issued_by(cert)
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical
    assert constraints.value.ca
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign
    assert usage.crl_sign
    assert cert.not_valid_before_utc <= NOW < cert.not_valid_after_utc


@pytest.mark.parametrize("which", ["server", "client"])
def test_leaves_are_p256_and_issued_by_the_ca(ca: Issued, server: Issued, client: Issued, which: str) -> None:
    leaf = server if which == "server" else client
    _assert_p256(leaf)
    cert = leaf.certificate
    assert cert.issuer == ca.certificate.subject
    cert.verify_directly_issued_by(ca.certificate)
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert cert.not_valid_before_utc <= NOW < cert.not_valid_after_utc
    assert cert.not_valid_after_utc - cert.not_valid_before_utc > timedelta(days=800)


def test_leaf_is_not_issued_by_another_ca_of_the_same_name(client: Issued) -> None:
    other = create_ca("share-gateway test CA", NOW)
    assert other.certificate.subject == client.certificate.issuer
    with pytest.raises(InvalidSignature):
        client.certificate.verify_directly_issued_by(other.certificate)


def test_identity_uri_san_is_present(server: Issued, client: Issued) -> None:
    assert identity_uris(server.cert_pem) == ["sgw://node/110000"]
    assert identity_uris(client.cert_pem) == [BANK.uri]
    assert Identity.from_uri(identity_uris(client.cert_pem)[0]) == BANK


def test_ca_has_no_identity(ca: Issued) -> None:
    assert identity_uris(ca.cert_pem) == []


def test_server_certificate_has_server_auth_and_names(server: Issued) -> None:
    cert = server.certificate
    usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in usages
    assert ExtendedKeyUsageOID.CLIENT_AUTH in usages
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost", "node-110000.example"]
    assert san.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    ]
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == [NODE.uri]


def test_client_certificate_is_client_only(client: Issued) -> None:
    cert = client.certificate
    usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usages) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == []
    assert san.get_values_for_type(x509.IPAddress) == []


def test_certificate_fingerprint_is_stable_sha256_of_der(server: Issued, client: Issued) -> None:
    fingerprint = certificate_fingerprint(server.cert_pem)
    assert len(fingerprint) == 64
    assert all(c in "0123456789abcdef" for c in fingerprint)
    assert certificate_fingerprint(server.cert_pem) == fingerprint
    der = server.certificate.public_bytes(serialization.Encoding.DER)
    assert fingerprint == hashlib.sha256(der).hexdigest()
    assert certificate_fingerprint(client.cert_pem) != fingerprint


def test_each_issue_makes_a_new_key(ca: Issued) -> None:
    first, second = issue_certificate(ca, BANK, NOW), issue_certificate(ca, BANK, NOW)
    assert first.key_pem != second.key_pem
    assert certificate_fingerprint(first.cert_pem) != certificate_fingerprint(second.cert_pem)
    assert first.certificate.serial_number != second.certificate.serial_number
