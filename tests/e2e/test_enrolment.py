"""Enrolment as an institution and the authority run it: `pki request` makes the key and request, `pki issue`
checks it and records the certificate, the node (`share-gateway serve`, its own process) serves the enrolled
certificate, and `pki revoke` names it by the fingerprint the register recorded until the node refuses it."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import pytest

from share_gateway.crypto.pki import certificate_fingerprint, certificate_serial, identity_uris
from tests.e2e.conftest import BANK, consent_file, run
from tests.support import COMPANY
from tests.waiting import PROCESS_TEST_SECONDS, wait_until

pytestmark = pytest.mark.timeout(PROCESS_TEST_SECONDS)  # every command is a process of its own


def test_an_enrolled_certificate_is_served_until_revoked_by_its_recorded_fingerprint(served: tuple[Path, str]) -> None:
    """A bank enrols by request for its USCC identity (GB 32100-2015, checked by the authority), inquires with the
    certificate issued, and is refused once the authority revokes that certificate by its recorded fingerprint;
    the bank's other certificate stays served (the revocation names one certificate, not the identity)."""
    pki, address = served
    enrolled = pki / "enrolled-bank"
    run("pki", "request", "--identity", f"sgw://institution/{BANK}", "--out", str(enrolled))
    assert stat.S_IMODE((enrolled / "tls.key").stat().st_mode) == 0o600
    assert stat.S_IMODE(enrolled.stat().st_mode) == 0o700
    # The authority refuses a role it does not grant, and writes nothing.
    officer = run(
        "pki", "issue", "--authority", str(pki), "--csr", str(enrolled / "tls.csr"),
        "--out", str(enrolled / "tls.crt"), "--grant-role", "compliance_officer", check=False,
    )  # fmt: skip
    assert officer.returncode != 0
    assert "csr.roles" in officer.stderr
    assert not (enrolled / "tls.crt").exists()
    assert not (pki / "ca" / "issued.jsonl").exists()
    issued = run(
        "pki", "issue", "--authority", str(pki), "--csr", str(enrolled / "tls.csr"), "--out", str(enrolled / "tls.crt")
    )  # fmt: skip
    certificate = (enrolled / "tls.crt").read_bytes()
    assert identity_uris(certificate) == [f"sgw://institution/{BANK}"]
    [entry] = [json.loads(line) for line in (pki / "ca" / "issued.jsonl").read_text().splitlines()]
    assert entry["fingerprint"] == certificate_fingerprint(certificate)
    assert entry["serial"] == certificate_serial(certificate)
    assert entry["identity"] == f"sgw://institution/{BANK}"
    assert entry["fingerprint"] in issued.stdout
    shutil.copy(pki / "ca" / "ca.crt", enrolled / "ca.crt")  # the federation's CA, published by the authority

    consent = consent_file(pki)

    def inquire(identity: Path, check: bool = True) -> str:
        answer = run(
            "inquire", "--node", address, "--identity", str(identity), "--subject", COMPANY,
            "--purpose", "loan_underwriting", "--consent-file", str(consent),
            "--node-key", f"110000={pki / 'nodes/110000/signing.pub'}", check=check,
        )  # fmt: skip
        return answer.stdout + answer.stderr

    assert "signed receipt verified" in inquire(enrolled)
    run("pki", "revoke", "--fingerprint", entry["fingerprint"], "--reason", "key compromise", "--federation", str(pki))
    revocations = (pki / "revocations.signed").read_text()
    assert entry["serial"] in revocations  # named for people too, from the register
    run("pki", "install-revocations", str(pki / "revocations.signed"), "--config", str(pki / "nodes/110000/node.yaml"))
    wait_until(lambda: "revoked" in inquire(enrolled, check=False))
    assert "UNAUTHENTICATED" in inquire(enrolled, check=False)
    assert "signed receipt verified" in inquire(pki / "clients" / "bank")
