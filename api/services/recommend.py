"""Personalised recommendations for one request: history from Postgres, ranking by the
shared recommender."""

from __future__ import annotations

from datetime import timedelta

from api import schemas
from api.errors import IndexUnavailable
from api.resources import Resources
from api.services.similar import ItemFilters
from indexing.recommender import Recommendation, Recommender, RecRequest
from models.history import load_history


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
) -> tuple[Recommendation, int]:
    """Rank for the shopper; returns the recommendation and the index version used."""
    live, view = resources.index.live, resources.index.view
    if live is None or view is None:
        raise IndexUnavailable()
    settings = resources.settings
    since = None
    if live.as_of is not None and settings.event_window_days > 0:
        since = live.as_of - timedelta(days=settings.event_window_days)
    history = load_history(resources.database, user_id, session_id, since,
                           settings.rec_history_events, context_category, device_type)
    request = RecRequest(limit=limit, filter=filters.to_filter(), exclude=exclude,
                         product_id=product_id)
    return Recommender(resources.store, settings, view).recommend(history, request), view.version


def to_response(user_id: str, rec: Recommendation, version: int,
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
