"""One leader per region: the process holding the leader lock runs the region's singleton loops.

Replicas of a region share one database; the sequencer, the witness sender
(cosigner), the sweepers and the other periodic housekeeping must each run in
one of them. Every replica that may lead (``log.sequencer`` true) campaigns:
it tries to take the leader lock (``store.locks.LeaderLock``: a PostgreSQL
session advisory lock on a connection of its own with TCP keepalives, or a
file lock beside the SQLite file) every ``retry_seconds``. The one that holds
it starts the loops; the others keep trying, and one takes over once the
leader's session ends. A killed leader's session ends at once (its socket
closes), so takeover takes at most ``retry_seconds`` plus the first step
(``bench/takeover.py`` measures it).

The bound on a leader that lost its lock. Before each step of each loop (and
before each batch of a long integration) the leader confirms that it still
holds the lock: the database answers over the lock's own connection, at most
``CONFIRM_EVERY`` seconds before, within ``CHECK_TIMEOUT`` seconds, or the
leader stands down and stops every loop. A step therefore starts at most
``CONFIRM_EVERY`` seconds after traffic the database saw on the lock's
session, and the database ends a session no sooner than
``SILENT_SESSION_ENDS_SECONDS`` after its last traffic: a leader cut off from
the database starts no step once another replica could have taken over.
(Should the database end the session itself, by ``pg_terminate_backend`` or
a restart, a step may still start within ``CONFIRM_EVERY`` of that.) A step
already running may finish beside the new leader's: those are safe to
overlap (integration is serialised by a transaction lock and redone if
another moved the tree, a checkpoint of a size already stored is skipped,
sweeps change a record only if nobody changed it meanwhile).

Time bounds are ``asyncio.timeout``, never ``asyncio.wait_for``: on Python
3.11 the latter swallows a cancellation that arrives as its awaited call
finishes, and a campaign told to end (a closing node) would go on for ever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from share_gateway.gateway.periodic import Periodic
from share_gateway.gateway.sequencer import Sequencer
from share_gateway.store.locks import SILENT_SESSION_ENDS_SECONDS, LeaderLock, LockConnectionLost

log = logging.getLogger(__name__)
R = TypeVar("R")
# A confirmation this recent lets a step start without asking the database again.
CONFIRM_EVERY = 0.5
# Seconds the database has to answer a confirmation before the leader stands down.
CHECK_TIMEOUT = 1.0
# Seconds a try for the lock may take (a new connection among them) before it is tried again afresh.
TRY_TIMEOUT = 10.0
assert CONFIRM_EVERY < SILENT_SESSION_ENDS_SECONDS, "a leader must stop acting before the database ends its session"


class Leadership:
    """Campaigns for the leader lock; runs ``loops`` and ``sequencer`` while it holds it."""

    def __init__(
        self,
        database_url: str,
        loops: Sequence[Periodic],
        sequencer: Sequencer | None,
        retry_seconds: float = 0.5,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.database_url = database_url
        self.loops = tuple(loops)
        self.sequencer = sequencer
        self.retry_seconds = retry_seconds
        self._monotonic = monotonic  # the clock confirmations age by (a test's, to age one at will)
        self.leads = False
        self._lock: LeaderLock | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._confirmed_at = -float("inf")
        self._checking: asyncio.Future[bool] | None = None
        self._campaign: asyncio.Task[None] | None = None
        self._standing_down: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    # --- the lock, on a thread of its own --------------------------------------

    async def _call(self, function: Callable[[], R]) -> R:
        assert self._executor is not None
        return await asyncio.get_running_loop().run_in_executor(self._executor, function)

    def _fresh_lock(self) -> None:
        """A new lock and thread: the old ones may be stuck on a connection the network lost."""
        self._abandon_lock()
        self._lock = LeaderLock(self.database_url)
        self._executor = ThreadPoolExecutor(1, "leader-lock")

    def _abandon_lock(self) -> None:
        lock, executor, self._lock, self._executor = self._lock, self._executor, None, None
        if lock is not None and executor is not None:
            executor.submit(lock.dispose)
            executor.shutdown(wait=False)

    # --- campaigning -------------------------------------------------------------

    def start(self) -> None:
        """Try once now (a lone node leads from its first step), then keep trying in the background."""
        self._fresh_lock()
        assert self._lock is not None
        try:
            taken = self._lock.try_acquire()
        except LockConnectionLost as error:
            log.warning("could not try the leader lock (%s); trying again", error)
            taken = False
        if taken:
            self._lead()
        self._campaign = asyncio.create_task(self._campaigning(), name="leadership")

    async def _campaigning(self) -> None:
        while True:
            if self.leads:
                await self.confirm()
            else:
                await self._try()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.retry_seconds):
                    await self._wake.wait()
            self._wake.clear()

    async def _try(self) -> None:
        if self._standing_down is not None:
            await asyncio.shield(self._standing_down)  # ending the campaign must not cut the loops' stopping short
        if self._lock is None:
            self._fresh_lock()
        assert self._lock is not None
        try:
            async with asyncio.timeout(TRY_TIMEOUT):
                taken = await self._call(self._lock.try_acquire)
        except (LockConnectionLost, TimeoutError) as error:  # the database is away: try again, a new connection
            log.debug("could not try the leader lock: %s", error)
            self._abandon_lock()
            return
        except asyncio.CancelledError:
            # The campaign ended while the try was in flight: it may still take the lock, on the lock's thread. The
            # lock's disposal queues behind it there, so a lock taken for nobody is given back at once.
            self._abandon_lock()
            raise
        if taken:
            self._lead()

    def _lead(self) -> None:
        self.leads = True
        self._confirmed_at = self._monotonic()
        log.info("leading the region: running the sequencer and the singleton loops")
        for loop in self.loops:
            loop.guard = self.confirm
            loop.start()
        if self.sequencer is not None:
            self.sequencer.guard = self.confirm
            self.sequencer.start()

    # --- confirming before each step ---------------------------------------------

    async def confirm(self) -> bool:
        """Whether this process may take a step now: it leads, confirmed within ``CONFIRM_EVERY`` seconds."""
        if not self.leads:
            return False
        if self._monotonic() - self._confirmed_at < CONFIRM_EVERY:
            return True
        if self._checking is None:
            self._checking = asyncio.ensure_future(self._check())
        return await asyncio.shield(self._checking)

    async def _check(self) -> bool:
        asked = self._monotonic()
        lock = self._lock
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):
                held = lock is not None and await self._call(lock.holds)
        except (LockConnectionLost, TimeoutError) as error:
            log.warning("the leader lock's connection failed (%s): standing down", error)
            held = False
        finally:
            self._checking = None
        if held and self.leads:
            self._confirmed_at = max(self._confirmed_at, asked)
            return True
        self._stand_down()
        return False

    def _stand_down(self) -> None:
        """Stop leading at once; the loops are stopped by a task of their own (a step may be asking)."""
        if not self.leads:
            return
        self.leads = False
        log.warning("no longer leading the region: stopping the singleton loops")
        self._abandon_lock()
        self._standing_down = asyncio.ensure_future(self._stop_loops())
        self._wake.set()

    async def _stop_loops(self) -> None:
        if self.sequencer is not None:
            await self.sequencer.halt()
        for loop in self.loops:
            await loop.stop()

    # --- closing -----------------------------------------------------------------

    async def end_campaign(self) -> None:
        """Stop trying (a closing node): the loops and the lock stay as they are until ``release``; a try in
        flight holds nothing after (``_try``)."""
        campaign, self._campaign = self._campaign, None
        if campaign is not None:
            campaign.cancel()
            await asyncio.wait([campaign])  # unlike awaiting it, lets a cancellation of the caller through
            if not campaign.cancelled() and campaign.exception() is not None:
                log.error("the leadership campaign failed", exc_info=campaign.exception())
        if self._standing_down is not None:
            await self._standing_down

    async def release(self) -> None:
        """Give up the lock (after the loops stopped and the sequencer's last step): another may lead at once."""
        self.leads = False
        lock, executor = self._lock, self._executor
        self._lock, self._executor = None, None
        if lock is None or executor is None:
            return
        try:  # a connection the network lost may hang: its session ends on the database's side anyway
            async with asyncio.timeout(CHECK_TIMEOUT):
                await asyncio.get_running_loop().run_in_executor(executor, lock.dispose)
        except (LockConnectionLost, TimeoutError) as error:
            log.warning("could not close the leader lock's connection: %s", error)
        executor.shutdown(wait=False)
