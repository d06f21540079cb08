"""The API fuzzed over the wire: a tiny shop built and indexed by the CLI, served by a real
`lodestar serve` on loopback (its HTTP parser, its lifespan, its settings from the
environment), and schemathesis sending every operation valid and broken requests with the
admin key. No 5xx, and every answer is one the OpenAPI document promises. The same checks
run in process, with more examples, in tests/api/test_schema_fuzz.py."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from schemathesis.generation import GenerationMode

from tests.clients import ADMIN_KEY
from tests.e2e.processes import (
    free_port,
    lodestar,
    run_lodestar,
    wait_until_serving,
    wait_until_warm,
)
from tests.fuzz import fuzz_every_operation

EXAMPLES = 10  # per operation and mode: each is a real HTTP round trip


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    data_dir: Path = tmp_path_factory.mktemp("fuzz-over-http")
    settings = {"LODESTAR_ALS_ITERATIONS": "5", "LODESTAR_ADMIN_KEY": ADMIN_KEY}
    run_lodestar(data_dir, "generate", "--products", "300", "--users", "120",
                 "--events", "5000", "--seed", "5", **settings)
    run_lodestar(data_dir, "reindex", **settings)
    port = free_port()
    server: subprocess.Popen[bytes] = lodestar(data_dir, "serve", "--port", str(port),
                                               **settings)
    try:
        wait_until_serving(port)
        wait_until_warm(port)
        yield schemathesis.openapi.from_url(f"http://127.0.0.1:{port}/schema/openapi.json")
        assert server.poll() is None, "the server died while fuzzed"
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_5xx_over_the_wire_and_every_answer_matches_the_document(
    api: Any, mode: GenerationMode
) -> None:
    fuzz_every_operation(api, mode, EXAMPLES)
