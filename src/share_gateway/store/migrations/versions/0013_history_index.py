"""A subject's history is read newest first by leaf index: an index on (subject_id, leaf_index) serves the
scan, so a subject with many logged lookups is paged without sorting them all on every page.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_log_entries_subject_id_leaf_index", "log_entries", ["subject_id", "leaf_index"])


def downgrade() -> None:
    op.drop_index("ix_log_entries_subject_id_leaf_index", table_name="log_entries")
