"""Bodies the HTTP API returns: msgspec Structs, never ORM rows or loose dicts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec


class ErrorBody(msgspec.Struct):
    code: str
    message: str
    details: Any = None


class ErrorResponse(msgspec.Struct):
    error: ErrorBody


class Product(msgspec.Struct):
    product_id: str
    title: str
    description: str
    category: str
    subcategory: str
    brand: str
    price: float
    tags: list[str]
    in_stock: bool
    promoted: bool
    created_at: datetime


class ProductPage(msgspec.Struct):
    items: list[Product]
    total: int
    limit: int
    offset: int
    request_id: str


class ListItem(msgspec.Struct):
    """One entry of a ranked list."""

    product_id: str
    score: float
    title: str
    category: str
    brand: str
    price: float
    in_stock: bool


class SimilarResponse(msgspec.Struct):
    product_id: str
    items: list[ListItem]
    strategy: str
    model_version: int | None
    request_id: str
    # The experiment the list was served under and the variant shown (`interleaved`: two
    # variants' lists mixed); null when none.
    experiment: str | None = None
    variant: str | None = None


class CategoryCount(msgspec.Struct):
    name: str
    count: int


class CategoryList(msgspec.Struct):
    items: list[CategoryCount]


class Health(msgspec.Struct):
    status: str


class Readiness(msgspec.Struct):
    ready: bool
    postgres: bool
    vector_store: bool
    index_version: int | None
    missing: list[str]
    index_age_hours: float | None = None
    # Older than LODESTAR_INDEX_MAX_AGE_HOURS (or none): recommendations fall back to
    # popularity from Postgres. Still ready: requests keep succeeding.
    index_stale: bool = False


class Reason(msgspec.Struct):
    """Why an item is in a list: `kind` is one of ranking.candidates.ReasonKind;
    `product_id` names the product the reason refers to (the one on the page, the one it
    is bought with), `category` the category of `popular_in_category`; null where the kind
    needs no anchor."""

    kind: str
    product_id: str | None = None
    category: str | None = None


class RankedItem(ListItem):
    """A list entry that says why it is there."""

    reason: Reason | None = None


class ListResponse(msgspec.Struct):
    """A ranked list with reasons: bought together, trending. `product_id` is the product
    the list is about, `category` the category it was restricted to; null when none."""

    items: list[RankedItem]
    strategy: str
    model_version: int | None
    request_id: str
    product_id: str | None = None
    category: str | None = None
    # The experiment the list was served under and the variant shown (`interleaved`: two
    # variants' lists mixed); null when none.
    experiment: str | None = None
    variant: str | None = None


class RecommendationResponse(msgspec.Struct):
    """Recommendations for a shopper; `strategy` is the cold-start route taken."""

    user_id: str
    items: list[RankedItem]
    strategy: str
    model_version: int | None
    request_id: str
    # The experiment the list was served under and the variant shown (`interleaved`: two
    # variants' lists mixed); null when none.
    experiment: str | None = None
    variant: str | None = None


class HomeRow(msgspec.Struct):
    """One carousel of the home page: `kind` is picked_for_you, buy_again,
    because_you_viewed or trending; `product_id`/`category` name what the row is about."""

    title: str
    kind: str
    items: list[RankedItem]
    product_id: str | None = None
    category: str | None = None


class HomeResponse(msgspec.Struct):
    user_id: str
    rows: list[HomeRow]
    strategy: str
    model_version: int | None
    request_id: str
    # The experiment the list was served under and the variant shown (`interleaved`: two
    # variants' lists mixed); null when none.
    experiment: str | None = None
    variant: str | None = None


class SearchReason(msgspec.Struct):
    """Why a product is in the results: `matched` names the retrievers that found it
    ("lexical": the words, "semantic": the meaning); `lifted_by` the shopper's signals that
    moved it up (cf_affinity, category_affinity, brand_affinity, price_fit,
    session_intent), largest first; empty when the list is not personalised."""

    kind: str  # matched_words | matched_meaning | matched_words_and_meaning
    matched: list[str]
    lifted_by: list[str]


class SearchItem(ListItem):
    reason: SearchReason


class FacetValue(msgspec.Struct):
    value: str
    count: int


class Facets(msgspec.Struct):
    """Counts over every matched product (not only the page), under the request's filters."""

    category: list[FacetValue]
    brand: list[FacetValue]


class SearchResponse(msgspec.Struct):
    """Search results. `query` is the query as understood (normalised, typos corrected);
    `corrections` maps each corrected word to its correction; `total` counts the matched
    products that `offset`/`limit` page through."""

    query: str
    corrections: dict[str, str]
    items: list[SearchItem]
    total: int
    offset: int
    limit: int
    facets: Facets
    personalised: bool
    # fused | fused+personal | lexical (Postgres alone: no live index, or the vector
    # store failed)
    strategy: str
    model_version: int | None
    request_id: str
    # The experiment the list was served under and the variant shown (`interleaved`: two
    # variants' lists mixed); null when none.
    experiment: str | None = None
    variant: str | None = None
