"""What a node's health says about each dependency, from figures read elsewhere: pure rules, no I/O.

A finding is SERVING, NOT_SERVING (with why) or UNKNOWN (the figures could
not be read: the database is away). The node is *ready* when its database
answers and the trust material it needs to serve at all (its TLS certificate,
the federation CA) has not expired; the other findings are
warnings an operator acts on (docs/operations.md, Health), and take no
replica out of service (but a log restored behind what its witnesses
cosigned does, until its operator acknowledges it): a stalled sequencer or a
peer that stopped cosigning does not stop inquiries from being answered and
logged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Standing(StrEnum):
    SERVING = "serving"
    NOT_SERVING = "not_serving"
    # The figures could not be read (the database is away): neither good nor bad is known.
    UNKNOWN = "unknown"


class Component(StrEnum):
    """The dependencies health reports on, each under its own name (``share_gateway.<name>``)."""

    DATABASE = "Database"
    SEQUENCER = "Sequencer"
    OUTBOX = "Outbox"
    MANIFEST = "Manifest"
    TRUST_MATERIAL = "TrustMaterial"
    # Whether the log holds what its witnesses cosigned of it (a database restored from an older backup does not).
    RESTORE = "Restore"
    # One per peer region: ``Peer.440000``.
    PEER = "Peer"


@dataclass(frozen=True, slots=True)
class Finding:
    name: str
    standing: Standing
    # Why, in a few words, for the log line written when the standing changes.
    detail: str

    @property
    def serving(self) -> bool:
        return self.standing is Standing.SERVING


def serving(name: str, detail: str) -> Finding:
    return Finding(name, Standing.SERVING, detail)


def not_serving(name: str, detail: str) -> Finding:
    return Finding(name, Standing.NOT_SERVING, detail)


def unknown(name: str, detail: str) -> Finding:
    return Finding(name, Standing.UNKNOWN, detail)


def peer_name(region: str) -> str:
    return f"{Component.PEER}.{region}"


@dataclass(frozen=True, slots=True)
class LogLag:
    """Events appended but not yet in the log's tree: about how many, and when the oldest happened."""

    pending: int
    oldest_at: datetime | None


def _seconds(delta: timedelta) -> str:
    return f"{max(delta.total_seconds(), 0.0):.0f} s"


def sequencer_finding(lag: LogLag, alarm: str | None, now: datetime, limit: timedelta) -> Finding:
    """NOT_SERVING on the sequencer's alarm (it refuses to sign a tree that does not extend its last checkpoint),
    or when the oldest event waiting for the tree waited longer than ``limit`` (no sequencer integrates)."""
    name = Component.SEQUENCER.value
    if alarm is not None:
        return not_serving(name, f"alarm: {alarm}")
    if lag.oldest_at is not None and now - lag.oldest_at > limit:
        waited = _seconds(now - lag.oldest_at)
        return not_serving(name, f"{lag.pending} events wait for the log, the oldest for {waited}")
    return serving(name, f"{lag.pending} events wait for the log")


@dataclass(frozen=True, slots=True)
class OutboxStanding:
    pending: int
    dead: int
    oldest_pending_at: datetime | None


def outbox_finding(outbox: OutboxStanding, now: datetime, limit: timedelta) -> Finding:
    """NOT_SERVING while dead letters wait for an operator, or a delivery has waited longer than ``limit``."""
    name = Component.OUTBOX.value
    if outbox.dead:
        return not_serving(name, f"{outbox.dead} dead letters wait for an operator (outbox list --dead)")
    oldest = outbox.oldest_pending_at
    if oldest is not None and now - oldest > limit:
        return not_serving(name, f"{outbox.pending} deliveries pending, the oldest for {_seconds(now - oldest)}")
    return serving(name, f"{outbox.pending} deliveries pending")


def waiting_since(checkpoints: Sequence[tuple[datetime, bool]]) -> datetime | None:
    """Since when this node's checkpoints have waited for one peer's cosignature: ``checkpoints`` newest first,
    each (published at, cosigned by the peer). None: it cosigned the latest (or there is none). When the peer
    cosigned none of them, the oldest one's time: a lower bound of the wait."""
    waited: datetime | None = None
    for published_at, cosigned in checkpoints:
        if cosigned:
            return waited
        waited = published_at
    return waited


def peer_finding(region: str, since: datetime | None, now: datetime, limit: timedelta) -> Finding:
    """NOT_SERVING when this node's checkpoints have waited longer than ``limit`` for the peer's cosignature."""
    name = peer_name(region)
    if since is not None and now - since > limit:
        return not_serving(name, f"no cosignature from {region} on checkpoints published {_seconds(now - since)} ago")
    return serving(name, "cosigns this node's checkpoints")


def ready(database: Finding, trust_expired: Sequence[str], restore: Finding | None = None) -> Finding:
    """Whether the node can serve: its database answers, nothing in ``trust_expired`` (what it cannot serve
    without) has expired, and its log is not behind what its witnesses cosigned (``restore`` NOT_SERVING: a
    restore waits for its operator's acknowledgement; UNKNOWN, no witness answered yet, does not stop it)."""
    if not database.serving:
        return not_serving("Readiness", f"database: {database.detail}")
    if restore is not None and restore.standing is Standing.NOT_SERVING:
        return not_serving("Readiness", f"restore: {restore.detail}")
    if trust_expired:
        return not_serving("Readiness", f"expired: {', '.join(trust_expired)}")
    return serving("Readiness", "database answers, trust material in force")
