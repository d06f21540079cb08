"""Erasure of shoppers: one row per request to erase a shopper, kept as the record that it
was done. It names no shopper: `point_id` is the 64-bit hash under which the shopper's
vector sits in the users collections, kept only until no index version built before the
erasure can still go live (a build that read the events before they were deleted).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    tz = sa.DateTime(timezone=True)
    op.create_table(
        "erasures",
        sa.Column("erasure_id", sa.Text, primary_key=True),
        sa.Column("shop_id", sa.Text, nullable=False, server_default="default"),
        sa.Column("point_id", sa.BigInteger, nullable=True),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("requested_at", tz, nullable=False, server_default=sa.func.now()),
        sa.Column("done_at", tz, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.CheckConstraint("status IN ('pending', 'done')", name="known_erasure_status"),
    )
    op.create_index("ix_erasures_pending", "erasures", ["requested_at"],
                    postgresql_where=sa.text("status = 'pending'"))


def downgrade() -> None:
    op.drop_index("ix_erasures_pending", table_name="erasures")
    op.drop_table("erasures")
