"""Federation: manifests (installed with rollback protection like catalogs), peer nonces, the outbox.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from share_gateway.store.schema import Instant, Sequence64

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "manifests",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("document", sa.LargeBinary(), nullable=False),
        sa.Column("installed_at", Instant(), nullable=False),
        sa.PrimaryKeyConstraint("version", name="pk_manifests"),
    )
    op.create_table(
        "peer_nonces",
        sa.Column("nonce", sa.String(64), nullable=False),
        sa.Column("origin", sa.String(6), nullable=False),
        sa.Column("seen_at", Instant(), nullable=False),
        sa.PrimaryKeyConstraint("nonce", name="pk_peer_nonces"),
    )
    op.create_index("ix_peer_nonces_seen_at", "peer_nonces", ["seen_at"])
    op.create_table(
        "outbox",
        sa.Column("seq", Sequence64, autoincrement=True, nullable=False),
        sa.Column("peer", sa.String(6), nullable=False),
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.Column("created_at", Instant(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", Instant(), nullable=False),
        sa.Column("delivered_at", Instant()),
        sa.Column("last_error", sa.Text()),
        sa.PrimaryKeyConstraint("seq", name="pk_outbox"),
    )
    op.create_index("ix_outbox_delivered_at_next_attempt_at", "outbox", ["delivered_at", "next_attempt_at"])


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("peer_nonces")
    op.drop_table("manifests")
