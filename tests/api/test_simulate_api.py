"""`lodestar simulate` played in process against the tiny shop's app: the simulated
shoppers' events are stored, name request ids the server issued, and the checks before a
run refuse what they must."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import text

from api.app import create_app
from api.cli import main
from api.resources import Resources
from api.services.events import parse_request_id
from data.demo_shop import ShopSpec
from data.simulate import (
    SimulationPlan,
    SimulationRefused,
    Simulator,
    check_loopback,
    simulate,
)
from data.simulated_shoppers import Tastes
from models import keys
from tests.clients import bearer
from tests.shop import TINY

Client = TestClient[Litestar]
LIST_EVENTS = ("click", "add_to_cart", "purchase")


class Recording:
    """The test client, keeping every answer and every event posted through it."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.answers: list[httpx.Response] = []
        self.events: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def get(self, url: str, *, params: Mapping[str, str | int] | None = None
            ) -> httpx.Response:
        response = self.client.get(url, params=params)
        with self._lock:
            self.answers.append(response)
        return response

    def post(self, url: str, *, json: Any = None) -> httpx.Response:
        response = self.client.post(url, json=json)
        with self._lock:
            self.answers.append(response)
            self.events.extend(json["events"])
        return response

    def issued_request_ids(self) -> set[str]:
        """The request ids of every list response received."""
        return {r.json()["request_id"] for r in self.answers
                if r.request.method == "GET" and r.status_code == 200
                and "request_id" in r.json()}


@pytest.fixture(scope="module")
def tastes() -> Tastes:
    return Tastes.of(TINY)


def stored_events(resources: Resources, seed: int) -> int:
    with resources.database.engine.connect() as conn:
        return int(conn.execute(
            text("SELECT count(*) FROM events WHERE session_id LIKE :sessions"),
            {"sessions": f"sim-{seed}-%"}).scalar_one())


def test_simulated_shoppers_post_events_that_are_stored_with_issued_request_ids(
    client: Client, resources: Resources, tastes: Tastes
) -> None:
    recording = Recording(client)
    plan = SimulationPlan(spec=TINY, shoppers=12, duration_seconds=120, seed=101,
                          concurrency=3)
    summary = simulate(recording, plan, tastes)

    assert (summary.visits, summary.shoppers, summary.stopped_by) == (12, 12, "shoppers")
    assert summary.errors == 0, summary.error_samples
    assert all(r.status_code < 500 for r in recording.answers)
    # Home, two product-page lists, recommendations, search and the events, per visit.
    assert summary.requests >= 12 * 6
    assert summary.events_posted == len(recording.events) > 12
    assert summary.events_accepted == summary.events_posted
    assert stored_events(resources, 101) == summary.events_accepted
    assert summary.clicks == sum(e["event_type"] == "click" for e in recording.events) > 0
    assert summary.purchases == sum(e["event_type"] == "purchase" for e in recording.events)

    issued = recording.issued_request_ids()
    for event in recording.events:
        assert event["session_id"].startswith("sim-101-")
        assert event["user_id"] in tastes.user_ids
        if event["event_type"] in LIST_EVENTS:
            assert event["request_id"] in issued
        if "request_id" in event:
            assert resources.request_ids.issued(parse_request_id(event["request_id"]))
    assert len({e["event_id"] for e in recording.events}) == len(recording.events)


def test_a_run_stops_when_its_time_is_up(client: Client, tastes: Tastes) -> None:
    plan = SimulationPlan(spec=TINY, shoppers=10_000, duration_seconds=0.3, seed=102)
    summary = Simulator(client, plan, tastes).run()
    assert summary.stopped_by == "duration"
    assert 1 <= summary.visits < 10_000
    assert summary.errors == 0, summary.error_samples


def test_a_server_with_another_catalog_is_refused(client: Client, resources: Resources) -> None:
    other = ShopSpec(products=TINY.products, users=TINY.users, events=0, seed=TINY.seed + 1)
    plan = SimulationPlan(spec=other, shoppers=5, seed=103)
    with pytest.raises(SimulationRefused, match="catalog is not the demo shop"):
        simulate(client, plan)
    assert stored_events(resources, 103) == 0


def test_a_public_key_is_refused(resources: Resources, tastes: Tastes) -> None:
    public = keys.create(resources.database, "public", "simulate test")
    with TestClient(app=create_app(resources=resources)) as client:
        client.headers.update(bearer(public.key))
        with pytest.raises(SimulationRefused, match="server or admin key"):
            simulate(client, SimulationPlan(spec=TINY, shoppers=5, seed=104), tastes)
    assert stored_events(resources, 104) == 0


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000", "http://localhost:9000",
                                 "http://[::1]:8000", "https://127.0.0.2"])
def test_loopback_servers_are_played(url: str) -> None:
    check_loopback(url)


@pytest.mark.parametrize("url", ["http://10.0.0.7:8000", "http://shop.example.com",
                                 "http://127.0.0.1.example.com", "ftp://127.0.0.1",
                                 "127.0.0.1:8000"])
def test_other_servers_are_refused(url: str) -> None:
    with pytest.raises(SimulationRefused):
        check_loopback(url)


def test_the_command_refuses_a_remote_url_in_one_line(capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    assert main(["simulate", "--url", "http://192.0.2.1:8000", "--key", "k"]) == 2
    err = capsys.readouterr().err.strip()
    assert "not a loopback address" in err
    assert len(err.splitlines()) == 1
