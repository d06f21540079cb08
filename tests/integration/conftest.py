"""Fixtures of the integration tests: settings with a private data dir on the session's
Postgres, and the vector store they open (a test may define its own instead)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from indexing.vectorstore import VectorStore, open_vector_store
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
