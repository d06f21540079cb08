"""What recommendations answer from when the index cannot be trusted: the shop's popular
in-stock products, computed in Postgres as a reindex would and reused for a while. The
order is ranking.fallback's."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from cachetools import TTLCache

from indexing.interactions import resolve_as_of
from indexing.popularity import popularity_by_device
from models.catalog import CatalogRow, catalog_rows
from models.db import Database
from models.settings import Settings
from ranking.candidates import Candidate
from ranking.fallback import fallback_order
from ranking.routing import Route
from ranking.rules import RuleSet
from retrieval.filters import ItemFilters
from retrieval.results import ListResult, ShownProduct, listed

POPULAR_POOL = 500  # enough for a request's filters to leave a full list


def popular_in_stock(database: Database, settings: Settings,
                     limit: int) -> list[tuple[CatalogRow, float]]:
    """The most popular in-stock products straight from Postgres, with their decayed
    popularity as a reindex would compute it."""
    overall = popularity_by_device(database, settings, resolve_as_of(database, settings)).overall
    ranked = sorted(overall, key=lambda pid: (-overall[pid], pid))
    out: list[tuple[CatalogRow, float]] = []
    # Most popular products are in stock: read the catalog a couple of screens at a time.
    step = max(2 * limit, 1)
    for start in range(0, len(ranked), step):
        rows = {r.product_id: r for r in catalog_rows(database, ranked[start:start + step])}
        for pid in ranked[start:start + step]:
            row = rows.get(pid)
            if row is not None and row.in_stock:
                out.append((row, overall[pid]))
                if len(out) == limit:
                    return out
    return out


class PopularInStock:
    """The popular in-stock list (`POPULAR_POOL` products), read from Postgres at most
    once per `ttl` seconds."""

    def __init__(self, ttl: float) -> None:
        self._cache: TTLCache[str, list[tuple[CatalogRow, float]]] = TTLCache(
            maxsize=1, ttl=ttl)
        self._lock = threading.Lock()

    def rows(self, database: Database, settings: Settings) -> list[tuple[CatalogRow, float]]:
        with self._lock:
            rows = self._cache.get("popular")
            if rows is None:
                rows = popular_in_stock(database, settings, POPULAR_POOL)
                self._cache["popular"] = rows
            return rows


def fallback_list(rows: Sequence[tuple[CatalogRow, float]], filters: ItemFilters,
                  rules: RuleSet, limit: int) -> ListResult:
    """The fallback's list for one request: the popular rows that pass its filters, in
    ranking's fallback order (`strategy` fallback, no index version)."""
    matching = [(r, score) for r, score in rows if filters.admits(r)]
    candidates = [Candidate(r.product_id, r.category, r.brand, float(r.price), r.in_stock,
                            r.promoted, r.created_at.timestamp(), score)
                  for r, score in matching]
    items = fallback_order(candidates, rules, limit, filters.category)
    shown = {r.product_id: ShownProduct.of_row(r) for r, _ in matching}
    return listed(items, shown, Route.FALLBACK.value, None)
