"""Why a product is in a list: every reason a shopper is shown, decided here and nowhere else.

Three families, one per kind of list:

- recommendations, bought together and trending carry a :class:`Reason` whose ``kind`` is
  one of :class:`ReasonKind` ("because you viewed X", "bought together with X", ...);
- search results carry a :class:`SearchReason`: which retrievers matched the product
  (its words, its meaning, or both) and which of the shopper's signals lifted it;
- the home page's rows are titled by :func:`home_row_title`.

Pure: strings and records, no I/O.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import StrEnum


class ReasonKind(StrEnum):
    """Why a product was recommended; the ``kind`` of a :class:`Reason`."""

    BECAUSE_YOU_VIEWED = "because_you_viewed"
    BOUGHT_TOGETHER = "bought_together"
    POPULAR_IN_CATEGORY = "popular_in_category"
    SIMILAR_SHOPPERS = "similar_shoppers"
    NEW_ARRIVAL = "new_arrival"
    TRENDING = "trending"
    PICKED_FOR_YOU = "picked_for_you"
    IN_YOUR_SESSION = "in_your_session"
    BUY_AGAIN = "buy_again"


REASON_KINDS: frozenset[str] = frozenset(kind.value for kind in ReasonKind)
"""Every valid :attr:`Reason.kind`."""


@dataclass(frozen=True, slots=True)
class Reason:
    """Why one product is in a list, as shown to the shopper.

    ``product_id`` names the item the reason refers to (the one viewed, the one bought
    with it); ``category`` the category for ``popular_in_category``. Either may be None
    where the kind needs no anchor (``trending``, ``picked_for_you``).
    """

    kind: str
    product_id: str | None = None
    category: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in REASON_KINDS:
            raise ValueError(f"unknown reason kind {self.kind!r}")

    def sort_key(self) -> tuple[str, str, str]:
        """A total order on reasons, used only to break ties deterministically."""
        return (self.kind, self.product_id or "", self.category or "")


def popular_reason(category: str | None) -> Reason:
    """A popular product's reason: popular in the category the list is about, else trending."""
    if category:
        return Reason(ReasonKind.POPULAR_IN_CATEGORY, category=category)
    return Reason(ReasonKind.TRENDING)


# --- search ------------------------------------------------------------------------------

LEXICAL = "lexical"
"""The retriever that matches the query's words."""
SEMANTIC = "semantic"
"""The retriever that matches the query's meaning."""

MATCHED_WORDS = "matched_words"
MATCHED_MEANING = "matched_meaning"
MATCHED_WORDS_AND_MEANING = "matched_words_and_meaning"


@dataclass(frozen=True, slots=True)
class SearchReason:
    """Why a product is in a search's results.

    ``matched`` names the retrievers that found it (``lexical``, ``semantic``);
    ``lifted_by`` the shopper's signals that moved it up, largest first (empty when the
    list is not personalised); ``kind`` says the same as ``matched`` in one word.
    """

    kind: str
    matched: tuple[str, ...]
    lifted_by: tuple[str, ...] = ()


@functools.lru_cache(maxsize=1024)
def search_reason(matched: tuple[str, ...], lifted_by: tuple[str, ...] = ()) -> SearchReason:
    """The reason of a search result found by the retrievers in ``matched``. Results share
    a few combinations, so each is made once (reasons are immutable)."""
    words, meaning = LEXICAL in matched, SEMANTIC in matched
    kind = (MATCHED_WORDS_AND_MEANING if words and meaning
            else MATCHED_WORDS if words else MATCHED_MEANING)
    return SearchReason(kind, tuple(matched), tuple(lifted_by))


# --- home page rows -------------------------------------------------------------------------

PICKED_FOR_YOU_ROW = "picked_for_you"
BECAUSE_YOU_VIEWED_ROW = "because_you_viewed"
TRENDING_ROW = "trending"
BUY_AGAIN_ROW = "buy_again"


def home_row_title(kind: str, product_title: str | None = None,
                   category: str | None = None) -> str:
    """The heading of a home page row of ``kind``: "Picked for you", "Because you viewed
    <product>", "Trending in <category>" or, without one, "Trending now", "Buy it again"."""
    if kind == PICKED_FOR_YOU_ROW:
        return "Picked for you"
    if kind == BECAUSE_YOU_VIEWED_ROW:
        return f"Because you viewed {product_title}"
    if kind == TRENDING_ROW:
        return f"Trending in {category}" if category else "Trending now"
    if kind == BUY_AGAIN_ROW:
        return "Buy it again"
    raise ValueError(f"unknown home row kind {kind!r}")
