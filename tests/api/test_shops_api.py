"""Two shops in one deployment, through HTTP: each shop's keys see none of the other's
products, shoppers, events, lists, search results, keys or audit entries, both ways,
including after each shop reindexes; and the database refuses what the code might forget."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from api import tokens
from api.app import create_app
from api.resources import Resources
from data.demo_shop import ShopSpec, generate_shop
from indexing.pipeline import reindex
from models import keys
from models.tenancy import for_shop
from tests.clients import bearer

OTHER = "acme"
# The same generator with another seed and size: the same kind of ids (P000001, U000001)
# in both shops, different products behind them.
OTHER_SHOP = ShopSpec(products=120, users=40, events=1_500, seed=99)


@pytest.fixture(scope="module")
def shops(resources: Resources) -> dict[str, dict[str, str]]:
    """Keys of both shops; `acme` generated and indexed beside the default shop."""
    with for_shop(OTHER):
        generate_shop(resources.database, OTHER_SHOP, replace=True)
        reindex(resources.database, resources.store, resources.settings, resources.encoder())
    made = {}
    for shop in ("default", OTHER):
        made[shop] = {scope: keys.create(resources.database, scope, shop_id=shop).key
                      for scope in ("public", "server", "admin")}
    return made


@pytest.fixture(scope="module")
def client(resources: Resources) -> Iterator[TestClient[Litestar]]:
    with TestClient(app=create_app(resources=resources)) as c:
        yield c


def titles(resources: Resources, shop: str) -> dict[str, str]:
    with for_shop(shop), resources.database.engine.connect() as conn:
        return dict(conn.execute(text("SELECT product_id, title FROM products")).all())


def test_each_shop_sees_only_its_catalog_and_lists(
    client: TestClient[Litestar], resources: Resources, shops: dict[str, dict[str, str]]
) -> None:
    for shop, other in (("default", OTHER), (OTHER, "default")):
        mine, theirs = titles(resources, shop), titles(resources, other)
        server = bearer(shops[shop]["server"])
        page = client.get("/v1/products?limit=100", headers=server).json()
        assert page["total"] == len(mine)
        assert {p["product_id"]: p["title"] for p in page["items"]}.items() <= mine.items()
        only_theirs = sorted(set(theirs) - set(mine))
        if only_theirs:
            assert client.get(f"/v1/products/{only_theirs[0]}", headers=server
                              ).status_code == 404
        shared_id = sorted(set(mine) & set(theirs))[0]
        assert client.get(f"/v1/products/{shared_id}", headers=server
                          ).json()["title"] == mine[shared_id]
        lists = [
            client.get(f"/v1/products/{shared_id}/similar?limit=20", headers=server),
            client.get("/v1/trending?limit=20", headers=server),
            client.get("/v1/users/U000001/recommendations?limit=20", headers=server),
            client.get(f"/v1/products/{shared_id}/bought-together?limit=20", headers=server),
        ]
        for response in lists:
            assert response.status_code == 200, response.text
            for item in response.json()["items"]:
                assert mine.get(item["product_id"]) == item["title"]
        home = client.get("/v1/users/U000001/home", headers=server).json()
        for row in home["rows"]:
            for item in row["items"]:
                assert mine.get(item["product_id"]) == item["title"]
        found = client.get("/v1/search?q=black&limit=50", headers=server).json()
        assert found["total"] <= len(mine)
        for item in found["items"]:
            assert mine.get(item["product_id"]) == item["title"]


def test_events_keys_and_audit_stay_in_their_shop(
    client: TestClient[Litestar], resources: Resources, shops: dict[str, dict[str, str]]
) -> None:
    mine, theirs = titles(resources, OTHER), titles(resources, "default")
    only_default = sorted(set(theirs) - set(mine))[0]
    acme = bearer(shops[OTHER]["server"])
    event = {"event_id": f"acme-{uuid.uuid4().hex}", "user_id": "U000001",
             "product_id": only_default, "event_type": "view",
             "occurred_at": datetime.now(UTC).isoformat()}
    refused = client.post("/v1/events", headers=acme, json=event)
    assert refused.status_code == 400  # not in this shop's catalog
    event["product_id"] = sorted(mine)[0]
    assert client.post("/v1/events", headers=acme, json=event).status_code == 201
    # The same event id is free in the other shop: ids are per shop.
    assert client.post("/v1/events", headers=bearer(shops["default"]["server"]),
                       json={**event, "product_id": only_default}).status_code == 201
    with for_shop("default"), resources.database.engine.connect() as conn:
        stored = conn.execute(text("SELECT product_id FROM events WHERE event_id = :e"),
                              {"e": event["event_id"]}).scalars().all()
    assert stored == [only_default]

    acme_admin = bearer(shops[OTHER]["admin"])
    listed = client.get("/v1/admin/keys", headers=acme_admin).json()["items"]
    assert listed and {k["shop_id"] for k in listed} == {OTHER}
    default_key_id = keys.split_key(shops["default"]["public"])[0]  # type: ignore[index]
    assert client.delete(f"/v1/admin/keys/{default_key_id}", headers=acme_admin
                         ).status_code == 404
    client.put("/v1/products/ACME-NEW", headers=acme_admin,
               json={"title": "Acme anvil", "category": "Tools", "price": 99})
    entries = client.get("/v1/admin/audit?limit=500", headers=acme_admin).json()["items"]
    assert any(e["target"] == "ACME-NEW" for e in entries)
    default_entries = client.get("/v1/admin/audit?limit=500",
                                 headers=bearer(shops["default"]["admin"])).json()["items"]
    assert not any(e["target"] == "ACME-NEW" for e in default_entries)
    assert client.get("/v1/products/ACME-NEW", headers=bearer(shops["default"]["public"])
                      ).status_code == 404


def test_a_shopper_token_of_one_shop_is_refused_by_the_other(
    client: TestClient[Litestar], shops: dict[str, dict[str, str]]
) -> None:
    token = {"X-Shopper-Token": tokens.mint(shops[OTHER]["server"], OTHER, "U000001", 600)}
    own = client.get("/v1/users/U000001/recommendations",
                     headers={**bearer(shops[OTHER]["public"]), **token})
    assert own.status_code == 200
    crossed = client.get("/v1/users/U000001/recommendations",
                         headers={**bearer(shops["default"]["public"]), **token})
    assert crossed.status_code == 401


def test_experiments_and_their_exposures_stay_in_their_shop(
    client: TestClient[Litestar], resources: Resources, shops: dict[str, dict[str, str]]
) -> None:
    acme = bearer(shops[OTHER]["admin"])
    mine = bearer(shops["default"]["admin"])
    body = {"name": "blend", "surface": "recommendations",
            "variants": [{"name": "a"}, {"name": "b"}]}
    made = client.post("/v1/experiments", headers=acme, json=body)
    assert made.status_code == 201
    experiment = made.json()["experiment_id"]
    # The other shop neither sees it nor is blocked by it on the same surface.
    assert client.get(f"/v1/experiments/{experiment}", headers=mine).status_code == 404
    assert experiment not in {e["experiment_id"] for e in client.get(
        "/v1/experiments", headers=mine).json()["items"]}
    own = client.post("/v1/experiments", headers=mine, json=body)
    assert own.status_code == 201
    in_acme = client.get("/v1/users/U000001/recommendations", headers=acme).json()
    in_default = client.get("/v1/users/U000001/recommendations", headers=mine).json()
    assert in_acme["experiment"] == experiment
    assert in_default["experiment"] == own.json()["experiment_id"]
    resources.exposures.flush()
    for shop, expected in ((OTHER, experiment), ("default", own.json()["experiment_id"])):
        with for_shop(shop), resources.database.engine.connect() as conn:
            seen = set(conn.execute(text("SELECT experiment_id FROM exposures")).scalars())
        assert seen == {expected}
    for key, made_id in ((acme, experiment), (mine, own.json()["experiment_id"])):
        assert client.post(f"/v1/experiments/{made_id}/stop", headers=key).status_code == 200


def test_each_shop_reindexes_on_its_own(
    client: TestClient[Litestar], resources: Resources, shops: dict[str, dict[str, str]]
) -> None:
    with for_shop("default"):
        before_default = resources.index.live
    with for_shop(OTHER):
        before_acme = resources.index.live
        reindex(resources.database, resources.store, resources.settings, resources.encoder())
    resources.refresh_every_shop()
    with for_shop(OTHER):
        after_acme = resources.index.live
    with for_shop("default"):
        after_default = resources.index.live
    assert before_acme is not None and after_acme is not None and before_default is not None
    assert after_acme.version > before_acme.version
    assert after_default is not None and after_default.version == before_default.version
    assert after_acme.items_collection.startswith(f"lodestar_{OTHER}_")
    assert not before_default.items_collection.startswith(f"lodestar_{OTHER}_")
    # Lists of both shops still come from their own catalog after the other reindexed.
    test_each_shop_sees_only_its_catalog_and_lists(client, resources, shops)


def test_the_database_refuses_what_the_code_might_forget(resources: Resources) -> None:
    with for_shop(OTHER), resources.database.engine.connect() as conn:
        # No WHERE on shop: still only this shop's rows.
        assert conn.execute(text("SELECT count(*) FROM products")).scalar_one() == len(
            titles(resources, OTHER))
        with pytest.raises(DBAPIError):
            conn.execute(text(
                "INSERT INTO products (shop_id, product_id, title, category, price, created_at)"
                " VALUES ('default', 'SNEAKY', 'x', 'y', 1, now())"))
    with for_shop("default"), resources.database.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM products WHERE product_id = 'SNEAKY'")
                            ).scalar_one() == 0
