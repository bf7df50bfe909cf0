"""Certificate revocation at a running node: the authority's list in force, newer lists installed without a
restart, and the refusal of a revoked certificate, logged.

grpcio has no CRL hook in the TLS handshake, so the API layer looks the
caller's certificate fingerprint up in ``revoked`` (a set, replaced whole
when a newer list is installed) where it reads the caller's identity, on
every mTLS call. A newer list arrives from the watched file (polled by
``gateway.trust_live`` with the manifest and catalog) or from the database, where another process (the
``pki install-revocations`` command, another replica) installed it. A revoked
caller's refusals are logged as ``gateway.refusals`` logs every refusal: the
first at once, the rest counted per window, so a revoked client cannot flood
the log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import NoReturn

from share_gateway.crypto.errors import VerificationError
from share_gateway.crypto.keys import KeyRing
from share_gateway.domain.errors import DomainError, Unauthenticated
from share_gateway.domain.events import Event, EventKind
from share_gateway.domain.principals import Identity
from share_gateway.domain.trust_expiry import Artefact
from share_gateway.federation.revocation_list import SignedRevocationList, open_revocation_list
from share_gateway.gateway.refusals import Refusals
from share_gateway.gateway.runtime import NodeRuntime
from share_gateway.gateway.trust_files import WatchedFile, document_digest, installed_event, refused, say_installed
from share_gateway.store.repositories import Store
from share_gateway.store.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RevocationSettings:
    """Where revocation lists come from and how refusals are logged."""

    # The authority's keys; without them no list can be installed (a node of tests built without any).
    authority: KeyRing | None = None
    # The signed list the node watches; a newer one written there is installed within ``poll_seconds``.
    watched: Path | None = None
    # How often the node looks at every trust material file it watches (``gateway.trust_live``).
    poll_seconds: float = 5.0
    # The signed manifest and catalog the node watches, as the list (``gateway.trust_live``).
    manifest: Path | None = None
    catalog: Path | None = None
    # The rotation statements leading from the pinned authority key to ``authority``, oldest first: published so
    # that an outsider pinning the first key reaches the one in force.
    authority_rotations: tuple[bytes, ...] = ()


def install_revocation_list(
    store: Store,
    document: bytes,
    authority: KeyRing,
    now: datetime,
    logged: Callable[[SignedRevocationList], Event] | None = None,
) -> tuple[SignedRevocationList, bool]:
    """Verify a signed list and install it in ``store`` (rollback refused); whether this version is new there.

    The node, the ``pki install-revocations`` command and every replica over one database share what is installed.
    ``logged``: the event of a new installation, written in the same transaction.
    """
    signed = open_revocation_list(document, authority)

    def install(tx: UnitOfWork) -> bool:
        new = store.trust.install_revocation_list(tx, signed, now)
        if new and logged is not None:
            store.events.append(tx, [logged(signed)])
        return new

    return signed, store.write(install)


@dataclass
class CertificateGuard:
    runtime: NodeRuntime
    refusals: Refusals
    settings: RevocationSettings = field(default_factory=RevocationSettings)

    def __post_init__(self) -> None:
        # The fingerprints (SHA-256 of the DER, hex) no call may present: the hot path's one lookup.
        self.revoked: frozenset[str] = frozenset()
        self.in_force: SignedRevocationList | None = None
        self._watched = WatchedFile(Artefact.REVOCATION_LIST, self.settings.watched)

    @property
    def watching(self) -> bool:
        return self.settings.authority is not None

    # --- installing -------------------------------------------------------------------

    def install(self, document: bytes, source: str | None = None) -> bool:
        """Verify a signed list and install it if newer (from a store thread); True if it is new here.

        With a ``source`` (where the list came from), a new installation is a ``trust_material_installed`` event
        in the same transaction. An older version, or another document under the version installed, is refused
        (``InvalidState``).
        """
        if self.settings.authority is None:
            raise VerificationError("this node holds no authority key to verify a revocation list with")
        digest, events = document_digest(document), []

        def logged(signed: SignedRevocationList) -> Event:
            version = signed.revocation_list.version
            events.append(installed_event(self.runtime, Artefact.REVOCATION_LIST, version, digest, source or ""))
            return events[-1]

        signed, new = install_revocation_list(
            self.runtime.store, document, self.settings.authority, self.runtime.clock(), logged if source else None
        )
        self._put_in_force(signed)
        for event in events:
            say_installed(event)
        return new

    def load(self) -> None:
        """At start: install the watched file if newer, then put the newest installed list in force."""
        self._install_watched()
        self._load_installed()

    async def refresh(self) -> None:
        """One poll: a changed watched file is installed; a newer list in the database is put in force."""
        await self.runtime.off_loop(self.load)

    def _install_watched(self) -> None:
        found = self._watched.changed()
        if found is None or self.settings.authority is None:
            return
        document, digest = found
        source = str(self._watched.path)
        try:
            # The node's first list, taken before it serves, is no change to log; every later one is.
            self.install(document, source if self.in_force is not None else None)
        except (DomainError, VerificationError) as error:
            # Never fatal: the list in force stays, and the operator sees why the file was not taken.
            refused(self.runtime, Artefact.REVOCATION_LIST, digest, source, error)

    def _load_installed(self) -> None:
        store = self.runtime.store
        newest = store.trust.revocation_list_version()
        if newest is None or newest <= self._version() or self.settings.authority is None:
            return
        document = store.trust.revocation_list()
        assert document is not None
        self._put_in_force(open_revocation_list(document, self.settings.authority))

    def _put_in_force(self, signed: SignedRevocationList) -> None:
        """Replace the set in one assignment: a call sees the old list or the new one, never half of either."""
        if signed.revocation_list.version > self._version():
            self.in_force = signed
            self.revoked = signed.revocation_list.fingerprints

    def _version(self) -> int:
        return 0 if self.in_force is None else self.in_force.revocation_list.version

    # --- refusing ---------------------------------------------------------------------

    async def refuse(self, identity: Identity, fingerprint: str) -> NoReturn:
        """Refuse a revoked certificate, and count the refusal in the log."""
        why = (
            f"certificate {fingerprint[:16]}… of {identity.uri} is revoked by the federation authority "
            f"(revocation list version {self._version()})"
        )
        await self.refusals.refused(
            EventKind.CERTIFICATE_REFUSED,
            identity,
            "CERTIFICATE_REVOKED",
            why,
            fingerprint=fingerprint,
            revocation_list=str(self._version()),
        )
        raise Unauthenticated(why)
