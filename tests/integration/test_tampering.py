"""Tampering with a node's log, each kind caught by the audit (or by proof verification), naming where."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, text

from share_gateway.config import LogSettings
from share_gateway.crypto.keys import KeyRing, SigningKey
from share_gateway.domain.errors import InvalidInput
from share_gateway.domain.events import Event, EventKind, Outcome
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.gateway.audit import redact_log
from share_gateway.gateway.sequencer import InconsistentLog, Sequencer, SequencerSettings
from share_gateway.ledger.audit import AuditReport, KeptCheckpoint, audit_log
from share_gateway.ledger.checkpoint import Checkpoint, open_checkpoint
from share_gateway.ledger.hashing import leaf_hash
from share_gateway.ledger.verify import ProofError, verify_consistency, verify_inclusion
from share_gateway.store import schema
from share_gateway.store.database import Database, migrate, open_database
from share_gateway.store.events import _event_row
from share_gateway.store.log import LogStore
from share_gateway.store.repositories import Store

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
KEY = SigningKey.generate("share-gateway/node/110000")
KEYS = KeyRing([KEY.verifying_key])
SIZES = (5, 20, 41)


def event(i: int) -> Event:
    return Event(
        str(uuid.uuid4()),
        EventKind.INQUIRY,
        NOW + timedelta(seconds=i),
        "110000",
        "sgw://institution/91110000MA0000001L",
        Outcome.ALLOWED,
        subject=Subject(SubjectKind.LEGAL_ENTITY, "91110105MA01ABCD00"),
        purpose="loan_underwriting",
        details={"n": str(i)},
    )


async def inline(function, *args):  # type: ignore[no-untyped-def]
    return function(*args)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def log(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[Database, LogStore, list[bytes]]]:
    """A log of 41 events with checkpoints published at 5, 20 and 41 leaves; yields it and the notes."""
    url = f"sqlite:///{tmp_path / 'log.db'}" if request.param == "sqlite" else request.getfixturevalue("fresh_postgres")
    database = open_database(url)
    migrate(database)
    store, logs = Store(database), LogStore(database)
    sequencer = Sequencer(logs, KEY, inline, lambda: NOW, SequencerSettings(checkpoint_interval=3600))
    notes = []
    appended = 0
    for size in SIZES:
        store.append([event(i) for i in range(appended, size)])
        appended = size
        await sequencer.step(force=True)
        notes.append(logs.latest_checkpoint().note)  # type: ignore[union-attr]
    yield database, logs, notes
    database.dispose()


def audit(logs: LogStore, kept: Sequence[bytes | KeptCheckpoint] = ()) -> AuditReport:
    return audit_log(logs, KEYS, KEY.name, kept, chunk=16)


def replace_event(database: Database, leaf_index: int, body: bytes) -> None:
    execute(
        database,
        "UPDATE events SET body = :b WHERE seq = (SELECT event_seq FROM log_entries WHERE leaf_index = :i)",
        b=body,
        i=leaf_index,
    )


def insert_event(database: Database, added: Event, seq: int | None = None) -> None:
    """An event written straight into the table, as someone with database access could."""
    row = _event_row(added) | ({} if seq is None else {"seq": seq})
    with database.writer.begin() as connection:
        connection.execute(insert(schema.events).values(**row))


def execute(database: Database, sql: str, **params: object) -> None:
    with database.writer.begin() as connection:
        connection.execute(text(sql), params)


def first(report: AuditReport) -> str:
    assert report.first is not None, "the audit found nothing"
    return str(report.first)


async def test_an_untouched_log_verifies(log: tuple[Database, LogStore, list[bytes]]) -> None:
    _, logs, notes = log
    report = audit(logs, notes)
    assert report.ok, report.findings
    assert (report.size, report.checked) == (41, 41)
    assert sorted({c.size for c in report.checkpoints}) == list(SIZES)


async def test_one_edited_byte_is_caught_at_its_leaf(log: tuple[Database, LogStore, list[bytes]]) -> None:
    database, logs, _ = log
    body = logs.at(13).body  # type: ignore[union-attr]
    edited = body.replace(b'"n":"13"', b'"n":"14"')
    assert len(edited) == len(body)
    assert edited != body
    execute(
        database,
        "UPDATE events SET body = :b WHERE seq = (SELECT event_seq FROM log_entries WHERE leaf_index = 13)",
        b=edited,
    )
    assert first(audit(logs)) == "leaf 13: event bytes do not match the stored leaf hash (edited)"


async def test_a_deleted_event_is_caught(log: tuple[Database, LogStore, list[bytes]]) -> None:
    database, logs, _ = log
    execute(database, "DELETE FROM events WHERE seq = (SELECT event_seq FROM log_entries WHERE leaf_index = 7)")
    assert first(audit(logs)) == "leaf 7: the event was deleted"


async def test_a_deleted_entry_with_its_event_is_caught(log: tuple[Database, LogStore, list[bytes]]) -> None:
    database, logs, notes = log
    execute(database, "DELETE FROM events WHERE seq = (SELECT event_seq FROM log_entries WHERE leaf_index = 40)")
    execute(database, "DELETE FROM log_entries WHERE leaf_index = 40")
    report = audit(logs, notes)
    assert str(report.first) == "leaf 40: missing: the signed checkpoint of size 41 covers more than the 40 leaves left"
    assert report.verified == 40


async def test_an_event_inserted_in_the_middle_is_caught(log: tuple[Database, LogStore, list[bytes]]) -> None:
    database, logs, _ = log
    execute(database, "DELETE FROM events WHERE seq = (SELECT event_seq FROM log_entries WHERE leaf_index = 9)")
    with database.writer.begin() as connection:
        freed = connection.execute(text("SELECT event_seq FROM log_entries WHERE leaf_index = 9")).scalar()
        connection.execute(text("DELETE FROM log_entries WHERE leaf_index = 9"))
    insert_event(database, event(99), seq=freed)
    findings = [str(f) for f in audit(logs).findings]
    assert f"event seq {freed} sits among integrated events but has no leaf (inserted)" in findings
    assert findings[0].startswith("leaf 9: missing from the log")


async def test_two_reordered_events_are_caught(log: tuple[Database, LogStore, list[bytes]]) -> None:
    database, logs, _ = log
    a, b = logs.at(3).body, logs.at(4).body  # type: ignore[union-attr]
    execute(
        database,
        "UPDATE events SET body = :b WHERE seq = (SELECT event_seq FROM log_entries WHERE leaf_index = 3)",
        b=b,
    )
    execute(
        database,
        "UPDATE events SET body = :b WHERE seq = (SELECT event_seq FROM log_entries WHERE leaf_index = 4)",
        b=a,
    )
    findings = [str(f) for f in audit(logs).findings]
    assert findings[:2] == [
        "leaf 3: event bytes do not match the stored leaf hash (edited)",
        "leaf 4: event bytes do not match the stored leaf hash (edited)",
    ]


async def test_replaced_tree_nodes_are_caught(log: tuple[Database, LogStore, list[bytes]]) -> None:
    database, logs, notes = log
    execute(database, "UPDATE log_nodes SET hash = :h WHERE level = 2 AND idx = 3", h=leaf_hash(b"forged"))
    report = audit(logs, notes)
    assert [str(f) for f in report.findings] == [
        "leaves 12..15: stored tree node (2, 3) differs from the recomputed one"
    ]
    # A proof that uses the replaced node (leaf 9's sibling subtree) no longer verifies against the checkpoint.
    checkpoint = open_checkpoint(notes[-1], KEYS, KEY.name)
    with pytest.raises(ProofError):
        verify_inclusion(9, 41, logs.leaf_hash(9) or b"", logs.inclusion_proof(9, 41), checkpoint.root)


async def test_a_checkpoint_signed_by_another_key_is_caught(log: tuple[Database, LogStore, list[bytes]]) -> None:
    database, logs, _ = log
    impostor = SigningKey.generate(KEY.name)
    forged = Checkpoint(KEY.name, 20, logs.root(20)).sign(impostor)
    execute(database, "UPDATE log_checkpoints SET note = :n WHERE size = 20", n=forged)
    assert first(audit(logs)).startswith("the stored checkpoint of size 20 does not verify")


async def test_a_checkpoint_whose_root_is_not_the_tree_is_caught(log: tuple[Database, LogStore, list[bytes]]) -> None:
    database, logs, _ = log
    lying = Checkpoint(KEY.name, 20, leaf_hash(b"another tree")).sign(KEY)
    execute(database, "UPDATE log_checkpoints SET note = :n WHERE size = 20", n=lying)
    assert first(audit(logs)) == "leaf 19: the stored checkpoint of size 20 does not match the log"


async def test_rewritten_and_resigned_history_is_caught(log: tuple[Database, LogStore, list[bytes]]) -> None:
    """The node rewrites leaf 2, rebuilds its tree and re-signs; an officer's kept checkpoint exposes it."""
    database, logs, kept = log
    body = logs.at(2).body.replace(b'"n":"2"', b'"n":"X"')  # type: ignore[union-attr]
    execute(
        database,
        "UPDATE events SET body = :b WHERE seq = (SELECT event_seq FROM log_entries WHERE leaf_index = 2)",
        b=body,
    )
    execute(database, "DELETE FROM log_nodes")
    execute(database, "DELETE FROM log_entries")
    execute(database, "DELETE FROM log_checkpoints")
    # The rewriting node rebuilds its index with its log.
    execute(database, "DELETE FROM index_entries")
    execute(database, "DELETE FROM index_checkpoints")
    rebuilt = Sequencer(logs, KEY, inline, lambda: NOW, SequencerSettings(checkpoint_interval=3600))
    resigned = await rebuilt.step(force=True)
    assert resigned is not None
    assert resigned.size == 41
    # The re-signed log is self-consistent ...
    assert audit(logs).ok
    # ... but not with the checkpoints the officer kept from an earlier audit.
    report = audit(logs, kept)
    assert first(report) == (
        "leaves 0..4: the log no longer matches the kept checkpoint of size 5 (no. 1): its history among these "
        "leaves was rewritten"
    )
    findings = [str(f) for f in report.findings]
    assert (
        "leaves 0..40: the log no longer matches the kept checkpoint of size 41 (no. 3): its history among these "
        "leaves was rewritten and re-signed (the stored checkpoint of size 41 signs the rewritten history)"
    ) in findings
    disagree = next(f for f in report.findings if f.leaf_index < 0)
    assert disagree.location == "the checkpoints of size 41"
    assert disagree.problem.startswith(
        f"the stored checkpoint of size 41 (root {resigned.root.hex()[:16]}…) and the kept"
    )
    assert report.verified == 0
    old = open_checkpoint(kept[0], KEYS, KEY.name)
    with pytest.raises(ProofError):
        verify_consistency(old.size, resigned.size, old.root, resigned.root, logs.consistency_proof(5, 41))


async def test_a_rewrite_is_placed_between_the_kept_checkpoints_it_falls_between(
    log: tuple[Database, LogStore, list[bytes]],
) -> None:
    """Leaf 12 rewritten and everything re-signed: the kept checkpoint of size 5 still matches, that of 20 does not,
    so the finding names leaves 5..19 and the two kept files."""
    database, logs, notes = log
    kept = [KeptCheckpoint(f"kept-{size}.note", note) for size, note in zip(SIZES, notes, strict=True)]
    body = logs.at(12).body.replace(b'"n":"12"', b'"n":"X"')  # type: ignore[union-attr]
    replace_event(database, 12, body)
    execute(database, "DELETE FROM log_nodes")
    execute(database, "DELETE FROM log_entries")
    execute(database, "DELETE FROM log_checkpoints")
    # The rewriting node rebuilds its index with its log.
    execute(database, "DELETE FROM index_entries")
    execute(database, "DELETE FROM index_checkpoints")
    rebuilt = Sequencer(logs, KEY, inline, lambda: NOW, SequencerSettings(checkpoint_interval=3600))
    assert await rebuilt.step(force=True) is not None
    report = audit(logs, kept)
    assert first(report) == (
        "leaves 5..19: the log no longer matches the kept checkpoint of size 20 (kept-20.note), though it still "
        "matches the kept one of size 5: its history among these leaves was rewritten"
    )
    assert report.first is not None
    assert (report.first.location, report.verified) == ("leaves 5..19", 5)


async def test_the_sequencer_refuses_to_sign_a_tree_that_does_not_extend_its_last_checkpoint(
    log: tuple[Database, LogStore, list[bytes]],
) -> None:
    database, logs, _ = log
    # Leaves 32-39 form the subtree the next root is built on.
    execute(database, "UPDATE log_nodes SET hash = :h WHERE level = 3 AND idx = 4", h=leaf_hash(b"forged"))
    insert_event(database, event(100))
    sequencer = Sequencer(logs, KEY, inline, lambda: NOW, SequencerSettings(checkpoint_interval=0))
    with pytest.raises(InconsistentLog):
        await sequencer.step(force=True)
    assert sequencer.alarm is not None
    assert [c.size for c in logs.checkpoints()] == list(SIZES), "nothing was signed"


async def test_redaction_keeps_leaf_hashes_and_the_log_still_verifies(
    log: tuple[Database, LogStore, list[bytes]],
) -> None:
    """Retention: personal payload goes, the leaf hash stays; redaction is itself an event; editing a stub is caught."""
    database, logs, notes = log
    store = Store(database)

    def note(count: int, first_leaf: int, last_leaf: int) -> Event:
        return Event(
            str(uuid.uuid4()),
            EventKind.LOG_REDACTED,
            NOW + timedelta(days=1),
            "110000",
            "sgw://node/110000",
            Outcome.ALLOWED,
            details={"count": str(count), "leaves": f"{first_leaf}..{last_leaf}"},
        )

    window = LogSettings(redact_after_days=1, history_days=1)
    # Younger than the larger of the retention and the history window: refused, nothing changed.
    with pytest.raises(InvalidInput, match="subject-history window"):
        redact_log(store, NOW + timedelta(seconds=10), NOW + timedelta(days=2), note, replace(window, history_days=3))
    assert not logs.at(3).redacted  # type: ignore[union-attr]
    assert redact_log(store, NOW + timedelta(seconds=10), NOW + timedelta(days=1, seconds=10), note, window) == 10
    assert redact_log(store, NOW + timedelta(seconds=10), NOW + timedelta(days=1, seconds=10), note, window) == 0
    stub = logs.at(3)
    assert stub is not None
    assert stub.redacted
    assert b"91110105MA01ABCD00" not in stub.body, "the subject is gone"
    sequencer = Sequencer(logs, KEY, inline, lambda: NOW, SequencerSettings(checkpoint_interval=0))
    await sequencer.step(force=True)
    report = audit(logs, notes)
    assert report.ok, report.findings
    assert report.redacted == 10
    redaction = Event.from_bytes(logs.at(41).body)  # type: ignore[union-attr]
    assert redaction.kind is EventKind.LOG_REDACTED
    assert redaction.details["count"] == "10"
    # A redacted leaf still has an inclusion proof, from its stored hash.
    checkpoint = open_checkpoint(logs.latest_checkpoint().note, KEYS, KEY.name)  # type: ignore[union-attr]
    proof = logs.inclusion_proof(3, checkpoint.size)
    verify_inclusion(3, checkpoint.size, logs.leaf_hash(3) or b"", proof, checkpoint.root)
    # The stub is not a licence to edit: a changed stored hash under it breaks the signed roots.
    execute(database, "UPDATE log_nodes SET hash = :h WHERE level = 0 AND idx = 3", h=leaf_hash(b"forged"))
    report = audit(logs, notes)
    assert first(report) == "leaves 2..3: stored tree node (1, 1) differs from the recomputed one"
    assert "leaf 4: the stored checkpoint of size 5 does not match the log" in [str(f) for f in report.findings]
