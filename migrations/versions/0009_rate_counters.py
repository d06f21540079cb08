"""Rate-limit counters shared by every API process of the server profile: one row per
bucket (a key, a client address) and fixed window. UNLOGGED: counters need no crash
safety, and skipping the write-ahead log keeps a request's count cheap.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE UNLOGGED TABLE rate_counters (
            bucket text NOT NULL,
            window_start bigint NOT NULL,
            hits integer NOT NULL,
            PRIMARY KEY (bucket, window_start)
        )
    """)


def downgrade() -> None:
    op.drop_table("rate_counters")
