"""SQLAlchemy 2.0 tables: the source of truth. Alembic migrations create them; the ORM reads.

Everything in Qdrant can be rebuilt from these rows by a reindex.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Identity,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

EVENT_TYPES = ("view", "click", "add_to_cart", "purchase", "return", "dislike", "hide")
SEARCH_EVENT_TYPES = ("impression", "click")


class Base(DeclarativeBase):
    pass


class Product(Base):
    __tablename__ = "products"

    product_id: Mapped[str] = mapped_column(Text, primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    category: Mapped[str] = mapped_column(Text)
    subcategory: Mapped[str] = mapped_column(Text, default="", server_default="")
    brand: Mapped[str] = mapped_column(Text, default="", server_default="")
    price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")
    in_stock: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    promoted: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    __table_args__ = (
        CheckConstraint("price >= 0", name="price_not_negative"),
        Index("ix_products_category_brand", "category", "brand"),
        Index("ix_products_updated_at", "updated_at"),
    )


class User(Base):
    __tablename__ = "users"

    user_id: Mapped[str] = mapped_column(Text, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    cohort: Mapped[str | None] = mapped_column(Text, nullable=True)


class Event(Base):
    """One shopper interaction. `event_id` is the idempotency key of ingest."""

    __tablename__ = "events"

    event_id: Mapped[str] = mapped_column(Text, primary_key=True)
    user_id: Mapped[str] = mapped_column(Text)
    product_id: Mapped[str] = mapped_column(Text)
    event_type: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    session_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    device_type: Mapped[str | None] = mapped_column(Text, nullable=True)
    dwell_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    price: Mapped[Decimal | None] = mapped_column(Numeric(12, 2), nullable=True)
    # The list response that showed the product, when the event names one: attribution.
    request_id: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (
        CheckConstraint(
            "event_type IN (" + ", ".join(f"'{t}'" for t in EVENT_TYPES) + ")",
            name="known_event_type"),
        CheckConstraint("dwell_ms IS NULL OR dwell_ms >= 0", name="dwell_not_negative"),
        Index("ix_events_user_time", "user_id", "occurred_at"),
        Index("ix_events_occurred_at", "occurred_at"),
        Index("ix_events_session_time", "session_id", "occurred_at",
              postgresql_where="session_id IS NOT NULL"),
        # What a shopper hid or disliked, read with every history: small, and only those
        # events pay for it.
        Index("ix_events_blocked", "user_id", "product_id",
              postgresql_where="event_type IN ('dislike', 'hide')"),
        Index("ix_events_request_id", "request_id",
              postgresql_where="request_id IS NOT NULL"),
    )


class IndexVersion(Base):
    """One build of the vector index. Exactly one row is `live` once a reindex succeeded."""

    __tablename__ = "index_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    status: Mapped[str] = mapped_column(Text)  # building | ready | live | failed | retired
    items_collection: Mapped[str] = mapped_column(Text)
    users_collection: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    built_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    as_of: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    n_items: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    n_items_with_cf: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    n_users: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    n_events: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    encoder: Mapped[str] = mapped_column(Text, default="", server_default="")
    timings: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    catalog_read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                             nullable=True)
    # Yᵀ·Y of the raw item factors, float32 (f × f), for folding shoppers in at serve time.
    cf_gram: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, deferred=True)

    __table_args__ = (
        CheckConstraint(
            "status IN ('building', 'ready', 'live', 'failed', 'retired')", name="known_status"
        ),
        # At most one live version: the alias in Postgres terms.
        Index("ux_index_versions_one_live", "status", unique=True,
              postgresql_where="status = 'live'"),
    )


class EmbeddingCache(Base):
    """Text embeddings keyed by (encoder, hash of the text): unchanged products are never
    re-embedded. Vectors are float32 bytes."""

    __tablename__ = "embedding_cache"

    encoder: Mapped[str] = mapped_column(Text, primary_key=True)
    text_hash: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    vector: Mapped[bytes] = mapped_column(LargeBinary)


class Job(Base):
    """A background admin job (a reindex started over HTTP) and how far it got."""

    __tablename__ = "jobs"

    job_id: Mapped[str] = mapped_column(Text, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)  # running | done | failed
    stage: Mapped[str | None] = mapped_column(Text, nullable=True)
    done: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    total: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    result: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (
        CheckConstraint("status IN ('running', 'done', 'failed')", name="known_job_status"),
        Index("ux_jobs_one_active_per_kind", "kind", unique=True,
              postgresql_where=text("status = 'running'")),
    )


class DeletedProduct(Base):
    """A product deleted through the API, and when: so that an index built before the
    deletion drops it when it goes live."""

    __tablename__ = "deleted_products"

    product_id: Mapped[str] = mapped_column(Text, primary_key=True)
    deleted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    __table_args__ = (Index("ix_deleted_products_deleted_at", "deleted_at"),)


class SearchEvent(Base):
    """A search result shown (`impression`) or clicked, tied to the `request_id` of the
    search response. No foreign key to products: the log outlives a deleted product."""

    __tablename__ = "search_events"

    event_id: Mapped[str] = mapped_column(Text, primary_key=True)
    request_id: Mapped[str] = mapped_column(Text)
    event_type: Mapped[str] = mapped_column(Text)
    product_id: Mapped[str] = mapped_column(Text)
    position: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 0-based rank shown
    user_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    session_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    query: Mapped[str | None] = mapped_column(Text, nullable=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                  server_default=func.now())

    __table_args__ = (
        CheckConstraint("event_type IN ('impression', 'click')", name="known_search_event_type"),
        CheckConstraint("position IS NULL OR position >= 0", name="position_not_negative"),
        Index("ix_search_events_request_id", "request_id"),
        Index("ix_search_events_occurred_at", "occurred_at"),
    )


class Shop(Base):
    """A shop served by this deployment. Single-shop installs have only `default`."""

    __tablename__ = "shops"

    shop_id: Mapped[str] = mapped_column(Text, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ApiKey(Base):
    """An API key: only the SHA-256 of its secret part is kept, so it cannot be read back.
    `token_secret` (an HMAC of the secret) signs the shopper tokens minted with the key."""

    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(Text, primary_key=True)
    shop_id: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text)  # public | server | admin
    name: Mapped[str] = mapped_column(Text, default="", server_default="")
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary)
    token_secret: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (
        CheckConstraint("scope IN ('public', 'server', 'admin')", name="known_scope"),
        Index("ix_api_keys_shop", "shop_id"),
    )


class AuditEntry(Base):
    """One admin action: who (key id, never the key), in which shop, what, on what, when,
    and how it ended. Carries no personal data."""

    __tablename__ = "audit_log"

    entry_id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    shop_id: Mapped[str] = mapped_column(Text)
    key_id: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    target: Mapped[str] = mapped_column(Text, default="", server_default="")
    outcome: Mapped[str] = mapped_column(Text)  # ok | refused | failed
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")

    __table_args__ = (
        CheckConstraint("outcome IN ('ok', 'refused', 'failed')", name="known_outcome"),
        Index("ix_audit_log_shop_entry", "shop_id", "entry_id"),
    )


class Erasure(Base):
    """A request to erase a shopper and whether it is done. Names no shopper; `point_id`
    (the hash of the shopper's vector) is cleared once no older build can go live."""

    __tablename__ = "erasures"

    erasure_id: Mapped[str] = mapped_column(Text, primary_key=True)
    shop_id: Mapped[str] = mapped_column(Text, default="default", server_default="default")
    point_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    status: Mapped[str] = mapped_column(Text)  # pending | done
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True),
                                                   server_default=func.now())
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (
        CheckConstraint("status IN ('pending', 'done')", name="known_erasure_status"),
        Index("ix_erasures_pending", "requested_at", postgresql_where=text("status = 'pending'")),
    )


class Experiment(Base):
    """An A/B test or interleaving of one surface: variants (name, share, setting
    overrides) as JSON, the salt that makes its assignment its own, a schedule and a fixed
    horizon (shoppers per variant before its p-values are shown)."""

    __tablename__ = "experiments"

    shop_id: Mapped[str] = mapped_column(Text, primary_key=True)
    experiment_id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    surface: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text)  # ab | interleave
    variants: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    salt: Mapped[str] = mapped_column(Text)
    horizon_shoppers: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    start_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    stop_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (
        CheckConstraint("kind IN ('ab', 'interleave')", name="known_experiment_kind"),
        CheckConstraint("stop_at IS NULL OR stop_at > start_at", name="stops_after_start"),
    )


class Exposure(Base):
    """One list served under an experiment: to whom (the assignment unit: the shopper, or
    the session of an anonymous one), which variant, what in which order and, interleaved,
    which variant put each product there."""

    __tablename__ = "exposures"

    shop_id: Mapped[str] = mapped_column(Text, primary_key=True)
    request_id: Mapped[str] = mapped_column(Text, primary_key=True)
    experiment_id: Mapped[str] = mapped_column(Text)
    variant: Mapped[str] = mapped_column(Text)
    surface: Mapped[str] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(Text)
    user_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    session_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    items: Mapped[list[str]] = mapped_column(ARRAY(Text))
    teams: Mapped[list[str] | None] = mapped_column(ARRAY(Text), nullable=True)
    shown_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_exposures_experiment", "shop_id", "experiment_id", "unit"),
        Index("ix_exposures_user_time", "shop_id", "user_id", "shown_at",
              postgresql_where="user_id IS NOT NULL"),
        Index("ix_exposures_session_time", "shop_id", "session_id", "shown_at",
              postgresql_where="session_id IS NOT NULL"),
    )


class Tuning(Base):
    """What `lodestar tune` found best for a shop: training settings (as overrides name
    them) that later reindexes apply, and the search's report."""

    __tablename__ = "tuning"

    shop_id: Mapped[str] = mapped_column(Text, primary_key=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSONB)
    report: Mapped[dict[str, Any]] = mapped_column(JSONB)
    tuned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
