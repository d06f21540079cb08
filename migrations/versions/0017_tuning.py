"""Per-shop tuned training settings: what `lodestar tune` found best on the shop's own
validation window, applied by every later reindex of that shop.

- `tuning`: one row per shop: the winning settings (named as overrides name them) and
  the search's report (every trial and its score), and when it ran.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

ROLE = "lodestar_app"
SHOP = "current_setting('lodestar.shop', true)"


def upgrade() -> None:
    op.create_table(
        "tuning",
        sa.Column("shop_id", sa.Text, nullable=False, server_default=sa.text(SHOP)),
        sa.Column("settings", sa.dialects.postgresql.JSONB, nullable=False),
        sa.Column("report", sa.dialects.postgresql.JSONB, nullable=False),
        sa.Column("tuned_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("shop_id"),
    )
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON tuning TO {ROLE}")
    op.execute("ALTER TABLE tuning ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY shop_only ON tuning TO {ROLE} "
               f"USING (shop_id = {SHOP}) WITH CHECK (shop_id = {SHOP})")


def downgrade() -> None:
    op.drop_table("tuning")
