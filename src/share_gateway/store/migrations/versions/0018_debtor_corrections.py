"""Correction applications about entries on the courts' list of dishonest judgment debtors (Fa Shi [2017] No. 7
Art. 12), with the court's review. A new table: no stored row changes.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "debtor_corrections",
        sa.Column("application_id", sa.String(36), nullable=False),
        sa.Column("origin_region", sa.String(6), nullable=False),
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.Column("record_type", sa.String(64), nullable=False),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(18), nullable=False),
        sa.Column("applicant", sa.String(200), nullable=False),
        sa.Column("grounds", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("applied_on", sa.Date(), nullable=False),
        sa.Column("review_due", sa.Date(), nullable=False),
        sa.Column("reviewed_on", sa.Date()),
        sa.Column("reviewed_by", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("deletion_due", sa.Date()),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("application_id", name="pk_debtor_corrections"),
    )
    op.create_index(
        "ix_debtor_corrections_origin_region_record_id", "debtor_corrections", ["origin_region", "record_id"]
    )
    op.create_index("ix_debtor_corrections_state", "debtor_corrections", ["state"])


def downgrade() -> None:
    op.drop_index("ix_debtor_corrections_state", "debtor_corrections")
    op.drop_index("ix_debtor_corrections_origin_region_record_id", "debtor_corrections")
    op.drop_table("debtor_corrections")
