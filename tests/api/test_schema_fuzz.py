"""The API fuzzed from its own OpenAPI document, in process on the shared shop: schemathesis
generates requests for every operation (with the admin key, so the admin routes are reached
too) and checks that none answers 5xx and that every answer matches what the document
promises (status, content type, body schema). Valid and invalid inputs both: the document's
constraints generate the valid ones, and schemathesis' negative mode breaks them. The same
run over the wire, against `lodestar serve`, is in tests/e2e/test_fuzz_over_http.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from litestar.testing import TestClient
from schemathesis.generation import GenerationMode

from api.app import create_app
from api.resources import Resources
from tests.fuzz import fuzz_every_operation

EXAMPLES = 20  # per operation and mode


@pytest.fixture(scope="module")
def api(resources: Resources) -> Iterator[Any]:
    app = create_app(resources=resources)
    with TestClient(app=app):  # runs the lifespan, which hands the resources to handlers
        yield schemathesis.openapi.from_asgi("/schema/openapi.json", app)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_5xx_and_every_answer_matches_the_document(api: Any, mode: GenerationMode) -> None:
    fuzz_every_operation(api, mode, EXAMPLES)
