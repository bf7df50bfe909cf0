"""The sequencer: integrates appended events into the Merkle log and publishes signed checkpoints.

It runs beside the request path, never on it: appends stay plain inserts and
integration happens in batches (as Trillian and Tessera do). A checkpoint is
published when the tree has grown and either ``checkpoint_interval`` has
passed since the last one or ``checkpoint_leaves`` leaves were added. Before
signing, the new tree is proved consistent with the last published
checkpoint from the stored nodes, so the node never signs two inconsistent
checkpoints, even if its own storage was changed under it.

Beside the log it keeps the verifiable index's tree (``ledger.index``) in
memory, built once from the stored chains and then updated with the keys each
batch touched, and signs an index checkpoint with every log checkpoint.
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
from share_gateway.ledger.index import IndexCheckpoint
from share_gateway.ledger.index_tree import IndexTree
from share_gateway.ledger.verify import ProofError, verify_consistency
from share_gateway.store.log import Integration, LogStore

log = logging.getLogger(__name__)
Run = Callable[..., Awaitable[Any]]
Guard = Callable[[], Awaitable[bool]]


class InconsistentLog(Exception):
    """The stored tree does not extend the last published checkpoint: the node refuses to sign."""


@dataclass
class SequencerSettings:
    interval: float = 0.2
    checkpoint_interval: float = 1.0
    checkpoint_leaves: int = 10_000
    # Leaves per write transaction: appends wait for SQLite's one writer while it is held.
    batch: int = 2_000
    # Seconds the last step on stopping may integrate before it publishes what is integrated.
    stop_within: float = 2.0


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
        # When the last step on stopping must publish what it has (monotonic time), once stopping.
        self._stop_by: float | None = None
        self.alarm: str | None = None
        # Asked before each batch whether this process may still act (the region's leadership); None: always.
        self.guard: Guard | None = None
        # Whether the node holds its log back (a restore its operator has not acknowledged): nothing is integrated
        # or signed meanwhile (``gateway.restore``).
        self.held: Callable[[], bool] | None = None
        # The index's tree and the log size it covers (None: to be built from the stored chains).
        self._index: IndexTree | None = None
        self._index_size = -1
        # One step at a time, whoever calls it: the index's tree is updated in place.
        self._stepping = asyncio.Lock()

    async def _may_act(self) -> bool:
        if self.held is not None and self.held():
            return False
        return self.guard is None or await self.guard()

    async def step(self, force: bool = False) -> Checkpoint | None:
        """Integrate a batch at a time, publishing each checkpoint that comes due on the way and, with ``force``,
        one at the end; return the last one published.

        A checkpoint is due once ``checkpoint_interval`` passed since the last or ``checkpoint_leaves`` leaves
        were added. The step ends when the backlog is integrated, the loop is stopping, or the guard refuses.
        """
        async with self._stepping:
            return await self._steps(force)

    async def _steps(self, force: bool) -> Checkpoint | None:
        published = None
        while await self._may_act():
            head: Integration = await self._run(self.store.integrate, self.settings.batch)
            await self._run(self._follow_index, head)
            if self._published_size < 0:
                latest = await self._run(self.store.latest_checkpoint)
                self._published_size = -1 if latest is None else latest.size
            backlog = head.added == self.settings.batch and not self._out_of_time()
            grown = head.size > self._published_size and head.size > 0
            due = (
                (force and not backlog)
                or time.monotonic() - self._published_at >= self.settings.checkpoint_interval
                or head.size - self._published_size >= self.settings.checkpoint_leaves
            )
            if grown and due:
                published = await self._publish(head)
            if not backlog or (self._stopping.is_set() and self._stop_by is None):
                break
        return published

    def _out_of_time(self) -> bool:
        return self._stop_by is not None and time.monotonic() >= self._stop_by

    def _follow_index(self, head: Integration) -> None:
        """Bring the index's tree to ``head``: the batch's keys if the tree stood just before it, else (at the
        first step, or after another process integrated) built again from the stored chains."""
        tree, size = self._index, self._index_size
        if tree is not None and size == head.size - head.added:
            for key_hash, chain in head.index.items():
                tree.set(key_hash, chain)
        elif tree is None or size != head.size:
            tree = IndexTree(self.store.index.values_at(head.size))
        self._index, self._index_size = tree, head.size

    def _index_root(self, size: int) -> bytes:
        """The index root at ``size``: the tree's, which follows every integration (built again if it does not)."""
        if self._index is None or self._index_size != size:
            self._index, self._index_size = IndexTree(self.store.index.values_at(size)), size
        return self._index.root

    async def _publish(self, head: Integration) -> Checkpoint:
        await self._check_extends_last(head)
        checkpoint = Checkpoint(self.key.name, head.size, head.root)
        now = self._clock()
        await self._run(self.store.add_checkpoint, head.size, head.root, checkpoint.sign(self.key), now)
        index_root = await self._run(self._index_root, head.size)
        index = IndexCheckpoint(self.key.name, head.size, head.root, index_root)
        await self._run(self.store.index.add_checkpoint, head.size, index.index_root, index.sign(self.key), now)
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
        """Start the loop; what another leader published meanwhile is read again at the first step."""
        self._stopping.clear()
        self._stop_by = None
        self._published_size = -1
        self._index = None
        self._task = asyncio.create_task(self._loop(), name="sequencer")

    @property
    def ended(self) -> bool:
        """Started and no longer running although not stopped: on its alarm, or (for liveness) by a fault."""
        return self._task is not None and self._task.done() and not self._stopping.is_set()

    async def halt(self) -> None:
        """Stop at once, publishing nothing more: this process no longer leads (another may by now)."""
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def stop(self, within: float | None = None) -> None:
        """Stop the loop after its batch in flight, then integrate for at most ``within`` seconds (default
        ``stop_within``) and publish what is integrated: bounded however long the backlog; the rest waits for
        the next sequencer (appends are durable, and integration resumes where it stopped)."""
        self._stopping.set()
        if self._task is not None:
            await self._task
            self._task = None
        if self.alarm is None:
            self._stop_by = time.monotonic() + (self.settings.stop_within if within is None else within)
            await self.step(force=True)
