"""The catalog and similar-items endpoints through the app, on real Postgres and Qdrant."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient
from sqlalchemy import text

from api.resources import Resources
from tests.shop import popular_product

Client = TestClient  # type: ignore[type-arg]


def get_ok(client: Client, url: str) -> Any:
    response = client.get(url)
    assert response.status_code == 200, response.text
    return response.json()


def test_health_and_ready(client: Client) -> None:
    assert get_ok(client, "/health") == {"status": "ok"}
    ready = get_ok(client, "/ready")
    assert ready["ready"] is True
    assert ready["index_version"] >= 1


def test_openapi_schema_lists_the_endpoints(client: Client) -> None:
    paths = get_ok(client, "/schema/openapi.json")["paths"]
    assert "/v1/products/{product_id}/similar" in paths


def test_catalog_pages_filter_and_count(client: Client, resources: Resources) -> None:
    _, category = popular_product(resources.database)
    page = get_ok(client, f"/v1/products?category={category}&limit=5&offset=0")
    assert 0 < len(page["items"]) <= 5
    assert all(p["category"] == category for p in page["items"])
    with resources.database.engine.connect() as conn:
        total = conn.execute(text("SELECT count(*) FROM products WHERE category = :c"),
                             {"c": category}).scalar()
    assert page["total"] == total
    second = get_ok(client, f"/v1/products?category={category}&limit=5&offset=5")
    assert {p["product_id"] for p in page["items"]}.isdisjoint(
        p["product_id"] for p in second["items"])


def test_one_product_and_unknown_product(client: Client, resources: Resources) -> None:
    pid, _ = popular_product(resources.database)
    assert get_ok(client, f"/v1/products/{pid}")["product_id"] == pid
    missing = client.get("/v1/products/NOPE-404")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


def test_similar_items_exclude_the_product_and_share_its_kind(
    client: Client, resources: Resources
) -> None:
    pid, category = popular_product(resources.database)
    body = get_ok(client, f"/v1/products/{pid}/similar?limit=10")
    ids = [item["product_id"] for item in body["items"]]
    assert len(ids) == 10
    assert pid not in ids
    assert body["strategy"] == "text+cf"
    assert body["model_version"] >= 1 and body["request_id"]
    scores = [item["score"] for item in body["items"]]
    assert scores == sorted(scores, reverse=True)
    # Text similarity dominates: most neighbours of a product share its category.
    assert sum(item["category"] == category for item in body["items"]) >= 6


def test_similar_items_honour_every_filter(client: Client, resources: Resources) -> None:
    pid, category = popular_product(resources.database)
    body = get_ok(client, f"/v1/products/{pid}/similar?limit=20&category={category}"
                          "&min_price=10&max_price=400&in_stock=true")
    assert body["items"]
    for item in body["items"]:
        assert item["category"] == category
        assert 10 <= item["price"] <= 400
        assert item["in_stock"] is True
    brand = body["items"][0]["brand"]
    by_brand = get_ok(client, f"/v1/products/{pid}/similar?brand={brand}")
    assert by_brand["items"] and all(i["brand"] == brand for i in by_brand["items"])


def test_a_filter_nothing_passes_gives_an_empty_list(client: Client, resources: Resources) -> None:
    pid, _ = popular_product(resources.database)
    body = get_ok(client, f"/v1/products/{pid}/similar?category=No%20Such%20Category")
    assert body["items"] == []


def test_bad_parameters_are_400_naming_the_parameter(client: Client, resources: Resources) -> None:
    pid, _ = popular_product(resources.database)
    for query, name in [("limit=0", "limit"), ("limit=abc", "limit"), ("limit=1000", "limit"),
                        ("min_price=-1", "min_price"), ("in_stock=maybe", "in_stock"),
                        ("min_price=50&max_price=10", "min_price")]:
        response = client.get(f"/v1/products/{pid}/similar?{query}")
        assert response.status_code == 400, query
        error = response.json()["error"]
        assert error["code"] == "invalid_parameter"
        assert name in error["message"], (query, error)


def test_similar_to_an_unknown_product_is_404(client: Client) -> None:
    response = client.get("/v1/products/NOPE-404/similar")
    assert response.status_code == 404
    assert "NOPE-404" in response.json()["error"]["message"]


def test_product_added_after_the_reindex_gets_text_neighbours(
    client: Client, resources: Resources
) -> None:
    pid, category = popular_product(resources.database)
    with resources.database.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO products (product_id, title, description, category, subcategory, "
            "brand, price, tags, created_at) SELECT 'LATE-1', title, description, category, "
            "subcategory, brand, price, tags, now() FROM products WHERE product_id = :p"),
            {"p": pid})
    body = get_ok(client, "/v1/products/LATE-1/similar?limit=5")
    assert body["strategy"] == "text"
    assert body["items"][0]["product_id"] == pid  # its twin by text
    assert all(i["product_id"] != "LATE-1" for i in body["items"])
    assert body["items"][0]["category"] == category


def test_metrics_time_each_route_by_template_and_status(
    client: Client, resources: Resources
) -> None:
    pid, _ = popular_product(resources.database)
    assert client.get(f"/v1/products/{pid}/similar?limit=3").status_code == 200
    assert client.get("/v1/products/NO-SUCH-PRODUCT/similar").status_code == 404
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    lines = response.text.splitlines()
    route = 'path="/v1/products/{product_id}/similar"'

    def series(name: str, status: int) -> list[str]:
        return [line for line in lines if line.startswith(name) and route in line
                and f'status_code="{status}"' in line]

    # One series per route template, not per product id; a histogram with buckets.
    assert series("lodestar_request_duration_seconds_bucket", 200)
    assert series("lodestar_request_duration_seconds_count", 404)
    assert not any("NO-SUCH-PRODUCT" in line for line in lines)
    counted = series("lodestar_requests_total", 200)
    assert counted and float(counted[0].rsplit(" ", 1)[1]) >= 1
    # Lodestar's own: the live index, as gauges.
    assert any(line.startswith("lodestar_index_version ") for line in lines)
