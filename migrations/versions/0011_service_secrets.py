"""Secrets the service makes for itself, shared by every process through Postgres: the
key that signs the `request_id` of every list response, so that an event can only name a
request this deployment really answered.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "service_secrets",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("value", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )
    op.bulk_insert(table, [{"name": "request_id", "value": secrets.token_bytes(32)}])


def downgrade() -> None:
    op.drop_table("service_secrets")
