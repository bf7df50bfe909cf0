"""The disputes repository on both databases, and migration 0017 on a database holding repair applications."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Date, Integer, column, insert, table

from share_gateway.domain.disputes import Dispute, DisputeState, answer_dispute
from share_gateway.domain.errors import ChangedMeanwhile, InvalidState
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.store.database import Database, migrate, open_database
from share_gateway.store.repositories import Store
from share_gateway.store.schema import Instant
from share_gateway.store.unit_of_work import UnitOfWork

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
COMPANY = Subject(SubjectKind.LEGAL_ENTITY, "91110105MA01ABCD00")


def dispute(dispute_id: str = "d-1", record_id: str = "r-1", origin: str = "110000") -> Dispute:
    return Dispute(
        dispute_id=dispute_id,
        origin_region=origin,
        record_id=record_id,
        record_type="loan_default",
        subject=COMPANY,
        applicant="sgw://institution/91110105MA01ABCD00",
        claim="有误",
        state=DisputeState.FILED,
        filed_at=NOW,
        answer_due=NOW.date() + timedelta(days=20),
    )


def test_one_open_dispute_per_record_marked_until_answered(store: Store) -> None:
    store.write(lambda tx: store.disputes.add(tx, dispute()))
    store.write(lambda tx: store.disputes.add(tx, dispute("d-2", origin="310000")))  # another region's record
    with pytest.raises(InvalidState) as pending:
        store.write(lambda tx: store.disputes.add(tx, dispute("d-3")))
    assert (pending.value.reason, pending.value.metadata) == ("DISPUTE_PENDING", {"dispute_id": "d-1"})
    assert [d.dispute_id for d in store.subject_view(COMPANY, NOW.date(), listings=False).disputes] == ["d-1", "d-2"]
    first = store.disputes.get("d-1")
    assert first == dispute()
    answered = answer_dispute(dispute(), corrected_record_id="r-9", answer="已更正", by="sgw://x", now=NOW)
    store.write(lambda tx: store.disputes.change(tx, answered))
    with pytest.raises(ChangedMeanwhile):
        store.write(lambda tx: store.disputes.change(tx, answered))
    assert store.disputes.get("d-1") == answered
    assert [d.dispute_id for d in store.subject_view(COMPANY, NOW.date(), listings=False).disputes] == ["d-2"]
    assert [d.dispute_id for d in store.disputes.find((DisputeState.FILED,))] == ["d-2"]
    assert [d.dispute_id for d in store.disputes.find(subject=COMPANY)] == ["d-1", "d-2"]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_at_0014(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'old.db'}" if request.param == "sqlite" else request.getfixturevalue("fresh_postgres")
    database = open_database(url)
    migrate(database, "0014")
    yield database
    database.dispose()


def test_0017_a_stored_application_keeps_its_day_as_the_whole_course_deadline(database_at_0014: Database) -> None:
    """The old reply day was 10 working days after the application: exactly the whole course's deadline."""
    # The table as revision 0014 left it, with its old column name.
    columns = ["application_id", "record_id", "subject_kind", "subject_id", "applicant", "evidence", "commitment"]
    columns += ["state", "decided_by", "reason"]
    old = table(
        "repair_applications",
        *(column(name) for name in columns),
        column("submitted_at", Instant()),
        column("reply_due", Date()),
        column("version", Integer()),
    )
    texts = ["a-1", "r-1", "legal_entity", COMPANY.identifier, "sgw://x", "paid", "promise", "submitted", "", ""]
    row: dict[str, object] = dict(zip(columns, texts, strict=True))
    row |= {"submitted_at": NOW, "reply_due": date(2026, 12, 15)}
    with database_at_0014.writer.begin() as connection:
        connection.execute(insert(old).values(**row, version=1))
    migrate(database_at_0014)
    store = Store(database_at_0014)
    application = store.repairs.get("a-1")
    assert application is not None
    assert (application.result_due, application.remedy, application.extended_by, application.mandate_id) == (
        date(2026, 12, 15),
        "",
        0,
        "",
    )
    assert store.count("disputes") == 0


def test_a_peers_dispute_copy_is_kept_if_newer_and_never_over_another_regions(store: Store) -> None:
    """Another region's statement of where its dispute stands is kept beside this node's disputes, marks the
    copy "under dispute" while filed, is replaced only by a newer version, and cannot take over an id this node
    holds for another origin (DOMAIN.md "Disputes, notice and repair channels": marked as under dispute
    meanwhile; only the origin answers)."""
    store.write(lambda tx: store.disputes.add(tx, dispute()))
    theirs = replace(dispute("d-2", record_id="r-2", origin="310000"), applicant="", claim="")
    assert store.write(lambda tx: store.disputes.receive(tx, theirs))
    assert not store.write(lambda tx: store.disputes.receive(tx, theirs))  # a repeat changes nothing
    view = store.subject_view(COMPANY, NOW.date(), listings=False)
    assert [(d.origin_region, d.dispute_id) for d in view.disputes] == [("110000", "d-1"), ("310000", "d-2")]
    answered = replace(theirs, state=DisputeState.REJECTED, answered_at=NOW, version=2)
    assert store.write(lambda tx: store.disputes.receive(tx, answered))
    assert not store.write(lambda tx: store.disputes.receive(tx, theirs))  # an older statement arriving late
    assert store.disputes.get("d-2") == answered
    assert [d.dispute_id for d in store.subject_view(COMPANY, NOW.date(), listings=False).disputes] == ["d-1"]
    with pytest.raises(InvalidState) as taken:
        store.write(lambda tx: store.disputes.receive(tx, replace(dispute(), origin_region="310000", version=9)))
    assert taken.value.reason == "DISPUTE_OF_ANOTHER_REGION"
    assert store.disputes.get("d-1") == dispute()
    # This node's own lists hold its own disputes only.
    assert [d.dispute_id for d in store.disputes.find(origin="110000")] == ["d-1"]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_at_0019(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'old.db'}" if request.param == "sqlite" else request.getfixturevalue("fresh_postgres")
    database = open_database(url)
    migrate(database, "0019")
    yield database
    database.dispose()


def test_0022_an_inquiry_finds_its_subjects_open_disputes_by_subject_not_among_all_open_ones(
    database_at_0019: Database,
) -> None:
    """Disputes held before revision 0022 are read as before; on SQLite the inquiry path's read of a subject's
    open disputes searches by subject, so it does not grow with the region's open disputes about others."""
    others = [
        replace(
            dispute(f"o-{n}", record_id=f"other-{n}"), subject=Subject(SubjectKind.LEGAL_ENTITY, f"9111010{n:011d}")
        )
        for n in range(3)
    ]
    store = Store(database_at_0019)

    def hold(tx: UnitOfWork) -> None:
        for held in [*others, dispute()]:
            store.disputes.add(tx, held)

    store.write(hold)
    migrate(database_at_0019)
    store = Store(database_at_0019)
    assert [d.dispute_id for d in store.subject_view(COMPANY, NOW.date(), listings=False).disputes] == ["d-1"]
    if database_at_0019.is_sqlite:
        read = store.disputes._open_about
        values = read.parameters({"kind": COMPANY.kind.value, "id": COMPANY.identifier})
        with database_at_0019.hot_cursor() as cursor:
            plan = " ".join(row[3] for row in cursor.execute(f"EXPLAIN QUERY PLAN {read.sql}", values).fetchall())
        assert "subject_kind=? AND subject_id=? AND state=?" in plan
