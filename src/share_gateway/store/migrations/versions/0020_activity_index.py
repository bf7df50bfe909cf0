"""The officers' activity summary counts integrated events per UTC day, kind, purpose and outcome over a time
range: an index on (occurred_at, kind, purpose, outcome) answers it from the index alone, without reading a
row of ``log_entries``, so the console's overview stays fast at a million events. Nothing stored changes.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

NAME = "ix_log_entries_occurred_at_kind_purpose_outcome"


def upgrade() -> None:
    op.create_index(NAME, "log_entries", ["occurred_at", "kind", "purpose", "outcome"])


def downgrade() -> None:
    op.drop_index(NAME, table_name="log_entries")
