"""Search impressions and clicks, tied to the `request_id` of the search response that
showed the product: what click-through per query and position bias are learnt from.

No foreign key to products: a product may be deleted later and its log must stay. The API
refuses product ids that are not in the catalog when the event is posted.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    tz = sa.DateTime(timezone=True)
    op.create_table(
        "search_events",
        sa.Column("event_id", sa.Text, primary_key=True),
        sa.Column("request_id", sa.Text, nullable=False),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("product_id", sa.Text, nullable=False),
        sa.Column("position", sa.Integer, nullable=True),
        sa.Column("user_id", sa.Text, nullable=True),
        sa.Column("session_id", sa.Text, nullable=True),
        sa.Column("query", sa.Text, nullable=True),
        sa.Column("occurred_at", tz, nullable=False),
        sa.Column("received_at", tz, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("event_type IN ('impression', 'click')",
                           name="known_search_event_type"),
        sa.CheckConstraint("position IS NULL OR position >= 0", name="position_not_negative"),
    )
    op.create_index("ix_search_events_request_id", "search_events", ["request_id"])
    op.create_index("ix_search_events_occurred_at", "search_events", ["occurred_at"])


def downgrade() -> None:
    op.drop_index("ix_search_events_occurred_at", table_name="search_events")
    op.drop_index("ix_search_events_request_id", table_name="search_events")
    op.drop_table("search_events")
