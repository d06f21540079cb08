"""Shoppers' events in: `POST /v1/events`, one event or a batch."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import msgspec
from litestar import Controller, Response, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
)
from litestar.params import RawBody

from api import schemas
from api.resources import Resources
from api.schemas.events import BatchResult, EventBatch, EventIn, EventStatus
from api.services import events
from models.db import Database

Res = NamedDependency[Resources]


class Ingest(Protocol):
    """An ingest service: `events.ingest`, `search_events.ingest`."""

    def __call__(self, database: Database, items: Sequence[Any], *, now: datetime,
                 future_skew: timedelta) -> events.Ingested[Any]: ...

_SCHEMA_FIELDS = {f.metadata.get("alias", f.name): f.name for f in dataclasses.fields(Schema)}


def _openapi_schema(node: Mapping[str, Any], components: Mapping[str, Any]) -> Schema:
    """A JSON Schema node from msgspec as the framework's Schema, references inlined."""
    if "$ref" in node:
        return _openapi_schema(components[node["$ref"]], components)
    values: dict[str, Any] = {}
    for key, raw in node.items():
        value: Any = raw
        if key == "properties":
            value = {name: _openapi_schema(v, components) for name, v in raw.items()}
        elif key in {"items", "additionalProperties"} and isinstance(raw, Mapping):
            value = _openapi_schema(raw, components)
        elif key in {"anyOf", "oneOf", "allOf"}:
            value = [_openapi_schema(v, components) for v in raw]
        elif key == "type":
            value = OpenAPIType(raw) if isinstance(raw, str) else [OpenAPIType(v) for v in raw]
        elif key == "format":
            value = OpenAPIFormat(raw)
        values[_SCHEMA_FIELDS[key]] = value
    return Schema(**values)


def body_schema(single: type[msgspec.Struct], batch: type[msgspec.Struct]) -> Schema:
    """One event or a batch, derived from the Structs that decode them."""
    (one, many), components = msgspec.json.schema_components(
        [single, batch], ref_template="{name}"
    )
    return Schema(one_of=[_openapi_schema(one, components),
                          _openapi_schema(many, components)])


_BODY = RequestBody(
    content={"application/json": OpenAPIMediaType(schema=body_schema(EventIn, EventBatch))},
    description='One event, or {"events": [...]} with several.',
    required=True,
)


@dataclasses.dataclass
class _EventsOperation(Operation):
    """Documents the request body: the handler reads the raw body, because a batch is
    validated event by event rather than refused whole, so the framework cannot derive
    the body's schema from the handler's signature."""

    def __post_init__(self) -> None:
        self.request_body = _BODY


_ERROR = schemas.ErrorResponse


def answer_ingest(resources: Resources, body: bytes, ingest: Ingest
                  ) -> Response[EventStatus | BatchResult]:
    """Parse one event or a batch, ingest it, and answer in the shared convention: one
    event 201 (stored) / 200 (duplicate) / 400; a batch 200 with a result per event."""
    settings = resources.settings
    items, batch = events.parse_body(body, settings.serving.events_batch_max)
    ingested = ingest(resources.database, items, now=datetime.now(UTC),
                      future_skew=timedelta(seconds=settings.serving.event_future_skew_seconds))
    if batch:
        return Response(events.batch_result(ingested), status_code=200)
    answer, status = events.single_result(ingested)
    return Response(answer, status_code=status)


# What an ingest endpoint answers (events, search events): one convention for clients.
INGEST_RESPONSES = {
    201: ResponseSpec(EventStatus, generate_examples=False,
                      description="One event, stored now (status `accepted`)."),
    200: ResponseSpec(
        BatchResult | EventStatus, generate_examples=False,
        description="A batch: one result per event, in order. One event: it was"
        " stored before (status `duplicate`).",
    ),
    400: ResponseSpec(_ERROR, generate_examples=False,
                      description="Malformed body, or the one event was refused."),
    413: ResponseSpec(_ERROR, generate_examples=False,
                      description="More events than LODESTAR_EVENTS_BATCH_MAX."),
    503: ResponseSpec(_ERROR, generate_examples=False,
                      description="The database failed; nothing was stored."),
}


class EventController(Controller):
    path = "/v1/events"
    tags = ["events"]

    @post(
        "/",
        sync_to_thread=True,
        operation_class=_EventsOperation,
        responses=INGEST_RESPONSES,
    )
    def post_events(self, resources: Res, body: RawBody) -> Response[EventStatus | BatchResult]:
        """Record shoppers' events: one event object, or `{"events": [...]}` with up to
        LODESTAR_EVENTS_BATCH_MAX. Idempotent on `event_id`. One event: 201 when stored, 200
        when already stored, 400 naming the field when refused. A batch: 200 with a result
        per event in input order (`accepted`, `duplicate` or `rejected` with the reason);
        all the events it stores are written in one transaction."""
        return answer_ingest(resources, body, events.ingest)
