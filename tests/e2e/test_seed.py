"""Issue 14 ("a bulk loader, `share-gateway seed --records N`, COPY on PostgreSQL, writing records and their
events"): a seeded database is one a node serves as its own. The node integrates the seeded events into its log,
`audit verify` passes over all of it, and a bank's inquiry about a seeded subject gets that subject's records,
each verified against the node's signature; on PostgreSQL (COPY) and on SQLite (executemany)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy
import yaml

from share_gateway.api.convert import subject_to_wire
from share_gateway.catalog import open_catalog
from share_gateway.cli.seed import seeding_providers
from share_gateway.client import verify_record_disclosure
from share_gateway.crypto.keys import KeyRing
from share_gateway.devkit import Layout, create_federation
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.store.database import open_database
from share_gateway.v1 import inquiry_pb2_grpc
from tests.e2e.conftest import run
from tests.federation import channel
from tests.processes import prepare, serve_node
from tests.support import CALLERS, ROLES, inquiry
from tests.waiting import PROCESS_TEST_SECONDS, wait_until

pytestmark = pytest.mark.timeout(PROCESS_TEST_SECONDS)
REGION = "110000"
RECORDS = 300


@pytest.fixture(params=["postgresql", "sqlite"])
def seeded(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Layout, Path, str]:
    """A node's configuration on a database ``seed`` loaded; its database URL."""
    layout = create_federation(
        tmp_path, [REGION], {name: c[0] for name, c in CALLERS.items()}, datetime.now(UTC), roles=ROLES
    )
    config = layout.node_config(REGION)
    if request.param == "postgresql":
        url = request.getfixturevalue("fresh_postgres")
        config.write_text(yaml.safe_dump(yaml.safe_load(config.read_text()) | {"database": url}))
    else:
        url = f"sqlite:///{config.parent / f'{REGION}.db'}"
    prepare(config)
    result = run("seed", "--config", str(config), "--records", str(RECORDS), "--batch", "128")
    assert re.search(rf"seeded {RECORDS} records and their events into node {REGION}", result.stdout), result
    return layout, config, url


def _scalar(url: str, sql: str) -> int:
    database = open_database(url)
    try:
        with database.reader.connect() as connection:
            return int(connection.exec_driver_sql(sql).scalar() or 0)
    finally:
        database.dispose()


async def test_a_seeded_database_verifies_and_serves_inquiries(seeded: tuple[Layout, Path, str]) -> None:
    layout, config, url = seeded
    catalog = open_catalog(layout.catalog.read_bytes(), KeyRing([layout.authority().verifying_key])).catalog
    shared = [name for name, t in catalog.record_types.items() if t.shared_nationwide]
    providers = tuple(seeding_providers(REGION).values())
    assert _scalar(url, "SELECT count(*) FROM records") == RECORDS
    assert _scalar(url, f"SELECT count(*) FROM records WHERE submitted_by = 'sgw://institution/{providers[0]}'") > 0
    listed = ", ".join(f"'{name}'" for name in shared)
    assert _scalar(url, f"SELECT count(*) FROM records WHERE record_type IN ({listed})") == 0, "nothing to deliver"
    submitted = _scalar(url, "SELECT count(*) FROM events WHERE kind = 'record_submitted'")
    assert submitted == RECORDS, "one event per record"
    assert _scalar(url, "SELECT count(*) FROM outbox") == 0
    events = _scalar(url, "SELECT count(*) FROM events")
    # The planner has statistics of what was loaded (without them, at a million records, each inquiry read every
    # active record's index entry: bench.scale measured p50 325 ms against 19 ms at ten thousand).
    if url.startswith("postgresql"):
        assert _scalar(url, "SELECT reltuples FROM pg_class WHERE oid = 'records'::regclass") >= RECORDS
    else:
        assert _scalar(url, "SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'records'") > 0

    node = serve_node(config)
    try:
        ready = node.wait_ready()
        port = re.search(r"mTLS port (\d+)", ready)
        assert port is not None
        wait_until(lambda: _scalar(url, "SELECT coalesce(max(size), 0) FROM log_checkpoints") >= events)
        database = open_database(url)
        try:
            with database.reader.connect() as connection:
                kind, identifier = connection.execute(
                    sqlalchemy.text("SELECT subject_kind, subject_id FROM records ORDER BY record_id LIMIT 1")
                ).one()
                held = connection.execute(
                    sqlalchemy.text("SELECT count(*) FROM records WHERE subject_id = :id"), {"id": identifier}
                ).scalar()
        finally:
            database.dispose()
        subject = subject_to_wire(Subject(SubjectKind(kind), identifier))
        async with channel(layout, int(port.group(1)), "bank") as bank:
            answer = await inquiry_pb2_grpc.InquiryServiceStub(bank).Inquire(
                inquiry("loan_underwriting", subject=subject, consent="AUTH-1"), timeout=30
            )
        assert answer.records, f"the seeded subject's {held} record(s) are found"
        keys = KeyRing([layout.node_verifying_key(REGION)])
        disclosures = [verify_record_disclosure(record, keys) for record in answer.records]
        assert {d.statement.subject.identifier for d in disclosures} == {identifier}
        assert {d.statement.origin_region for d in disclosures} == {REGION}
    finally:
        node.stop()
    verified = run("audit", "verify", "--config", str(config))
    assert "verifies" in verified.stdout, verified.stdout + verified.stderr
