"""A node started on a wrong configuration says what is wrong in one line and exits 2, as an operator sees it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.unit.test_config import MINIMAL


def start(tmp_path: Path, verb: list[str], settings: dict[str, Any], env: dict[str, str]) -> tuple[Path, str, int]:
    """Run ``share-gateway VERB --config node.yaml`` on ``settings``; its stderr and exit status."""
    path = tmp_path / "node.yaml"
    path.write_text(yaml.safe_dump(settings))
    result = subprocess.run(
        [sys.executable, "-m", "share_gateway.cli", *verb, "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **env},
    )
    return path, result.stderr, result.returncode


@pytest.mark.parametrize(
    ("verb", "settings", "env", "problem"),
    [
        # Was ``KeyError: 'database'`` and a traceback.
        (["serve"], {k: v for k, v in MINIMAL.items() if k != "database"}, {}, "database: is required"),
        # Was a node that started, then failed every sequencer step.
        (
            ["sequencer"],
            {**MINIMAL, "log": {"checkpoint_interval_seconds": "fast"}},
            {},
            "log.checkpoint_interval_seconds: must be a number, not 'fast'",
        ),
        # Was read as true: the public port served without TLS.
        (
            ["serve"],
            MINIMAL,
            {"SHARE_GATEWAY_PUBLIC_PLAINTEXT": '"false"'},
            "public_plaintext (from SHARE_GATEWAY_PUBLIC_PLAINTEXT): must be true or false (unquoted), not 'false'",
        ),
        (["node", "trust-status"], {**MINIMAL, "databse": "x"}, {}, "databse: unknown setting"),
    ],
)
def test_a_wrong_configuration_is_one_line_and_exit_status_2(
    tmp_path: Path, verb: list[str], settings: dict[str, Any], env: dict[str, str], problem: str
) -> None:
    path, stderr, status = start(tmp_path, verb, settings, env)
    assert stderr == f"share-gateway: {path}: {problem}\n"
    assert status == 2
