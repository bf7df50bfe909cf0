"""Replay nonces are the asking region's: keyed by (origin, nonce), so no region's nonce blocks another's.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("peer_nonces") as nonces:
        nonces.drop_constraint("pk_peer_nonces", type_="primary")
        nonces.create_primary_key("pk_peer_nonces", ["origin", "nonce"])


def downgrade() -> None:
    """Only while no nonce is held for two origins (the old key cannot hold both)."""
    with op.batch_alter_table("peer_nonces") as nonces:
        nonces.drop_constraint("pk_peer_nonces", type_="primary")
        nonces.create_primary_key("pk_peer_nonces", ["nonce"])
