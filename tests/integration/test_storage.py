"""Storage on both databases: the migration builds exactly the declared schema, and the repositories behave."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
import threading
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from share_gateway.catalog import SignedCatalog, open_catalog, sample_catalog_text, sign_catalog
from share_gateway.config import NodeConfig
from share_gateway.crypto.disclosure import SealedRecord, seal_record
from share_gateway.crypto.keys import KeyRing, SigningKey
from share_gateway.devkit import Layout
from share_gateway.domain.catalog import Catalog
from share_gateway.domain.errors import InvalidState
from share_gateway.domain.events import Event, EventKind, Outcome
from share_gateway.domain.policy import Grant, GrantRole
from share_gateway.domain.records import Record, RecordStatus, admit_record, change_status
from share_gateway.gateway.grants import change_grant, enrol, operator_act, revoke_grant
from share_gateway.gateway.group_commit import Batch, GroupCommit
from share_gateway.gateway.registry import keep_submission
from share_gateway.node import start_node
from share_gateway.store.database import StoreBusy, alembic_config, migrate, open_database
from share_gateway.store.deliveries import Delivery, DeliveryKind
from share_gateway.store.records import StoredRecord
from share_gateway.store.repositories import Store
from share_gateway.store.schema import metadata
from share_gateway.store.unit_of_work import UnitOfWork
from share_gateway.synthetic import Population
from tests.conftest import seed_grants
from tests.support import REGION
from tests.waiting import wait_until

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
KEY = SigningKey.generate("share-gateway/node/110000")


def event(kind: EventKind = EventKind.INQUIRY, at: datetime = NOW) -> Event:
    return Event(str(uuid.uuid4()), kind, at, REGION, "sgw://institution/91110000MA0000001L", Outcome.ALLOWED)


def submit(
    store: Store, record: Record, sealed: SealedRecord, key: str, logged: Event, publish_to: Sequence[str] = ()
) -> StoredRecord:
    return store.write(lambda tx: keep_submission(store, tx, record, sealed, key, logged, publish_to))


def withdraw(store: Store, changed: Record, reason: str, logged: Event) -> None:
    store.write_logged(lambda tx: store.records.change_status(tx, changed, reason, logged.at), logged)


def test_the_migration_builds_exactly_the_declared_schema(store: Store) -> None:
    with store.database.writer.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []


def test_migrating_twice_changes_nothing(store: Store) -> None:
    migrate(store.database)
    with store.database.reader.connect() as connection:
        current = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert current == ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_records_round_trip_with_their_signed_statement(store: Store) -> None:
    population = Population(seed=7, today=NOW.date())
    parsed = Catalog.from_yaml(sample_catalog_text())
    company = population.company(REGION)
    draft = population.record_draft(company, "administrative_penalty")
    record = admit_record(
        parsed, draft, record_id="r-1", origin_region=REGION, submitted_by="sgw://institution/x", now=NOW
    )
    sealed = seal_record(record, KEY)
    stored = submit(store, record, sealed, "agency#1", event(EventKind.RECORD_SUBMITTED))
    again = store.records.get(REGION, "r-1")
    assert again == stored
    [disclosable] = store.records.disclosable(record.subject)
    assert disclosable.sealed == stored.sealed
    assert disclosable.record_id == record.record_id
    assert store.records.by_request_key("agency#1") == stored
    # The same request key returns the first record and writes nothing.
    assert submit(store, dataclasses.replace(record, record_id="r-2"), sealed, "agency#1", event()) == stored
    assert store.count("records") == 1
    assert store.count("events") == 1
    withdrawn = change_status(record, RecordStatus.WITHDRAWN)
    withdraw(store, withdrawn, "revoked", event(EventKind.RECORD_WITHDRAWN))
    assert store.records.get(REGION, "r-1").record.status is RecordStatus.WITHDRAWN  # type: ignore[union-attr]
    with pytest.raises(InvalidState):
        withdraw(store, withdrawn, "twice", event(EventKind.RECORD_WITHDRAWN))
    assert store.count("events") == 2


def test_the_outbox_is_written_with_the_record_and_delivered_once(store: Store) -> None:
    population = Population(seed=8, today=NOW.date())
    parsed = Catalog.from_yaml(sample_catalog_text())
    draft = population.record_draft(population.company(REGION), "dishonest_judgment_debtor")
    record = admit_record(parsed, draft, record_id="d-1", origin_region=REGION, submitted_by="sgw://x", now=NOW)
    sealed = seal_record(record, KEY)
    submit(store, record, sealed, "court#1", event(EventKind.RECORD_SUBMITTED), publish_to=("310000", "440000"))
    # A retried request queues nothing more.
    submit(store, record, sealed, "court#1", event(EventKind.RECORD_SUBMITTED), publish_to=("310000", "440000"))
    assert store.count("outbox") == 2
    assert store.outbox.due(NOW - timedelta(seconds=1)) == []
    first, second = store.outbox.due(NOW)
    assert [first[1:], second[1:]] == [
        ("310000", DeliveryKind.RECORD, "d-1", 0, None),
        ("440000", DeliveryKind.RECORD, "d-1", 0, None),
    ]
    store.write(lambda tx: store.outbox.failed(tx, first.seq, NOW + timedelta(seconds=30), "UNAVAILABLE: peer down"))
    published = event(EventKind.RECORD_PUBLISHED)
    store.write_logged(lambda tx: store.outbox.delivered(tx, second.seq, published.at), published)
    assert store.outbox.due(NOW + timedelta(seconds=29)) == []
    assert store.outbox.due(NOW + timedelta(seconds=30)) == [
        Delivery(first.seq, "310000", DeliveryKind.RECORD, "d-1", 1)
    ]
    assert store.count("events") == 2  # the submission and the acknowledged delivery


def install(store: Store, signed: SignedCatalog, now: datetime) -> bool:
    return store.write(lambda tx: store.trust.install_catalog(tx, signed, now))


def test_an_older_or_different_catalog_is_never_installed(store: Store) -> None:
    authority = SigningKey.generate("share-gateway-authority")
    ring = KeyRing([authority.verifying_key])
    text_v1 = sample_catalog_text()
    v1 = open_catalog(sign_catalog(text_v1, authority), ring)
    v2 = open_catalog(sign_catalog(text_v1.replace("version: 1", "version: 2", 1), authority), ring)
    install(store, v2, NOW)
    with pytest.raises(InvalidState, match="older"):
        install(store, v1, NOW)
    other_v2 = open_catalog(
        sign_catalog(text_v1.replace("version: 1", "version: 2", 1) + "# edited\n", authority), ring
    )
    with pytest.raises(InvalidState, match="different"):
        install(store, other_v2, NOW)
    install(store, v2, NOW)  # the same document again is fine
    assert store.trust.catalog() == v2.document


@pytest.mark.postgres
def test_processes_installing_the_same_catalog_at_once_both_succeed(fresh_postgres: str) -> None:
    """Replicas started together install the catalog at once: the second waits for the first, finds it installed,
    and goes on (it used to fail its start on the unique version)."""
    authority = SigningKey.generate("share-gateway-authority")
    signed = open_catalog(sign_catalog(sample_catalog_text(), authority), KeyRing([authority.verifying_key]))
    database = open_database(fresh_postgres, pool_size=2)
    try:
        migrate(database)
        store = Store(database)
        with database.writer.begin() as first:
            assert store.trust.install_catalog(UnitOfWork(first), signed, NOW)
            results: list[bool | Exception] = []
            second = threading.Thread(target=lambda: results.append(install_or_error(store, signed)))
            second.start()
            # The second install has reached the database and waits there for the first to commit.
            wait_until(lambda: waiting_sessions(fresh_postgres) >= 1)
        second.join(60)
        assert results == [False]
        assert store.trust.catalog() == signed.document
    finally:
        database.dispose()


def install_or_error(store: Store, signed: SignedCatalog) -> bool | Exception:
    try:
        return install(store, signed, NOW)
    except Exception as error:  # noqa: BLE001 - the test asserts there is none
        return error


def waiting_sessions(url: str) -> int:
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            waiting = connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND (query LIKE '%pg_advisory_xact_lock%' OR query LIKE '%INSERT INTO catalogs%')"
                )
            ).scalar()
        return int(waiting or 0)
    finally:
        engine.dispose()


def test_grants_need_a_registered_institution_and_can_be_revoked(store: Store) -> None:
    """Offline enrolment is logged too: each step an event, in its transaction, the node as actor (unverified)."""
    act = operator_act(REGION, "京信用办〔2026〕7号", "ops")
    with pytest.raises(InvalidState):
        enrol(store, "91110000MA0000001L", [Grant(GrantRole.INQUIRE, "loan_underwriting", NOW)], NOW, act=act)
    assert store.events.read() == []
    enrol(store, "91110000MA0000001L", [], NOW, "bank", "某银行", act=act)
    [grant_id] = enrol(store, "91110000MA0000001L", [Grant(GrantRole.INQUIRE, "loan_underwriting", NOW)], NOW, act=act)
    assert store.grants.institution("91110000MA0000001L") == (
        "bank",
        (Grant(GrantRole.INQUIRE, "loan_underwriting", NOW),),
    )
    change_grant(store, grant_id, NOW + timedelta(days=9), NOW, act=act)
    assert store.grants.institution("91110000MA0000001L")[1][0].valid_until == NOW + timedelta(days=9)
    revoke_grant(store, grant_id, NOW + timedelta(hours=1), act=act)
    assert store.grants.institution("91110000MA0000001L") == ("bank", ())
    with pytest.raises(InvalidState):
        change_grant(store, grant_id, None, NOW, act=act)
    with pytest.raises(InvalidState):
        revoke_grant(store, grant_id, NOW, act=act)
    events = [Event.from_bytes(body) for _, body in store.events.read()]
    assert [e.kind for e in events] == [
        EventKind.INSTITUTION_REGISTERED,
        EventKind.GRANT_ADDED,
        EventKind.GRANT_CHANGED,
        EventKind.GRANT_REVOKED,
    ]
    assert {e.actor for e in events} == {f"sgw://node/{REGION}"}
    assert all(e.details["document"] == "京信用办〔2026〕7号" and e.details["operator"] == "ops" for e in events)
    assert events[3].details["grant_id"] == str(grant_id)


async def test_group_commit_writes_concurrent_events_in_order_of_arrival(store: Store) -> None:
    batches: list[int] = []

    async def write(batch: Batch) -> None:
        batches.append(len(batch.events))
        await asyncio.to_thread(store.append, batch.events, carried=batch.carried)

    async def write_each(batch: Batch) -> Sequence[Exception | None]:
        return await asyncio.to_thread(store.append_each, batch.events, carried=batch.carried)

    log = GroupCommit(write, write_each)
    events = [event(at=NOW + timedelta(microseconds=i)) for i in range(200)]
    await asyncio.gather(*(log.append(e) for e in events))
    stored = [Event.from_bytes(body) for _, body in store.events.read(limit=1000)]
    assert [e.event_id for e in stored] == [e.event_id for e in events]
    assert sum(batches) == 200
    assert len(batches) < 200, "concurrent appends should share transactions"


async def test_a_failed_batch_fails_every_waiter(store: Store) -> None:
    async def broken(batch: Batch) -> None:
        raise OSError("disk gone")

    async def still_broken(batch: Batch) -> Sequence[Exception | None]:
        raise OSError("disk gone")

    log = GroupCommit(broken, still_broken)
    results = await asyncio.gather(*(log.append(event()) for _ in range(5)), return_exceptions=True)
    assert all(isinstance(r, OSError) for r in results)


@pytest.mark.postgres
async def test_a_node_runs_on_postgresql(fresh_postgres: str, node_config: NodeConfig) -> None:
    """The whole path on the real server: submit, inquire, and the events in PostgreSQL."""
    from share_gateway.client import credentials  # noqa: PLC0415
    from share_gateway.v1 import inquiry_pb2_grpc, registry_pb2_grpc  # noqa: PLC0415
    from tests.consents import consenting_channel  # noqa: PLC0415
    from tests.support import inquiry, penalty_request  # noqa: PLC0415

    node = await start_node(dataclasses.replace(node_config, database=fresh_postgres))
    try:
        seed_grants(node.gateway.store)
        layout_root = node_config.ca_certificate.parent.parent
        from share_gateway.devkit import Layout  # noqa: PLC0415

        layout = Layout(layout_root)

        def channel(name: str) -> object:
            files = layout.client(name)
            return consenting_channel(
                f"localhost:{node.port}", files, credentials(files.certificate, files.key, files.ca)
            )

        async with channel("regulator") as agency, channel("bank") as bank:  # type: ignore[attr-defined]
            await registry_pb2_grpc.RegistryServiceStub(agency).SubmitRecord(penalty_request(), timeout=5)
            answer = await inquiry_pb2_grpc.InquiryServiceStub(bank).Inquire(
                inquiry("loan_underwriting", consent="AUTH-1"), timeout=5
            )
        assert len(answer.records) == 1
        assert node.database.writer.dialect.name == "postgresql"
        assert node.gateway.store.count("events") == 2
    finally:
        await node.stop(grace=0)


def test_sqlite_appends_now_when_the_lock_is_free_and_says_so_when_it_is_not(tmp_path: Path) -> None:
    database = open_database(f"sqlite:///{tmp_path / 'now.db'}", sqlite_synchronous="NORMAL")
    migrate(database)
    store = Store(database)
    try:
        assert database.can_write_now
        store.events.append_now([event()])
        assert store.count("events") == 1
        blocker = sqlite3.connect(tmp_path / "now.db", isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StoreBusy):
                store.events.append_now([event()])
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert store.count("events") == 1, "a refused append writes nothing"
        database.checkpoint_wal()
        store.events.append_now([event()])
        assert store.count("events") == 2
    finally:
        database.dispose()


def test_with_full_sync_appends_commit_from_a_thread(tmp_path: Path) -> None:
    database = open_database(f"sqlite:///{tmp_path / 'full.db'}")
    try:
        assert database.reads_never_wait
        assert not database.can_write_now, "a commit that waits for the disk must not block the event loop"
    finally:
        database.dispose()


@pytest.mark.postgres
def test_postgresql_never_writes_without_waiting(fresh_postgres: str) -> None:
    database = open_database(fresh_postgres)
    try:
        assert not database.can_write_now
        with pytest.raises(StoreBusy):
            database.write_now(lambda cursor: None)
    finally:
        database.dispose()


def test_a_node_refuses_an_older_manifest_or_one_pinning_another_catalog(
    federation: Layout, node_config: NodeConfig
) -> None:
    from share_gateway.devkit import write_manifest  # noqa: PLC0415
    from share_gateway.federation.manifest_keys import ManifestInvalid  # noqa: PLC0415
    from share_gateway.node import prepare_gateway  # noqa: PLC0415

    held = federation.manifest.read_bytes()
    try:
        write_manifest(federation, 5, NOW + timedelta(days=400))
        database, gateway = prepare_gateway(node_config)
        assert gateway.manifest is not None
        assert gateway.manifest.manifest.version == 5
        database.dispose()
        write_manifest(federation, 4, NOW + timedelta(days=400))
        with pytest.raises(InvalidState, match="older"):
            prepare_gateway(node_config)
        stranger = dataclasses.replace(node_config, region="650000")
        write_manifest(federation, 6, NOW + timedelta(days=400))
        with pytest.raises(ManifestInvalid, match="650000"):
            prepare_gateway(stranger)
    finally:
        federation.manifest.write_bytes(held)
