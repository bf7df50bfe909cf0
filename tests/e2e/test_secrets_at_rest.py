"""Secrets at rest: what `pki init` and a node write is private from its first byte, and `serve` refuses a key
others may read. The suite runs as root, so modes are read with os.stat rather than tried as another user."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from share_gateway.cli import main
from tests.e2e.conftest import BANK
from tests.processes import serve_node
from tests.waiting import PROCESS_TEST_SECONDS

pytestmark = pytest.mark.timeout(PROCESS_TEST_SECONDS)

NODE = Path("nodes/110000")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_pki_init_writes_every_key_0600_in_directories_only_their_owner_enters(pki: Path) -> None:
    keys = sorted(pki.rglob("*.key"))
    assert {key.relative_to(pki).as_posix() for key in keys} >= {
        "authority/authority.key",
        "ca/ca.key",
        "nodes/110000/tls.key",
        "nodes/110000/signing.key",
        "nodes/110000/witness.key",
        "clients/bank/tls.key",
    }
    assert {key.name: oct(mode(key)) for key in keys} == {key.name: oct(0o600) for key in keys}
    directories = [pki / "authority", pki / "ca", pki / "nodes", pki / NODE, pki / "clients", pki / "clients/bank"]
    assert {d.name: oct(mode(d)) for d in directories} == {d.name: oct(0o700) for d in directories}


def test_pki_init_never_loosens_then_tightens_a_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A key chmod-ed after writing was readable by anyone in between (and for ever if the process died there)."""

    def chmod(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"chmod{args}: the key was written with another mode first")

    monkeypatch.setattr(os, "chmod", chmod)
    monkeypatch.setattr(Path, "chmod", chmod)
    main(
        ["pki", "init", "--dir", str(tmp_path / "fed"), "--region", "110000", "--client", f"b=sgw://institution/{BANK}"]
    )
    assert mode(tmp_path / "fed" / NODE / "signing.key") == 0o600
    assert mode(tmp_path / "fed") == 0o700


@pytest.fixture
def serving(pki: Path) -> Iterator[Path]:
    server = serve_node(pki / NODE / "node.yaml")
    try:
        server.wait_ready()
        yield pki
    finally:
        server.stop()


def test_a_node_creates_its_sqlite_database_wal_and_shm_private(serving: Path) -> None:
    directory = serving / NODE
    files = [directory / "110000.db", directory / "110000.db-wal", directory / "110000.db-shm"]
    assert {f.name: oct(mode(f)) for f in files} == {f.name: oct(0o600) for f in files}


def serve(pki: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "share_gateway.cli", "serve", "--config", str(pki / NODE / "node.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("key", "loose"), [("signing.key", 0o644), ("tls.key", 0o640), ("witness.key", 0o460)], ids=["0644", "0640", "0460"]
)
def test_serve_refuses_a_private_key_others_may_read_in_one_line(pki: Path, key: str, loose: int) -> None:
    (pki / NODE / key).chmod(loose)
    result = serve(pki)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert key in result.stderr
    assert f"{loose:04o}" in result.stderr
    assert not (pki / NODE / "110000.db").exists(), "nothing opened before the keys were checked"


def test_serve_accepts_a_read_only_key_its_own_group_reads_with_a_warning(pki: Path) -> None:
    """How Kubernetes mounts a Secret with fsGroup: 0440, the group one the process belongs to."""
    for key in ("tls.key", "signing.key", "witness.key"):
        (pki / NODE / key).chmod(0o440)
    server = serve_node(pki / NODE / "node.yaml")
    try:
        server.wait_ready()
    finally:
        server.stop()
    warnings = [line for line in server.output if " WARNING " in line and "readable by group" in line]
    assert len(warnings) == 3, "".join(server.output)
