"""Recommendations when the index cannot be trusted: popular products read from Postgres.

The stale-model guard sends a request here when no index version is live, when the live
one is older than LODESTAR_INDEX_MAX_AGE_HOURS, or when the vector store fails mid-request.
The list is the shop's popular in-stock products, computed from the events in Postgres
and reused for LODESTAR_FALLBACK_CACHE_SECONDS; the request's filters, exclusions and the
category and brand caps still apply. Requests keep succeeding, with strategy `fallback`.
"""

from __future__ import annotations

from collections.abc import Sequence

from api.services.similar import ItemFilters
from indexing.collections import CatalogRow
from indexing.recommender import RankedItem, Recommendation
from models.settings import Settings
from ranking.candidates import Candidate, Reason, ReasonKind
from ranking.routing import Route
from ranking.rules import RuleSet, apply_caps, filter_candidates


def fallback_recommendation(rows: Sequence[tuple[CatalogRow, float]], settings: Settings,
                            limit: int, filters: ItemFilters, exclude: frozenset[str],
                            now: float) -> Recommendation:
    """Popular products passing the filters, most popular first, capped per category and
    brand like every list. Pure."""
    matching = [(r, s) for r, s in rows if _passes(r, filters)]
    candidates = [Candidate(r.product_id, r.category, r.brand or "", float(r.price), r.in_stock,
                            r.promoted, r.created_at.timestamp(), s) for r, s in matching]
    rules = RuleSet(now=now, exclude_ids=exclude, max_per_category=settings.rec_max_per_category,
                    max_per_brand=settings.rec_max_per_brand)
    picked = apply_caps(filter_candidates(candidates, rules), rules, limit)
    row_of = {r.product_id: r for r, _ in matching}
    reason = (Reason(ReasonKind.POPULAR_IN_CATEGORY, category=filters.category)
              if filters.category else Reason(ReasonKind.TRENDING))
    items = [RankedItem(c.product_id, c.popularity, reason, _payload(row_of[c.product_id]))
             for c in picked]
    return Recommendation(items, Route.FALLBACK, 0.0)


def _passes(row: CatalogRow, f: ItemFilters) -> bool:
    price = float(row.price)
    return ((f.category is None or row.category == f.category)
            and (f.subcategory is None or row.subcategory == f.subcategory)
            and (f.brand is None or row.brand == f.brand)
            and (f.min_price is None or price >= f.min_price)
            and (f.max_price is None or price <= f.max_price))


def _payload(row: CatalogRow) -> dict[str, object]:
    return {"product_id": row.product_id, "title": row.title, "category": row.category,
            "brand": row.brand or "", "price": float(row.price), "in_stock": row.in_stock}
