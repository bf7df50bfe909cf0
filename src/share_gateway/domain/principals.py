"""Who is calling: identities and roles carried in certificate URI SANs.

``sgw://node/<region>`` for nodes, ``sgw://institution/<USCC>`` for
institutions and agencies, ``sgw://person/<resident ID>`` for data subjects;
``sgw://role/<role>`` for roles such as ``compliance_officer`` and ``administrator``. Identity
always comes from a verified certificate, never from request metadata; this
module only reads the URIs the certificate carries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from share_gateway.domain.errors import InvalidInput
from share_gateway.domain.identifiers import validate_region, validate_resident_id, validate_uscc

SCHEME = "sgw://"
ROLE_PREFIX = f"{SCHEME}role/"


class Role(StrEnum):
    COMPLIANCE_OFFICER = "compliance_officer"
    # Registers institutions and adds, changes and revokes their grants (AdminService), each act logged.
    ADMINISTRATOR = "administrator"


def node_host_name(region: str) -> str:
    """The DNS name a node's certificate carries for peers to check, whatever address it is reached at.

    Under ``.invalid`` (RFC 6761): it never resolves, it only names the node in its certificate.
    """
    return f"{region}.node.share-gateway.invalid"


def role_uri(role: Role) -> str:
    return f"{ROLE_PREFIX}{role.value}"


def roles_of(uris: Iterable[str]) -> frozenset[Role]:
    """The known roles among a certificate's URIs (unknown ones grant nothing)."""
    known = {role_uri(role): role for role in Role}
    return frozenset(known[uri] for uri in uris if uri in known)


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
    def from_uri(cls, uri: str, field: str = "certificate", today: date | None = None) -> Identity:
        """Parse and check an identity URI; violations name ``field``; a person born after ``today`` is refused."""
        if not uri.startswith(SCHEME) or uri.count("/") != 3:
            raise InvalidInput.one(field, f"{uri!r} is not an sgw:// identity")
        kind_text, identifier = uri[len(SCHEME) :].split("/")
        try:
            kind = IdentityKind(kind_text)
        except ValueError as error:
            raise InvalidInput.one(field, f"unknown identity kind {kind_text!r}") from error
        if kind is IdentityKind.PERSON:
            return cls(kind, validate_resident_id(identifier, field, today))
        check = validate_region if kind is IdentityKind.NODE else validate_uscc
        return cls(kind, check(identifier, field))

    def __str__(self) -> str:
        return self.uri
