"""Consents as signed statements: the ones a node registered, and the ones their subjects withdrew.

Two new tables; nothing existing changes, so a database holding data upgrades as it is (no consent was
ever stored before: free-text references only ever lived in the log).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from share_gateway.store.schema import Instant

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consents",
        sa.Column("consent_id", sa.String(32), nullable=False),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(18), nullable=False),
        sa.Column("requester", sa.String(64), nullable=False),
        sa.Column("statement", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("certificate", sa.LargeBinary(), nullable=False),
        sa.Column("registered_at", Instant(), nullable=False),
        sa.PrimaryKeyConstraint("consent_id", name="pk_consents"),
    )
    op.create_index("ix_consents_subject_kind_subject_id", "consents", ["subject_kind", "subject_id"])
    op.create_table(
        "consent_revocations",
        sa.Column("consent_id", sa.String(32), nullable=False),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(18), nullable=False),
        sa.Column("origin_region", sa.String(6), nullable=False),
        sa.Column("revoked_at", Instant(), nullable=False),
        sa.Column("received_at", Instant(), nullable=False),
        sa.PrimaryKeyConstraint("consent_id", name="pk_consent_revocations"),
    )


def downgrade() -> None:
    op.drop_table("consent_revocations")
    op.drop_index("ix_consents_subject_kind_subject_id", "consents")
    op.drop_table("consents")
