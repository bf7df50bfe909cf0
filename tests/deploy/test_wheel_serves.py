"""Issue 14 ("a Dockerfile ... test what it does"): what the image's stages do, done here without an engine.

The build stage's ``pip wheel``, the runtime stage's install of that wheel into a fresh virtual environment, and
the container's default command, ``share-gateway serve``, run as an unprivileged user (``setpriv``, as the image's
``USER`` does) against a configuration folder that user owns; the node must answer SERVING on gRPC health.

Cost: one wheel build (about 3 s) and one virtual environment (about 20 s: its dependencies come from the package
index, as in the image) for the module; the node's start is a few seconds more.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest
import yaml
from grpc_health.v1 import health_pb2, health_pb2_grpc

from share_gateway.devkit import create_federation
from tests.processes import Process
from tests.waiting import PROCESS_TEST_SECONDS, wait_until

ROOT = Path(__file__).resolve().parents[2]
REGION = "110000"

pytestmark = [
    pytest.mark.timeout(PROCESS_TEST_SECONDS),
    pytest.mark.skipif(os.geteuid() != 0, reason="serving as another user needs root (CI runs as root)"),
]


@pytest.fixture(scope="module")
def unprivileged() -> pwd.struct_passwd:
    return pwd.getpwnam("nobody")


@pytest.fixture(scope="module")
def place(unprivileged: pwd.struct_passwd) -> Iterator[Path]:
    """A folder the unprivileged user may enter (pytest's own temporary folders are root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="share-gateway-image-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def wheel(place: Path) -> Path:
    """The build stage: the project's wheel, built from this checkout."""
    wheels = place / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheels), str(ROOT)],
        check=True,
        capture_output=True,
    )
    [built] = wheels.glob("share_gateway-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(place: Path, wheel: Path) -> Path:
    """The runtime stage: the wheel and its pinned dependencies in a fresh virtual environment; its command."""
    venv = place / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)], check=True, capture_output=True
    )
    return venv / "bin" / "share-gateway"


@pytest.fixture(scope="module")
def configuration(place: Path, unprivileged: pwd.struct_passwd) -> Path:
    """A node's configuration folder, as a volume mounted into the container: owned by the node's user."""
    layout = create_federation(place / "etc", [REGION], {}, datetime.now(UTC))
    config = layout.node_config(REGION)
    settings = yaml.safe_load(config.read_text())
    settings |= {"listen": "127.0.0.1:0", "public_listen": "127.0.0.1:0", "public_plaintext": True}
    config.write_text(yaml.safe_dump(settings))
    for path in [layout.root, *layout.root.rglob("*")]:
        os.chown(path, unprivileged.pw_uid, unprivileged.pw_gid)
    return config


def test_the_installed_wheel_serves_as_an_unprivileged_user(
    installed: Path, configuration: Path, unprivileged: pwd.struct_passwd
) -> None:
    """On the old code there was no image to build; this proves what it would run: the installed command alone
    (outside this checkout) starts a node as a user without privileges, which migrates and reports SERVING."""
    as_user = ["setpriv", f"--reuid={unprivileged.pw_uid}", f"--regid={unprivileged.pw_gid}", "--clear-groups"]
    node = Process([*as_user, str(installed), "serve", "--config", str(configuration)], "mTLS port")
    try:
        ready = node.wait_ready()
        public = re.search(r"public port (\d+)", ready)
        assert public is not None, ready
        status = _pid_uid(node.popen.pid)
        assert status == unprivileged.pw_uid, "the node runs as the unprivileged user"
        with grpc.insecure_channel(f"127.0.0.1:{public.group(1)}") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            wait_until(lambda: _serving(health))
        database = configuration.parent / f"{REGION}.db"
        assert database.stat().st_uid == unprivileged.pw_uid, "its database was written by that user"
    finally:
        node.stop()
    assert node.popen.returncode == 0, "SIGTERM stops it cleanly"


def test_the_installed_wheel_holds_its_migrations_and_no_tests(installed: Path) -> None:
    """Only the package goes into the image: the wheel carries the migrations the node runs, and no tests."""
    python = installed.parent / "python"
    listed = subprocess.run(
        [str(python), "-c", "import share_gateway, pathlib; print(pathlib.Path(share_gateway.__file__).parent)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=installed.parent,
    ).stdout.strip()
    package = Path(listed)
    assert package.is_relative_to(installed.parents[1]), package
    assert (package / "store" / "migrations" / "env.py").is_file()
    assert any((package / "store" / "migrations" / "versions").glob("0018_*.py"))
    site = package.parent
    assert not (site / "tests").exists()
    assert not (site / "bench").exists()


def _pid_uid(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError(f"no Uid in /proc/{pid}/status")


def _serving(health: health_pb2_grpc.HealthStub) -> bool:
    try:
        answer = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
    except grpc.RpcError:
        return False
    return bool(answer.status == health_pb2.HealthCheckResponse.SERVING)
