"""Personalised recommendations for one request: the shopper's history from Postgres, the
recommender over the live index, and the stale-model guard."""

from __future__ import annotations

import logging
import time

from api.resources import Resources
from indexing.vectorstore.port import VectorStoreError
from models.history import load_history, window_start
from ranking.rules import RuleSet
from retrieval.fallback import fallback_list
from retrieval.filters import ItemFilters
from retrieval.recommender import Recommender, RecRequest
from retrieval.results import ListResult

log = logging.getLogger(__name__)


def recommend(
    resources: Resources,
    user_id: str,
    limit: int,
    filters: ItemFilters,
    session_id: str | None = None,
    product_id: str | None = None,
    exclude: frozenset[str] = frozenset(),
    device_type: str | None = None,
) -> ListResult:
    """Rank for the shopper; `strategy` is the route taken, `version` None for the
    fallback. The stale-model guard: with no live index, an index older than
    LODESTAR_INDEX_MAX_AGE_HOURS, or a vector store failing mid-request, the answer is the
    fallback's popular list, so that the request still succeeds."""
    live, view = resources.index.live, resources.index.view
    settings = resources.settings
    metrics = resources.metrics
    cause = None
    if live is None or view is None:
        cause = "no_index"
    elif resources.index_stale():
        cause = "stale_index"
    if cause is None and live is not None and view is not None:
        since = window_start(live.as_of, settings.training.event_window_days)
        history = load_history(resources.database, user_id, session_id, since,
                               settings.rec.history_events, device_type)
        request = RecRequest(limit=limit, filter=filters.to_filter(), exclude=exclude,
                             product_id=product_id)
        try:
            result = Recommender(resources.store, settings, view).recommend(history, request)
        except VectorStoreError:
            log.exception("vector store failed; answering with the fallback")
            cause = "vector_store_failed"
        else:
            metrics.recommendations.labels(result.strategy).inc()
            return result
    rules = RuleSet(now=time.time(),
                    exclude_ids=exclude | ({product_id} if product_id else frozenset()),
                    max_per_category=settings.rec.max_per_category,
                    max_per_brand=settings.rec.max_per_brand)
    result = fallback_list(resources.fallback.rows(resources.database, settings), filters,
                           rules, limit)
    metrics.recommendations.labels(result.strategy).inc()
    metrics.recommendation_fallbacks.labels(cause or "").inc()
    return result
