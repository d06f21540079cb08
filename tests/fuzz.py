"""Fuzzing the API from its own OpenAPI document, shared by the in-process run (the shared
shop, through the ASGI app) and the over-the-wire run (a real `lodestar serve`)."""

from __future__ import annotations

from typing import Any

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.clients import BEARER

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
# A reindex job started by the fuzzer would rebuild the shop's index in a child process
# while the fuzzer reads it: its route is tested in test_admin_jobs_api.
NOT_FUZZED = {("POST", "/v1/admin/reindex")}
MIN_OPERATIONS = 15  # every public and admin route, less the reindex job
# Past the API's own 8 KB limit (a 414 in the envelope) lies the HTTP server's parser limit
# (about 128 KB of request line): there the server answers a bare 400 and closes the
# connection while the client is still sending, which the client sees as a reset. Only a
# URL longer than this may end that way; every shorter one must get an answer.
TRANSPORT_REFUSES_URLS_OVER = 64 * 1024


def operations(api: Any) -> list[Any]:
    found = [result.ok() for result in api.get_all_operations()]
    return [op for op in found if (op.method.upper(), op.path) not in NOT_FUZZED]


def fuzz_every_operation(api: Any, mode: GenerationMode, examples: int) -> int:
    """Send `examples` generated requests per operation (valid ones, or in NEGATIVE mode ones
    that break the document's constraints) with the admin key; a 5xx or an answer the
    document does not promise fails. Returns how many operations were fuzzed."""
    fuzzed = operations(api)
    assert len(fuzzed) >= MIN_OPERATIONS
    for operation in fuzzed:
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=examples, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def fuzz(case: Any) -> None:
            try:
                case.call_and_validate(headers=BEARER, checks=CHECKS)
            except requests.RequestException:
                if url_bytes(case) <= TRANSPORT_REFUSES_URLS_OVER:
                    raise

        try:
            fuzz()
        except Unsatisfiable:
            # An operation with nothing to break (no parameter, no body) has no negative
            # case; any other failure is a finding.
            assert mode is GenerationMode.NEGATIVE, operation.label
    return len(fuzzed)


def url_bytes(case: Any) -> int:
    """How long the request line's target (path and query) of `case` is, as sent."""
    sent = case.as_transport_kwargs(base_url="http://fuzz")
    prepared = requests.Request(method=sent["method"], url=sent["url"],
                                params=sent.get("params")).prepare()
    return len(prepared.path_url)
