"""Repair deadlines as 2025 No. 22 counts them, repair notices' companions, and disputes about wrong records.

``repair_applications.reply_due`` becomes ``result_due``: the day it held (10 working days after the
application) is exactly the whole course's deadline, so stored applications keep their day. New columns
default to empty (no remedy, extension or mandate was ever stored before). ``disputes`` is new.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from share_gateway.store.schema import Instant

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("repair_applications") as applications:
        applications.alter_column("reply_due", new_column_name="result_due", existing_type=sa.Date(), nullable=False)
        applications.add_column(sa.Column("remedy", sa.Text(), nullable=False, server_default=""))
        applications.add_column(sa.Column("extension_reason", sa.Text(), nullable=False, server_default=""))
        applications.add_column(sa.Column("extended_by", sa.Integer(), nullable=False, server_default="0"))
        applications.add_column(sa.Column("mandate_id", sa.String(64), nullable=False, server_default=""))
    op.create_table(
        "disputes",
        sa.Column("dispute_id", sa.String(36), nullable=False),
        sa.Column("origin_region", sa.String(6), nullable=False),
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.Column("record_type", sa.String(64), nullable=False),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(18), nullable=False),
        sa.Column("applicant", sa.String(200), nullable=False),
        sa.Column("claim", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("filed_at", Instant(), nullable=False),
        sa.Column("answer_due", sa.Date(), nullable=False),
        sa.Column("answered_at", Instant()),
        sa.Column("answered_by", sa.String(200), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("corrected_record_id", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("dispute_id", name="pk_disputes"),
    )
    op.create_index("ix_disputes_origin_region_record_id", "disputes", ["origin_region", "record_id"])
    op.create_index("ix_disputes_state", "disputes", ["state"])


def downgrade() -> None:
    op.drop_index("ix_disputes_state", "disputes")
    op.drop_index("ix_disputes_origin_region_record_id", "disputes")
    op.drop_table("disputes")
    with op.batch_alter_table("repair_applications") as applications:
        applications.drop_column("mandate_id")
        applications.drop_column("extended_by")
        applications.drop_column("extension_reason")
        applications.drop_column("remedy")
        applications.alter_column("result_due", new_column_name="reply_due", existing_type=sa.Date(), nullable=False)
