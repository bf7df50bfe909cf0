"""The authority's issuance register: one line per certificate it issued on request, appended and never rewritten.

Each line is canonical JSON with a format number ``v``: the certificate's SHA-256 fingerprint (what
``crypto.pki.certificate_fingerprint`` gives, the revocation list names and a node compares), its serial, the
identity and roles it carries, its validity, and when it was issued. A later revocation names the certificate
by the fingerprint recorded here, without needing the certificate itself (which only its holder keeps).
This module is the format; the file is the development kit's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography import x509

from share_gateway.crypto.pki import certificate_fingerprint, certificate_serial, identity_uris
from share_gateway.domain.canonical import Json, canonical_json, parse_json
from share_gateway.domain.enrolment import asked
from share_gateway.domain.errors import DomainError
from share_gateway.domain.events import format_instant, parse_instant

ISSUANCE_REGISTER_FORMAT = 1
_FIELDS = frozenset({"v", "fingerprint", "serial", "identity", "roles", "not_before", "not_after", "issued_at"})


class IssuanceRegisterInvalid(DomainError):
    """A line of the register does not parse, or breaks a rule of its format."""


@dataclass(frozen=True, slots=True)
class IssuedCertificate:
    fingerprint: str
    serial: str
    identity: str
    roles: tuple[str, ...]
    not_before: datetime
    not_after: datetime
    issued_at: datetime

    @classmethod
    def of(cls, cert_pem: bytes, issued_at: datetime) -> IssuedCertificate:
        """The entry for a certificate just issued for a request (its names as ``domain.enrolment`` reads them)."""
        certificate = x509.load_pem_x509_certificate(cert_pem)
        enrolment = asked(identity_uris(cert_pem))
        return cls(
            certificate_fingerprint(cert_pem),
            certificate_serial(cert_pem),
            enrolment.identity.uri,
            tuple(sorted(role.value for role in enrolment.roles)),
            certificate.not_valid_before_utc,
            certificate.not_valid_after_utc,
            issued_at,
        )

    def line(self) -> bytes:
        """The entry as one line of the register."""
        body: dict[str, Json] = {
            "v": ISSUANCE_REGISTER_FORMAT,
            "fingerprint": self.fingerprint,
            "serial": self.serial,
            "identity": self.identity,
            "roles": list(self.roles),
            "not_before": format_instant(self.not_before),
            "not_after": format_instant(self.not_after),
            "issued_at": format_instant(self.issued_at),
        }
        return canonical_json(body) + b"\n"

    @classmethod
    def parse(cls, line: bytes) -> IssuedCertificate:
        try:
            raw: dict[str, Any] = parse_json(line)
            if raw["v"] != ISSUANCE_REGISTER_FORMAT:
                raise IssuanceRegisterInvalid(f"unknown issuance register format {raw['v']!r}")
            if set(raw) != _FIELDS:
                raise IssuanceRegisterInvalid(f"an issuance has exactly {sorted(_FIELDS)}, not {sorted(raw)}")
            return cls(
                str(raw["fingerprint"]),
                str(raw["serial"]),
                str(raw["identity"]),
                tuple(str(role) for role in raw["roles"]),
                parse_instant(raw["not_before"]),
                parse_instant(raw["not_after"]),
                parse_instant(raw["issued_at"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise IssuanceRegisterInvalid(f"malformed issuance register line: {error}") from error


def read_register(lines: Iterable[bytes]) -> list[IssuedCertificate]:
    """Every entry of a register, in the order issued (blank lines skipped)."""
    return [IssuedCertificate.parse(line) for line in lines if line.strip()]
