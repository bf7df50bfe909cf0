"""The TypeScript client (clients/typescript), written from the README's recipe, against real nodes (issue 15 item 10).

It calls a node over mTLS with @grpc/grpc-js and verifies with Node's own crypto what the node signs: every
disclosed record, the receipt and the receipt's inclusion proof, and audit bundles (a v2 bundle's completeness
too). Answers and bundles the Python side recorded, then tampered with, must not verify. One federation of three
regions, each node a process, serves the module.
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
from datetime import UTC, datetime, timedelta
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


def export(cluster: Cluster, path: Path, *filters: str) -> dict[str, Any]:
    """``audit export`` by the officer of the asking node, once a checkpoint (and its index checkpoint) covers it."""
    wait_until(lambda: checkpointed(cluster.layout.node_dir(ASKER) / f"{ASKER}.db"))
    officer = str(cluster.layout.root / "clients" / "officer")
    node = f"localhost:{cluster.ports[ASKER]}"
    run("audit", "export", "--node", node, "--identity", officer, *filters, "--out", str(path))
    bundle: dict[str, Any] = json.loads(path.read_text())
    return bundle


def verify_bundle(node: Path, cluster: Cluster, path: Path, bundle: dict[str, Any] | None = None) -> str:
    """The client's ``verify-bundle`` output for ``path`` (rewritten with ``bundle`` when given); exit 0 or 1."""
    if bundle is not None:
        path.write_text(json.dumps(bundle))
    key = f"{ASKER}={cluster.layout.node_public_key(ASKER)}"
    result = typescript(node, "verify-bundle", str(path), "--node-key", key)
    assert result.returncode in (0, 1), result.stdout + result.stderr
    assert (result.returncode == 0) == result.stdout.rstrip().endswith(" 0 did not verify"), result.stdout
    return result.stdout


SUBJECT_KEY = f"subject:legal_entity:{COMPANY}"


def test_every_entry_of_an_officer_s_export_verifies_at_its_own_leaf(
    client: Path, cluster: Cluster, tmp_path: Path
) -> None:
    """Many leaves under one checkpoint: RFC 9162 inclusion at each index, the last and the odd ones among them;
    the export for one subject is a bundle v2 whose completeness verifies too."""
    for _ in range(5):
        asyncio.run(federated(cluster.layout, cluster.ports[ASKER], 30))
    bundle = export(cluster, tmp_path / "export.json", "--subject", COMPANY)
    assert bundle["format"] == "share-gateway/audit-bundle@v2"
    entries = bundle["entries"]
    assert len(entries) >= 6
    output = verify_bundle(client, cluster, tmp_path / "export.json")
    leaves = re.findall(r"^\u2713 entry #\d+ \(leaf (\d+)\): event included", output, re.M)
    assert sorted(int(leaf) for leaf in leaves) == sorted(e["leaf_index"] for e in entries)
    complete = rf"^\u2713 completeness: all {len(entries)} event\(s\) about {SUBJECT_KEY} are in the bundle \(index "
    assert re.search(complete + rf"checkpoint of the log at size \d+ signed by {node_key_name(ASKER)}", output, re.M)
    assert "not proven" not in output
    assert output.rstrip().endswith(f"{len(entries) + 2} verified, 0 did not verify")


def test_a_complete_export_with_one_entry_removed_fails_naming_the_missing_leaf(
    client: Path, cluster: Cluster, tmp_path: Path
) -> None:
    """Every remaining entry still verifies on its own: only the completeness section shows one was left out."""
    asyncio.run(federated(cluster.layout, cluster.ports[ASKER], 30))
    bundle = export(cluster, tmp_path / "export.json", "--subject", COMPANY)
    assert len(bundle["entries"]) >= 2
    removed = bundle["entries"].pop(1)
    output = verify_bundle(client, cluster, tmp_path / "export.json", bundle)
    missing = f"\u2717 completeness: leaf {removed['leaf_index']} is missing: the index lists it under {SUBJECT_KEY}"
    assert missing in output.splitlines(), output
    assert output.rstrip().endswith(f"{len(bundle['entries']) + 1} verified, 1 did not verify")
    # Leaving it out of the listed leaves too: the list no longer chains to the value the index holds.
    bundle["completeness"]["leaves"] = [
        leaf for leaf in bundle["completeness"]["leaves"] if leaf["leaf_index"] != removed["leaf_index"]
    ]
    unlisted = verify_bundle(client, cluster, tmp_path / "export.json", bundle)
    assert f"\u2717 completeness: the leaves listed for {SUBJECT_KEY} are not those the index holds" in (
        unlisted.splitlines()
    ), unlisted


def test_an_index_checkpoint_whose_signature_is_broken_proves_nothing(
    client: Path, cluster: Cluster, tmp_path: Path
) -> None:
    bundle = export(cluster, tmp_path / "export.json", "--subject", COMPANY)
    note = bundle["completeness"]["index_checkpoint"]
    signature = re.search(rf"^\u2014 {node_key_name(ASKER)} (\S+)$", note, re.M)
    assert signature, note
    forged = bytearray(base64.b64decode(signature.group(1)))
    forged[-1] ^= 0x01
    bundle["completeness"]["index_checkpoint"] = note.replace(signature.group(1), base64.b64encode(forged).decode())
    output = verify_bundle(client, cluster, tmp_path / "export.json", bundle)
    broken = f"\u2717 completeness: the index checkpoint's signature by {node_key_name(ASKER)} does not verify"
    assert broken in output.splitlines(), output
    assert output.rstrip().endswith(f"{len(bundle['entries']) + 1} verified, 1 did not verify"), "the entries verify"


def test_an_export_for_a_subject_with_no_events_verifies_as_complete_and_empty(
    client: Path, cluster: Cluster, tmp_path: Path
) -> None:
    """The lookup proves the index holds nothing for the key (non-membership): no entry, and none left out."""
    nobody = CALLERS["bank"][0].uri.rsplit("/", 1)[-1]  # the bank asks, it is never asked about
    bundle = export(cluster, tmp_path / "empty.json", "--subject", nobody)
    assert (bundle["format"], bundle["entries"], bundle["completeness"]["leaves"]) == (
        "share-gateway/audit-bundle@v2", [], []
    )  # fmt: skip
    output = verify_bundle(client, cluster, tmp_path / "empty.json")
    empty = f"\u2713 completeness: the index holds no event about subject:legal_entity:{nobody}: complete and empty"
    assert re.search(f"^{re.escape(empty)} \\(index checkpoint of the log at size \\d+", output, re.M), output
    assert output.rstrip().endswith("2 verified, 0 did not verify")
    # Claiming the key has leaves, against the same lookup, does not verify.
    bundle["completeness"]["leaves"] = [{"leaf_index": 0, "at": "2026-01-01T00:00:00.000000Z"}]
    claimed = verify_bundle(client, cluster, tmp_path / "empty.json", bundle)
    assert f"\u2717 completeness: the index holds no leaves for subject:legal_entity:{nobody}, the bundle lists 1" in (
        claimed.splitlines()
    ), claimed


def test_a_bundle_v1_still_verifies_and_says_completeness_is_not_proven(
    client: Path, cluster: Cluster, tmp_path: Path
) -> None:
    """Another filter than the subject alone exports v1: every entry verifies, and nothing says none was left out."""
    asyncio.run(federated(cluster.layout, cluster.ports[ASKER], 30))
    bundle = export(cluster, tmp_path / "v1.json", "--subject", COMPANY, "--purpose", "loan_underwriting")
    assert bundle["format"] == "share-gateway/audit-bundle@v1"
    assert bundle["entries"]
    output = verify_bundle(client, cluster, tmp_path / "v1.json")
    assert "  completeness not proven (a share-gateway/audit-bundle@v1 bundle): events may have been left out" in (
        output.splitlines()
    ), output
    assert "\u2713 completeness" not in output
    assert output.rstrip().endswith(f"{len(bundle['entries']) + 1} verified, 0 did not verify")


def test_a_complete_export_holds_exactly_the_key_s_leaves_in_its_time_range(
    client: Path, cluster: Cluster, tmp_path: Path
) -> None:
    """The bank's inquiries are all listed under its requester key, none in a range starting two days on: the
    export is complete and empty; without its range the same section says the listed leaves are missing."""
    requester = CALLERS["bank"][0].uri
    asyncio.run(federated(cluster.layout, cluster.ports[ASKER], 30))
    since = (datetime.now(UTC) + timedelta(days=2)).date()
    bundle = export(cluster, tmp_path / "later.json", "--requester", requester, "--since", since.isoformat())
    assert (bundle["format"], bundle["entries"]) == ("share-gateway/audit-bundle@v2", [])
    first = bundle["completeness"]["leaves"][0]["leaf_index"]
    output = verify_bundle(client, cluster, tmp_path / "later.json")
    later = f"no event about requester:{requester} in [{since.isoformat()}T00:00:00.000000Z, the end): complete"
    assert later in output, output
    assert output.rstrip().endswith("2 verified, 0 did not verify")
    del bundle["completeness"]["since"]
    whole = verify_bundle(client, cluster, tmp_path / "later.json", bundle)
    assert f"\u2717 completeness: leaf {first} is missing: the index lists it under requester:{requester}" in (
        whole.splitlines()
    ), whole
