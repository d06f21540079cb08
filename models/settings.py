"""The one settings object of Lodestar, read from the environment once at start-up.

Settings come in groups (where things live, the encoder, training, similar items,
recommendations, search, serving), each a pydantic-settings model that reads its own
`LODESTAR_*` variables, checks every value's type and range, and is frozen once read.
The environment names are the service's public contract and do not depend on the
grouping: `LODESTAR_REC_CANDIDATES` is `settings.rec.candidates`,
`LODESTAR_ALS_FACTORS` is `settings.training.als_factors`.

It lives in `models`, the lowest layer, so that every layer can be handed it; nothing
outside this module reads the environment. A bad value stops start-up with one line
naming the variable (:class:`SettingsError`). `Settings.describe()` lists every setting
for the README and `lodestar settings`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal, Self

from pydantic import AliasChoices, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from models.tenancy import DEFAULT_SHOP, current_shop


class SettingsError(ValueError):
    """A setting could not be read: the message names the variable and what is wrong."""


class _Group(BaseSettings):
    """A group of settings; its variables are `env_prefix` + the field's name."""

    model_config = SettingsConfigDict(
        env_prefix="LODESTAR_", frozen=True, extra="forbid", env_ignore_empty=True,
        populate_by_name=True, validate_default=True,
    )
    title: ClassVar[str] = ""

    @classmethod
    def env_name(cls, name: str) -> str:
        """The environment variable of field `name`."""
        alias = cls.model_fields[name].validation_alias
        if isinstance(alias, AliasChoices):
            return str(alias.choices[0])
        prefix = str(cls.model_config.get("env_prefix", ""))
        return f"{prefix}{name}".upper()


def _s(default: Any, doc: str, **bounds: Any) -> Any:
    return Field(default=default, description=doc, **bounds)


class StorageSettings(_Group):
    title: ClassVar[str] = "Where things live"

    data_dir: Path = _s(
        Path(".lodestar"), "Data dir: embedded Postgres, Qdrant shards and caches live here.")
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL"),
        description="Postgres URL (postgresql+psycopg://...). Unset: an embedded server runs "
                    "in the data dir.")
    qdrant_url: str | None = Field(
        default=None, validation_alias=AliasChoices("QDRANT_URL"),
        description="Qdrant server URL. Unset: the in-process Qdrant engine keeps shards in "
                    "the data dir.")
    qdrant_api_key: str | None = _s(None, "API key for the Qdrant server, if it wants one.")
    collection_prefix: str = _s("lodestar", "Prefix of Qdrant collection and alias names.",
                                min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    versions_to_keep: int = _s(3, "Index versions kept after a reindex (for rollback).",
                               ge=1, le=100)
    hnsw_payload_m: int = _s(
        16, "Links per point of the extra HNSW graphs built for each value of an indexed "
        "payload field, which keep filtered searches exact. 0 builds none: a 100K-product "
        "index then builds in 41 s instead of 146, for filtered recall@10 of 0.993-0.998 "
        "instead of 1.000, an occasional filtered query missing its neighbours "
        "(bench/results/hnsw.md).", ge=0, le=64)
    quantize_text_vectors: bool = _s(
        False, "Keep the items' text vectors as int8 in memory with the float32 originals on "
        "disk, from the next reindex: a quarter of their memory, the best candidates "
        "rescored against the originals (bench/results/quantisation.md).")
    embedded_shared_buffers_mb: int = _s(
        512, "Shared buffers of the embedded Postgres in MB, in effect from its next start "
        "(a shop's events and their indexes take 350 MB at 1M events).", ge=16, le=65536)

    @property
    def shop_prefix(self) -> str:
        """The prefix of the current shop's collections and aliases: the collection prefix,
        and for a shop other than the default its id after it."""
        shop = current_shop()
        return (self.collection_prefix if shop == DEFAULT_SHOP
                else f"{self.collection_prefix}_{shop}")

    @property
    def items_alias(self) -> str:
        return f"{self.shop_prefix}_items"

    @property
    def users_alias(self) -> str:
        return f"{self.shop_prefix}_users"


class EncoderSettings(_Group):
    title: ClassVar[str] = "Text encoder"
    model_config = SettingsConfigDict(env_prefix="LODESTAR_ENCODER_")

    path: str | None = Field(
        default=None, validation_alias=AliasChoices("LODESTAR_ENCODER"),
        description="Local path of a sentence-transformers model. Unset: the packaged "
                    "all-MiniLM-L6-v2.")
    batch_size: int = _s(64, "Texts per encoder batch during a reindex.", ge=1, le=4096)
    backend: Literal["torch", "onnx-int8"] = _s(
        "torch", "Backend of the catalog encoder: torch (the reference) or onnx-int8 (ONNX "
        "Runtime with int8 weights on every core: about 190 texts/s against 124 for bf16 "
        "torch at 2 cores, cosine 0.994 with it; its vectors are cached apart).")
    precision: Literal["auto", "fp32", "bf16"] = _s(
        "auto", "Arithmetic of the catalog encoder: bf16 (about 1.8x faster, cosine 0.99998 "
        "with fp32), fp32, or auto: bf16 where the CPU computes it natively (AVX-512 BF16, "
        "AMX), else fp32.")
    onnx_dir: Path | None = _s(
        None, "Folder of the int8 ONNX export of the encoder (made on first need, about 10 s; "
        "several data dirs may share one). Unset: <data_dir>/encoders.")


class TrainingSettings(_Group):
    title: ClassVar[str] = "Interactions and training"

    weight_view: float = _s(1.0, "Confidence weight of a view event.", ge=0)
    weight_click: float = _s(2.0, "Confidence weight of a click event.", ge=0)
    weight_add_to_cart: float = _s(3.0, "Confidence weight of an add_to_cart event.", ge=0)
    weight_purchase: float = _s(5.0, "Confidence weight of a purchase event.", ge=0)
    weight_return: float = _s(
        -10.0, "Weight of a return: below zero, it counts against the product in training "
        "(a product viewed, carted, bought and returned sums to -1; a shopper-product sum "
        "below zero trains as 'not wanted' with that confidence) and in popularity.", le=0)
    weight_dislike: float = _s(
        -5.0, "Weight of a dislike (below zero, as a return); the shopper never sees the "
        "product again.", le=0)
    weight_hide: float = _s(
        -1.0, "Weight of a hide: the shopper never sees the product again; it counts a "
        "little against the product, since hiding says less about it than a dislike.", le=0)
    event_window_days: int = _s(
        90, "Only events this many days before the newest one count; 0 means all history.",
        ge=0)
    decay_per_day: float = _s(
        0.01, "Confidence decays as exp(-decay*age_days), age from the newest event; 0: none.",
        ge=0, le=10)
    as_of: str | None = _s(
        None, "ISO time to measure window and decay from, instead of the newest event.")
    als_factors: int = _s(64, "ALS latent factors (the size of the cf vectors).", ge=1, le=1024)
    als_regularization: float = _s(0.1, "ALS L2 regularisation (lambda).", ge=0)
    als_alpha: float = _s(
        40.0, "ALS confidence scaling: confidence = alpha * weight, as implicit trains.", gt=0)
    als_iterations: int = _s(20, "ALS iterations.", ge=1, le=1000)
    als_seed: int = _s(42, "Random seed of ALS, so that a reindex is reproducible.", ge=0)
    popularity_half_life_days: float = _s(
        7.0, "Half-life of the time-decayed popularity score stored on each item.", gt=0)
    bought_together_min_support: int = _s(
        1, "Baskets a pair must share to count as bought together.", ge=1)
    cold_item_neighbours: int = _s(
        20, "Text neighbours with CF whose factors a product without interactions inherits.",
        ge=0, le=1000)

    def event_weights(self) -> dict[str, float]:
        """Confidence weight per event type."""
        return {
            "view": self.weight_view,
            "click": self.weight_click,
            "add_to_cart": self.weight_add_to_cart,
            "purchase": self.weight_purchase,
            "return": self.weight_return,
            "dislike": self.weight_dislike,
            "hide": self.weight_hide,
        }


class SimilarSettings(_Group):
    title: ClassVar[str] = "Similar items"
    model_config = SettingsConfigDict(env_prefix="LODESTAR_SIMILAR_")

    text_weight: float = _s(0.6, "Weight of text similarity in similar items.", ge=0)
    cf_weight: float = _s(0.4, "Weight of CF similarity in similar items.", ge=0)
    candidates: int = _s(30, "Candidates each retriever fetches before fusion in similar items.",
                         ge=1, le=1000)


class RecSettings(_Group):
    title: ClassVar[str] = "Recommendations"
    model_config = SettingsConfigDict(env_prefix="LODESTAR_REC_")

    candidates: int = _s(30, "Candidates each recommendation retriever fetches.", ge=1, le=1000)
    anchor_items: int = _s(
        3, "Recent products (history, session) whose neighbours the content retriever takes.",
        ge=1, le=50)
    history_events: int = _s(
        200, "Most recent events of a shopper read per request (for a shopper with more, "
        "the window's products are still read, to leave them out).", ge=1, le=10_000)
    alpha_min: float = _s(0.3, "CF weight alpha for a shopper with little history.", ge=0, le=1)
    alpha_max: float = _s(0.7, "CF weight alpha for a shopper with a long history.", ge=0, le=1)
    alpha_saturation: float = _s(
        20.0, "Interactions over which alpha grows from its minimum towards its maximum.", gt=0)
    popularity_weight: float = _s(0.5, "Popularity weight beta in the hybrid score.", ge=0)
    content_weight: float = _s(
        0.6, "Content side: weight of similarity to the shopper's history.", ge=0)
    session_weight: float = _s(
        0.3, "Content side: weight of similarity to the live session (and product on the "
        "page).", ge=0)
    session_weight_alone: float = _s(
        0.8, "Weight of the live session for a shopper with no history, against popularity 1.",
        ge=0)
    copurchase_weight: float = _s(
        0.2, "Content side: weight of products bought with the shopper's recent items.", ge=0)
    device_pool_factor: int = _s(
        4, "A device's popular list re-ranks this many times rec_candidates overall favourites.",
        ge=1, le=100)
    neighbours: int = _s(30, "Similar shoppers consulted for 3-5-interaction users.",
                         ge=1, le=1000)
    item_cache_items: int = _s(
        100_000, "Products whose vectors and ranking attributes each process caches "
        "(~2 KB each).", ge=0)
    user_cache: int = _s(
        10_000, "Shoppers whose folded-in CF vector each process keeps (LRU): a vector "
        "recomputed for new events is kept in memory, never written by a read.", ge=0)
    mmr_lambda: float = _s(0.7, "MMR trade-off: 1 is pure relevance, 0 pure diversity.",
                           ge=0, le=1)
    mmr_pool_factor: int = _s(4, "MMR re-ranks the best limit x this many candidates.",
                              ge=1, le=100)
    max_per_category: int = _s(3, "At most this many per category in the top 10.", ge=1)
    max_per_brand: int = _s(2, "At most this many per brand in the top 10.", ge=1)
    drop_purchased: bool = _s(True, "Never recommend what the shopper bought.")
    exclude_seen: bool = _s(
        True, "Leave out products the shopper already interacted with in the window.")
    consumable_categories: str = _s(
        "", "Comma-separated categories whose products may be recommended again after "
        "purchase.")
    new_item_days: float = _s(7.0, "Days a new product gets the exploration bonus.", ge=0)
    new_item_share: float = _s(
        0.1, "Share of list slots kept for new products that fit the shopper (epsilon-greedy).",
        ge=0, le=1)
    new_boost: float = _s(0.15, "Exploration bonus of a new product, fading to 0.", ge=0)
    buy_again_min_rate: float = _s(
        0.1, "Buy it again lists only products at least this share of whose buyers bought "
        "them on two or more days (pulled towards the category's share for a product with "
        "few buyers): what is rarely re-bought never appears.", ge=0, le=1)
    buy_again_horizon_days: float = _s(
        14.0, "Buy it again ranks a past purchase by the chance that it is bought again "
        "within this many days from now (from its typical interval and the time since it "
        "was last bought).", gt=0, le=365)
    buy_again_history_days: int = _s(
        730, "Purchases this many days back teach repurchase intervals and make a shopper's "
        "buy-again list (from the next reindex); 0: all.", ge=0, le=36_500)
    promoted_boost: float = _s(0.1, "Boost of a promoted product.", ge=0)

    @model_validator(mode="after")
    def _alpha_in_order(self) -> Self:
        if self.alpha_min > self.alpha_max:
            raise ValueError("LODESTAR_REC_ALPHA_MIN must not exceed LODESTAR_REC_ALPHA_MAX")
        return self

    def consumables(self) -> frozenset[str]:
        """Categories whose products are bought again."""
        return frozenset(c.strip() for c in self.consumable_categories.split(",") if c.strip())


class SearchSettings(_Group):
    title: ClassVar[str] = "Search"
    model_config = SettingsConfigDict(env_prefix="LODESTAR_SEARCH_")

    query_encoder: Literal["torch", "onnx-int8"] = _s(
        "onnx-int8",
        "Query encoder of search: onnx-int8 (ONNX Runtime, int8 weights, exported on first "
        "use; 2 ms a query against 13, with the same search quality) or torch (the catalog's "
        "own, fp32).")
    candidates: int = _s(
        100, "Candidates each search retriever (lexical, semantic) fetches before fusion.",
        ge=1, le=1000)
    rrf_k: float = _s(60.0, "k of reciprocal rank fusion: 1/(k + rank); larger flattens the head.",
                      gt=0)
    lexical_weight: float = _s(1.0, "Weight of the lexical list in the fusion.", ge=0)
    partial_match_weight: float = _s(
        0.5, "Share of the lexical weight that a product with only some of the words of a "
        "query naming a model number or SKU gets (it ranks below every full match).",
        ge=0, le=1)
    semantic_weight: float = _s(1.0, "Weight of the semantic list in the fusion.", ge=0)
    partial_rank_cap: int = _s(
        2000, "Most any-word matches the lexical retriever ranks per query (taken in index "
        "order): bounds the cost of a broad query; 0: all.", ge=0)
    min_similarity: float = _s(
        0.25, "Semantic matches below this cosine similarity to the query are not matches.",
        ge=-1, le=1)
    description_weight: float = _s(
        0.05, "Lexical rank weight of the description, below tags (the lowest field label).",
        ge=0)
    max_query_chars: int = _s(200, "Longest query accepted, in characters.", ge=1, le=10_000)
    query_cache: int = _s(10_000, "Query embeddings each process keeps (LRU).", ge=0)
    typo_max_distance: int = _s(
        2, "Edits a query word of 8+ letters may be from a catalog word to be corrected "
        "(1 below).", ge=0, le=3)
    personal_cf_weight: float = _s(
        0.3, "Rerank: weight of the shopper's CF affinity to the item.", ge=0)
    personal_category_weight: float = _s(
        0.2, "Rerank: weight of the shopper's affinity to the item's category.", ge=0)
    personal_brand_weight: float = _s(
        0.2, "Rerank: weight of the shopper's affinity to the item's brand.", ge=0)
    personal_price_weight: float = _s(
        0.1, "Rerank: weight of how well the price fits the shopper's band in that category.",
        ge=0)
    personal_session_weight: float = _s(
        0.3, "Rerank: weight of closeness to what the live session looked at.", ge=0)
    personal_open_gap: float = _s(
        0.3, "Rerank weights shrink to 0 as the best semantic match leads the 10th by this "
        "much (a query for one product); 0: never.", ge=0, le=2)

    def personal_weights(self) -> tuple[float, float, float, float, float]:
        """The rerank's weights in ranking.search_rank.PERSONAL_SIGNALS order."""
        return (self.personal_cf_weight, self.personal_category_weight,
                self.personal_brand_weight, self.personal_price_weight,
                self.personal_session_weight)


class ServingSettings(_Group):
    title: ClassVar[str] = "Serving"

    hnsw_ef: int = _s(64, "HNSW ef at query time: higher is more exact and slower.",
                      ge=1, le=4096)
    index_max_age_hours: float = _s(
        36.0, "An index built longer ago than this is stale: recommendations fall back.", ge=0)
    index_poll_seconds: float = _s(
        2.0, "How often the server checks Postgres for a newly switched index version.", gt=0)
    db_statement_timeout_ms: int = _s(
        5000, "Longest a serving request's SQL statement may run before it is cancelled "
        "(the request answers 503); 0: no limit. Imports and reindexes have none.", ge=0)
    db_pool_timeout_seconds: float = _s(
        5.0, "Longest a request waits for a free database connection before answering 503.",
        gt=0)
    db_connect_timeout_seconds: int = _s(
        5, "Longest a new database connection may take to open.", ge=1, le=300)
    qdrant_timeout_seconds: int = _s(
        5, "Longest a serving request waits on the Qdrant server before the list falls back "
        "to Postgres. Reindexes wait up to 300 s per call.", ge=1, le=300)
    qdrant_retry_seconds: float = _s(
        10.0, "After the Qdrant server failed to answer, lists come from Postgres without "
        "asking it for this long; 0: ask on every request.", ge=0, le=3600)
    shutdown_grace_seconds: int = _s(
        30, "On SIGTERM or Ctrl+C the server takes no new connections and lets requests in "
        "flight finish for up to this long before it stops.", ge=1, le=3600)
    fallback_cache_seconds: float = _s(
        300.0, "How long the fallback's popular list, read from Postgres, is reused.", ge=0)
    max_limit: int = _s(100, "Largest `limit` a list endpoint accepts.", ge=1, le=1000)
    products_batch_max: int = _s(500, "Most products one bulk upsert request may hold.",
                                 ge=1, le=10_000)
    events_batch_max: int = _s(1000, "Most events one POST /v1/events request may carry.",
                               ge=1, le=100_000)
    event_future_skew_seconds: int = _s(
        300, "How far past the server's clock an event's occurred_at may lie (clock skew).",
        ge=0)
    log_json: bool = _s(False, "Write logs as JSON lines (server profile).")
    server_timing: bool = _s(
        True, "Send each response's time per stage (vector store, encoder, SQL, ranking, ...) "
        "in a Server-Timing header. The histogram metric is kept either way.")
    log_level: Literal["debug", "info", "warning", "error"] = _s(
        "warning", "Level of the libraries' log lines (Lodestar's own show from info); "
        "`lodestar -v` is the same as info.")


class AccessSettings(_Group):
    title: ClassVar[str] = "Keys, shopper tokens, rate limits and retention"

    admin_key: str | None = _s(
        None, "Bootstrap admin key, accepted as `Authorization: Bearer` or `X-Admin-Key`; "
        "more keys are made with `lodestar keys create`. The server profile will not start "
        "without one of 16+ characters.")
    key_cache_seconds: float = _s(
        5.0, "How long a process trusts what it read of a key: a key revoked in another "
        "process stops working within this time (at once in the one that revoked it).",
        ge=0, le=3600)
    shopper_token_ttl_seconds: int = _s(
        3600, "Lifetime of a shopper token made by `lodestar keys token`.", ge=1)
    shopper_token_max_ttl_seconds: int = _s(
        86_400, "Longest lifetime a shopper token may claim (its expiry minus its issue "
        "time); longer ones are refused.", ge=1)
    rate_limit_per_address: int = _s(
        1200, "Requests per minute one client address may send with a public key (browsers); "
        "over it: 429 with Retry-After. 0: no limit.", ge=0)
    rate_limit_per_key: int = _s(
        60_000, "Requests per minute one key may send, whatever its scope (for a public key: "
        "all browsers together). 0: no limit.", ge=0)
    rate_limit_store: Literal["auto", "memory", "postgres"] = _s(
        "auto", "Where request counts live: memory (one process) or postgres (shared by every "
        "API process). auto: memory in the embedded profile, postgres in the server profile.")
    retention_days: int = _s(
        0, "Events, search events and experiment exposures older than this many days are "
        "deleted at the start of every reindex (and by `lodestar purge`); 0: kept for ever.",
        ge=0, le=36_500)
    pseudonymise_secret: str | None = _s(
        None, "If set, shopper ids are replaced by a keyed hash (HMAC-SHA256 with this secret) "
        "before they are stored or looked up, through the API and `lodestar import`. Set it "
        "before the first event; changing it orphans every stored shopper.", min_length=16)
    openapi_docs: bool | None = _s(
        None, "Serve the OpenAPI schema and docs at /schema without a key. Unset: yes in the "
        "embedded profile, no in the server profile (there they need a key).")


class ExperimentSettings(_Group):
    title: ClassVar[str] = "Experiments"
    model_config = SettingsConfigDict(env_prefix="LODESTAR_EXPERIMENT_")

    attribution_hours: float = _s(
        24.0, "An event that names no request id counts for an experiment's list when the "
        "same shopper (or session) acts on a product it showed within this many hours.",
        gt=0, le=24 * 90)
    click_depth: int = _s(10, "K of CTR@K in experiment results: clicks on the first K "
                          "products of a list.", ge=1, le=1000)
    cache_seconds: float = _s(
        5.0, "How long a serving process trusts its list of running experiments: one "
        "created, stopped or starting elsewhere takes effect within this time (at once in "
        "the process that created or stopped it).", ge=0, le=3600)
    flush_seconds: float = _s(
        2.0, "How often exposures (lists served under an experiment) are written to "
        "Postgres, in batches, off the request path (the writer shares the process: "
        "measured, writing every 0.25 s added 1.3 ms to the p99 of requests, every 2 s "
        "0.2 ms).", gt=0, le=60)
    max_queued: int = _s(
        200_000, "Most exposures waiting to be written (Postgres down); beyond it the oldest "
        "are dropped and counted in /metrics.", ge=100)


_GROUPS: dict[str, type[_Group]] = {
    "storage": StorageSettings, "encoder": EncoderSettings, "training": TrainingSettings,
    "similar": SimilarSettings, "rec": RecSettings, "search": SearchSettings,
    "serving": ServingSettings, "access": AccessSettings, "experiment": ExperimentSettings,
}


def _flat_names() -> dict[str, tuple[str, str]]:
    """`lodestar_rec_candidates`-style names (the variable, lower case, without LODESTAR_)
    -> (group, field): how overrides name a setting, as the environment does."""
    out = {}
    for group, cls in _GROUPS.items():
        for name in cls.model_fields:
            env = cls.env_name(name).lower()
            out[env.removeprefix("lodestar_")] = (group, name)
    return out


_FLAT = _flat_names()
# What an experiment's variant may change: how lists are ranked, not where things live,
# how much memory caches take or what input is accepted (checked before a variant is known).
_OVERRIDE_GROUPS = ("similar", "rec", "search")
_NOT_OVERRIDABLE = frozenset({"rec_item_cache_items", "rec_user_cache", "search_query_cache",
                              "search_max_query_chars", "search_typo_max_distance"})
_OVERRIDABLE = [flat for flat, (group, _) in _FLAT.items()
                if group in _OVERRIDE_GROUPS and flat not in _NOT_OVERRIDABLE]
_NOT_RECORDED = frozenset({"database_url", "qdrant_url", "qdrant_api_key", "admin_key",
                           "pseudonymise_secret"})


class Settings:
    """Every tunable of the service, in groups. Immutable; `replace` makes a changed copy."""

    storage: StorageSettings
    encoder: EncoderSettings
    training: TrainingSettings
    similar: SimilarSettings
    rec: RecSettings
    search: SearchSettings
    serving: ServingSettings
    access: AccessSettings
    experiment: ExperimentSettings

    def __init__(self, **overrides: Any) -> None:
        """Read every group from the process environment; `overrides` (named as the
        variables are, without `LODESTAR_` and in lower case: `rec_candidates=50`,
        `data_dir=...`) take precedence. Raises SettingsError naming a bad variable."""
        by_group: dict[str, dict[str, Any]] = {g: {} for g in _GROUPS}
        for key, value in overrides.items():
            if key not in _FLAT:
                raise SettingsError(f"unknown setting {key!r}")
            group, name = _FLAT[key]
            by_group[group][name] = value
        for group, cls in _GROUPS.items():
            object.__setattr__(self, group, _read(cls, by_group[group]))

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """The settings of this process (see __init__)."""
        return cls(**overrides)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("settings are immutable: use replace()")

    def replace(self, **changes: Any) -> Settings:
        """A copy with `changes` (named as for __init__), validated like the environment."""
        values = {flat: getattr(getattr(self, g), n) for flat, (g, n) in _FLAT.items()}
        copy = object.__new__(Settings)
        for group, cls in _GROUPS.items():
            fields = {n: values[f] for f, (g, n) in _FLAT.items() if g == group}
            fields.update({_FLAT[k][1]: v for k, v in changes.items()
                           if k in _FLAT and _FLAT[k][0] == group})
            object.__setattr__(copy, group, _validated(cls, fields))
        unknown = [k for k in changes if k not in _FLAT]
        if unknown:
            raise SettingsError(f"unknown setting {unknown[0]!r}")
        return copy

    def to_env(self) -> dict[str, str]:
        """These settings as the environment reads them back (unset ones left out): how a
        child process (a reindex job) gets exactly the settings of its parent."""
        out = {}
        for env, _, _, value in self._rows():
            if value is None:
                continue
            out[env] = ("true" if value else "false") if isinstance(value, bool) else str(value)
        return out

    def snapshot(self) -> dict[str, Any]:
        """Every setting but connection strings and secrets, named as overrides name them,
        as JSON values: what an index version records it was built with."""
        out: dict[str, Any] = {}
        for flat, (group, name) in _FLAT.items():
            if flat in _NOT_RECORDED:
                continue
            value = getattr(getattr(self, group), name)
            out[flat] = value if isinstance(value, int | float | bool | None) else str(value)
        return out

    @staticmethod
    def overridable() -> list[str]:
        """The settings an experiment's variant may override, named as overrides name them
        (`rec_popularity_weight`)."""
        return list(_OVERRIDABLE)

    @staticmethod
    def override_name(name: str) -> str | None:
        """`name` (`rec_mmr_lambda`, or the variable `LODESTAR_REC_MMR_LAMBDA`) as overrides
        name a setting, if a variant may override it; None otherwise."""
        flat = name.strip().lower().removeprefix("lodestar_")
        return flat if flat in _OVERRIDABLE else None

    @property
    def server_profile(self) -> bool:
        """Postgres or Qdrant is a server of its own (DATABASE_URL or QDRANT_URL set): the
        profile that is reached over a network, with stricter defaults."""
        return self.storage.database_url is not None or self.storage.qdrant_url is not None

    def shared_rate_limits(self) -> bool:
        """Whether request counts are kept in Postgres, shared by every API process."""
        chosen = self.access.rate_limit_store
        return chosen == "postgres" or (chosen == "auto" and self.server_profile)

    def docs_open(self) -> bool:
        """Whether /schema answers without a key."""
        chosen = self.access.openapi_docs
        return chosen if chosen is not None else not self.server_profile

    def changed(self) -> set[str]:
        """The variables whose value here differs from its default."""
        out = set()
        for group, cls in _GROUPS.items():
            values = getattr(self, group)
            for name, info in cls.model_fields.items():
                if getattr(values, name) != info.default:
                    out.add(cls.env_name(name))
        return out

    def _rows(self) -> Iterator[tuple[str, str, str, Any]]:
        for group, cls in _GROUPS.items():
            values = getattr(self, group)
            for name, info in cls.model_fields.items():
                yield cls.env_name(name), group, str(info.description), getattr(values, name)

    @staticmethod
    def describe() -> list[tuple[str, str, str]]:
        """(environment name, default, description) for every setting, group by group."""
        rows = []
        for cls in _GROUPS.values():
            for name, info in cls.model_fields.items():
                default = "" if info.default is None else str(info.default)
                rows.append((cls.env_name(name), default, str(info.description)))
        return rows

    @staticmethod
    def groups() -> list[tuple[str, list[str]]]:
        """(group title, its environment names), in order: how settings are listed."""
        return [(cls.title, [cls.env_name(n) for n in cls.model_fields])
                for cls in _GROUPS.values()]


def _read(cls: type[_Group], overrides: Mapping[str, Any]) -> _Group:
    """A group from the environment and `overrides`; SettingsError names a bad variable."""
    try:
        return cls(**overrides)
    except ValidationError as exc:
        raise _error(cls, exc, overrides) from None


def _validated(cls: type[_Group], values: Mapping[str, Any]) -> _Group:
    """A group from complete values, without reading the environment."""
    try:
        return cls.model_validate(dict(values))
    except ValidationError as exc:
        raise _error(cls, exc, values) from None


def _error(cls: type[_Group], exc: ValidationError, given: Mapping[str, Any]) -> SettingsError:
    first = exc.errors()[0]
    loc = [str(part) for part in first.get("loc", ())]
    name = next((part for part in loc if part in cls.model_fields), None)
    if name is None:
        # A check across fields (alpha_min <= alpha_max): its message names the variables.
        return SettingsError(str(first.get("ctx", {}).get("error", first["msg"])))
    env = cls.env_name(name)
    raw = given.get(name, os.environ.get(env, first.get("input")))
    return SettingsError(f"{env}={raw!r}: {first['msg']}")
