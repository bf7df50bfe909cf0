"""Storage of the verifiable log: integration of appended events, tree nodes, checkpoints (search: ``log_reading``).

Appends are plain inserts into ``events`` (see ``store.events``). The sequencer
integrates them in batches: it gives each event the next leaf index, stores
the leaf hash and every perfect subtree the leaf completes, and copies the
fields compliance officers search by into ``log_entries``. Integration runs in
one transaction at a time (SQLite's single writer; on PostgreSQL a
transaction-scoped advisory lock), so replicas may all try and never clash.
On PostgreSQL appends take the same kind of lock, so an event's ``seq`` order
is its commit order and none is skipped. Integration, checkpoints and
cosignatures are the sequencer's and cosigner's own writes and join no other
work, so they open their transactions here; redaction, which changes events
too, runs in the caller's unit of work.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import BigInteger, Connection, bindparam, func, insert, select, update

from share_gateway.crypto.note import NoteSignature, add_signature
from share_gateway.ledger.hashing import leaf_hash
from share_gateway.ledger.tree import Fetch, Frontier, NodeId, consistency_proof, inclusion_proof, root
from share_gateway.store import schema
from share_gateway.store.activity import add_counts
from share_gateway.store.database import Database
from share_gateway.store.index import IndexStore, index_batch, keep_once_per_size, keyed_entries, summaries
from share_gateway.store.log_reading import LogReader
from share_gateway.store.prepared import Prepared
from share_gateway.store.unit_of_work import INTEGRATION_LOCK, UnitOfWork, lock


@dataclass(frozen=True, slots=True)
class Integration:
    size: int
    root: bytes
    added: int
    # Each index key the batch touched, with its new chain hash (``store.index``).
    index: dict[bytes, bytes] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    size: int
    root: bytes
    note: bytes
    published_at: datetime


@dataclass(frozen=True, slots=True)
class LeafRow:
    """One leaf as audit verification reads it: the event bytes (None if missing) and the stored leaf hash."""

    leaf_index: int
    event_seq: int
    body: bytes | None
    stored_hash: bytes | None
    redacted: bool


def _placeholder(connection: Connection) -> str:
    return "?" if connection.dialect.name == "sqlite" else "%s"


def _fetcher(connection: Connection) -> Fetch:
    """Stored nodes by id, in one statement that the primary key answers.

    Written as plain SQL, one ``level = ? AND idx IN (...)`` term per level:
    SQLite scans the whole table for a row-value ``(level, idx) IN (...)``, and
    building the expression per call costs more than running the query.
    """
    mark = _placeholder(connection)

    def fetch(ids: Iterable[NodeId]) -> dict[NodeId, bytes]:
        by_level: dict[int, list[int]] = {}
        for node in ids:
            by_level.setdefault(node.level, []).append(node.index)
        if not by_level:
            return {}
        terms, parameters = [], []
        for level, indexes in by_level.items():
            terms.append(f"(level = {mark} AND idx IN ({', '.join([mark] * len(indexes))}))")
            parameters += [level, *indexes]
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(f"SELECT level, idx, hash FROM log_nodes WHERE {' OR '.join(terms)}", parameters)  # noqa: S608 - only placeholders
            return {NodeId(level, index): bytes(value) for level, index, value in cursor.fetchall()}
        finally:
            cursor.close()

    return fetch


_COPY_ENTRIES = insert(schema.log_entries).from_select(
    ["leaf_index", "event_seq", *schema.EVENT_FIELDS],
    select(
        (bindparam("size", type_=BigInteger) + func.row_number().over(order_by=schema.events.c.seq) - 1).label(
            "leaf_index"
        ),
        schema.events.c.seq,
        *(schema.events.c[name] for name in schema.EVENT_FIELDS),
    ).where(schema.events.c.seq > bindparam("last"), schema.events.c.seq <= bindparam("upto")),
)
_INSERT_NODE = insert(schema.log_nodes).values(level=bindparam("level"), idx=bindparam("idx"), hash=bindparam("hash"))


class LogStore(LogReader):
    """The log's tree, checkpoints and cosignatures; what officers search by comes from ``LogReader``."""

    def __init__(self, database: Database) -> None:
        super().__init__(database)
        self.index = IndexStore(database)
        self._insert_node = Prepared.compile(_INSERT_NODE, database.writer)

    # --- integration --------------------------------------------------------

    def size(self) -> int:
        with self.database.reader.connect() as connection:
            return _size(connection)

    def integrate(self, limit: int = 2_000) -> Integration:
        """Give the next appended events (at most ``limit``) their leaves; return the new tree head.

        Events are read and hashed before the write lock is taken, so appends wait
        only for the inserts; inside the lock the tree's size is read again and the
        batch is dropped (to be redone) if another integrator moved it. The
        searchable fields are copied in SQL from the columns the append wrote, and the
        batch's verifiable-index entries are written in the same transaction.
        """
        mark = "?" if self.database.is_sqlite else "%s"
        with self.database.reader.connect() as connection:
            last_seq = connection.execute(select(func.max(schema.log_entries.c.event_seq))).scalar() or 0
            cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            try:
                cursor.execute(
                    f"SELECT seq, body FROM events WHERE seq > {mark} ORDER BY seq LIMIT {mark}",  # noqa: S608
                    (last_seq, limit),
                )
                pending = [(seq, bytes(body)) for seq, body in cursor.fetchall()]
            finally:
                cursor.close()
        hashes = [leaf_hash(body) for _, body in pending]
        read = summaries([body for _, body in pending])
        with self.database.writer.begin() as connection:
            lock(connection, INTEGRATION_LOCK)
            size = _size(connection)
            frontier = Frontier.load(size, _fetcher(connection))
            now_last = connection.execute(select(func.max(schema.log_entries.c.event_seq))).scalar() or 0
            if not pending or now_last != last_seq:
                return Integration(size, frontier.root, 0)
            nodes = [
                {"level": node.level, "idx": node.index, "hash": value}
                for hashed in hashes
                for node, value in frontier.append(hashed)
            ]
            # The searchable copy, in SQL: leaf i is the i-th of these events in seq order.
            connection.execute(_COPY_ENTRIES, {"size": size, "last": last_seq, "upto": pending[-1][0]})
            # The officers' daily counts, in the same transaction: never counted twice, never missed.
            add_counts(connection, size)
            cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            try:
                self._insert_node.execute_many(cursor, nodes)
            finally:
                cursor.close()
            index = index_batch(connection, keyed_entries(size, read))
            return Integration(frontier.size, frontier.root, len(pending), index)

    def pending(self) -> int:
        """How many appended events wait for integration."""
        with self.database.reader.connect() as connection:
            last_seq = connection.execute(select(func.max(schema.log_entries.c.event_seq))).scalar() or 0
            return int(
                connection.execute(
                    select(func.count()).select_from(schema.events).where(schema.events.c.seq > last_seq)
                ).scalar_one()
            )

    # --- tree heads and proofs ---------------------------------------------

    def root(self, size: int) -> bytes:
        with self.database.reader.connect() as connection:
            return root(size, _fetcher(connection))

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        with self.database.reader.connect() as connection:
            return inclusion_proof(index, size, _fetcher(connection))

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        with self.database.reader.connect() as connection:
            return consistency_proof(old, new, _fetcher(connection))

    # --- checkpoints --------------------------------------------------------

    def add_checkpoint(self, size: int, tree_root: bytes, note: bytes, now: datetime) -> None:
        """Store a signed checkpoint; a second one for the same size must carry the same root."""
        values = {"size": size, "root": tree_root, "note": note, "published_at": now}
        keep_once_per_size(self.database, schema.log_checkpoints, values, "root", "a checkpoint")

    def add_cosignature(self, size: int, signature: NoteSignature) -> None:
        """Append a witness's cosignature to the published checkpoint of ``size`` (once per witness)."""
        table = schema.log_checkpoints
        with self.database.writer.begin() as connection:
            # FOR UPDATE: two witnesses answering at once must not lose one another's line (PostgreSQL).
            note = connection.execute(select(table.c.note).where(table.c.size == size).with_for_update()).scalar()
            if note is None:
                raise LookupError(f"no checkpoint of size {size}")
            connection.execute(update(table).where(table.c.size == size).values(note=add_signature(note, signature)))

    def latest_checkpoint(self) -> StoredCheckpoint | None:
        with self.database.reader.connect() as connection:
            row = connection.execute(
                select(schema.log_checkpoints).order_by(schema.log_checkpoints.c.size.desc()).limit(1)
            ).first()
        return None if row is None else StoredCheckpoint(row.size, row.root, row.note, row.published_at)

    def checkpoint(self, size: int) -> StoredCheckpoint | None:
        with self.database.reader.connect() as connection:
            row = connection.execute(
                select(schema.log_checkpoints).where(schema.log_checkpoints.c.size == size)
            ).first()
        return None if row is None else StoredCheckpoint(row.size, row.root, row.note, row.published_at)

    def checkpoints(self) -> list[StoredCheckpoint]:
        with self.database.reader.connect() as connection:
            rows = connection.execute(select(schema.log_checkpoints).order_by(schema.log_checkpoints.c.size))
            return [StoredCheckpoint(r.size, r.root, r.note, r.published_at) for r in rows]

    def leaf_hash(self, leaf_index: int) -> bytes | None:
        nodes = schema.log_nodes.c
        with self.database.reader.connect() as connection:
            value: bytes | None = connection.execute(
                select(nodes.hash).where(nodes.level == 0, nodes.idx == leaf_index)
            ).scalar()
            return value

    def leaves(self, start: int, end: int) -> list[LeafRow]:
        """Leaves ``[start, end)`` with their event bytes and stored leaf hashes, for verification.

        Plain SQL fetched at once: verification reads every leaf, and per-row
        result processing would cost more than the hashing.
        """
        mark = "?" if self.database.is_sqlite else "%s"
        statement = (
            "SELECT e.leaf_index, e.event_seq, v.body, n.hash, e.redacted_at IS NOT NULL"  # noqa: S608 - placeholders
            " FROM log_entries e LEFT JOIN events v ON v.seq = e.event_seq"
            " LEFT JOIN log_nodes n ON n.level = 0 AND n.idx = e.leaf_index"
            f" WHERE e.leaf_index >= {mark} AND e.leaf_index < {mark} ORDER BY e.leaf_index"
        )
        with self.database.reader.connect() as connection:
            cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            try:
                cursor.execute(statement, (start, end))
                rows = cursor.fetchall()
            finally:
                cursor.close()
        return [
            LeafRow(index, seq, None if body is None else bytes(body), None if h is None else bytes(h), bool(red))
            for index, seq, body, h, red in rows
        ]

    def checkpoint_notes(self) -> list[bytes]:
        return [c.note for c in self.checkpoints()]

    def orphans(self) -> list[int]:
        """Events that sit before the last integrated one yet have no leaf: inserted after the fact."""
        entries, events = schema.log_entries.c, schema.events.c
        with self.database.reader.connect() as connection:
            last = connection.execute(select(func.max(entries.event_seq))).scalar()
            if last is None:
                return []
            rows = connection.execute(
                select(events.seq)
                .outerjoin(schema.log_entries, entries.event_seq == events.seq)
                .where(events.seq < last, entries.event_seq.is_(None))
                .order_by(events.seq)
            )
            return [row.seq for row in rows]

    # --- redaction ----------------------------------------------------------

    def redactable(self, tx: UnitOfWork, before: datetime) -> list[tuple[int, int, bytes]]:
        """(leaf index, event seq, event bytes) of the integrated events older than ``before`` not yet redacted."""
        entries, events = schema.log_entries.c, schema.events.c
        rows = tx.connection.execute(
            select(entries.leaf_index, entries.event_seq, events.body)
            .join_from(schema.log_entries, schema.events, entries.event_seq == events.seq)
            .where(entries.occurred_at < before, entries.redacted_at.is_(None))
            .order_by(entries.leaf_index)
        ).all()
        return [(row.leaf_index, row.event_seq, row.body) for row in rows]

    def redactable_span(self, before: datetime) -> tuple[int, int, int]:
        """How many integrated events older than ``before`` are not yet redacted, and their first and last leaf
        (-1 when none): what ``audit redact`` asks the operator to confirm, read without holding a write."""
        entries, events = schema.log_entries.c, schema.events.c
        with self.database.reader.connect() as connection:
            row = connection.execute(
                select(func.count(), func.min(entries.leaf_index), func.max(entries.leaf_index))
                .join_from(schema.log_entries, schema.events, entries.event_seq == events.seq)
                .where(entries.occurred_at < before, entries.redacted_at.is_(None))
            ).one()
        count, first, last = row
        return int(count), -1 if first is None else int(first), -1 if last is None else int(last)

    def mark_redacted(self, tx: UnitOfWork, leaf_indexes: list[int], now: datetime) -> None:
        """Mark leaves redacted and forget the subject they were about; their leaf hashes stay."""
        entries = schema.log_entries.c
        tx.connection.execute(
            update(schema.log_entries)
            .where(entries.leaf_index.in_(leaf_indexes))
            .values(redacted_at=now, subject_kind=None, subject_id=None)
        )

    def interior_nodes(self, level: int, first: int, last: int) -> dict[int, bytes]:
        """Stored nodes of one level with index in ``[first, last)`` (plain SQL: verification reads them all)."""
        mark = "?" if self.database.is_sqlite else "%s"
        with self.database.reader.connect() as connection:
            cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            try:
                cursor.execute(
                    f"SELECT idx, hash FROM log_nodes WHERE level = {mark} AND idx >= {mark} AND idx < {mark}",  # noqa: S608
                    (level, first, last),
                )
                return {index: bytes(value) for index, value in cursor.fetchall()}
            finally:
                cursor.close()


def _size(connection: Connection) -> int:
    last = connection.execute(select(func.max(schema.log_entries.c.leaf_index))).scalar()
    return 0 if last is None else int(last) + 1
