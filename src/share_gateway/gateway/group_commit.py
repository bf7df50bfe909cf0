"""Group commit of events: concurrent inquiries share one transaction.

Each caller waits until its event is durable, so no answer ever leaves
before its log entry; while one batch is being written the next one
gathers, so throughput grows with load instead of queueing on the single
SQLite writer. A batch that fails is written again event by event (each in
a savepoint of its own): an event that cannot be stored fails its own
caller, never the others who happened to share its transaction.

What must commit with an event rides with it, in its batch's transaction and
its savepoint (``Batch``): the consents its inquiry brought first (``append``'s
``consents``), and a peer inquiry's nonce, which rides with the first event its
call appends (``riding``). So a hop or a new consent costs one commit shared
with every call in the batch, not one more of its own. Other work may ride in a
batch too (``carry``: a quota lease, run on the cursor before the events): it
costs no commit of its own, and its caller has its result once the batch is
durable.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from share_gateway.domain.events import Event
from share_gateway.store.consents import ConsentToKeep
from share_gateway.store.nonces import PeerNonce

# Writes a batch in one transaction.
Writer = Callable[["Batch"], Awaitable[None]]
# Writes each carried work, then each event with what rides with it, on its own after a batch failed: each one's
# failure, or None.
EachWriter = Callable[["Batch"], Awaitable[Sequence[Exception | None]]]
R = TypeVar("R")


class Carried(Generic[R]):
    """Work riding in a batch's transaction: called on its cursor, it keeps its result for its caller."""

    __slots__ = ("future", "result", "work")

    def __init__(self, work: Callable[[Any], R], future: asyncio.Future[R]) -> None:
        self.work, self.future = work, future
        self.result: R | None = None

    def __call__(self, cursor: Any) -> None:
        self.result = self.work(cursor)

    def settle(self, failure: Exception | None) -> None:
        if self.future.done():
            return
        if failure is None:
            self.future.set_result(self.result)  # type: ignore[arg-type]
        else:
            self.future.set_exception(failure)


@dataclass(frozen=True, slots=True)
class _Pending:
    event: Event
    future: asyncio.Future[None]
    consents: tuple[ConsentToKeep, ...]
    nonce: PeerNonce | None


@dataclass(frozen=True, slots=True)
class Batch:
    """One transaction's worth: the carried work, then the events, each with what rides with it."""

    carried: Sequence[Carried[Any]]
    events: Sequence[Event]
    # Per event, the consents its inquiry brought first.
    consents: Sequence[tuple[ConsentToKeep, ...]]
    # By event id, the nonce of the peer inquiry it answers.
    nonces: dict[str, PeerNonce]

    @property
    def all_consents(self) -> list[ConsentToKeep]:
        return [consent for kept in self.consents for consent in kept]


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
        self._pending: list[_Pending] = []
        self._carried: list[Carried[Any]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def append(self, event: Event, consents: Sequence[ConsentToKeep] = ()) -> None:
        """Return once ``event`` is committed, with ``consents`` registered in its transaction; raise if its
        batch failed."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        rider, nonce = _RIDER.get(), None
        if rider is not None and rider.committed is None:
            rider.committed, nonce = future, rider.nonce
        self._pending.append(_Pending(event, future, tuple(consents), nonce))
        self._flush_soon()
        # Shield: a caller whose RPC is cancelled stops waiting, but its event is still written.
        await asyncio.shield(future)

    async def carry(self, work: Callable[[Any], R]) -> R:
        """Run ``work`` on the next batch's cursor, before its events; its result once the batch committed."""
        carried = Carried(work, asyncio.get_running_loop().create_future())
        self._carried.append(carried)
        self._flush_soon()
        return await asyncio.shield(carried.future)

    def _flush_soon(self) -> None:
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())

    async def _flush(self) -> None:
        while self._pending or self._carried:
            pending, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch :]
            carried, self._carried = self._carried, []
            batch = Batch(
                carried,
                [p.event for p in pending],
                [p.consents for p in pending],
                {p.event.event_id: p.nonce for p in pending if p.nonce is not None},
            )
            failures: Sequence[Exception | None]
            try:
                await self._write(batch)
                failures = [None] * (len(carried) + len(pending))
            except Exception:  # noqa: BLE001 - the batch is retried one by one
                try:
                    failures = await self._write_each(batch)
                except Exception as error:  # noqa: BLE001 - the store itself failed: each waiter gets it
                    failures = [error] * (len(carried) + len(pending))
            for work, failure in zip(carried, failures[: len(carried)], strict=True):
                work.settle(failure)
            for p, failure in zip(pending, failures[len(carried) :], strict=True):
                future = p.future
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
