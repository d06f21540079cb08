"""Index events by session: recommendations read the live session's events each request,
and without it that was a scan of the whole table (about 80 ms at 1M events).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_events_session_time", "events", ["session_id", "occurred_at"],
                    postgresql_where="session_id IS NOT NULL")


def downgrade() -> None:
    op.drop_index("ix_events_session_time", table_name="events")
