"""The sequencer: integrates appended events into the Merkle log and publishes signed checkpoints.

It runs beside the request path, never on it: appends stay plain inserts and
integration happens in batches (as Trillian and Tessera do). A checkpoint is
published when the tree has grown and either ``checkpoint_interval`` has
passed since the last one or ``checkpoint_leaves`` leaves were added. Before
signing, the new tree is proved consistent with the last published
checkpoint from the stored nodes, so the node never signs two inconsistent
checkpoints, even if its own storage was changed under it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from share_gateway.crypto.keys import SigningKey
from share_gateway.gateway.failures import database_outage
from share_gateway.ledger.checkpoint import Checkpoint
from share_gateway.ledger.verify import ProofError, verify_consistency
from share_gateway.store.log import Integration, LogStore

log = logging.getLogger(__name__)
Run = Callable[..., Awaitable[Any]]


class InconsistentLog(Exception):
    """The stored tree does not extend the last published checkpoint: the node refuses to sign."""


@dataclass
class SequencerSettings:
    interval: float = 0.2
    checkpoint_interval: float = 1.0
    checkpoint_leaves: int = 10_000
    # Leaves per write transaction: appends wait for SQLite's one writer while it is held.
    batch: int = 2_000


class Sequencer:
    def __init__(
        self, store: LogStore, key: SigningKey, run: Run, clock: Callable[[], Any], settings: SequencerSettings
    ) -> None:
        self.store = store
        self.key = key
        self.settings = settings
        self._run = run
        self._clock = clock
        self._published_size = -1
        self._published_at = -math.inf  # never: monotonic time starts near zero after a boot
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        # Once stopping with a bound: the monotonic time after which no further batch is integrated.
        self._stop_by = math.inf
        self.alarm: str | None = None

    async def integrate(self) -> Integration:
        """Integrate everything appended so far (when stopping, only until the stop's bound: one batch at least)."""
        result: Integration = await self._run(self.store.integrate, self.settings.batch)
        while result.added == self.settings.batch and time.monotonic() < self._stop_by:
            result = await self._run(self.store.integrate, self.settings.batch)
        return result

    async def step(self, force: bool = False) -> Checkpoint | None:
        """Integrate, then publish a checkpoint if one is due (or ``force``); return it if published."""
        head = await self.integrate()
        if self._published_size < 0:
            latest = await self._run(self.store.latest_checkpoint)
            self._published_size = -1 if latest is None else latest.size
        grown = head.size > self._published_size and head.size > 0
        due = (
            force
            or time.monotonic() - self._published_at >= self.settings.checkpoint_interval
            or head.size - self._published_size >= self.settings.checkpoint_leaves
        )
        if not (grown and due):
            return None
        await self._check_extends_last(head)
        checkpoint = Checkpoint(self.key.name, head.size, head.root)
        await self._run(self.store.add_checkpoint, head.size, head.root, checkpoint.sign(self.key), self._clock())
        self._published_size, self._published_at = head.size, time.monotonic()
        return checkpoint

    async def _check_extends_last(self, head: Integration) -> None:
        latest = await self._run(self.store.latest_checkpoint)
        if latest is None or latest.size == 0:
            return
        try:
            proof = await self._run(self.store.consistency_proof, latest.size, head.size)
            verify_consistency(latest.size, head.size, latest.root, head.root, proof)
        except (ProofError, LookupError) as error:
            self.alarm = f"stored tree does not extend checkpoint {latest.size}: {error}"
            log.exception("refusing to sign: %s", self.alarm)
            raise InconsistentLog(self.alarm) from error

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.step()
            except InconsistentLog:
                return  # stop signing; health reports the alarm
            except Exception as error:
                if database_outage(error, "sequencer") is None:
                    log.exception("sequencer step failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.settings.interval)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="sequencer")

    @property
    def ended(self) -> bool:
        """Started and no longer running although not stopped: on its alarm, or (for liveness) by a fault."""
        return self._task is not None and self._task.done() and not self._stopping.is_set()

    async def stop(self, within: float | None = None) -> None:
        """Stop the loop, then integrate and publish what is left: for at most ``within`` seconds (and the batch
        then in progress), after which the rest waits for the next sequencer; appends are durable, and integration
        resumes where it stopped."""
        if within is not None:
            self._stop_by = time.monotonic() + within
        self._stopping.set()
        if self._task is not None:
            await self._task
        if self.alarm is None:
            await self.step(force=True)
