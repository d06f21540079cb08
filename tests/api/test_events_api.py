"""`POST /v1/events` through the app, on real Postgres: answers, idempotency, atomicity."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import text

from api.app import create_app
from api.resources import Resources
from indexing.vectorstore import open_vector_store
from models.db import Database
from models.settings import Settings
from models.tenancy import as_owner
from retrieval.live_index import LiveIndex
from tests.clients import api_client
from tests.conftest import empty_tables
from tests.shop import fill_tiny_shop

Client = TestClient  # type: ignore[type-arg]
URL = "/v1/events"


@pytest.fixture(scope="module")
def resources(
    database: Database, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Resources]:
    """The shared API fixture without its reindex: events need the catalog in Postgres,
    not the vector index, and building one is most of the shared fixture's time. The
    conftest's `client` runs its app over these resources."""
    empty_tables(database)
    fill_tiny_shop(database)
    settings = Settings.from_env(data_dir=tmp_path_factory.mktemp("events"))
    store = open_vector_store(settings)
    res = Resources(settings=settings, database=database, store=store, index=LiveIndex(database))
    yield res
    store.close()


@pytest.fixture(scope="module")
def products(resources: Resources) -> list[tuple[str, Decimal]]:
    """A few catalog products and their prices."""
    with resources.database.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT product_id, price FROM products ORDER BY product_id LIMIT 5")).all()
    return [(str(pid), price) for pid, price in rows]


def new_id(prefix: str = "ev") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def an_event(product_id: str, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event_id": new_id(), "user_id": new_id("shopper"), "product_id": product_id,
        "event_type": "click", "occurred_at": "2025-03-01T10:00:00Z", "session_id": "s-1",
        "device_type": "mobile", "dwell_ms": 1200,
    }
    body.update(changes)
    return body


def stored(resources: Resources, event_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The stored rows of these events, by event_id."""
    with resources.database.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT * FROM events WHERE event_id = ANY(:ids)"), {"ids": list(event_ids)}
        ).mappings().all()
    return {row["event_id"]: dict(row) for row in rows}


def users_known(resources: Resources, user_ids: Sequence[str]) -> set[str]:
    with resources.database.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT user_id FROM users WHERE user_id = ANY(:ids)"), {"ids": list(user_ids)}
        ).scalars().all()
    return set(rows)


def refusal(client: Client, body: Any) -> dict[str, Any]:
    """The error of a request expected to be refused with 400."""
    response = client.post(URL, json=body)
    assert response.status_code == 400, response.text
    error: dict[str, Any] = response.json()["error"]
    return error


# --- one event ---------------------------------------------------------------------------------


def test_one_event_is_stored_then_a_duplicate(
    client: Client, resources: Resources, products: list[tuple[str, Decimal]]
) -> None:
    pid, price = products[0]
    issued = resources.request_ids.new()
    body = an_event(pid, request_id=issued)
    first = client.post(URL, json=body)
    assert first.status_code == 201, first.text
    assert first.json() == {"event_id": body["event_id"], "status": "accepted",
                            "request_id": issued}
    row = stored(resources, [body["event_id"]])[body["event_id"]]
    assert row["price"] == price
    assert row["occurred_at"] == datetime(2025, 3, 1, 10, tzinfo=UTC)
    assert (row["user_id"], row["event_type"], row["dwell_ms"]) == (body["user_id"], "click", 1200)
    assert users_known(resources, [body["user_id"]]) == {body["user_id"]}

    again = client.post(URL, json=body)
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "duplicate"
    # The same id with other content is not a duplicate: refused, never silently dropped.
    other = client.post(URL, json={**body, "dwell_ms": 99, "user_id": "someone-else"})
    assert other.status_code == 409, other.text
    error = other.json()["error"]
    assert error["code"] == "conflict" and error["details"] == {"parameter": "event_id"}
    assert "user_id" in error["message"] and "dwell_ms" in error["message"]
    # The stored event is kept as it was.
    assert stored(resources, [body["event_id"]])[body["event_id"]]["dwell_ms"] == 1200
    batch = client.post(URL, json={"events": [body, {**body, "event_type": "purchase"}]})
    assert [r["status"] for r in batch.json()["results"]] == ["duplicate", "rejected"]
    assert batch.json()["results"][1]["error"]["code"] == "conflict"


def test_time_defaults_to_now_and_no_zone_means_utc(
    client: Client, resources: Resources, products: list[tuple[str, Decimal]]
) -> None:
    pid, _ = products[0]
    before = datetime.now(UTC)
    undated = an_event(pid, occurred_at=None)
    naive = an_event(pid, occurred_at="2024-12-24T18:30:00")
    for body in (undated, naive):
        assert client.post(URL, json=body).status_code == 201
    rows = stored(resources, [undated["event_id"], naive["event_id"]])
    assert before <= rows[undated["event_id"]]["occurred_at"] <= datetime.now(UTC)
    assert rows[naive["event_id"]]["occurred_at"] == datetime(2024, 12, 24, 18, 30, tzinfo=UTC)


@pytest.mark.parametrize(("changes", "parameter", "says"), [
    ({"event_type": "buy"}, "event_type", "not one of view, click"),
    ({"dwell_ms": -1}, "dwell_ms", None),
    ({"dwell_ms": "1200"}, "dwell_ms", None),
    ({"occurred_at": "1989-06-01T00:00:00Z"}, "occurred_at", "1990"),
    ({"user_id": ""}, "user_id", None),
    ({"user_id": " "}, "user_id", "is empty"),
    ({"session_id": "x" * 500}, "session_id", None),
    ({"device_type": "a very long device description indeed"}, "device_type", None),
    ({"dwel_ms": 5}, "dwel_ms", "did you mean 'dwell_ms'"),
    ({"request_id": "nope"}, "request_id", None),
    ({"event_id": None}, "event_id", None),
])
def test_a_bad_event_is_refused_naming_the_field(
    client: Client, resources: Resources, products: list[tuple[str, Decimal]],
    changes: dict[str, Any], parameter: str, says: str | None,
) -> None:
    """`says` is checked where the wording is ours; a declared constraint's is the
    decoder's (None)."""
    body = an_event(products[0][0], **changes)
    error = refusal(client, body)
    assert error["code"] == "invalid_parameter"
    assert error["message"].startswith(f"{parameter}: ")
    assert says is None or says in error["message"]
    assert error["details"] == {"parameter": parameter}
    if isinstance(body["event_id"], str):
        assert not stored(resources, [body["event_id"]])


def test_a_time_in_the_future_is_refused_beyond_the_skew(
    client: Client, products: list[tuple[str, Decimal]]
) -> None:
    pid, _ = products[0]
    soon = (datetime.now(UTC) + timedelta(seconds=60)).isoformat()
    assert client.post(URL, json=an_event(pid, occurred_at=soon)).status_code == 201
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    error = refusal(client, an_event(pid, occurred_at=later))
    assert error["message"].startswith("occurred_at: ")
    assert "ahead of the server's clock" in error["message"]


def test_an_unknown_product_is_refused(client: Client, resources: Resources) -> None:
    body = an_event("NOPE-404")
    error = refusal(client, body)
    assert error["code"] == "unknown_product"
    assert error["message"] == "product_id: 'NOPE-404' is not in the catalog"
    assert not stored(resources, [body["event_id"]])
    assert not users_known(resources, [body["user_id"]])


# --- batches -----------------------------------------------------------------------------------


def test_a_batch_answers_each_event_in_order(
    client: Client, resources: Resources, products: list[tuple[str, Decimal]]
) -> None:
    (p0, price0), (p1, price1) = products[0], products[1]
    before = an_event(p0)
    assert client.post(URL, json=before).status_code == 201
    new, later = an_event(p0), an_event(p1, event_type="purchase")
    batch = [
        new,                                     # 0 accepted
        an_event(p1, dwell_ms=-3),               # 1 invalid value
        an_event("NOPE-404"),                    # 2 unknown product
        before,                                  # 3 stored by the earlier request
        dict(new),                               # 4 identical repeat of 0
        {**new, "event_type": "view"},           # 5 same id, different event
        later,                                   # 6 accepted
        {**later, "colour": "red"},              # 7 unknown field
    ]
    response = client.post(URL, json={"events": batch})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (2, 2, 4)
    results = body["results"]
    assert [r["index"] for r in results] == list(range(len(batch)))
    assert [r["event_id"] for r in results] == [e["event_id"] for e in batch]
    assert [r["status"] for r in results] == [
        "accepted", "rejected", "rejected", "duplicate", "duplicate", "rejected", "accepted",
        "rejected",
    ]
    codes = [r["error"]["code"] if r["error"] else None for r in results]
    assert codes == [None, "invalid_parameter", "unknown_product", None, None, "conflict", None,
                     "invalid_parameter"]
    assert results[1]["error"]["message"].startswith("dwell_ms: ")
    assert "repeats event 0" in results[5]["error"]["message"]
    assert "'colour'" in results[7]["error"]["message"]

    rows = stored(resources, [e["event_id"] for e in batch])
    assert set(rows) == {before["event_id"], new["event_id"], later["event_id"]}
    assert rows[new["event_id"]]["event_type"] == "click"  # the first of the repeats won
    assert (rows[new["event_id"]]["price"], rows[later["event_id"]]["price"]) == (price0, price1)
    assert users_known(resources, [new["user_id"], later["user_id"], batch[2]["user_id"]]) == {
        new["user_id"], later["user_id"]}


def test_posting_a_batch_again_adds_nothing(
    client: Client, resources: Resources, products: list[tuple[str, Decimal]]
) -> None:
    batch = [an_event(products[i % len(products)][0]) for i in range(200)]
    first = client.post(URL, json={"events": batch}).json()
    assert (first["accepted"], first["duplicates"], first["rejected"]) == (200, 0, 0)
    with resources.database.engine.connect() as conn:
        count_events = text("SELECT count(*) FROM events")
        count_users = text("SELECT count(*) FROM users")
        events_before = conn.execute(count_events).scalar()
        users_before = conn.execute(count_users).scalar()
    again = client.post(URL, json={"events": batch}).json()
    assert (again["accepted"], again["duplicates"], again["rejected"]) == (0, 200, 0)
    assert {r["status"] for r in again["results"]} == {"duplicate"}
    with resources.database.engine.connect() as conn:
        assert conn.execute(count_events).scalar() == events_before
        assert conn.execute(count_users).scalar() == users_before


def test_a_batch_over_the_cap_is_refused(
    client: Client, resources: Resources, products: list[tuple[str, Decimal]]
) -> None:
    cap = resources.settings.serving.events_batch_max
    batch = [an_event(products[0][0]) for _ in range(cap + 1)]
    response = client.post(URL, json={"events": batch})
    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert error["code"] == "payload_too_large"
    assert f"at most {cap} events" in error["message"]
    assert not stored(resources, [e["event_id"] for e in batch])


# --- malformed bodies --------------------------------------------------------------------------


@pytest.mark.parametrize("content", [
    b"",
    b"not json at all",
    b'{"event_id": "e1",',
    b"[1, 2, 3]",
    b'"a string"',
    b"null",
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a": {"b": {"c": [1, [2, [3, {"d": null}]]]}}}',
    b'{"events": 42}',
    b'{"events": []}',
    b'{"events": [{}], "more": true}',
    b'{"event_id": "\xff\xfe"}',
    b'{"event_id": "\\ud800", "user_id": "u", "product_id": "p", "event_type": "view"}',
    b'{"event_id": "e1", "user_id": "' + b"u" * 1_000_000 + b'", "product_id": "p", '
    b'"event_type": "view"}',
    b'{"event_id": ["e1"], "user_id": {"x": 1}, "product_id": 7, "event_type": false}',
    b'{"event_id": "e\\u0000", "user_id": "u", "product_id": "p", "event_type": "view"}',
    b'{"event_id": "e1", "user_id": "u", "product_id": "p", "event_type": "view", '
    b'"dwell_ms": 1e400}',
])
def test_malformed_bodies_are_refused_with_400(client: Client, content: bytes) -> None:
    response = client.post(URL, content=content, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text[:500]
    error = response.json()["error"]
    assert error["code"] == "invalid_parameter"
    assert error["message"]


def test_garbage_inside_a_batch_is_refused_event_by_event(
    client: Client, products: list[tuple[str, Decimal]]
) -> None:
    good = an_event(products[0][0])
    garbage: list[Any] = [1, "event", None, [good], {"x": {"y": [1, 2]}},
                          {**good, "event_id": "e" * 100_000}, good]
    response = client.post(URL, json={"events": garbage})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [r["status"] for r in body["results"]] == ["rejected"] * 6 + ["accepted"]
    # A refused id is echoed only when it is short enough to be one.
    assert body["results"][5]["event_id"] is None
    assert len(response.content) < 10_000


# --- failures ----------------------------------------------------------------------------------


@pytest.fixture
def poisoned_session(resources: Resources) -> Iterator[str]:
    """A session id that the events table refuses, by a constraint added for this test: a
    write that passes validation and still fails in the database."""
    with as_owner(), resources.database.engine.begin() as conn:
        conn.execute(text("ALTER TABLE events ADD CONSTRAINT test_poisoned_session "
                          "CHECK (session_id IS DISTINCT FROM 'poisoned') NOT VALID"))
    try:
        yield "poisoned"
    finally:
        with as_owner(), resources.database.engine.begin() as conn:
            conn.execute(text("ALTER TABLE events DROP CONSTRAINT test_poisoned_session"))


def test_a_failed_write_stores_nothing_of_the_request(
    client: Client, resources: Resources, products: list[tuple[str, Decimal]],
    poisoned_session: str,
) -> None:
    batch = [an_event(products[0][0]) for _ in range(20)]
    batch[13]["session_id"] = poisoned_session
    response = client.post(URL, json={"events": batch})
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "database_unavailable"
    assert int(response.headers["retry-after"]) > 0
    assert not stored(resources, [e["event_id"] for e in batch])
    assert not users_known(resources, [e["user_id"] for e in batch])


def test_an_unreachable_database_answers_503(
    resources: Resources, products: list[tuple[str, Decimal]]
) -> None:
    # A port held but not listening: connecting is refused at once.
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        port = held.getsockname()[1]
        dead = Database(f"postgresql+psycopg://lodestar@127.0.0.1:{port}/lodestar"
                        "?connect_timeout=2")
        broken = Resources(settings=resources.settings, database=dead, store=resources.store,
                           index=LiveIndex(dead))
        try:
            with api_client(create_app(resources=broken)) as broken_client:
                responses = [broken_client.post(URL, json=an_event(products[0][0]))]
                # Reads too: a 503 the client may retry, never a 500.
                responses += [broken_client.get(path) for path in (
                    "/v1/products", f"/v1/products/{products[0][0]}", "/v1/categories",
                    "/v1/users/U000001/recommendations", "/v1/search?q=shoes")]
        finally:
            dead.engine.dispose()
    for response in responses:
        assert response.status_code == 503, response.text
        assert response.json()["error"]["code"] == "database_unavailable"
        assert int(response.headers["retry-after"]) > 0


# --- documentation -----------------------------------------------------------------------------


def test_openapi_documents_the_body(client: Client) -> None:
    response = client.get("/schema/openapi.json")
    assert response.status_code == 200
    post = response.json()["paths"][URL]["post"]
    one, batch = post["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
    assert one["required"] == ["event_id", "user_id", "product_id", "event_type"]
    assert one["additionalProperties"] is False
    assert one["properties"]["event_type"]["enum"] == [
        "view", "click", "add_to_cart", "purchase", "return", "dislike", "hide"]
    assert batch["properties"]["events"]["items"]["title"] == "EventIn"
    assert {"200", "201", "400", "413", "503"} <= set(post["responses"])
