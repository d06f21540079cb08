"""GET /v1/search over a reindexed tiny shop: retrieval, filters, facets, query handling and
the shopper's rerank, through the real Postgres, engine and encoder."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import text

from api.resources import Resources

Client = TestClient  # type: ignore[type-arg]


def _search(client: Client, **params: Any) -> dict[str, Any]:
    response = client.get("/v1/search", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _product(resources: Resources, where: str = "TRUE") -> dict[str, Any]:
    with resources.database.engine.connect() as conn:
        row = conn.execute(text(
            "SELECT product_id, title, brand, category, subcategory, price FROM products"
            f" WHERE {where} ORDER BY product_id LIMIT 1")).one()
    product = dict(row._mapping)
    product["price"] = float(product["price"])
    return product


def _title_words(title: str) -> str:
    return title.split(" — ", maxsplit=1)[0]


def test_a_product_is_found_by_its_title(client: Client, resources: Resources) -> None:
    product = _product(resources)
    body = _search(client, q=_title_words(product["title"]), limit=5)
    ids = [item["product_id"] for item in body["items"]]
    assert product["product_id"] in ids[:3]
    first = next(i for i in body["items"] if i["product_id"] == product["product_id"])
    assert first["reason"]["matched"] == ["lexical", "semantic"]
    assert first["reason"]["kind"] == "matched_words_and_meaning"
    assert body["personalised"] is False
    assert body["model_version"] is not None and len(body["request_id"]) == 32


def test_case_accents_and_spaces_do_not_matter(client: Client, resources: Resources) -> None:
    product = _product(resources)
    words = _title_words(product["title"])
    plain = _search(client, q=words, limit=10)
    shouted = _search(client, q="  " + words.upper().replace("E", "É") + "   ", limit=10)
    assert [i["product_id"] for i in shouted["items"]] == [i["product_id"] for i in plain["items"]]
    assert shouted["query"] == plain["query"]


def test_a_typo_in_the_brand_is_corrected(client: Client, resources: Resources) -> None:
    product = _product(resources, "length(brand) >= 6 AND position(' ' in brand) = 0")
    brand = product["brand"].lower()
    typo = brand[0] + brand[2] + brand[1] + brand[3:]  # two letters swapped
    body = _search(client, q=typo, limit=10)
    assert body["corrections"] == {typo: brand}
    with resources.database.engine.connect() as conn:
        n_brand = conn.execute(text("SELECT count(*) FROM products WHERE brand = :b"),
                               {"b": product["brand"]}).scalar_one()
    top = body["items"][:min(5, n_brand)]
    assert top and {i["brand"] for i in top} == {product["brand"]}


def test_filters_hold_for_both_retrievers(client: Client, resources: Resources) -> None:
    product = _product(resources)
    body = _search(client, q=product["subcategory"], category=product["category"],
                   max_price=product["price"] * 1.5, in_stock="true", limit=50)
    assert body["items"]
    for item in body["items"]:
        assert item["category"] == product["category"]
        assert item["price"] <= product["price"] * 1.5 + 1e-6
        assert item["in_stock"] is True
    assert [f["value"] for f in body["facets"]["category"]] == [product["category"]]


def test_facets_count_the_whole_matched_set(client: Client, resources: Resources) -> None:
    product = _product(resources)
    body = _search(client, q=product["subcategory"], limit=3)
    assert body["total"] > 3
    assert sum(f["count"] for f in body["facets"]["category"]) == body["total"]
    assert sum(f["count"] for f in body["facets"]["brand"]) == body["total"]
    counts = [f["count"] for f in body["facets"]["brand"]]
    assert counts == sorted(counts, reverse=True)


def test_pages_follow_one_order(client: Client, resources: Resources) -> None:
    query = _product(resources)["subcategory"]
    whole = [i["product_id"] for i in _search(client, q=query, limit=20)["items"]]
    first = [i["product_id"] for i in _search(client, q=query, limit=10)["items"]]
    second = [i["product_id"] for i in _search(client, q=query, limit=10, offset=10)["items"]]
    assert first + second == whole


@pytest.mark.parametrize(("q", "code"), [
    ("", "empty_query"),
    ("   ", "empty_query"),
    ("!!! ???", "empty_query"),
    ("the and of", "no_search_terms"),
    ("x" * 201, "query_too_long"),
])
def test_bad_queries_get_a_clear_400(client: Client, q: str, code: str) -> None:
    response = client.get("/v1/search", params={"q": q})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["details"] == {"parameter": "q"}


def test_bad_parameters_get_a_400(client: Client) -> None:
    assert client.get("/v1/search").status_code == 400
    assert client.get("/v1/search", params={"q": "shoes", "limit": 0}).status_code == 400
    assert client.get("/v1/search", params={"q": "shoes", "limit": 1000}).status_code == 400
    assert client.get("/v1/search", params={"q": "shoes", "offset": -1}).status_code == 400
    response = client.get("/v1/search", params={"q": "shoes", "min_price": 10, "max_price": 5})
    assert response.status_code == 400


def _post_events(client: Client, user: str, session: str, events: list[tuple[str, str]]
                 ) -> None:
    batch = [{"event_id": uuid.uuid4().hex, "user_id": user, "session_id": session,
              "product_id": pid, "event_type": kind} for pid, kind in events]
    response = client.post("/v1/events", json={"events": batch})
    assert response.status_code in (200, 201, 207), response.text


def _brand_heavy_query(resources: Resources) -> tuple[str, str]:
    """A subcategory with several brands, and one of its brands that is not ranked first."""
    with resources.database.engine.connect() as conn:
        sub = conn.execute(text(
            "SELECT subcategory FROM products GROUP BY 1 HAVING count(DISTINCT brand) >= 3"
            " ORDER BY count(*) DESC, 1 LIMIT 1")).scalar_one()
    return str(sub), ""


def test_the_shoppers_session_reorders_results(client: Client, resources: Resources) -> None:
    query, _ = _brand_heavy_query(resources)
    anonymous = _search(client, q=query, limit=30)
    brands = Counter(i["brand"] for i in anonymous["items"])
    # The brand the shopper likes: one the unpersonalised list does not put first.
    liked = next(b for b, _ in brands.most_common() if b != anonymous["items"][0]["brand"])
    with resources.database.engine.connect() as conn:
        liked_products = [r[0] for r in conn.execute(text(
            "SELECT product_id FROM products WHERE brand = :b ORDER BY product_id LIMIT 3"),
            {"b": liked})]
    user, session = f"search-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    _post_events(client, user, session, [(p, "view") for p in liked_products]
                 + [(liked_products[0], "add_to_cart")])
    personal = _search(client, q=query, limit=30, user_id=user, session_id=session)
    assert personal["personalised"] is True
    top = personal["items"][0]
    assert top["brand"] == liked
    assert "brand_affinity" in top["reason"]["lifted_by"]
    # Same matched set, only the order changes.
    assert personal["total"] == anonymous["total"]


def test_a_bought_product_is_not_boosted_again(client: Client, resources: Resources) -> None:
    product = _product(resources)
    user, session = f"buyer-{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    _post_events(client, user, session, [(product["product_id"], "view"),
                                         (product["product_id"], "purchase")])
    body = _search(client, q=_title_words(product["title"]), limit=20, user_id=user)
    assert body["personalised"] is True
    bought = next(i for i in body["items"] if i["product_id"] == product["product_id"])
    assert bought["reason"]["lifted_by"] == []


def test_a_shopper_without_history_gets_the_plain_order(client: Client,
                                                        resources: Resources) -> None:
    query = _product(resources)["subcategory"]
    plain = _search(client, q=query, limit=20)
    stranger = _search(client, q=query, limit=20, user_id="never-seen-before")
    assert stranger["personalised"] is False
    assert [i["product_id"] for i in stranger["items"]] == [i["product_id"]
                                                            for i in plain["items"]]


def test_a_model_number_finds_its_product_first(client: Client, resources: Resources) -> None:
    with resources.database.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT product_id, brand, title FROM products WHERE title ~ ' [A-Z]{2}-[0-9]{3} '"
            " ORDER BY product_id")).all()
    assert rows, "the tiny shop has products with model numbers"
    for product_id, brand, title in rows[:5]:
        model = title.split(" ")[len(brand.split(" "))]
        body = _search(client, q=f"{brand} {model}", limit=3)
        assert body["items"][0]["product_id"] == product_id or model in body["items"][0]["title"]


def test_a_repeated_query_reuses_its_embedding(client: Client, resources: Resources) -> None:
    query = _product(resources)["subcategory"] + " deals"
    before = resources.query_embeddings.misses
    _search(client, q=query)
    _search(client, q=query.upper())  # the same query once normalised
    assert resources.query_embeddings.misses == before + 1
    metrics = client.get("/metrics").text
    assert "lodestar_query_embedding_hits" in metrics
