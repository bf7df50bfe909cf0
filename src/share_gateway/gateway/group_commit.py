"""Group commit of events: concurrent inquiries share one transaction.

Each caller waits until its event is durable, so no answer ever leaves
before its log entry; while one batch is being written the next one
gathers, so throughput grows with load instead of queueing on the single
SQLite writer. A batch that fails is written again event by event (each in
a savepoint of its own): an event that cannot be stored fails its own
caller, never the others who happened to share its transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from share_gateway.domain.events import Event

Writer = Callable[[Sequence[Event]], Awaitable[None]]
# Writes each event on its own after a batch failed: each event's failure, or None if it was written.
EachWriter = Callable[[Sequence[Event]], Awaitable[Sequence[Exception | None]]]


class GroupCommit:
    def __init__(self, write: Writer, write_each: EachWriter, max_batch: int = 1024) -> None:
        self._write = write
        self._write_each = write_each
        self._max_batch = max_batch
        self._pending: list[tuple[Event, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def append(self, event: Event) -> None:
        """Return once ``event`` is committed; raise if its batch failed."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
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
            for (_, future), failure in zip(batch, failures, strict=True):
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
