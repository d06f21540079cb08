"""Store Yᵀ·Y of each version's item factors, so the API can fold a shopper's new events
into their CF vector without the training library.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("index_versions", sa.Column("cf_gram", sa.LargeBinary, nullable=True))


def downgrade() -> None:
    op.drop_column("index_versions", "cf_gram")
