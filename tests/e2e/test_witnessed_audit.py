"""Witnessing as an officer checks it: C2SP cosignatures from nodes in their own processes, checked by
``audit verify`` and ``audit verify-bundle`` against the manifest's witness keys, with a quorum."""

from __future__ import annotations

import asyncio
import base64
import json
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from share_gateway.catalog import AUTHORITY_KEY_NAME
from share_gateway.config import NodeConfig
from share_gateway.crypto.cosignature import cosign_checkpoint
from share_gateway.crypto.keys import KeyRing, SigningKey, VerifyingKey
from share_gateway.crypto.note import parse_note
from share_gateway.devkit import Layout, create_federation
from share_gateway.domain.events import Event, EventKind, Outcome
from share_gateway.federation.manifest import open_manifest
from share_gateway.gateway.sequencer import Sequencer, SequencerSettings
from share_gateway.ledger.bundle import BundleEntry, encode_bundle
from share_gateway.ledger.checkpoint import TlogProof
from share_gateway.ledger.cosignatures import check_cosignatures
from share_gateway.store.database import migrate, open_database
from share_gateway.store.log import LogStore
from share_gateway.store.repositories import Store
from tests.e2e.conftest import run
from tests.federation import REGIONS, seed
from tests.processes import Cluster, federation_cluster
from tests.unit.test_cosignature_interop import hand_verify
from tests.waiting import PROCESS_TEST_SECONDS, eventually

ORIGIN, WITNESS_A, WITNESS_B = REGIONS
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)

pytestmark = pytest.mark.timeout(PROCESS_TEST_SECONDS)


async def inline(function, *args):  # type: ignore[no-untyped-def]
    return function(*args)


def event(i: int, tag: str) -> Event:
    return Event(str(uuid.uuid4()), EventKind.AUDIT, NOW + timedelta(seconds=i), ORIGIN, "sgw://node/110000",
                 Outcome.ALLOWED, details={"action": tag})  # fmt: skip


def witness_key(layout: Layout, region: str) -> SigningKey:
    return SigningKey.load(f"share-gateway/witness/{region}", layout.node_dir(region) / "witness.key")


def log_key(layout: Layout, region: str) -> SigningKey:
    return SigningKey.load(f"share-gateway/node/{region}", layout.node_dir(region) / "signing.key")


async def write_log(url: str, key: SigningKey, tag: str, cosigners: list[SigningKey]) -> LogStore:
    """A log of 12 events with checkpoints at 5 and 12, each cosigned (cosignature/v1) by ``cosigners``."""
    database = open_database(url)
    migrate(database)
    store, logs = Store(database), LogStore(database)
    sequencer = Sequencer(logs, key, inline, lambda: NOW, SequencerSettings(checkpoint_interval=3600))
    appended = 0
    for size in (5, 12):
        store.append([event(i, tag) for i in range(appended, size)])
        appended = size
        await sequencer.step(force=True)
        text = parse_note(logs.latest_checkpoint().note).text  # type: ignore[union-attr]
        for cosigner in cosigners:
            logs.add_cosignature(size, cosign_checkpoint(text, cosigner, int(NOW.timestamp())))
    return logs


def bundle_of(logs: LogStore) -> bytes:
    """Every event under the latest checkpoint, as ``audit export`` writes it."""
    latest = logs.latest_checkpoint()
    assert latest is not None
    entries = [
        BundleEntry(leaf, TlogProof(leaf, tuple(logs.inclusion_proof(leaf, latest.size)), latest.note),
                    event=logs.at(leaf).body)  # type: ignore[union-attr]
        for leaf in range(latest.size)
    ]  # fmt: skip
    return encode_bundle(f"share-gateway/node/{ORIGIN}", entries)


@dataclass
class Federation:
    layout: Layout
    config: Path
    logs: LogStore

    @property
    def trust(self) -> tuple[str, ...]:
        return ("--manifest", str(self.layout.manifest), "--authority", str(self.layout.authority_public_key))

    def node_key(self, region: str) -> tuple[str, str]:
        return ("--node-key", f"{region}={self.layout.node_public_key(region)}")


@pytest.fixture
async def federation(tmp_path: Path) -> Federation:
    """Three regions on disk (no process); region 110000's log written and cosigned by both peers' witness keys."""
    layout = create_federation(tmp_path, REGIONS, {}, datetime.now(UTC))
    config = layout.node_config(ORIGIN)
    witnesses = [witness_key(layout, WITNESS_A), witness_key(layout, WITNESS_B)]
    logs = await write_log(NodeConfig.load(config).database, log_key(layout, ORIGIN), "honest", witnesses)
    return Federation(layout, config, logs)


def test_a_witnessed_log_verifies_with_its_quorum(federation: Federation) -> None:
    verified = run("audit", "verify", "--config", str(federation.config), "--witnesses", "2")
    assert "verifies" in verified.stdout
    assert f"size 12, is cosigned by {WITNESS_A}, {WITNESS_B} (quorum 2)" in verified.stdout


async def test_a_history_rewritten_and_resigned_without_witnesses_fails_the_quorum(
    federation: Federation, tmp_path: Path
) -> None:
    """The operator rebuilds the log with other events and re-signs every checkpoint with the node's own key."""
    forged_db = tmp_path / "forged.db"
    await write_log(f"sqlite:///{forged_db}", log_key(federation.layout, ORIGIN), "rewritten", [])
    settings = yaml.safe_load(federation.config.read_text())
    forged = federation.config.with_name("forged.yaml")
    forged.write_text(yaml.safe_dump({**settings, "database": f"sqlite:///{forged_db}"}))
    failed = run("audit", "verify", "--config", str(forged), "--witnesses", "1", check=False)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    output = failed.stdout + failed.stderr
    assert "the latest checkpoint, of size 12, is cosigned by 0 of the 1 witness(es) required" in output
    assert f"not by: {WITNESS_A}, {WITNESS_B}" in output
    # The manifest lists witnesses, so the quorum is demanded without asking; 0 skips it (the old behaviour).
    assert run("audit", "verify", "--config", str(forged), check=False).returncode == 1
    assert "verifies" in run("audit", "verify", "--config", str(forged), "--witnesses", "0").stdout


def corrupt_cosignature(bundle: bytes, region: str) -> bytes:
    """Flip one bit of ``region``'s cosignature in every entry's checkpoint."""
    doc = json.loads(bundle)
    prefix = f"\u2014 share-gateway/witness/{region} "
    for entry in doc["entries"]:
        lines = entry["proof"].split("\n")
        for n, line in enumerate(lines):
            if line.startswith(prefix):
                blob = bytearray(base64.b64decode(line[len(prefix) :]))
                blob[-1] ^= 1
                lines[n] = prefix + base64.b64encode(bytes(blob)).decode()
        entry["proof"] = "\n".join(lines)
    return json.dumps(doc).encode()


def test_a_bundle_with_one_corrupted_cosignature_fails_naming_the_witness(
    federation: Federation, tmp_path: Path
) -> None:
    bundle = tmp_path / "bundle.json"
    bundle.write_bytes(bundle_of(federation.logs))
    verified = run("audit", "verify-bundle", str(bundle), *federation.trust, "--witnesses", "2").stdout
    assert "12 event(s) and 0 redacted leaf(s)" in verified
    assert f"witness {WITNESS_B} (share-gateway/witness/{WITNESS_B}): valid" in verified
    corrupted = tmp_path / "corrupted.json"
    corrupted.write_bytes(corrupt_cosignature(bundle.read_bytes(), WITNESS_B))
    failed = run("audit", "verify-bundle", str(corrupted), *federation.trust, check=False)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert f"the cosignature of witness {WITNESS_B} (share-gateway/witness/{WITNESS_B}): invalid" in failed.stderr
    assert "does not verify" in failed.stderr
    # Even with only the node's key, the manifest's witness keys catch it.
    failed = run("audit", "verify-bundle", str(corrupted), *federation.node_key(ORIGIN), *federation.trust,
                 "--witnesses", "0", check=False)  # fmt: skip
    assert failed.returncode == 1
    assert WITNESS_B in failed.stderr


def test_every_node_key_given_is_used(federation: Federation, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.json"
    bundle.write_bytes(bundle_of(federation.logs))
    keys = (*federation.node_key(ORIGIN), *federation.node_key(WITNESS_A), *federation.node_key(WITNESS_B))
    assert "verified offline" in run("audit", "verify-bundle", str(bundle), *keys).stdout
    # A bundle of a node none of the keys belongs to is refused, saying whose key is missing.
    refused = run("audit", "verify-bundle", str(bundle), *federation.node_key(WITNESS_A), check=False)
    assert refused.returncode == 1
    assert f"share-gateway/node/{ORIGIN}" in refused.stderr


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    with federation_cluster(tmp_path / "federation") as running:
        yield running


def latest_note(database: Path) -> bytes:
    with closing(sqlite3.connect(database)) as connection:
        row = connection.execute("SELECT note FROM log_checkpoints ORDER BY size DESC LIMIT 1").fetchone()
    return b"" if row is None else bytes(row[0])


async def test_nodes_in_their_own_processes_cosign_in_c2sp_form(cluster: Cluster, tmp_path: Path) -> None:
    layout = cluster.layout
    authority = KeyRing([VerifyingKey.from_pem(AUTHORITY_KEY_NAME, layout.authority_public_key.read_bytes())])
    manifest = open_manifest(layout.manifest.read_bytes(), authority).manifest
    database = layout.node_dir(ORIGIN) / f"{ORIGIN}.db"
    await seed(layout, cluster.ports)

    def witnessed_by_both() -> bool:
        note = latest_note(database)
        return bool(note) and len(check_cosignatures(note, manifest.witnesses_of(ORIGIN)).valid) == 2

    await eventually(witnessed_by_both)
    note = latest_note(database)
    text = parse_note(note).text
    for region in (WITNESS_A, WITNESS_B):
        name = f"share-gateway/witness/{region}"
        line = next(line for line in note.decode().splitlines() if line.startswith(f"\u2014 {name} "))
        public = manifest.nodes[region].witness_key
        assert public is not None
        assert hand_verify(line, text, public.public, name) > 0  # the spec's layout, checked by hand
    assert f"\u2014 share-gateway/node/{WITNESS_A} ".encode() not in note, "no witness signs with its log key"
    officer = ("--node", f"localhost:{cluster.ports[ORIGIN]}", "--identity", str(layout.client("officer").directory))
    bundle = tmp_path / "bundle.json"
    run("audit", "export", *officer, "--out", str(bundle))
    trust = ("--manifest", str(layout.manifest), "--authority", str(layout.authority_public_key))
    exported = json.loads(bundle.read_bytes())
    if all(e["proof"].count("share-gateway/witness/") == 2 for e in exported["entries"]):
        assert "verified offline" in run("audit", "verify-bundle", str(bundle), *trust, "--witnesses", "2").stdout
    else:  # exported while a newer checkpoint awaited its cosignatures: the quorum is the default one
        assert "verified offline" in run("audit", "verify-bundle", str(bundle), *trust, "--witnesses", "0").stdout
    cluster.close()
    verified = run("audit", "verify", "--config", str(layout.node_config(ORIGIN)), "--witnesses", "0")
    assert "verifies" in verified.stdout


@pytest.mark.parametrize("behaviour", ["witness-legacy", "witness-forged", "witness-future"])
async def test_the_cosigner_keeps_only_cosignatures_by_the_peers_witness_key(cluster: Cluster, behaviour: str) -> None:
    """A peer answering with its log key (the old form), a bad signature, or a date beyond the clock skew:
    nothing of it is added to the note."""
    faulty = cluster.replace(WITNESS_B, behaviour)
    database = cluster.layout.node_dir(ORIGIN) / f"{ORIGIN}.db"
    await seed(cluster.layout, {ORIGIN: cluster.ports[ORIGIN]})
    # Asked twice: the cosigner's first round, answer included, is over (an accepted answer is not asked for again).
    for _ in range(2):
        await asyncio.to_thread(faulty.wait_for, "witnessed")
    with closing(sqlite3.connect(database)) as connection:
        notes = [bytes(row[0]) for row in connection.execute("SELECT note FROM log_checkpoints")]
    assert notes
    assert not any(f"share-gateway/node/{WITNESS_B} ".encode() in note for note in notes)
    assert not any(f"share-gateway/witness/{WITNESS_B} ".encode() in note for note in notes)


def test_a_stored_cosignature_changed_on_the_database_fails_audit_verify_naming_the_witness(
    federation: Federation,
) -> None:
    database = Path(NodeConfig.load(federation.config).database.removeprefix("sqlite:///"))
    prefix = f"\u2014 share-gateway/witness/{WITNESS_A} ".encode()
    with closing(sqlite3.connect(database)) as connection, connection:
        size, note = connection.execute("SELECT size, note FROM log_checkpoints ORDER BY size LIMIT 1").fetchone()
        start = note.index(prefix) + len(prefix)
        blob = bytearray(base64.b64decode(note[start : note.index(b"\n", start)]))
        blob[20] ^= 1  # inside the Ed25519 signature
        changed = note[:start] + base64.b64encode(bytes(blob)) + note[note.index(b"\n", start) :]
        connection.execute("UPDATE log_checkpoints SET note = ? WHERE size = ?", (changed, size))
    failed = run("audit", "verify", "--config", str(federation.config), "--witnesses", "0", check=False)
    assert failed.returncode == 1
    assert f"stored checkpoint of size 5: the cosignature of witness {WITNESS_A}" in failed.stdout + failed.stderr
