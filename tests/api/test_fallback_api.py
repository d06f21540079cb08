"""The stale-model guard through the real stack: with an index too old, missing or
failing, recommendations still succeed, from popularity in Postgres, and say so."""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import text

from api.app import create_app
from api.resources import Resources
from indexing.vectorstore import open_vector_store
from retrieval.live_index import LiveIndex
from tests.clients import api_client

Client = TestClient  # type: ignore[type-arg]


def client_for(resources: Resources, **overrides: Any) -> Iterator[Client]:
    settings = resources.settings.replace(index_poll_seconds=3600.0, **overrides)
    served = Resources(settings=settings, database=resources.database, store=resources.store,
                       index=resources.index, encoder=resources.encoder())
    with api_client(create_app(resources=served)) as c:
        yield c


@pytest.fixture(scope="module")
def stale(resources: Resources) -> Iterator[Client]:
    yield from client_for(resources, index_max_age_hours=0.0)


def metric(client: Client, line_start: str) -> float:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_a_stale_index_answers_with_popularity_from_postgres(
    stale: Client, resources: Resources
) -> None:
    body = stale.get("/v1/users/U000001/recommendations?limit=10").json()
    assert body["strategy"] == "fallback"
    assert body["model_version"] is None
    assert len(body["items"]) == 10
    assert all(i["in_stock"] for i in body["items"])
    assert max(Counter(i["category"] for i in body["items"]).values()) <= 3
    category = body["items"][0]["category"]
    only = stale.get("/v1/users/U000001/recommendations",
                     params={"category": category, "limit": 5}).json()
    assert only["items"] and all(i["category"] == category for i in only["items"])
    assert {i["reason"]["kind"] for i in only["items"]} == {"popular_in_category"}


def test_ready_and_metrics_say_the_index_is_stale(stale: Client) -> None:
    stale.get("/v1/users/U000002/recommendations")
    ready = stale.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["index_stale"] is True and ready.json()["index_age_hours"] >= 0
    assert metric(stale, "lodestar_index_stale") == 1.0
    assert metric(stale, 'lodestar_recommendations_fallback_total{cause="stale_index"}') >= 1


def test_a_fresh_index_is_not_stale(client: Client) -> None:
    assert client.get("/ready").json()["index_stale"] is False
    assert client.get("/v1/users/U000001/recommendations").json()["strategy"] != "fallback"


def test_a_failing_vector_store_falls_back(resources: Resources) -> None:
    broken = open_vector_store(resources.settings)
    broken.close()  # every call now fails, as a store that went away does
    served = Resources(settings=resources.settings.replace(
                                                    index_poll_seconds=3600.0),
                       database=resources.database, store=broken, index=resources.index)
    with api_client(create_app(resources=served)) as c:
        body = c.get("/v1/users/U000001/recommendations?limit=5").json()
        assert body["strategy"] == "fallback" and len(body["items"]) == 5
        failed = 'lodestar_recommendations_fallback_total{cause="vector_store_failed"}'
        assert metric(c, failed) == 1


def test_no_live_index_falls_back(resources: Resources) -> None:
    served = Resources(settings=resources.settings.replace(
                                                    index_poll_seconds=3600.0),
                       database=resources.database, store=resources.store,
                       index=LiveIndex(resources.database))  # never refreshed: no version
    with api_client(create_app(resources=served)) as c:
        body = c.get("/v1/users/U000001/home").json()
        assert body["strategy"] == "fallback" and body["rows"][0]["items"]


def _title_of_some_product(resources: Resources) -> str:
    with resources.database.engine.connect() as conn:
        return str(conn.execute(text(
            "SELECT title FROM products ORDER BY product_id LIMIT 1")).scalar_one())


def test_search_without_a_vector_store_answers_from_postgres(resources: Resources) -> None:
    broken = open_vector_store(resources.settings)
    broken.close()
    served = Resources(settings=resources.settings.replace(
                                                    index_poll_seconds=3600.0),
                       database=resources.database, store=broken, index=resources.index,
                       encoder=resources.encoder())
    title = _title_of_some_product(resources)
    with api_client(create_app(resources=served)) as c:
        response = c.get("/v1/search", params={"q": title.split(" — ")[0], "user_id": "U000001"})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["strategy"] == "lexical" and body["model_version"] is None
        assert body["personalised"] is False
        assert body["items"][0]["title"] == title
        assert sum(f["count"] for f in body["facets"]["category"]) == body["total"]
        failed = 'lodestar_search_fallback_total{cause="vector_store_failed"}'
        assert metric(c, failed) == 1


def test_search_with_no_live_index_answers_from_postgres(resources: Resources) -> None:
    served = Resources(settings=resources.settings.replace(
                                                    index_poll_seconds=3600.0),
                       database=resources.database, store=resources.store,
                       index=LiveIndex(resources.database), encoder=resources.encoder())
    with api_client(create_app(resources=served)) as c:
        body = c.get("/v1/search", params={"q": "shoes"}).json()
        assert body["strategy"] == "lexical"
        assert all(i["reason"]["matched"] == ["lexical"] for i in body["items"])


def _popular_in_stock_product(resources: Resources) -> str:
    with resources.database.engine.connect() as conn:
        return str(conn.execute(text(
            "SELECT p.product_id FROM events e JOIN products p USING (product_id) "
            "WHERE p.in_stock GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")).scalar_one())


@pytest.mark.parametrize("cause", ["vector_store_failed", "no_index"])
def test_every_list_answers_from_postgres_when_the_index_cannot(
    resources: Resources, cause: str
) -> None:
    store, index = resources.store, resources.index
    if cause == "vector_store_failed":
        store = open_vector_store(resources.settings)
        store.close()  # every call now fails, as a store that went away does
    else:
        index = LiveIndex(resources.database)  # never refreshed: no version
    served = Resources(settings=resources.settings.replace(index_poll_seconds=3600.0),
                       database=resources.database, store=store, index=index,
                       encoder=resources.encoder())
    product = _popular_in_stock_product(resources)
    with api_client(create_app(resources=served)) as c:
        for path, surface in ((f"/v1/products/{product}/similar?limit=5", "similar"),
                              (f"/v1/products/{product}/bought-together?limit=5",
                               "bought_together"),
                              (f"/v1/cart/recommendations?items={product}&limit=5", "cart"),
                              ("/v1/trending?limit=5", "trending")):
            response = c.get(path)
            assert response.status_code == 200, (path, response.text)
            body = response.json()
            assert body["strategy"] == "fallback" and body["model_version"] is None
            assert len(body["items"]) == 5, path
            assert product not in {i["product_id"] for i in body["items"]} or (
                surface == "trending")
            assert metric(c, f'lodestar_list_fallback_total{{cause="{cause}",'
                             f'surface="{surface}"}}') == 1
        trending = c.get("/v1/trending?limit=10").json()["items"]
        assert all(i["in_stock"] for i in trending)
        assert max(Counter(i["category"] for i in trending).values()) <= 3
        category = trending[0]["category"]
        within = c.get("/v1/trending", params={"category": category, "limit": 3}).json()
        assert {i["category"] for i in within["items"]} == {category}
        assert c.get("/v1/products/NO-SUCH/similar").status_code == 404
        assert c.get("/v1/users/U000001/home").status_code == 200
        again = c.get("/v1/users/U000001/buy-again")
        assert again.status_code == 200, again.text
        assert again.json()["strategy"] == "frequency_recency"
        assert again.json()["model_version"] is None


class SilentServer:
    """A TCP port that accepts connections and never answers: a Qdrant server that hangs.
    `connections` counts the connections it has accepted so far."""

    def __init__(self) -> None:
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.settimeout(0.05)
        self._accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                self._accepted.append(self._listener.accept()[0])
            except OSError:
                continue

    @property
    def connections(self) -> int:
        time.sleep(0.3)  # lets the accept loop take whatever is queued
        return len(self._accepted)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for conn in self._accepted:
            conn.close()
        self._listener.close()


@pytest.fixture
def silent_server() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


@pytest.mark.parametrize("retry_seconds", [600.0, 0.0])
def test_a_hanging_qdrant_server_costs_one_timeout_then_lists_skip_it(
    resources: Resources, silent_server: SilentServer, retry_seconds: float
) -> None:
    settings = resources.settings.replace(index_poll_seconds=3600.0, qdrant_url=silent_server.url,
                                          qdrant_timeout_seconds=1,
                                          qdrant_retry_seconds=retry_seconds)
    hanging = open_vector_store(settings, serving=True)
    served = Resources(settings=settings, database=resources.database, store=hanging,
                       index=resources.index)
    try:
        with api_client(create_app(resources=served)) as c:
            started = time.monotonic()
            response = c.get("/v1/users/U000001/recommendations?limit=5")
            waited = time.monotonic() - started
            assert response.status_code == 200
            assert response.json()["strategy"] == "fallback"
            # Bounded by the setting, not by the client library's 30 s default. Generous: a
            # request may make a few calls and the machine may be slow.
            assert waited < 20
            before = silent_server.connections
            for path in ("/v1/users/U000002/recommendations", "/v1/products/P000001/similar",
                         "/v1/search?q=shirt"):
                assert c.get(path).status_code == 200
            asked_again = silent_server.connections > before
            # Within the retry window the server is not asked; with 0 it is, every time.
            assert asked_again == (retry_seconds == 0)
            failed = 'lodestar_recommendations_fallback_total{cause="vector_store_failed"}'
            assert metric(c, failed) == 2
    finally:
        hanging.close()
