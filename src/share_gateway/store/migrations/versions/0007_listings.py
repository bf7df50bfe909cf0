"""The seriously-untrustworthy list: listings, and listings in the outbox.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from share_gateway.store.schema import Instant

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as outbox:
        outbox.add_column(sa.Column("listing_id", sa.String(36), nullable=True))
    op.create_table(
        "listings",
        sa.Column("listing_id", sa.String(36), nullable=False),
        sa.Column("list_name", sa.String(64), nullable=False),
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.Column("origin_region", sa.String(6), nullable=False),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(18), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("changed_at", Instant(), nullable=False),
        sa.PrimaryKeyConstraint("listing_id", name="pk_listings"),
    )
    op.create_index("ix_listings_subject_kind_subject_id", "listings", ["subject_kind", "subject_id"])
    op.create_index("ix_listings_record_id", "listings", ["record_id"])
    op.create_index("ix_listings_state_ends_on", "listings", ["state", "ends_on"])


def downgrade() -> None:
    op.drop_table("listings")
    with op.batch_alter_table("outbox") as outbox:
        outbox.drop_column("listing_id")
