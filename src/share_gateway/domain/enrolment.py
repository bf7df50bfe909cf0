"""What an enrolment may ask for: the rules the authority applies to a certificate signing request's names.

An institution (``sgw://institution/<USCC>``) or a person (``sgw://person/<resident ID>``) asks for one
identity, whose identifier must pass its check digits (GB 32100-2015, GB 11643-1999: ``identifiers``), and
perhaps for roles. Nodes are not enrolled this way: a node certificate is made with the node's configuration and
pinned in the manifest. A role is carried only where the authority grants it by its own decision; a request
naming a role proves nothing. Nor do check digits prove that the requester holds the identifier: the authority
establishes that out of band. Pure: the X.509 parsing is ``crypto.pki``'s, the files the devkit's and CLI's.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date

from share_gateway.domain.errors import InvalidInput
from share_gateway.domain.principals import ROLE_PREFIX, SCHEME, Identity, IdentityKind, Role, role_uri

# Kinds of identity a certificate signing request may ask for.
ENROLLABLE = frozenset({IdentityKind.INSTITUTION, IdentityKind.PERSON})


@dataclass(frozen=True, slots=True)
class Enrolment:
    """One identity and the roles its certificate carries."""

    identity: Identity
    roles: frozenset[Role] = frozenset()

    def __post_init__(self) -> None:
        if self.identity.kind not in ENROLLABLE:
            raise InvalidInput.one(
                "csr.identity",
                f"{self.identity.uri} is a {self.identity.kind.value} identity: only institutions and persons "
                "enrol by request (a node's certificate comes with its configuration and the manifest)",
            )

    @property
    def uris(self) -> list[str]:
        """The URI SANs a certificate (or the request for it) carries: the identity first, then roles in order."""
        return [self.identity.uri, *(role_uri(role) for role in sorted(self.roles))]


def asked(uris: Iterable[str], today: date | None = None) -> Enrolment:
    """What a request's URI names ask for, or ``InvalidInput`` naming what is wrong.

    Exactly one identity URI; its identifier valid (a person's birth date not after ``today`` when given); every
    other sgw:// URI a known role. URIs of other schemes are refused too: a client certificate names nothing else.
    """
    identities: list[str] = []
    roles: set[Role] = set()
    for uri in uris:
        if uri.startswith(ROLE_PREFIX):
            try:
                roles.add(Role(uri[len(ROLE_PREFIX) :]))
            except ValueError as error:
                known = ", ".join(role.value for role in Role)
                raise InvalidInput.one("csr.roles", f"unknown role {uri!r} (known: {known})") from error
        elif uri.startswith(SCHEME):
            identities.append(uri)
        else:
            raise InvalidInput.one("csr.identity", f"{uri!r} is not an sgw:// identity or role")
    if len(identities) != 1:
        found = ", ".join(identities) or "none"
        raise InvalidInput.one("csr.identity", f"a request asks for exactly one sgw:// identity, not {found}")
    return Enrolment(Identity.from_uri(identities[0], "csr.identity", today), frozenset(roles))


def granted(request: Enrolment, roles: Collection[Role]) -> Enrolment:
    """The enrolment the authority issues: the request's, once its roles are exactly those the authority grants.

    A role asked for and not granted is refused (the request alone never confers one); a role granted but not
    asked for is refused too, as a sign that the request and the decision are about different things.
    """
    decided = frozenset(roles)
    not_granted = request.roles - decided
    if not_granted:
        names = ", ".join(sorted(role.value for role in not_granted))
        raise InvalidInput.one("csr.roles", f"the request asks for role(s) {names} the authority does not grant")
    not_asked = decided - request.roles
    if not_asked:
        names = ", ".join(sorted(role.value for role in not_asked))
        raise InvalidInput.one("csr.roles", f"the authority grants role(s) {names} the request does not ask for")
    return request
