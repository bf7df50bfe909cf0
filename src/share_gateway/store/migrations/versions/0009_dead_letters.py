"""Deliveries that cannot block each other: each outbox row has a state, and a dead letter its reason and time.

Rows already delivered (or closed unsent, which kept why in ``last_error``) take the matching state; every
row still queued stays pending, due when it was due.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from share_gateway.store.schema import Instant

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as outbox:
        outbox.add_column(sa.Column("state", sa.String(16), nullable=False, server_default="pending"))
        outbox.add_column(sa.Column("dead_reason", sa.Text(), nullable=True))
        outbox.add_column(sa.Column("dead_at", Instant(), nullable=True))
    outbox_rows = sa.table(
        "outbox", sa.column("state", sa.String), sa.column("delivered_at"), sa.column("last_error", sa.Text)
    )
    closed = outbox_rows.c.delivered_at.is_not(None)
    op.execute(outbox_rows.update().where(closed, outbox_rows.c.last_error.is_(None)).values(state="delivered"))
    op.execute(outbox_rows.update().where(closed, outbox_rows.c.last_error.is_not(None)).values(state="skipped"))
    op.create_index("ix_outbox_state_next_attempt_at", "outbox", ["state", "next_attempt_at"])
    op.create_index("ix_outbox_peer_record_id", "outbox", ["peer", "record_id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_peer_record_id", "outbox")
    op.drop_index("ix_outbox_state_next_attempt_at", "outbox")
    # A dead letter becomes an ordinary queued delivery again: the old courier retries it.
    with op.batch_alter_table("outbox") as outbox:
        outbox.drop_column("dead_at")
        outbox.drop_column("dead_reason")
        outbox.drop_column("state")
