"""Storage of the verifiable index: each key's entries with their chain hashes, and the signed index checkpoints.

The entries of a batch are written in the transaction that integrates it
(``LogStore.integrate``), so the index never lags or leads the log. Only the
map's leaves are stored (a key's chain after each of its entries); the sparse
Merkle tree over them is rebuilt in memory from the chains when a sequencer
starts or an export needs the index at an older size (``values_at``), and
updated a key at a time after that.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from share_gateway.domain.errors import InvalidState
from share_gateway.domain.events import EventSummary, summarise
from share_gateway.ledger.index import IndexEntry, extend_chain, key_hash, keys_of
from share_gateway.store import schema
from share_gateway.store.database import Database

# Keys per statement when reading chains back (well under SQLite's and PostgreSQL's parameter limits).
_KEYS_PER_READ = 500


def summaries(bodies: Sequence[bytes]) -> list[EventSummary | None]:
    """What the index reads of each event; None for one that does not parse (indexed under no key, as the audit
    recomputes it)."""
    read: list[EventSummary | None] = []
    for body in bodies:
        try:
            read.append(summarise(body))
        except ValueError:
            read.append(None)
    return read


def keyed_entries(first_leaf: int, read: Sequence[EventSummary | None]) -> list[tuple[bytes, IndexEntry]]:
    """(key hash, entry) of each key of each event, leaf ``first_leaf`` onwards."""
    keyed = []
    for offset, summary in enumerate(read):
        if summary is not None:
            entry = IndexEntry.of(first_leaf + offset, summary)
            keyed += [(key_hash(key), entry) for key in keys_of(summary)]
    return keyed


def index_batch(connection: Connection, keyed: Sequence[tuple[bytes, IndexEntry]]) -> dict[bytes, bytes]:
    """Write the entries of one integrated batch; return each touched key's new chain hash.

    The rows go straight to the DBAPI cursor as plain bytes, ints and text (which both drivers take as they
    are): per-row statement machinery would cost more than the hashing.
    """
    chains = _latest_chains(connection, sorted({k for k, _ in keyed}))
    rows = []
    for hashed, entry in keyed:
        chain = extend_chain(chains.get(hashed, bytes(32)), entry)
        chains[hashed] = chain
        rows.append((hashed, entry.leaf_index, entry.at, chain))
    if rows:
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            if connection.dialect.name == "sqlite":
                cursor.executemany(
                    "INSERT INTO index_entries (key_hash, leaf_index, at, chain) VALUES (?, ?, ?, ?)", rows
                )
            else:  # one statement for the batch: psycopg's executemany pays a round trip a row
                cursor.execute(
                    "INSERT INTO index_entries (key_hash, leaf_index, at, chain)"
                    " SELECT * FROM unnest(%s::bytea[], %s::bigint[], %s::text[], %s::bytea[])",
                    [list(column) for column in zip(*rows, strict=True)],
                )
        finally:
            cursor.close()
    return {hashed: chains[hashed] for hashed, _ in keyed}


def _latest_chains(connection: Connection, hashes: Sequence[bytes]) -> dict[bytes, bytes]:
    """Each key's chain after its last entry (keys with none are left out), read through the primary key."""
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if connection.dialect.name != "sqlite":
            cursor.execute(
                "SELECT DISTINCT ON (key_hash) key_hash, chain FROM index_entries WHERE key_hash = ANY(%s)"
                " ORDER BY key_hash, leaf_index DESC",
                [list(hashes)],
            )
            return {bytes(key): bytes(chain) for key, chain in cursor.fetchall()}
        chains: dict[bytes, bytes] = {}
        for start in range(0, len(hashes), _KEYS_PER_READ):
            group = hashes[start : start + _KEYS_PER_READ]
            marks = ", ".join("?" * len(group))
            cursor.execute(
                "SELECT e.key_hash, e.chain FROM index_entries e WHERE e.key_hash IN ("  # noqa: S608 - placeholders
                + marks
                + ") AND e.leaf_index = (SELECT max(leaf_index) FROM index_entries WHERE key_hash = e.key_hash)",
                group,
            )
            chains.update({bytes(key): bytes(chain) for key, chain in cursor.fetchall()})
        return chains
    finally:
        cursor.close()


class IndexStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    def values_at(self, size: int) -> list[tuple[bytes, bytes]]:
        """Every key's (key hash, chain hash) in the index of the log's first ``size`` leaves: reads every entry."""
        table = schema.index_entries.c
        newest = (
            select(table.key_hash, func.max(table.leaf_index).label("last"))
            .where(table.leaf_index < size)
            .group_by(table.key_hash)
            .subquery()
        )
        statement = select(table.key_hash, table.chain).join(
            newest, (newest.c.key_hash == table.key_hash) & (newest.c.last == table.leaf_index)
        )
        with self.database.reader.connect() as connection:
            return [(bytes(row.key_hash), bytes(row.chain)) for row in connection.execute(statement)]

    def entries(self, hashed: bytes, below: int) -> list[IndexEntry]:
        """A key's entries among the log's first ``below`` leaves, in leaf order."""
        table = schema.index_entries.c
        with self.database.reader.connect() as connection:
            rows = connection.execute(
                select(table.leaf_index, table.at)
                .where(table.key_hash == hashed, table.leaf_index < below)
                .order_by(table.leaf_index)
            )
            return [IndexEntry(row.leaf_index, row.at) for row in rows]

    def keys_of_leaves(self, start: int, end: int) -> dict[int, set[bytes]]:
        """The stored key hashes of each leaf in ``[start, end)``: what the audit compares its recomputation with."""
        table = schema.index_entries.c
        keys: dict[int, set[bytes]] = {}
        with self.database.reader.connect() as connection:
            rows = connection.execute(
                select(table.leaf_index, table.key_hash).where(table.leaf_index >= start, table.leaf_index < end)
            )
            for row in rows:
                keys.setdefault(row.leaf_index, set()).add(bytes(row.key_hash))
        return keys

    def add_checkpoint(self, size: int, index_root: bytes, note: bytes, now: datetime) -> None:
        """Store a signed index checkpoint; a second one for the same size must carry the same root."""
        values = {"size": size, "index_root": index_root, "note": note, "published_at": now}
        keep_once_per_size(self.database, schema.index_checkpoints, values, "index_root", "an index checkpoint")

    def latest_checkpoint_note(self) -> tuple[int, bytes] | None:
        table = schema.index_checkpoints.c
        with self.database.reader.connect() as connection:
            row = connection.execute(select(table.size, table.note).order_by(table.size.desc()).limit(1)).first()
        return None if row is None else (int(row.size), bytes(row.note))

    def checkpoint_notes(self) -> list[tuple[int, bytes]]:
        table = schema.index_checkpoints.c
        with self.database.reader.connect() as connection:
            rows = connection.execute(select(table.size, table.note).order_by(table.size))
            return [(int(row.size), bytes(row.note)) for row in rows]


def keep_once_per_size(database: Database, table: Table, values: dict[str, Any], root: str, what: str) -> None:
    """Store a signed note of a size once: two sequencers may publish the same size at once (a leader that lost its
    lock still finishing a step as another takes over), so an existing size is skipped (``ON CONFLICT DO
    NOTHING``) rather than failed, and the root it holds must be this one."""
    with database.writer.begin() as connection:
        dialect_insert = sqlite_insert if database.is_sqlite else postgresql_insert
        connection.execute(dialect_insert(table).values(**values).on_conflict_do_nothing(index_elements=["size"]))
        existing = connection.execute(select(table.c[root]).where(table.c.size == values["size"])).scalar()
    if existing != values[root]:
        raise InvalidState(f"{what} of size {values['size']} with another root exists")
