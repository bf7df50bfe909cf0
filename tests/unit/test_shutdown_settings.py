"""The shutdown section of node.yaml: a drain delay, a grace period and the sequencer's bound, each in seconds
from 0 to an hour; anything else is refused with the key named."""

from __future__ import annotations

import re

import pytest

from share_gateway.config import FederationSettings
from share_gateway.config_operations import ShutdownSettings


def test_shutdown_settings_are_read_with_their_defaults() -> None:
    assert ShutdownSettings.from_mapping({}) == ShutdownSettings(0.0, 10.0, 10.0)
    settings = ShutdownSettings.from_mapping({"drain_delay_seconds": 5, "grace_seconds": 0})
    assert (settings.drain_delay_seconds, settings.grace_seconds, settings.sequencer_seconds) == (5, 0, 10.0)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"drain_delay_seconds": -1}, "shutdown.drain_delay_seconds"),
        ({"grace_seconds": "10"}, "shutdown.grace_seconds"),
        ({"sequencer_seconds": True}, "shutdown.sequencer_seconds"),
        ({"grace_seconds": 3601}, "shutdown.grace_seconds"),
        ({"drain_seconds": 5}, "shutdown.drain_seconds: unknown setting"),
    ],
)
def test_a_wrong_shutdown_setting_is_refused_naming_it(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        ShutdownSettings.from_mapping(raw)


def test_the_wait_for_a_peer_is_a_positive_number_of_seconds() -> None:
    assert FederationSettings.from_mapping({"peer_timeout_seconds": 30}).peer_timeout_seconds == 30
    with pytest.raises(ValueError, match=re.escape("federation.peer_timeout_seconds")):
        FederationSettings.from_mapping({"peer_timeout_seconds": 0})
