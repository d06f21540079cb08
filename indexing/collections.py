"""Shapes of the two Qdrant collections and the payload each item carries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from indexing.text import product_text
from indexing.vectorstore.port import CollectionSpec, Distance, PayloadType, VectorSpec
from models.catalog import CatalogRow

TEXT = "text"
CF = "cf"
CF_RAW = "cf_raw"

# Fields filters run on. Each gets a payload index so filtered queries stay fast.
ITEM_INDEXES: dict[str, PayloadType] = {
    "product_id": PayloadType.KEYWORD,
    "category": PayloadType.KEYWORD,
    "subcategory": PayloadType.KEYWORD,
    "brand": PayloadType.KEYWORD,
    "tags": PayloadType.KEYWORD,
    "price": PayloadType.FLOAT,
    "in_stock": PayloadType.BOOL,
    "promoted": PayloadType.BOOL,
    "has_cf": PayloadType.BOOL,
    "created_at": PayloadType.FLOAT,
    "popularity": PayloadType.FLOAT,
}


def items_spec(text_dim: int, cf_dim: int, quantize_text: bool = False) -> CollectionSpec:
    """Items: `text` (sentence embedding) and `cf` (ALS item factors) compared by cosine —
    item-to-item similarity should not favour items for their factor norm — and `cf_raw`,
    the same factors unnormalised, whose dot product with a user vector is ALS's score.
    `quantize_text` keeps the text vectors (most of an item's bytes) as int8 in memory."""
    return CollectionSpec(
        vectors={
            TEXT: VectorSpec(text_dim, Distance.COSINE, quantized=quantize_text),
            CF: VectorSpec(cf_dim, Distance.COSINE),
            CF_RAW: VectorSpec(cf_dim, Distance.DOT),
        },
        indexes=ITEM_INDEXES,
    )


def users_spec(cf_dim: int) -> CollectionSpec:
    """Users: raw ALS user factors; the dot product with item factors is ALS's score."""
    return CollectionSpec(
        vectors={CF: VectorSpec(cf_dim, Distance.DOT)},
        indexes={"user_id": PayloadType.KEYWORD},
    )


def catalog_texts(catalog: Sequence[CatalogRow]) -> list[str]:
    """What the encoder reads of each product."""
    return [
        product_text(r.title, r.brand, r.category, r.subcategory, r.description, r.tags)
        for r in catalog
    ]


# What ranking and a list response read of a product: queries that feed a ranked list ask
# for these keys only (the basket companions and tags are the bulk of a payload).
RANKING_FIELDS = ("product_id", "title", "category", "brand", "price", "in_stock", "promoted",
                  "created_at", "popularity")


def item_payload(
    row: CatalogRow,
    popularity: float,
    has_cf: bool,
    bought_with: Sequence[tuple[str, float]] = (),
    device_popularity: Mapping[str, float] | None = None,
    cf_bootstrapped: bool = False,
    repurchase: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """What a list response shows and filters test, so a list needs no round trip to
    Postgres; `bought_with` holds the product's basket companions, best first, and
    `device_popularity` its popularity per device type (popular lists for one device);
    `cf_bootstrapped` marks raw CF factors inherited from text neighbours, not learnt;
    `repurchase` is (rate, typical days between purchases) learnt from all shoppers."""
    return {
        "product_id": row.product_id,
        "title": row.title,
        "category": row.category,
        "subcategory": row.subcategory,
        "brand": row.brand,
        "price": float(row.price),
        "tags": list(row.tags),
        "in_stock": bool(row.in_stock),
        "promoted": bool(row.promoted),
        "created_at": row.created_at.timestamp(),
        "popularity": float(popularity),
        "has_cf": has_cf,
        "bought_with": [pid for pid, _ in bought_with],
        "bought_with_scores": [round(score, 6) for _, score in bought_with],
        "device_popularity": {d: round(p, 6) for d, p in (device_popularity or {}).items()},
        "cf_bootstrapped": cf_bootstrapped,
        "repurchase_rate": round(repurchase[0], 6) if repurchase else 0.0,
        "repurchase_days": round(repurchase[1], 3) if repurchase else 0.0,
    }
