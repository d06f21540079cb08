"""Retention: `lodestar purge --older-than` and LODESTAR_RETENTION_DAYS at each reindex
delete old events and search events, keep recent ones, and say so in the audit log."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from api.cli import main
from indexing.pipeline import apply_retention
from models import audit
from models.db import Database
from models.settings import Settings

NOW = datetime.now(UTC)


def add_events(db: Database, ages_days: list[int]) -> None:
    with db.engine.begin() as conn:
        for age in ages_days:
            at = NOW - timedelta(days=age)
            conn.execute(text("""
                INSERT INTO events (event_id, user_id, product_id, event_type, occurred_at)
                VALUES (:e, 'U1', 'P1', 'view', :t)"""), {"e": uuid.uuid4().hex, "t": at})
            conn.execute(text("""
                INSERT INTO search_events (event_id, request_id, event_type, product_id,
                                           occurred_at)
                VALUES (:e, :r, 'impression', 'P1', :t)"""),
                         {"e": uuid.uuid4().hex, "r": uuid.uuid4().hex, "t": at})


def ages_left(db: Database, table: str) -> list[int]:
    with db.engine.connect() as conn:
        times = conn.execute(text(f"SELECT occurred_at FROM {table}")).scalars().all()
    return sorted(round((NOW - t).total_seconds() / 86_400) for t in times)


def test_purge_deletes_what_is_older_than_asked(
    db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    capsys: pytest.CaptureFixture[str]
) -> None:
    add_events(db, [400, 120, 91, 89, 3])
    monkeypatch.setenv("DATABASE_URL", db.url)
    monkeypatch.setenv("LODESTAR_DATA_DIR", str(tmp_path))
    assert main(["purge"]) == 2  # no age and no retention setting: nothing is guessed
    assert main(["purge", "--older-than", "soon"]) == 2
    assert main(["purge", "--older-than", "90d"]) == 0
    assert "deleted 3 events, 3 search events and 0 experiment exposures" in (
        capsys.readouterr().out)
    assert ages_left(db, "events") == [3, 89]
    assert ages_left(db, "search_events") == [3, 89]
    entry = audit.page(db, "default", 1, action="events.purge")[0]
    assert entry.key_id == audit.CLI_KEY
    assert entry.details["rows"] == {"events": 3, "search_events": 3, "exposures": 0}


def test_retention_runs_with_every_reindex_when_set(db: Database) -> None:
    add_events(db, [40, 20])
    assert apply_retention(db, Settings()) is None  # kept for ever by default
    assert ages_left(db, "events") == [20, 40]
    assert apply_retention(db, Settings(retention_days=30)) == {"events": 1,
                                                                "search_events": 1,
                                                                "exposures": 0}
    assert ages_left(db, "events") == [20]
    assert audit.page(db, "default", 1, action="events.purge")[0].key_id == "retention"
