"""Revocations pushed to requesters: each requester's acknowledgement of each revocation in its feed.

One new table; nothing existing changes, so a database holding data upgrades as it is (revocations kept
before it simply have no acknowledgement yet, and count as unacknowledged).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from share_gateway.store.schema import Instant

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "revocation_acknowledgements",
        sa.Column("recipient", sa.String(200), nullable=False),
        sa.Column("revocation_seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("acknowledged_at", Instant(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("recipient", "revocation_seq", name="pk_revocation_acknowledgements"),
    )


def downgrade() -> None:
    op.drop_table("revocation_acknowledgements")
