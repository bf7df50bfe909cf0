"""Federation: manifests (installed with rollback protection like catalogs) and peer nonces.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from share_gateway.store.schema import Instant

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


def downgrade() -> None:
    op.drop_table("peer_nonces")
    op.drop_table("manifests")
