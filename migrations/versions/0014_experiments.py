"""Experiments: their definitions, the lists shown under them, and events that say which
list they came from.

- `experiments`: one row per experiment of a shop: the surface it runs on, A/B or
  interleaved, its variants (name, traffic share, setting overrides) as JSON, the salt of
  its assignment hash, its schedule and its fixed horizon (shoppers per variant).
- `exposures`: one row per list served under an experiment (its request id, the variant,
  the shopper or session it was shown to, the products in the order shown and, when
  interleaved, which variant put each there). Written in batches off the request path.
- `events.request_id`: the list response an event names, stored so that clicks and buys
  can be attributed to the list that showed the product (it was checked and echoed only).

Both new tables belong to a shop like every tenant table (row-level security, the shop
from the transaction's `lodestar.shop`).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

ROLE = "lodestar_app"
SHOP = "current_setting('lodestar.shop', true)"


def upgrade() -> None:
    tz = sa.DateTime(timezone=True)
    shop = sa.Column("shop_id", sa.Text, nullable=False, server_default=sa.text(SHOP))
    op.create_table(
        "experiments",
        shop,
        sa.Column("experiment_id", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("surface", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("variants", sa.dialects.postgresql.JSONB, nullable=False),
        sa.Column("salt", sa.Text, nullable=False),
        sa.Column("horizon_shoppers", sa.Integer, nullable=False),
        sa.Column("created_at", tz, nullable=False, server_default=sa.func.now()),
        sa.Column("start_at", tz, nullable=False),
        sa.Column("stop_at", tz, nullable=True),
        sa.PrimaryKeyConstraint("shop_id", "experiment_id"),
        sa.CheckConstraint("kind IN ('ab', 'interleave')", name="known_experiment_kind"),
        sa.CheckConstraint("stop_at IS NULL OR stop_at > start_at", name="stops_after_start"),
    )
    op.create_table(
        "exposures",
        sa.Column("shop_id", sa.Text, nullable=False, server_default=sa.text(SHOP)),
        sa.Column("request_id", sa.Text, nullable=False),
        sa.Column("experiment_id", sa.Text, nullable=False),
        sa.Column("variant", sa.Text, nullable=False),
        sa.Column("surface", sa.Text, nullable=False),
        sa.Column("unit", sa.Text, nullable=False),
        sa.Column("user_id", sa.Text, nullable=True),
        sa.Column("session_id", sa.Text, nullable=True),
        sa.Column("items", sa.dialects.postgresql.ARRAY(sa.Text), nullable=False),
        sa.Column("teams", sa.dialects.postgresql.ARRAY(sa.Text), nullable=True),
        sa.Column("shown_at", tz, nullable=False),
        sa.PrimaryKeyConstraint("shop_id", "request_id"),
    )
    op.create_index("ix_exposures_experiment", "exposures",
                    ["shop_id", "experiment_id", "unit"])
    op.create_index("ix_exposures_user_time", "exposures", ["shop_id", "user_id", "shown_at"],
                    postgresql_where=sa.text("user_id IS NOT NULL"))
    op.create_index("ix_exposures_session_time", "exposures",
                    ["shop_id", "session_id", "shown_at"],
                    postgresql_where=sa.text("session_id IS NOT NULL"))
    op.add_column("events", sa.Column("request_id", sa.Text, nullable=True))
    op.create_index("ix_events_request_id", "events", ["shop_id", "request_id"],
                    postgresql_where=sa.text("request_id IS NOT NULL"))
    for table in ("experiments", "exposures"):
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {ROLE}")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY shop_only ON {table} TO {ROLE} "
                   f"USING (shop_id = {SHOP}) WITH CHECK (shop_id = {SHOP})")


def downgrade() -> None:
    op.drop_index("ix_events_request_id", table_name="events")
    op.drop_column("events", "request_id")
    op.drop_table("exposures")
    op.drop_table("experiments")
