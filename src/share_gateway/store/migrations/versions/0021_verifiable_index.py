"""The verifiable index: each key's entries with chain hashes, and signed index checkpoints.

A database holding a log gets the index of every leaf it already has, built
here a chunk of leaves at a time, exactly as the sequencer would have built it.
Leaves redacted before this migration no longer name their subject: they are
indexed under their requester only (the stub keeps the actor and the time).
The first index checkpoint is signed by the sequencer when it next publishes.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from share_gateway.domain.canonical import parse_json
from share_gateway.domain.events import EventSummary, parse_instant
from share_gateway.ledger.index import IndexEntry, key_hash, requester_key
from share_gateway.store.index import index_batch, keyed_entries, summaries
from share_gateway.store.schema import Instant

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

_CHUNK = 5_000


def upgrade() -> None:
    op.create_table(
        "index_entries",
        sa.Column("key_hash", sa.LargeBinary(32), primary_key=True),
        sa.Column("leaf_index", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("at", sa.String(27), nullable=False),
        sa.Column("chain", sa.LargeBinary(32), nullable=False),
    )
    op.create_index(op.f("ix_index_entries_leaf_index"), "index_entries", ["leaf_index"])
    op.create_table(
        "index_checkpoints",
        sa.Column("size", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("index_root", sa.LargeBinary, nullable=False),
        sa.Column("note", sa.LargeBinary, nullable=False),
        sa.Column("published_at", Instant(), nullable=False),
    )
    _index_existing_leaves(op.get_bind())


def _index_existing_leaves(connection: sa.Connection) -> None:
    start = 0
    while True:
        rows = connection.execute(
            sa.text(
                "SELECT e.leaf_index, v.body, e.redacted_at IS NOT NULL AS redacted FROM log_entries e"
                " JOIN events v ON v.seq = e.event_seq WHERE e.leaf_index >= :start AND e.leaf_index < :end"
                " ORDER BY e.leaf_index"
            ),
            {"start": start, "end": start + _CHUNK},
        ).all()
        if not rows:
            if start >= _last_leaf(connection):
                return
            start += _CHUNK
            continue
        keyed = []
        for row in rows:
            body = bytes(row.body)
            if row.redacted:
                keyed += _redacted(row.leaf_index, body)
            else:
                keyed += keyed_entries(row.leaf_index, summaries([body]))
        index_batch(connection, keyed)
        start += _CHUNK


def _redacted(leaf_index: int, stub: bytes) -> list[tuple[bytes, IndexEntry]]:
    try:
        doc = parse_json(stub)
        at = parse_instant(doc["at"])
        summary = EventSummary("", "", at, "", doc["actor"], None, None, "", "")
    except (ValueError, KeyError, TypeError):
        return []
    return [(key_hash(requester_key(summary.actor)), IndexEntry.of(leaf_index, summary))]


def _last_leaf(connection: sa.Connection) -> int:
    last = connection.execute(sa.text("SELECT max(leaf_index) FROM log_entries")).scalar()
    return -1 if last is None else int(last)


def downgrade() -> None:
    # The index is derived from the log: dropping it loses nothing the log does not hold.
    op.drop_index(op.f("ix_index_entries_leaf_index"), table_name="index_entries")
    op.drop_table("index_checkpoints")
    op.drop_table("index_entries")
