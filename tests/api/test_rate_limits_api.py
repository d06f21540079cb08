"""Rate limits through HTTP: per client address for public keys, per key for any key,
counted in memory or shared through Postgres; 429 with Retry-After."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from api.app import create_app
from api.ratelimit import WINDOW_SECONDS, MemoryCounter, RateLimited, RateLimiter
from api.resources import Resources
from models import keys
from models.settings import Settings
from tests.clients import bearer


def limited_app(resources: Resources, **limits: object) -> TestClient:  # type: ignore[type-arg]
    settings = resources.settings.replace(**limits)
    return TestClient(app=create_app(settings=settings, resources=resources))


def test_a_client_address_over_its_limit_gets_429(resources: Resources) -> None:
    public = bearer(keys.create(resources.database, "public").key)
    server = bearer(keys.create(resources.database, "server").key)
    with limited_app(resources, rate_limit_per_address=5, rate_limit_per_key=0) as c:
        assert [c.get("/v1/trending", headers=public).status_code for _ in range(5)] == [200] * 5
        over = c.get("/v1/trending", headers=public)
        assert over.status_code == 429
        assert over.json()["error"]["code"] == "rate_limited"
        assert over.json()["error"]["details"]["per"] == "client address"
        assert 1 <= int(over.headers["retry-after"]) <= WINDOW_SECONDS
        # The shop's backend is limited per key, not per address.
        assert c.get("/v1/trending", headers=server).status_code == 200
        assert c.get("/health").status_code == 200  # never limited


def test_guessing_keys_from_one_address_is_limited_too(resources: Resources) -> None:
    with limited_app(resources, rate_limit_per_address=3, rate_limit_per_key=0) as c:
        guesses = [c.get("/v1/trending", headers=bearer(f"lsk_{i:012x}_guess")).status_code
                   for i in range(4)]
    assert guesses == [401, 401, 401, 429]


def test_a_key_over_its_limit_gets_429_and_others_do_not(resources: Resources) -> None:
    first = bearer(keys.create(resources.database, "server").key)
    second = bearer(keys.create(resources.database, "server").key)
    with limited_app(resources, rate_limit_per_key=3, rate_limit_per_address=0) as c:
        assert [c.get("/v1/trending", headers=first).status_code for _ in range(4)] == [
            200, 200, 200, 429]
        assert c.get("/v1/trending", headers=second).status_code == 200


def test_processes_share_one_budget_through_postgres(resources: Resources) -> None:
    key = bearer(keys.create(resources.database, "server").key)
    limits = {"rate_limit_per_key": 4, "rate_limit_per_address": 0,
              "rate_limit_store": "postgres"}
    with limited_app(resources, **limits) as one, limited_app(resources, **limits) as two:
        answers = [c.get("/v1/trending", headers=key).status_code
                   for c in (one, two, one, two, one, two)]
    assert answers == [200, 200, 200, 200, 429, 429]


def test_the_window_starts_afresh_each_minute() -> None:
    now = [120.0]
    limiter = RateLimiter(Settings(rate_limit_per_key=2, rate_limit_per_address=0),
                          MemoryCounter(), clock=lambda: now[0])
    limiter.check("k", "server", None)
    limiter.check("k", "server", None)
    now[0] = 150.5
    with pytest.raises(RateLimited) as over:
        limiter.check("k", "server", None)
    assert over.value.headers == {"Retry-After": "30"}
    now[0] = 180.0  # the next window
    limiter.check("k", "server", None)
