"""The verifiable log: leaf index and search fields per event, tree nodes, signed checkpoints.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from share_gateway.store.schema import Instant

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "log_entries",
        sa.Column("leaf_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("event_seq", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("occurred_at", Instant(), nullable=False),
        sa.Column("node", sa.String(6), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("subject_kind", sa.String(16)),
        sa.Column("subject_id", sa.String(18)),
        sa.Column("purpose", sa.String(64)),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("redacted_at", Instant()),
        sa.PrimaryKeyConstraint("leaf_index", name="pk_log_entries"),
        sa.UniqueConstraint("event_seq", name="uq_log_entries_event_seq"),
        sa.UniqueConstraint("event_id", name="uq_log_entries_event_id"),
    )
    op.create_index("ix_log_entries_actor_occurred_at", "log_entries", ["actor", "occurred_at"])
    op.create_index("ix_log_entries_subject_id_occurred_at", "log_entries", ["subject_id", "occurred_at"])
    op.create_index("ix_log_entries_occurred_at", "log_entries", ["occurred_at"])
    op.create_table(
        "log_nodes",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name="pk_log_nodes"),
    )
    op.create_table(
        "log_checkpoints",
        sa.Column("size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root", sa.LargeBinary(), nullable=False),
        sa.Column("note", sa.LargeBinary(), nullable=False),
        sa.Column("published_at", Instant(), nullable=False),
        sa.PrimaryKeyConstraint("size", name="pk_log_checkpoints"),
    )


def downgrade() -> None:
    op.drop_table("log_checkpoints")
    op.drop_table("log_nodes")
    op.drop_table("log_entries")
