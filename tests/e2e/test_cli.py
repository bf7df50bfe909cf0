"""The command line as its users run it: separate processes, real files, a node served by `share-gateway serve`."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import urllib.request
from contextlib import ExitStack, closing
from pathlib import Path

import grpc
import pytest
import yaml
from grpc_health.v1 import health_pb2, health_pb2_grpc

from share_gateway.cli.messages import say
from share_gateway.cli.messages_demo import DEMO_TEXTS
from share_gateway.domain.catalog_text import Language
from tests.e2e.conftest import BANK, checkpoint_size, checkpointed, consent_file, run
from tests.processes import Process, serve_node
from tests.support import COMPANY, days_ago
from tests.waiting import PROCESS_TEST_SECONDS, wait_until

pytestmark = pytest.mark.timeout(PROCESS_TEST_SECONDS)  # every command is a process of its own


def test_catalog_sign_and_verify_refuse_tampering(pki: Path) -> None:
    authority = pki / "authority"
    signed = pki / "catalog.signed"
    assert "verifies" in run("catalog", "verify", str(signed), "--authority", str(authority / "authority.pub")).stdout
    tampered = pki / "tampered.signed"
    tampered.write_bytes(signed.read_bytes().replace(b"consent_required: true", b"consent_required: false", 1))
    result = run("catalog", "verify", str(tampered), "--authority", str(authority / "authority.pub"), check=False)
    assert result.returncode != 0
    assert "refused" in result.stderr
    plain = pki / "plain.yaml"
    plain.write_bytes(signed.read_bytes().split(b"\n\n\xe2\x80\x94")[0])
    assert run("catalog", "verify", str(plain), "--authority", str(authority / "authority.pub"), check=False).returncode


def test_a_node_refuses_to_start_on_a_tampered_catalog(pki: Path) -> None:
    signed = pki / "catalog.signed"
    signed.write_bytes(signed.read_bytes().replace(b"version: 1", b"version: 9", 1))
    result = subprocess.run(
        [sys.executable, "-m", "share_gateway.cli", "serve", "--config", str(pki / "nodes/110000/node.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "signature" in result.stderr


def test_submit_and_inquire_through_a_served_node(served: tuple[Path, str]) -> None:
    pki, address = served
    submitted = run(
        "submit", "--node", address, "--identity", str(pki / "clients/agency"),
        "--type", "administrative_penalty", "--subject", f"legal_entity:{COMPANY}",
        "--field", "decision_number=京市监罚〔2026〕7号", "--field", "party_name=北京恒信科技有限公司",
        "--field", "violation_type=虚假宣传", "--field", "penalty=罚款", "--field", "penalty_amount=12000",
        "--field", "issuing_authority=北京市市场监督管理局", "--severity", "general",
        "--document", f"number=京市监罚〔2026〕7号,issuer=北京市市场监督管理局,kind=administrative_penalty_decision,"
        f"issued_on={days_ago(10)},effective_on={days_ago(10)}",
    )  # fmt: skip
    assert "12000.00" in submitted.stdout
    answer = run(
        "inquire", "--node", address, "--identity", str(pki / "clients/bank"),
        "--subject", COMPANY, "--purpose", "loan_underwriting", "--consent-file", str(consent_file(pki)),
        "--node-key", f"110000={pki / 'nodes/110000/signing.pub'}",
    )  # fmt: skip
    assert "signature and every value verified" in answer.stdout
    assert "signed receipt verified" in answer.stdout
    refused = run(
        "inquire", "--node", address, "--identity", str(pki / "clients/bank"),
        "--subject", COMPANY, "--purpose", "loan_underwriting", check=False,
    )  # fmt: skip
    assert refused.returncode == 1
    assert "CONSENT_REQUIRED" in refused.stderr
    bad = run(
        "submit", "--node", address, "--identity", str(pki / "clients/agency"),
        "--type", "administrative_penalty", "--subject", f"legal_entity:{COMPANY[:-1]}1", check=False,
    )  # fmt: skip
    assert bad.returncode == 1
    assert "subject.identifier" in bad.stderr
    assert "legal_document" in bad.stderr


def test_credit_repair_and_the_revocation_feed_through_a_served_node(served: tuple[Path, str]) -> None:
    pki, address = served
    court = ("--node", address, "--identity", str(pki / "clients/court"))  # courts provide the debtor list
    bank = ("--node", address, "--identity", str(pki / "clients/bank"))
    company = ("--node", address, "--identity", str(pki / "clients/company"))
    node_key = ("--node-key", f"110000={pki / 'nodes/110000/signing.pub'}")
    consent = ("--consent-file", str(consent_file(pki)))
    inquire = ("inquire", *bank, "--subject", COMPANY, "--purpose", "loan_underwriting", *consent)
    submitted = run(
        "submit", *court, "--type", "dishonest_judgment_debtor", "--subject", f"legal_entity:{COMPANY}",
        "--field", "debtor_name=北京恒信科技有限公司", "--field", "obligation=支付货款人民币120万元及利息",
        "--field", "performance=全部未履行", "--field", "conduct=有履行能力而拒不履行生效法律文书确定义务",
        "--field", "enforcement_basis_issuer=北京市朝阳区人民法院",
        "--field", "enforcement_basis_number=(2025)京0105民初1234号", "--field", "case_number=(2026)京0105执567号",
        "--field", f"filed_on={days_ago(90)}", "--field", "court=北京市朝阳区人民法院", "--severity", "standard",
        "--document", f"number=(2026)京0105执567号之一,issuer=北京市朝阳区人民法院,"
        f"kind=dishonest_judgment_debtor_decision,issued_on={days_ago(60)},effective_on={days_ago(60)}",
    )  # fmt: skip
    recorded = re.search(r"dishonest_judgment_debtor (\S+) about", submitted.stdout)
    assert recorded, submitted.stdout
    record_id = recorded.group(1)
    # The bank receives the record, so it is owed its revocation later; nothing is revoked yet.
    assert "1 record(s)" in run(*inquire, *node_key).stdout
    assert "0 revocation(s)" in run("revocations", *bank).stdout
    applied = run(
        "repair", "apply", *company, "--record-id", record_id,
        "--evidence", "(2026)京0105执567号 结案通知书：已全部履行", "--commitment", "本单位承诺依法履行义务",
    )  # fmt: skip
    submitted_application = re.search(r"repair application (\S+): submitted", applied.stdout)
    assert submitted_application, applied.stdout
    application_id = submitted_application.group(1)
    # Every view states both deadlines: the whole course's, and the decision's from the department's receipt.
    assert "(10 working days from the application)" in applied.stdout
    assert "3 working days after acceptance" in applied.stdout
    assert application_id in run("repair", "list", *court).stdout
    # No decision before the court accepts; the status and the reason say so.
    early = run("repair", "approve", application_id, *court, "--reason", "judgment performed", check=False)
    assert early.returncode == 1
    assert "FAILED_PRECONDITION" in early.stderr
    assert "ILLEGAL_TRANSITION" in early.stderr
    accepted = run("repair", "accept", application_id, *court).stdout
    assert f"repair application {application_id}: accepted" in accepted
    approved = run("repair", "approve", application_id, *court, "--reason", "judgment performed").stdout
    assert f"repair application {application_id}: approved" in approved
    assert "judgment performed" in approved
    assert ": approved" in run("repair", "show", application_id, *company).stdout
    assert "0 open repair application(s)" in run("repair", "list", *court).stdout
    # The record is no longer disclosed, and the bank's feed tells it to delete its copy, signed by the origin.
    assert "0 record(s)" in run(*inquire).stdout
    feed = run("revocations", *bank, *node_key).stdout
    assert "1 revocation(s) (origin signatures verified)" in feed
    assert record_id in feed
    assert "repaired" in feed
    position = re.search(r"--after (\d+)", feed)
    assert position, feed
    assert "0 revocation(s)" in run("revocations", *bank, "--after", position.group(1)).stdout
    # A caller that never received the record is told nothing.
    assert "0 revocation(s)" in run("revocations", *company).stdout


def test_the_untrustworthy_list_procedure_through_a_served_node(served: tuple[Path, str]) -> None:
    """Guo Ban Fa [2020] No. 49: propose, notify, hear the objection, list; each step's document shown."""
    pki, address = served
    agency = ("--node", address, "--identity", str(pki / "clients/agency"))
    company = ("--node", address, "--identity", str(pki / "clients/company"))
    submitted = run(
        "submit", *agency, "--type", "administrative_penalty", "--subject", f"legal_entity:{COMPANY}",
        "--field", "decision_number=京市监罚〔2026〕118号", "--field", "party_name=北京恒信科技有限公司",
        "--field", "violation_type=虚假宣传", "--field", "violation_facts=在官网发布未经证实的产品功效",
        "--field", "penalty=罚款", "--field", "penalty_amount=50000.00",
        "--field", "issuing_authority=北京市市场监督管理局", "--severity", "serious",
        "--field", "conduct_code=undermines_fair_competition",
        "--document", f"number=京市监罚〔2026〕118号,issuer=北京市市场监督管理局,"
        f"kind=administrative_penalty_decision,issued_on={days_ago(30)},effective_on={days_ago(30)}",
    )  # fmt: skip
    recorded = re.search(r"administrative_penalty (\S+) about", submitted.stdout)
    assert recorded, submitted.stdout
    proposed = run(
        "listing", "propose", *agency, "--record-id", recorded.group(1), "--document", "拟列入告知书 1",
        "--reason", "严重虚假宣传", "--removal-conditions", "整改完毕并申请信用修复",
        "--remedies", "五个工作日内可提出异议",
    ).stdout  # fmt: skip
    found = re.search(r"listing (\S+): proposed", proposed)
    assert found, proposed
    listing_id = found.group(1)
    assert "no_simplified_licensing" in proposed
    # Listing before notice and hearing is refused, with the rule's reason.
    early = run("listing", "confirm", listing_id, *agency, "--document", "决定书", "--reason", "列入", check=False)
    assert early.returncode == 1
    assert "ILLEGAL_TRANSITION" in early.stderr
    run("listing", "notify", listing_id, *agency, "--document", "告知书 118", "--reason", "告知理由和权利")
    assert listing_id in run("listing", "mine", *company).stdout
    objected = run("listing", "object", listing_id, *company, "--statement", "已整改").stdout
    assert f"listing {listing_id}: objected" in objected
    run("listing", "dismiss", listing_id, *agency, "--document", "复核决定 7", "--reason", "整改不足")
    listed = run("listing", "confirm", listing_id, *agency, "--document", "决定书 9", "--reason", "依法列入").stdout
    assert f"listing {listing_id}: listed" in listed
    for document in ("拟列入告知书 1", "告知书 118", "复核决定 7", "决定书 9"):
        assert document in listed
    assert "1 listing(s)" in run("listing", "list", *agency).stdout
    assert f"listing {listing_id}: listed" in run("listing", "show", listing_id, *company).stdout


def test_offline_grants_are_listed_revoked_and_logged(pki: Path) -> None:
    """Bootstrapping a node before it serves: `grant ... --config` still writes each act's event with the
    operator and the document, in its transaction (issue 13: nothing changes grants unlogged; unverified)."""
    config = str(pki / "nodes" / "110000" / "node.yaml")
    document = ("--document", "京信用办〔2026〕1号", "--operator", "ops-li")
    added = run(
        "grant", "add", "--config", config, "--institution", BANK, "--kind", "bank", "--inquire", "loan_underwriting",
        *document,
    )  # fmt: skip
    grant_id = re.search(r"grant (\d+):", added.stdout)
    assert grant_id
    run("grant", "change", "--config", config, grant_id.group(1), "--until", "2099-01-01", *document)
    run("grant", "revoke", "--config", config, grant_id.group(1), *document)
    listed = run("grant", "list", "--config", config).stdout
    assert BANK in listed
    assert "loan_underwriting" in listed
    assert "2099-01-01" in listed
    assert run("grant", "revoke", "--config", config, grant_id.group(1), *document, check=False).returncode == 2
    assert run("grant", "revoke", "--config", config, grant_id.group(1), check=False).returncode == 2, "no document"
    with closing(sqlite3.connect(pki / "nodes/110000/110000.db")) as connection:
        bodies = [json.loads(body) for (body,) in connection.execute("SELECT body FROM events ORDER BY seq")]
    kinds = ["institution_registered", "grant_added", "grant_changed", "grant_revoked"]
    assert [b["kind"] for b in bodies] == kinds
    assert {b["actor"] for b in bodies} == {"sgw://node/110000"}
    assert {(b["details"]["document"], b["details"]["operator"]) for b in bodies} == {("京信用办〔2026〕1号", "ops-li")}


def test_an_administrator_revokes_a_grant_and_an_officer_finds_it(served: tuple[Path, str]) -> None:
    """Issue 13 item 4: a grant revoked over AdminService refuses the bank's next inquiry, and the officer finds the
    revocation with who did it and on what document (State Council 2020 decision, principle 6: strict authority
    and procedure for inquiries; Credit Reporting Industry Regulation Art. 22: who, when, what and why)."""
    pki, address = served
    admin = ("--node", address, "--identity", str(pki / "clients/admin-110000"))
    bank = ("--node", address, "--identity", str(pki / "clients/bank"))
    inquire = ("inquire", *bank, "--subject", COMPANY, "--purpose", "loan_underwriting")
    run(*inquire, "--consent-file", str(consent_file(pki)))
    utility = ("--institution", "91310000MA00000025", "--document", "京信用办〔2026〕8号")
    added = run("grant", "add", *admin, *utility, "--kind", "utility", "--inquire", "utility_connection",
                "--until", "2099-01-01").stdout  # fmt: skip
    assert "institution 91310000MA00000025 registered as utility" in added
    utility_grant = re.search(r"grant (\d+): 91310000MA00000025 may inquire utility_connection", added)
    assert utility_grant, added
    changed = run("grant", "change", utility_grant.group(1), *admin, "--no-end", "--document", "京信用办〔2026〕8号")
    assert "now ends never" in changed.stdout
    listed = run("grant", "list", *admin, "--institution", BANK).stdout
    grant_id = re.search(r"│ (\d+) +│ " + BANK, listed)
    assert grant_id, listed
    refused = run("grant", "revoke", grant_id.group(1), *bank, "--document", "伪造", check=False)
    assert refused.returncode == 1
    assert "NOT_AN_ADMINISTRATOR" in refused.stderr
    run("grant", "revoke", grant_id.group(1), *admin, "--document", "京信用办〔2026〕9号")
    after = run(*inquire, "--consent-file", str(consent_file(pki, name="again.json")), check=False)
    assert after.returncode == 1
    assert "NO_GRANT" in after.stderr
    assert re.search(r"│ " + BANK + r" .*│ \d{4}-\d{2}-\d{2} \d{2}:\d{2} +│", run("grant", "list", *admin).stdout)
    wait_until(lambda: checkpointed(pki / "nodes/110000/110000.db"))
    officer = ("--node", address, "--identity", str(pki / "clients/officer"))
    found = run("audit", "search", *officer, "--kind", "grant_revoked", "--details").stdout
    assert "2 event(s)" in found, found
    assert re.search(rf"grant_revoked │ institution/{BANK} .*│ denied +│", found), "the bank's attempt, refused"
    assert re.search(r"grant_revoked │ person/110000198001010019 .*│ allowed +│", found), "the administrator's act"
    assert "document=京信用办〔2026〕9号" in found
    assert f"grant_id={grant_id.group(1)}" in found
    assert f"institution={BANK}" in found


def test_the_demo_runs_its_scenario(tmp_path: Path) -> None:
    result = run("demo", "--dir", str(tmp_path / "demo"), "--records", "12")
    out = result.stdout
    assert out.count("signature and every value verified") >= 5
    assert "CONSENT_REQUIRED" in out
    # Shanghai answers with its tax arrears and the debtor listing Guangdong published to it.
    assert re.search(r"│ 310000 │ ok +│ 2 ", out), "a federated answer names each region"
    assert re.search(r"│ 110000 │ yes +│", out), "the court's record reached Beijing"
    assert re.search(r"sgw://institution/\w+ +│ loan_underwriting │ allowed", out), "who looked at me"
    assert "verified with only the signed checkpoint and the node's public key" in out
    assert "c2sp.org/tlog-proof@v1" in out
    assert "— share-gateway/witness/310000 " in out, "Shanghai cosigned Beijing's checkpoint with its witness key"
    # The repair: approved at the origin, every region stopped disclosing, the bank's feed tells it.
    assert re.search(r"repair application \S+: approved", out)
    assert "stopped disclosing the debtor record" in out
    assert len(re.findall(r"│ \d{6} │ yes +│", out)) == 6, "every region received the record, then stopped"
    assert "1 revocation(s) (origin signatures verified)" in out
    assert "What each node logged" in out


def test_the_demo_speaks_chinese_when_asked(tmp_path: Path) -> None:
    """Issue 12 ("CLI and demo views in either language, --lang zh|en"): with the global --lang zh every heading,
    explanation and label of the demo is Chinese and no English one is left; the node's values stay as sent."""
    result = run("--lang", "zh", "demo", "--dir", str(tmp_path / "demo"), "--records", "12")
    out = result.stdout
    headings = [row for row in out.splitlines() if row.startswith("== ")]
    assert len(headings) >= 11
    assert all(re.search(r"[\u4e00-\u9fff]", heading) for heading in headings), headings
    for key in ("step_1", "step_1b", "step_2", "step_3", "step_4", "step_7", "step_8", "step_9"):
        assert say(key, Language.ZH) in out, key
    assert out.count(say("verified", Language.ZH)) >= 5
    for key in ("legal_bases", "stopped_disclosing", "holds_court_record", "log_events", "signed_checkpoint"):
        assert say(key, Language.ZH) in out, key
    english = [text for text, _ in DEMO_TEXTS.values() if " " in text and "{" not in text]
    english += [say(key, Language.EN) for key in ("verified", "legal_bases", "lists_in_force", "no_decision")]
    assert [text for text in english if text in out] == []
    assert "repair application" not in out
    assert "What each node logged" not in out


def test_a_compliance_officer_audits_the_log(served: tuple[Path, str], tmp_path: Path) -> None:
    pki, address = served
    officer = ("--node", address, "--identity", str(pki / "clients/officer"))
    node_key = ("--node-key", f"110000={pki / 'nodes/110000/signing.pub'}")
    for signer in ("bank", "company"):
        run("inquire", "--node", address, "--identity", str(pki / "clients/bank"), "--subject", COMPANY,
            "--purpose", "loan_underwriting", "--consent-file", str(consent_file(pki, signer)))  # fmt: skip
    wait_until(lambda: checkpointed(pki / "nodes/110000/110000.db"))  # the sequencer's checkpoint follows activity
    found = run("audit", "search", *officer, "--kind", "inquiry").stdout
    assert "2 event(s)" in found
    assert "loan_underwriting" in found
    proof = tmp_path / "entry.tlog-proof"
    proved = run("audit", "prove", *officer, *node_key, "--leaf", "0", "--out", str(proof)).stdout
    assert "verified" in proved
    assert proof.read_bytes().startswith(b"c2sp.org/tlog-proof@v1\nindex 0\n")
    bundle = tmp_path / "bundle.json"
    exported = run("audit", "export", *officer, "--kind", "inquiry", "--out", str(bundle)).stdout
    assert "2 event(s)" in exported
    assert "completeness not proven" in exported
    assert "verified offline" in run("audit", "verify-bundle", str(bundle), *node_key).stdout
    # For one subject alone the bundle proves it holds every event about the subject.
    assert (
        "proves it is complete" in run("audit", "export", *officer, "--subject", COMPANY, "--out", str(bundle)).stdout
    )
    checked = run("audit", "verify-bundle", str(bundle), *node_key).stdout
    assert f"about subject:legal_entity:{COMPANY} in the node's signed index" in checked
    refused = run("audit", "search", "--node", address, "--identity", str(pki / "clients/bank"), check=False)
    assert refused.returncode == 1
    assert "NOT_A_COMPLIANCE_OFFICER" in refused.stderr


def test_audit_verify_finds_an_edited_event_on_the_database(served: tuple[Path, str]) -> None:
    pki, address = served
    run("inquire", "--node", address, "--identity", str(pki / "clients/bank"), "--subject", COMPANY,
        "--purpose", "loan_underwriting", "--consent-file", str(consent_file(pki)))  # fmt: skip
    database = pki / "nodes/110000/110000.db"
    wait_until(lambda: checkpointed(database))
    config = str(pki / "nodes/110000/node.yaml")
    verified = run("audit", "verify", "--config", config)
    assert "verifies" in verified.stdout
    assert "warning: no peer witnesses the log of share-gateway/node/110000" in verified.stderr, "a node alone"
    assert "verifying" in verified.stderr, "a progress line"
    assert "its index matches the log under" in verified.stdout
    with sqlite3.connect(database) as connection:
        # The stored index loses the inquiry's subject: exports would no longer match the signed index.
        connection.execute(
            "DELETE FROM index_entries WHERE leaf_index = (SELECT leaf_index FROM log_entries WHERE kind = 'inquiry')"
        )
    unindexed = run("audit", "verify", "--config", config, check=False)
    assert unindexed.returncode == 1
    assert "the stored index differs from the log: key requester:" in unindexed.stdout + unindexed.stderr
    with sqlite3.connect(database) as connection:
        leaf, seq, body = connection.execute(
            "SELECT l.leaf_index, e.seq, e.body FROM events e JOIN log_entries l ON l.event_seq = e.seq"
            " WHERE l.kind = 'inquiry'"
        ).fetchone()
        connection.execute(
            "UPDATE events SET body = ? WHERE seq = ?", (body.replace(b'"requester"', b'"subject"'), seq)
        )
    failed = run("audit", "verify", "--config", config, check=False)
    assert failed.returncode == 1
    assert f"leaf {leaf}: event bytes do not match the stored leaf hash (edited)" in failed.stdout + failed.stderr


def test_the_sequencer_runs_as_its_own_process_with_health_and_metrics(pki: Path) -> None:
    config = pki / "nodes" / "110000" / "node.yaml"
    settings = yaml.safe_load(config.read_text())
    watched = {"health": {"listen": "127.0.0.1:0"}, "metrics": {"listen": "127.0.0.1:0"}}
    config.write_text(yaml.safe_dump({**settings, "log": {"sequencer": False}, **watched}))
    run(
        "grant",
        "add",
        "--config",
        str(config),
        "--institution",
        BANK,
        "--kind",
        "bank",
        "--inquire",
        "loan_underwriting",
        "--document",
        "京信用办〔2026〕1号",
    )
    database = pki / "nodes" / "110000" / "110000.db"
    with ExitStack() as running:  # each process is stopped, even if stopping another one fails
        server = serve_node(config)
        running.callback(server.stop)
        sequencer = Process(
            [sys.executable, "-m", "share_gateway.cli", "sequencer", "--config", str(config)], "running"
        )
        running.callback(sequencer.stop)
        match = re.search(r"mTLS port (\d+)", server.wait_ready())
        assert match, "".join(server.output)
        run("inquire", "--node", f"localhost:{match.group(1)}", "--identity", str(pki / "clients/bank"),
            "--subject", COMPANY, "--purpose", "loan_underwriting",
            "--consent-file", str(consent_file(pki)))  # fmt: skip
        # The registration, the grant (both logged offline) and the inquiry.
        wait_until(lambda: checkpoint_size(database) == 3)
        # Run as a node is: its own health and metrics, on the ports it says.
        said = re.search(r"running, health port (\d+), metrics port (\d+)", "".join(sequencer.output))
        assert said, "".join(sequencer.output)
        health_port, metrics_port = int(said.group(1)), int(said.group(2))
        for service in ("", "share_gateway.Readiness", "share_gateway.Sequencer", "share_gateway.Database"):
            assert health_status(health_port, service) == health_pb2.HealthCheckResponse.SERVING, service
        with pytest.raises(grpc.RpcError) as unknown:  # it serves no peers: no PeerService name to ask about
            health_status(health_port, "share_gateway.v1.PeerService")
        assert unknown.value.code() is grpc.StatusCode.NOT_FOUND
        wait_until(lambda: "share_gateway_log_size 3.0" in scrape(metrics_port))


def health_status(port: int, service: str) -> int:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service), timeout=30)
    return int(reply.status)


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as reply:
        return str(reply.read().decode())


def test_the_federation_manifest_is_signed_verified_and_shown(pki: Path) -> None:
    authority = str(pki / "authority" / "authority.pub")
    manifest = str(pki / "manifest.signed")
    assert (
        "manifest version 1 verifies; 1 nodes" in run("federation", "verify", manifest, "--authority", authority).stdout
    )
    run("federation", "sign", "--dir", str(pki), "--endpoint", "110000=gw.bj.example:7443")
    shown = run("federation", "show", manifest, "--authority", authority).stdout
    assert "manifest version 2" in shown
    assert "gw.bj.example:7443" in shown
    expired = run("federation", "sign", "--dir", str(pki), "--days", "0")
    assert "version 3" in expired.stdout
    refused = run("federation", "verify", manifest, "--authority", authority, check=False)
    assert refused.returncode == 2
    assert "expired" in refused.stderr


def test_a_subject_signs_lists_and_withdraws_its_consent_from_the_command_line(served: tuple[Path, str]) -> None:
    pki, address = served
    bank = ("--node", address, "--identity", str(pki / "clients/bank"))
    company = ("--node", address, "--identity", str(pki / "clients/company"))
    ask = ("inquire", *bank, "--subject", COMPANY, "--purpose", "loan_underwriting")
    text = run(*ask, "--consent", "AUTH-1", check=False)
    assert text.returncode == 1
    assert "CONSENT_FREE_TEXT" in text.stderr
    signed = consent_file(pki, "company")
    run(*ask, "--consent-file", str(signed))
    listed = run("consent", "list", *company).stdout
    assert "1 consent(s)" in listed
    assert f"sgw://institution/{BANK}" in listed
    found = re.search(r"[0-9a-f]{32}", listed)
    assert found is not None
    withdrawn = run("consent", "revoke", found.group(0), *company).stdout
    assert "withdrawn" in withdrawn
    refused = run(*ask, "--consent-file", str(signed), check=False)
    assert refused.returncode == 1
    assert "CONSENT_REVOKED" in refused.stderr


def test_the_courts_list_correction_and_performance_from_the_command_line(served: tuple[Path, str]) -> None:
    """Fa Shi [2017] No. 7 Arts. 10 and 12: the party applies for correction and the court dismisses it with
    reasons; then the court reports performance and the entry is deleted, its deletion day shown."""
    pki, address = served
    court = ("--node", address, "--identity", str(pki / "clients/court"))
    company = ("--node", address, "--identity", str(pki / "clients/company"))
    agency = ("--node", address, "--identity", str(pki / "clients/agency"))
    submitted = run(
        "submit", *court, "--type", "dishonest_judgment_debtor", "--subject", f"legal_entity:{COMPANY}",
        "--field", "debtor_name=北京恒信科技有限公司", "--field", "obligation=支付货款人民币120万元及利息",
        "--field", "performance=全部未履行", "--field", "conduct=有履行能力而拒不履行生效法律文书确定义务",
        "--field", "conduct_code=able_but_refuses",
        "--field", "enforcement_basis_issuer=北京市朝阳区人民法院",
        "--field", "enforcement_basis_number=(2025)京0105民初1234号", "--field", "case_number=(2026)京0105执567号",
        "--field", f"filed_on={days_ago(90)}", "--field", "court=北京市朝阳区人民法院", "--severity", "standard",
        "--document", f"number=(2026)京0105执567号之一,issuer=北京市朝阳区人民法院,"
        f"kind=dishonest_judgment_debtor_decision,issued_on={days_ago(60)},effective_on={days_ago(60)}",
    )  # fmt: skip
    recorded = re.search(r"dishonest_judgment_debtor (\S+) about", submitted.stdout)
    assert recorded, submitted.stdout
    record_id = recorded.group(1)
    applied = run("listing", "correct", *company, "--record-id", record_id, "--grounds", "履行情况记载有误").stdout
    found = re.search(r"correction (\S+): applied", applied)
    assert found, applied
    application_id = found.group(1)
    assert "unverified" in applied
    assert application_id in run("listing", "corrections", *court).stdout
    dismissed = run("listing", "dismiss-correction", application_id, *court, "--reason", "记载无误").stdout
    assert f"correction {application_id}: dismissed" in dismissed
    assert "记载无误" in run("listing", "my-corrections", *company).stdout
    # Not the court: refused, and the entry stands.
    refused = run("listing", "performed", record_id, *agency, "--on", days_ago(1), check=False)
    assert refused.returncode == 1
    assert "NOT_A_LIST_MAKER" in refused.stderr
    performed = run("listing", "performed", record_id, *court, "--on", days_ago(1)).stdout
    assert f"entry 110000/{record_id} deleted: performed {days_ago(1)}" in performed
