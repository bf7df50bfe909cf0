"""Deliveries claimed by one replica: each outbox row may carry who claimed it and until when.

Replicas of one region share one outbox; a courier claims the rows it is about
to send for a lease and only rows with no live claim are due, so no two
replicas deliver (and log) the same row. A replica that dies mid-delivery
leaves its claim to lapse. Every stored row starts unclaimed: nothing changes.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from share_gateway.store.schema import Instant

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as outbox:
        outbox.add_column(sa.Column("claimed_by", sa.String(64), nullable=True))
        outbox.add_column(sa.Column("claimed_until", Instant(), nullable=True))


def downgrade() -> None:
    # A claim only keeps replicas apart: the old courier, one per region, needs none.
    with op.batch_alter_table("outbox") as outbox:
        outbox.drop_column("claimed_until")
        outbox.drop_column("claimed_by")
