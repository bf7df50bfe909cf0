"""The consents repository on both databases: registered once, listed per subject, withdrawn once (even unseen);
and a database holding data upgrades to revision 0014."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest

from share_gateway.domain.consent import ConsentRevocation, ConsentStatement, consent_id
from share_gateway.domain.events import Event, EventKind, Outcome
from share_gateway.domain.identifiers import Subject, SubjectKind
from share_gateway.store.consents import ConsentToKeep
from share_gateway.store.database import Database, StoreBusy, migrate, open_database
from share_gateway.store.repositories import Store

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
COMPANY = Subject(SubjectKind.LEGAL_ENTITY, "91110105MA01ABCD00")
PERSON = Subject(SubjectKind.INDIVIDUAL, "110105198001011238")
BANK = "sgw://institution/91110000MA0000001L"


def statement(subject: Subject = COMPANY, purposes: tuple[str, ...] = ("loan_underwriting",)) -> ConsentStatement:
    return ConsentStatement(subject, BANK, purposes, NOW, NOW + timedelta(days=30), "ab" * 32)


def register(store: Store, about: ConsentStatement, at: datetime = NOW) -> tuple[str, bool]:
    data = about.to_bytes()
    kept = store.write(lambda tx: store.consents.register(tx, consent_id(data), data, b"sig", b"cert", about, at))
    return consent_id(data), kept


def test_a_consent_is_registered_once_and_listed_for_its_subject_only(store: Store) -> None:
    first, kept = register(store, statement())
    assert kept is True
    assert register(store, statement(), NOW + timedelta(hours=1)) == (first, False)  # the first sight stands
    other, _ = register(store, statement(PERSON))
    [listed] = store.consents.about(COMPANY)
    assert (listed.consent_id, listed.statement, listed.registered_at, listed.revoked_at) == (
        first,
        statement(),
        NOW,
        None,
    )
    assert [c.consent_id for c in store.consents.about(PERSON)] == [other]
    assert store.consents.about(PERSON, first) == []  # another subject's consent is not the caller's


def test_a_withdrawal_is_kept_once_and_marks_the_consent(store: Store) -> None:
    first, _ = register(store, statement())
    withdrawal = ConsentRevocation(first, COMPANY, NOW + timedelta(days=1), "110000")
    assert store.write(lambda tx: store.consents.revoke(tx, withdrawal, NOW + timedelta(days=1))) is True
    later = ConsentRevocation(first, COMPANY, NOW + timedelta(days=2), "310000")
    assert store.write(lambda tx: store.consents.revoke(tx, later, NOW + timedelta(days=2))) is False
    assert store.consents.revoked_at(first) == NOW + timedelta(days=1)
    assert store.consents.revocation(first) == withdrawal
    assert store.consents.about(COMPANY)[0].revoked_at == NOW + timedelta(days=1)


def test_a_withdrawal_of_a_consent_never_seen_here_is_kept(store: Store) -> None:
    unseen = "0123456789abcdef" * 2
    withdrawal = ConsentRevocation(unseen, PERSON, NOW, "310000")
    assert store.write(lambda tx: store.consents.revoke(tx, withdrawal, NOW)) is True
    assert store.consents.revoked_at(unseen) == NOW
    assert store.consents.about(PERSON) == []


def test_the_withdrawals_kept_since_an_instant_are_read_back(store: Store) -> None:
    """What a replica's consent desk reads every few seconds, to learn of withdrawals another process kept."""
    ids = [f"{n:032x}" for n in (1, 2, 3)]
    for days, withdrawn in enumerate(ids):
        revocation = ConsentRevocation(withdrawn, PERSON, NOW + timedelta(days=days), "310000")
        store.write(partial(store.consents.revoke, revocation=revocation, received_at=revocation.at))
    assert sorted(c for c, _ in store.consents.withdrawn_since(None)) == ids
    assert store.consents.withdrawn_since(NOW + timedelta(days=1)) == [
        (ids[1], NOW + timedelta(days=1)),
        (ids[2], NOW + timedelta(days=2)),
    ]


# --- the upgrade of a database holding data ------------------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_at_0010(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'old.db'}" if request.param == "sqlite" else request.getfixturevalue("fresh_postgres")
    database = open_database(url)
    migrate(database, "0010")
    yield database
    database.dispose()


def test_0014_a_database_holding_events_upgrades_and_takes_consents(database_at_0010: Database) -> None:
    # An inquiry logged under free-text consent before the upgrade stays as it was written.
    old = Event(
        str(uuid.uuid4()),
        EventKind.INQUIRY,
        NOW,
        "110000",
        BANK,
        Outcome.ALLOWED,
        details={"consent_reference": "AUTH-1"},
    )
    store = Store(database_at_0010)  # the events table is as revision 0010 left it
    store.append([old])
    migrate(database_at_0010)
    assert [Event.from_bytes(body) for _, body in store.events.read()] == [old]
    first, kept = register(store, statement())
    assert kept
    assert store.consents.about(COMPANY)[0].consent_id == first


def to_keep(about: ConsentStatement, at: datetime = NOW, certificate: bytes = b"cert") -> ConsentToKeep:
    data = about.to_bytes()
    return ConsentToKeep(consent_id(data), data, b"sig", certificate, about, at)


def inquiry(at: datetime = NOW) -> Event:
    return Event(str(uuid.uuid4()), EventKind.INQUIRY, at, "110000", BANK, Outcome.ALLOWED, subject=COMPANY)


def test_consents_an_inquiry_saw_first_are_registered_with_its_event(store: Store) -> None:
    """The group commit registers the consents its inquiries brought first in the transaction that logs them
    (the first sight stands), on the loop's connection as from a thread."""
    logged = [inquiry(), inquiry()]
    first = to_keep(statement())
    store.append(logged[:1], [first, to_keep(statement(), NOW + timedelta(hours=1))])
    try:
        store.append_now(logged[1:], [to_keep(statement(PERSON)), to_keep(statement(), NOW + timedelta(hours=2))])
    except StoreBusy:  # PostgreSQL never writes without waiting
        store.append(logged[1:], [to_keep(statement(PERSON)), to_keep(statement(), NOW + timedelta(hours=2))])
    assert [Event.from_bytes(body) for _, body in store.events.read()] == logged
    [listed] = store.consents.about(COMPANY)
    assert (listed.consent_id, listed.registered_at, listed.certificate) == (first.consent_id, NOW, b"cert")
    assert [c.statement for c in store.consents.about(PERSON)] == [statement(PERSON)]


def test_after_a_failed_batch_a_consent_is_registered_only_with_its_own_event(store: Store) -> None:
    """Event by event after a failed batch: a consent that cannot be stored fails its own event alone, and
    the other events' consents are registered with them."""
    logged = [inquiry(), inquiry(), inquiry()]
    broken = to_keep(statement(PERSON), certificate=None)  # type: ignore[arg-type]
    failures = store.append_each(logged, [[to_keep(statement())], [broken], []])
    assert [failure is None for failure in failures] == [True, False, True]
    assert [Event.from_bytes(body) for _, body in store.events.read()] == [logged[0], logged[2]]
    assert [c.statement for c in store.consents.about(COMPANY)] == [statement()]
    assert store.consents.about(PERSON) == []
