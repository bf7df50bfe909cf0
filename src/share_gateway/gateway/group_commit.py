"""Group commit of events: concurrent inquiries share one transaction.

Each caller waits until its event is durable, so no answer ever leaves
before its log entry; while one batch is being written the next one
gathers, so throughput grows with load instead of queueing on the single
SQLite writer. A batch that fails is written again event by event (each in
a savepoint of its own): an event that cannot be stored fails its own
caller, never the others who happened to share its transaction.

A peer inquiry's nonce rides with the first event its call appends (``riding``):
the nonce commits in that event's batch, so a hop costs the peer one commit
(shared with every call in the batch), not a commit for the nonce and one more
for the answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from share_gateway.domain.events import Event
from share_gateway.store.nonces import PeerNonce

Writer = Callable[[Sequence[Event]], Awaitable[None]]
# Writes each event on its own after a batch failed: each event's failure, or None if it was written.
EachWriter = Callable[[Sequence[Event]], Awaitable[Sequence[Exception | None]]]


@dataclass
class Rider:
    """A nonce waiting for the next event its call appends; ``committed`` is that event's once it is taken."""

    nonce: PeerNonce
    committed: asyncio.Future[None] | None = None


_RIDER: ContextVar[Rider | None] = ContextVar("share_gateway_nonce_rider", default=None)


@contextmanager
def riding(nonce: PeerNonce) -> Iterator[Rider]:
    """While the block runs, the first event this call (task) appends carries ``nonce`` into its transaction."""
    rider = Rider(nonce)
    token = _RIDER.set(rider)
    try:
        yield rider
    finally:
        _RIDER.reset(token)


class GroupCommit:
    def __init__(self, write: Writer, write_each: EachWriter, max_batch: int = 1024) -> None:
        self._write = write
        self._write_each = write_each
        self._max_batch = max_batch
        self._pending: list[tuple[Event, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None
        # The nonces riding with pending events, by event id (the writers ask for them: ``nonces_of``).
        self._riding: dict[str, PeerNonce] = {}

    def nonces_of(self, events: Sequence[Event]) -> dict[str, PeerNonce]:
        """The nonces riding with ``events``, by event id."""
        if not self._riding:
            return {}
        return {e.event_id: self._riding[e.event_id] for e in events if e.event_id in self._riding}

    async def append(self, event: Event) -> None:
        """Return once ``event`` is committed; raise if its batch failed."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        rider = _RIDER.get()
        if rider is not None and rider.committed is None:
            rider.committed = future
            self._riding[event.event_id] = rider.nonce
        self._pending.append((event, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        # Shield: a caller whose RPC is cancelled stops waiting, but its event is still written.
        await asyncio.shield(future)

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch :]
            events = [event for event, _ in batch]
            failures: Sequence[Exception | None]
            try:
                await self._write(events)
                failures = [None] * len(batch)
            except Exception:  # noqa: BLE001 - the batch is retried event by event
                try:
                    failures = await self._write_each(events)
                except Exception as error:  # noqa: BLE001 - the store itself failed: each waiter gets it
                    failures = [error] * len(batch)
            for (event, future), failure in zip(batch, failures, strict=True):
                self._riding.pop(event.event_id, None)
                if future.done():
                    continue
                if failure is None:
                    future.set_result(None)
                else:
                    future.set_exception(failure)

    async def drain(self) -> None:
        """Wait until everything appended so far is written (for graceful shutdown)."""
        while self._flusher is not None and not self._flusher.done():
            await asyncio.shield(self._flusher)
