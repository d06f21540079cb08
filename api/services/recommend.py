"""Personalised recommendations for one request: history from Postgres, ranking by the
shared recommender."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from api import schemas
from api.resources import Resources
from api.services.fallback import fallback_recommendation
from api.services.similar import ItemFilters
from indexing.recommender import Recommendation, Recommender, RecRequest
from indexing.vectorstore.port import VectorStoreError
from models.history import load_history
from ranking.routing import Route

log = logging.getLogger(__name__)


def recommend(
    resources: Resources,
    user_id: str,
    limit: int,
    filters: ItemFilters,
    session_id: str | None = None,
    product_id: str | None = None,
    context_category: str | None = None,
    exclude: frozenset[str] = frozenset(),
    device_type: str | None = None,
) -> tuple[Recommendation, int | None]:
    """Rank for the shopper; returns the recommendation and the index version used (None
    for the fallback). The stale-model guard: with no live index, an index older than
    LODESTAR_INDEX_MAX_AGE_HOURS, or a vector store failing mid-request, the answer is the
    fallback's popular list, so that the request still succeeds."""
    live, view = resources.index.live, resources.index.view
    settings = resources.settings
    cause = None
    if live is None or view is None:
        cause = "no_index"
    elif resources.index_stale():
        cause = "stale_index"
    if cause is None and live is not None and view is not None:
        since = None
        if live.as_of is not None and settings.event_window_days > 0:
            since = live.as_of - timedelta(days=settings.event_window_days)
        history = load_history(resources.database, user_id, session_id, since,
                               settings.rec_history_events, context_category, device_type)
        request = RecRequest(limit=limit, filter=filters.to_filter(), exclude=exclude,
                             product_id=product_id)
        try:
            rec = Recommender(resources.store, settings, view).recommend(history, request)
        except VectorStoreError:
            log.exception("vector store failed; answering with the fallback")
            cause = "vector_store_failed"
        else:
            resources.metrics.count("lodestar_recommendations_total", strategy=rec.route.value)
            return rec, view.version
    resources.metrics.count("lodestar_recommendations_total", strategy=Route.FALLBACK.value)
    resources.metrics.count("lodestar_recommendations_fallback_total", cause=cause or "")
    excluded = exclude | ({product_id} if product_id else frozenset())
    rows = resources.fallback.rows(resources.database, settings)
    return fallback_recommendation(rows, settings, limit, filters, excluded, time.time()), None


def to_response(user_id: str, rec: Recommendation, version: int | None,
                request_id: str) -> schemas.RecommendationResponse:
    items = [
        schemas.RankedItem(
            product_id=item.product_id,
            score=round(item.score, 6),
            title=str(item.payload.get("title", "")),
            category=str(item.payload.get("category", "")),
            brand=str(item.payload.get("brand", "")),
            price=float(item.payload.get("price", 0.0)),
            in_stock=bool(item.payload.get("in_stock", True)),
            reason=schemas.Reason(item.reason.kind, item.reason.product_id,
                                  item.reason.category),
        )
        for item in rec.items
    ]
    return schemas.RecommendationResponse(
        user_id=user_id, items=items, strategy=rec.route.value, model_version=version,
        request_id=request_id)
