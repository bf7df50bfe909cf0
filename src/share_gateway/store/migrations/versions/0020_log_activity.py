"""The officers' overview counts the log's events per UTC day, kind, purpose and outcome: a table of those counts,
added to as the sequencer integrates events, so the overview of a month of a million events reads a few hundred
rows instead of grouping the events each time. The log already integrated is counted here, once.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "log_activity",
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("purpose", sa.String(64), primary_key=True),
        sa.Column("outcome", sa.String(16), primary_key=True),
        sa.Column("events", sa.BigInteger(), nullable=False),
    )
    # The same day as store.activity takes: SQLite keeps an instant as UTC text, PostgreSQL in UTC whatever the zone.
    if op.get_bind().dialect.name == "sqlite":
        day = "substr(occurred_at, 1, 10)"
    else:
        day = "to_char(timezone('UTC', occurred_at), 'YYYY-MM-DD')"
    op.execute(
        "INSERT INTO log_activity (day, kind, purpose, outcome, events)"  # noqa: S608 - no value from outside
        f" SELECT {day}, kind, coalesce(purpose, ''), outcome, count(*) FROM log_entries"
        f" GROUP BY {day}, kind, coalesce(purpose, ''), outcome"
    )


def downgrade() -> None:
    # The counts are derived from log_entries, which keeps everything they were counted from.
    op.drop_table("log_activity")
