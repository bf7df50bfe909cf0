"""Foundation: catalogs, institutions and grants, records and the event table.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from share_gateway.store.schema import Instant, Sequence64

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalogs",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("document", sa.LargeBinary(), nullable=False),
        sa.Column("installed_at", Instant(), nullable=False),
        sa.PrimaryKeyConstraint("version", name="pk_catalogs"),
    )
    op.create_table(
        "institutions",
        sa.Column("institution", sa.String(18), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("registered_at", Instant(), nullable=False),
        sa.PrimaryKeyConstraint("institution", name="pk_institutions"),
    )
    op.create_table(
        "grants",
        sa.Column("grant_id", Sequence64, autoincrement=True, nullable=False),
        sa.Column("institution", sa.String(18), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("scope", sa.String(64), nullable=False),
        sa.Column("valid_from", Instant(), nullable=False),
        sa.Column("valid_until", Instant()),
        sa.Column("revoked_at", Instant()),
        sa.Column("granted_at", Instant(), nullable=False),
        sa.PrimaryKeyConstraint("grant_id", name="pk_grants"),
        sa.ForeignKeyConstraint(
            ["institution"], ["institutions.institution"], name="fk_grants_institution_institutions"
        ),
    )
    op.create_index("ix_grants_institution", "grants", ["institution"])
    op.create_table(
        "records",
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.Column("request_key", sa.String(200), nullable=False),
        sa.Column("record_type", sa.String(64), nullable=False),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(18), nullable=False),
        sa.Column("origin_region", sa.String(6), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(32)),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("disclose_until", sa.Date()),
        sa.Column("recorded_at", Instant(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("catalog_version", sa.Integer(), nullable=False),
        sa.Column("submitted_by", sa.String(200), nullable=False),
        sa.Column("legal_document", sa.JSON()),
        sa.Column("openings", sa.JSON(), nullable=False),
        sa.Column("statement", sa.LargeBinary(), nullable=False),
        sa.Column("key_id", sa.String(8), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("changed_at", Instant()),
        sa.Column("change_reason", sa.Text()),
        sa.PrimaryKeyConstraint("record_id", name="pk_records"),
        sa.UniqueConstraint("request_key", name="uq_records_request_key"),
    )
    op.create_index("ix_records_subject_id_subject_kind", "records", ["subject_id", "subject_kind"])
    op.create_table(
        "events",
        sa.Column("seq", Sequence64, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("occurred_at", Instant(), nullable=False),
        sa.Column("node", sa.String(6), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("subject_kind", sa.String(16)),
        sa.Column("subject_id", sa.String(18)),
        sa.Column("purpose", sa.String(64)),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_events"),
    )


def downgrade() -> None:
    op.drop_table("events")
    op.drop_table("records")
    op.drop_table("grants")
    op.drop_table("institutions")
    op.drop_table("catalogs")
