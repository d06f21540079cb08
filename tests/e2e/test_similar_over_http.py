"""End to end: the CLI builds a tiny shop in a fresh data dir and indexes it; a real HTTP
server answers similar-items requests over loopback."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from api.app import create_app
from api.cli import main
from models.settings import Settings
from tests.clients import BEARER
from tests.e2e.processes import free_port


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir: Path = tmp_path_factory.mktemp("e2e")
    patch = pytest.MonkeyPatch()
    patch.delenv("DATABASE_URL", raising=False)
    patch.delenv("QDRANT_URL", raising=False)
    patch.setenv("LODESTAR_DATA_DIR", str(data_dir))
    patch.setenv("LODESTAR_ALS_ITERATIONS", "5")
    try:
        assert main(["generate", "--products", "300", "--users", "120", "--events", "5000",
                     "--seed", "3"]) == 0
        assert main(["reindex"]) == 0
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(create_app(Settings.from_env()),
                                               host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
        server.should_exit = True
        thread.join(timeout=10)
    finally:
        patch.undo()
        # The CLI configured logging onto this test's captured stream; let it go.
        logging.getLogger().handlers.clear()


def test_similar_items_over_http_respect_filters_and_exclude_the_product(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=10, headers=BEARER) as http:
        assert http.get("/ready").json()["ready"] is True
        product = http.get("/v1/products?limit=1").json()["items"][0]
        pid, category = product["product_id"], product["category"]

        body = http.get(f"/v1/products/{pid}/similar", params={"limit": 5}).json()
        assert len(body["items"]) == 5
        assert pid not in {i["product_id"] for i in body["items"]}

        cap = product["price"] * 2
        filtered = http.get(f"/v1/products/{pid}/similar",
                            params={"category": category, "max_price": cap}).json()
        assert filtered["items"]
        assert all(i["category"] == category and i["price"] <= cap for i in filtered["items"])

        bad = http.get(f"/v1/products/{pid}/similar", params={"max_price": "cheap"})
        assert bad.status_code == 400
        assert "max_price" in bad.json()["error"]["message"]
