"""When a version's build read the catalog, and which products were deleted when: a server
that switches to the version re-indexes products written since then and removes those
deleted since, which the build (in another process) may have missed.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("index_versions",
                  sa.Column("catalog_read_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "deleted_products",
        sa.Column("product_id", sa.Text, primary_key=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )
    op.create_index("ix_deleted_products_deleted_at", "deleted_products", ["deleted_at"])


def downgrade() -> None:
    op.drop_index("ix_deleted_products_deleted_at", table_name="deleted_products")
    op.drop_table("deleted_products")
    op.drop_column("index_versions", "catalog_read_at")
