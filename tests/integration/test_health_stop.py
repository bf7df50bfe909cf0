"""Health told to stop stops, whenever the stop lands: even as a look at the database returns.

On Python 3.11, ``asyncio.wait_for`` returns the result instead of raising when a cancellation arrives as the
awaited call completes; the health loop, cancelled at that moment, went on for ever and the node's stop, which
awaits it, hung (seen once in a full suite run)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from share_gateway.config_operations import HealthSettings
from share_gateway.gateway.health import HealthChecks
from share_gateway.node import Node


@pytest.mark.parametrize("turns", range(6))
async def test_a_look_cancelled_as_it_returns_is_cancelled(node: Node, turns: int) -> None:
    checks = HealthChecks(node.gateway, HealthSettings())
    answered = threading.Event()

    def look() -> int:
        answered.set()
        return 1

    try:
        reading = asyncio.ensure_future(checks._read(look))
        await asyncio.to_thread(answered.wait, 30)
        for _ in range(turns):  # the look has returned on its thread; its result reaches the loop in some turns
            await asyncio.sleep(0)
        if reading.cancel():  # not finished yet: the cancellation is taken, so it must end the look
            with pytest.raises(asyncio.CancelledError):
                await reading
        else:
            assert reading.result() == 1
    finally:
        checks.close()
