"""Search impressions and clicks in: `POST /v1/search/events`, one event or a batch."""

from __future__ import annotations

from litestar import Controller, Response, post
from litestar.di import NamedDependency
from litestar.params import RawBody

from api.auth import Caller, requires
from api.controllers.events import INGEST_RESPONSES, answer_ingest
from api.openapi import one_or_batch
from api.resources import Resources
from api.schemas.events import BatchResult, EventStatus
from api.schemas.search_events import SearchEventBatch, SearchEventIn
from api.services import search_events

Res = NamedDependency[Resources]

class SearchEventController(Controller):
    path = "/v1/search/events"
    tags = ["search"]
    guards = [requires("public")]

    @post(
        "/",
        sync_to_thread=True,
        operation_class=one_or_batch(
            SearchEventIn, SearchEventBatch,
            'One search event, or {"events": [...]} with several.'),
        responses=INGEST_RESPONSES,
    )
    def post_search_events(
        self, resources: Res, caller: NamedDependency[Caller], body: RawBody
    ) -> Response[EventStatus | BatchResult]:
        """Record what a search response showed (`impression`) and what the shopper
        clicked, tied to the response's `request_id`: one event object, or
        `{"events": [...]}` with up to LODESTAR_EVENTS_BATCH_MAX. Idempotent on
        `event_id`. Answered as `POST /v1/events` answers: one event, 201 when stored, 200
        when already stored, 400 naming the field when refused; a batch, 200 with a result
        per event in input order, its events stored in one transaction."""
        return answer_ingest(resources, caller, body, search_events.ingest)
