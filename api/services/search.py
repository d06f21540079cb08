"""Search for one request: the query understood, the shopper's history, and the searcher
over the live index; Postgres alone answers when there is no index or the store fails."""

from __future__ import annotations

import logging

from api.errors import ApiError
from api.resources import Resources
from indexing.vectorstore.port import VectorStoreError
from models.history import load_history, window_start
from ranking.query import InvalidQuery
from ranking.reasons import LEXICAL
from retrieval.filters import ItemFilters
from retrieval.results import ListResult
from retrieval.search import (
    Searcher,
    SearchRequest,
    UnderstoodQuery,
    lexical_only,
    understand,
)

log = logging.getLogger(__name__)


class BadQuery(ApiError):
    def __init__(self, problem: InvalidQuery) -> None:
        super().__init__(400, problem.code, f"q: {problem.message}", {"parameter": "q"})


def understood(resources: Resources, q: str) -> UnderstoodQuery:
    """The query normalised and corrected; 400 naming `q` when there is nothing to search."""
    try:
        return understand(q, resources.vocabulary(), resources.settings.search.max_query_chars)
    except InvalidQuery as problem:
        raise BadQuery(problem) from None


def search(resources: Resources, query: UnderstoodQuery, limit: int, offset: int,
           filters: ItemFilters, user_id: str | None = None,
           session_id: str | None = None) -> ListResult:
    settings = resources.settings
    live, view = resources.index.live, resources.index.view
    if live is None or view is None:
        return _lexical_only(resources, query, limit, offset, filters, "no_index")
    history = None
    if user_id is not None or session_id is not None:
        since = window_start(live.as_of, settings.training.event_window_days)
        history = load_history(resources.database, user_id, session_id, since,
                               settings.rec.history_events)
    searcher = Searcher(resources.store, settings, view, resources.lexical,
                        resources.query_embeddings)
    try:
        result = searcher.search(SearchRequest(terms=query.terms, text=query.text, limit=limit,
                                               offset=offset, filter=filters.to_filter()),
                                 history)
    except VectorStoreError:
        log.exception("vector store failed; answering search from Postgres alone")
        return _lexical_only(resources, query, limit, offset, filters, "vector_store_failed")
    resources.metrics.searches.labels(result.strategy).inc()
    return result


def _lexical_only(resources: Resources, query: UnderstoodQuery, limit: int, offset: int,
                  filters: ItemFilters, cause: str) -> ListResult:
    resources.metrics.searches.labels(LEXICAL).inc()
    resources.metrics.search_fallbacks.labels(cause).inc()
    return lexical_only(resources.database, resources.lexical, query, filters.to_filter(),
                        resources.settings.search.candidates, limit, offset)
