"""Consent statements signed with a certificate's key: DSSE over ECDSA P-256, the certificate chained to the CA.

Subjects and requesters hold TLS client certificates from the federation CA (ECDSA P-256, because grpcio
refuses Ed25519 TLS certificates), so a consent is signed with that key rather than an Ed25519 key the
federation would have to distribute: the signer's certificate travels with the statement, and a verifier
checks it against the CA it already trusts. The signature covers the DSSE pre-authentication encoding of
``CONSENT_TYPE`` and the statement bytes, like every other envelope of this project.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from share_gateway.crypto.envelope import pae
from share_gateway.crypto.errors import VerificationError
from share_gateway.crypto.pki import certificate_fingerprint, identity_uris
from share_gateway.domain.consent import CONSENT_TYPE, Consent, ConsentStatement, consent_id
from share_gateway.domain.errors import InvalidInput
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.domain.principals import Identity, IdentityKind

MAX_STATEMENT = 4096
MAX_CERTIFICATE = 8192


class ConsentForged(VerificationError):
    """The consent's signature, certificate or chain does not hold, or its signer may not sign it."""


@dataclass(frozen=True, slots=True)
class SignedConsent:
    """The statement as signed, the ECDSA (DER) signature over its DSSE encoding, and the signer's PEM certificate."""

    statement: bytes
    signature: bytes
    certificate: bytes

    @property
    def consent_id(self) -> str:
        return consent_id(self.statement)


def subject_identity(subject: Subject) -> Identity:
    """The certificate identity a subject signs with: a person its resident ID, a company its USCC."""
    kind = IdentityKind.PERSON if subject.kind is SubjectKind.INDIVIDUAL else IdentityKind.INSTITUTION
    return Identity(kind, subject.identifier)


def sign_consent(statement: ConsentStatement, key_pem: bytes, cert_pem: bytes) -> SignedConsent:
    """Sign ``statement`` with the private key of ``cert_pem`` (the subject's, or the requester's if attested)."""
    key = serialization.load_pem_private_key(key_pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TypeError("a consent is signed with an ECDSA certificate key")
    payload = statement.to_bytes()
    return SignedConsent(payload, key.sign(pae(CONSENT_TYPE, payload), ec.ECDSA(hashes.SHA256())), cert_pem)


@dataclass(frozen=True, slots=True)
class ConsentSigner:
    """A certificate that chains to the CA and names one identity: what may be remembered per certificate,
    because a requester attests every consent it keeps with the same one."""

    identity: str
    public_key: ec.EllipticCurvePublicKey
    fingerprint: str
    valid_from: datetime
    valid_until: datetime


@dataclass(frozen=True, slots=True)
class CertifiedConsent:
    """A consent whose signature and chain held, with what must still be checked at each use: the signer's
    certificate (by fingerprint, against the revocation list) and its validity period."""

    consent: Consent
    signer: ConsentSigner

    def check(self, now: datetime, skew: timedelta, revoked_certificates: frozenset[str]) -> Consent:
        if not (self.signer.valid_from - skew <= now <= self.signer.valid_until + skew):
            raise ConsentForged("the consent's certificate is not valid now")
        if self.signer.fingerprint in revoked_certificates:
            raise ConsentForged("the consent's certificate is revoked by the authority")
        return self.consent


def verify_consent(
    signed: SignedConsent,
    ca_pems: tuple[bytes, ...],
    now: datetime,
    skew: timedelta,
    revoked_certificates: frozenset[str] = frozenset(),
) -> Consent:
    """The verified consent, or ``ConsentForged`` (a statement that does not parse is forged too).

    Checks the certificate chains to one of ``ca_pems``, is valid at ``now`` (with ``skew``), is not on the
    authority's revocation list, carries one sgw:// identity, and that identity may sign this statement:
    the subject itself, or the requester named in an attested statement.
    """
    return certify_consent(signed, certify_signer(signed.certificate, ca_pems)).check(now, skew, revoked_certificates)


def certify_signer(cert_pem: bytes, ca_pems: tuple[bytes, ...]) -> ConsentSigner:
    """What a certificate says whatever it signed: it chains to one of ``ca_pems``, holds an ECDSA key and
    names one sgw:// identity."""
    if len(cert_pem) > MAX_CERTIFICATE:
        raise ConsentForged("the consent's certificate is too large")
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
    except ValueError as error:
        raise ConsentForged("the consent's certificate does not parse") from error
    if not any(_issued_by(cert, ca) for ca in ca_pems):
        raise ConsentForged("the consent's certificate is not issued by the federation CA")
    public = cert.public_key()
    if not isinstance(public, ec.EllipticCurvePublicKey):
        raise ConsentForged("the consent's certificate holds no ECDSA key")
    return ConsentSigner(
        _one_identity(cert_pem),
        public,
        certificate_fingerprint(cert_pem),
        cert.not_valid_before_utc,
        cert.not_valid_after_utc,
    )


def certify_consent(signed: SignedConsent, signer: ConsentSigner) -> CertifiedConsent:
    """What does not change with time, given the certificate's ``signer`` (``certify_signer`` of
    ``signed.certificate``): the signature, the statement and whether that signer may sign it."""
    if len(signed.statement) > MAX_STATEMENT:
        raise ConsentForged("the consent is too large")
    try:
        signer.public_key.verify(signed.signature, pae(CONSENT_TYPE, signed.statement), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as error:
        raise ConsentForged("the consent's signature does not verify") from error
    try:
        statement = ConsentStatement.from_bytes(signed.statement)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ConsentForged(f"the consent statement does not parse: {error}") from error
    expected = statement.requester if statement.attested else subject_identity(statement.subject).uri
    if signer.identity != expected:
        raise ConsentForged(f"{signer.identity} may not sign this consent: only {expected} may")
    return CertifiedConsent(Consent(signed.consent_id, statement, signer.identity), signer)


def _issued_by(cert: x509.Certificate, ca_pem: bytes) -> bool:
    """Whether one of the CA certificates in ``ca_pem`` (a PEM bundle) issued ``cert``."""
    for ca in x509.load_pem_x509_certificates(ca_pem):
        try:
            cert.verify_directly_issued_by(ca)
        except (ValueError, TypeError, InvalidSignature):
            continue
        return True
    return False


def _one_identity(cert_pem: bytes) -> str:
    identities = []
    for uri in identity_uris(cert_pem):
        try:
            identities.append(Identity.from_uri(uri).uri)
        except InvalidInput:
            continue
    if len(identities) != 1:
        raise ConsentForged("the consent's certificate carries no single sgw:// identity")
    return identities[0]
