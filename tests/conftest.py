"""Shared fixtures: one real embedded Postgres per test session, migrated with Alembic."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# Every app under test runs with this bootstrap admin key; tests.clients.api_client sends it.
os.environ["LODESTAR_ADMIN_KEY"] = "test-admin-key-of-the-lodestar-suite"
# Search's int8 query encoder is exported once per machine for all the tests' data dirs (the
# export checks its source model and recipe, so a stale one is made again).
os.environ.setdefault("LODESTAR_ENCODER_ONNX_DIR",
                      str(Path(tempfile.gettempdir()) / "lodestar-tests-encoders"))

from indexing.encoder import SentenceEncoder
from models.db import Database, migrate, open_database
from models.settings import Settings
from models.tenancy import as_owner

# Emptied between modules; service_secrets is not: a migration makes its one row.
TABLES = ("events", "search_events", "products", "users", "index_versions", "embedding_cache",
          "tuning",
          "jobs", "deleted_products", "api_keys", "audit_log", "rate_counters", "erasures",
          "experiments", "exposures")


@pytest.fixture(scope="session")
def pg_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings whose data dir is private to this test session (DATABASE_URL honoured)."""
    data_dir: Path = tmp_path_factory.mktemp("lodestar")
    return Settings.from_env(data_dir=data_dir)


@pytest.fixture(scope="session")
def database(pg_settings: Settings) -> Iterator[Database]:
    db = open_database(pg_settings)
    migrate(db)
    yield db
    db.close()


def empty_tables(database: Database) -> None:
    """Empty every table of every shop (as the owner: the service's role may not)."""
    with as_owner(), database.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(TABLES)}"))


@pytest.fixture
def db(database: Database) -> Database:
    """The session database, emptied before each test that asks for it."""
    empty_tables(database)
    return database


@pytest.fixture(scope="session")
def encoder() -> SentenceEncoder:
    """The real packaged sentence encoder, loaded once per test session."""
    return SentenceEncoder()
