"""The fallback order: what recommendations answer when the index cannot be trusted. Pure.

The stale-model guard sends a request here when no index version is live, when the live
one is too old, or when the vector store fails mid-request. The candidates are the shop's
popular in-stock products read from Postgres (retrieval.fallback), already restricted to
the request's filters; they are ordered by popularity, pass the same business rules as
every recommendation (exclusions, category and brand caps), and carry the reason
``popular_in_category`` when the list is about one category, else ``trending``.
"""

from __future__ import annotations

from collections.abc import Sequence

from ranking.candidates import Candidate
from ranking.reasons import popular_reason
from ranking.results import RankedItem
from ranking.rules import RuleSet, apply_caps, filter_candidates


def fallback_order(candidates: Sequence[Candidate], rules: RuleSet, limit: int,
                   category: str | None) -> list[RankedItem]:
    """The most popular candidates that the rules allow, capped per category and brand."""
    ranked = sorted(candidates, key=lambda c: (-c.popularity, c.product_id))
    picked = apply_caps(filter_candidates(ranked, rules), rules, limit)
    reason = popular_reason(category)
    return [RankedItem(c.product_id, c.popularity, reason) for c in picked]
