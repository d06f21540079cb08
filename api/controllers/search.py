"""Product search: `GET /v1/search`."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import QueryParameter

from api import schemas
from api.auth import check_session, check_shopper, requires
from api.controllers.params import (
    FILTERS,
    LIST_ERRORS,
    Filters,
    Id,
    Limit,
    Res,
    Who,
    check_limit,
    request_id,
)
from api.services import experiments
from api.services.present import present
from api.services.search import search, understood
from models.pseudonym import stored_user_id

MAX_OFFSET = 1_000


class SearchController(Controller):
    path = "/v1/search"
    tags = ["search"]
    guards = [requires("public")]

    @get("/", sync_to_thread=True, dependencies=FILTERS, responses=LIST_ERRORS)
    def search(
        self,
        resources: Res,
        caller: Who,
        filters: Filters,
        q: Annotated[str, QueryParameter(
            description="What the shopper typed. Case, accents and extra spaces do not "
                        "matter; a typo in a catalog word is corrected.")],
        user_id: Id = None,
        session_id: Id = None,
        limit: Limit = 20,
        offset: Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET,
                                              description="Results to skip (paging).")] = 0,
    ) -> schemas.SearchResponse:
        """Products matching the query by its words (Postgres full-text) and its meaning
        (the text vectors), fused, then reordered for the shopper when `user_id` or
        `session_id` has history. Facet counts cover every matched product. With a public
        key, `user_id` and `session_id` need that shopper's token."""
        check_limit(resources, limit)
        if user_id is not None:
            check_shopper(caller, user_id)
        if session_id is not None:
            check_session(caller, resources.database, session_id, resources.settings)
        query = understood(resources, q)
        stored = stored_user_id(resources.settings, user_id) if user_id is not None else None
        rid = request_id(resources)
        result, arm = experiments.run_list(
            resources, "search",
            lambda: search(resources, query, limit, offset, filters, user_id=stored,
                           session_id=session_id),
            limit, rid, stored, session_id)
        facets = result.facets
        return schemas.SearchResponse(
            query=query.text,
            corrections=query.corrections,
            items=present(result, schemas.SearchItem),
            total=result.total or 0,
            offset=offset,
            limit=limit,
            facets=schemas.Facets(
                category=[schemas.FacetValue(v, n) for v, n in facets.get("category", [])],
                brand=[schemas.FacetValue(v, n) for v, n in facets.get("brand", [])]),
            personalised=result.personalised,
            strategy=result.strategy,
            model_version=result.version,
            request_id=rid,
            **experiments.labels(arm),
        )
