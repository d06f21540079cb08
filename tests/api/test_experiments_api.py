"""Experiments over HTTP: definitions and their checks, assignment, variants' settings
applied, exposures logged, events attributed, results with a fixed horizon, interleaving."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import text

from api.resources import Resources
from models.tenancy import as_owner


def _clear(resources: Resources) -> None:
    resources.exposures.flush()
    with as_owner(), resources.database.engine.begin() as conn:
        conn.execute(text("TRUNCATE experiments, exposures"))
    resources.experiments.forget()


@pytest.fixture
def fresh(resources: Resources) -> Iterator[Resources]:
    _clear(resources)
    yield resources
    _clear(resources)


def _users(resources: Resources, n: int) -> list[str]:
    with resources.database.engine.connect() as conn:
        return [r[0] for r in conn.execute(text(
            "SELECT user_id FROM events GROUP BY user_id ORDER BY count(*) DESC, user_id "
            "LIMIT :n"), {"n": n})]


def _experiment(client: TestClient[Any], **fields: Any) -> dict[str, Any]:
    body = {"name": "blend", "surface": "recommendations",
            "variants": [{"name": "control"},
                         {"name": "popular", "overrides": {"rec_popularity_weight": 20.0,
                                                           "LODESTAR_REC_MMR_LAMBDA": 1.0}}],
            **fields}
    response = client.post("/v1/experiments", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _exposures(resources: Resources) -> list[Any]:
    resources.exposures.flush()
    with resources.database.engine.connect() as conn:
        return list(conn.execute(text(
            "SELECT request_id, experiment_id, variant, surface, unit, user_id, items, teams "
            "FROM exposures ORDER BY shown_at")))


def test_definitions_are_checked(client: TestClient[Any], fresh: Resources) -> None:
    made = _experiment(client)
    assert made["status"] == "running"
    assert made["variants"][1]["overrides"] == {"rec_popularity_weight": 20.0,
                                                "rec_mmr_lambda": 1.0}
    assert made["results"] == f"/v1/experiments/{made['experiment_id']}/results"
    # Another experiment on the same surface at the same time: refused, naming it.
    again = client.post("/v1/experiments", json={
        "name": "again", "surface": "recommendations",
        "variants": [{"name": "a"}, {"name": "b"}]})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "experiment_overlap"
    assert again.json()["error"]["details"]["experiment_id"] == made["experiment_id"]
    # ...but another surface is free.
    other = client.post("/v1/experiments", json={
        "name": "search", "surface": "search", "variants": [{"name": "a"}, {"name": "b"}]})
    assert other.status_code == 201

    cases = [
        ({"variants": [{"name": "a", "overrides": {"data_dir": "/tmp"}}, {"name": "b"}]},
         "invalid_override"),
        ({"variants": [{"name": "a", "overrides": {"rec_mmr_lambda": 7}}, {"name": "b"}]},
         "invalid_override"),
        ({"variants": [{"name": "a", "overrides": {"no_such_thing": 1}}, {"name": "b"}]},
         "invalid_override"),
        ({"variants": [{"name": "a"}, {"name": "a"}]}, "invalid_experiment"),
        ({"surface": "home", "kind": "interleave"}, "invalid_experiment"),
        ({"kind": "interleave", "surface": "search",
          "variants": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}, "invalid_experiment"),
        ({"variants": [{"name": "a"}]}, None),
        ({"variants": [{"name": "a", "share": 0}, {"name": "b"}]}, None),
        ({"surface": "checkout"}, None),
        ({"stop_at": "2020-01-01T00:00:00Z"}, None),
        ({"start_at": "2030-01-01T00:00:00"}, None),
        ({"name": "a\x00b"}, None),
        ({"horizon_shoppers": 1}, None),
    ]
    for change, code in cases:
        body = {"name": "bad", "surface": "bought-together",
                "variants": [{"name": "a"}, {"name": "b"}], **change}
        response = client.post("/v1/experiments", json=body)
        assert response.status_code == 400, (change, response.text)
        if code:
            assert response.json()["error"]["code"] == code, change
    assert len(client.get("/v1/experiments").json()["items"]) == 2
    names = {row["name"] for row in client.get("/v1/experiments/settings").json()["items"]}
    assert "rec_popularity_weight" in names and "data_dir" not in names

    stopped = client.post(f"/v1/experiments/{made['experiment_id']}/stop")
    assert stopped.status_code == 200 and stopped.json()["status"] == "ended"
    # Once stopped, the surface is free for the next one.
    assert client.post("/v1/experiments", json={
        "name": "next", "surface": "recommendations",
        "variants": [{"name": "a"}, {"name": "b"}]}).status_code == 201
    assert client.get("/v1/experiments/exp_000000000000").status_code == 404
    audit = client.get("/v1/admin/audit", params={"action": "experiments.create"}).json()
    assert {e["outcome"] for e in audit["items"]} == {"ok", "refused"}


def test_scheduled_experiments_do_not_overlap_or_run_early(client: TestClient[Any],
                                                          fresh: Resources) -> None:
    later = _experiment(client, start_at="2099-01-01T00:00:00Z",
                        stop_at="2099-02-01T00:00:00Z")
    assert later["status"] == "scheduled"
    before = client.post("/v1/experiments", json={
        "name": "before", "surface": "recommendations", "variants": [{"name": "a"},
                                                                     {"name": "b"}],
        "stop_at": "2098-12-31T00:00:00Z"})
    assert before.status_code == 201
    overlapping = client.post("/v1/experiments", json={
        "name": "overlapping", "surface": "recommendations",
        "variants": [{"name": "a"}, {"name": "b"}], "start_at": "2099-01-15T00:00:00Z"})
    assert overlapping.status_code == 409
    user = _users(fresh, 1)[0]
    body = client.get(f"/v1/users/{user}/recommendations").json()
    assert body["experiment"] == before.json()["experiment_id"]


def test_assignment_is_stable_and_follows_shares(client: TestClient[Any],
                                                 fresh: Resources) -> None:
    made = _experiment(client, variants=[{"name": "control", "share": 3},
                                         {"name": "popular", "share": 1,
                                          "overrides": {"rec_popularity_weight": 20.0}}])
    users = _users(fresh, 120)
    seen: dict[str, str] = {}
    for user in users:
        body = client.get(f"/v1/users/{user}/recommendations", params={"limit": 5}).json()
        assert body["experiment"] == made["experiment_id"]
        seen[user] = body["variant"]
    for user in users[:20]:  # the same shopper, the same variant, every time
        again = client.get(f"/v1/users/{user}/recommendations", params={"limit": 5}).json()
        assert again["variant"] == seen[user]
    counts = Counter(seen.values())
    assert set(counts) == {"control", "popular"}
    assert 0.6 < counts["control"] / len(users) < 0.9  # 3:1 shares, 120 draws

    # An anonymous shopper's session is the unit; a request naming nobody is not in it.
    anonymous = client.get("/v1/users/nobody-ever/recommendations",
                           params={"session_id": "S-anon-1"}).json()
    assert anonymous["experiment"] == made["experiment_id"]
    rows = _exposures(fresh)
    assert len(rows) == len(users) + 20 + 1
    assert {r.unit for r in rows if r.user_id == users[0]} == {f"user:{users[0]}"}
    # Other surfaces are not in this experiment.
    similar = client.get(f"/v1/products/{rows[0].items[0]}/similar",
                         params={"user_id": users[0]}).json()
    assert similar["experiment"] is None and similar["variant"] is None


def test_a_variant_serves_with_its_settings(client: TestClient[Any],
                                            fresh: Resources) -> None:
    _experiment(client)
    users = _users(fresh, 60)
    by_variant: dict[str, list[tuple[str, list[str]]]] = {}
    for user in users:
        body = client.get(f"/v1/users/{user}/recommendations", params={"limit": 8}).json()
        by_variant.setdefault(body["variant"], []).append(
            (user, [i["product_id"] for i in body["items"]]))
    # The variant's list is what the service makes with its overrides, and differs from
    # what the shop's own settings make for the same shopper.
    from api.services.recommend import recommend
    from retrieval.filters import ItemFilters
    popular = fresh.base_settings.replace(rec_popularity_weight=20.0, rec_mmr_lambda=1.0)
    differs = 0
    for user, served in by_variant["popular"]:
        with fresh.using(popular):
            assert recommend(fresh, user, 8, ItemFilters()).product_ids == served
        differs += recommend(fresh, user, 8, ItemFilters()).product_ids != served
    assert differs > len(by_variant["popular"]) / 2
    for user, served in by_variant["control"]:
        assert recommend(fresh, user, 8, ItemFilters()).product_ids == served


def test_exposures_and_attribution_feed_the_results(client: TestClient[Any],
                                                    fresh: Resources) -> None:
    made = _experiment(client, horizon_shoppers=10)
    users = _users(fresh, 40)
    shown: dict[str, dict[str, Any]] = {}
    for user in users:
        shown[user] = client.get(f"/v1/users/{user}/recommendations",
                                 params={"limit": 10}).json()
    rows = {r.request_id: r for r in _exposures(fresh)}
    for body in shown.values():
        row = rows[body["request_id"]]
        assert row.items == [i["product_id"] for i in body["items"]]
        assert row.variant == body["variant"] and row.surface == "recommendations"
    # Every control shopper clicks their first item, naming the list; every second one
    # buys it too. A popular-variant shopper clicks without naming the list: attributed by
    # the window (same shopper, a product the list showed, soon after).
    events = []
    for n, (user, body) in enumerate(shown.items()):
        first = body["items"][0]["product_id"]
        named = body["variant"] == "control"
        base = {"user_id": user, "product_id": first,
                **({"request_id": body["request_id"]} if named else {})}
        events.append({**base, "event_id": f"exp-click-{n}", "event_type": "click"})
        if n % 2 == 0:
            events.append({**base, "event_id": f"exp-buy-{n}", "event_type": "purchase"})
    response = client.post("/v1/events", json={"events": events})
    assert response.status_code == 200, response.text

    results = client.get(f"/v1/experiments/{made['experiment_id']}/results").json()
    by_name = {v["name"]: v for v in results["variants"]}
    assert sum(v["shoppers"] for v in by_name.values()) == len(users)
    for variant in by_name.values():
        assert variant["exposures"] == variant["shoppers"]
        assert variant["clicked_exposures"] == variant["shoppers"]
        assert variant["ctr_at_k"] == 1.0
    bought = sum(1 for n, _ in enumerate(users) if n % 2 == 0)
    assert sum(round(v["conversion"] * v["shoppers"]) for v in by_name.values()) == bought
    assert results["horizon"]["reached"] is True and results["horizon"]["final"] is True
    comparison = by_name["popular"]["vs_control"]["conversion"]
    assert comparison["ci_low"] <= comparison["difference"] <= comparison["ci_high"]
    assert 0 <= comparison["p_value"] <= 1
    assert results["sample_ratio"]["p_value"] is not None
    assert results["minimum_detectable_change"]["conversion"] is not None
    assert by_name["control"]["vs_control"] is None
    # A click at position 3 does not count for CTR@2.
    depth = client.get(f"/v1/experiments/{made['experiment_id']}/results",
                       params={"k": 1}).json()
    assert depth["k"] == 1


def test_the_horizon_hides_p_values_until_reached(client: TestClient[Any],
                                                  fresh: Resources) -> None:
    made = _experiment(client, horizon_shoppers=10_000)
    for user in _users(fresh, 10):
        client.get(f"/v1/users/{user}/recommendations")
    fresh.exposures.flush()
    early = client.get(f"/v1/experiments/{made['experiment_id']}/results").json()
    assert early["horizon"] == {"shoppers_per_variant": 10_000, "reached": False,
                                "final": False}
    for variant in early["variants"][1:]:
        for comparison in variant["vs_control"].values():
            assert comparison["p_value"] is None and comparison["ci_low"] is None
            assert comparison["significant"] is None
    # Ending the experiment is the one look: the figures are final then.
    client.post(f"/v1/experiments/{made['experiment_id']}/stop")
    final = client.get(f"/v1/experiments/{made['experiment_id']}/results").json()
    assert final["horizon"]["final"] is True and final["experiment"]["status"] == "ended"


def test_interleaving_mixes_two_rankings(client: TestClient[Any], fresh: Resources) -> None:
    made = _experiment(client, kind="interleave", horizon_shoppers=10, variants=[
        {"name": "control"},
        {"name": "popular", "overrides": {"rec_popularity_weight": 20.0}}])
    users = _users(fresh, 30)
    events = []
    for n, user in enumerate(users):
        body = client.get(f"/v1/users/{user}/recommendations", params={"limit": 10}).json()
        assert body["variant"] == "interleaved"
        ids = [i["product_id"] for i in body["items"]]
        assert len(ids) == len(set(ids)) == 10
        events.append({"event_id": f"il-{n}", "user_id": user, "product_id": ids[0],
                       "event_type": "click", "request_id": body["request_id"]})
    rows = _exposures(fresh)
    assert all(r.teams is not None and len(r.teams) == len(r.items) for r in rows)
    assert all(set(r.teams) <= {"control", "popular"} for r in rows)
    # Team draft: neither team is ever more than one pick ahead.
    for r in rows:
        for end in range(1, len(r.teams) + 1):
            picks = Counter(r.teams[:end])
            assert abs(picks["control"] - picks["popular"]) <= 1
    assert client.post("/v1/events", json={"events": events}).status_code == 200
    results = client.get(f"/v1/experiments/{made['experiment_id']}/results").json()
    pref = results["interleaving"]
    assert pref["shoppers_preferring_first"] + pref["shoppers_preferring_second"] == len(users)
    first_picks = Counter(r.teams[0] for r in rows)
    assert pref["shoppers_preferring_first"] == first_picks["control"]
    assert pref["ci_low"] <= pref["share_preferring_second"] <= pref["ci_high"]


def test_every_surface_can_run_one(client: TestClient[Any], fresh: Resources) -> None:
    user = _users(fresh, 1)[0]
    product = client.get(f"/v1/users/{user}/recommendations").json()["items"][0]["product_id"]
    calls = {
        "home": (f"/v1/users/{user}/home", {}),
        "similar": (f"/v1/products/{product}/similar", {"user_id": user}),
        "bought-together": (f"/v1/products/{product}/bought-together",
                            {"session_id": "S-exp-1"}),
        "search": ("/v1/search", {"q": "camera", "user_id": user}),
    }
    for surface, (path, params) in calls.items():
        made = client.post("/v1/experiments", json={
            "name": surface, "surface": surface, "variants": [
                {"name": "a", "overrides": {"similar_text_weight": 1.0}}, {"name": "b"}]})
        assert made.status_code == 201, made.text
        body = client.get(path, params=params).json()
        assert body["experiment"] == made.json()["experiment_id"], surface
        assert body["variant"] in {"a", "b"}
    rows = _exposures(fresh)
    assert {r.surface for r in rows} == set(calls)
    home = next(r for r in rows if r.surface == "home")
    assert len(home.items) > 0


def test_erasure_and_retention_take_exposures(client: TestClient[Any],
                                              fresh: Resources) -> None:
    _experiment(client)
    user = _users(fresh, 1)[0]
    client.get(f"/v1/users/{user}/recommendations")
    assert len(_exposures(fresh)) == 1
    assert client.delete(f"/v1/users/{user}").status_code == 202
    assert _exposures(fresh) == []
