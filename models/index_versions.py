"""Index versions in Postgres: which build is live, which are kept for rollback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text, update

from models.db import Database
from models.tables import IndexVersion
from models.tenancy import current_shop

# One number for every Lodestar process: Postgres advisory locks are keyed by bigint.
REINDEX_LOCK_KEY = 0x10DE57A2


@dataclass(frozen=True)
class VersionInfo:
    version: int
    status: str
    items_collection: str
    users_collection: str
    built_at: datetime | None
    as_of: datetime | None
    n_items: int
    n_items_with_cf: int
    n_users: int
    n_events: int
    encoder: str
    timings: dict[str, Any]
    catalog_read_at: datetime | None = None
    settings: dict[str, Any] | None = None  # what the version was built with


def _info(row: IndexVersion) -> VersionInfo:
    return VersionInfo(
        version=row.version,
        status=row.status,
        items_collection=row.items_collection,
        users_collection=row.users_collection,
        built_at=row.built_at,
        as_of=row.as_of,
        n_items=row.n_items,
        n_items_with_cf=row.n_items_with_cf,
        n_users=row.n_users,
        n_events=row.n_events,
        encoder=row.encoder,
        timings=dict(row.timings or {}),
        catalog_read_at=row.catalog_read_at,
        settings=dict(row.settings or {}),
    )


def live_version(database: Database) -> VersionInfo | None:
    with database.session() as session:
        row = session.scalars(select(IndexVersion).where(IndexVersion.status == "live")).first()
        return _info(row) if row else None


def all_versions(database: Database) -> list[VersionInfo]:
    with database.session() as session:
        rows = session.scalars(select(IndexVersion).order_by(IndexVersion.version.desc()))
        return [_info(r) for r in rows]


def start_version(
    database: Database, prefix: str, settings_snapshot: dict[str, Any]
) -> VersionInfo:
    """Reserve the next version number and the collection names it will build."""
    with database.session() as session:
        row = IndexVersion(
            status="building", items_collection="", users_collection="",
            settings=settings_snapshot,
        )
        session.add(row)
        session.flush()
        row.items_collection = f"{prefix}_items_v{row.version}"
        row.users_collection = f"{prefix}_users_v{row.version}"
        session.flush()
        return _info(row)


def finish_version(database: Database, version: int, **fields: Any) -> None:
    """Record what the build produced and make it the live version, in one transaction."""
    with database.session() as session:
        session.execute(
            update(IndexVersion).where(IndexVersion.status == "live").values(status="retired")
        )
        session.execute(
            update(IndexVersion)
            .where(IndexVersion.version == version)
            .values(status="live", **fields)
        )


def make_live(database: Database, version: int) -> None:
    """Serve an earlier version again: it becomes live, the live one retired, in one
    transaction."""
    with database.session() as session:
        session.execute(
            update(IndexVersion).where(IndexVersion.status == "live").values(status="retired")
        )
        session.execute(
            update(IndexVersion).where(IndexVersion.version == version).values(status="live")
        )


def load_gram(database: Database, version: int) -> bytes | None:
    """The version's Yᵀ·Y (float32 bytes), for folding shoppers in."""
    with database.session() as session:
        return session.scalar(select(IndexVersion.cf_gram).where(IndexVersion.version == version))


def record_timings(database: Database, version: int, timings: dict[str, float]) -> None:
    with database.session() as session:
        session.execute(
            update(IndexVersion).where(IndexVersion.version == version).values(timings=timings)
        )


def fail_version(database: Database, version: int, error: str) -> None:
    with database.session() as session:
        session.execute(
            update(IndexVersion)
            .where(IndexVersion.version == version)
            .values(status="failed", error=error[:2000])
        )


def stale_builds(database: Database) -> list[VersionInfo]:
    """Builds left 'building' by a process that died (only called under the reindex lock)."""
    with database.session() as session:
        rows = session.scalars(select(IndexVersion).where(IndexVersion.status == "building"))
        return [_info(r) for r in rows]


@contextmanager
def reindex_lock(database: Database) -> Iterator[bool]:
    """Hold the current shop's reindex lock for the duration, if it is free (shops reindex
    on their own: the lock is keyed by shop).

    Yields False without waiting when another process holds it. A session-level advisory
    lock dies with its connection, so a killed reindex never leaves it held.
    """
    with database.engine.connect() as conn:
        key = {"k": REINDEX_LOCK_KEY, "shop": current_shop()}
        got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k, hashtext(:shop))"), key)
                   .scalar())
        try:
            yield got
        finally:
            if got:
                conn.execute(text("SELECT pg_advisory_unlock(:k, hashtext(:shop))"), key)
                conn.commit()
