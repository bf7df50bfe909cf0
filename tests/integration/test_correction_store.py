"""The correction applications repository on both databases, and migration 0018 on a database holding data."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert

from share_gateway.catalog import sample_catalog_text
from share_gateway.domain.calendar import WorkingCalendar
from share_gateway.domain.catalog import Catalog
from share_gateway.domain.debtor_list import CorrectionApplication, CorrectionState, courts_list, review_correction
from share_gateway.domain.errors import ChangedMeanwhile, InvalidState
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.store import schema
from share_gateway.store.database import Database, migrate, open_database
from share_gateway.store.repositories import Store

COMPANY = Subject(SubjectKind.LEGAL_ENTITY, "91110105MA01ABCD00")
FOUND = courts_list(Catalog.from_yaml(sample_catalog_text()), "dishonest_judgment_debtor")
assert FOUND is not None
RULES = FOUND[1]


def application(application_id: str = "c-1", record_id: str = "r-1", origin: str = "110000") -> CorrectionApplication:
    return CorrectionApplication(
        record_id=record_id,
        applicant="sgw://institution/91110105MA01ABCD00",
        grounds="记载有误",
        applied_on=date(2026, 12, 1),
        review_due=date(2026, 12, 16),
        application_id=application_id,
        origin_region=origin,
        record_type="dishonest_judgment_debtor",
        subject=COMPANY,
    )


def test_one_application_per_entry_awaits_review_and_its_review_is_kept(store: Store) -> None:
    """Fa Shi [2017] No. 7 Art. 12: the party applies and the court reviews; one application at a time per
    entry, a review written once (optimistic, by version)."""
    store.write(lambda tx: store.corrections.add(tx, application()))
    store.write(lambda tx: store.corrections.add(tx, application("c-2", origin="310000")))  # another region's entry
    with pytest.raises(InvalidState) as pending:
        store.write(lambda tx: store.corrections.add(tx, application("c-3")))
    assert (pending.value.reason, pending.value.metadata) == ("CORRECTION_PENDING", {"application_id": "c-1"})
    assert store.corrections.get("c-1") == application()
    upheld = review_correction(
        application(), RULES, upheld=True, reason="纠正", today=date(2026, 12, 2), calendar=WorkingCalendar(), by="c"
    )
    store.write(lambda tx: store.corrections.change(tx, upheld))
    with pytest.raises(ChangedMeanwhile):
        store.write(lambda tx: store.corrections.change(tx, upheld))
    assert store.corrections.get("c-1") == upheld
    assert [a.application_id for a in store.corrections.find((CorrectionState.APPLIED,))] == ["c-2"]
    assert [a.application_id for a in store.corrections.find(subject=COMPANY)] == ["c-1", "c-2"]
    # Reviewed, the entry takes a new application.
    store.write(lambda tx: store.corrections.add(tx, application("c-4")))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_at_0017(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'old.db'}" if request.param == "sqlite" else request.getfixturevalue("fresh_postgres")
    database = open_database(url)
    migrate(database, "0017")
    yield database
    database.dispose()


def test_0018_adds_the_corrections_table_and_keeps_what_was_stored(database_at_0017: Database) -> None:
    """Migrations upgrade databases holding data: a dispute stored at 0017 is read back after 0018."""
    with database_at_0017.writer.begin() as connection:
        connection.execute(
            insert(schema.disputes).values(
                dispute_id="d-1",
                origin_region="110000",
                record_id="r-1",
                record_type="loan_default",
                subject_kind="legal_entity",
                subject_id=COMPANY.identifier,
                applicant="sgw://x",
                claim="有误",
                state="filed",
                filed_at=datetime(2026, 12, 1, 10, 0, tzinfo=UTC),
                answer_due=date(2026, 12, 21),
                answered_by="",
                answer="",
                corrected_record_id="",
                version=1,
            )
        )
    migrate(database_at_0017)
    store = Store(database_at_0017)
    assert store.disputes.get("d-1") is not None
    store.write(lambda tx: store.corrections.add(tx, application()))
    assert store.corrections.get("c-1") == application()
