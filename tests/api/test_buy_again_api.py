"""Buy it again through the real stack: intervals learnt at reindex from every shopper,
one shopper's due purchases over HTTP, and its home row."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import text

from api.app import create_app
from api.resources import Resources
from indexing.encoder import SentenceEncoder
from indexing.pipeline import reindex
from indexing.vectorstore import open_vector_store
from indexing.vectorstore.port import point_id
from models.db import Database
from models.settings import Settings
from retrieval.live_index import LiveIndex
from tests.clients import api_client
from tests.conftest import empty_tables
from tests.shop import fill_tiny_shop

Client = TestClient  # type: ignore[type-arg]
NOW = datetime.now(UTC)
COFFEE, SOFA, SOAP = "ba-coffee", "ba-sofa", "ba-soap"
ME = "ba-me"


def _purchases(conn: Any, user: str, product: str, days_ago: list[int],
               kind: str = "purchase") -> None:
    for d in days_ago:
        conn.execute(text(
            "INSERT INTO events (event_id, user_id, product_id, event_type, occurred_at) "
            "VALUES (:e, :u, :p, :k, :t)"),
            {"e": uuid.uuid4().hex, "u": user, "p": product, "k": kind,
             "t": NOW - timedelta(days=d, hours=1)})


@pytest.fixture(scope="module")
def resources(database: Database, encoder: SentenceEncoder,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[Resources]:
    empty_tables(database)
    fill_tiny_shop(database)
    with database.engine.begin() as conn:
        for pid, title, category in ((COFFEE, "Dark roast coffee beans 1kg", "ba-pantry"),
                                     (SOAP, "Olive oil hand soap", "ba-pantry"),
                                     (SOFA, "Three-seat linen sofa", "ba-furniture")):
            conn.execute(text(
                "INSERT INTO products (product_id, title, category, price, created_at) "
                "VALUES (:p, :t, :c, 12.5, :at)"),
                {"p": pid, "t": title, "c": category, "at": NOW - timedelta(days=400)})
        for i in range(12):
            # Everyone buys coffee every two weeks and soap monthly; a sofa once.
            _purchases(conn, f"ba-u{i}", COFFEE, [70, 56, 42, 28, 14 + i % 3])
            _purchases(conn, f"ba-u{i}", SOAP, [90, 60, 30])
            _purchases(conn, f"ba-u{i}", SOFA, [100 + i])
        _purchases(conn, ME, COFFEE, [42, 28, 14])  # last bought 14 days ago: due
        _purchases(conn, ME, SOFA, [200])
        _purchases(conn, ME, SOAP, [30])
        _purchases(conn, ME, SOAP, [29], kind="return")  # returned since
    settings = Settings.from_env(data_dir=tmp_path_factory.mktemp("buy-again"),
                                 als_iterations=5)
    store = open_vector_store(settings)
    reindex(database, store, settings, encoder)
    index = LiveIndex(database, settings.rec.item_cache_items, settings.rec.user_cache)
    res = Resources(settings=settings, database=database, store=store, index=index,
                    encoder=encoder)
    res.index.refresh()
    yield res
    store.close()


@pytest.fixture(scope="module")
def client(resources: Resources) -> Iterator[Client]:
    with api_client(create_app(resources=resources)) as c:
        yield c


def again(client: Client, user: str, **params: Any) -> Any:
    response = client.get(f"/v1/users/{user}/buy-again", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_what_is_due_comes_first_and_what_is_rarely_bought_again_never(
    client: Client, resources: Resources,
) -> None:
    body = again(client, ME)
    ids = [i["product_id"] for i in body["items"]]
    assert ids[:1] == [COFFEE]
    assert SOFA not in ids  # bought once by everyone: never "running low"
    assert SOAP not in ids  # returned since it was bought
    assert body["strategy"] == "buy_again"
    assert body["model_version"] is not None
    assert body["items"][0]["reason"] == {"kind": "buy_again", "product_id": COFFEE,
                                          "category": None}
    # What the index learnt, from everyone: coffee every two weeks, the sofa never again.
    view = resources.index.view
    assert view is not None
    payloads = {str(r.payload["product_id"]): r.payload for r in resources.store.retrieve(
        view.items, [point_id(COFFEE), point_id(SOFA)]) if r.payload}
    assert payloads[COFFEE]["repurchase_days"] == pytest.approx(14, abs=1.5)
    assert payloads[COFFEE]["repurchase_rate"] > 0.8
    assert payloads[SOFA]["repurchase_rate"] < resources.settings.rec.buy_again_min_rate


def test_a_shopper_with_no_purchases_gets_an_empty_list(client: Client) -> None:
    assert again(client, "ba-nobody")["items"] == []
    assert client.get(f"/v1/users/{ME}/buy-again", params={"limit": 0}).status_code == 400


def test_the_home_page_has_a_buy_again_row_without_repeats(client: Client) -> None:
    rows = client.get(f"/v1/users/{ME}/home", params={"per_row": 4}).json()["rows"]
    kinds = [r["kind"] for r in rows]
    assert kinds[:2] == ["picked_for_you", "buy_again"]
    assert rows[1]["title"] == "Buy it again"
    assert COFFEE in {i["product_id"] for i in rows[1]["items"]}
    ids = [i["product_id"] for row in rows for i in row["items"]]
    assert len(ids) == len(set(ids))


def test_a_hidden_product_leaves_the_list(client: Client) -> None:
    response = client.post("/v1/events", json={
        "event_id": uuid.uuid4().hex, "user_id": "ba-u1", "product_id": COFFEE,
        "event_type": "hide", "occurred_at": datetime.now(UTC).isoformat()})
    assert response.status_code == 201, response.text
    assert COFFEE not in {i["product_id"] for i in again(client, "ba-u1")["items"]}
    assert COFFEE in {i["product_id"] for i in again(client, "ba-u2")["items"]}


def test_postgres_alone_answers_by_frequency_and_recency(resources: Resources) -> None:
    settings = resources.settings.replace(index_poll_seconds=3600.0)
    bare = Resources(settings=settings, database=resources.database, store=resources.store,
                     index=LiveIndex(resources.database), encoder=resources.encoder())
    with api_client(create_app(resources=bare)) as c:
        body = again(c, ME)
    assert body["strategy"] == "frequency_recency"
    assert body["model_version"] is None
    ids = [i["product_id"] for i in body["items"]]
    assert ids[0] == COFFEE and SOAP not in ids
