"""When the federation's trust material runs out, and which of it to warn about now.

A node fails closed when its manifest or a certificate expires (as it must),
so an unnoticed expiry is an outage of the whole federation on one day. These
rules say, for each artefact in force (the manifest, the catalog, the
revocation list, the node's TLS certificate, the federation CA), whether it
expires within the configured horizon or has expired, and which warnings are
due today: at most one per artefact per UTC day.

The catalog and the revocation list carry no expiry in their formats (the
catalog document has none; the list only says when it was issued), so they
are reported as never expiring rather than given an invented date.
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

# The default: a month gives an authority time to re-sign and every node time to install.
DEFAULT_HORIZON_DAYS = 30


class Artefact(StrEnum):
    """The kinds of trust material a node holds (the ``artefact`` label of the metrics)."""

    MANIFEST = "manifest"
    CATALOG = "catalog"
    REVOCATION_LIST = "revocation_list"
    TLS_CERTIFICATE = "tls_certificate"
    CA_CERTIFICATE = "ca_certificate"


class ExpiryState(StrEnum):
    VALID = "valid"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    # Its format carries no expiry (the catalog, the revocation list).
    NO_EXPIRY = "no_expiry"


@dataclass(frozen=True, slots=True)
class TrustMaterial:
    """One artefact in force: what it is, which one (version or fingerprint), and when it expires (None: never)."""

    artefact: Artefact
    identifier: str
    expires: datetime | None

    def __post_init__(self) -> None:
        if self.expires is not None and self.expires.tzinfo is None:
            raise ValueError("trust material expires at an instant with a time zone")


@dataclass(frozen=True, slots=True)
class ExpiryStanding:
    """Where one artefact stands at an instant."""

    material: TrustMaterial
    state: ExpiryState
    # Until it expires (negative once expired); None when it does not expire.
    remaining: timedelta | None

    @property
    def warns(self) -> bool:
        """Expiring within the horizon or already expired: what health, metrics and the log report."""
        return self.state in (ExpiryState.EXPIRING, ExpiryState.EXPIRED)


WarningKey = tuple[Artefact, str, date]
"""One warning a day per artefact: which kind, which one, on which UTC day."""


def require_horizon(horizon: timedelta) -> None:
    if horizon <= timedelta(0):
        raise ValueError("the expiry warning horizon is longer than zero")


def standing(material: TrustMaterial, now: datetime, horizon: timedelta) -> ExpiryStanding:
    """Expired at its expiry instant (as ``Manifest.require_current`` refuses it), expiring from ``horizon`` before."""
    require_horizon(horizon)
    if material.expires is None:
        return ExpiryStanding(material, ExpiryState.NO_EXPIRY, None)
    remaining = material.expires - now
    if remaining <= timedelta(0):
        state = ExpiryState.EXPIRED
    elif remaining <= horizon:
        state = ExpiryState.EXPIRING
    else:
        state = ExpiryState.VALID
    return ExpiryStanding(material, state, remaining)


def standings(materials: Iterable[TrustMaterial], now: datetime, horizon: timedelta) -> tuple[ExpiryStanding, ...]:
    """Every artefact's standing, in the order given."""
    return tuple(standing(material, now, horizon) for material in materials)


def warning_day(now: datetime) -> date:
    """The UTC day a warning counts for: every node of the federation counts days alike."""
    return now.astimezone(UTC).date()


def warning_key(material: TrustMaterial, now: datetime) -> WarningKey:
    return (material.artefact, material.identifier, warning_day(now))


def due_warnings(
    current: Iterable[ExpiryStanding], warned: Set[WarningKey], now: datetime
) -> tuple[ExpiryStanding, ...]:
    """The artefacts to warn about now: each that warns and has no warning today yet (``warned`` holds those)."""
    return tuple(s for s in current if s.warns and warning_key(s.material, now) not in warned)
