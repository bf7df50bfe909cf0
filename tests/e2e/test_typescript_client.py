"""The TypeScript client (clients/typescript), written from the README's recipe, against real nodes (issue 15 item 10).

It calls a node over mTLS with @grpc/grpc-js and verifies with Node's own crypto what the node signs: every
disclosed record, the receipt and the receipt's inclusion proof. Answers the Python side recorded in proto3 JSON,
then tampered with, must not verify. One federation of three regions, each node a process, serves the module.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format

from share_gateway.crypto.disclosure import STATEMENT_TYPE, RecordStatement
from share_gateway.crypto.envelope import Envelope
from share_gateway.crypto.keys import SigningKey
from share_gateway.devkit import Layout
from share_gateway.domain.key_names import node_key_name
from tests.consents import consent_to_wire, signed_consent
from tests.e2e.conftest import checkpointed, run
from tests.federation import REGIONS, federated, seed
from tests.processes import Cluster, federation_cluster
from tests.support import CALLERS, COMPANY, entity
from tests.waiting import PROCESS_TEST_SECONDS, wait_until

pytestmark = pytest.mark.timeout(PROCESS_TEST_SECONDS)

CLIENT = Path(__file__).resolve().parents[2] / "clients" / "typescript"
CLI = CLIENT / "dist" / "cli.js"
ASKER = REGIONS[0]


@pytest.fixture(scope="module")
def client() -> Path:
    """The client as the README's test command builds it (`npm ci --prefix clients/typescript` runs its build)."""
    node = shutil.which("node")
    assert node, "Node.js is missing: the TypeScript client's tests need it"
    assert CLI.exists(), "the client is not built: run `npm ci --prefix clients/typescript`"
    built = CLI.stat().st_mtime
    stale = [p for p in (CLIENT / "src").rglob("*.ts") if "generated" not in p.parts and p.stat().st_mtime > built]
    assert not stale, f"the client is older than {stale[0].name}: run `npm run build --prefix clients/typescript`"
    return Path(node)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Three regions serving, one administrative penalty about the company recorded in each."""
    with federation_cluster(tmp_path_factory.mktemp("federation")) as running:
        asyncio.run(seed(running.layout, running.ports))
        yield running


def node_keys(layout: Layout, **keys: str) -> list[str]:
    """``--node-key`` for every region, each its own key unless ``keys`` gives another region's."""
    pairs = {region: keys.get(f"r{region}", region) for region in REGIONS}
    return [a for r, k in pairs.items() for a in ("--node-key", f"{r}={layout.node_public_key(k)}")]


def typescript(node: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(node), str(CLI), *args], capture_output=True, text=True, timeout=180, check=False)


def inquire(
    node: Path, cluster: Cluster, tmp_path: Path, *extra: str, keys: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    layout, bank = cluster.layout, cluster.layout.client("bank")
    signed = signed_consent(bank, entity(), CALLERS["bank"][0].uri, attested=True)
    consent = tmp_path / "consent.json"
    consent.write_text(json_format.MessageToJson(consent_to_wire(signed)))
    return typescript(
        node, "inquire", "--node", f"localhost:{cluster.ports[ASKER]}",
        "--ca", str(bank.ca), "--cert", str(bank.certificate), "--key", str(bank.key),
        "--subject", COMPANY, "--purpose", "loan_underwriting", "--consent", str(consent),
        *(node_keys(layout) if keys is None else keys), *extra,
    )  # fmt: skip


def verified_records(output: str) -> dict[str, str]:
    """Record id to origin region, for each record the client printed as verified."""
    return dict(
        re.findall(r"^\u2713 record (\S+) \(administrative_penalty from (\d+), statement format 3\)", output, re.M)
    )


def test_a_local_inquiry_is_verified_record_by_record_with_its_receipt_in_the_log(
    client: Path, cluster: Cluster, tmp_path: Path
) -> None:
    saved = tmp_path / "answer.json"
    result = inquire(client, cluster, tmp_path, "--save-answer", str(saved))
    assert result.returncode == 0, result.stdout + result.stderr
    inquiry_id = re.search(r"^inquiry (\S+): 1 record\(s\)$", result.stdout, re.M)
    assert inquiry_id, result.stdout
    assert list(verified_records(result.stdout).values()) == [ASKER]
    assert "penalty_amount=50000.00" in result.stdout
    receipt = f"\u2713 receipt {inquiry_id.group(1)}: signed by {node_key_name(ASKER)}, lists the 1 record(s)"
    assert receipt in result.stdout
    proved = rf"^\u2713 receipt {inquiry_id.group(1)} in the log of {ASKER}: leaf \d+ under the checkpoint of size \d+"
    assert re.search(proved, result.stdout, re.M), result.stdout
    assert result.stdout.rstrip().endswith("3 verified, 0 did not verify")
    # What the client saved verifies offline, as what Python's protobuf writes does.
    offline = typescript(client, "verify-answer", str(saved), *node_keys(cluster.layout), "--subject", COMPANY)
    assert offline.returncode == 0, offline.stdout + offline.stderr
    assert "2 verified, 0 did not verify" in offline.stdout


def test_a_federated_inquiry_verifies_each_region_s_records_under_its_own_key(
    client: Path, cluster: Cluster, tmp_path: Path
) -> None:
    result = inquire(client, cluster, tmp_path, "--federation")
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(verified_records(result.stdout).values()) == sorted(REGIONS)
    for region in REGIONS:
        assert f"  region {region}: ok, 1 record(s)" in result.stdout
    assert "lists the 3 record(s) as disclosed" in result.stdout
    assert f"in the log of {ASKER}: leaf" in result.stdout
    assert result.stdout.rstrip().endswith("5 verified, 0 did not verify")


def test_another_region_s_key_given_for_the_node_verifies_nothing_it_signed(
    client: Path, cluster: Cluster, tmp_path: Path
) -> None:
    result = inquire(client, cluster, tmp_path, "--federation", keys=node_keys(cluster.layout, r110000="310000"))
    assert result.returncode == 1, result.stdout + result.stderr
    assert re.search(r"^\u2717 record \S+: key id \"[0-9a-f]{8}\" is none of the node keys given$", result.stdout, re.M)
    assert re.search(r"^\u2717 receipt \S+: key id", result.stdout, re.M), result.stdout
    assert sorted(verified_records(result.stdout).values()) == ["310000", "440000"], "the others' records verify"
    assert result.stdout.rstrip().endswith("2 verified, 2 did not verify")


def test_a_refused_inquiry_is_reported_with_the_node_s_reason(client: Path, cluster: Cluster, tmp_path: Path) -> None:
    layout, bank = cluster.layout, cluster.layout.client("bank")
    result = typescript(
        client, "inquire", "--node", f"localhost:{cluster.ports[ASKER]}",
        "--ca", str(bank.ca), "--cert", str(bank.certificate), "--key", str(bank.key),
        "--subject", COMPANY, "--purpose", "loan_underwriting", *node_keys(layout),
    )  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    assert "PERMISSION_DENIED" not in result.stdout
    assert "(CONSENT_REQUIRED)" in result.stderr, result.stderr
    wrong = typescript(client, "verify-bundle", str(layout.manifest), *node_keys(layout))
    assert wrong.returncode == 2
    assert "share-gateway-ts: malformed" in wrong.stderr


def recorded_answer(cluster: Cluster, path: Path) -> dict[str, Any]:
    """A federated answer as the Python side records it: proto3 JSON."""
    answer = asyncio.run(federated(cluster.layout, cluster.ports[ASKER], 30))
    recorded: dict[str, Any] = json.loads(json_format.MessageToJson(answer))
    path.write_text(json.dumps(recorded))
    return recorded


def test_a_payload_with_one_byte_flipped_does_not_verify(client: Path, cluster: Cluster, tmp_path: Path) -> None:
    path = tmp_path / "answer.json"
    recorded = recorded_answer(cluster, path)
    assert typescript(client, "verify-answer", str(path), *node_keys(cluster.layout)).returncode == 0
    payload = bytearray(base64.b64decode(recorded["records"][1]["statement"]["payload"]))
    payload[payload.index(b'"version":1') + len('"version":')] ^= 0x02  # version 1 becomes 3
    recorded["records"][1]["statement"]["payload"] = base64.b64encode(payload).decode()
    path.write_text(json.dumps(recorded))
    result = typescript(client, "verify-answer", str(path), *node_keys(cluster.layout))
    assert result.returncode == 1, result.stdout + result.stderr
    assert re.search(
        r"^\u2717 record #2: the Ed25519 signature by share-gateway/node/\d+ does not verify$", result.stdout, re.M
    )
    assert len(verified_records(result.stdout)) == 2
    assert result.stdout.rstrip().endswith("3 verified, 1 did not verify")


def test_a_disclosed_value_changed_does_not_match_its_digest(client: Path, cluster: Cluster, tmp_path: Path) -> None:
    path = tmp_path / "answer.json"
    recorded = recorded_answer(cluster, path)
    [amount] = [f for f in recorded["records"][0]["fields"] if f["name"] == "penalty_amount"]
    amount["value"] = "500.00"
    path.write_text(json.dumps(recorded))
    result = typescript(client, "verify-answer", str(path), *node_keys(cluster.layout))
    assert result.returncode == 1, result.stdout + result.stderr
    assert re.search(
        r"^\u2717 record \S+: field penalty_amount: its digest is not in the signed statement$", result.stdout, re.M
    )


@pytest.mark.parametrize("statement_format", [1, 2])
def test_statements_of_the_older_formats_still_verify(
    client: Path, cluster: Cluster, tmp_path: Path, statement_format: int
) -> None:
    """A record sealed as format 1 or 2 (one ``disclose_until``) by the origin's key, fields and receipt as sent."""
    path = tmp_path / "answer.json"
    recorded = recorded_answer(cluster, path)
    statement = recorded["records"][0]["statement"]
    current = RecordStatement.from_bytes(base64.b64decode(statement["payload"]))
    origin = current.origin_region
    old = dataclasses.replace(current, format=statement_format).to_bytes()
    assert b'"disclose_until"' in old
    assert b'"share_until"' not in old
    key = SigningKey.load(node_key_name(origin), cluster.layout.node_dir(origin) / "signing.key")
    sealed = Envelope.seal(key, STATEMENT_TYPE, old)
    statement |= {
        "payload": base64.b64encode(sealed.payload).decode(),
        "signature": base64.b64encode(sealed.signature).decode(),
    }
    path.write_text(json.dumps(recorded))
    result = typescript(client, "verify-answer", str(path), *node_keys(cluster.layout))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"from {origin}, statement format {statement_format}): signed by" in result.stdout


def test_an_audit_bundle_of_the_receipt_verifies_offline_and_a_changed_event_does_not(
    client: Path, cluster: Cluster, tmp_path: Path
) -> None:
    answer = asyncio.run(federated(cluster.layout, cluster.ports[ASKER], 30))
    bank = ("--node", f"localhost:{cluster.ports[ASKER]}", "--identity", str(cluster.layout.root / "clients" / "bank"))
    bundle = tmp_path / "receipt.bundle.json"
    key = ("--node-key", f"{ASKER}={cluster.layout.node_public_key(ASKER)}")
    wait_until(lambda: checkpointed(cluster.layout.node_dir(ASKER) / f"{ASKER}.db"))
    run("inquire", "prove", answer.inquiry_id, *bank, *key, "--out", str(tmp_path / "p"), "--bundle", str(bundle))
    result = typescript(client, "verify-bundle", str(bundle), *key)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(
        r"^\u2713 entry #1 \(leaf \d+\): event included under the checkpoint of size \d+", result.stdout, re.M
    )
    contents = json.loads(bundle.read_text())
    logged = base64.b64decode(contents["entries"][0]["event"])
    event = json.loads(logged)
    event["purpose"] = "employment_screening"
    contents["entries"][0]["event"] = base64.b64encode(json.dumps(event).encode()).decode()
    bundle.write_text(json.dumps(contents))
    changed = typescript(client, "verify-bundle", str(bundle), *key)
    assert changed.returncode == 1, changed.stdout + changed.stderr
    assert re.search(
        r"^\u2717 entry #1 \(leaf \d+\): leaf \d+ is not in the tree of \d+: the root differs$", changed.stdout, re.M
    )
    # The event as logged, under a checkpoint whose signature is not the node's: refused before any hash.
    contents["entries"][0]["event"] = base64.b64encode(logged).decode()
    proof = contents["entries"][0]["proof"]
    signature = re.search(r"^\u2014 share-gateway/node/110000 (\S+)$", proof, re.M)
    assert signature
    forged = bytearray(base64.b64decode(signature.group(1)))
    forged[-1] ^= 0x01
    contents["entries"][0]["proof"] = proof.replace(signature.group(1), base64.b64encode(forged).decode())
    bundle.write_text(json.dumps(contents))
    unsigned = typescript(client, "verify-bundle", str(bundle), *key)
    assert unsigned.returncode == 1, unsigned.stdout + unsigned.stderr
    assert "\u2717 entry #1" in unsigned.stdout
    assert "the checkpoint's signature by share-gateway/node/110000 does not verify" in unsigned.stdout


def test_every_entry_of_an_officer_s_export_verifies_at_its_own_leaf(
    client: Path, cluster: Cluster, tmp_path: Path
) -> None:
    """Many leaves under one checkpoint: RFC 9162 inclusion at each index, the last and the odd ones among them."""
    for _ in range(5):
        asyncio.run(federated(cluster.layout, cluster.ports[ASKER], 30))
    wait_until(lambda: checkpointed(cluster.layout.node_dir(ASKER) / f"{ASKER}.db"))
    officer = str(cluster.layout.root / "clients" / "officer")
    bundle = tmp_path / "export.json"
    node = f"localhost:{cluster.ports[ASKER]}"
    run("audit", "export", "--node", node, "--identity", officer, "--subject", COMPANY, "--out", str(bundle))
    entries = json.loads(bundle.read_text())["entries"]
    assert len(entries) >= 6
    key = ("--node-key", f"{ASKER}={cluster.layout.node_public_key(ASKER)}")
    result = typescript(client, "verify-bundle", str(bundle), *key)
    assert result.returncode == 0, result.stdout + result.stderr
    leaves = re.findall(r"^\u2713 entry #\d+ \(leaf (\d+)\): event included", result.stdout, re.M)
    assert sorted(int(leaf) for leaf in leaves) == sorted(e["leaf_index"] for e in entries)
    assert result.stdout.rstrip().endswith(f"{len(entries) + 1} verified, 0 did not verify")
