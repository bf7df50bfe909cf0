"""`share-gateway inquire prove` as a requester runs it, against a node served in its own process."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from share_gateway.crypto.keys import KeyRing, VerifyingKey
from share_gateway.domain.key_names import node_key_name
from share_gateway.ledger.checkpoint import TlogProof
from tests.e2e.conftest import checkpointed, consent_file, run
from tests.support import COMPANY
from tests.waiting import PROCESS_TEST_SECONDS, wait_until

pytestmark = pytest.mark.timeout(PROCESS_TEST_SECONDS)


def test_a_requester_writes_a_proof_of_its_inquiry_that_verifies_offline(
    served: tuple[Path, str], tmp_path: Path
) -> None:
    pki, address = served
    signing = pki / "nodes/110000/signing.pub"
    node_key = ("--node-key", f"110000={signing}")
    bank = ("--node", address, "--identity", str(pki / "clients/bank"))
    consent = ("--consent-file", str(consent_file(pki)))
    answer = run("inquire", *bank, "--subject", COMPANY, "--purpose", "loan_underwriting", *consent)
    found = re.search(r"inquiry (\S+): ", answer.stdout)
    assert found, answer.stdout
    inquiry_id = found.group(1)
    wait_until(lambda: checkpointed(pki / "nodes/110000/110000.db"))
    proof, bundle = tmp_path / "receipt.tlog-proof", tmp_path / "receipt.bundle.json"
    proved = run("inquire", "prove", inquiry_id, *bank, *node_key, "--out", str(proof), "--bundle", str(bundle))
    assert "verified" in proved.stdout
    assert f"audit verify-bundle {bundle}" in proved.stdout, "it says how to verify the file"
    assert proof.read_bytes().startswith(b"c2sp.org/tlog-proof@v1\nindex ")
    # The officers' offline verifier accepts the bundle; the bare proof verifies over the event with the key alone.
    assert "verified offline" in run("audit", "verify-bundle", str(bundle), *node_key).stdout
    event = base64.b64decode(json.loads(bundle.read_bytes())["entries"][0]["event"])
    assert json.loads(event)["id"] == inquiry_id
    keys = KeyRing([VerifyingKey.from_pem(node_key_name("110000"), signing.read_bytes())])
    TlogProof.parse(proof.read_bytes()).verify(event, keys, node_key_name("110000"))
    # Another caller asking for the bank's event is told that no such event of its own exists.
    company = ("--node", address, "--identity", str(pki / "clients/company"))
    refused = run("inquire", "prove", inquiry_id, *company, *node_key, "--out", str(tmp_path / "x"), check=False)
    assert refused.returncode == 1
    assert "NOT_FOUND" in refused.stderr
    assert not (tmp_path / "x").exists()
