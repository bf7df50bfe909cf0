"""An officer checking a node's log from outside (issue 15, items 2-5), each command a process of its own.

One node directory is built once per module: 318 events, the first 50 dated six years back, checkpoints
published at 100, 200, 311 and 318, signed with the node's own key, as its sequencer would. Tests that
tamper work on a copy of it; one node serves another copy for the commands that ask it over mTLS.
"""

from __future__ import annotations

import base64
import re
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from share_gateway.config import NodeConfig
from share_gateway.crypto.keys import SigningKey
from share_gateway.domain.events import Event, EventKind, Outcome
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.ledger.checkpoint import Checkpoint, TlogProof
from share_gateway.store.database import migrate, open_configured
from share_gateway.store.log import LogStore
from share_gateway.store.repositories import Store
from tests.e2e.conftest import BANK, run
from tests.processes import serve_node
from tests.support import COMPANY, OFFICER
from tests.waiting import PROCESS_TEST_SECONDS

pytestmark = pytest.mark.timeout(PROCESS_TEST_SECONDS)

NOW = datetime.now(UTC)
OLD = 50  # events dated six years back: past the five-year retention and the two-year history
CHECKPOINTS = (100, 200, 311, 318)


def event(i: int) -> Event:
    at = NOW - timedelta(days=2200) if i < OLD else NOW - timedelta(hours=1)
    return Event(
        str(uuid.uuid4()),
        EventKind.INQUIRY,
        at + timedelta(seconds=i),
        "110000",
        f"sgw://institution/{BANK}",
        Outcome.ALLOWED,
        subject=Subject(SubjectKind.LEGAL_ENTITY, COMPANY),
        purpose="loan_underwriting",
        details={"n": str(i)},
    )


def sequence(config: NodeConfig, *, rewrite: bool = False) -> None:
    """Append the 318 events (or, with ``rewrite``, rebuild the tree over the events as they now are) and publish a
    checkpoint at each of ``CHECKPOINTS``, as the node's sequencer does, with the node's key (``rewrite`` is the
    operator rewriting history and re-signing it)."""
    database = open_configured(config)
    try:
        migrate(database)
        store, log = Store(database), LogStore(database)
        key = SigningKey.load(config.key_name, config.signing_key)
        if rewrite:
            with database.writer.begin() as connection:
                # The operator rebuilds the index with the tree (it is derived from the leaves).
                for table in ("log_nodes", "log_entries", "log_checkpoints", "index_entries", "index_checkpoints"):
                    connection.exec_driver_sql(f"DELETE FROM {table}")
        appended = 0
        for size in CHECKPOINTS:
            if not rewrite:
                store.append([event(i) for i in range(appended, size)])
            log.integrate(size - log.size())
            log.add_checkpoint(size, log.root(size), Checkpoint(key.name, size, log.root(size)).sign(key), NOW)
            appended = size
    finally:
        database.dispose()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("outside") / "fed"
    run(
        "pki", "init", "--dir", str(root), "--region", "110000",
        "--client", f"officer=sgw://person/{OFFICER}", "--role", "officer=compliance_officer",
    )  # fmt: skip
    sequence(NodeConfig.load(root / "nodes/110000/node.yaml"))
    return root


@pytest.fixture
def fed(built: Path, tmp_path: Path) -> Path:
    """A copy of the built node directory, to tamper with."""
    return Path(shutil.copytree(built, tmp_path / "fed"))


@pytest.fixture(scope="module")
def served(built: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    root = Path(shutil.copytree(built, tmp_path_factory.mktemp("served") / "fed"))
    server = serve_node(root / "nodes/110000/node.yaml")
    try:
        match = re.search(r"mTLS port (\d+)", server.wait_ready())
        assert match, "".join(server.output)
        yield root, f"localhost:{match.group(1)}"
    finally:
        server.stop()


def config(fed: Path) -> str:
    return str(fed / "nodes/110000/node.yaml")


def sql(fed: Path, statement: str, *params: object) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(fed / "nodes/110000/110000.db")) as connection, connection:
        return connection.execute(statement, params).fetchall()


def table_row(out: str) -> list[str]:
    """The cells of the verification table's one row."""
    rows = [line for line in out.splitlines() if re.match(r"\s*│\s*\d", line)]
    assert rows, out
    return [cell.strip() for cell in rows[0].strip().strip("│").split("│")]


# --- item 4: findings name the first bad leaf, and the counts and the exit status agree ------------------------


def test_after_the_entry_at_leaf_100_is_deleted_the_summary_and_the_table_name_leaf_100(fed: Path) -> None:
    assert "verifies" in run("audit", "verify", "--config", config(fed)).stdout
    sql(fed, "DELETE FROM events WHERE seq = (SELECT event_seq FROM log_entries WHERE leaf_index = 100)")
    sql(fed, "DELETE FROM log_entries WHERE leaf_index = 100")
    failed = run("audit", "verify", "--config", config(fed), check=False)
    assert failed.returncode == 1
    assert "first: leaf 100: missing from the log (next entry is leaf 101)" in failed.stderr
    assert "leaf 0" not in failed.stdout + failed.stderr
    leaves, verified, _, _, findings, first, _ = table_row(failed.stdout)
    assert (leaves, verified, first) == ("318", "100", "leaf 100"), "verified never counts past the finding"
    assert int(findings) >= 1


def test_a_history_rewritten_and_resigned_names_the_kept_checkpoints_and_the_leaves_between(fed: Path) -> None:
    kept = {size: fed / f"kept-{size}.note" for size in (100, 311)}
    for size, path in kept.items():
        path.write_bytes(sql(fed, "SELECT note FROM log_checkpoints WHERE size = ?", size)[0][0])
    body = sql(fed, "SELECT body FROM events WHERE seq = (SELECT event_seq FROM log_entries WHERE leaf_index = 150)")
    forged = bytes(body[0][0]).replace(b'"n":"150"', b'"n":"X"')
    sql(
        fed, "UPDATE events SET body = ? WHERE seq = (SELECT event_seq FROM log_entries WHERE leaf_index = 150)", forged
    )
    sequence(NodeConfig.load(Path(config(fed))), rewrite=True)
    assert "verifies" in run("audit", "verify", "--config", config(fed)).stdout, "re-signed: consistent in itself"
    given = [arg for path in kept.values() for arg in ("--checkpoint", str(path))]
    failed = run("audit", "verify", "--config", config(fed), *given, check=False)
    assert failed.returncode == 1
    summary = failed.stderr
    assert f"first: leaves 100..310: the log no longer matches the kept checkpoint of size 311 ({kept[311]})" in summary
    assert "though it still matches the kept one of size 100" in summary
    assert "re-signed (the stored checkpoint of size 311 signs the rewritten history)" in summary
    assert "the stored checkpoint of size 311 (root" in failed.stdout
    _, verified, *_, first, _ = table_row(failed.stdout)
    assert (verified, first) == ("100", "leaves 100..310")


# --- item 2: checkpoints kept from the CLI, and --checkpoint saying what it was given instead -------------------


def test_a_tlog_proof_or_garbage_given_as_a_kept_checkpoint_is_named_as_such(fed: Path) -> None:
    database = open_configured(NodeConfig.load(Path(config(fed))))
    try:
        log = LogStore(database)
        note = log.latest_checkpoint().note  # type: ignore[union-attr]
        proof = TlogProof(7, tuple(log.inclusion_proof(7, 318)), note).encode()
    finally:
        database.dispose()
    (fed / "entry.tlog-proof").write_bytes(proof)
    (fed / "garbage.note").write_bytes(b"hello\n")
    given = run("audit", "verify", "--config", config(fed), "--checkpoint", str(fed / "entry.tlog-proof"), check=False)
    assert given.returncode == 2, "wrong input, not a log that fails"
    assert "does not verify" not in given.stdout + given.stderr
    assert (
        f"--checkpoint {fed / 'entry.tlog-proof'} is a C2SP tlog-proof: the inclusion proof of leaf 7 under a "
        "checkpoint of size 318, not a checkpoint"
    ) in given.stderr
    garbage = run("audit", "verify", "--config", config(fed), "--checkpoint", str(fed / "garbage.note"), check=False)
    assert garbage.returncode == 2
    assert "garbage.note is text that is not a signed note" in garbage.stderr
    kept = fed / "kept.note"
    kept.write_bytes(note)
    assert "verifies" in run("audit", "verify", "--config", config(fed), "--checkpoint", str(kept)).stdout


def test_an_officer_keeps_the_latest_checkpoint_verified_with_the_manifest_s_key(
    served: tuple[Path, str], tmp_path: Path
) -> None:
    fed, address = served
    officer = ("--node", address, "--identity", str(fed / "clients/officer"))
    trust = ("--manifest", str(fed / "manifest.signed"), "--authority", str(fed / "authority/authority.pub"))
    kept = tmp_path / "kept.note"
    out = run("audit", "checkpoint", *officer, *trust, "--out", str(kept)).stdout
    assert "the checkpoint of share-gateway/node/110000 of size" in out
    assert kept.read_bytes().startswith(b"share-gateway/node/110000\n")
    assert "verifies" in run("audit", "verify", "--config", config(fed), "--checkpoint", str(kept)).stdout
    again = run("audit", "checkpoint", *officer, *trust, "--out", str(kept), check=False)
    assert again.returncode == 2, "a kept checkpoint is not overwritten unasked"
    stranger = run(
        "audit", "checkpoint", *officer, *trust, "--region", "310000", "--out", str(tmp_path / "x"), check=False
    )
    assert stranger.returncode == 1
    assert not (tmp_path / "x").exists()


# --- item 3: a consistency proof written out, verified offline, refused once tampered --------------------------


def test_a_consistency_proof_is_written_and_verifies_offline_and_tampering_is_refused(
    served: tuple[Path, str], tmp_path: Path
) -> None:
    fed, address = served
    officer = ("--node", address, "--identity", str(fed / "clients/officer"))
    key = ("--node-key", f"110000={fed / 'nodes/110000/signing.pub'}")
    proof = tmp_path / "100-318.consistency"
    proved = run("audit", "prove", *officer, *key, "--consistency", "100", "--tree-size", "318", "--out", str(proof))
    assert f"consistency proof written to {proof}" in proved.stdout
    text = proof.read_text()
    # The documented layout: header, the older checkpoint, an empty line, then a tlog-witness add-checkpoint body.
    header, rest = text.split("\n", 1)
    assert header == "share-gateway/tlog-consistency@v1"
    old_note, body = rest.split("\n\n", 2)[0:2], rest.split("\n\n", 2)[2]
    assert old_note[0] == f"share-gateway/node/110000\n100\n{old_note[0].split(chr(10))[2]}"
    lines, new_note = body.split("\n\n", 1)
    assert lines.split("\n")[0] == "old 100"
    assert new_note.startswith("share-gateway/node/110000\n318\n")
    hashes = lines.split("\n")[1:]
    assert hashes
    assert all(len(base64.b64decode(h)) == 32 for h in hashes)
    verified = run("audit", "verify-proof", str(proof), *key)
    assert "extends its checkpoint of size 100" in verified.stdout
    manifest = ("--manifest", str(fed / "manifest.signed"), "--authority", str(fed / "authority/authority.pub"))
    assert "verified offline" in run("audit", "verify-proof", str(proof), *manifest).stdout
    # One proof hash changed: the roots no longer follow.
    flipped = bytearray(base64.b64decode(hashes[0]))
    flipped[0] ^= 1
    tampered = tmp_path / "tampered.consistency"
    tampered.write_text(text.replace(hashes[0], base64.b64encode(bytes(flipped)).decode(), 1))
    refused = run("audit", "verify-proof", str(tampered), *key, check=False)
    assert refused.returncode == 1
    assert "root" in refused.stderr
    # The newer checkpoint's size changed: its signature no longer verifies.
    resized = tmp_path / "resized.consistency"
    resized.write_text(text.replace("share-gateway/node/110000\n318\n", "share-gateway/node/110000\n317\n"))
    assert run("audit", "verify-proof", str(resized), *key, check=False).returncode == 1
    # Given as a kept checkpoint, it is named for what it is.
    given = run("audit", "verify", "--config", config(fed), "--checkpoint", str(proof), check=False)
    assert given.returncode == 2
    assert (
        "is a consistency proof from the checkpoint of size 100 to that of size 318, not a checkpoint" in given.stderr
    )


# --- item 5: redaction guarded ----------------------------------------------------------------------------------


def redact(fed: Path, *args: str, answer: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "share_gateway.cli", "audit", "redact", "--config", config(fed), *args],
        input=answer,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def redacted(fed: Path) -> int:
    count: int = sql(fed, "SELECT count(*) FROM log_entries WHERE redacted_at IS NOT NULL")[0][0]
    return count


def test_redaction_of_today_s_events_is_refused_and_the_rest_is_confirmed_first(fed: Path) -> None:
    tomorrow = (NOW + timedelta(days=1)).date().isoformat()
    refused = redact(fed, "--before", tomorrow, "--yes")
    assert refused.returncode == 2
    assert "log.redact_after_days: 1825 days" in refused.stderr
    assert "log.history_days: 730 days" in refused.stderr
    assert redacted(fed) == 0
    # A date-time is accepted, and held to the same floor.
    within = redact(fed, "--before", f"{NOW.date().isoformat()}T08:00:00+08:00", "--yes")
    assert within.returncode == 2
    assert "refused" in within.stderr
    assert redacted(fed) == 0
    # Older than both windows: asked first; anything but yes redacts nothing.
    old = (NOW - timedelta(days=2000)).isoformat()
    declined = redact(fed, "--before", old, answer="n\n")
    assert f"redact {OLD} event(s) logged before" in declined.stderr
    assert "[y/N]" in declined.stderr
    assert declined.returncode == 2
    assert redacted(fed) == 0
    assert redact(fed, "--before", old).returncode == 2, "no answer (end of input) is no"
    confirmed = redact(fed, "--before", old, answer="y\n")
    assert confirmed.returncode == 0, confirmed.stderr
    assert f"redacted {OLD} events" in confirmed.stdout
    assert redacted(fed) == OLD
    assert "verifies" in run("audit", "verify", "--config", config(fed)).stdout
