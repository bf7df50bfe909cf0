"""Two ends per record: publication (``publish_until``) and sharing (``share_until``), the day the clock started,
the severity period's days, a decision date that may be absent, and a withdrawal's revoking date and deadline.

A database holding records upgrades as it is: an old row's ``disclose_until`` becomes both ends (the window it
had is kept exactly), its decision date the start, and the days between them its severity period.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


# An old row's one end becomes both, its decision date the start, the days between them its severity period
# (null where it had no end): the days between two dates are written differently by the two databases.
_FILL = "UPDATE records SET share_until = publish_until, period_start = decided_on, period_days = "
_DAYS = {
    "postgresql": _FILL + "publish_until - decided_on",
    "sqlite": _FILL + "CAST(julianday(publish_until) - julianday(decided_on) AS INTEGER)",
}


def upgrade() -> None:
    op.drop_index("ix_records_status_disclose_until", "records")
    with op.batch_alter_table("records") as records:
        records.alter_column("decided_on", existing_type=sa.Date(), nullable=True)
        records.alter_column("disclose_until", new_column_name="publish_until", existing_type=sa.Date())
        records.add_column(sa.Column("share_until", sa.Date()))
        records.add_column(sa.Column("period_start", sa.Date()))
        records.add_column(sa.Column("period_days", sa.Integer()))
        records.add_column(sa.Column("revoked_on", sa.Date()))
        records.add_column(sa.Column("withdrawal_due", sa.Date()))
    op.execute(_DAYS[op.get_bind().dialect.name])
    op.create_index("ix_records_status_share_until", "records", ["status", "share_until"])


def downgrade() -> None:
    """Only while every record has a decision date (the old column required one); sharing past publication and
    withdrawal deadlines are lost."""
    op.drop_index("ix_records_status_share_until", "records")
    with op.batch_alter_table("records") as records:
        records.drop_column("withdrawal_due")
        records.drop_column("revoked_on")
        records.drop_column("period_days")
        records.drop_column("period_start")
        records.drop_column("share_until")
        records.alter_column("publish_until", new_column_name="disclose_until", existing_type=sa.Date())
        records.alter_column("decided_on", existing_type=sa.Date(), nullable=False)
    op.create_index("ix_records_status_disclose_until", "records", ["status", "disclose_until"])
