"""Warnings before trust material expires: what health and metrics read, and the daily event in the log.

The node's manifest and certificates fail closed at expiry; this says so
beforehand. ``standings`` is read fresh on every look (a health probe, a
scrape), from the clock and the artefacts in force, so a newly installed
artefact or a moved clock shows at once. The housekeeping process (the one
with ``log.sequencer``, like the sweeper) also checks periodically and
appends a ``trust_material_expiring`` event for each artefact that warns, at
most once per artefact per UTC day: the day's warnings are remembered in
memory, and read back from the log on the first check of each day, so a
restart on the same day does not repeat one (a warning still in the group
commit when the process crashed is lost, not repeated: the next check logs it).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from share_gateway.catalog import SignedCatalog
from share_gateway.crypto.pki import certificate_expiry, certificate_fingerprint
from share_gateway.domain.events import Event, EventKind, Outcome, format_instant
from share_gateway.domain.trust_expiry import (
    Artefact,
    ExpiryStanding,
    ExpiryState,
    TrustMaterial,
    WarningKey,
    due_warnings,
    require_horizon,
    standings,
    warning_day,
    warning_key,
)
from share_gateway.federation.manifest import SignedManifest
from share_gateway.federation.revocation_list import SignedRevocationList
from share_gateway.gateway.periodic import Periodic
from share_gateway.gateway.runtime import NodeRuntime, node_principal

log = logging.getLogger(__name__)

# How often the housekeeping process looks: a day's warning is logged within an hour of the day starting.
CHECK_EVERY_SECONDS = 3600.0


def trust_materials(
    catalog: SignedCatalog,
    manifest: SignedManifest | None,
    revocations: SignedRevocationList | None,
    certificates: tuple[bytes, bytes] | None,
) -> tuple[TrustMaterial, ...]:
    """The artefacts a node holds in force, each with when it expires (the catalog and the list: never);
    ``certificates``: the node's TLS certificate and the federation CA, PEM."""
    materials = []
    if manifest is not None:
        m = manifest.manifest
        materials.append(TrustMaterial(Artefact.MANIFEST, f"version {m.version}", m.expires))
    materials.append(TrustMaterial(Artefact.CATALOG, f"version {catalog.catalog.version}", None))
    if revocations is not None:
        materials.append(
            TrustMaterial(Artefact.REVOCATION_LIST, f"version {revocations.revocation_list.version}", None)
        )
    if certificates is not None:
        materials += certificate_materials(*certificates)
    return tuple(materials)


@functools.lru_cache(maxsize=16)
def certificate_materials(certificate: bytes, ca: bytes) -> tuple[TrustMaterial, TrustMaterial]:
    """The node's TLS certificate and the federation CA, named by fingerprint (parsed once per PEM pair)."""
    return (
        TrustMaterial(Artefact.TLS_CERTIFICATE, certificate_fingerprint(certificate), certificate_expiry(certificate)),
        TrustMaterial(Artefact.CA_CERTIFICATE, certificate_fingerprint(ca), certificate_expiry(ca)),
    )


@dataclass
class TrustExpiry:
    runtime: NodeRuntime
    # The artefacts in force now (read on every look: whatever installs a newer one is seen at once).
    materials: Callable[[], Sequence[TrustMaterial]]
    horizon: timedelta
    interval: float = CHECK_EVERY_SECONDS

    def __post_init__(self) -> None:
        require_horizon(self.horizon)
        self._warned: set[WarningKey] = set()
        # The day whose warnings ``_warned`` holds, read back from the log once that day.
        self._day: date | None = None
        # One check at a time (the loop's, a test's or an operator's call): two would both find a warning due.
        self._checking = asyncio.Lock()
        self.loop = Periodic("trust material expiry", self.check, self.interval)

    def standings(self) -> tuple[ExpiryStanding, ...]:
        """Every artefact in force and where it stands now."""
        return standings(self.materials(), self.runtime.clock(), self.horizon)

    def warning(self) -> tuple[ExpiryStanding, ...]:
        """The artefacts expiring within the horizon or expired: health is NOT_SERVING while there is one."""
        return tuple(s for s in self.standings() if s.warns)

    async def check(self) -> int:
        """Log each artefact that warns and was not yet logged today; return how many events."""
        async with self._checking:
            return await self._check()

    async def _check(self) -> int:
        now = self.runtime.clock()
        current = standings(self.materials(), now, self.horizon)
        if not any(s.warns for s in current):
            return 0
        day = warning_day(now)
        if self._day != day:
            self._warned = await self.runtime.read(self._logged_on, day)
            self._day = day
        due = due_warnings(current, self._warned, now)
        for warned in due:
            material = warned.material
            key = warning_key(material, now)
            self._warned.add(key)
            log.warning(
                "%s %s %s at %s (warning %d days ahead)",
                material.artefact.value,
                material.identifier,
                "expired" if warned.state is ExpiryState.EXPIRED else "expires",
                format_instant(material.expires) if material.expires else "-",
                self.horizon.days,
            )
            try:
                await self.runtime.event_log.append(self._event(warned))
            except BaseException:
                self._warned.discard(key)  # not logged: the next check tries again
                raise
        return len(due)

    def _logged_on(self, day: date) -> set[WarningKey]:
        """The warnings the log already holds for ``day`` (by this process before a restart, or by another)."""
        since = datetime.combine(day, time.min, UTC)
        keys: set[WarningKey] = set()
        for body in self.runtime.store.events.of_kind_since(EventKind.TRUST_MATERIAL_EXPIRING, since):
            try:
                event = Event.from_bytes(body)
                keys.add((Artefact(event.details["artefact"]), event.details["id"], warning_day(event.at)))
            except (ValueError, KeyError):
                continue  # a redacted stub or a foreign shape: it cannot stand for today's warning
        return keys

    def _event(self, warned: ExpiryStanding) -> Event:
        material = warned.material
        assert material.expires is not None  # only what expires warns
        expired = warned.state is ExpiryState.EXPIRED
        return self.runtime.event(
            EventKind.TRUST_MATERIAL_EXPIRING,
            node_principal(self.runtime.region),
            # Expired material refuses what it served (federation traffic, TLS); expiring still serves.
            Outcome.DENIED if expired else Outcome.ALLOWED,
            reason=f"{material.artefact.value} {'expired' if expired else 'expires within the horizon'}",
            details={
                "artefact": material.artefact.value,
                "id": material.identifier,
                "expires_at": format_instant(material.expires),
                "state": warned.state.value,
                "horizon_days": str(self.horizon.days),
            },
        )
