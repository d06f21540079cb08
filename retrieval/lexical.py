"""The lexical retriever of search: Postgres full-text matches, best first.

Postgres rather than the engine's sparse vectors because the catalog lives there: a
product written through the admin API is searchable in the same transaction, stemming and
stop words come with the `english` configuration, and field weights are labels on the
document (migration 0006: title and product id A, brand B, category and subcategory C,
tags D, the description in a column of its own) rather than numbers we would have to tune
into sparse vectors.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import text

from indexing.vectorstore.port import Filter
from models.db import Database
from models.settings import Settings
from models.timing import timed
from retrieval.filters import sql_filter

# ts_rank's weights for labels {D, C, B, A}: tags, category, brand, title.
_FIELD_WEIGHTS = "{0.2, 0.4, 0.6, 1.0}"


class LexicalRetriever:
    """Full-text matches from Postgres, best first.

    Products that contain every query term rank above those that contain only some. The
    AND query runs first; when it finds fewer than asked, products with all terms but one
    come next (for three or more terms), then products with any term. That last query can
    match tens of thousands of products, and ranking them all took over 100 ms at 100K
    products, so it ranks only the first `search_partial_rank_cap` matches the index
    yields: by then the list holds the close matches, and the rest is filler of the same
    kind. Within each tier, ts_rank weighs title > brand > category > tags, plus the
    description at `search_description_weight`.
    """

    def __init__(self, database: Database, settings: Settings) -> None:
        self.database = database
        self.description_weight = settings.search.description_weight
        self.partial_cap = settings.search.partial_rank_cap

    def search(self, terms: Sequence[str], filter: Filter, limit: int
               ) -> list[tuple[str, float]]:
        """(product id, score), best first: every-word matches, then some-word matches."""
        complete, partial = self.search_tiers(terms, filter, limit)
        return complete + partial

    def search_any(self, terms: Sequence[str], filter: Filter, limit: int
                   ) -> list[tuple[str, float]]:
        """(product id, score), best first, of products with any of the terms (those with
        more of them rank higher); only the first `search_partial_rank_cap` matches the
        index yields are ranked, as for a search's any-word tier."""
        if not terms or limit <= 0:
            return []
        where, params = sql_filter(filter)
        return self._run(list(terms), where, params, limit, (), self.partial_cap or None)

    def search_tiers(self, terms: Sequence[str], filter: Filter, limit: int
                     ) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        """The products that contain every term, and those that contain only some (found
        only when the first are fewer than `limit`), each best first."""
        if not terms or limit <= 0:
            return [], []
        where, params = sql_filter(filter)
        complete = self._run([" ".join(terms)], where, params, limit, (), None)
        partial: list[tuple[str, float]] = []
        words = list(terms)
        if len(complete) < limit and len(words) >= 3:
            near = [" ".join(words[:i] + words[i + 1:]) for i in range(len(words))]
            partial = self._run(near, where, params, limit - len(complete),
                                tuple(p for p, _ in complete), None)
        found = len(complete) + len(partial)
        if found < limit and len(words) > 1:
            seen = tuple(p for p, _ in complete) + tuple(p for p, _ in partial)
            partial += self._run(words, where, params, limit - found, seen,
                                 self.partial_cap or None)
        return complete, partial

    @timed("lexical")
    def _run(self, groups: Sequence[str], where: str, params: dict[str, Any], limit: int,
             exclude: tuple[str, ...], cap: int | None) -> list[tuple[str, float]]:
        """Products matching any group (each group's words all), ranked; with `cap`, only
        the first `cap` matches the index yields are ranked."""
        query = " || ".join(f"websearch_to_tsquery('english', :g{i})"
                            for i in range(len(groups)))
        skip = "AND product_id <> ALL(:exclude)" if exclude else ""
        bounded = "LIMIT :cap" if cap else ""
        sql = text(
            f"WITH query AS (SELECT {query} AS q),"
            f" matched AS (SELECT product_id, search_fields, search_description"
            f" FROM products, query WHERE search_all @@ q AND {where} {skip} {bounded})"
            f" SELECT product_id, ts_rank(CAST(:weights AS real[]), search_fields, q)"
            f" + :dw * ts_rank(search_description, q) AS score"
            f" FROM matched, query ORDER BY score DESC, product_id LIMIT :limit"
        )
        bound = {**params, "weights": _FIELD_WEIGHTS, "dw": self.description_weight,
                 "limit": limit, **{f"g{i}": g for i, g in enumerate(groups)}}
        if exclude:
            bound["exclude"] = list(exclude)
        if cap:
            bound["cap"] = cap
        with self.database.engine.connect() as conn:
            return [(str(pid), float(score)) for pid, score in conn.execute(sql, bound)]
