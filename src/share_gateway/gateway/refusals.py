"""Refused calls as events: a peer's refused PeerService call, a revoked certificate's refused call.

A refusal names the caller, the reason (a ``Denial`` code, or why the
certificate is refused) and, where there is one, the SHA-256 digest of the
signed message refused: the digest by which the sender's own log names it.
The first refusal of one kind and reason from one caller is logged at once,
so an officer sees it as it happens; the ones that follow within the window
(``refusal_window_seconds``) are tallied and logged as one event with their
count when the window ends. A caller sending thousands of refused calls costs
the log two events per window, not one per call. The tallies still open are
logged when the node stops; a crash loses at most one window of counts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from share_gateway.domain.events import Event, EventKind, Outcome, format_instant
from share_gateway.domain.policy import Principal
from share_gateway.domain.principals import Identity, IdentityKind
from share_gateway.gateway.periodic import Periodic
from share_gateway.gateway.runtime import NodeRuntime

# How often open windows are looked at, at most: an ended window is logged within this long.
CHECK_EVERY_SECONDS = 1.0
DETAIL_CHARACTERS = 200


@dataclass(slots=True)
class Tally:
    """Refusals of one kind and reason from one caller: the first of a window, or the ones it held back."""

    kind: EventKind
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
    # What the kind of refusal adds (a certificate's fingerprint, the revocation list in force).
    extra: Mapping[str, str] = field(default_factory=dict)


Key = tuple[EventKind, Identity, str]


@dataclass(slots=True)
class _Window:
    opened_at: datetime
    held: Tally | None = None


class RefusalTallies:
    """Counting refusals into windows; pure: the time is passed in."""

    def __init__(self, window: timedelta) -> None:
        self.window = window
        self._open: dict[Key, _Window] = {}

    def count(self, refused: Tally, now: datetime) -> list[Tally]:
        """Count one refusal (a tally of one); return what to log now: the refusal itself if it opens a
        window (after what an ended window of the same key still held), else nothing."""
        key = (refused.kind, refused.caller, refused.reason)
        window = self._open.get(key)
        if window is not None and now - window.opened_at < self.window:
            if window.held is None:
                window.held = refused
            else:
                held = window.held
                held.count += 1
                held.last_at, held.last_digest = now, refused.last_digest
                held.calls |= refused.calls
            return []
        ended = self._open.pop(key, None)
        self._open[key] = _Window(now)
        return ([] if ended is None or ended.held is None else [ended.held]) + [refused]

    def ended(self, now: datetime) -> list[Tally]:
        """Close the windows that have ended; return the refusals they held back."""
        done = [key for key, window in self._open.items() if now - window.opened_at >= self.window]
        return [held for key in done if (held := self._open.pop(key).held) is not None]

    def drain(self) -> list[Tally]:
        """Close every window, ended or not; return the refusals they held back."""
        windows, self._open = list(self._open.values()), {}
        return [window.held for window in windows if window.held is not None]

    def __len__(self) -> int:
        return len(self._open)


@dataclass
class Refusals:
    """The node's record of refused calls: the first of each window at once, the rest per window."""

    runtime: NodeRuntime
    window: timedelta
    clock: Callable[[], datetime] | None = None

    def __post_init__(self) -> None:
        self.tallies = RefusalTallies(self.window)
        self._clock = self.clock or self.runtime.clock
        self.loop = Periodic("refusals", self.log_ended, min(self.window.total_seconds(), CHECK_EVERY_SECONDS))

    async def refused(
        self,
        kind: EventKind,
        caller: Identity,
        reason: str,
        detail: str,
        *,
        call: str = "",
        message_digest: str = "",
        **extra: str,
    ) -> None:
        """Count one refused call of ``caller``; log it if it opens a window."""
        now = self._clock()
        calls = {call} if call else set()
        refused = Tally(
            kind, caller, reason, now, message_digest, detail[:DETAIL_CHARACTERS], now, message_digest, calls, 1, extra
        )
        await self._log(self.tallies.count(refused, now))

    async def log_ended(self) -> int:
        """Log what each ended window held back; return how many events."""
        return await self._log(self.tallies.ended(self._clock()))

    async def close(self) -> None:
        """Stop looking at windows, and log what every open one holds: counts are not lost at shutdown."""
        await self.loop.stop()
        await self._log(self.tallies.drain())

    async def _log(self, tallies: list[Tally]) -> int:
        for tally in tallies:
            await self.runtime.event_log.append(self._event(tally))
        return len(tallies)

    def _event(self, tally: Tally) -> Event:
        caller = tally.caller
        details = {"count": str(tally.count), "first_at": format_instant(tally.first_at), "detail": tally.detail}
        if tally.calls:
            details["calls"] = ",".join(sorted(tally.calls))
        if tally.first_digest:
            details["first_digest"] = tally.first_digest
        if tally.count > 1:
            details["last_at"] = format_instant(tally.last_at)
            if tally.last_digest:
                details["last_digest"] = tally.last_digest
        if caller.kind is IdentityKind.NODE:
            details["region"] = caller.identifier
        return self.runtime.event(
            tally.kind,
            Principal(caller.identifier, caller.uri, caller.kind.value),
            Outcome.DENIED,
            reason=tally.reason,
            details={**tally.extra, **details},
        )
