"""Development PKI: a federation CA, node and client certificates, signing keys, and enrolment by request.

TLS certificates use ECDSA P-256 because grpcio refuses Ed25519 TLS
certificates; Ed25519 stays for payload signatures. Every certificate carries
its holder's identity as a URI SAN (``sgw://...``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from share_gateway.domain.enrolment import Enrolment, asked, granted
from share_gateway.domain.errors import InvalidInput
from share_gateway.domain.principals import Identity, Role, role_uri

# How long a leaf certificate lasts unless asked otherwise, and at most when issued for a request.
LEAF_DAYS = 825


@dataclass(frozen=True)
class Issued:
    """A private key and its certificate, PEM encoded."""

    key_pem: bytes
    cert_pem: bytes

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_pem)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "share-gateway"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def create_ca(common_name: str, now: datetime, days: int = 3650) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Issued(_key_pem(key), cert.public_bytes(serialization.Encoding.PEM))


def _ca_key(ca: Issued) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(ca.key_pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def _leaf(
    ca: Issued,
    public_key: ec.EllipticCurvePublicKey,
    uris: Sequence[str],
    now: datetime,
    days: int,
    *,
    server: bool = False,
    dns_names: Sequence[str] = (),
    ip_addresses: Sequence[str] = (),
) -> bytes:
    """The one way a leaf is made, so that an enrolled certificate has the extensions a node accepts."""
    ca_key = _ca_key(ca)
    names: list[x509.GeneralName] = [x509.UniformResourceIdentifier(uri) for uri in uris]
    names += [x509.DNSName(n) for n in dns_names]
    names += [x509.IPAddress(ipaddress.ip_address(a)) for a in ip_addresses]
    usages = [ExtendedKeyUsageOID.CLIENT_AUTH] + ([ExtendedKeyUsageOID.SERVER_AUTH] if server else [])
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(uris[0]))
        .issuer_name(ca.certificate.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def issue_certificate(
    ca: Issued,
    identity: Identity,
    now: datetime,
    *,
    server: bool = False,
    dns_names: Sequence[str] = (),
    ip_addresses: Sequence[str] = (),
    roles: Sequence[Role] = (),
    days: int = LEAF_DAYS,
) -> Issued:
    """A leaf certificate for ``identity`` (and its roles); servers also get DNS/IP names for hostname checks."""
    key = ec.generate_private_key(ec.SECP256R1())
    uris = [identity.uri, *(role_uri(role) for role in roles)]
    cert_pem = _leaf(
        ca, key.public_key(), uris, now, days, server=server, dns_names=dns_names, ip_addresses=ip_addresses
    )
    return Issued(_key_pem(key), cert_pem)


def identity_uris(cert_pem: bytes) -> list[str]:
    """The ``sgw://`` URIs a (verified) certificate carries."""
    cert = x509.load_pem_x509_certificate(cert_pem)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [uri for uri in san.get_values_for_type(x509.UniformResourceIdentifier) if uri.startswith("sgw://")]


def certificate_fingerprint(cert_pem: bytes) -> str:
    """SHA-256 of the DER certificate, hex: how a manifest pins a node's TLS certificate."""
    return x509.load_pem_x509_certificate(cert_pem).fingerprint(hashes.SHA256()).hex()


def certificate_serial(cert_pem: bytes) -> str:
    """The certificate's serial number, lowercase hex: how a revocation list names it for people."""
    return format(x509.load_pem_x509_certificate(cert_pem).serial_number, "x")


@dataclass(frozen=True)
class Requested:
    """A requester's new private key and its certificate signing request (PKCS #10), PEM encoded."""

    key_pem: bytes
    csr_pem: bytes


def create_request(enrolment: Enrolment) -> Requested:
    """A new P-256 key and a request, signed with it, for the enrolment's identity and roles as URI SANs."""
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(_name(enrolment.identity.uri))
        .add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(uri) for uri in enrolment.uris]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    return Requested(_key_pem(key), csr.public_bytes(serialization.Encoding.PEM))


@dataclass(frozen=True)
class CheckedRequest:
    """A request whose signature verified, with what it asks for; only its key and checked names are ever used."""

    asked: Enrolment
    public_key: ec.EllipticCurvePublicKey


def check_request(csr_pem: bytes, today: date | None = None) -> CheckedRequest:
    """Check a certificate signing request, or raise ``InvalidInput`` naming what is wrong.

    1. It parses as one PEM request.
    2. Its signature verifies under the key it carries: the requester holds that key, and nothing was changed.
    3. The key is ECDSA P-256, what the node's TLS (grpcio) accepts.
    4. Its names are URIs only (a client certificate carries no DNS name or address), asking for exactly one
       institution or person whose identifier is valid, and known roles (``domain.enrolment.asked``).

    The subject and every other extension of the request are ignored: the certificate is built afresh.
    """
    # 1. One PEM request.
    try:
        csr = x509.load_pem_x509_csr(csr_pem)
    except ValueError as error:
        raise InvalidInput.one("csr", "not a PEM certificate signing request") from error
    # 2. Signed by the key it carries.
    if not csr.is_signature_valid:
        raise InvalidInput.one("csr.signature", "the request's signature does not verify: it was altered or forged")
    # 3. A P-256 key.
    public_key = csr.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(public_key.curve, ec.SECP256R1):
        raise InvalidInput.one("csr.key", "the request's key must be ECDSA P-256 (what the nodes' TLS accepts)")
    # 4. URI names only, asking for what an enrolment may ask for.
    try:
        names = list(csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    except x509.ExtensionNotFound:
        names = []
    except ValueError as error:  # a duplicated or undecodable extension
        raise InvalidInput.one("csr", f"the request's extensions do not parse: {error}") from error
    others = [name for name in names if not isinstance(name, x509.UniformResourceIdentifier)]
    if others:
        raise InvalidInput.one("csr.identity", f"a client certificate names only sgw:// URIs, not {others[0].value!r}")
    return CheckedRequest(asked([name.value for name in names], today), public_key)


def issue_for_request(
    ca: Issued, request: CheckedRequest, roles: Collection[Role], now: datetime, days: int = LEAF_DAYS
) -> bytes:
    """The client certificate for a checked request, carrying exactly the roles the authority ``roles`` grants.

    Its validity is 1 to ``LEAF_DAYS`` days and ends before the CA's: a certificate the CA outlives is never
    refused later for its issuer's expiry.
    """
    enrolment = granted(request.asked, roles)
    if not 1 <= days <= LEAF_DAYS:
        raise InvalidInput.one("days", f"a certificate is issued for 1 to {LEAF_DAYS} days, not {days}")
    if now + timedelta(days=days) > ca.certificate.not_valid_after_utc:
        raise InvalidInput.one("days", f"the CA expires before {days} days from now")
    return _leaf(ca, request.public_key, enrolment.uris, now, days)


def certificate_expiry(cert_pem: bytes) -> datetime:
    """The certificate's notAfter, as a UTC instant: when TLS with it starts to fail."""
    return x509.load_pem_x509_certificate(cert_pem).not_valid_after_utc
