"""Signs of bulk enumeration, per requester and window: pure, the time passed in.

Three signals, each raised at most once per requester and window, so the log
gets one ``harvesting_suspected`` event per signal and window however hard a
harvester pushes:

* **distinct subjects**: the requester asked about a large share of the
  distinct subjects its purpose allows in a window (``distinct_share`` of the
  limit): an officer hears before the cut-off, not only after it;
* **sequential identifiers**: many inquiries whose subject identifier is a
  near neighbour of the previous one (an enumerator counting through order
  codes); real applicants arrive in no such order;
* **refusal ratio**: most of a requester's calls are refused (quota, consent,
  grant): someone probing, or pushing past a cut-off.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

# Characters of a USCC, in order (GB 32100-2015); a resident ID's serial part is digits.
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# A USCC's characters as the digits of a base-31 number ``int`` reads; any other character as one it refuses.
_AS_BASE_31 = str.maketrans(_USCC_ALPHABET + "IOSVZ", "0123456789ABCDEFGHIJKLMNOPQRSTU" + "!!!!!")


class Signal(StrEnum):
    DISTINCT_SUBJECTS = "distinct_subjects"
    SEQUENTIAL_IDENTIFIERS = "sequential_identifiers"
    REFUSAL_RATIO = "refusal_ratio"


@dataclass(frozen=True, slots=True)
class HarvestingThresholds:
    """When a requester's window looks like harvesting (README: the reason for each number)."""

    window_seconds: float = 3600.0
    # Share of the purpose's distinct-subject limit that raises the signal before the limit refuses.
    distinct_share: float = 0.8
    # Inquiries whose identifier is within ``sequential_gap`` of the previous one.
    sequential_steps: int = 20
    sequential_gap: int = 10
    # At least this many calls in the window, and at least this share of them refused.
    refusal_calls: int = 20
    refusal_share: float = 0.5

    def __post_init__(self) -> None:
        if not (0 < self.distinct_share <= 1 and 0 < self.refusal_share <= 1):
            raise ValueError("harvesting shares must be above 0 and at most 1")
        if min(self.sequential_steps, self.sequential_gap, self.refusal_calls) < 1 or self.window_seconds <= 0:
            raise ValueError("harvesting counts and window must be positive")


def serial_number(identifier: str) -> int | None:
    """An identifier's serial value, check characters left out, so neighbours differ by little; None if odd.

    A resident ID's first 17 digits (the order code counts last); a USCC's first 16 characters (the
    organisation code's own check character and the final one left out).
    """
    text = identifier.strip().upper()
    if len(text) != 18:
        return None
    if text[:17].isdigit():
        return int(text[:17])
    digits = text[:16].translate(_AS_BASE_31)
    if not (digits.isascii() and digits.isalnum()):  # outside the alphabet, or what ``int`` reads as a sign
        return None
    return int(digits, len(_USCC_ALPHABET))


@dataclass(slots=True)
class _Window:
    opened_at: datetime
    calls: int = 0
    refused: int = 0
    steps: int = 0
    last_serial: int | None = None
    raised: set[Signal] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class Suspicion:
    """A signal crossed in a requester's window, with the window's figures for the officer."""

    requester: str
    signal: Signal
    opened_at: datetime
    calls: int
    refused: int
    sequential_steps: int
    distinct_subjects: int


class HarvestingWatch:
    """The open window of each requester; what crosses a threshold is returned once per window."""

    def __init__(self, thresholds: HarvestingThresholds) -> None:
        self.thresholds = thresholds
        self._span = timedelta(seconds=thresholds.window_seconds)
        self._windows: dict[str, _Window] = {}

    def _window(self, requester: str, now: datetime) -> _Window:
        window = self._windows.get(requester)
        if window is None or now - window.opened_at >= self._span:
            if len(self._windows) > 10_000:
                self.forget_ended(now)
            window = self._windows[requester] = _Window(now)
        return window

    def asked(self, requester: str, identifier: str, now: datetime) -> list[Suspicion]:
        """An inquiry about ``identifier`` was admitted for ``requester``."""
        window = self._window(requester, now)
        window.calls += 1
        serial = serial_number(identifier)
        if serial is not None:
            if (
                window.last_serial is not None
                and 0 < abs(serial - window.last_serial) <= self.thresholds.sequential_gap
            ):
                window.steps += 1
            window.last_serial = serial
        raised = []
        if window.steps >= self.thresholds.sequential_steps:
            raised += self._raise(requester, window, Signal.SEQUENTIAL_IDENTIFIERS, 0)
        return raised + self._ratio(requester, window)

    def refused_in_window(self, requester: str, now: datetime) -> int:
        """How many of ``requester``'s calls were refused in its window so far."""
        return self._window(requester, now).refused

    def refused(self, requester: str, now: datetime, asked: bool = False) -> list[Suspicion]:
        """A call of ``requester`` was refused: by a quota, or (``asked``: counted already) by the policy."""
        window = self._window(requester, now)
        window.calls += 0 if asked else 1
        window.refused += 1
        return self._ratio(requester, window)

    def distinct(self, requester: str, seen: int, limit: int, now: datetime) -> list[Suspicion]:
        """``requester`` has asked about ``seen`` distinct subjects of a purpose allowing ``limit``."""
        if seen < max(1, round(limit * self.thresholds.distinct_share)):
            return []
        return self._raise(requester, self._window(requester, now), Signal.DISTINCT_SUBJECTS, seen)

    def _ratio(self, requester: str, window: _Window) -> list[Suspicion]:
        t = self.thresholds
        if window.calls >= t.refusal_calls and window.refused >= window.calls * t.refusal_share:
            return self._raise(requester, window, Signal.REFUSAL_RATIO, 0)
        return []

    def _raise(self, requester: str, window: _Window, signal: Signal, distinct: int) -> list[Suspicion]:
        if signal in window.raised:
            return []
        window.raised.add(signal)
        return [Suspicion(requester, signal, window.opened_at, window.calls, window.refused, window.steps, distinct)]

    def forget_ended(self, now: datetime) -> None:
        """Drop the windows that have ended (memory stays bounded by the requesters of one window)."""
        self._windows = {r: w for r, w in self._windows.items() if now - w.opened_at < self._span}
