"""Fixtures of the integration tests: settings with a private data dir on the session's
Postgres, and the vector store they open (a test may define its own instead)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from api.cli import main
from indexing.vectorstore import VectorStore, open_vector_store
from models.db import Database
from models.settings import Settings


@pytest.fixture
def settings(tmp_path: Path, pg_settings: Settings) -> Settings:
    return Settings.from_env(data_dir=tmp_path, database_url=pg_settings.storage.database_url,
                             als_iterations=5)


@pytest.fixture
def store(settings: Settings) -> Iterator[VectorStore]:
    s = open_vector_store(settings)
    yield s
    s.close()


@pytest.fixture
def run_cli(db: Database, tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[list[str]], int]]:
    """`lodestar` as a command against the test's database, with a data dir of its own;
    the logging the command configures is let go afterwards."""
    monkeypatch.setenv("DATABASE_URL", db.url)
    monkeypatch.setenv("LODESTAR_DATA_DIR", str(tmp_path / "cli"))
    monkeypatch.delenv("QDRANT_URL", raising=False)
    yield main
    logging.getLogger().handlers.clear()
