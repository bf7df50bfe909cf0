"""Origin-scoped identity: a record and a listing are keyed by (origin region, id), and so is a publication's
request key, so a region cannot squat another region's record id at a peer that has not yet received it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A received record was kept under "publication:{record_id}"; it is "publication:{origin}:{record_id}" now,
    # so a retried delivery of a record held before the upgrade still finds it (and writes nothing).
    op.execute(
        "UPDATE records SET request_key = 'publication:' || origin_region || ':' || substr(request_key, 13) "
        "WHERE request_key LIKE 'publication:%'"
    )
    with op.batch_alter_table("records") as records:
        records.drop_constraint("pk_records", type_="primary")
        records.create_primary_key("pk_records", ["origin_region", "record_id"])
    with op.batch_alter_table("listings") as listings:
        listings.drop_index("ix_listings_record_id")
        listings.drop_constraint("pk_listings", type_="primary")
        listings.create_primary_key("pk_listings", ["origin_region", "listing_id"])
        listings.create_index("ix_listings_record_id_origin_region", ["record_id", "origin_region"])


def downgrade() -> None:
    """Only while no id is held for two origins (the old key cannot hold both)."""
    with op.batch_alter_table("listings") as listings:
        listings.drop_index("ix_listings_record_id_origin_region")
        listings.drop_constraint("pk_listings", type_="primary")
        listings.create_primary_key("pk_listings", ["listing_id"])
        listings.create_index("ix_listings_record_id", ["record_id"])
    with op.batch_alter_table("records") as records:
        records.drop_constraint("pk_records", type_="primary")
        records.create_primary_key("pk_records", ["record_id"])
    op.execute("UPDATE records SET request_key = 'publication:' || record_id WHERE request_key LIKE 'publication:%'")
