"""The log's storage on both databases: integration in batches, proofs from stored nodes, checkpoints."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from share_gateway.crypto.keys import KeyRing, SigningKey
from share_gateway.crypto.note import open_note, parse_note, sign_note
from share_gateway.domain.errors import InvalidState
from share_gateway.domain.events import Event, EventKind, Outcome
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.gateway.sequencer import Sequencer, SequencerSettings
from share_gateway.ledger.checkpoint import open_checkpoint
from share_gateway.ledger.hashing import leaf_hash
from share_gateway.ledger.verify import verify_consistency, verify_inclusion
from share_gateway.ledger.witness import SizeMismatch, Witnessed
from share_gateway.store.database import migrate, open_database
from share_gateway.store.log import LogStore
from share_gateway.store.log_reading import LogQuery
from share_gateway.store.repositories import Store

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
KEY = SigningKey.generate("share-gateway/node/110000")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, LogStore]]:
    url = f"sqlite:///{tmp_path / 'log.db'}" if request.param == "sqlite" else request.getfixturevalue("fresh_postgres")
    database = open_database(url)
    migrate(database)
    yield Store(database), LogStore(database)
    database.dispose()


def event(i: int, actor: str = "sgw://institution/91110000MA0000001L", subject: str = "91110105MA01ABCD00") -> Event:
    return Event(
        str(uuid.uuid4()),
        EventKind.INQUIRY,
        NOW + timedelta(seconds=i),
        "110000",
        actor,
        Outcome.ALLOWED if i % 3 else Outcome.DENIED,
        subject=Subject(SubjectKind.LEGAL_ENTITY, subject),
        purpose="loan_underwriting",
    )


def advance(store: Store, origin: str, old_size: int, new: Witnessed, note: bytes, now: datetime) -> None:
    store.write(lambda tx: store.witness.advance(tx, origin, old_size, new, note, now))


async def run(function, *args):  # type: ignore[no-untyped-def]
    return function(*args)


def test_integration_assigns_dense_leaves_in_append_order(stores: tuple[Store, LogStore]) -> None:
    store, log = stores
    events = [event(i) for i in range(37)]
    store.append(events[:20])
    first = log.integrate(limit=8)
    assert (first.size, first.added) == (8, 8)
    store.append(events[20:])
    assert log.pending() == 29
    while log.integrate(limit=8).added:
        pass
    assert log.size() == 37
    assert log.pending() == 0
    for i, expected in enumerate(events):
        logged = log.at(i)
        assert logged is not None
        assert logged.body == expected.canonical_bytes()
    entry = log.entry(events[5].event_id)
    assert entry is not None
    assert entry.leaf_index == 5


def test_proofs_from_stored_nodes_verify(stores: tuple[Store, LogStore]) -> None:
    store, log = stores
    events = [event(i) for i in range(53)]
    store.append(events)
    head = log.integrate()
    assert log.root(53) == head.root
    for index in (0, 1, 17, 52):
        proof = log.inclusion_proof(index, 53)
        verify_inclusion(index, 53, leaf_hash(events[index].canonical_bytes()), proof, head.root)
    for old in (1, 8, 31):
        verify_consistency(old, 53, log.root(old), head.root, log.consistency_proof(old, 53))


def test_search_filters_by_every_field(stores: tuple[Store, LogStore]) -> None:
    store, log = stores
    store.append([event(i, actor=f"sgw://institution/a{i % 2}", subject=f"s{i % 3}") for i in range(30)])
    log.integrate()
    found = log.search(LogQuery(actor="sgw://institution/a1", subject_id="s2"))
    assert [e.leaf_index for e in found] == [i for i in range(30) if i % 2 == 1 and i % 3 == 2]
    assert len(log.search(LogQuery(outcome="denied"))) == 10
    assert [e.leaf_index for e in log.search(LogQuery(since=NOW + timedelta(seconds=25)))] == [25, 26, 27, 28, 29]
    assert [e.leaf_index for e in log.search(LogQuery(below_size=3))] == [0, 1, 2]
    assert log.search(LogQuery(subject_kind="individual")) == []
    page = log.search(LogQuery(), limit=7)
    assert [e.leaf_index for e in log.search(LogQuery(), after_leaf=page[-1].leaf_index, limit=3)] == [7, 8, 9]


def test_checkpoints_of_one_size_never_disagree(stores: tuple[Store, LogStore]) -> None:
    store, log = stores
    store.append([event(i) for i in range(5)])
    head = log.integrate()
    log.add_checkpoint(head.size, head.root, b"note", NOW)
    log.add_checkpoint(head.size, head.root, b"note again", NOW)  # the same head twice is harmless
    with pytest.raises(InvalidState):
        log.add_checkpoint(head.size, leaf_hash(b"another root"), b"forged", NOW)
    assert [c.size for c in log.checkpoints()] == [5]


def test_cosignatures_join_the_published_checkpoint_once_each(stores: tuple[Store, LogStore]) -> None:
    _, log = stores
    log.add_checkpoint(3, leaf_hash(b"root"), sign_note("share-gateway/node/110000\n3\nroot\n", KEY).encode(), NOW)
    witnesses = [SigningKey.generate(f"share-gateway/node/{region}") for region in ("310000", "440000")]
    text = parse_note(log.checkpoint(3).note).text  # type: ignore[union-attr]
    for witness in [*witnesses, witnesses[0]]:
        log.add_cosignature(3, sign_note(text, witness).signatures[0])
    note = log.checkpoint(3).note  # type: ignore[union-attr]
    _, signers = open_note(note, KeyRing([KEY.verifying_key, *(w.verifying_key for w in witnesses)]))
    assert [k.name for k in signers] == [KEY.name, *(w.name for w in witnesses)]
    with pytest.raises(LookupError):
        log.add_cosignature(4, sign_note(text, witnesses[0]).signatures[0])


def test_the_witnessed_state_moves_only_from_the_size_it_holds(stores: tuple[Store, LogStore]) -> None:
    store, _ = stores
    assert store.witness.witnessed("310000") is None
    advance(store, "310000", 0, Witnessed(5, leaf_hash(b"5")), b"note 5", NOW)
    with pytest.raises(SizeMismatch) as raised:
        advance(store, "310000", 0, Witnessed(6, leaf_hash(b"6")), b"note 6", NOW)
    assert raised.value.known_size == 5
    advance(store, "310000", 5, Witnessed(9, leaf_hash(b"9")), b"note 9", NOW)
    with pytest.raises(SizeMismatch) as raised:
        advance(store, "310000", 5, Witnessed(12, leaf_hash(b"12")), b"note 12", NOW)
    assert raised.value.known_size == 9
    assert store.witness.witnessed("310000") == Witnessed(9, leaf_hash(b"9"))
    assert store.witness.note("310000") == b"note 9"
    assert store.witness.witnessed("440000") is None


async def test_the_sequencer_publishes_signed_consistent_checkpoints(stores: tuple[Store, LogStore]) -> None:
    store, log = stores
    sequencer = Sequencer(log, KEY, run, lambda: NOW, SequencerSettings(checkpoint_interval=3600, checkpoint_leaves=10))
    store.append([event(i) for i in range(4)])
    first = await sequencer.step()
    assert first is not None, "the first checkpoint is due at once"
    store.append([event(i) for i in range(4, 9)])
    assert await sequencer.step() is None, "neither an hour nor ten leaves have passed"
    store.append([event(i) for i in range(9, 20)])
    second = await sequencer.step()
    assert second is not None
    assert second.size == 20
    ring = KeyRing([KEY.verifying_key])
    stored = log.checkpoints()
    assert [c.size for c in stored] == [4, 20]
    checkpoints = [open_checkpoint(c.note, ring, KEY.name) for c in stored]
    verify_consistency(4, 20, checkpoints[0].root, checkpoints[1].root, log.consistency_proof(4, 20))
    assert await sequencer.step(force=True) is None, "no new leaves, no new checkpoint"


async def test_a_bounded_stop_integrates_what_its_time_allows_and_leaves_the_rest_for_the_next(
    stores: tuple[Store, LogStore],
) -> None:
    """A sequencer stopped with a backlog publishes what it integrated within its bound (one batch with none
    left) instead of holding the stop until the whole backlog is in; the next sequencer integrates the rest."""
    store, log = stores
    settings = SequencerSettings(checkpoint_interval=3600, batch=5)
    store.append([event(i) for i in range(23)])
    await Sequencer(log, KEY, run, lambda: NOW, settings).stop(within=0)
    assert [c.size for c in log.checkpoints()] == [5]
    await Sequencer(log, KEY, run, lambda: NOW, settings).stop()
    # The next one publishes as checkpoints come due on its way (its first at once), and the whole log at its stop.
    sizes = [c.size for c in log.checkpoints()]
    assert sizes[0] == 5, sizes
    assert sizes[-1] == 23, sizes
    assert sizes == sorted(set(sizes)), sizes
