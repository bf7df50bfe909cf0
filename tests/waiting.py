"""Waiting for a condition, never for a duration: one generous deadline for the whole suite.

The suite runs on loaded machines (CI has two cores, and other jobs run beside it), so a test
that waits for something asynchronous (a courier's delivery, a witness's cosignature, the
sequencer's checkpoint, a process's output) polls for it until ``PATIENCE`` runs out. That is
long enough that load never trips it and short enough that a condition that never holds fails
with its own message before pytest-timeout (120 s per test) stops the test. A time bound an
issue names is a bench figure (see bench/), not something a test asserts.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

# Seconds to wait for a condition before the test fails.
PATIENCE = 60.0
# Seconds between two looks at the condition.
POLL = 0.05
# pytest-timeout of a test that starts processes, instead of the suite's 120 s: each `share-gateway`
# command imports grpc, SQLAlchemy and alembic (about 2 s of a quiet machine, over 20 s of a loaded
# one), and a command-line test runs up to 19 of them.
PROCESS_TEST_SECONDS = 600


def _expired(deadline: float, seconds: float) -> None:
    if time.monotonic() > deadline:
        raise AssertionError(f"the condition did not hold within {seconds} s")


async def eventually(condition: Callable[[], bool], seconds: float = PATIENCE) -> None:
    """Wait until ``condition`` holds, letting the event loop run meanwhile; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        _expired(deadline, seconds)
        await asyncio.sleep(POLL)


def wait_until(condition: Callable[[], bool], seconds: float = PATIENCE) -> None:
    """Wait until ``condition`` holds (for tests whose servers run in other processes); fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        _expired(deadline, seconds)
        time.sleep(POLL)
