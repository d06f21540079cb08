"""Cart complements: what goes with the whole basket, never a second of what is in it. Pure.

Each product in the cart brings its basket companions (co-purchase scores computed at
reindex). A candidate's score is the sum, over the cart's products, of its score with
each divided by that product's best companion score, so that every product in the cart
weighs the same and a candidate that goes with several of them comes first. Substitutes
are left out: a candidate of a subcategory that a cart product already has is another
kettle for a kettle, not what goes with it. Where the companions run short (new products
have none), text neighbours of the cart's products fill the list, again only of
subcategories the cart lacks, after every co-purchase complement, each scored by its best
cosine to a cart product (times a discount, so that its score reads as the weaker
evidence it is).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from ranking.reasons import Reason, ReasonKind
from ranking.results import RankedItem

CONTENT_DISCOUNT = 0.01
"""A text neighbour's score is its cosine times this."""


def complements(companions_of: Mapping[str, Mapping[str, float]],
                subcategory_of: Mapping[str, str], cart: Collection[str],
                passing: Collection[str], limit: int) -> list[RankedItem]:
    """The best `limit` co-purchase complements of the cart, best first (ties by id), each
    explained by the cart product it goes with most.

    companions_of: cart product -> {companion: co-purchase score}.
    subcategory_of: subcategory of every cart product and candidate.
    passing: the candidates the store kept under the request's filters (in stock, ...).
    """
    taken = {subcategory_of.get(p, "") for p in cart} - {""}
    total: dict[str, float] = {}
    best_anchor: dict[str, tuple[float, str]] = {}
    for anchor, companions in companions_of.items():
        top = max(companions.values(), default=0.0)
        if top <= 0:
            continue
        for candidate, score in companions.items():
            if (candidate in cart or candidate not in passing
                    or subcategory_of.get(candidate, "") in taken):
                continue
            share = score / top
            total[candidate] = total.get(candidate, 0.0) + share
            if share > best_anchor.get(candidate, (-1.0, ""))[0]:
                best_anchor[candidate] = (share, anchor)
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
