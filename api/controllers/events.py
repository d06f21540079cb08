"""Shoppers' events in: `POST /v1/events`, one event or a batch."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from litestar import Controller, Response, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import RawBody

from api import schemas
from api.auth import Caller, check_posted_events, requires
from api.controllers.params import errors
from api.errors import ApiError
from api.openapi import one_or_batch
from api.resources import Resources
from api.schemas.events import BatchResult, EventBatch, EventIn, EventStatus
from api.services import events
from models import pseudonym
from models.db import Database
from models.request_ids import RequestIds

Res = NamedDependency[Resources]


class Ingest(Protocol):
    """An ingest service: `events.ingest`, `search_events.ingest`."""

    def __call__(self, database: Database, items: Sequence[Any], *, now: datetime,
                 future_skew: timedelta) -> events.Ingested[Any]: ...


_ERROR = schemas.ErrorResponse


def answer_ingest(resources: Resources, caller: Caller, body: bytes, ingest: Ingest
                  ) -> Response[EventStatus | BatchResult]:
    """Parse one event or a batch, check that the caller may post every one of them,
    ingest it, and answer in the shared convention: one event 201 (stored) / 200
    (duplicate) / 400; a batch 200 with a result per event."""
    settings = resources.settings
    items, batch = events.parse_body(body, settings.serving.events_batch_max)
    check_posted_events(caller, resources.database, items, settings)
    _check_request_ids(resources.request_ids, items)
    items = _pseudonymised(items, pseudonym.mapper(settings))
    ingested = ingest(resources.database, items, now=datetime.now(UTC),
                      future_skew=timedelta(seconds=settings.serving.event_future_skew_seconds))
    if batch:
        return Response(events.batch_result(ingested), status_code=200)
    answer, status = events.single_result(ingested)
    return Response(answer, status_code=status)


class UnknownRequestId(ApiError):
    def __init__(self, index: int) -> None:
        super().__init__(400, "unknown_request_id",
                         f"events[{index}].request_id: was not issued by this server (use the "
                         "request_id of the list response that showed the product)",
                         {"index": index, "field": "request_id"})


def _check_request_ids(signer: RequestIds, items: list[Any]) -> None:
    """Every request id an event names must be one this deployment issued; one that is not
    refuses the request before anything is stored (a forged click would skew what is learnt
    from clicks). A malformed one is left to the event's own validation."""
    for index, item in enumerate(items):
        raw = item.get("request_id") if isinstance(item, dict) else None
        if not isinstance(raw, str) or not raw:
            continue
        try:
            request_id = events.parse_request_id(raw)
        except ValueError:
            continue
        if not signer.issued(request_id):
            raise UnknownRequestId(index)


def _pseudonymised(items: list[Any], mapping: Callable[[str], str] | None) -> list[Any]:
    """Events with the shopper id replaced by its pseudonym (LODESTAR_PSEUDONYMISE_SECRET),
    before they are validated and stored."""
    if mapping is None:
        return items
    return [{**item, "user_id": mapping(item["user_id"])}
            if isinstance(item, dict) and isinstance(item.get("user_id"), str) else item
            for item in items]


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
                      description="Malformed body, or the one event was refused, or an "
                      "event names a request_id this server did not issue "
                      "(`unknown_request_id`; nothing is stored)."),
    409: ResponseSpec(_ERROR, generate_examples=False,
                      description="One event whose event_id was stored before with other "
                      "content (`conflict`); the stored event is kept."),
    413: ResponseSpec(_ERROR, generate_examples=False,
                      description="More events than LODESTAR_EVENTS_BATCH_MAX."),
    503: ResponseSpec(_ERROR, generate_examples=False,
                      description="The database failed; nothing was stored."),
    **errors(401, 403),
}


class EventController(Controller):
    path = "/v1/events"
    tags = ["events"]
    guards = [requires("public")]

    @post(
        "/",
        sync_to_thread=True,
        operation_class=one_or_batch(EventIn, EventBatch,
                                     'One event, or {"events": [...]} with several.'),
        responses=INGEST_RESPONSES,
    )
    def post_events(self, resources: Res, caller: NamedDependency[Caller],
                    body: RawBody) -> Response[EventStatus | BatchResult]:
        """Record shoppers' events: one event object, or `{"events": [...]}` with up to
        LODESTAR_EVENTS_BATCH_MAX. Idempotent on `event_id`. One event: 201 when stored, 200
        when already stored, 400 naming the field when refused. A batch: 200 with a result
        per event in input order (`accepted`, `duplicate` or `rejected` with the reason);
        all the events it stores are written in one transaction. With a public key,
        only the shopper token's own events, in sessions that shopper started."""
        return answer_ingest(resources, caller, body, events.ingest)
