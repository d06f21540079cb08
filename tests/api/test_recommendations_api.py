"""Personalised recommendations through the real stack: every cold-start route, every
business rule, and a live session changing the next answer without a reindex."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import text

from api.resources import Resources
from indexing.popularity import popularity_by_device
from indexing.vectorstore.port import point_id
from ranking.reasons import REASON_KINDS

Client = TestClient  # type: ignore[type-arg]


def recs(client: Client, user: str, **params: Any) -> Any:
    response = client.get(f"/v1/users/{user}/recommendations", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def user_with_events(resources: Resources, low: int, high: int) -> str:
    with resources.database.engine.connect() as conn:
        return str(conn.execute(text(
            "SELECT user_id FROM events GROUP BY user_id HAVING count(*) BETWEEN :lo AND :hi "
            "ORDER BY user_id LIMIT 1"), {"lo": low, "hi": high}).scalar_one())


def heavy_user(resources: Resources) -> str:
    return user_with_events(resources, 30, 100_000)


@pytest.mark.parametrize(
    ("low", "high", "route"),
    [(1, 2, "content"), (3, 5, "content_knn"), (30, 100_000, "hybrid")],
)
def test_each_interaction_bucket_takes_its_route(
    client: Client, resources: Resources, low: int, high: int, route: str
) -> None:
    body = recs(client, user_with_events(resources, low, high))
    assert body["strategy"] == route
    assert len(body["items"]) == 10
    assert all(item["reason"]["kind"] in REASON_KINDS for item in body["items"])


def test_a_shopper_without_history_gets_popular_items(client: Client) -> None:
    body = recs(client, "NEVER-SEEN-SHOPPER", limit=8)
    assert body["strategy"] == "popular"
    assert len(body["items"]) == 8
    assert {i["reason"]["kind"] for i in body["items"]} <= {"trending", "popular_in_category",
                                                             "new_arrival"}


def test_popular_in_context_category(client: Client, resources: Resources) -> None:
    with resources.database.engine.connect() as conn:
        category = conn.execute(text(
            "SELECT category FROM products GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")).scalar()
    body = recs(client, "NEVER-SEEN-2", category=category, limit=5)
    assert body["items"]
    assert all(i["category"] == category for i in body["items"])


def test_content_reasons_name_a_product_the_shopper_viewed(
    client: Client, resources: Resources
) -> None:
    user = user_with_events(resources, 1, 2)
    with resources.database.engine.connect() as conn:
        seen = {r[0] for r in conn.execute(
            text("SELECT product_id FROM events WHERE user_id = :u"), {"u": user})}
    body = recs(client, user)
    viewed = [i for i in body["items"] if i["reason"]["kind"] == "because_you_viewed"]
    assert viewed
    assert all(i["reason"]["product_id"] in seen for i in viewed)
    # What they already saw is not news.
    assert seen.isdisjoint(i["product_id"] for i in body["items"])


def test_out_of_stock_and_purchased_items_are_never_recommended(
    client: Client, resources: Resources
) -> None:
    user = heavy_user(resources)
    before = recs(client, user, limit=20)
    gone = before["items"][0]["product_id"]
    store, live = resources.store, resources.index.live
    assert live is not None
    store.set_payload(live.items_collection, point_id(gone), {"in_stock": False})
    try:
        after = recs(client, user, limit=20)
        assert gone not in {i["product_id"] for i in after["items"]}
    finally:
        store.set_payload(live.items_collection, point_id(gone), {"in_stock": True})
    with resources.database.engine.connect() as conn:
        bought = {r[0] for r in conn.execute(text(
            "SELECT product_id FROM events WHERE user_id = :u AND event_type = 'purchase'"),
            {"u": user})}
    assert bought.isdisjoint(i["product_id"] for i in after["items"])


def test_at_most_three_per_category_and_two_per_brand_in_the_top_ten(
    client: Client, resources: Resources
) -> None:
    for user in (heavy_user(resources), user_with_events(resources, 1, 2), "NEW-CAPS"):
        items = recs(client, user, limit=10)["items"]
        categories = [i["category"] for i in items]
        brands = [i["brand"] for i in items if i["brand"]]
        assert max(categories.count(c) for c in categories) <= 3, categories
        assert max(brands.count(b) for b in brands) <= 2, brands


def test_excluded_and_current_products_are_left_out(client: Client, resources: Resources) -> None:
    user = heavy_user(resources)
    first = [i["product_id"] for i in recs(client, user)["items"]]
    body = recs(client, user, exclude=",".join(first[:3]), product_id=first[3])
    ids = {i["product_id"] for i in body["items"]}
    assert ids.isdisjoint(first[:4])


def post_event(client: Client, user: str, product: str, kind: str, session: str) -> None:
    response = client.post("/v1/events", json={
        "event_id": uuid.uuid4().hex, "user_id": user, "product_id": product,
        "event_type": kind, "session_id": session,
        "occurred_at": datetime.now(UTC).isoformat()})
    assert response.status_code == 201, response.text


def test_events_of_a_live_session_change_the_next_answer_without_a_reindex(
    client: Client, resources: Resources
) -> None:
    user, session = "LIVE-SHOPPER", "LIVE-SESSION"
    cold = recs(client, user, session_id=session)
    assert cold["strategy"] == "popular"
    with resources.database.engine.connect() as conn:
        product, category = conn.execute(text(
            "SELECT p.product_id, p.category FROM products p JOIN events e USING (product_id) "
            "WHERE p.in_stock GROUP BY 1, 2 ORDER BY count(*) DESC, 1 LIMIT 1")).one()
    post_event(client, user, product, "view", session)
    warm = recs(client, user, session_id=session)
    assert warm["strategy"] == "content"
    assert warm["items"] != cold["items"]
    assert any(i["reason"]["kind"] == "because_you_viewed"
               and i["reason"]["product_id"] == product for i in warm["items"])
    assert sum(i["category"] == category for i in warm["items"]) >= 2
    assert product not in {i["product_id"] for i in warm["items"]}


def test_new_events_fold_into_the_shoppers_cf_vector_without_writing_it(
    client: Client, resources: Resources
) -> None:
    user = heavy_user(resources)
    live, view = resources.index.live, resources.index.view
    assert live is not None and view is not None
    def stored() -> Any:
        return resources.store.retrieve(live.users_collection, [point_id(user)],
                                        vectors=["cf"])[0].vectors["cf"]
    before = stored().copy()
    first = recs(client, user)["items"]
    with resources.database.engine.connect() as conn:
        products = [r[0] for r in conn.execute(text(
            "SELECT product_id FROM products WHERE in_stock ORDER BY product_id LIMIT 3"))]
    for product in products:
        post_event(client, user, product, "purchase", "FOLD-SESSION")
    kept = len(view.user_vectors)
    after = recs(client, user)["items"]
    assert after != first  # the purchases count at once
    assert len(view.user_vectors) == kept + 1  # folded in, and kept in memory
    assert (stored() == before).all()  # a GET never writes: the stored vector is as built
    recs(client, user)
    assert len(view.user_vectors) == kept + 1  # the next request reuses it


def test_anonymous_shopper_with_a_session_gets_session_recommendations(
    client: Client, resources: Resources
) -> None:
    with resources.database.engine.connect() as conn:
        product = conn.execute(text(
            "SELECT product_id FROM products WHERE in_stock ORDER BY product_id LIMIT 1")).scalar()
    post_event(client, "anon-cookie-1", product, "click", "ANON-SESSION")
    body = recs(client, "someone-else", session_id="ANON-SESSION")
    assert body["strategy"] == "session"
    assert any(i["reason"].get("product_id") == product for i in body["items"])


def test_bad_parameters_are_400(client: Client) -> None:
    for params, name in [({"limit": 0}, "limit"),
                         ({"min_price": 9, "max_price": 1}, "min_price")]:
        response = client.get("/v1/users/u1/recommendations", params=params)
        assert response.status_code == 400
        assert name in response.json()["error"]["message"]


def test_home_page_rows_never_repeat_a_product(client: Client, resources: Resources) -> None:
    user = heavy_user(resources)
    response = client.get(f"/v1/users/{user}/home", params={"per_row": 6})
    assert response.status_code == 200, response.text
    rows = response.json()["rows"]
    assert [r["kind"] for r in rows] == ["picked_for_you", "because_you_viewed", "trending"]
    assert rows[1]["title"].startswith("Because you viewed ")
    assert rows[2]["title"].startswith("Trending in ")
    ids = [i["product_id"] for row in rows for i in row["items"]]
    assert len(ids) == len(set(ids))
    assert all(len(row["items"]) == 6 for row in rows)


def test_home_page_of_a_new_shopper_still_has_rows(client: Client) -> None:
    rows = client.get("/v1/users/BRAND-NEW/home").json()["rows"]
    assert [r["kind"] for r in rows] == ["picked_for_you", "trending"]
    assert rows[1]["title"] == "Trending now"


def test_a_new_shopper_gets_what_is_popular_on_their_device(
    client: Client, resources: Resources
) -> None:
    live = resources.index.live
    assert live is not None
    by_device = popularity_by_device(resources.database, resources.settings, live.as_of).by_device
    devices = ["mobile", "desktop", "tablet"]

    def on(device: str, ids: list[str]) -> float:
        return sum(by_device.get(p, {}).get(device, 0.0) for p in ids)

    lists = {}
    for device in devices:
        body = recs(client, "NEVER-SEEN-3", device=device, limit=10)
        assert body["strategy"] == "popular"
        lists[device] = [i["product_id"] for i in body["items"]]
    # Each device's list is the most popular one on that device.
    for device in devices:
        assert on(device, lists[device]) == max(on(device, ids) for ids in lists.values())
    assert len({tuple(ids) for ids in lists.values()}) > 1


@pytest.mark.parametrize("device", ["", "x" * 33])
def test_a_bad_device_is_refused(client: Client, device: str) -> None:
    response = client.get("/v1/users/U1/recommendations", params={"device": device})
    assert response.status_code == 400


def server_timing(response: Any) -> dict[str, float]:
    """The Server-Timing header as milliseconds per stage."""
    parts = {}
    for entry in response.headers["server-timing"].split(","):
        name, _, duration = entry.strip().partition(";dur=")
        parts[name] = float(duration)
    return parts


def test_each_response_says_where_its_time_went(client: Client, resources: Resources) -> None:
    user = user_with_events(resources, 5, 1000)
    product = client.get(f"/v1/users/{user}/recommendations").json()["items"][0]["product_id"]
    cases = {
        f"/v1/users/{user}/recommendations": {"history", "vector", "rank"},
        f"/v1/products/{product}/similar": {"vector", "rank"},
        # A query no test asked before, so that its embedding is not cached.
        f"/v1/search?q=shoes+{uuid.uuid4().hex[:8]}": {"encode", "lexical", "vector", "rank"},
    }
    for url, stages in cases.items():
        response = client.get(url)
        assert response.status_code == 200, response.text
        parts = server_timing(response)
        assert stages <= set(parts), (url, parts)
        assert {"auth", "other", "total"} <= set(parts)
        # The stages do not overlap: with the rest they make up the total (to rounding).
        assert abs(sum(v for k, v in parts.items() if k != "total") - parts["total"]) < 0.1
    metrics = client.get("/metrics").text
    assert re.search(r'lodestar_request_stage_seconds_count\{route="/v1/products/[^"]*/similar",'
                     r'stage="vector"\} [1-9]', metrics), metrics[-3000:]


def test_made_up_paths_make_no_time_series(client: Client) -> None:
    for _ in range(3):
        assert client.get(f"/no/such/path/{uuid.uuid4().hex}").status_code == 404
    assert "/no/such/path" not in client.get("/metrics").text


def test_hidden_and_disliked_products_never_come_back_to_that_shopper(
    client: Client, resources: Resources,
) -> None:
    with resources.database.engine.connect() as conn:
        user = str(conn.execute(text(
            "SELECT user_id FROM events GROUP BY user_id HAVING count(*) >= 30 "
            "ORDER BY user_id DESC LIMIT 1")).scalar_one())
    first = [i["product_id"] for i in recs(client, user, limit=10)["items"]]
    hidden, disliked = first[0], first[1]
    session = f"neg-{uuid.uuid4().hex[:8]}"
    post_event(client, user, hidden, "hide", session)
    post_event(client, user, disliked, "dislike", session)
    # A hide long before the event window counts as much as one just now.
    similar_of_hidden = client.get(f"/v1/products/{hidden}/similar",
                                   params={"limit": 5}).json()["items"]
    old = similar_of_hidden[0]["product_id"]
    response = client.post("/v1/events", json={
        "event_id": uuid.uuid4().hex, "user_id": user, "product_id": old,
        "event_type": "hide", "occurred_at": "2015-03-01T10:00:00Z"})
    assert response.status_code == 201, response.text
    never = {hidden, disliked, old}

    def ids(items: list[dict[str, Any]]) -> set[str]:
        return {i["product_id"] for i in items}

    assert ids(recs(client, user, limit=50)["items"]).isdisjoint(never)
    assert ids(recs(client, user, limit=10, session_id=session)["items"]).isdisjoint(never)
    home = client.get(f"/v1/users/{user}/home", params={"per_row": 10}).json()
    assert all(ids(row["items"]).isdisjoint(never) for row in home["rows"])
    # Similar items and bought-together leave them out for this shopper only.
    similar = client.get(f"/v1/products/{hidden}/similar", params={"limit": 5})
    mine = client.get(f"/v1/products/{hidden}/similar", params={"limit": 5, "user_id": user})
    assert old in ids(similar.json()["items"])
    assert ids(mine.json()["items"]).isdisjoint(never)
    assert len(mine.json()["items"]) == 5
    together = client.get(f"/v1/products/{disliked}/bought-together",
                          params={"limit": 20, "user_id": user})
    assert together.status_code == 200, together.text
    assert ids(together.json()["items"]).isdisjoint(never)
    # Search: found for anyone else, never for them.
    title = client.get(f"/v1/products/{hidden}").json()["title"]
    anyone = client.get("/v1/search", params={"q": title, "limit": 20})
    theirs = client.get("/v1/search", params={"q": title, "limit": 20, "user_id": user})
    assert hidden in ids(anyone.json()["items"])
    assert ids(theirs.json()["items"]).isdisjoint(never)

