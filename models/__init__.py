"""Storage layer: settings, Postgres tables, engine and the embedded Postgres bootstrap."""
