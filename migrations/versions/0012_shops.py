"""Several shops in one deployment: every shop's row carries its `shop_id`, and Postgres
row-level security is the second wall behind the code's own scoping.

- Every tenant table gets `shop_id` (existing rows: `default`), defaulting to the shop of
  the transaction (`current_setting('lodestar.shop')`), so an insert that does not name it
  lands in the caller's shop; keys that were unique in one shop are unique per shop.
- The service works as the role `lodestar_app` (taken per transaction with SET LOCAL
  ROLE); migrations run as the owner. Policies let that role see and write only rows of
  `lodestar.shop`: a query that forgets the shop sees nothing and writes nothing.
- Shared: the embedding cache (keyed by the text's hash), rate counters, service secrets,
  the shops themselves and the API keys (a key is looked up before its shop is known; the
  code scopes listing and revoking).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

ROLE = "lodestar_app"
SHOP = "current_setting('lodestar.shop', true)"
# table -> its old primary key columns (None: the primary key stays; ids are global)
TENANT_TABLES = {
    "products": ("product_id",),
    "users": ("user_id",),
    "events": ("event_id",),
    "search_events": ("event_id",),
    "deleted_products": ("product_id",),
    "index_versions": None,
    "jobs": None,
    "erasures": None,
    "audit_log": None,
}
SHARED_TABLES = ("embedding_cache", "rate_counters", "service_secrets", "shops", "api_keys",
                 "alembic_version")


def upgrade() -> None:
    op.execute(f"""
        DO $$ BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{ROLE}') THEN
                CREATE ROLE {ROLE} NOLOGIN;
            END IF;
        END $$""")
    op.execute(f"GRANT {ROLE} TO CURRENT_USER")
    op.execute(f"GRANT USAGE ON SCHEMA public TO {ROLE}")
    op.execute(f"DO $$ BEGIN EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO {ROLE}', "
               "current_database()); END $$")
    for table, old_key in TENANT_TABLES.items():
        if table not in ("erasures", "audit_log"):  # those two have it already
            op.execute(f"ALTER TABLE {table} ADD COLUMN shop_id text NOT NULL "
                       "DEFAULT 'default'")
        op.execute(f"ALTER TABLE {table} ALTER COLUMN shop_id SET DEFAULT {SHOP}")
        if old_key is not None:
            op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {table}_pkey")
            op.execute(f"ALTER TABLE {table} ADD PRIMARY KEY (shop_id, {', '.join(old_key)})")
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {ROLE}")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY shop_only ON {table} TO {ROLE} "
                   f"USING (shop_id = {SHOP}) WITH CHECK (shop_id = {SHOP})")
    # One live version and one running job of a kind per shop, not per deployment.
    op.execute("DROP INDEX ux_index_versions_one_live")
    op.execute("CREATE UNIQUE INDEX ux_index_versions_one_live ON index_versions (shop_id) "
               "WHERE status = 'live'")
    op.execute("DROP INDEX ux_jobs_one_active_per_kind")
    op.execute("CREATE UNIQUE INDEX ux_jobs_one_active_per_kind ON jobs (shop_id, kind) "
               "WHERE status = 'running'")
    for table in SHARED_TABLES:
        if table != "alembic_version":
            op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {ROLE}")
    op.execute(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {ROLE}")


def downgrade() -> None:
    op.execute("DROP INDEX ux_jobs_one_active_per_kind")
    op.execute("CREATE UNIQUE INDEX ux_jobs_one_active_per_kind ON jobs (kind) "
               "WHERE status = 'running'")
    op.execute("DROP INDEX ux_index_versions_one_live")
    op.execute("CREATE UNIQUE INDEX ux_index_versions_one_live ON index_versions (status) "
               "WHERE status = 'live'")
    for table, old_key in TENANT_TABLES.items():
        op.execute(f"DROP POLICY shop_only ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
        if old_key is not None:
            op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {table}_pkey")
            op.execute(f"ALTER TABLE {table} ADD PRIMARY KEY ({', '.join(old_key)})")
        if table in ("erasures", "audit_log"):
            op.execute(f"ALTER TABLE {table} ALTER COLUMN shop_id SET DEFAULT 'default'")
        else:
            op.execute(f"ALTER TABLE {table} DROP COLUMN shop_id")
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {ROLE}")
    op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {ROLE}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {ROLE}")
