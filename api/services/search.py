"""Search for one request: parse the query, find and rank, read the page's products."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from api import schemas
from api.errors import ApiError, IndexUnavailable
from api.resources import Resources
from api.services.similar import ItemFilters
from indexing.search import Searcher, SearchOutcome, SearchRequest, understand
from indexing.vectorstore.port import point_id
from models.history import load_history
from ranking.query import InvalidQuery
from ranking.search_rank import LEXICAL, SEMANTIC, Ranked

_SHOWN_FIELDS = ("product_id", "title", "category", "brand", "price", "in_stock")


class BadQuery(ApiError):
    def __init__(self, problem: InvalidQuery) -> None:
        super().__init__(400, problem.code, f"q: {problem.message}", {"parameter": "q"})


def search(
    resources: Resources,
    q: str,
    limit: int,
    offset: int,
    filters: ItemFilters,
    user_id: str | None = None,
    session_id: str | None = None,
    request_id: str = "",
) -> schemas.SearchResponse:
    settings = resources.settings
    try:
        query = understand(q, resources.vocabulary(), settings.search_max_query_chars)
    except InvalidQuery as problem:
        raise BadQuery(problem) from None
    live, view = resources.index.live, resources.index.view
    if live is None or view is None:
        raise IndexUnavailable()
    history = None
    if user_id is not None or session_id is not None:
        since = None
        if live.as_of is not None and settings.event_window_days > 0:
            since = live.as_of - timedelta(days=settings.event_window_days)
        history = load_history(resources.database, user_id, session_id, since,
                               settings.rec_history_events)
    searcher = Searcher(resources.store, settings, view, resources.lexical,
                        resources.query_embeddings)
    outcome = searcher.search(SearchRequest(terms=query.terms, text=query.text, limit=limit,
                                            offset=offset, filter=filters.to_filter()),
                              history)
    resources.metrics.count("lodestar_searches_total",
                            personalised="true" if outcome.personalised else "false")
    return _response(resources, outcome, query.text, query.corrections, limit, offset,
                     view.version, view.items, request_id)


def _response(resources: Resources, outcome: SearchOutcome, understood: str,
              corrections: dict[str, str], limit: int, offset: int, version: int,
              collection: str, request_id: str) -> schemas.SearchResponse:
    # Price and stock change between reindexes: the page's payloads are read afresh.
    records = resources.store.retrieve(collection, [point_id(r.product_id)
                                                    for r in outcome.items],
                                       payload_fields=_SHOWN_FIELDS)
    payloads = {str(r.payload["product_id"]): r.payload for r in records
                if r.payload and "product_id" in r.payload}
    items = [_item(r, payloads[r.product_id]) for r in outcome.items if r.product_id in payloads]
    return schemas.SearchResponse(
        query=understood,
        corrections=corrections,
        items=items,
        total=outcome.total,
        offset=offset,
        limit=limit,
        facets=schemas.Facets(
            category=[schemas.FacetValue(v, n) for v, n in outcome.facets["category"]],
            brand=[schemas.FacetValue(v, n) for v, n in outcome.facets["brand"]]),
        personalised=outcome.personalised,
        model_version=version,
        request_id=request_id,
    )


def _item(ranked: Ranked, payload: Mapping[str, Any]) -> schemas.SearchItem:
    both = LEXICAL in ranked.matched and SEMANTIC in ranked.matched
    kind = ("matched_words_and_meaning" if both else
            "matched_words" if LEXICAL in ranked.matched else "matched_meaning")
    return schemas.SearchItem(
        product_id=ranked.product_id,
        score=round(ranked.score, 6),
        title=str(payload.get("title", "")),
        category=str(payload.get("category", "")),
        brand=str(payload.get("brand", "")),
        price=float(payload.get("price", 0.0)),
        in_stock=bool(payload.get("in_stock", True)),
        reason=schemas.SearchReason(kind=kind, matched=list(ranked.matched),
                                    lifted_by=list(ranked.lifted_by)),
    )
