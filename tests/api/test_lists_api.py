"""Bought together and trending through the app, on real Postgres and Qdrant."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import text

from api.resources import Resources
from indexing.interactions import resolve_as_of
from indexing.popularity import popularity_by_device
from indexing.vectorstore.port import point_id

Client = TestClient[Litestar]
Payload = Mapping[str, Any]


def get_ok(client: Client, url: str) -> Any:
    response = client.get(url)
    assert response.status_code == 200, response.text
    return response.json()


def items_by_id(resources: Resources) -> dict[str, Payload]:
    """Every item's payload in the live index."""
    live = resources.index.live
    assert live is not None
    hits = resources.store.top_by(live.items_collection, "popularity", 10_000)
    return {str(h.payload["product_id"]): h.payload for h in hits if h.payload}


def subcategories(resources: Resources) -> dict[str, str]:
    with resources.database.engine.connect() as conn:
        rows = conn.execute(text("SELECT product_id, subcategory FROM products")).all()
    return {str(p): str(s) for p, s in rows}


def in_stock_companions(payload: Payload, items: Mapping[str, Payload]) -> list[str]:
    return [p for p in payload["bought_with"] if items[p]["in_stock"]]


@pytest.fixture(scope="module")
def items(resources: Resources) -> dict[str, Payload]:
    return items_by_id(resources)


@pytest.fixture(scope="module")
def anchor(items: Mapping[str, Payload]) -> str:
    """The product with the most in-stock companions."""
    return max(sorted(items), key=lambda p: len(in_stock_companions(items[p], items)))


# --- bought together ---------------------------------------------------------------------

def test_companions_come_best_first_with_their_reason(
    client: Client, items: Mapping[str, Payload], anchor: str
) -> None:
    companions = in_stock_companions(items[anchor], items)
    assert len(companions) >= 2, "the tiny shop should have products bought together"
    scores = dict(zip(items[anchor]["bought_with"], items[anchor]["bought_with_scores"],
                      strict=True))
    body = get_ok(client, f"/v1/products/{anchor}/bought-together?limit={len(companions)}")
    assert body["strategy"] == "co_purchase"
    assert body["product_id"] == anchor
    assert body["model_version"] >= 1 and body["request_id"]
    assert [i["product_id"] for i in body["items"]] == companions
    assert [i["score"] for i in body["items"]] == [scores[p] for p in companions]
    for item in body["items"]:
        assert item["reason"] == {"kind": "bought_together", "product_id": anchor,
                                  "category": None}


def test_too_few_companions_are_topped_up_by_content(
    client: Client, items: Mapping[str, Payload], anchor: str
) -> None:
    companions = in_stock_companions(items[anchor], items)
    body = get_ok(client, f"/v1/products/{anchor}/bought-together?limit=10")
    ids = [i["product_id"] for i in body["items"]]
    assert body["strategy"] == "co_purchase+content"
    assert len(ids) == 10 and len(set(ids)) == 10 and anchor not in ids
    assert ids[: len(companions)] == companions
    kinds = [i["reason"]["kind"] for i in body["items"]]
    assert kinds == ["bought_together"] * len(companions) + ["because_you_viewed"] * (
        10 - len(companions))
    assert all(i["reason"]["product_id"] == anchor for i in body["items"])
    content = [i["score"] for i in body["items"][len(companions):]]
    assert content == sorted(content, reverse=True)


def test_a_product_without_companions_gets_complements_from_other_subcategories(
    client: Client, resources: Resources, items: Mapping[str, Payload]
) -> None:
    lonely = next(p for p in sorted(items) if not items[p]["bought_with"])
    subs = subcategories(resources)
    body = get_ok(client, f"/v1/products/{lonely}/bought-together?limit=5")
    assert body["strategy"] == "content"
    ids = [i["product_id"] for i in body["items"]]
    assert len(ids) == 5 and lonely not in ids
    assert all(i["reason"]["kind"] == "because_you_viewed" for i in body["items"])
    assert all(subs[p] != subs[lonely] for p in ids)
    assert all(i["in_stock"] for i in body["items"])
    # When only its own subcategory may be shown, its substitutes fill the list instead.
    own = quote(subs[lonely])
    same = get_ok(client, f"/v1/products/{lonely}/bought-together?subcategory={own}")
    assert same["items"] and all(subs[i["product_id"]] == subs[lonely] for i in same["items"])


def test_filters_apply_to_companions_and_to_the_fill(
    client: Client, items: Mapping[str, Payload], anchor: str
) -> None:
    companions = in_stock_companions(items[anchor], items)
    cheapest = min(items[p]["price"] for p in companions)
    category = items[anchor]["category"]
    body = get_ok(client, f"/v1/products/{anchor}/bought-together?limit=8&max_price={cheapest}"
                          f"&category={quote(category)}")
    expected = [p for p in companions
                if items[p]["price"] <= cheapest and items[p]["category"] == category]
    bought = [i["product_id"] for i in body["items"] if i["reason"]["kind"] == "bought_together"]
    assert bought == expected
    assert body["items"]
    for item in body["items"]:
        assert item["price"] <= cheapest
        assert item["category"] == category
    brand = items[companions[0]]["brand"]
    by_brand = get_ok(client, f"/v1/products/{anchor}/bought-together?brand={quote(brand)}")
    assert by_brand["items"][0]["product_id"] == companions[0]
    assert all(i["brand"] == brand for i in by_brand["items"])


def test_out_of_stock_companions_only_when_asked_for(
    client: Client, items: Mapping[str, Payload]
) -> None:
    anchor = next(p for p in sorted(items)
                  if any(not items[c]["in_stock"] for c in items[p]["bought_with"]))
    sold_out = [c for c in items[anchor]["bought_with"] if not items[c]["in_stock"]]
    body = get_ok(client, f"/v1/products/{anchor}/bought-together?limit=20")
    assert body["items"] and all(i["in_stock"] for i in body["items"])
    assert not {i["product_id"] for i in body["items"]} & set(sold_out)
    asked = get_ok(client, f"/v1/products/{anchor}/bought-together?limit=20&in_stock=false")
    assert all(not i["in_stock"] for i in asked["items"])
    bought = [i["product_id"] for i in asked["items"] if i["reason"]["kind"] == "bought_together"]
    assert bought == sold_out


def test_a_product_not_indexed_yet_gets_content(
    client: Client, resources: Resources, items: Mapping[str, Payload], anchor: str
) -> None:
    with resources.database.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO products (product_id, title, description, category, subcategory, "
            "brand, price, tags, created_at) SELECT 'LATE-BT', title, description, category, "
            "subcategory, brand, price, tags, now() FROM products WHERE product_id = :p"),
            {"p": anchor})
    body = get_ok(client, "/v1/products/LATE-BT/bought-together?limit=5")
    assert body["strategy"] == "content"
    assert len(body["items"]) == 5
    subs = subcategories(resources)
    assert all(subs[i["product_id"]] != subs[anchor] for i in body["items"])


def test_bought_together_with_an_unknown_product_is_404(client: Client) -> None:
    response = client.get("/v1/products/NOPE-404/bought-together")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "not_found" and "NOPE-404" in error["message"]


# --- trending ------------------------------------------------------------------------------

def expected_popularity(resources: Resources) -> dict[str, float]:
    as_of = resolve_as_of(resources.database, resources.settings)
    return popularity_by_device(resources.database, resources.settings, as_of).overall


def test_trending_in_a_category_is_its_most_popular_in_stock_items(
    client: Client, resources: Resources, items: Mapping[str, Payload]
) -> None:
    popularity = expected_popularity(resources)
    category = Counter(items[p]["category"] for p in popularity).most_common(1)[0][0]
    expected = sorted(
        (p for p, s in popularity.items()
         if s > 0 and items[p]["category"] == category and items[p]["in_stock"]),
        key=lambda p: (-popularity[p], p),
    )[:5]
    body = get_ok(client, f"/v1/trending?category={quote(category)}&limit=5")
    assert body["strategy"] == "trending" and body["category"] == category
    assert body["model_version"] >= 1 and body["request_id"]
    assert [i["product_id"] for i in body["items"]] == expected
    assert [i["score"] for i in body["items"]] == pytest.approx(
        [popularity[p] for p in expected], rel=1e-5)
    for item in body["items"]:
        assert item["reason"] == {"kind": "popular_in_category", "product_id": None,
                                  "category": category}


def test_trending_everywhere_is_popular_varied_and_in_stock(
    client: Client, resources: Resources, items: Mapping[str, Payload]
) -> None:
    popularity = expected_popularity(resources)
    body = get_ok(client, "/v1/trending?limit=20")
    listed = body["items"]
    assert len(listed) == 20
    top = max((p for p in popularity if items[p]["in_stock"]), key=lambda p: popularity[p])
    assert listed[0]["product_id"] == top
    assert all(i["in_stock"] and i["score"] > 0 for i in listed)
    assert all(i["reason"] == {"kind": "trending", "product_id": None, "category": None}
               for i in listed)
    assert max(Counter(i["category"] for i in listed[:10]).values()) <= 3
    for category in {i["category"] for i in listed}:
        scores = [i["score"] for i in listed if i["category"] == category]
        assert scores == sorted(scores, reverse=True)


def test_trending_caps_a_category_that_would_fill_the_top(
    client: Client, resources: Resources, items: Mapping[str, Payload]
) -> None:
    """Five items of one category made the most popular, one of them sold out: three
    lead the list, the others follow the capped window, the sold-out one never shows."""
    live = resources.index.live
    assert live is not None
    category = Counter(p["category"] for p in items.values()).most_common(1)[0][0]
    chosen = sorted(p for p in items if items[p]["category"] == category
                    and items[p]["in_stock"])[:5]
    sold_out = sorted(p for p in items if not items[p]["in_stock"])[0]
    boosted = {p: 10_000.0 - i for i, p in enumerate([*chosen, sold_out])}
    try:
        for pid, value in boosted.items():
            resources.store.set_payload(live.items_collection, point_id(pid),
                                        {"popularity": value})
        ids = [i["product_id"] for i in get_ok(client, "/v1/trending?limit=12")["items"]]
        assert ids[:3] == chosen[:3]
        assert sum(p in chosen for p in ids[:10]) == 3
        assert ids[10:12] == chosen[3:5]
        assert sold_out not in ids
        in_category = get_ok(client, f"/v1/trending?category={quote(category)}&limit=5")
        assert [i["product_id"] for i in in_category["items"]] == chosen
    finally:
        for pid in boosted:
            resources.store.set_payload(live.items_collection, point_id(pid),
                                        {"popularity": items[pid]["popularity"]})


def test_trending_honours_brand_and_price(client: Client, items: Mapping[str, Payload]) -> None:
    brand = Counter(p["brand"] for p in items.values() if p["popularity"] > 0).most_common(1)[0][0]
    body = get_ok(client, f"/v1/trending?brand={quote(brand)}&min_price=1&max_price=500")
    assert body["items"]
    for item in body["items"]:
        assert item["brand"] == brand and 1 <= item["price"] <= 500


# --- bad input -----------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/v1/products/{pid}/bought-together", "/v1/trending"])
def test_bad_parameters_are_400_naming_the_parameter(
    client: Client, anchor: str, path: str
) -> None:
    url = path.format(pid=anchor)
    for query, name in [("limit=0", "limit"), ("limit=abc", "limit"), ("limit=1000", "limit"),
                        ("min_price=-1", "min_price"), ("min_price=50&max_price=10", "min_price")]:
        response = client.get(f"{url}?{query}")
        assert response.status_code == 400, (url, query)
        error = response.json()["error"]
        assert error["code"] == "invalid_parameter"
        assert name in error["message"], (query, error)
    if "bought-together" in url:
        response = client.get(f"{url}?in_stock=maybe")
        assert response.status_code == 400
        assert "in_stock" in response.json()["error"]["message"]


def test_openapi_schema_lists_the_lists(client: Client) -> None:
    paths = get_ok(client, "/schema/openapi.json")["paths"]
    assert "/v1/products/{product_id}/bought-together" in paths
    assert "/v1/trending" in paths


# --- cart complements --------------------------------------------------------------------


def cart_pair(items: Mapping[str, Payload]) -> list[str]:
    """Two products of different subcategories, each with in-stock companions, that share
    a companion: a cart whose complements should favour what goes with both."""
    for a in sorted(items, key=lambda p: -len(in_stock_companions(items[p], items))):
        for b in in_stock_companions(items[a], items):
            if (items[b]["subcategory"] != items[a]["subcategory"]
                    and set(in_stock_companions(items[b], items))
                    & set(in_stock_companions(items[a], items))):
                return [a, b]
    raise AssertionError("the tiny shop has no such pair")


def test_cart_complements_go_with_the_whole_basket_and_the_fill_is_no_substitute(
    client: Client, items: Mapping[str, Payload],
) -> None:
    cart = cart_pair(items)
    body = get_ok(client, "/v1/cart/recommendations?limit=10&items=" + ",".join(cart))
    ids = [i["product_id"] for i in body["items"]]
    assert ids and body["strategy"].startswith("co_purchase")
    assert not set(ids) & set(cart)
    taken = {items[p]["subcategory"] for p in cart}
    # Text neighbours only fill, and never of a subcategory the cart holds.
    filled = [i["product_id"] for i in body["items"]
              if i["reason"]["kind"] == "because_you_viewed"]
    assert all(items[p]["subcategory"] not in taken for p in filled)
    assert all(items[p]["in_stock"] for p in ids)
    scores = [i["score"] for i in body["items"]]
    assert scores == sorted(scores, reverse=True)
    assert all(i["reason"]["product_id"] in cart for i in body["items"])


def test_the_cart_of_a_session_and_what_the_shopper_hid(
    client: Client, items: Mapping[str, Payload],
) -> None:
    cart = cart_pair(items)
    session = "cart-session-1"
    for n, product in enumerate([*cart, cart[0]]):
        kind = "purchase" if n == 2 else "add_to_cart"
        response = client.post("/v1/events", json={
            "event_id": f"cart-ev-{n}", "user_id": "cart-shopper", "product_id": product,
            "event_type": kind, "session_id": session, "occurred_at": f"2026-12-0{n + 1}"})
        assert response.status_code == 201, response.text
    # The first product was bought after it was added: the cart holds the second only.
    by_session = get_ok(client, f"/v1/cart/recommendations?session_id={session}&limit=10")
    named = get_ok(client, f"/v1/cart/recommendations?items={cart[1]}&limit=10")
    assert by_session["items"] == named["items"]
    hidden = named["items"][0]["product_id"]
    response = client.post("/v1/events", json={
        "event_id": "cart-ev-hide", "user_id": "cart-shopper", "product_id": hidden,
        "event_type": "hide"})
    assert response.status_code == 201, response.text
    mine = get_ok(client, f"/v1/cart/recommendations?items={cart[1]}&limit=10"
                          "&user_id=cart-shopper")
    assert hidden not in {i["product_id"] for i in mine["items"]}
    assert len(mine["items"]) == len(named["items"])


def test_cart_requests_that_name_no_cart_or_unknown_products_are_refused_and_an_empty_cart_is_empty(
    client: Client,
) -> None:
    response = client.get("/v1/cart/recommendations")
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"parameter": "items"}
    # A session that has put nothing in its cart yet is asked about an empty cart.
    empty = get_ok(client, "/v1/cart/recommendations?session_id=nobody")
    assert empty["items"] == [] and empty["strategy"] == "empty_cart"
    response = client.get("/v1/cart/recommendations?items=NO-SUCH-PRODUCT")
    assert response.status_code == 404
    many = ",".join(f"P{i}" for i in range(51))
    assert client.get(f"/v1/cart/recommendations?items={many}").status_code == 400
