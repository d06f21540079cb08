"""Alembic environment and versions: the only way Lodestar's schema changes."""
