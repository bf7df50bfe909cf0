"""Certificate revocation lists, installed with rollback protection like catalogs and manifests.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from share_gateway.store.schema import Instant

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "revocation_lists",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("document", sa.LargeBinary(), nullable=False),
        sa.Column("installed_at", Instant(), nullable=False),
        sa.PrimaryKeyConstraint("version", name="pk_revocation_lists"),
    )


def downgrade() -> None:
    op.drop_table("revocation_lists")
