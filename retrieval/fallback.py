"""What the lists answer from when the index cannot be trusted (none is live, it is too
old, or the vector store fails): Postgres alone. Recommendations and trending take the
shop's popular in-stock products, computed as a reindex would and reused for a while
(ranking.fallback's and ranking.lists' orders); similar items and bought together take
full-text matches of the product's own words. Every such list says `fallback`."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from cachetools import TTLCache

from indexing.interactions import resolve_as_of
from indexing.popularity import popularity_by_device
from models.catalog import CatalogRow, catalog_rows, product_row
from models.db import Database
from models.settings import Settings
from ranking import lists
from ranking.candidates import Candidate
from ranking.fallback import fallback_order
from ranking.query import is_stopword, normalise, tokens
from ranking.results import RankedItem
from ranking.routing import Route
from ranking.rules import RuleSet
from retrieval.filters import ItemFilters
from retrieval.lexical import LexicalRetriever
from retrieval.results import ListResult, ShownProduct, listed
from retrieval.unindexed import UnknownProduct

POPULAR_POOL = 500  # enough for a request's filters to leave a full list
_MAX_FALLBACK_TERMS = 12  # of a product's words, searched for its neighbours


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
    items = fallback_order([_candidate(r, score) for r, score in matching], rules, limit,
                           filters.category)
    shown = {r.product_id: ShownProduct.of_row(r) for r, _ in matching}
    return listed(items, shown, Route.FALLBACK.value, None)


def trending_list(rows: Sequence[tuple[CatalogRow, float]], filters: ItemFilters, limit: int,
                  now: float) -> ListResult:
    """Trending when the index cannot answer: the popular in-stock rows passing the filters,
    in ranking's trending order (`strategy` fallback, no index version)."""
    matching = [(r, score) for r, score in rows if filters.admits(r)]
    items = lists.trending([_candidate(r, score) for r, score in matching], filters.category,
                           limit, now)
    return listed(items, {r.product_id: ShownProduct.of_row(r) for r, _ in matching},
                  Route.FALLBACK.value, None)


def text_neighbours(database: Database, lexical: LexicalRetriever, product_id: str,
                    limit: int, filters: ItemFilters, *, other_subcategories_first: bool
                    ) -> ListResult:
    """Products like this one when the index cannot answer: Postgres full-text matches of
    the product's own title, brand and category, the product left out (`strategy`
    fallback). For bought together, products of another subcategory come first, as the
    index's content fill does. UnknownProduct when the catalog lacks it."""
    row = product_row(database, product_id)
    if row is None:
        raise UnknownProduct(product_id)
    words = tuple(dict.fromkeys(tokens(normalise(f"{row.title} {row.brand} {row.category}"))))
    terms = tuple(w for w in words if not is_stopword(w))[:_MAX_FALLBACK_TERMS]
    # Any word may match, the more the better: a product's whole title as an AND query
    # would find little but the product itself.
    found = [(p, s) for p, s in lexical.search_any(terms, filters.to_filter(), 5 * limit + 1)
             if p != product_id]
    neighbours = {r.product_id: r for r in catalog_rows(database, [p for p, _ in found])}
    scored = [(p, neighbours[p].subcategory, s) for p, s in found if p in neighbours]
    if other_subcategories_first:
        items = lists.content_fill(scored, row.subcategory, product_id, limit)
    else:
        items = [RankedItem(p, s) for p, _, s in scored[:limit]]
    return listed(items, {p: ShownProduct.of_row(r) for p, r in neighbours.items()},
                  Route.FALLBACK.value, None)


def _candidate(row: CatalogRow, popularity: float) -> Candidate:
    return Candidate(row.product_id, row.category, row.brand, float(row.price), row.in_stock,
                     row.promoted, row.created_at.timestamp(), popularity)
