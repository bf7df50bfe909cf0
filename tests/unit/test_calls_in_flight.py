"""The door a stopping node closes: calls in flight are waited for, a call coming in after is refused retryably."""

from __future__ import annotations

import asyncio

import pytest

from share_gateway.api.in_flight import CallsInFlight
from share_gateway.domain.errors import Unavailable
from tests.waiting import PATIENCE


async def test_a_closed_door_refuses_new_calls_and_waits_for_those_in_flight() -> None:
    calls = CallsInFlight()
    calls.enter()
    calls.close()
    with pytest.raises(Unavailable) as refused:
        calls.enter()
    assert refused.value.reason == "NODE_SHUTTING_DOWN"
    waiting = asyncio.create_task(calls.finished(PATIENCE))
    for _ in range(10):
        await asyncio.sleep(0)
    assert not waiting.done()
    calls.leave()
    assert await waiting


async def test_calls_still_in_flight_when_the_time_is_up_are_reported() -> None:
    calls = CallsInFlight()
    calls.enter()
    assert not await calls.finished(0)
    assert calls.count == 1
