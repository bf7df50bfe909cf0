"""Key rotation as an operator and an officer meet it: ``federation rotate-key`` in a development federation, then
``audit verify`` and ``audit verify-bundle`` on a log signed before the rotation (it still verifies) and on one the
retired key signed over leaves logged after it (refused). The rule is the project's (issue 13; TUF's root rotation
is the model) (unverified)."""

from __future__ import annotations

import json
import re
import sqlite3
import ssl
import uuid
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from share_gateway.config import NodeConfig
from share_gateway.crypto.cosignature import cosign_checkpoint
from share_gateway.crypto.keys import KeyRing, SigningKey
from share_gateway.crypto.note import parse_note
from share_gateway.crypto.pki import certificate_fingerprint
from share_gateway.devkit import Layout, create_federation
from share_gateway.domain.events import Event, EventKind, Outcome
from share_gateway.federation.manifest import Manifest, open_manifest
from share_gateway.gateway.sequencer import Sequencer, SequencerSettings
from share_gateway.store.database import migrate, open_database
from share_gateway.store.log import LogStore
from share_gateway.store.repositories import Store
from tests.e2e.conftest import BANK, checkpointed, consent_file, run
from tests.e2e.test_witnessed_audit import bundle_of, inline, log_key, witness_key
from tests.federation import REGIONS
from tests.processes import serve_node
from tests.support import COMPANY
from tests.waiting import PROCESS_TEST_SECONDS, wait_until

ORIGIN, WITNESS_A, WITNESS_B = REGIONS
ORIGIN_NODE = "110000"  # the region ``pki init`` makes in the ``pki`` fixture
EARLIER = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # before any rotation the tests make (they run later)

pytestmark = pytest.mark.timeout(PROCESS_TEST_SECONDS)


async def write_log(url: str, key: SigningKey, start: datetime, cosigners: list[SigningKey]) -> LogStore:
    """Six events from ``start``, a second apart, under one checkpoint signed by ``key`` and cosigned."""
    database = open_database(url)
    migrate(database)
    store, logs = Store(database), LogStore(database)
    sequencer = Sequencer(logs, key, inline, lambda: start, SequencerSettings(checkpoint_interval=3600))
    at = [start + timedelta(seconds=i) for i in range(6)]
    store.append([Event(str(uuid.uuid4()), EventKind.AUDIT, t, ORIGIN, "officer", Outcome.ALLOWED) for t in at])
    await sequencer.step(force=True)
    text = parse_note(logs.latest_checkpoint().note).text  # type: ignore[union-attr]
    for cosigner in cosigners:
        logs.add_cosignature(6, cosign_checkpoint(text, cosigner, int(start.timestamp())))
    return logs


@dataclass
class Federation:
    layout: Layout
    config: Path

    @property
    def trust(self) -> tuple[str, ...]:
        return ("--manifest", str(self.layout.manifest), "--authority", str(self.layout.authority_public_key))

    def manifest(self) -> Manifest:
        ring = KeyRing([self.layout.authority().verifying_key])
        return open_manifest(self.layout.manifest.read_bytes(), ring).manifest

    def rotate(self, key: str = "signing") -> str:
        root = str(self.layout.root)
        return run("federation", "rotate-key", "--federation", root, "--region", ORIGIN, "--key", key).stdout

    def witnesses(self) -> list[SigningKey]:
        return [witness_key(self.layout, WITNESS_A), witness_key(self.layout, WITNESS_B)]


@pytest.fixture
def federation(tmp_path: Path) -> Federation:
    layout = create_federation(tmp_path / "federation", REGIONS, {}, datetime.now(UTC))
    return Federation(layout, layout.node_config(ORIGIN))


async def test_a_log_signed_before_a_rotation_verifies_after_it_with_audit_verify_and_verify_bundle(
    federation: Federation, tmp_path: Path
) -> None:
    old = log_key(federation.layout, ORIGIN)
    logs = await write_log(NodeConfig.load(federation.config).database, old, EARLIER, federation.witnesses())
    bundle = tmp_path / "bundle.json"
    bundle.write_bytes(bundle_of(logs))
    before = tmp_path / "manifest-v1.signed"
    before.write_bytes(federation.layout.manifest.read_bytes())

    said = federation.rotate()
    assert "the old one is retired" in said
    assert "manifest version 2" in said
    manifest = federation.manifest()
    node = manifest.nodes[ORIGIN]
    assert node.signing_key.raw != old.verifying_key.raw
    assert [e.key.raw for e in node.earlier_signing] == [old.verifying_key.raw]
    # pki init writes format 4 (verifier keys); it holds format 3's key history, the retired key with its vkey.
    history = json.loads(parse_note(federation.layout.manifest.read_bytes()).text)
    assert history["v"] == 4
    assert history["nodes"][ORIGIN]["signing_keys"][0]["vkey"] == old.verifying_key.verifier_key
    assert log_key(federation.layout, ORIGIN).verifying_key == node.signing_key, "the node's key file is the new key"

    verified = run("audit", "verify", "--config", str(federation.config))
    assert "verifies" in verified.stdout
    offline = run("audit", "verify-bundle", str(bundle), *federation.trust)
    assert "verified offline" in offline.stdout
    both = run("audit", "verify-bundle", str(bundle), *federation.trust, "--manifest", str(before))
    assert "verified offline" in both.stdout


async def test_a_checkpoint_the_retired_key_signs_over_leaves_logged_after_the_rotation_is_refused(
    federation: Federation, tmp_path: Path
) -> None:
    old = log_key(federation.layout, ORIGIN)
    federation.rotate()
    later = datetime.now(UTC) + timedelta(hours=1)
    forged_db = tmp_path / "after.db"
    logs = await write_log(f"sqlite:///{forged_db}", old, later, federation.witnesses())
    settings = yaml.safe_load(federation.config.read_text())
    forged = federation.config.with_name("after.yaml")
    forged.write_text(yaml.safe_dump({**settings, "database": f"sqlite:///{forged_db}"}))
    failed = run("audit", "verify", "--config", str(forged), check=False)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "retired" in failed.stdout + failed.stderr
    bundle = tmp_path / "bundle.json"
    bundle.write_bytes(bundle_of(logs))
    refused = run("audit", "verify-bundle", str(bundle), *federation.trust, check=False)
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "retired" in refused.stdout + refused.stderr
    # The same log signed by the key in force verifies: it is the retired key that is refused, not the dates.
    current = f"sqlite:///{tmp_path / 'new.db'}"
    await write_log(current, log_key(federation.layout, ORIGIN), later, federation.witnesses())
    forged.write_text(yaml.safe_dump({**settings, "database": current}))
    assert "verifies" in run("audit", "verify", "--config", str(forged)).stdout


def test_rotating_the_witness_key_and_re_signing_keep_every_earlier_key(federation: Federation) -> None:
    old_witness = witness_key(federation.layout, ORIGIN).verifying_key
    federation.rotate("signing")
    federation.rotate("witness")
    run("federation", "sign", "--dir", str(federation.layout.root))
    manifest = federation.manifest()
    node = manifest.nodes[ORIGIN]
    assert manifest.version == 4
    assert len(node.earlier_signing) == 1
    assert [e.key.raw for e in node.earlier_witness] == [old_witness.raw]
    assert len(node.as_witness().keys) == 2, "cosignatures by the earlier witness key still verify"
    authority = str(federation.layout.authority_public_key)
    shown = run("federation", "show", str(federation.layout.manifest), "--authority", authority).stdout
    assert f"{ORIGIN}: earlier signing key {node.earlier_signing[0].key.key_id.hex()}, retired" in shown
    assert f"{ORIGIN}: earlier witness key" in shown
    unknown = run("federation", "rotate-key", "--federation", str(federation.layout.root), "--region", "999999",
                  "--key", "signing", check=False)  # fmt: skip
    assert unknown.returncode != 0
    assert "999999" in unknown.stdout + unknown.stderr
    assert federation.manifest().version == 4, "a refused rotation changes nothing"


def test_a_node_restarted_after_a_rotation_signs_with_the_new_key_and_its_whole_log_still_verifies(pki: Path) -> None:
    """The checkpoints before the rotation (old key) and after it (new key) verify together in ``audit verify``."""
    config = pki / "nodes/110000/node.yaml"
    database = pki / "nodes/110000/110000.db"
    run("grant", "add", "--config", str(config), "--institution", BANK, "--kind", "bank", "--inquire",
        "loan_underwriting", "--document", "京信用办〔2026〕1号")  # fmt: skip
    inquiry = ("--identity", str(pki / "clients/bank"), "--subject", COMPANY, "--purpose", "loan_underwriting",
               "--consent-file", str(consent_file(pki)))  # fmt: skip
    layout = Layout(pki)
    old = layout.node_verifying_key(ORIGIN_NODE)
    for rotate in (False, True):
        if rotate:
            run("federation", "rotate-key", "--federation", str(pki), "--region", ORIGIN_NODE, "--key", "signing")
        server = serve_node(config)
        try:
            match = re.search(r"mTLS port (\d+)", server.wait_ready())
            assert match, "".join(server.output)
            run("inquire", "--node", f"localhost:{match.group(1)}", *inquiry)
            wait_until(lambda: checkpointed(database))
        finally:
            server.stop()
    new = layout.node_verifying_key(ORIGIN_NODE)
    assert new.key_id != old.key_id
    with closing(sqlite3.connect(database)) as connection:
        notes = [row[0] for row in connection.execute("SELECT note FROM log_checkpoints ORDER BY size")]
    signers = [parse_note(note).signatures[0].key_id for note in notes]
    assert signers[0] == old.key_id, "the first checkpoint was signed before the rotation"
    assert signers[-1] == new.key_id, "the node signs with the new key after its restart"
    verified = run("audit", "verify", "--config", str(config))
    assert "verifies" in verified.stdout


def test_after_an_authority_rotation_the_pinned_key_leads_to_the_new_one_and_the_node_starts(
    pki: Path, tmp_path: Path
) -> None:
    """The old authority key signed a statement naming the new one (as TUF rotates its root); the node's loaders
    and ``federation verify`` follow it from the same pinned ``authority.pub``, and refuse what the old key signs."""
    pinned = pki / "authority/authority.pub"
    before = pinned.read_bytes()
    old_manifest = tmp_path / "old-manifest.signed"
    old_manifest.write_bytes((pki / "manifest.signed").read_bytes())
    said = run("federation", "rotate-authority", "--federation", str(pki)).stdout
    assert "authority rotation 1" in said
    assert pinned.read_bytes() == before, "verifiers keep the key they pinned"
    verified = run("federation", "verify", str(pki / "manifest.signed"), "--authority", str(pinned))
    assert "manifest version 2 verifies" in verified.stdout
    refused = run("federation", "verify", str(old_manifest), "--authority", str(pinned), check=False)
    assert refused.returncode != 0, "the old key signs nothing that is accepted"
    run("federation", "rotate-key", "--federation", str(pki), "--region", ORIGIN_NODE, "--key", "signing")
    server = serve_node(pki / "nodes/110000/node.yaml")
    try:
        assert re.search(r"mTLS port (\d+)", server.wait_ready()), "".join(server.output)
    finally:
        server.stop()
    # A rotation the new key alone signed is no hand-over: the loaders refuse to go on.
    statement = (pki / "authority/rotations/0001.signed").read_bytes().decode()
    text = statement.split("\n\n")[0] + "\n"
    (pki / "authority/rotations/0001.signed").write_text(text + "\n" + statement.split("\n\n")[1].split("\n")[1] + "\n")
    forged = run("federation", "verify", str(pki / "manifest.signed"), "--authority", str(pinned), check=False)
    assert forged.returncode != 0
    assert "authority rotation 1" in forged.stdout + forged.stderr


def test_a_rotated_tls_certificate_is_pinned_by_the_new_manifest_and_served_after_a_restart(pki: Path) -> None:
    """Peers admit a node's certificate by the fingerprint the manifest pins (README, peer admission) (unverified)."""
    old = certificate_fingerprint((pki / "nodes/110000/tls.crt").read_bytes())
    said = run("federation", "rotate-key", "--federation", str(pki), "--region", ORIGIN_NODE, "--key", "tls").stdout
    assert "new tls certificate" in said
    new = certificate_fingerprint((pki / "nodes/110000/tls.crt").read_bytes())
    assert new != old
    ring = KeyRing([Layout(pki).authority().verifying_key])
    manifest = open_manifest((pki / "manifest.signed").read_bytes(), ring).manifest
    assert (manifest.version, manifest.nodes[ORIGIN_NODE].tls_fingerprint) == (2, new)
    server = serve_node(pki / "nodes/110000/node.yaml")
    try:
        match = re.search(r"mTLS port (\d+)", server.wait_ready())
        assert match, "".join(server.output)
        served = ssl.get_server_certificate(("127.0.0.1", int(match.group(1))))
    finally:
        server.stop()
    assert certificate_fingerprint(served.encode()) == new
