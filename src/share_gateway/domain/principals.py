"""Who is calling: identities carried in certificate URI SANs.

``sgw://node/<region>`` for nodes, ``sgw://institution/<USCC>`` for
institutions and agencies, ``sgw://person/<resident ID>`` for data subjects.
Identity always comes from a verified certificate, never from request
metadata; this module only reads the URI the certificate carries.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from share_gateway.domain.errors import InvalidInput
from share_gateway.domain.identifiers import validate_region, validate_resident_id, validate_uscc

SCHEME = "sgw://"


class IdentityKind(StrEnum):
    NODE = "node"
    INSTITUTION = "institution"
    PERSON = "person"


@dataclass(frozen=True, slots=True)
class Identity:
    kind: IdentityKind
    identifier: str

    @property
    def uri(self) -> str:
        return f"{SCHEME}{self.kind.value}/{self.identifier}"

    @classmethod
    def from_uri(cls, uri: str) -> Identity:
        if not uri.startswith(SCHEME) or uri.count("/") != 3:
            raise InvalidInput.one("certificate", f"{uri!r} is not an sgw:// identity")
        kind_text, identifier = uri[len(SCHEME) :].split("/")
        try:
            kind = IdentityKind(kind_text)
        except ValueError as error:
            raise InvalidInput.one("certificate", f"unknown identity kind {kind_text!r}") from error
        check = {
            IdentityKind.NODE: validate_region,
            IdentityKind.INSTITUTION: validate_uscc,
            IdentityKind.PERSON: validate_resident_id,
        }[kind]
        return cls(kind, check(identifier, "certificate"))

    def __str__(self) -> str:
        return self.uri
