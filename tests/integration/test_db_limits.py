"""A serving process bounds how long a request waits on Postgres; long work does not."""

from __future__ import annotations

import pytest
from sqlalchemy import exc, text

from models.db import Database
from models.tenancy import as_owner


def test_a_serving_engine_cancels_a_statement_past_its_timeout(database: Database) -> None:
    bounded = Database(database.url, pool_size=1, statement_timeout_ms=100, pool_timeout=1)
    unbounded = bounded.unbounded(pool_size=1)
    try:
        with pytest.raises(exc.OperationalError), bounded.engine.connect() as conn:
            conn.execute(text("SELECT pg_sleep(2)"))
        with bounded.engine.connect() as conn:  # the pool recovers: the next one works
            assert conn.execute(text("SELECT 1")).scalar() == 1
        with unbounded.engine.connect() as conn:
            conn.execute(text("SELECT pg_sleep(0.3)"))
    finally:
        bounded.close()
        unbounded.close()


def test_a_failed_statement_does_not_carry_its_values(database: Database) -> None:
    """Errors are logged; the values bound to a statement (shopper ids) must not be."""
    from sqlalchemy.exc import SQLAlchemyError

    with pytest.raises(SQLAlchemyError) as failed, database.engine.connect() as conn:
        conn.execute(text("SELECT 1 / 0 WHERE :who <> ''"), {"who": "shopper-4711"})
    assert "shopper-4711" not in str(failed.value)


def test_the_embedded_server_is_given_its_settings_once(database: Database) -> None:
    if not database.embedded:
        pytest.skip("DATABASE_URL names a server of its own, tuned by its owner")
    from models.db import tune_embedded

    with as_owner(), database.engine.connect() as conn:
        def written() -> dict[str, str]:
            return dict(conn.execute(text(
                "SELECT name, setting FROM pg_file_settings "
                "WHERE sourcefile LIKE '%postgresql.auto.conf'")).all())
        assert written()["shared_buffers"] == "512MB"
        assert written()["max_wal_size"] == "4GB"
        tune_embedded(database.embedded_uri, 256)
        assert written()["shared_buffers"] == "256MB"
        tune_embedded(database.embedded_uri, 512)
        assert written()["shared_buffers"] == "512MB"
