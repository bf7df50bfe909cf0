"""Catalog conformance sweep (issue 5, item 6), on real SQLite and PostgreSQL, and on a real node.

When a newer catalog version is installed every active record is checked
against it; the ones it no longer admits are quarantined (kept, never
disclosed), each with its reasons in the log, and the sweep's report is one
more event. The version counts as installed only once swept.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from share_gateway.api.convert import draft_from_wire
from share_gateway.catalog import open_catalog, sample_catalog_text, sign_catalog
from share_gateway.cli import main
from share_gateway.client import credentials, verify_record_disclosure
from share_gateway.config import NodeConfig
from share_gateway.crypto.disclosure import seal_record
from share_gateway.crypto.keys import KeyRing, SigningKey
from share_gateway.devkit import Layout
from share_gateway.domain.catalog import FieldType
from share_gateway.domain.errors import InvalidState
from share_gateway.domain.events import Event, EventKind, Outcome
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.domain.records import (
    Record,
    RecordDraft,
    RecordStatus,
    TypedValue,
    admit_record,
    change_status,
)
from share_gateway.gateway.conformance import ConformanceSweep
from share_gateway.gateway.registry import keep_submission
from share_gateway.gateway.runtime import NodeRuntime
from share_gateway.node import start_node
from share_gateway.store.database import migrate, open_database
from share_gateway.store.repositories import Store
from share_gateway.v1 import inquiry_pb2_grpc, registry_pb2, registry_pb2_grpc
from tests.conftest import seed_grants
from tests.consents import consenting_channel
from tests.support import (
    COMPANY,
    REGION,
    days_ago,
    inquiry,
    loan_default_request,
    penalty_request,
    utility_arrears_request,
)

AUTHORITY = SigningKey.generate("share-gateway-authority")
RING = KeyRing([AUTHORITY.verifying_key])
KEY = SigningKey.generate("share-gateway/node/110000")
NOW = datetime.now(UTC)
SUBJECT = Subject(SubjectKind.LEGAL_ENTITY, COMPANY)


def version_2(document: dict[str, Any]) -> None:
    """Version 2 drops credit commitments, drops the penalty amount, and records notices sent as a date."""
    document["version"] = 2
    types = document["record_types"]
    del types["credit_commitment"]
    penalty = types["administrative_penalty"]
    del penalty["fields"]["penalty_amount"]
    for fields in penalty["necessity"].values():
        if "penalty_amount" in fields:
            fields.remove("penalty_amount")
    types["utility_arrears"]["fields"]["notices_sent"]["type"] = "date"


def catalog_text(edit: Callable[[dict[str, Any]], None] | None = None) -> str:
    if edit is None:
        return sample_catalog_text()
    document = yaml.safe_load(sample_catalog_text())
    edit(document)
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)


V1 = open_catalog(sign_catalog(catalog_text(), AUTHORITY), RING)
V2 = open_catalog(sign_catalog(catalog_text(version_2), AUTHORITY), RING)


def commitment_draft() -> RecordDraft:
    """A credit commitment that was kept: a type version 2 no longer has."""
    return RecordDraft(
        record_type="credit_commitment",
        subject_kind="legal_entity",
        subject_identifier=COMPANY,
        fields={
            "commitment_type": TypedValue(FieldType.STRING, "tax compliance"),
            "matter": TypedValue(FieldType.STRING, "申请政府补贴"),
            "committed_on": TypedValue(FieldType.DATE, days_ago(30)),
            "accepting_authority": TypedValue(FieldType.STRING, "北京市发展和改革委员会"),
            "kept": TypedValue(FieldType.BOOLEAN, True),
        },
    )


def store_record(store: Store, record_id: str, draft: RecordDraft) -> Record:
    record = admit_record(V1.catalog, draft, record_id=record_id, origin_region=REGION, submitted_by="sgw://x", now=NOW)
    event = Event(f"submitted-{record_id}", EventKind.RECORD_SUBMITTED, NOW, REGION, "sgw://x", Outcome.ALLOWED)
    store.write(lambda tx: keep_submission(store, tx, record, seal_record(record, KEY), record_id, event))
    return record


def without_amount(request: registry_pb2.SubmitRecordRequest) -> registry_pb2.SubmitRecordRequest:
    del request.fields["penalty_amount"]
    return request


def seed(store: Store) -> None:
    """Six records about one company: three version 2 no longer admits, two it does, one withdrawn."""
    store_record(store, "commitment", commitment_draft())
    withdrawn = store_record(store, "commitment-withdrawn", commitment_draft())
    changed, withdrawal = change_status(withdrawn, RecordStatus.WITHDRAWN), logged("withdrawal")
    store.write_logged(lambda tx: store.records.change_status(tx, changed, "withdrawn", withdrawal.at), withdrawal)
    store_record(store, "loan", draft_from_wire(loan_default_request()))
    store_record(store, "penalty-amount", draft_from_wire(penalty_request()))
    store_record(store, "penalty-plain", draft_from_wire(without_amount(penalty_request())))
    store_record(store, "utility", draft_from_wire(utility_arrears_request()))


def logged(event_id: str) -> Event:
    return Event(event_id, EventKind.RECORD_WITHDRAWN, NOW, REGION, "sgw://x", Outcome.ALLOWED)


def statuses(store: Store) -> dict[str, tuple[RecordStatus, int]]:
    ids = ("commitment", "commitment-withdrawn", "loan", "penalty-amount", "penalty-plain", "utility")
    found = {i: store.records.get(REGION, i) for i in ids}
    return {i: (s.record.status, s.record.version) for i, s in found.items() if s is not None}


def events_of(store: Store, kind: EventKind) -> list[Event]:
    return [e for e in (Event.from_bytes(body) for _, body in store.events.read()) if e.kind is kind]


def sweeper(store: Store) -> ConformanceSweep:
    return ConformanceSweep(NodeRuntime(REGION, KEY, store))


QUARANTINED_BY_V2 = {
    "commitment": "record_type: 'credit_commitment' is not in catalog version 2",
    "penalty-amount": "fields.penalty_amount: is not a field of administrative_penalty",
    "utility": "fields.notices_sent: '3' is not an ISO 8601 date (YYYY-MM-DD)",
}


def test_catalog_conformance_records_a_newer_catalog_no_longer_admits_are_quarantined(store: Store) -> None:
    assert sweeper(store).install(V1) is None  # a node's first catalog: nothing to check against it
    seed(store)
    report = sweeper(store).install(V2)
    assert report is not None
    assert store.trust.catalog() == V2.document
    # Every active record checked; the withdrawn one is not active and is left alone.
    assert report.checked == 5
    assert {q.record_id: "; ".join(f"{v.field}: {v.description}" for v in q.reasons) for q in report.quarantined} == (
        QUARANTINED_BY_V2
    )
    assert statuses(store) == {
        "commitment": (RecordStatus.QUARANTINED, 2),
        "commitment-withdrawn": (RecordStatus.WITHDRAWN, 2),
        "loan": (RecordStatus.ACTIVE, 1),
        "penalty-amount": (RecordStatus.QUARANTINED, 2),
        "penalty-plain": (RecordStatus.ACTIVE, 1),
        "utility": (RecordStatus.QUARANTINED, 2),
    }
    # Kept, never disclosed.
    assert sorted(d.record_id for d in store.records.disclosable(SUBJECT)) == ["loan", "penalty-plain"]
    # One event per quarantined record, with its reasons; one report of the sweep.
    quarantined = events_of(store, EventKind.RECORD_QUARANTINED)
    assert {e.records[0].record_id: e.details["reasons"] for e in quarantined} == QUARANTINED_BY_V2
    assert len(quarantined) == 3
    assert all(e.subject == SUBJECT and e.details["catalog_version"] == "2" for e in quarantined)
    [swept] = events_of(store, EventKind.CATALOG_SWEPT)
    assert swept.details == {
        "catalog_version": "2",
        "catalog_digest": V2.digest,
        "checked": "5",
        "quarantined": "3",
        "record_ids": "commitment,penalty-amount,utility",
        "record_ids_truncated": "false",
        "trigger": "installed",
    }
    assert swept.actor == "sgw://node/110000"


def test_catalog_conformance_the_same_version_again_does_not_sweep_and_a_second_sweep_changes_nothing(
    store: Store,
) -> None:
    sweeper(store).install(V1)
    seed(store)
    sweeper(store).install(V2)
    after_first, events = statuses(store), store.count("events")
    assert sweeper(store).install(V2) is None  # the node restarts with the same catalog: no sweep, no event
    assert store.count("events") == events
    again = sweeper(store).sweep_installed(V2)  # an operator's sweep: checks, finds nothing more, logs its report
    assert (again.checked, again.quarantined) == (2, ())
    assert statuses(store) == after_first
    assert len(events_of(store, EventKind.RECORD_QUARANTINED)) == 3
    assert [e.details["quarantined"] for e in events_of(store, EventKind.CATALOG_SWEPT)] == ["3", "0"]
    # Rollback protection holds before any record is looked at.
    with pytest.raises(InvalidState, match="older"):
        sweeper(store).install(V1)
    assert statuses(store) == after_first


def test_catalog_conformance_an_interrupted_sweep_resumes_at_the_next_start(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    sweeper(store).install(V1)
    seed(store)
    monkeypatch.setattr("share_gateway.gateway.conformance.BATCH", 2)
    real = ConformanceSweep._quarantine
    calls = []

    def crash_on_second_batch(*args: Any) -> list[Record]:
        calls.append(args)
        if len(calls) == 2:
            raise RuntimeError("power cut")
        return real(*args)

    monkeypatch.setattr(ConformanceSweep, "_quarantine", crash_on_second_batch)
    with pytest.raises(RuntimeError, match="power cut"):
        sweeper(store).install(V2)
    # The first batch is quarantined and logged; version 2 is not installed, and no report was logged.
    assert store.trust.catalog_version() == 1
    assert statuses(store)["commitment"] == (RecordStatus.QUARANTINED, 2)
    assert statuses(store)["penalty-amount"] == (RecordStatus.ACTIVE, 1)
    assert events_of(store, EventKind.CATALOG_SWEPT) == []
    monkeypatch.setattr(ConformanceSweep, "_quarantine", real)
    report = sweeper(store).install(V2)
    assert report is not None
    assert report.quarantined_before == ("commitment",)
    assert [q.record_id for q in report.quarantined] == ["penalty-amount", "utility"]
    assert report.checked == 5
    assert store.trust.catalog_version() == 2
    assert sorted(e.records[0].record_id for e in events_of(store, EventKind.RECORD_QUARANTINED)) == sorted(
        QUARANTINED_BY_V2
    )
    [swept] = events_of(store, EventKind.CATALOG_SWEPT)
    assert (swept.details["quarantined"], swept.details["record_ids"]) == ("3", "commitment,penalty-amount,utility")


async def test_catalog_conformance_a_node_restarted_on_a_newer_catalog_logs_its_sweep_and_discloses_no_misfit(
    node_config: NodeConfig, federation: Layout, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def ask_and_submit(config: NodeConfig, submit: bool) -> set[str]:
        node = await start_node(config)
        try:
            if submit:
                seed_grants(node.gateway.store)
            files = {name: federation.client(name) for name in ("regulator", "bank")}
            channels = {
                name: consenting_channel(f"localhost:{node.port}", f, credentials(f.certificate, f.key, f.ca))
                for name, f in files.items()
            }
            if submit:
                registry = registry_pb2_grpc.RegistryServiceStub(channels["regulator"])
                for request in (penalty_request(), loan_default_request(), utility_arrears_request()):
                    await registry.SubmitRecord(request, timeout=5)
            answer = await inquiry_pb2_grpc.InquiryServiceStub(channels["bank"]).Inquire(
                inquiry("loan_underwriting", consent="AUTH-2026-0001"), timeout=5
            )
            for channel in channels.values():
                await channel.close()
            keys = KeyRing([federation.node_verifying_key(REGION)])
            return {verify_record_disclosure(r, keys).statement.record_type for r in answer.records}
        finally:
            await node.stop(grace=0)

    assert await ask_and_submit(node_config, submit=True) == {
        "administrative_penalty",
        "loan_default",
        "utility_arrears",
    }
    newer = tmp_path / "catalog-v2.signed"
    newer.write_bytes(sign_catalog(catalog_text(version_2), federation.authority()))
    # The manifest pins version 1; this single node serves its region without one.
    moved = dataclasses.replace(node_config, catalog=newer, manifest=None)
    with caplog.at_level(logging.WARNING, logger="share_gateway.node"):
        assert await ask_and_submit(moved, submit=False) == {"loan_default"}
    [logged_report] = [r.getMessage() for r in caplog.records if "conformance sweep" in r.getMessage()]
    assert "catalog version 2" in logged_report
    assert "3 records checked, 2 quarantined" in logged_report


def test_catalog_conformance_the_sweep_command_checks_the_installed_catalog_and_prints_the_report(
    federation: Layout, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    original = federation.node_config(REGION)
    raw = yaml.safe_load(original.read_text(encoding="utf-8"))
    config = tmp_path / "node.yaml"
    raw.update(database=f"sqlite:///{tmp_path / 'node.db'}", manifest=None)
    for key in ("signing_key", "authority_key", "catalog"):
        raw[key] = str(original.parent / raw[key])
    raw["tls"] = {name: str(original.parent / path) for name, path in raw["tls"].items()}
    config.write_text(yaml.safe_dump(raw), encoding="utf-8")
    store = Store(open_database(f"sqlite:///{tmp_path / 'node.db'}"))
    migrate(store.database)
    signer = federation.authority()
    trusted = KeyRing([signer.verifying_key])
    first = open_catalog(sign_catalog(catalog_text(), signer), trusted)
    store.write(lambda tx: store.trust.install_catalog(tx, first, NOW))
    seed(store)
    # Version 2 installed without a sweep (as by a node older than the sweep): the command catches up.
    second = open_catalog(sign_catalog(catalog_text(version_2), signer), trusted)
    store.write(lambda tx: store.trust.install_catalog(tx, second, NOW))
    store.database.dispose()
    main(["catalog", "sweep", "--config", str(config)])
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].endswith("5 records checked, 3 quarantined")
    assert sorted(printed[1:]) == sorted(f"  {i}: {reason}" for i, reason in QUARANTINED_BY_V2.items())
    main(["catalog", "sweep", "--config", str(config)])
    assert capsys.readouterr().out.splitlines()[0].endswith("2 records checked, 0 quarantined")
