"""Witnessing: what this node last cosigned of each peer's log.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from share_gateway.store.schema import Instant

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "witnessed",
        sa.Column("origin", sa.String(6), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.LargeBinary(), nullable=False),
        sa.Column("note", sa.LargeBinary(), nullable=False),
        sa.Column("cosigned_at", Instant(), nullable=False),
        sa.PrimaryKeyConstraint("origin", name="pk_witnessed"),
    )


def downgrade() -> None:
    op.drop_table("witnessed")
