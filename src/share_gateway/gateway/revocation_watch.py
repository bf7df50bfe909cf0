"""Revocations pushed to the requesters that received the records, as they happen, and their acknowledgements.

``ListRevocations`` lets a requester poll its feed; ``watch`` delivers the same feed (the revocations of
records the disclosure ledger says it received) as it grows, each entry with its feed position as the
cursor. A watcher that reconnects with the last position it got misses nothing and gets nothing twice:
positions follow commit order (``store.revocations``), and every watch first reads its feed from the cursor.

How a watcher learns of a new revocation, without polling the database in a loop:

1. ``store.revocations`` announces each revocation it keeps once its transaction committed; the
   announcement wakes the one dispatcher of this process (thread-safe, nothing read yet).
2. Revocations other replicas keep (one PostgreSQL behind N replicas) are found by a bounded re-read:
   the dispatcher also runs every ``reread_seconds``, one query, and only while someone watches.
   (LISTEN/NOTIFY would save that query but needs a connection of its own per process and a second code
   path for SQLite; one indexed read every two seconds per process costs less than that complexity.)
3. The dispatcher reads what is new once (``recipients_after``: each revocation with its recipients) and
   puts each entry into the bounded queue of every watcher of that recipient, never waiting for one.
4. A requester holds at most ``watches_per_requester`` watches at a process (RESOURCE_EXHAUSTED beyond), and
   a watcher whose queue is full (its client reads slowly) is marked lagging instead: it drops its queue
   and reads its feed from its cursor when it next runs, so it holds at most ``queue_size`` entries and
   never holds back the dispatcher or anyone else.

At shutdown ``close`` ends every watch with ``Unavailable`` (UNAVAILABLE on the wire), so clients resume
from their cursor at another replica.

Acknowledgement is a unary call (``acknowledge``), not a client stream: grpcio's servers here take unary
requests through one checked door (``api.requests``), a unary call can reach any replica (the stream and
its acknowledgements need not share a connection), and retrying it is harmless, since acknowledging up to a
position is cumulative and idempotent, as a stream consumer commits an offset.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from share_gateway.config import RevocationWatchSettings
from share_gateway.crypto.envelope import Envelope
from share_gateway.domain.errors import Exhausted, FieldViolation, InvalidInput, Unavailable
from share_gateway.domain.events import Event, EventKind, Outcome
from share_gateway.domain.policy import Principal
from share_gateway.gateway.periodic import Periodic
from share_gateway.gateway.repair import revocations_read
from share_gateway.gateway.runtime import NodeRuntime
from share_gateway.store.acknowledgements import Acknowledged, RequesterAcknowledgements
from share_gateway.store.unit_of_work import UnitOfWork

Entry = tuple[int, Envelope]
# How many feed positions one read takes (a watcher's catch-up page, the dispatcher's step).
PAGE = 200
SHUTTING_DOWN = "NODE_SHUTTING_DOWN"
TOO_MANY_WATCHES = "WATCHES_PER_REQUESTER"


@dataclass(eq=False)
class _Watcher:
    """One open watch: its bounded queue, and whether it overflowed (then it reads from its cursor)."""

    recipient: str
    queue: asyncio.Queue[Entry]
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    lagging: bool = True  # a new watch first reads its feed from the cursor it gave

    def offer(self, entry: Entry) -> bool:
        """Take ``entry`` without ever waiting; when full, fall back to reading from the cursor (returns True)."""
        overflowed = False
        if not self.lagging:
            try:
                self.queue.put_nowait(entry)
            except asyncio.QueueFull:
                self.lagging = overflowed = True
        self.wake.set()
        return overflowed


@dataclass(frozen=True)
class AcknowledgementReceipt:
    acknowledged: int
    late: int


class RevocationWatch:
    def __init__(self, runtime: NodeRuntime, settings: RevocationWatchSettings) -> None:
        self.runtime = runtime
        self.settings = settings
        self._watchers: dict[str, set[_Watcher]] = {}
        # The last feed position handed to watchers; None while nobody watches.
        self._dispatched: int | None = None
        self._dispatching = asyncio.Lock()
        self._closing = False
        self._gone = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.loop = Periodic("revocation watch", self._dispatch, settings.reread_seconds)
        # Watchers that overflowed and fell back to reading from their cursor (for tests and metrics).
        self.fallbacks = 0
        runtime.store.revocations.listen(self._kept)

    @property
    def watching(self) -> int:
        return sum(len(w) for w in self._watchers.values())

    def _kept(self) -> None:
        """A revocation committed (on a store thread): wake the dispatcher on its loop."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.loop.wake)

    async def _dispatch(self) -> None:
        """Hand what is new since the last position dispatched to the watchers of its recipients, in feed order."""
        async with self._dispatching:
            while self._watchers and self._dispatched is not None:
                rows, last = await self.runtime.read(
                    self.runtime.store.revocations.recipients_after, self._dispatched, PAGE
                )
                for position, recipient, envelope in rows:
                    for watcher in self._watchers.get(recipient, ()):
                        self.fallbacks += watcher.offer((position, envelope))
                if last == self._dispatched:
                    return
                self._dispatched = last

    async def _subscribe(self, recipient: str) -> _Watcher:
        """Register a watcher, starting the dispatcher's position first (under its lock) if nobody watched."""
        self._loop = asyncio.get_running_loop()
        watcher = _Watcher(recipient, asyncio.Queue(self.settings.queue_size))
        async with self._dispatching:
            if len(self._watchers.get(recipient, ())) >= self.settings.watches_per_requester:
                raise Exhausted(
                    TOO_MANY_WATCHES,
                    recipient,
                    f"at most {self.settings.watches_per_requester} watches at once: close one first",
                    self.settings.reread_seconds,
                )
            if not self._watchers:
                self._dispatched = await self.runtime.read(self.runtime.store.revocations.last_position)
            self._watchers.setdefault(recipient, set()).add(watcher)
        self._gone.clear()
        watcher.wake.set()  # read the feed from the cursor first
        return watcher

    def _unsubscribe(self, watcher: _Watcher) -> None:
        mine = self._watchers.get(watcher.recipient, set())
        mine.discard(watcher)
        if not mine:
            self._watchers.pop(watcher.recipient, None)
        if not self._watchers:
            self._dispatched = None
            self._gone.set()

    async def watch(self, requester: Principal, after: int) -> AsyncIterator[list[Entry]]:
        """Batches of the requester's feed after position ``after``, as they come, until the node shuts down."""
        if self._closing:
            raise Unavailable("this node is shutting down: watch at another replica", SHUTTING_DOWN)
        last = await self.runtime.read(self.runtime.store.revocations.last_position)
        if after > last:
            # A cursor of another region's feed, or a made-up one: following it would skip what comes before it.
            raise InvalidInput([FieldViolation("after", f"beyond the feed: its last position is {last}")])
        watcher = await self._subscribe(requester.uri)
        cursor = after
        try:
            while True:
                await watcher.wake.wait()
                watcher.wake.clear()
                if self._closing:
                    raise Unavailable(
                        f"this node is shutting down: resume after position {cursor} at another replica",
                        SHUTTING_DOWN,
                    )
                if watcher.lagging:
                    watcher.lagging = False
                    while not watcher.queue.empty():
                        watcher.queue.get_nowait()
                    while page := await self._read(requester.uri, cursor):
                        await self._log(requester, cursor, page)
                        yield page
                        cursor = page[-1][0]
                    continue
                batch, before = [], cursor
                while not watcher.queue.empty():
                    entry = watcher.queue.get_nowait()
                    if entry[0] > cursor:
                        batch.append(entry)
                        cursor = entry[0]
                if batch:
                    await self._log(requester, before, batch)
                    yield batch
        finally:
            self._unsubscribe(watcher)

    async def _read(self, recipient: str, cursor: int) -> list[Entry]:
        return await self.runtime.read(self.runtime.store.revocations.feed, recipient, cursor, PAGE)

    async def _log(self, requester: Principal, after: int, entries: Sequence[Entry]) -> None:
        """Each batch pushed is logged as read, like a page of ``ListRevocations`` (via: watch)."""
        await self.runtime.event_log.append(revocations_read(self.runtime, requester, after, entries, "watch"))

    async def acknowledge(self, requester: Principal, through: int) -> AcknowledgementReceipt:
        """Record that ``requester`` acted on its feed up to position ``through``; a late one is reported.

        Lateness counts from when this node kept the revocation (when the requester could first learn of it)
        to now; an acknowledgement past ``acknowledge_within`` is a ``revocation_acknowledged_late`` event for
        officers, besides the ``revocations_acknowledged`` event every acknowledgement is.
        """
        if through < 1:
            raise InvalidInput([FieldViolation("cursor", "a feed position you received, 1 or more")])
        last = await self.runtime.read(self.runtime.store.revocations.last_position)
        if through > last:
            raise InvalidInput([FieldViolation("cursor", f"beyond the feed: its last position is {last}")])
        now = self.runtime.clock()
        within = self.settings.acknowledge_within
        store = self.runtime.store

        def record(tx: UnitOfWork) -> list[Acknowledged]:
            done = store.acknowledgements.acknowledge(tx, requester.uri, through, now, within)
            store.events.append(tx, self._events(requester, through, done))
            return done

        done = await self.runtime.write(record)
        return AcknowledgementReceipt(len(done), sum(1 for a in done if a.late))

    def _events(self, requester: Principal, through: int, done: Sequence[Acknowledged]) -> list[Event]:
        def records(items: Sequence[Acknowledged]) -> str:
            return ",".join(f"{a.origin_region}/{a.record_id}" for a in items)[:2000]

        details = {"through": str(through), "count": str(len(done)), "records": records(done)}
        events = [self.runtime.event(EventKind.REVOCATIONS_ACKNOWLEDGED, requester, Outcome.ALLOWED, details=details)]
        late = [a for a in done if a.late]
        if late:
            slowest = max(events[0].at - a.kept_at for a in late)
            events.append(
                self.runtime.event(
                    EventKind.REVOCATION_ACKNOWLEDGED_LATE,
                    requester,
                    Outcome.ALLOWED,
                    details={
                        "through": str(through),
                        "count": str(len(late)),
                        "records": records(late),
                        "allowed_seconds": f"{self.settings.acknowledge_within_seconds:g}",
                        "slowest_seconds": f"{slowest.total_seconds():.0f}",
                    },
                )
            )
        return events

    async def review(self) -> list[RequesterAcknowledgements]:
        """Per requester, revocations unacknowledged past the time and those acknowledged late (for officers;
        the caller checks the officer and logs the review)."""
        now = self.runtime.clock()
        return await self.runtime.off_loop(
            self.runtime.store.acknowledgements.review, now, self.settings.acknowledge_within
        )

    async def close(self, within: float) -> None:
        """End every watch with UNAVAILABLE and wait (at most ``within`` seconds) until each has ended."""
        self._closing = True
        for watchers in list(self._watchers.values()):
            for watcher in watchers:
                watcher.wake.set()
        if self._watchers:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._gone.wait(), within)
