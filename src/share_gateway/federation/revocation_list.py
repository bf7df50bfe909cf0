"""The certificate revocation list: which certificates of the federation CA no longer identify anyone.

The federation authority signs it beside the manifest, as a C2SP signed note
whose text is canonical JSON: a format number ``v``, the list's ``version``
(versions only move forward, as the manifest's do: a node refuses a lower
one, and another document under the version it holds), when it was issued,
and each revoked certificate with the SHA-256 fingerprint of its DER (what
``crypto.pki.certificate_fingerprint`` gives and the manifest pins), its
serial, the reason and when it was revoked. grpcio offers no CRL hook in
the TLS handshake, so a node checks the fingerprint where it reads a
caller's identity.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from share_gateway.crypto.keys import KeyRing, SigningKey
from share_gateway.crypto.note import open_note, sign_note
from share_gateway.domain.canonical import canonical_json, parse_json
from share_gateway.domain.errors import DomainError
from share_gateway.domain.events import format_instant, parse_instant

REVOCATION_LIST_FORMAT = 1
MAX_REASON = 500
_FINGERPRINT = re.compile(r"[0-9a-f]{64}")
# A serial as lowercase hex without leading zeros (RFC 5280: at most 20 octets); empty when not known.
_SERIAL = re.compile(r"|[1-9a-f][0-9a-f]{0,39}")


class RevocationListInvalid(DomainError):
    """The list does not parse, or breaks a rule of its format."""


@dataclass(frozen=True, slots=True)
class RevokedCertificate:
    # SHA-256 of the certificate (DER), lowercase hex: what a node compares with the caller's certificate.
    fingerprint: str
    # The certificate's serial number, lowercase hex, for people reading the list ("" if only the fingerprint
    # was known).
    serial: str
    reason: str
    revoked_at: datetime

    def __post_init__(self) -> None:
        if not _FINGERPRINT.fullmatch(self.fingerprint):
            raise RevocationListInvalid(f"{self.fingerprint!r} is not a lowercase hex SHA-256 fingerprint")
        if not _SERIAL.fullmatch(self.serial):
            raise RevocationListInvalid(f"serial {self.serial!r} is not lowercase hex of at most 20 octets")
        if not self.reason.strip() or len(self.reason) > MAX_REASON:
            raise RevocationListInvalid(f"a revocation states its reason in 1 to {MAX_REASON} characters")
        if self.revoked_at.tzinfo is None:
            raise RevocationListInvalid("a certificate is revoked at an instant with a time zone")

    def to_json(self) -> dict[str, str]:
        return {
            "fingerprint": self.fingerprint,
            "serial": self.serial,
            "reason": self.reason,
            "revoked_at": format_instant(self.revoked_at),
        }


@dataclass(frozen=True)
class RevocationList:
    version: int
    issued: datetime
    revoked: tuple[RevokedCertificate, ...] = ()
    fingerprints: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.version < 1:
            raise RevocationListInvalid("a revocation list's version is at least 1")
        if self.issued.tzinfo is None:
            raise RevocationListInvalid("a revocation list is issued at an instant with a time zone")
        fingerprints = frozenset(entry.fingerprint for entry in self.revoked)
        if len(fingerprints) != len(self.revoked):
            raise RevocationListInvalid("a certificate is listed twice")
        object.__setattr__(self, "revoked", tuple(sorted(self.revoked, key=lambda entry: entry.fingerprint)))
        # The set a node looks a caller's fingerprint up in, on every call.
        object.__setattr__(self, "fingerprints", fingerprints)

    def text(self) -> str:
        return (
            canonical_json(
                {
                    "v": REVOCATION_LIST_FORMAT,
                    "version": self.version,
                    "issued": format_instant(self.issued),
                    "revoked": [entry.to_json() for entry in self.revoked],
                }
            ).decode()
            + "\n"
        )

    def revoking(self, entries: Iterable[RevokedCertificate], issued: datetime) -> RevocationList:
        """The next version, with ``entries`` revoked too (a certificate already listed stays as first listed)."""
        added = {entry.fingerprint: entry for entry in entries if entry.fingerprint not in self.fingerprints}
        return RevocationList(self.version + 1, issued, (*self.revoked, *added.values()))

    @classmethod
    def parse(cls, text: str) -> RevocationList:
        """A list from its canonical text; any other spelling of the same content is refused."""
        try:
            raw: dict[str, Any] = parse_json(text.encode())
            if raw["v"] != REVOCATION_LIST_FORMAT:
                raise RevocationListInvalid(f"unknown revocation list format {raw['v']!r}")
            if set(raw) != {"v", "version", "issued", "revoked"}:
                raise RevocationListInvalid(f"a revocation list has exactly v, version, issued, revoked: {sorted(raw)}")
            version, revoked = raw["version"], raw["revoked"]
            if type(version) is not int or not isinstance(revoked, list):
                raise RevocationListInvalid("the version is an integer and the revoked certificates a list")
            parsed = cls(version, parse_instant(raw["issued"]), tuple(_entry(body) for body in revoked))
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise RevocationListInvalid(f"malformed revocation list: {error}") from error
        if parsed.text() != text:
            raise RevocationListInvalid("the revocation list is not in canonical form")
        return parsed


def _entry(body: dict[str, Any]) -> RevokedCertificate:
    if set(body) != {"fingerprint", "serial", "reason", "revoked_at"}:
        raise RevocationListInvalid(f"a revoked certificate has exactly its four fields, not {sorted(body)}")
    if not all(isinstance(value, str) for value in body.values()):
        raise RevocationListInvalid("a revoked certificate's fields are strings")
    return RevokedCertificate(body["fingerprint"], body["serial"], body["reason"], parse_instant(body["revoked_at"]))


@dataclass(frozen=True)
class SignedRevocationList:
    revocation_list: RevocationList
    document: bytes
    # SHA-256 of the signed text: two documents of one version are the same list only if these match.
    digest: str


def sign_revocation_list(revocation_list: RevocationList, authority: SigningKey) -> bytes:
    return sign_note(revocation_list.text(), authority).encode()


def open_revocation_list(document: bytes, authority: KeyRing) -> SignedRevocationList:
    """Verify the authority's signature, then parse; raise on either failure."""
    text, _ = open_note(document, authority)
    return SignedRevocationList(RevocationList.parse(text), document, hashlib.sha256(text.encode()).hexdigest())
