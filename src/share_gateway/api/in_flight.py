"""The calls in flight, counted, so that a stopping node lets them finish and refuses new ones itself.

grpcio's server stop ends every call that reached the server but no handler yet
as CANCELLED, which standard retry policies do not retry; with many calls in
flight on a busy event loop those are many. So a stopping node first closes
this door: a call that comes in after gets UNAVAILABLE (reason
``NODE_SHUTTING_DOWN``: retryable, at another replica), the calls in flight
finish, and once no call has come in for ``QUIET`` seconds the server is
stopped, with next to nothing waiting in it.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time

from share_gateway.domain.errors import Unavailable
from share_gateway.gateway.revocation_watch import SHUTTING_DOWN

# Seconds without a new call after which a stopping node's server is stopped: the calls clients sent before they
# saw the refusals have reached a handler (and were refused retryably) instead of waiting in grpcio to be cancelled.
QUIET = 0.2


class CallsInFlight:
    """How many calls are being served; once closed, no call is let in."""

    def __init__(self) -> None:
        self.count = 0
        self.closed = False
        self._idle = asyncio.Event()
        self._idle.set()
        self._last_arrival = -math.inf

    def enter(self) -> None:
        """Count a call coming in; raises ``Unavailable`` once the door is closed."""
        self._last_arrival = time.monotonic()
        if self.closed:
            raise Unavailable("this node is shutting down: call another replica", SHUTTING_DOWN)
        self.count += 1
        self._idle.clear()

    def leave(self) -> None:
        self.count -= 1
        if self.count == 0:
            self._idle.set()

    def close(self) -> None:
        self.closed = True

    async def finished(self, within: float) -> bool:
        """Wait at most ``within`` seconds for the calls in flight to end and ``QUIET`` seconds to pass without a
        new one; whether they did."""
        ends = time.monotonic() + within
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), max(0.0, ends - time.monotonic()))
            quiet_from = self._last_arrival + QUIET
            now = time.monotonic()
            if not self._idle.is_set() or now >= quiet_from or now >= ends:
                return self._idle.is_set()
            await asyncio.sleep(min(quiet_from, ends) - now)
