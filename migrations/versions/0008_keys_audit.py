"""API keys with scopes, the shops they belong to, and the audit log of admin actions.

Keys are stored as the SHA-256 of their secret part: a key cannot be read back, only
checked. `token_secret` is derived from the key (an HMAC of its secret) and signs the
shopper tokens a shop's backend mints with that key; it lets a database reader mint
shopper tokens, never call the API as the key.

Every key belongs to one shop; a single-shop install only ever sees `default`.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    tz = sa.DateTime(timezone=True)
    op.create_table(
        "shops",
        sa.Column("shop_id", sa.Text, primary_key=True),
        sa.Column("created_at", tz, nullable=False, server_default=sa.func.now()),
    )
    op.execute("INSERT INTO shops (shop_id) VALUES ('default')")
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.Text, primary_key=True),
        sa.Column("shop_id", sa.Text, sa.ForeignKey("shops.shop_id"), nullable=False),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False, server_default=""),
        sa.Column("secret_hash", sa.LargeBinary, nullable=False),
        sa.Column("token_secret", sa.LargeBinary, nullable=False),
        sa.Column("created_at", tz, nullable=False, server_default=sa.func.now()),
        sa.Column("revoked_at", tz, nullable=True),
        sa.CheckConstraint("scope IN ('public', 'server', 'admin')", name="known_scope"),
    )
    op.create_index("ix_api_keys_shop", "api_keys", ["shop_id"])
    op.create_table(
        "audit_log",
        sa.Column("entry_id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("at", tz, nullable=False, server_default=sa.func.now()),
        sa.Column("shop_id", sa.Text, nullable=False),
        sa.Column("key_id", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("target", sa.Text, nullable=False, server_default=""),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("details", JSONB, nullable=False, server_default="{}"),
        sa.CheckConstraint("outcome IN ('ok', 'refused', 'failed')", name="known_outcome"),
    )
    op.create_index("ix_audit_log_shop_entry", "audit_log", ["shop_id", "entry_id"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_shop_entry", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index("ix_api_keys_shop", table_name="api_keys")
    op.drop_table("api_keys")
    op.drop_table("shops")
