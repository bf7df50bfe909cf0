"""``share-gateway node trust-status``: an operator's look at a node's trust material and when it expires.

Issue 13, "No warning before expiry": the manifest and certificates fail
closed at expiry, so an operator needs to see beforehand which expires within
the horizon (30 days by default; unverified: DOMAIN.md names none).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.e2e.conftest import run
from tests.waiting import PROCESS_TEST_SECONDS

pytestmark = pytest.mark.timeout(PROCESS_TEST_SECONDS)  # every command is a process of its own


def rows(stdout: str) -> dict[str, list[str]]:
    """The table's rows by artefact: its cells, stripped."""
    cells = (line.strip("│ ").split("│") for line in stdout.splitlines() if line.startswith("│"))
    return {parts[0].strip(): [cell.strip() for cell in parts[1:]] for parts in cells}


def test_trust_status_lists_each_artefact_and_fails_while_one_expires_within_the_horizon(pki: Path) -> None:
    config = str(pki / "nodes" / "110000" / "node.yaml")
    fresh = run("node", "trust-status", "--config", config, "--lang", "en")
    listed = rows(fresh.stdout)
    assert set(listed) >= {"manifest", "catalog", "revocation_list", "tls_certificate", "ca_certificate"}
    assert listed["manifest"][0] == "version 1"
    assert listed["manifest"][-1] == "valid"
    assert listed["catalog"][1:] == ["-", "-", "does not expire"]
    assert listed["revocation_list"][-1] == "does not expire"
    assert len(listed["tls_certificate"][0]) == 64  # named by the fingerprint a revocation list names
    # The authority re-signs the manifest for a day only: the node's status warns, and the exit status says so.
    run("federation", "sign", "--dir", str(pki), "--days", "1")
    warned = run("node", "trust-status", "--config", config, "--lang", "en", check=False)
    assert warned.returncode == 1
    manifest = rows(warned.stdout)["manifest"]
    assert (manifest[0], manifest[-1]) == ("version 2", "EXPIRING")
    assert "1 artefact(s) expire within 30 days" in warned.stderr
    # The horizon is the node's setting; one out of its range is refused in one line.
    node = yaml.safe_load(Path(config).read_text())
    Path(config).write_text(yaml.safe_dump(node | {"trust": {"expiry_warning_days": 0}}))
    refused = run("node", "trust-status", "--config", config, check=False)
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        f"share-gateway: {config}: trust.expiry_warning_days: must be at least 1, not 0"
    ]
