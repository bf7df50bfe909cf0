"""The courier's backoff: doubling from the first wait, capped, so a peer that was down is retried soon enough."""

from __future__ import annotations

from share_gateway.gateway.outbox import CourierSettings, backoff


def test_backoff_doubles_from_the_first_wait_up_to_the_cap() -> None:
    settings = CourierSettings(first_backoff=0.5, max_backoff=30.0)
    assert [backoff(n, settings) for n in range(1, 9)] == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert backoff(1000, settings) == 30.0
