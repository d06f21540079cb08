"""The order of the lists about a product or the shop: bought together, and trending. Pure.

**Bought together.** A product's basket companions come first, by their co-purchase score
(n(a, b) / sqrt(n(a) · n(b)), computed at reindex), with the reason ``bought_together``.
When they do not fill the list, text neighbours of the product fill it, those of another
subcategory first (someone looking at a phone wants a case, not another phone), with the
reason ``because_you_viewed`` and their cosine as the score. Scores mean what their reason
says, so they decrease within each kind, not necessarily across the boundary.

**Trending.** In-stock products with the highest time-decayed popularity; products with
none are never trending. Without a category the top of the list is kept varied: at most
:data:`TRENDING_PER_CATEGORY` of one category in the first :data:`TRENDING_CAP_WINDOW`
positions. Reason ``popular_in_category`` with a category, else ``trending``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ranking.candidates import Candidate
from ranking.reasons import Reason, ReasonKind, popular_reason
from ranking.results import RankedItem
from ranking.rules import RuleSet, apply_caps

CO_PURCHASE = "co_purchase"
CONTENT = "content"
TRENDING = "trending"

TRENDING_PER_CATEGORY = 3
TRENDING_CAP_WINDOW = 10


def companions_first(companions: Mapping[str, float], passing: Sequence[str],
                     anchor: str, limit: int) -> list[RankedItem]:
    """The companions that passed the request's filters, by co-purchase score (ties by id).

    companions: companion product id -> co-purchase score with ``anchor``.
    passing:    the companions the store kept under the request's filters.
    """
    reason = Reason(ReasonKind.BOUGHT_TOGETHER, product_id=anchor)
    ranked = sorted((p for p in set(passing) if p in companions),
                    key=lambda p: (-companions[p], p))[:limit]
    return [RankedItem(p, companions[p], reason) for p in ranked]


def content_fill(neighbours: Sequence[tuple[str, str, float]], subcategory: str,
                 anchor: str, slots: int) -> list[RankedItem]:
    """Up to `slots` text neighbours of ``anchor``, those of another subcategory than its
    own first, each group by cosine (ties by id).

    neighbours: (product id, subcategory, cosine) of the anchor's nearest products.
    """
    ordered = sorted(neighbours, key=lambda n: (-n[2], n[0]))
    other = [n for n in ordered if n[1] != subcategory]
    same = [n for n in ordered if n[1] == subcategory]
    reason = Reason(ReasonKind.BECAUSE_YOU_VIEWED, product_id=anchor)
    return [RankedItem(pid, score, reason) for pid, _, score in (other + same)[:slots]]


def bought_together_strategy(from_companions: int, total: int) -> str:
    """Where a bought-together list came from: `co_purchase`, `co_purchase+content`, or
    `content` (also for an empty list: the content fill had the last word)."""
    if from_companions == 0:
        return CONTENT
    if total > from_companions:
        return f"{CO_PURCHASE}+{CONTENT}"
    return CO_PURCHASE


def trending(candidates: Sequence[Candidate], category: str | None, limit: int,
             now: float) -> list[RankedItem]:
    """The most popular candidates, best first (ties by id), capped per category when no
    category is asked for; a candidate with no popularity is never trending."""
    ranked = sorted((c for c in candidates if c.popularity > 0),
                    key=lambda c: (-c.popularity, c.product_id))
    if category is None:
        rules = RuleSet(now=now, max_per_category=TRENDING_PER_CATEGORY,
                        max_per_brand=None, cap_window=TRENDING_CAP_WINDOW)
        ranked = apply_caps(ranked, rules, limit)
    reason = popular_reason(category)
    return [RankedItem(c.product_id, c.popularity, reason) for c in ranked[:limit]]

