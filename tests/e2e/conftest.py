"""What the command-line tests share: running `share-gateway` as a process, a development PKI, a served node."""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from tests.processes import serve_node
from tests.support import COMPANY, OFFICER

BANK = "91110000MA0000001L"
AGENCY = "11110000MB00000048"
COURT = "11110000MB0000005B"


def run(*args: str, check: bool = True, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "share_gateway.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"{args} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def checkpoint_size(database: Path) -> int | None:
    """The size of the latest checkpoint the node's sequencer published, read from its SQLite file."""
    with closing(sqlite3.connect(database)) as connection:
        size: int | None = connection.execute("SELECT max(size) FROM log_checkpoints").fetchone()[0]
    return size


def checkpointed(database: Path) -> bool:
    """Whether a published checkpoint covers every event the node has logged so far."""
    with closing(sqlite3.connect(database)) as connection:
        logged: int = connection.execute("SELECT count(*) FROM events").fetchone()[0]
    size = checkpoint_size(database)
    return logged > 0 and size is not None and size >= logged


def consent_file(pki: Path, signer: str = "bank", name: str = "consent.json") -> Path:
    """A consent about the company for the bank's loan underwriting, signed with `consent sign`: attested by the
    bank (the default), or signed by the company itself (``signer="company"``)."""
    evidence = pki / "authorisation-form.txt"
    evidence.write_text(f"{COMPANY} authorises {BANK} to inquire for loan underwriting\n")
    out = pki / name
    attested = ("--attested",) if signer == "bank" else ()
    run(
        "consent", "sign", "--identity", str(pki / "clients" / signer), "--subject", COMPANY,
        "--requester", f"sgw://institution/{BANK}", "--purpose", "loan_underwriting",
        "--evidence", str(evidence), "--out", str(out), *attested,
    )  # fmt: skip
    return out


GRANTS = (
    ("--institution", AGENCY, "--kind", "public_agency", "--submit", "administrative_penalty"),
    ("--institution", COURT, "--kind", "court", "--submit", "dishonest_judgment_debtor"),
    ("--institution", BANK, "--kind", "bank", "--inquire", "loan_underwriting"),
)


@pytest.fixture(scope="session")
def pki_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The development PKI as `pki init` writes it, made once a session: each test takes a copy of its own (a
    `pki init` is a process start and key generation; the copy keeps every test's files apart all the same)."""
    root = tmp_path_factory.mktemp("pki-template")
    run(
        "pki", "init", "--dir", str(root), "--region", "110000",
        "--client", f"bank=sgw://institution/{BANK}", "--client", f"agency=sgw://institution/{AGENCY}",
        "--client", f"officer=sgw://person/{OFFICER}", "--role", "officer=compliance_officer",
        "--client", f"company=sgw://institution/{COMPANY}", "--client", f"court=sgw://institution/{COURT}",
    )  # fmt: skip
    return root


@pytest.fixture(scope="session")
def granted_node(pki_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The node folder of a copy of ``pki_template`` after the grants `served` needs (``GRANTS``, each a `grant
    add` process, once a session): its database is what a served node starts from."""
    root = tmp_path_factory.mktemp("granted")
    shutil.copytree(pki_template, root, dirs_exist_ok=True)
    config = root / "nodes" / "110000" / "node.yaml"
    for args in GRANTS:
        run("grant", "add", "--config", str(config), *args, "--document", "京信用办〔2026〕1号")
    return config.parent


@pytest.fixture
def pki(tmp_path: Path, pki_template: Path) -> Path:
    shutil.copytree(pki_template, tmp_path, dirs_exist_ok=True)
    return tmp_path


@pytest.fixture
def served(pki: Path, granted_node: Path) -> Iterator[tuple[Path, str]]:
    """`share-gateway serve` in its own process, with ``GRANTS`` given; yields the PKI directory and the node's
    address."""
    config = pki / "nodes" / "110000" / "node.yaml"
    for database in granted_node.glob("110000.db*"):
        shutil.copy2(database, config.parent / database.name)
    server = serve_node(config)
    try:
        match = re.search(r"mTLS port (\d+)", server.wait_ready())
        assert match, "".join(server.output)
        yield pki, f"localhost:{match.group(1)}"
    finally:
        server.stop()
