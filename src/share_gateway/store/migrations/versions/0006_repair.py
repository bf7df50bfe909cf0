"""Credit repair: applications, the disclosure ledger, revocations, and revocations in the outbox.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from share_gateway.store.schema import Instant, Sequence64

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as outbox:
        outbox.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="record"))
    op.create_table(
        "disclosure_ledger",
        sa.Column("seq", Sequence64, autoincrement=True, nullable=False),
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.Column("origin_region", sa.String(6), nullable=False),
        sa.Column("recipient", sa.String(200), nullable=False),
        sa.Column("via", sa.String(200), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("disclosed_at", Instant(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_disclosure_ledger"),
    )
    op.create_index("ix_disclosure_ledger_record_id", "disclosure_ledger", ["record_id"])
    op.create_index("ix_disclosure_ledger_recipient_record_id", "disclosure_ledger", ["recipient", "record_id"])
    op.create_table(
        "revocations",
        sa.Column("seq", Sequence64, autoincrement=True, nullable=False),
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.Column("origin_region", sa.String(6), nullable=False),
        sa.Column("statement", sa.LargeBinary(), nullable=False),
        sa.Column("key_id", sa.String(8), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", Instant(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_revocations"),
        sa.UniqueConstraint("origin_region", "record_id", name="uq_revocations_origin_region_record_id"),
    )
    op.create_table(
        "repair_applications",
        sa.Column("application_id", sa.String(36), nullable=False),
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(18), nullable=False),
        sa.Column("applicant", sa.String(200), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("commitment", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("submitted_at", Instant(), nullable=False),
        sa.Column("reply_due", sa.Date(), nullable=False),
        sa.Column("decision_due", sa.Date()),
        sa.Column("decided_at", Instant()),
        sa.Column("decided_by", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("application_id", name="pk_repair_applications"),
    )
    op.create_index("ix_repair_applications_record_id", "repair_applications", ["record_id"])
    op.create_index("ix_repair_applications_state", "repair_applications", ["state"])


def downgrade() -> None:
    op.drop_table("repair_applications")
    op.drop_table("revocations")
    op.drop_table("disclosure_ledger")
    with op.batch_alter_table("outbox") as outbox:
        outbox.drop_column("kind")
