"""A database outage logged once per kind and window, not once per call that it fails.

During an outage every call and every background step fails the same way;
a traceback for each wrote tens of thousands of lines in ten seconds and
buried what mattered. Here the first failure of each kind (``store.outages``)
is one line, further ones are counted and reported in one line per window,
and the end of the outage (``recovered``) is one line with the count.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from share_gateway.store.outages import Outage, outage_of

# Seconds between two lines about the same kind of failure: each says how many failures it stands for.
WINDOW_SECONDS = 60.0


@dataclass
class _Window:
    opened: float
    count: int = 0


def short(error: BaseException) -> str:
    """The first line of what the database library said, without SQL or links: enough to tell outages apart."""
    origin = getattr(error, "orig", None) or error
    text = str(origin).strip().splitlines()
    return (text[0] if text else type(origin).__name__)[:200]


class FailureLog:
    """Failures of one dependency by kind: logged at the first, then one line per window with the count."""

    def __init__(
        self,
        logger: logging.Logger,
        dependency: str = "database",
        window: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.dependency = dependency
        self.window = window
        self._clock = clock
        self._windows: dict[str, _Window] = {}
        # Failures since the outage began (the first failure after the last recovery).
        self._total = 0
        self._lock = threading.Lock()

    @property
    def failing(self) -> bool:
        return bool(self._windows)

    def failed(self, kind: str, where: str, error: BaseException) -> None:
        """Count a failure of ``kind`` met by ``where`` (a call, a loop); log the first of its kind each window."""
        now = self._clock()
        with self._lock:
            self._total += 1
            window = self._windows.get(kind)
            if window is not None and now - window.opened < self.window:
                window.count += 1
                return
            self._windows[kind] = _Window(now)
        more = "" if window is None or not window.count else f" ({window.count} more since the last line)"
        self.logger.warning(
            "%s %s: %s, met by %s%s; the next line about it within %g s", self.dependency, kind, short(error), where,
            more, self.window,
        )  # fmt: skip

    def recovered(self) -> None:
        """The dependency answers again: one line for the whole outage, if there was one."""
        with self._lock:
            if not self._windows:
                return
            kinds, total = sorted(self._windows), self._total
            self._windows.clear()
            self._total = 0
        self.logger.warning(
            "%s answers again after %d failed calls and steps (%s)", self.dependency, total, ", ".join(kinds)
        )


# The process's one account of database outages: every node, call and loop in it reports here.
DATABASE = FailureLog(logging.getLogger("share_gateway.database"))


def database_outage(error: BaseException, where: str) -> Outage | None:
    """If ``error`` is a database outage, count it (logged once per kind and window) and return its kind."""
    outage = outage_of(error)
    if outage is not None:
        DATABASE.failed(outage.value, where, error)
    return outage
