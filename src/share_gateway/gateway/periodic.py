"""A background task that runs one step every interval (or at once when woken), and stops at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from share_gateway.gateway.failures import database_outage

log = logging.getLogger(__name__)


class Periodic:
    def __init__(self, name: str, step: Callable[[], Awaitable[object]], interval: float) -> None:
        self.name = name
        self.interval = interval
        self._step = step
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        # Asked before each step whether this process may still take it (the region's leadership); None: always.
        self.guard: Callable[[], Awaitable[bool]] | None = None

    def wake(self) -> None:
        """Run the next step now rather than at the end of the interval."""
        self._wake.set()

    async def _loop(self) -> None:
        while True:
            try:
                if self.guard is None or await self.guard():
                    await self._step()
            except Exception as error:
                # A database outage is one line per kind and window (gateway.failures), not a traceback per step.
                if database_outage(error, self.name) is None:
                    log.exception("%s failed; retrying in %.1f s", self.name, self.interval)
            with contextlib.suppress(TimeoutError):  # not wait_for: on 3.11 it may swallow stop's cancellation
                async with asyncio.timeout(self.interval):
                    await self._wake.wait()
            self._wake.clear()

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=self.name)

    @property
    def ended(self) -> bool:
        """Started and not stopped, yet no longer running: what liveness reports (the loop never ends by itself)."""
        return self._task is not None and self._task.done()

    async def stop(self) -> None:
        """Cancel the step in flight: each step must leave the database consistent whenever it is interrupted."""
        if self._task is not None:
            task, self._task = self._task, None
            task.cancel()
            await asyncio.wait([task])  # unlike awaiting it, lets a cancellation of the caller through
