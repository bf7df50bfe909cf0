"""A PostgreSQL server of a test's own, which the test may stop and start again (an outage, a late database).

The shared server at 127.0.0.1:5432 must never stop under other tests, so a
test that takes the database away runs its own: Debian's ``initdb`` and
``pg_ctl`` (postgresql-15), run as the ``postgres`` user since they refuse
root, in a temporary folder that user owns, on a free port, with trust
authentication on 127.0.0.1 only and its socket in that folder.

    with private_postgres() as server:
        url = server.url          # postgresql+psycopg://postgres@127.0.0.1:<port>/postgres
        server.stop()             # the database goes away (fast shutdown: connections are cut)
        server.start()            # and comes back on the same port, with everything committed before
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from share_gateway.devkit import free_ports

BIN = Path(os.environ.get("SHARE_GATEWAY_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
USER = "postgres"
# pg_ctl's own wait for the server to start or stop (it polls); generous for a loaded machine.
PG_CTL_WAIT_SECONDS = 120


class PrivatePostgres:
    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.port = port
        self.data = root / "data"
        self.logfile = root / "server.log"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = ["runuser", "-u", USER, "--", *args]
        result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=PG_CTL_WAIT_SECONDS + 30)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed ({result.returncode}):\n{result.stdout}{result.stderr}")

    def initialise(self) -> None:
        self._run(str(BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", USER, "--no-sync", "-E", "UTF8")

    def start(self) -> None:
        """Start the server and return once it accepts connections."""
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c max_connections=200"
        )
        self._run(
            str(BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.logfile), "-o", options,
            "-w", "-t", str(PG_CTL_WAIT_SECONDS), "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast``: cut every connection, keep what was committed; ``immediate``: a crash)."""
        self._run(str(BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", str(PG_CTL_WAIT_SECONDS), "stop")

    @property
    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


def available() -> str | None:
    """Why a private server cannot run here (None: it can)."""
    if not (BIN / "pg_ctl").exists():
        return f"no PostgreSQL binaries in {BIN}"
    if os.geteuid() != 0:
        return "starting a private PostgreSQL as its own user needs root (runuser)"
    try:
        pwd.getpwnam(USER)
    except KeyError:
        return f"no {USER} user"
    return None


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A fresh, running private server, stopped and removed afterwards; skipped where none can run (not in CI)."""
    missing = available()
    if missing is not None:
        if os.environ.get("CI"):
            raise RuntimeError(missing)
        pytest.skip(missing)
    root = Path(tempfile.mkdtemp(prefix="sgw-pg-"))
    account = pwd.getpwnam(USER)
    os.chown(root, account.pw_uid, account.pw_gid)
    server = PrivatePostgres(root, free_ports(1)[0])
    try:
        server.initialise()
        server.start()
        yield server
    finally:
        if server.running:
            with suppress(RuntimeError):
                server.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)
