"""``share-gateway outbox list|redeliver`` on a node's database: dead letters shown, sent again, and logged."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from share_gateway.cli import main
from share_gateway.devkit import Layout
from share_gateway.domain.deliveries import DeliveryState
from share_gateway.domain.events import Event, EventKind
from share_gateway.store.database import migrate, open_database
from share_gateway.store.deliveries import DeliveryKind
from share_gateway.store.repositories import Store
from share_gateway.store.unit_of_work import UnitOfWork
from tests.support import REGION

# Queued far ahead of any clock: only the commands under test change them.
LATER = datetime(2099, 1, 1, tzinfo=UTC)


@pytest.fixture
def config(federation: Layout, tmp_path: Path) -> Path:
    """The node's configuration on a database of this test's own (beside the shared one, so paths resolve)."""
    raw = yaml.safe_load(federation.node_config(REGION).read_text())
    raw["database"] = f"sqlite:///{tmp_path / 'node.db'}"
    path = federation.node_dir(REGION) / f"outbox-{uuid.uuid4()}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.fixture
def store(config: Path, tmp_path: Path) -> Store:
    database = open_database(f"sqlite:///{tmp_path / 'node.db'}")
    migrate(database)
    return Store(database)


def dead_letters(store: Store, *record_ids: str, peer: str = "440000") -> list[int]:
    def queue(tx: UnitOfWork) -> None:
        for record_id in record_ids:
            store.outbox.queue(tx, DeliveryKind.RECORD, record_id, [peer], LATER)

    store.write(queue)
    seqs = [d.seq for d in store.outbox.undelivered(peer) if d.record_id in record_ids]

    def bury(tx: UnitOfWork) -> None:
        for seq in seqs:
            store.outbox.dead_lettered(tx, seq, LATER, "NOT_SHARED: refused")

    store.write(bury)
    return seqs


def redeliveries(store: Store) -> list[Event]:
    events = (Event.from_bytes(body) for _, body in store.events.read())
    return [e for e in events if e.kind is EventKind.DELIVERY_REDELIVERED]


def test_dead_letters_are_listed_and_redelivered_with_who_and_why(
    store: Store, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    [first, second] = dead_letters(store, "r-1", "r-2")
    store.write(lambda tx: store.outbox.queue(tx, DeliveryKind.REVOCATION, "r-1", ["440000"], LATER))
    main(["outbox", "list", "--config", str(config), "--dead"])
    listed = capsys.readouterr().out
    assert "2 dead letter(s)" in listed
    assert "NOT_SHARED: refused" in listed
    main(["outbox", "list", "--config", str(config)])
    assert f"waits for {first}" in capsys.readouterr().out
    main(["outbox", "redeliver", "--config", str(config), str(first), "--reason", "peer fixed", "--operator", "alice"])
    assert f"delivery {first} of record r-1 to 440000 is due again" in capsys.readouterr().out
    states = {d.seq: d.state for d in store.outbox.undelivered("440000", limit=10)}
    assert (states[first], states[second]) == (DeliveryState.PENDING, DeliveryState.DEAD)
    [logged] = redeliveries(store)
    assert (logged.reason, logged.details["operator"], logged.details["seq"]) == ("peer fixed", "alice", str(first))
    assert logged.details["was"] == "NOT_SHARED: refused"


def test_every_dead_letter_to_one_peer_is_redelivered_at_once(
    store: Store, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seqs = dead_letters(store, "r-1", "r-2")
    [elsewhere] = dead_letters(store, "r-3", peer="310000")
    main(["outbox", "redeliver", "--config", str(config), "--peer", "440000", "--reason", "our certificate rotated"])
    assert capsys.readouterr().out.count("is due again") == 2
    assert [d.seq for d in store.outbox.undelivered(dead_only=True)] == [elsewhere]
    assert sorted(int(e.details["seq"]) for e in redeliveries(store)) == seqs


def test_only_a_dead_letter_is_redelivered_and_nothing_is_half_done(
    store: Store, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    [dead] = dead_letters(store, "r-1")
    store.write(lambda tx: store.outbox.queue(tx, DeliveryKind.RECORD, "r-2", ["440000"], LATER))
    [pending] = [d.seq for d in store.outbox.undelivered() if d.record_id == "r-2"]
    for args in ([str(dead), str(pending)], [str(dead + 100)], []):
        with pytest.raises(SystemExit) as exited:
            main(["outbox", "redeliver", "--config", str(config), *args, "--reason", "try", "--operator", "bob"])
        assert exited.value.code == 2
    assert "only a dead letter is redelivered" in capsys.readouterr().err
    assert [d.seq for d in store.outbox.undelivered(dead_only=True)] == [dead]
    assert redeliveries(store) == []
