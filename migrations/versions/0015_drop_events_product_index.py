"""Drop the events index by product: no query reads events by product (per-product figures
come from whole-table scans at reindex time), and every insert paid for it. Measured on a
1M-event shop: inserting 500 events took 10.5 ms with it and 6.9 ms without; it also held
61 MB.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_events_product_time", table_name="events")


def downgrade() -> None:
    op.create_index("ix_events_product_time", "events", ["product_id", "occurred_at"])
