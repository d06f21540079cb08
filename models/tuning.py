"""A shop's tuned training settings in Postgres (table `tuning`, one row per shop)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import text

from models.db import Database
from models.settings import Settings

_SAVE = text("""
    INSERT INTO tuning (settings, report) VALUES (CAST(:settings AS jsonb), CAST(:report AS jsonb))
    ON CONFLICT (shop_id) DO UPDATE
        SET settings = EXCLUDED.settings, report = EXCLUDED.report, tuned_at = now()
""")


def save(database: Database, values: dict[str, Any], report: dict[str, Any]) -> None:
    """Store the shop's winning settings (replacing any earlier) with the search's report."""
    with database.engine.begin() as conn:
        conn.execute(_SAVE, {"settings": json.dumps(values), "report": json.dumps(report)})


def load(database: Database) -> dict[str, Any] | None:
    """The shop's tuned settings, or None when it was never tuned."""
    with database.engine.connect() as conn:
        row = conn.execute(text("SELECT settings FROM tuning")).first()
    return dict(row[0]) if row else None


def clear(database: Database) -> bool:
    """Forget the shop's tuned settings; True if there were some."""
    with database.engine.begin() as conn:
        return conn.execute(text("DELETE FROM tuning")).rowcount > 0


def tuned(database: Database, settings: Settings) -> Settings:
    """`settings` with the shop's tuned values in place (unchanged when never tuned)."""
    values = load(database)
    return settings.replace(**values) if values else settings


VERSION_KEY = "tuned"
"""The key of an index version's recorded settings under which the tuned values it was
built with are kept (beside the full snapshot, which cannot say which values were tuned)."""


def recorded(version_settings: Mapping[str, Any] | None) -> dict[str, Any]:
    """The tuned values an index version records, {} for one built untuned."""
    values = (version_settings or {}).get(VERSION_KEY)
    if not isinstance(values, dict):
        return {}
    return {str(k): v for k, v in values.items() if isinstance(v, int | float)}
