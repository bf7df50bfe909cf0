"""Warnings before trust material expires: which artefacts warn, once a day each, and the horizon's settings.

Issue 13 ("No warning before expiry"): a manifest or certificate that fails
closed at expiry must be reported within a configured horizon, 30 days by
default (unverified: no source in DOMAIN.md sets a horizon; it is the
issue's choice).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from share_gateway.config import NodeConfig, TrustSettings
from share_gateway.config_operations import MetricsSettings, listen_address
from share_gateway.crypto.pki import certificate_expiry, create_ca
from share_gateway.domain.trust_expiry import (
    DEFAULT_HORIZON_DAYS,
    Artefact,
    ExpiryState,
    TrustMaterial,
    due_warnings,
    standing,
    standings,
    warning_key,
)

NOW = datetime(2026, 12, 1, 23, 0, tzinfo=UTC)
HORIZON = timedelta(days=30)


def manifest(expires: datetime | None, version: int = 3) -> TrustMaterial:
    return TrustMaterial(Artefact.MANIFEST, f"version {version}", expires)


def test_an_artefact_warns_from_the_horizon_before_its_expiry_and_is_expired_at_its_expiry_instant() -> None:
    """Expiring once at most ``horizon`` remains; expired from the instant a manifest is refused (``now >=
    expires``, as ``Manifest.require_current``)."""
    assert standing(manifest(NOW + HORIZON + timedelta(seconds=1)), NOW, HORIZON).state is ExpiryState.VALID
    assert standing(manifest(NOW + HORIZON), NOW, HORIZON).state is ExpiryState.EXPIRING
    tomorrow = standing(manifest(NOW + timedelta(days=1)), NOW, HORIZON)
    assert (tomorrow.state, tomorrow.remaining, tomorrow.warns) == (ExpiryState.EXPIRING, timedelta(days=1), True)
    assert standing(manifest(NOW), NOW, HORIZON).state is ExpiryState.EXPIRED
    past = standing(manifest(NOW - timedelta(hours=2)), NOW, HORIZON)
    assert (past.state, past.remaining, past.warns) == (ExpiryState.EXPIRED, timedelta(hours=-2), True)
    assert not standing(manifest(NOW + timedelta(days=90)), NOW, HORIZON).warns


def test_an_artefact_whose_format_carries_no_expiry_never_warns() -> None:
    """The catalog and the revocation list carry no expiry: reported as such, never as expiring."""
    catalog = TrustMaterial(Artefact.CATALOG, "version 1", None)
    (result,) = standings([catalog], NOW, HORIZON)
    assert (result.state, result.remaining, result.warns) == (ExpiryState.NO_EXPIRY, None, False)


def test_a_warning_is_due_once_per_artefact_per_utc_day() -> None:
    """At most one warning per artefact per UTC day; the next day it is due again, and a new version of the
    artefact is an artefact of its own."""
    current = standings([manifest(NOW + timedelta(days=1)), manifest(NOW + timedelta(days=200), 4)], NOW, HORIZON)
    (due,) = due_warnings(current, set(), NOW)
    assert due.material.identifier == "version 3"
    warned = {warning_key(due.material, NOW)}
    assert due_warnings(current, warned, NOW) == ()
    # 23:59 UTC is already the next day in Beijing, but warnings count UTC days: still warned today.
    beijing = (NOW + timedelta(minutes=59)).astimezone(timezone(timedelta(hours=8)))
    assert beijing.day == 2
    assert due_warnings(current, warned, beijing) == ()
    assert len(due_warnings(current, warned, NOW + timedelta(hours=1))) == 1
    renewed = standings([manifest(NOW + timedelta(days=1), 5)], NOW, HORIZON)
    assert len(due_warnings(renewed, warned, NOW)) == 1


def test_the_horizon_is_longer_than_zero_and_instants_carry_a_time_zone() -> None:
    with pytest.raises(ValueError, match="horizon"):
        standing(manifest(NOW), NOW, timedelta(0))
    with pytest.raises(ValueError, match="time zone"):
        manifest(datetime(2026, 12, 2))


def test_a_certificates_expiry_is_its_not_after() -> None:
    ca = create_ca("test CA", NOW, days=10)
    assert certificate_expiry(ca.cert_pem) == (NOW + timedelta(days=10)).replace(microsecond=0)


def test_the_expiry_warning_horizon_defaults_to_30_days_and_refuses_what_is_no_number_of_days() -> None:
    """``trust.expiry_warning_days``: 30 by default, a whole number from 1 to 365."""
    assert TrustSettings.from_mapping({}).expiry_horizon == timedelta(days=DEFAULT_HORIZON_DAYS) == HORIZON
    assert TrustSettings.from_mapping({"expiry_warning_days": 7}).expiry_horizon == timedelta(days=7)
    assert TrustSettings(365).expiry_warning_days == 365
    for bad in (0, -1, 366, "30", True, 1.5, None):
        with pytest.raises(ValueError, match=r"trust\.expiry_warning_days: must be (at least 1|at most 365|a whole)"):
            TrustSettings.from_mapping({"expiry_warning_days": bad})
    with pytest.raises(ValueError, match=r"trust\.expiry_days: unknown setting"):
        TrustSettings.from_mapping({"expiry_days": 30})


def test_metrics_are_off_by_default_and_their_address_is_host_and_port() -> None:
    assert MetricsSettings.from_mapping({}).listen is None
    assert listen_address("127.0.0.1:9464") == ("127.0.0.1", 9464)
    assert listen_address("[::1]:0") == ("::1", 0)
    for bad in ("9464", ":9464", "localhost:", "localhost:http", "localhost:65536", "[]:80"):
        with pytest.raises(ValueError, match="must be host:port"):
            MetricsSettings(bad)
    with pytest.raises(ValueError, match=r"metrics\.port: unknown setting"):
        MetricsSettings.from_mapping({"port": 9464})


def test_node_yaml_reads_the_trust_and_metrics_sections(tmp_path: Path) -> None:
    raw = {
        "region": "110000",
        "listen": "127.0.0.1:0",
        "database": "sqlite:///node.db",
        "tls": {"certificate": "tls.crt", "key": "tls.key", "ca": "ca.crt"},
        "signing_key": "signing.key",
        "authority_key": "authority.pub",
        "catalog": "catalog.signed",
    }
    path = tmp_path / "node.yaml"
    path.write_text(yaml.safe_dump(raw))
    default = NodeConfig.load(path)
    assert (default.trust.expiry_warning_days, default.metrics.listen) == (30, None)
    path.write_text(yaml.safe_dump(raw | {"trust": {"expiry_warning_days": 14}, "metrics": {"listen": "0.0.0.0:9464"}}))
    configured = NodeConfig.load(path)
    assert (configured.trust.expiry_warning_days, configured.metrics.listen) == (14, "0.0.0.0:9464")
    path.write_text(yaml.safe_dump(raw | {"trust": {"expiry_warning_days": 0}}))
    with pytest.raises(ValueError, match="expiry_warning_days"):
        NodeConfig.load(path)
