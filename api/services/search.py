"""Search for one request: parse the query, find and rank, read the page's products."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import msgspec
from sqlalchemy import text

from api import schemas
from api.errors import ApiError
from api.resources import Resources
from api.services.similar import ItemFilters, list_item
from indexing.search import Searcher, SearchOutcome, SearchRequest, UnderstoodQuery, understand
from indexing.vectorstore.port import VectorStoreError, point_id
from models.history import load_history
from ranking.candidates import Candidate
from ranking.query import InvalidQuery
from ranking.search_rank import LEXICAL, SEMANTIC, Ranked, facet_counts

log = logging.getLogger(__name__)
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
        return _lexical_only(resources, query, limit, offset, filters, request_id, "no_index")
    history = None
    if user_id is not None or session_id is not None:
        since = None
        if live.as_of is not None and settings.event_window_days > 0:
            since = live.as_of - timedelta(days=settings.event_window_days)
        history = load_history(resources.database, user_id, session_id, since,
                               settings.rec_history_events)
    searcher = Searcher(resources.store, settings, view, resources.lexical,
                        resources.query_embeddings)
    try:
        outcome = searcher.search(SearchRequest(terms=query.terms, text=query.text,
                                                limit=limit, offset=offset,
                                                filter=filters.to_filter()), history)
        response = _response(resources, outcome, query.text, query.corrections, limit,
                             offset, view.version, view.items, request_id)
    except VectorStoreError:
        log.exception("vector store failed; answering search from Postgres alone")
        return _lexical_only(resources, query, limit, offset, filters, request_id,
                             "vector_store_failed")
    resources.metrics.count("lodestar_searches_total", strategy=response.strategy)
    return response


def _lexical_only(resources: Resources, query: UnderstoodQuery, limit: int, offset: int,
                  filters: ItemFilters, request_id: str, cause: str) -> schemas.SearchResponse:
    """Search from Postgres alone, when there is no index or the vector store fails: the
    full-text matches in their own order, unpersonalised, so that a shop's search box
    keeps working (`strategy: "lexical"`, no `model_version`)."""
    resources.metrics.count("lodestar_searches_total", strategy=LEXICAL)
    resources.metrics.count("lodestar_search_fallback_total", cause=cause)
    found = resources.lexical.search(query.terms, filters.to_filter(),
                                     resources.settings.search_candidates)
    ids = [p for p, _ in found]
    with resources.database.engine.connect() as conn:
        rows = {r[0]: r for r in conn.execute(text(
            "SELECT product_id, title, category, brand, price, in_stock FROM products"
            " WHERE product_id = ANY(:ids)"), {"ids": ids})}
    top = max((score for _, score in found), default=0.0) or 1.0
    items = [
        schemas.SearchItem(
            product_id=pid, score=round(score / top, 6), title=rows[pid][1],
            category=rows[pid][2], brand=rows[pid][3], price=float(rows[pid][4]),
            in_stock=bool(rows[pid][5]),
            reason=schemas.SearchReason(kind="matched_words", matched=[LEXICAL], lifted_by=[]))
        for pid, score in found[offset:offset + limit] if pid in rows
    ]
    facets = facet_counts([Candidate(product_id=r[0], category=r[2], brand=r[3],
                                     price=float(r[4]), in_stock=bool(r[5]), promoted=False,
                                     created_at=0.0, popularity=0.0) for r in rows.values()])
    return schemas.SearchResponse(
        query=query.text, corrections=query.corrections, items=items, total=len(rows),
        offset=offset, limit=limit, facets=_facets(facets), personalised=False,
        strategy=LEXICAL, model_version=None, request_id=request_id)


def _facets(counts: Mapping[str, list[tuple[str, int]]]) -> schemas.Facets:
    return schemas.Facets(
        category=[schemas.FacetValue(v, n) for v, n in counts["category"]],
        brand=[schemas.FacetValue(v, n) for v, n in counts["brand"]])


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
        facets=_facets(outcome.facets),
        personalised=outcome.personalised,
        strategy="fused+personal" if outcome.personalised else "fused",
        model_version=version,
        request_id=request_id,
    )


def _item(ranked: Ranked, payload: Mapping[str, Any]) -> schemas.SearchItem:
    both = LEXICAL in ranked.matched and SEMANTIC in ranked.matched
    kind = ("matched_words_and_meaning" if both else
            "matched_words" if LEXICAL in ranked.matched else "matched_meaning")
    shown = list_item(payload, ranked.score)
    return schemas.SearchItem(
        **msgspec.structs.asdict(shown),
        reason=schemas.SearchReason(kind=kind, matched=list(ranked.matched),
                                    lifted_by=list(ranked.lifted_by)),
    )
