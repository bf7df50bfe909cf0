"""The verifiable index, held against the log: a wrong signed index root is found, and the migration indexes the
leaves a database already holds."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from share_gateway.config import LogSettings
from share_gateway.crypto.keys import KeyRing, SigningKey
from share_gateway.domain.events import Event, EventKind, Outcome
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.gateway.audit import redact_log
from share_gateway.gateway.sequencer import Sequencer, SequencerSettings
from share_gateway.ledger.audit import AuditReport, audit_log
from share_gateway.ledger.audit_index import audit_index
from share_gateway.ledger.index import IndexCheckpoint, key_hash, open_index_checkpoint, requester_key, subject_key
from share_gateway.ledger.index_tree import IndexTree
from share_gateway.store.database import Database, alembic_config, migrate, open_database
from share_gateway.store.log import LogStore
from share_gateway.store.repositories import Store
from tests.support import COMPANY, OTHER_COMPANY

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
KEY = SigningKey.generate("share-gateway/node/110000")
KEYS = KeyRing([KEY.verifying_key])
BANK = "sgw://institution/91110000MA0000001L"


def event(i: int, at: datetime = NOW) -> Event:
    subject = Subject(SubjectKind.LEGAL_ENTITY, (COMPANY, OTHER_COMPANY)[i % 2])
    return Event(
        str(uuid.uuid4()),
        EventKind.INQUIRY,
        at + timedelta(seconds=i),
        "110000",
        BANK,
        Outcome.ALLOWED,
        subject,
        purpose="loan_underwriting",
    )


async def inline(function, *args):  # type: ignore[no-untyped-def]
    return function(*args)


def sequencer(logs: LogStore) -> Sequencer:
    return Sequencer(logs, KEY, inline, lambda: NOW, SequencerSettings(checkpoint_interval=3600))


def execute(database: Database, statement: str, **values: object) -> None:
    with database.writer.begin() as connection:
        connection.execute(text(statement), values)


def audit(logs: LogStore) -> AuditReport:
    report = audit_log(logs, KEYS, KEY.name, chunk=16)
    audit_index(logs, logs.index, KEYS, KEY.name, report, chunk=16)
    return report


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def log(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[Database, Store]]:
    """A log of 30 events about two companies, with checkpoints at 10 and 30 leaves."""
    url = f"sqlite:///{tmp_path / 'log.db'}" if request.param == "sqlite" else request.getfixturevalue("fresh_postgres")
    database = open_database(url)
    migrate(database)
    store = Store(database)
    publishing = sequencer(store.log)
    for start, end in ((0, 10), (10, 30)):
        store.append([event(i) for i in range(start, end)])
        await publishing.step(force=True)
    yield database, store
    database.dispose()


async def test_an_honest_index_matches_the_log_under_every_index_checkpoint(log: tuple[Database, Store]) -> None:
    _, store = log
    report = audit(store.log)
    assert report.ok, report.findings
    assert report.index_checkpoints == 2
    size, note = store.log.index.latest_checkpoint_note()  # type: ignore[misc]
    signed = open_index_checkpoint(note, KEYS, KEY.name)
    assert (size, signed.log_root) == (30, store.log.latest_checkpoint().root)  # type: ignore[union-attr]
    assert signed.index_root == IndexTree(store.log.index.values_at(30)).root
    assert [e.leaf_index for e in store.log.index.entries(key_hash(subject_key("legal_entity", COMPANY)), 30)] == list(
        range(0, 30, 2)
    )


async def test_a_wrong_index_root_signed_by_the_node_is_found(log: tuple[Database, Store]) -> None:
    database, store = log
    log_root = store.log.checkpoint(10).root  # type: ignore[union-attr]
    forged = IndexCheckpoint(KEY.name, 10, log_root, key_hash("another index")).sign(KEY)
    execute(database, "UPDATE index_checkpoints SET note = :n WHERE size = 10", n=forged)
    report = audit(store.log)
    [finding] = report.findings
    assert finding.location == "the index checkpoint of size 10"
    assert "signs index root" in finding.problem
    assert "the signed root matches no index of these leaves" in finding.problem


async def test_a_node_that_lost_a_keys_last_entry_signs_a_wrong_root_and_the_audit_names_the_leaf_and_key(
    log: tuple[Database, Store],
) -> None:
    database, store = log
    execute(
        database,
        "DELETE FROM index_entries WHERE leaf_index = 28 AND key_hash = :k",
        k=key_hash(subject_key("legal_entity", COMPANY)),
    )
    store.append([event(i, NOW + timedelta(hours=1)) for i in range(30, 35)])
    await sequencer(store.log).step(force=True)  # a restarted sequencer builds its tree from the stored index
    report = audit(store.log)
    problems = [str(f) for f in report.ordered]
    assert (
        f"leaf 28: the stored index differs from the log: key subject:legal_entity:{COMPANY} is missing from the "
        "stored index"
    ) in problems
    wrong = next(f for f in report.findings if f.location == "the index checkpoint of size 35")
    assert f"first difference: leaf 28, key subject:legal_entity:{COMPANY}" in wrong.problem


async def test_the_migration_indexes_the_leaves_a_database_already_holds(log: tuple[Database, Store]) -> None:
    database, store = log
    redaction = Event(
        str(uuid.uuid4()),
        EventKind.LOG_REDACTED,
        NOW + timedelta(days=1),
        "110000",
        "sgw://node/110000",
        Outcome.ALLOWED,
    )
    window = LogSettings(redact_after_days=1, history_days=1)
    assert redact_log(
        store, NOW + timedelta(seconds=4), NOW + timedelta(days=1, seconds=4), lambda *_: redaction, window
    )
    await sequencer(store.log).step(force=True)
    requester = key_hash(requester_key(BANK))
    before = dict(store.log.index.values_at(31))
    config = alembic_config()
    with database.writer.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0020")
    migrate(database)
    after = dict(store.log.index.values_at(31))
    # Every leaf is indexed again; the redacted ones (0..3) keep their requester and time but no longer name their
    # subject, so the company's entries start at leaf 4.
    assert after[requester] == before[requester]
    company = key_hash(subject_key("legal_entity", COMPANY))
    assert [e.leaf_index for e in store.log.index.entries(company, 31)] == list(range(4, 30, 2))
    await sequencer(store.log).step(force=True)
    store.append([event(40, NOW + timedelta(hours=2))])
    await sequencer(store.log).step(force=True)
    report = audit(store.log)
    assert report.ok, report.findings
