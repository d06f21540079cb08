"""Initial schema: products, users, events, index versions, embedding cache.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "products",
        sa.Column("product_id", sa.Text, primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("category", sa.Text, nullable=False),
        sa.Column("subcategory", sa.Text, nullable=False, server_default=""),
        sa.Column("brand", sa.Text, nullable=False, server_default=""),
        sa.Column("price", sa.Numeric(12, 2), nullable=False),
        sa.Column("tags", postgresql.ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("in_stock", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("promoted", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("price >= 0", name="price_not_negative"),
    )
    op.create_index("ix_products_category_brand", "products", ["category", "brand"])
    op.create_index("ix_products_updated_at", "products", ["updated_at"])

    op.create_table(
        "users",
        sa.Column("user_id", sa.Text, primary_key=True),
        sa.Column("created_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("cohort", sa.Text, nullable=True),
    )

    # No foreign keys on events: events may arrive before the catalog row they refer to
    # (imports in any order), and high-rate ingest should not pay for the checks.
    op.create_table(
        "events",
        sa.Column("event_id", sa.Text, primary_key=True),
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("product_id", sa.Text, nullable=False),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("occurred_at", TZ, nullable=False),
        sa.Column("session_id", sa.Text, nullable=True),
        sa.Column("device_type", sa.Text, nullable=True),
        sa.Column("dwell_ms", sa.Integer, nullable=True),
        sa.Column("price", sa.Numeric(12, 2), nullable=True),
        sa.CheckConstraint(
            "event_type IN ('view', 'click', 'add_to_cart', 'purchase')",
            name="known_event_type",
        ),
        sa.CheckConstraint("dwell_ms IS NULL OR dwell_ms >= 0", name="dwell_not_negative"),
    )
    op.create_index("ix_events_user_time", "events", ["user_id", "occurred_at"])
    op.create_index("ix_events_product_time", "events", ["product_id", "occurred_at"])
    op.create_index("ix_events_occurred_at", "events", ["occurred_at"])

    op.create_table(
        "index_versions",
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("items_collection", sa.Text, nullable=False),
        sa.Column("users_collection", sa.Text, nullable=False),
        sa.Column("started_at", TZ, nullable=False, server_default=sa.func.now()),
        sa.Column("built_at", TZ, nullable=True),
        sa.Column("as_of", TZ, nullable=True),
        sa.Column("n_items", sa.Integer, nullable=False, server_default="0"),
        sa.Column("n_items_with_cf", sa.Integer, nullable=False, server_default="0"),
        sa.Column("n_users", sa.Integer, nullable=False, server_default="0"),
        sa.Column("n_events", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("encoder", sa.Text, nullable=False, server_default=""),
        sa.Column("timings", postgresql.JSONB, nullable=False, server_default="{}"),
        sa.Column("settings", postgresql.JSONB, nullable=False, server_default="{}"),
        sa.Column("error", sa.Text, nullable=True),
        sa.CheckConstraint(
            "status IN ('building', 'ready', 'live', 'failed', 'retired')", name="known_status"
        ),
    )
    op.create_index(
        "ux_index_versions_one_live",
        "index_versions",
        ["status"],
        unique=True,
        postgresql_where=sa.text("status = 'live'"),
    )

    op.create_table(
        "embedding_cache",
        sa.Column("encoder", sa.Text, primary_key=True),
        sa.Column("text_hash", sa.LargeBinary, primary_key=True),
        sa.Column("vector", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("embedding_cache")
    op.drop_table("index_versions")
    op.drop_table("events")
    op.drop_table("users")
    op.drop_table("products")
