"""Faults injected into the real parts: Postgres stopped mid-traffic and started again;
events replayed, repeated and out of order. A Postgres of its own (in this test's data
dir), so that stopping it leaves the other tests' database alone."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from api.app import create_app
from api.resources import Resources
from indexing.encoder import SentenceEncoder
from indexing.vectorstore import open_vector_store
from models.db import Database, migrate, open_database
from models.settings import Settings
from retrieval.live_index import LiveIndex
from tests.clients import api_client

PRODUCTS = [f"F{i}" for i in range(5)]


@pytest.fixture
def own_postgres(tmp_path: Path, encoder: SentenceEncoder) -> Iterator[tuple[Any, Database]]:
    settings = Settings(data_dir=tmp_path, database_url=None, qdrant_url=None,
                        index_poll_seconds=3600.0, db_pool_timeout_seconds=2.0)
    database = open_database(settings, serving=True)
    migrate(database)
    with database.engine.begin() as conn:
        for pid in PRODUCTS:
            conn.execute(text("INSERT INTO products (product_id, title, category, price, "
                              "created_at) VALUES (:p, 'Thing', 'Home', 5, now())"), {"p": pid})
    store = open_vector_store(settings)
    resources = Resources(settings=settings, database=database, store=store,
                          index=LiveIndex(database), encoder=encoder)
    with api_client(create_app(resources=resources)) as client:
        yield client, database
    store.close()
    database.close()


def event(event_id: str | None = None, **changes: Any) -> dict[str, Any]:
    body = {"event_id": event_id or uuid.uuid4().hex, "user_id": "u1",
            "product_id": PRODUCTS[0], "event_type": "view",
            "occurred_at": "2025-01-01T10:00:00Z"}
    return {**body, **changes}


def stored_ids(database: Database) -> set[str]:
    with database.engine.connect() as conn:
        return {str(r[0]) for r in conn.execute(text("SELECT event_id FROM events"))}


def test_postgres_stopped_mid_traffic_answers_503_then_recovers_losing_nothing(
    own_postgres: tuple[Any, Database],
) -> None:
    client, database = own_postgres
    server = database._server  # the embedded server of this test's data dir
    answered: dict[str, int] = {}

    def post(n: int) -> None:
        for _ in range(n):
            body = event()
            answered[body["event_id"]] = client.post("/v1/events", json=body).status_code

    post(10)
    server.stop()
    try:
        post(10)
        down = client.get("/v1/products")
        assert down.status_code == 503
        assert down.json()["error"]["code"] == "database_unavailable"
        assert int(down.headers["retry-after"]) > 0
    finally:
        server.ensure_postgres_running()
    post(10)
    assert sorted(set(answered.values())) == [201, 503]
    assert list(answered.values())[:10] == [201] * 10
    assert list(answered.values())[10:20] == [503] * 10
    assert list(answered.values())[20:] == [201] * 10  # recovered by itself
    accepted = {eid for eid, status in answered.items() if status == 201}
    assert stored_ids(database) == accepted  # every event answered 2xx is stored; no other
    assert client.get("/v1/products").status_code == 200


def test_replayed_repeated_and_out_of_order_events_are_each_counted_once(
    own_postgres: tuple[Any, Database],
) -> None:
    client, database = own_postgres
    ids = [f"ev-{i}" for i in range(30)]
    bodies = [event(eid, occurred_at=f"2025-01-{1 + i % 28:02d}T10:00:00Z")
              for i, eid in enumerate(ids)]
    shuffled = bodies[::-1]  # newest first: out of order
    first = client.post("/v1/events", json={"events": shuffled}).json()
    assert first["accepted"] == 30
    replay = client.post("/v1/events", json={"events": bodies + bodies[:5]}).json()
    assert (replay["accepted"], replay["duplicates"], replay["rejected"]) == (0, 35, 0)
    for body in bodies[:3]:
        assert client.post("/v1/events", json=body).json()["status"] == "duplicate"
    with database.engine.connect() as conn:
        n, distinct = conn.execute(text(
            "SELECT count(*), count(DISTINCT event_id) FROM events")).one()
    assert n == distinct == 30
