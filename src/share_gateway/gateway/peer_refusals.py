"""Peer refusals as events: every PeerService call this node refuses leaves a trace in its log.

A refusal names the calling region, the reason (a ``Denial`` code) and the
SHA-256 digest of the signed message refused, the digest by which the
sender's own log names it. Refusals of one reason from one region are
tallied over a window (``federation.peer_refusal_window_seconds``) that opens
with the first of them, and logged as one ``peer_refused`` event with their
count: a peer sending thousands of replays costs the log one event per
window, not one per replay. The tallies still open are logged when the node
stops; a crash loses at most one window of counts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from share_gateway.domain.events import Event, EventKind, Outcome, format_instant
from share_gateway.domain.policy import Principal
from share_gateway.domain.principals import Identity, IdentityKind
from share_gateway.federation.messages import digest
from share_gateway.gateway.periodic import Periodic
from share_gateway.gateway.runtime import NodeRuntime

log = logging.getLogger(__name__)
# How often open windows are looked at, at most: an ended window is logged within this long.
CHECK_EVERY_SECONDS = 1.0


@dataclass(slots=True)
class Tally:
    """The refusals of one reason from one caller within one window."""

    caller: Identity
    reason: str
    first_at: datetime
    first_digest: str
    # The first refusal's explanation, as the caller was told it.
    detail: str
    last_at: datetime
    last_digest: str
    calls: set[str] = field(default_factory=set)
    count: int = 1


class RefusalTallies:
    """Counting refusals into windows; pure: the time is passed in."""

    def __init__(self, window: timedelta) -> None:
        self.window = window
        self._open: dict[tuple[Identity, str], Tally] = {}

    def count(self, caller: Identity, reason: str, call: str, message_digest: str, detail: str, now: datetime) -> None:
        """Add one refusal to its window, opening one if none is open."""
        tally = self._open.get((caller, reason))
        if tally is None:
            self._open[(caller, reason)] = Tally(
                caller, reason, now, message_digest, detail[:200], now, message_digest, {call}
            )
            return
        tally.count += 1
        tally.last_at, tally.last_digest = now, message_digest
        tally.calls.add(call)

    def ended(self, now: datetime) -> list[Tally]:
        """Take out the tallies whose window has ended."""
        done = [key for key, tally in self._open.items() if now - tally.first_at >= self.window]
        return [self._open.pop(key) for key in done]

    def drain(self) -> list[Tally]:
        """Take out every tally, ended or not."""
        tallies, self._open = list(self._open.values()), {}
        return tallies

    def __len__(self) -> int:
        return len(self._open)


@dataclass
class PeerRefusals:
    """The node's record of refused peer calls: counted as they happen, logged per window."""

    runtime: NodeRuntime
    window: timedelta
    clock: Callable[[], datetime] | None = None

    def __post_init__(self) -> None:
        self.tallies = RefusalTallies(self.window)
        self._clock = self.clock or self.runtime.clock
        self.loop = Periodic("peer refusals", self.log_ended, min(self.window.total_seconds(), CHECK_EVERY_SECONDS))

    def refused(self, caller: Identity, reason: str, call: str, message: bytes, detail: str) -> None:
        """Count one refused call of ``caller`` (its signed ``message``); cheap, so a flood costs little."""
        self.tallies.count(caller, reason, call, digest(message), detail, self._clock())

    async def log_ended(self) -> int:
        """Log one event per ended window; return how many."""
        return await self._log(self.tallies.ended(self._clock()))

    async def close(self) -> None:
        """Stop looking at windows, and log every open tally: counts are not lost at shutdown."""
        await self.loop.stop()
        await self._log(self.tallies.drain())

    async def _log(self, tallies: list[Tally]) -> int:
        for tally in tallies:
            await self.runtime.event_log.append(self._event(tally))
        return len(tallies)

    def _event(self, tally: Tally) -> Event:
        caller = tally.caller
        details = {
            "count": str(tally.count),
            "calls": ",".join(sorted(tally.calls)),
            "first_digest": tally.first_digest,
            "first_at": format_instant(tally.first_at),
            "detail": tally.detail,
        }
        if tally.count > 1:
            details |= {"last_digest": tally.last_digest, "last_at": format_instant(tally.last_at)}
        if caller.kind is IdentityKind.NODE:
            details["region"] = caller.identifier
        return self.runtime.event(
            EventKind.PEER_REFUSED,
            Principal(caller.identifier, caller.uri, caller.kind.value),
            Outcome.DENIED,
            reason=tally.reason,
            details=details,
        )
