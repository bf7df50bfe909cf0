"""Issue 15 items 6 and 8: what ``demo --keep-running`` prints works pasted as printed, from any directory: the
federated inquiry with the CLI (``inquire --federation``, each region's answer in a table) and with grpcurl; and a
node does not print gRPC core's "Handshake failed" INFO line for each client that fails its TLS handshake.

One demo serves the module's tests (they only read from it); it runs with a relative ``--dir``, and the printed
commands run elsewhere, so a relative path in them could not work.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import json_format
from stdnum.cn import uscc

from share_gateway.client import consent_from_file
from share_gateway.v1 import inquiry_pb2, inquiry_pb2_grpc
from tests.processes import Process, serve_node
from tests.waiting import PROCESS_TEST_SECONDS

pytestmark = pytest.mark.timeout(PROCESS_TEST_SECONDS)
REGIONS = ("110000", "310000", "440000")
PATH_OPTIONS = ("-cacert", "-cert", "-key", "--identity", "--consent-file")


def _commands(output: str) -> list[list[str]]:
    """Every printed command line (continuations joined) starting with grpcurl or a share-gateway, as words."""
    joined = output.replace("\\\n", " ")
    return [
        shlex.split(line)
        for line in joined.splitlines()
        if line.startswith("grpcurl ") or re.match(r"\S*share-gateway inquire ", line)
    ]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The output of a demo run from its own folder with ``--dir demo`` (relative), its nodes kept running."""
    here = tmp_path_factory.mktemp("demo-cwd")
    args = [sys.executable, "-m", "share_gateway.cli", "demo", "--dir", "demo", "--records", "8", "--keep-running"]
    running = Process(args, "kill PID", cwd=here)
    try:
        running.wait_ready()
        yield "".join(running.output)
    finally:
        running.popen.send_signal(signal.SIGTERM)
        running.popen.wait(timeout=60)


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """Another directory than the demo's, to paste the commands in."""
    return tmp_path


def test_the_printed_commands_are_complete(demo: str) -> None:
    """On the old code the paths were relative to where the demo ran (and, earlier, the subject a placeholder)."""
    assert not re.search(r"<[A-Z][A-Za-z ]*>", demo), "a placeholder was printed"
    commands = _commands(demo)
    assert [c[0] == "grpcurl" for c in commands] == [False, True, True], commands
    cli, listing, inquiry = commands
    for words in commands:
        paths = [words[i + 1] for i, word in enumerate(words) if word in PATH_OPTIONS]
        paths += [key.partition("=")[2] for i, key in enumerate(words) if words[i - 1] == "--node-key"]
        paths += [words[i + 1] for i, word in enumerate(words) if word == "<"]
        assert paths, words
        for path in paths:
            assert Path(path).is_absolute(), f"{path} in {words}"
            assert Path(path).exists(), f"{path} in {words}"
    assert Path(cli[0]).is_absolute()
    assert cli[cli.index("--node") + 1] == inquiry[inquiry.index("share_gateway.v1.InquiryService/Inquire") - 1]

    # The request grpcurl reads is the CLI's: the same real company, a consent the company signed, every region.
    request = json_format.Parse(Path(inquiry[-1]).read_text(), inquiry_pb2.InquireRequest())
    company = cli[cli.index("--subject") + 1]
    assert uscc.is_valid(company)
    assert request.subject.identifier == company
    assert request.scope == inquiry_pb2.INQUIRY_SCOPE_FEDERATION
    consent = consent_from_file(Path(cli[cli.index("--consent-file") + 1]).read_bytes())
    assert consent == request.consent
    assert json.loads(consent.statement)["subject"]["id"] == company
    assert listing[-1] == "list"
    assert "--federation" in cli
    if shutil.which("grpcurl"):  # not installed here (neither Debian's archive nor a Go toolchain offers it)
        for words in (listing, inquiry[:-2]):
            stdin = Path(inquiry[-1]).read_text() if words is not listing else None
            ran = subprocess.run(words, input=stdin, capture_output=True, text=True, timeout=60, check=False)
            assert ran.returncode == 0, ran.stderr


def test_the_printed_federated_inquiry_runs_as_pasted(demo: str, elsewhere: Path) -> None:
    """On the old code ``inquire`` had no ``--federation``: the command was refused (exit 2)."""
    [cli] = [words for words in _commands(demo) if words[0] != "grpcurl"]
    ran = subprocess.run(cli, capture_output=True, text=True, timeout=120, check=False, cwd=elsewhere)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    answers = dict(re.findall(r"│ (\d{6}) +│ (\w+) +│ +\d+ +│", ran.stdout))
    assert answers == dict.fromkeys(REGIONS, "ok"), ran.stdout
    assert "verified" in ran.stdout
    assert "Handshake" not in ran.stdout + ran.stderr
    assert "Handshake" not in demo


async def test_a_node_prints_no_handshake_chatter(pki: Path) -> None:
    """A client without a certificate (a mistaken grpcurl, a port check) fails the mTLS handshake. gRPC core logged
    each at INFO ("Handshake failed with error SSL_ERROR_SSL ...") into the node's output; errors only now."""
    node = serve_node(pki / "nodes" / "110000" / "node.yaml")
    try:
        port = re.search(r"mTLS port (\d+)", node.wait_ready())
        assert port is not None
        credentials = grpc.ssl_channel_credentials((pki / "ca" / "ca.crt").read_bytes())
        async with grpc.aio.secure_channel(f"localhost:{port.group(1)}", credentials) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await inquiry_pb2_grpc.InquiryServiceStub(channel).Inquire(inquiry_pb2.InquireRequest(), timeout=30)
        assert refused.value.code() is grpc.StatusCode.UNAVAILABLE
    finally:
        node.stop()
    said = node.read_to_end()
    assert "mTLS port" in said  # its output was read
    assert "Handshake failed" not in said, said
