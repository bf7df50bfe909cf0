"""One node's repositories over one database, and the unit of work they write in.

Each repository owns its tables and statements; none knows the others. A
use case that changes several aggregates opens one unit of work
(``write``) and passes it to every repository it writes
through. Reads need no unit of work: each is a single statement.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import func, select

from share_gateway.domain.disputes import Dispute
from share_gateway.domain.events import Event
from share_gateway.domain.identifiers import Subject
from share_gateway.domain.listings import Listing
from share_gateway.store import schema
from share_gateway.store.acknowledgements import Acknowledgements
from share_gateway.store.consents import Consents, ConsentToKeep
from share_gateway.store.corrections import Corrections
from share_gateway.store.database import Database
from share_gateway.store.deliveries import Outbox
from share_gateway.store.disputes import Disputes
from share_gateway.store.events import Also, EventLog
from share_gateway.store.grants import Grants
from share_gateway.store.listings import Listings
from share_gateway.store.log import LogStore
from share_gateway.store.nonces import PeerNonce, ReplayNonces
from share_gateway.store.quotas import QuotaBuckets
from share_gateway.store.records import Disclosable, Records
from share_gateway.store.repairs import RepairApplications
from share_gateway.store.revocations import Revocations
from share_gateway.store.trust import TrustMaterial
from share_gateway.store.unit_of_work import UnitOfWork
from share_gateway.store.witness import WitnessState

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class SubjectView:
    """What an inquiry reads about its subject: the active records, the listings in force, the open disputes."""

    records: list[Disclosable]
    listings: list[Listing]
    disputes: list[Dispute]


class Store:
    def __init__(self, database: Database) -> None:
        self.database = database
        self.trust = TrustMaterial(database)
        self.grants = Grants(database)
        self.records = Records(database)
        self.events = EventLog(database)
        self.log = LogStore(database)
        self.listings = Listings(database)
        self.repairs = RepairApplications(database)
        self.revocations = Revocations(database)
        self.outbox = Outbox(database)
        self.witness = WitnessState(database)
        self.nonces = ReplayNonces(database)
        self.quotas = QuotaBuckets(database)
        self.consents = Consents(database)
        self.acknowledgements = Acknowledgements(database)
        self.disputes = Disputes(database)
        self.corrections = Corrections(database)

    def subject_view(self, subject: Subject, today: date, listings: bool) -> SubjectView:
        """The inquiry path's read of ``subject`` (``listings``: with its listings in force): three repositories'
        statements on one cursor in one trip off the event loop, each compiled once, because on that path the
        trip and SQLAlchemy's per-statement work cost more than the queries."""
        with self.database.hot_cursor() as cursor:
            return SubjectView(
                self.records.disclosable_on(cursor, subject),
                self.listings.in_force_on(cursor, subject, today) if listings else [],
                self.disputes.open_about_subject(cursor, subject),
            )

    def write(self, work: Callable[[UnitOfWork], R]) -> R:
        """Run ``work`` in one unit of work, committed when it returns and rolled back if it raises; then its
        ``on_commit`` hooks."""
        with self.database.writer.begin() as connection:
            tx = UnitOfWork(connection)
            done = work(tx)
        for hook in tx.after_commit:
            hook()
        return done

    def write_logged(self, change: Callable[[UnitOfWork], R], *events: Event) -> R:
        """Run ``change``, then append ``events``, in one unit of work: a change commits with its log entry."""

        def work(tx: UnitOfWork) -> R:
            done = change(tx)
            self.events.append(tx, events)
            return done

        return self.write(work)

    def append(
        self,
        events: Sequence[Event],
        consents: Sequence[ConsentToKeep] = (),
        nonces: Sequence[PeerNonce] = (),
        carried: Sequence[Also] = (),
    ) -> None:
        """Append events that record no change of their own (a batch of the group commit, a report) alone, with
        what rides with them in the same transaction: the consents their inquiries saw first, the nonces of the
        peer inquiries they answer, and ``carried`` work of the group commit's (quota leases), each run on the
        transaction's cursor before the events."""
        self.write(lambda tx: self.events.append(tx, events, self._keeping(consents, nonces, carried)))

    def append_now(
        self,
        events: Sequence[Event],
        consents: Sequence[ConsentToKeep] = (),
        nonces: Sequence[PeerNonce] = (),
        carried: Sequence[Also] = (),
    ) -> None:
        """``append`` on the calling thread, or ``StoreBusy`` at once (SQLite: see ``EventLog.append_now``)."""
        self.events.append_now(events, self._keeping(consents, nonces, carried))

    def _keeping(
        self, consents: Sequence[ConsentToKeep], nonces: Sequence[PeerNonce], carried: Sequence[Also]
    ) -> Also | None:
        if not consents and not nonces and not carried:
            return None

        def keep(cursor: Any) -> None:
            for work in carried:
                work(cursor)
            if consents:
                self.consents.keep_on(cursor, consents)
            if nonces:
                self.nonces.keep(cursor, list(nonces))

        return keep

    def append_each(
        self,
        events: Sequence[Event],
        consents: Sequence[Sequence[ConsentToKeep]] = (),
        nonces: Mapping[str, PeerNonce] | None = None,
        carried: Sequence[Also] = (),
    ) -> list[Exception | None]:
        """Run each carried work, then append each event, in a savepoint of its own, in one transaction: what one
        fails for fails it alone.

        The group commit's way after a batch failed: one caller's event that cannot be
        stored must not take everyone else's with it. Returns each carried work's failure, then each event's
        (None: done). ``nonces`` (by event id) ride with their events; one kept already fails its event as
        ``NonceSeen``.
        """
        riding = nonces or {}

        def each(tx: UnitOfWork) -> list[Exception | None]:
            tx.serialise()
            failures = [_alone(tx, work) for work in carried]
            for index, event in enumerate(events):

                def write(cursor: Any, index: int = index, event: Event = event) -> None:
                    if index < len(consents) and consents[index]:
                        self.consents.keep_on(cursor, consents[index])
                    nonce = riding.get(event.event_id)
                    if nonce is not None:
                        self.nonces.keep_one(tx, nonce)
                    self.events.append(tx, [event])

                failures.append(_alone(tx, write))
            return failures

        return self.write(each)

    def count(self, table: str) -> int:
        """Rows in one table, by name: for operators' figures and tests, never for decisions."""
        with self.database.reader.begin() as connection:
            return int(connection.execute(select(func.count()).select_from(schema.metadata.tables[table])).scalar_one())


def _alone(tx: UnitOfWork, work: Also) -> Exception | None:
    """Run ``work`` on ``tx``'s cursor in a savepoint of its own: its failure, rolled back alone, or None."""
    try:
        with tx.connection.begin_nested(), tx.cursor() as cursor:
            work(cursor)
    except Exception as error:  # noqa: BLE001 - the failure is this work's own, handed to whoever asked for it
        return error
    return None
