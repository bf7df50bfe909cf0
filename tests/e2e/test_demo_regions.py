"""Issue 14 ("The demo runs all three regions in one process, so an operator cannot stop one region"): with
``--keep-running`` each region is a ``share-gateway serve`` process of its own whose PID the demo prints; stopping
one leaves the others serving, and stopping the demo stops them all."""

from __future__ import annotations

import os
import re
import signal
import sys
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.processes import Process
from tests.waiting import PROCESS_TEST_SECONDS, wait_until

pytestmark = pytest.mark.timeout(PROCESS_TEST_SECONDS)
REGIONS = ("110000", "310000", "440000")


def _running(pid: int) -> bool:
    """Alive and not a zombie waiting for its parent."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def _serving(port: int, ca: Path) -> bool:
    credentials = grpc.ssl_channel_credentials(ca.read_bytes())
    with grpc.secure_channel(f"localhost:{port}", credentials) as channel:
        try:
            answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
        except grpc.RpcError:
            return False
    return bool(answer.status == health_pb2.HealthCheckResponse.SERVING)


def test_each_region_is_a_process_an_operator_can_stop(tmp_path: Path) -> None:
    """On the old code no PID was printed and every region lived in the demo's own process."""
    root = tmp_path / "demo"
    args = [sys.executable, "-m", "share_gateway.cli", "demo", "--dir", str(root), "--records", "8", "--keep-running"]
    demo = Process(args, "kill PID")
    try:
        demo.wait_ready()
        pids = {}
        for _ in REGIONS:
            found = re.search(r"(\d{6}) \w+: pid (\d+)", demo.wait_for(": pid "))
            assert found is not None
            pids[found.group(1)] = int(found.group(2))
        assert set(pids) == set(REGIONS)
        assert demo.popen.pid not in pids.values()
        for region, pid in pids.items():
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            assert b"serve" in command, command
            assert str(root / "nodes" / region / "node.yaml").encode() in command
        ports: dict[str, int] = {}
        for found in re.finditer(r"│ (\d{6}) +│ \w+ +│ (\d{4,5}) +│ (\d{4,5}) +│", "".join(demo.output)):
            ports.setdefault(found.group(1), int(found.group(3)))  # the table of ports comes first
        assert set(ports) == set(REGIONS), demo.output[-40:]
        ca = root / "ca" / "ca.crt"

        os.kill(pids["310000"], signal.SIGTERM)
        wait_until(lambda: not _running(pids["310000"]))
        assert _running(pids["110000"])
        assert _running(pids["440000"])
        assert _serving(ports["110000"], ca), "Beijing serves on with Shanghai stopped"
        assert _serving(ports["440000"], ca)
        assert demo.popen.poll() is None, "the demo itself goes on"
    finally:
        demo.popen.send_signal(signal.SIGTERM)
        demo.popen.wait(timeout=60)
    assert demo.popen.returncode == 0, "".join(demo.output[-30:])
    wait_until(lambda: not any(_running(pid) for pid in pids.values()))
