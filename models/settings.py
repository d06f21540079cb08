"""The one settings object of Lodestar, read from the environment once at start-up.

It lives in `models`, the lowest layer, so that every layer can be handed it; nothing
outside this module reads the environment. Each field carries its default and a one-line
description; `Settings.describe()` lists them for the README and `lodestar settings`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints


class SettingsError(ValueError):
    """A setting in the environment could not be read as its declared type."""


def _setting(default: Any, doc: str, env: str | None = None) -> Any:
    return field(default=default, metadata={"doc": doc, "env": env})


@dataclass(frozen=True)
class Settings:
    """Every tunable of the service. Environment names are `LODESTAR_<FIELD>` unless noted."""

    # --- where things live -------------------------------------------------------------
    data_dir: Path = _setting(
        Path(".lodestar"), "Data dir: embedded Postgres, Qdrant shards and caches live here."
    )
    database_url: str | None = _setting(
        None,
        "Postgres URL (postgresql+psycopg://...). Unset: an embedded server runs in the data dir.",
        env="DATABASE_URL",
    )
    qdrant_url: str | None = _setting(
        None,
        "Qdrant server URL. Unset: the in-process Qdrant engine keeps shards in the data dir.",
        env="QDRANT_URL",
    )
    qdrant_api_key: str | None = _setting(None, "API key for the Qdrant server, if it wants one.")
    admin_key: str | None = _setting(
        None, "Shared secret that admin endpoints require in the X-Admin-Key header."
    )
    collection_prefix: str = _setting("lodestar", "Prefix of Qdrant collection and alias names.")
    versions_to_keep: int = _setting(3, "Index versions kept after a reindex (for rollback).")

    # --- encoder -----------------------------------------------------------------------
    encoder: str | None = _setting(
        None, "Local path of a sentence-transformers model. Unset: the packaged all-MiniLM-L6-v2."
    )
    encoder_batch_size: int = _setting(64, "Texts per encoder batch during a reindex.")

    # --- interactions and ALS ------------------------------------------------------------
    weight_view: float = _setting(1.0, "Confidence weight of a view event.")
    weight_click: float = _setting(2.0, "Confidence weight of a click event.")
    weight_add_to_cart: float = _setting(3.0, "Confidence weight of an add_to_cart event.")
    weight_purchase: float = _setting(5.0, "Confidence weight of a purchase event.")
    event_window_days: int = _setting(
        90, "Only events this many days before the newest one count; 0 means all history."
    )
    decay_per_day: float = _setting(
        0.01, "Confidence decays as exp(-decay*age_days), age from the newest event; 0: none."
    )
    as_of: str | None = _setting(
        None, "ISO time to measure window and decay from, instead of the newest event."
    )
    als_factors: int = _setting(64, "ALS latent factors (the size of the cf vectors).")
    als_regularization: float = _setting(0.1, "ALS L2 regularisation (lambda).")
    als_alpha: float = _setting(
        40.0, "ALS confidence scaling: confidence = alpha * weight, as implicit trains."
    )
    als_iterations: int = _setting(20, "ALS iterations.")
    als_seed: int = _setting(42, "Random seed of ALS, so that a reindex is reproducible.")
    popularity_half_life_days: float = _setting(
        7.0, "Half-life of the time-decayed popularity score stored on each item."
    )

    bought_together_min_support: int = _setting(
        1, "Baskets a pair must share to count as bought together."
    )

    # --- similar items -------------------------------------------------------------------
    similar_text_weight: float = _setting(0.6, "Weight of text similarity in similar items.")
    similar_cf_weight: float = _setting(0.4, "Weight of CF similarity in similar items.")
    similar_candidates: int = _setting(
        30, "Candidates each retriever fetches before fusion in similar items."
    )
    hnsw_ef: int = _setting(64, "HNSW ef at query time: higher is more exact and slower.")

    # --- recommendations ---------------------------------------------------------------
    cold_item_neighbours: int = _setting(
        20, "Text neighbours with CF whose factors a product without interactions inherits."
    )
    products_batch_max: int = _setting(500, "Most products one bulk upsert request may hold.")
    index_max_age_hours: float = _setting(
        36.0, "An index built longer ago than this is stale: recommendations fall back."
    )
    fallback_cache_seconds: float = _setting(
        300.0, "How long the fallback's popular list, read from Postgres, is reused."
    )
    rec_candidates: int = _setting(30, "Candidates each recommendation retriever fetches.")
    rec_anchor_items: int = _setting(
        3, "Recent products (history, session) whose neighbours the content retriever takes."
    )
    rec_history_events: int = _setting(200, "Most recent events of a shopper read per request.")
    rec_alpha_min: float = _setting(0.3, "CF weight alpha for a shopper with little history.")
    rec_alpha_max: float = _setting(0.7, "CF weight alpha for a shopper with a long history.")
    rec_alpha_saturation: float = _setting(
        20.0, "Interactions over which alpha grows from its minimum towards its maximum."
    )
    rec_popularity_weight: float = _setting(0.5, "Popularity weight beta in the hybrid score.")
    rec_content_weight: float = _setting(
        0.6, "Content side: weight of similarity to the shopper's history."
    )
    rec_session_weight: float = _setting(
        0.3, "Content side: weight of similarity to the live session (and product on the page)."
    )
    rec_session_weight_alone: float = _setting(
        0.8, "Weight of the live session for a shopper with no history, against popularity 1."
    )
    rec_copurchase_weight: float = _setting(
        0.2, "Content side: weight of products bought with the shopper's recent items."
    )
    rec_device_pool_factor: int = _setting(
        4, "A device's popular list re-ranks this many times rec_candidates overall favourites."
    )
    rec_neighbours: int = _setting(30, "Similar shoppers consulted for 3-5-interaction users.")
    rec_item_cache_items: int = _setting(
        100_000, "Products whose vectors and ranking attributes each process caches (~2 KB each)."
    )
    rec_mmr_lambda: float = _setting(0.7, "MMR trade-off: 1 is pure relevance, 0 pure diversity.")
    rec_mmr_pool_factor: int = _setting(4, "MMR re-ranks the best limit x this many candidates.")
    rec_max_per_category: int = _setting(3, "At most this many per category in the top 10.")
    rec_max_per_brand: int = _setting(2, "At most this many per brand in the top 10.")
    rec_drop_purchased: bool = _setting(True, "Never recommend what the shopper bought.")
    rec_exclude_seen: bool = _setting(
        True, "Leave out products the shopper already interacted with in the window."
    )
    rec_consumable_categories: str = _setting(
        "", "Comma-separated categories whose products may be recommended again after purchase."
    )
    rec_new_item_days: float = _setting(7.0, "Days a new product gets the exploration bonus.")
    rec_new_item_share: float = _setting(
        0.1, "Share of list slots kept for new products that fit the shopper (epsilon-greedy)."
    )
    rec_new_boost: float = _setting(0.15, "Exploration bonus of a new product, fading to 0.")
    rec_promoted_boost: float = _setting(0.1, "Boost of a promoted product.")

    # --- search ----------------------------------------------------------------------------
    search_candidates: int = _setting(
        100, "Candidates each search retriever (lexical, semantic) fetches before fusion."
    )
    search_rrf_k: float = _setting(
        60.0, "k of reciprocal rank fusion: 1/(k + rank); larger flattens the head."
    )
    search_lexical_weight: float = _setting(1.0, "Weight of the lexical list in the fusion.")
    search_partial_match_weight: float = _setting(
        0.5, "Share of the lexical weight that a product with only some of the words of a "
        "query naming a model number or SKU gets (it ranks below every full match)."
    )
    search_semantic_weight: float = _setting(1.0, "Weight of the semantic list in the fusion.")
    search_partial_rank_cap: int = _setting(
        2000, "Most any-word matches the lexical retriever ranks per query (taken in index "
        "order): bounds the cost of a broad query; 0: all."
    )
    search_min_similarity: float = _setting(
        0.25, "Semantic matches below this cosine similarity to the query are not matches."
    )
    search_description_weight: float = _setting(
        0.05, "Lexical rank weight of the description, below tags (the lowest field label)."
    )
    search_max_query_chars: int = _setting(200, "Longest query accepted, in characters.")
    search_query_cache: int = _setting(10_000, "Query embeddings each process keeps (LRU).")
    search_typo_max_distance: int = _setting(
        2, "Edits a query word of 8+ letters may be from a catalog word to be corrected (1 below)."
    )
    search_personal_cf_weight: float = _setting(
        0.3, "Rerank: weight of the shopper's CF affinity to the item."
    )
    search_personal_category_weight: float = _setting(
        0.2, "Rerank: weight of the shopper's affinity to the item's category."
    )
    search_personal_brand_weight: float = _setting(
        0.2, "Rerank: weight of the shopper's affinity to the item's brand."
    )
    search_personal_price_weight: float = _setting(
        0.1, "Rerank: weight of how well the price fits the shopper's band in that category."
    )
    search_personal_session_weight: float = _setting(
        0.3, "Rerank: weight of closeness to what the live session looked at."
    )
    search_personal_open_gap: float = _setting(
        0.3, "Rerank weights shrink to 0 as the best semantic match leads the 10th by this "
        "much (a query for one product); 0: never."
    )
    search_query_encoder: str = _setting(
        "torch",
        "Query encoder of search: torch (the catalog's own, fp32) or onnx-int8 (ONNX Runtime, "
        "int8 weights, exported into the data dir on first use).",
    )

    # --- HTTP ----------------------------------------------------------------------------
    max_limit: int = _setting(100, "Largest `limit` a list endpoint accepts.")
    log_json: bool = _setting(False, "Write logs as JSON lines (server profile).")
    index_poll_seconds: float = _setting(
        2.0, "How often the server checks Postgres for a newly switched index version."
    )

    # --- event ingest ----------------------------------------------------------------------
    events_batch_max: int = _setting(1000, "Most events one POST /v1/events request may carry.")
    event_future_skew_seconds: int = _setting(
        300, "How far past the server's clock an event's occurred_at may lie (clock skew)."
    )

    # ------------------------------------------------------------------------------------
    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read every field from `environ` (default: the process environment)."""
        env = os.environ if environ is None else environ
        hints = get_type_hints(cls)
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            name = f.metadata.get("env") or f"LODESTAR_{f.name.upper()}"
            raw = env.get(name)
            if raw is None or raw == "":
                continue
            values[f.name] = _parse(name, raw, hints[f.name])
        values.update(overrides)
        return cls(**values)

    def to_env(self) -> dict[str, str]:
        """These settings as the environment `from_env` reads back (unset ones left out):
        how a child process (a reindex job) gets exactly the settings of its parent."""
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            name = f.metadata.get("env") or f"LODESTAR_{f.name.upper()}"
            out[name] = ("true" if value else "false") if isinstance(value, bool) else str(value)
        return out

    @classmethod
    def describe(cls) -> list[tuple[str, str, str]]:
        """(environment name, default, description) for every setting."""
        rows = []
        for f in dataclasses.fields(cls):
            name = f.metadata.get("env") or f"LODESTAR_{f.name.upper()}"
            rows.append((name, "" if f.default is None else str(f.default), f.metadata["doc"]))
        return rows

    def event_weights(self) -> dict[str, float]:
        """Confidence weight per event type."""
        return {
            "view": self.weight_view,
            "click": self.weight_click,
            "add_to_cart": self.weight_add_to_cart,
            "purchase": self.weight_purchase,
        }

    def consumables(self) -> frozenset[str]:
        """Categories whose products are bought again."""
        return frozenset(c.strip() for c in self.rec_consumable_categories.split(",") if c.strip())

    @property
    def items_alias(self) -> str:
        return f"{self.collection_prefix}_items"

    @property
    def users_alias(self) -> str:
        return f"{self.collection_prefix}_users"


def _parse(name: str, raw: str, hint: Any) -> Any:
    text = str(hint)
    try:
        if "bool" in text:
            lowered = raw.strip().lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off"}:
                return False
            raise ValueError(raw)
        if "int" in text:
            return int(raw)
        if "float" in text:
            return float(raw)
        if "Path" in text:
            return Path(raw)
    except ValueError as exc:
        raise SettingsError(f"{name}={raw!r} is not a valid {text}") from exc
    return raw
