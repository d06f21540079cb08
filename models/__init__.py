"""Storage: settings, tables, engine and embedded Postgres, and the typed SQL queries.

May import ranking only.
"""
