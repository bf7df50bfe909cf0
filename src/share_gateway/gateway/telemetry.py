"""What the use cases count as they work, and which call they work for: read by the api layer's metrics and logs.

The gateway knows nothing of Prometheus: it adds to plain dictionaries here
(tens of nanoseconds on the event loop), and the metrics endpoint reads a
copy of them at scrape time. Gauges (log size, backlog, ...) are not kept
here at all: the endpoint reads them from the store when scraped.

``CallNote`` is the call a log line belongs to: the api layer sets one per
gRPC call, and the event a use case makes for it is noted on it, so every
line logged while the call runs can say which request and which event.
"""

from __future__ import annotations

import contextvars
import itertools
import os
from collections.abc import Callable
from dataclasses import dataclass, field

# The purpose label of an inquiry naming no purpose of the catalog: a caller must not grow the label set.
UNKNOWN_PURPOSE = "unknown"
_PROCESS = os.urandom(4).hex()
_SERIAL = itertools.count(1)


@dataclass(slots=True)
class CallNote:
    """One call as its log lines name it. The request id is made only when a line asks for it."""

    method: str
    # The caller's own request id (an ``x-request-id`` header), read only when first asked for.
    given_id: Callable[[], str | None] = lambda: None
    event_id: str | None = None
    _request_id: str | None = None

    @property
    def request_id(self) -> str:
        if self._request_id is None:
            self._request_id = self.given_id() or f"{_PROCESS}-{next(_SERIAL):x}"
        return self._request_id


current_call: contextvars.ContextVar[CallNote | None] = contextvars.ContextVar("share_gateway_call", default=None)


def note_event(event_id: str) -> None:
    """The call under way made this event (the last one it made wins: a call makes one event, or one per step)."""
    note = current_call.get()
    if note is not None:
        note.event_id = event_id


@dataclass(frozen=True, slots=True)
class Cosigned:
    """What a witness last cosigned of this node's log: the size, and the time its cosignature states."""

    size: int
    timestamp: int


@dataclass
class Recorder:
    """Counters the use cases add to; the api layer exports them. Keys are label values, bounded by the catalog,
    the manifest and the gRPC status codes (never a caller's free text)."""

    # (purpose, via ``client``/``peer``, outcome) -> inquiries
    inquiries: dict[tuple[str, str, str], int] = field(default_factory=dict)
    # reason (QUOTA_RATE, QUOTA_DAILY, ...) -> refusals
    quota_refusals: dict[str, int] = field(default_factory=dict)
    # quota lease transactions, by whether a call waited on it ("call") or it was taken ahead ("ahead")
    quota_leases: dict[str, int] = field(default_factory=dict)
    # (peer, method, status code) -> calls, and the seconds they took
    peer_calls: dict[tuple[str, str, str], int] = field(default_factory=dict)
    peer_seconds: dict[tuple[str, str, str], float] = field(default_factory=dict)
    # witness region -> what it last cosigned (on the process that asks for cosignatures)
    cosigned: dict[str, Cosigned] = field(default_factory=dict)

    def inquiry(self, purpose: str, via: str, outcome: str) -> None:
        key = (purpose, via, outcome)
        self.inquiries[key] = self.inquiries.get(key, 0) + 1

    def quota_refused(self, reason: str) -> None:
        self.quota_refusals[reason] = self.quota_refusals.get(reason, 0) + 1

    def quota_leased(self, waited: bool) -> None:
        key = "call" if waited else "ahead"
        self.quota_leases[key] = self.quota_leases.get(key, 0) + 1

    def peer_call(self, peer: str, method: str, code: str, seconds: float) -> None:
        key = (peer, method, code)
        self.peer_calls[key] = self.peer_calls.get(key, 0) + 1
        self.peer_seconds[key] = self.peer_seconds.get(key, 0.0) + seconds

    def witness_cosigned(self, witness: str, size: int, timestamp: int) -> None:
        self.cosigned[witness] = Cosigned(size, timestamp)

    def witness_asked(self, witness: str, timestamp: int) -> None:
        """A witness asked to cosign: one that never did shows as size 0 since it was first asked, so an alert on
        its silence can fire (a witness absent from the metrics would match no alert rule)."""
        self.cosigned.setdefault(witness, Cosigned(0, timestamp))
