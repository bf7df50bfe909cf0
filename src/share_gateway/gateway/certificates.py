"""Certificate revocation at a running node: the authority's list in force, newer lists installed without a
restart, and the refusal of a revoked certificate, logged.

grpcio has no CRL hook in the TLS handshake, so the API layer looks the
caller's certificate fingerprint up in ``revoked`` (a set, replaced whole
when a newer list is installed) where it reads the caller's identity, on
every mTLS call. A newer list arrives from the watched file (its
modification time polled) or from the database, where another process (the
``revocations install`` command, another replica) installed it. A revoked
caller is logged at most once per window per certificate, with the count of
its refusals since, so a revoked client cannot flood the log.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import NoReturn

from share_gateway.crypto.errors import VerificationError
from share_gateway.crypto.keys import KeyRing
from share_gateway.domain.errors import DomainError, Unauthenticated
from share_gateway.domain.events import EventKind, Outcome
from share_gateway.domain.policy import Principal
from share_gateway.domain.principals import Identity
from share_gateway.federation.revocation_list import SignedRevocationList, open_revocation_list
from share_gateway.gateway.periodic import Periodic
from share_gateway.gateway.runtime import NodeRuntime
from share_gateway.store.repositories import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RevocationSettings:
    """Where revocation lists come from and how refusals are logged."""

    # The authority's keys; without them no list can be installed (a node of tests built without any).
    authority: KeyRing | None = None
    # The signed list the node watches; a newer one written there is installed within ``poll_seconds``.
    watched: Path | None = None
    poll_seconds: float = 5.0
    # A revoked certificate's refusals are logged once per this many seconds.
    refusal_window_seconds: float = 60.0


def install_revocation_list(
    store: Store, document: bytes, authority: KeyRing, now: datetime
) -> tuple[SignedRevocationList, bool]:
    """Verify a signed list and install it in ``store`` (rollback refused); whether this version is new there.

    The node, the ``pki install-revocations`` command and every replica over one database share what is installed.
    """
    signed = open_revocation_list(document, authority)
    return signed, store.write(lambda tx: store.trust.install_revocation_list(tx, signed, now))


@dataclass
class _Refusals:
    logged_at: float
    since: int = 0


@dataclass
class CertificateGuard:
    runtime: NodeRuntime
    settings: RevocationSettings = field(default_factory=RevocationSettings)
    # Seconds on a clock that only moves forward: when each refusal window starts (injectable for tests).
    monotonic: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        # The fingerprints (SHA-256 of the DER, hex) no call may present: the hot path's one lookup.
        self.revoked: frozenset[str] = frozenset()
        self.in_force: SignedRevocationList | None = None
        self._seen_file: tuple[int, int] | None = None
        self._refusals: dict[str, _Refusals] = {}
        self.loop = Periodic("certificate revocation watch", self.refresh, self.settings.poll_seconds)

    @property
    def watching(self) -> bool:
        return self.settings.authority is not None

    # --- installing -------------------------------------------------------------------

    def install(self, document: bytes) -> bool:
        """Verify a signed list and install it if newer (from a store thread); True if it is new here.

        An older version, or another document under the version installed, is refused (``InvalidState``).
        """
        if self.settings.authority is None:
            raise VerificationError("this node holds no authority key to verify a revocation list with")
        signed, new = install_revocation_list(
            self.runtime.store, document, self.settings.authority, self.runtime.clock()
        )
        self._put_in_force(signed)
        return new

    def load(self) -> None:
        """At start: install the watched file if newer, then put the newest installed list in force."""
        self._install_watched()
        self._load_installed()

    async def refresh(self) -> None:
        """One poll: a changed watched file is installed; a newer list in the database is put in force."""
        await self.runtime.off_loop(self.load)

    def _install_watched(self) -> None:
        path = self.settings.watched
        if path is None or self.settings.authority is None:
            return
        try:
            status = path.stat()
        except FileNotFoundError:
            return
        seen = (status.st_mtime_ns, status.st_size)
        if seen == self._seen_file:
            return
        try:
            if self.install(path.read_bytes()) and self.revoked:
                log.warning(
                    "certificate revocation list version %d installed: %d certificate(s) revoked",
                    self._version(),
                    len(self.revoked),
                )
        except (DomainError, VerificationError) as error:
            # Never fatal: the list in force stays, and the operator sees why the file was not taken.
            log.warning("revocation list %s not installed: %s", path, error)
        self._seen_file = seen

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
        """Refuse a revoked certificate; log it unless it was logged within the window."""
        now = self.monotonic()
        seen = self._refusals.get(fingerprint)
        if seen is None or now - seen.logged_at >= self.settings.refusal_window_seconds:
            self._refusals[fingerprint] = _Refusals(now)
            details = {"fingerprint": fingerprint, "revocation_list": str(self._version())}
            if seen is not None:
                details["refused_since_last_event"] = str(seen.since)
            actor = Principal(identity.identifier, identity.uri, identity.kind.value)
            await self.runtime.event_log.append(
                self.runtime.event(
                    EventKind.CERTIFICATE_REFUSED, actor, Outcome.DENIED, reason="CERTIFICATE_REVOKED", details=details
                )
            )
        else:
            seen.since += 1
        raise Unauthenticated(
            f"certificate {fingerprint[:16]}… of {identity.uri} is revoked by the federation authority "
            f"(revocation list version {self._version()})"
        )
