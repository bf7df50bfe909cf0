"""Quota buckets shared by every replica: one row per requester, purpose and meter, leased from in batches.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from share_gateway.store.schema import Instant

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quota_buckets",
        sa.Column("bucket", sa.String(200), nullable=False),
        sa.Column("period", sa.String(32), nullable=False),
        sa.Column("level", sa.Float(), nullable=False),
        sa.Column("updated_at", Instant(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", name="pk_quota_buckets"),
    )


def downgrade() -> None:
    op.drop_table("quota_buckets")
