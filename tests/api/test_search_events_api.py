"""`POST /v1/search/events` through the app, on real Postgres: search impressions and clicks
stored with their fields, idempotency, refusals naming the field, batch semantics."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import text

from api.resources import Resources
from indexing.vectorstore import open_vector_store
from models.db import Database
from models.settings import Settings
from retrieval.live_index import LiveIndex
from tests.conftest import empty_tables
from tests.shop import fill_tiny_shop

Client = TestClient  # type: ignore[type-arg]
URL = "/v1/search/events"
ISSUED: dict[str, str] = {}  # a request id this server issued, set by `issued_request_id`


@pytest.fixture(scope="module")
def resources(
    database: Database, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Resources]:
    """The shared API fixture without its reindex: search events need the catalog in
    Postgres, not the vector index. The conftest's `client` runs its app over these."""
    empty_tables(database)
    fill_tiny_shop(database)
    settings = Settings.from_env(data_dir=tmp_path_factory.mktemp("search_events"))
    store = open_vector_store(settings)
    res = Resources(settings=settings, database=database, store=store, index=LiveIndex(database))
    yield res
    store.close()


@pytest.fixture(scope="module")
def products(resources: Resources) -> list[str]:
    """A few catalog product ids."""
    with resources.database.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT product_id FROM products ORDER BY product_id LIMIT 5")).scalars().all()
    return [str(pid) for pid in rows]


@pytest.fixture(scope="module", autouse=True)
def issued_request_id(resources: Resources) -> None:
    ISSUED["request_id"] = resources.request_ids.new()


def new_id(prefix: str = "se") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def a_search_event(product_id: str, /, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event_id": new_id(), "request_id": ISSUED["request_id"], "event_type": "impression",
        "product_id": product_id, "position": 0, "user_id": "shopper-1", "session_id": "s-1",
        "query": "red shoes", "occurred_at": "2025-03-01T10:00:00Z",
    }
    body.update(changes)
    return body


def stored(resources: Resources, event_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The stored rows of these search events, by event_id."""
    with resources.database.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT * FROM search_events WHERE event_id = ANY(:ids)"),
            {"ids": list(event_ids)},
        ).mappings().all()
    return {row["event_id"]: dict(row) for row in rows}


def refusal(client: Client, body: Any) -> dict[str, Any]:
    """The error of a request expected to be refused with 400."""
    response = client.post(URL, json=body)
    assert response.status_code == 400, response.text
    error: dict[str, Any] = response.json()["error"]
    return error


# --- one event ---------------------------------------------------------------------------------


def test_one_impression_is_stored_with_its_fields(
    client: Client, resources: Resources, products: list[str]
) -> None:
    before = datetime.now(UTC)
    hyphenated = str(uuid.UUID(ISSUED["request_id"])).upper()  # the same id, as a UUID would print
    body = a_search_event(products[0], request_id=hyphenated,
                          position=3, query="  Red\x00 Shoes\n", user_id="shopper-7",
                          session_id="s-7", event_type="Impression")
    response = client.post(URL, json=body)
    assert response.status_code == 201, response.text
    # The request id is echoed in the form responses write it.
    assert response.json() == {"event_id": body["event_id"], "status": "accepted",
                               "request_id": ISSUED["request_id"]}
    row = stored(resources, [body["event_id"]])[body["event_id"]]
    assert {k: v for k, v in row.items() if k not in ("received_at", "shop_id")} == {
        "event_id": body["event_id"], "request_id": ISSUED["request_id"],
        "event_type": "impression",
        "product_id": products[0], "position": 3, "user_id": "shopper-7",
        "session_id": "s-7", "query": "Red Shoes",  # trimmed, the NUL cleaned away
        "occurred_at": datetime(2025, 3, 1, 10, tzinfo=UTC),
    }
    assert before <= row["received_at"] <= datetime.now(UTC)


def test_only_the_required_fields_are_needed(
    client: Client, resources: Resources, products: list[str]
) -> None:
    before = datetime.now(UTC)
    body: dict[str, Any] = {"event_id": new_id(), "request_id": ISSUED["request_id"],
                            "event_type": "click", "product_id": products[1], "user_id": None,
                            "query": ""}
    assert client.post(URL, json=body).status_code == 201
    row = stored(resources, [body["event_id"]])[body["event_id"]]
    assert (row["position"], row["user_id"], row["session_id"], row["query"]) == (
        None, None, None, None)
    assert before <= row["occurred_at"] <= datetime.now(UTC)


def test_a_repeat_is_a_duplicate_and_the_stored_event_is_kept(
    client: Client, resources: Resources, products: list[str]
) -> None:
    body = a_search_event(products[0], position=2)
    assert client.post(URL, json=body).status_code == 201
    again = client.post(URL, json=body)
    assert again.status_code == 200, again.text
    assert again.json() == {"event_id": body["event_id"], "status": "duplicate",
                            "request_id": ISSUED["request_id"]}
    other = client.post(URL, json={**body, "position": 9})
    assert other.status_code == 409, other.text
    assert other.json()["error"]["code"] == "conflict"
    assert stored(resources, [body["event_id"]])[body["event_id"]]["position"] == 2


def test_an_unknown_product_is_refused(client: Client, resources: Resources) -> None:
    body = a_search_event("NOPE-404")
    error = refusal(client, body)
    # The code and wording of POST /v1/events.
    assert error["code"] == "unknown_product"
    assert error["message"] == "product_id: 'NOPE-404' is not in the catalog"
    assert error["details"] == {"parameter": "product_id"}
    assert not stored(resources, [body["event_id"]])


@pytest.mark.parametrize(("changes", "parameter", "says"), [
    ({"request_id": "nope"}, "request_id", None),
    ({"request_id": "0123456789abcdef0123456789abcdeg"}, "request_id", None),
    ({"request_id": ...}, "request_id", "is required"),
    ({"event_type": "view"}, "event_type", "not one of impression, click"),
    ({"event_type": ""}, "event_type", None),
    ({"event_type": " "}, "event_type", "is empty"),
    ({"positon": 1}, "positon", "did you mean 'position'"),
    ({"position": -1}, "position", None),
    ({"position": 1001}, "position", None),
    ({"position": "3"}, "position", None),
    ({"position": 2.5}, "position", None),
    ({"query": "x" * 201}, "query", "longer than 200 characters"),
    ({"product_id": ""}, "product_id", None),
    ({"product_id": "  "}, "product_id", "is empty"),
    ({"user_id": "u" * 129}, "user_id", None),
    ({"occurred_at": "yesterday"}, "occurred_at", "not an ISO 8601"),
    ({"occurred_at": "2099-01-01T00:00:00Z"}, "occurred_at", "ahead of the server's clock"),
])
def test_a_bad_event_is_refused_naming_the_field(
    client: Client, resources: Resources, products: list[str],
    changes: dict[str, Any], parameter: str, says: str | None,
) -> None:
    """`says` is checked where the wording is ours; a declared constraint's is the
    decoder's (None)."""
    body = {k: v for k, v in a_search_event(products[0], **changes).items() if v is not ...}
    error = refusal(client, body)
    assert error["code"] == "invalid_parameter"
    assert error["message"].startswith(f"{parameter}: "), error["message"]
    assert says is None or says in error["message"], error["message"]
    assert error["details"] == {"parameter": parameter}
    assert not stored(resources, [body["event_id"]])


# --- batches -----------------------------------------------------------------------------------


def test_a_batch_of_impressions_and_a_click(
    client: Client, resources: Resources, products: list[str]
) -> None:
    request_id = resources.request_ids.new()
    shown = [a_search_event(pid, request_id=request_id, position=rank)
             for rank, pid in enumerate(products[:3])]
    click = a_search_event(products[1], request_id=request_id, position=1, event_type="click",
                           occurred_at="2025-03-01T10:00:05Z")
    batch = [*shown, click]
    response = client.post(URL, json={"events": batch})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (4, 0, 0)
    assert body["results"] == [
        {"index": i, "event_id": e["event_id"], "status": "accepted", "error": None,
         "request_id": request_id}
        for i, e in enumerate(batch)
    ]
    with resources.database.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT event_type, product_id, position FROM search_events"
            " WHERE request_id = :r ORDER BY occurred_at, position"), {"r": request_id}).all()
    assert [tuple(r) for r in rows] == [
        ("impression", products[0], 0), ("impression", products[1], 1),
        ("impression", products[2], 2), ("click", products[1], 1),
    ]

    again = client.post(URL, json={"events": batch}).json()
    assert (again["accepted"], again["duplicates"], again["rejected"]) == (0, 4, 0)
    assert {r["status"] for r in again["results"]} == {"duplicate"}
    assert len(stored(resources, [e["event_id"] for e in batch])) == 4


def test_a_batch_answers_each_event_in_order(
    client: Client, resources: Resources, products: list[str]
) -> None:
    before = a_search_event(products[0])
    assert client.post(URL, json=before).status_code == 201
    new, later = a_search_event(products[0]), a_search_event(products[1], event_type="click")
    batch: list[Any] = [
        new,                                     # 0 accepted
        a_search_event(products[1], position=-3),  # 1 invalid value
        a_search_event("NOPE-404"),              # 2 unknown product
        before,                                  # 3 stored by the earlier request
        dict(new),                               # 4 identical repeat of 0
        {**new, "position": 4},                  # 5 same id, different event
        later,                                   # 6 accepted
        {**later, "rank": 2},                    # 7 unknown field
        "impression",                            # 8 not an object
    ]
    response = client.post(URL, json={"events": batch})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (2, 2, 5)
    results = body["results"]
    assert [r["index"] for r in results] == list(range(len(batch)))
    assert [r["status"] for r in results] == [
        "accepted", "rejected", "rejected", "duplicate", "duplicate", "rejected", "accepted",
        "rejected", "rejected",
    ]
    codes = [r["error"]["code"] if r["error"] else None for r in results]
    assert codes == [None, "invalid_parameter", "unknown_product", None, None, "conflict", None,
                     "invalid_parameter", "invalid_parameter"]
    assert results[1]["error"]["message"].startswith("position: ")
    assert "repeats event 0 of this request with a different position" in (
        results[5]["error"]["message"])
    assert results[7]["error"]["message"].startswith("rank: unknown field(s) 'rank'")
    assert results[8]["event_id"] is None
    assert results[8]["error"]["message"] == "event: must be an object, not a string"

    rows = stored(resources, [e["event_id"] for e in batch if isinstance(e, dict)])
    assert set(rows) == {before["event_id"], new["event_id"], later["event_id"]}
    assert rows[new["event_id"]]["position"] == 0  # the first of the repeats won


@pytest.mark.parametrize("wrap", [
    lambda events: {"events": events, "more": True},
    lambda events: {"events": {"0": events[0]}},
    lambda events: {"events": events * 501},  # over the cap of 1000
])
def test_a_malformed_batch_stores_nothing(
    client: Client, resources: Resources, products: list[str], wrap: Any
) -> None:
    events = [a_search_event(products[0]), a_search_event(products[1])]
    response = client.post(URL, json=wrap(events))
    assert response.status_code in {400, 413}, response.text
    assert response.json()["error"]["code"] in {"invalid_parameter", "payload_too_large"}
    assert not stored(resources, [e["event_id"] for e in events])


@pytest.mark.parametrize("content", [b"", b"not json", b"[1, 2]", b"null", b'{"events": []}'])
def test_malformed_bodies_are_refused_with_400(client: Client, content: bytes) -> None:
    response = client.post(URL, content=content, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_parameter"
    assert error["details"]["parameter"] in {"body", "events"}


# --- the log outlives the catalog ----------------------------------------------------------------


def test_the_log_stays_when_its_product_is_deleted(
    client: Client, resources: Resources
) -> None:
    pid = new_id("gone")
    with resources.database.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO products (product_id, title, category, price, created_at)"
            " VALUES (:p, 'Short-lived', 'misc', 1, now())"), {"p": pid})
    body = a_search_event(pid)
    assert client.post(URL, json=body).status_code == 201
    with resources.database.engine.begin() as conn:
        conn.execute(text("DELETE FROM products WHERE product_id = :p"), {"p": pid})
    assert stored(resources, [body["event_id"]])[body["event_id"]]["product_id"] == pid
    # Posting about it now is refused: it is no longer in the catalog.
    assert refusal(client, a_search_event(pid))["code"] == "unknown_product"


# --- documentation -----------------------------------------------------------------------------


def test_openapi_documents_the_body(client: Client) -> None:
    response = client.get("/schema/openapi.json")
    assert response.status_code == 200
    post = response.json()["paths"][URL]["post"]
    one, batch = post["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
    assert one["required"] == ["event_id", "request_id", "event_type", "product_id"]
    assert one["additionalProperties"] is False
    assert one["properties"]["event_type"]["enum"] == ["impression", "click"]
    position = one["properties"]["position"]["anyOf"]
    assert {"type": "integer", "minimum": 0, "maximum": 1000} in position
    assert batch["properties"]["events"]["items"]["title"] == "SearchEventIn"
    assert {"200", "201", "400", "413", "503"} <= set(post["responses"])


def test_a_click_on_a_request_this_server_never_answered_is_refused(
    client: Client, resources: Resources, products: list[str]
) -> None:
    served = client.get("/v1/search", params={"q": "shoes"}).json()["request_id"]
    forged = uuid.uuid4().hex
    real = a_search_event(products[0], request_id=served, event_type="click")
    fake = a_search_event(products[0], request_id=forged, event_type="click")
    refused = client.post(URL, json={"events": [real, fake]})
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "unknown_request_id"
    assert refused.json()["error"]["details"] == {"index": 1, "field": "request_id"}
    assert stored(resources, [real["event_id"], fake["event_id"]]) == {}
    assert client.post(URL, json=real).status_code == 201
