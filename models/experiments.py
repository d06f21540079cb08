"""Experiments in Postgres: their definitions, and what their exposures led to.

An experiment runs on one surface of one shop from `start_at` until `stop_at` (open-ended
when None). Two experiments of a shop whose runs overlap may not share a surface: a
shopper's list would answer to both and neither could be read. Creation checks that under
a per-shop, per-surface transaction lock, so two concurrent requests cannot both pass.

Attribution (read side, `unit_outcomes`): an event belongs to an exposure when it names
the exposure's request id, or, naming none, when the same shopper (or, for an anonymous
exposure, the same session) acted on a product the list showed within the attribution
window after it was shown; an event that several exposures could claim goes to the latest
one before it. Only products the list showed count.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from cachetools import LRUCache, TTLCache
from sqlalchemy import text

from models.db import Database
from models.settings import Settings
from models.tenancy import current_shop

Kind = Literal["ab", "interleave"]
SURFACES = ("recommendations", "home", "similar", "bought-together", "search")
INTERLEAVED = "interleaved"  # the variant an exposure of an interleaving experiment names


@dataclass(frozen=True)
class Variant:
    name: str
    share: float
    overrides: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "share": self.share, "overrides": dict(self.overrides)}


@dataclass(frozen=True)
class Experiment:
    experiment_id: str
    name: str
    surface: str
    kind: Kind
    variants: tuple[Variant, ...]
    salt: str
    horizon_shoppers: int
    created_at: datetime
    start_at: datetime
    stop_at: datetime | None

    def running(self, now: datetime) -> bool:
        return self.start_at <= now and (self.stop_at is None or now < self.stop_at)

    def ended(self, now: datetime) -> bool:
        return self.stop_at is not None and self.stop_at <= now

    def status(self, now: datetime) -> str:
        if self.ended(now):
            return "ended"
        return "running" if self.running(now) else "scheduled"

    @property
    def control(self) -> Variant:
        """The first variant: what the others are compared with."""
        return self.variants[0]


class Overlap(Exception):
    def __init__(self, other: Experiment) -> None:
        super().__init__(other.experiment_id)
        self.other = other


def new_id() -> str:
    return f"exp_{secrets.token_hex(6)}"


_COLUMNS = ("experiment_id, name, surface, kind, variants, salt, horizon_shoppers, created_at, "
            "start_at, stop_at")


def _experiment(row: Any) -> Experiment:
    return Experiment(
        experiment_id=row.experiment_id, name=row.name, surface=row.surface, kind=row.kind,
        variants=tuple(Variant(v["name"], float(v["share"]), dict(v.get("overrides") or {}))
                       for v in row.variants),
        salt=row.salt, horizon_shoppers=row.horizon_shoppers, created_at=row.created_at,
        start_at=row.start_at, stop_at=row.stop_at)


def create(database: Database, name: str, surface: str, kind: Kind,
           variants: tuple[Variant, ...], horizon_shoppers: int, start_at: datetime,
           stop_at: datetime | None) -> Experiment:
    """Store a new experiment; Overlap names a live or scheduled one on the same surface
    whose run meets this one's."""
    with database.engine.begin() as conn:
        # One creation per shop and surface at a time, so the overlap check holds.
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('experiments:' || "
                          "current_setting('lodestar.shop', true) || ':' || :s))"),
                     {"s": surface})
        other = conn.execute(text(
            f"SELECT {_COLUMNS} FROM experiments WHERE surface = :s "
            "AND (stop_at IS NULL OR stop_at > :start) "
            "AND (CAST(:stop AS timestamptz) IS NULL OR start_at < :stop) "
            "ORDER BY start_at LIMIT 1"),
            {"s": surface, "start": start_at, "stop": stop_at}).first()
        if other is not None:
            raise Overlap(_experiment(other))
        row = conn.execute(text(
            "INSERT INTO experiments (experiment_id, name, surface, kind, variants, salt, "
            "horizon_shoppers, start_at, stop_at) VALUES (:id, :name, :surface, :kind, "
            f"CAST(:variants AS jsonb), :salt, :horizon, :start, :stop) RETURNING {_COLUMNS}"),
            {"id": new_id(), "name": name, "surface": surface, "kind": kind,
             "variants": json.dumps([v.as_json() for v in variants]),
             "salt": secrets.token_hex(16), "horizon": horizon_shoppers,
             "start": start_at, "stop": stop_at}).one()
    return _experiment(row)


def get(database: Database, experiment_id: str) -> Experiment | None:
    with database.engine.connect() as conn:
        row = conn.execute(text(f"SELECT {_COLUMNS} FROM experiments "
                                "WHERE experiment_id = :id"), {"id": experiment_id}).first()
    return _experiment(row) if row is not None else None


def listed(database: Database, limit: int = 100) -> list[Experiment]:
    """The shop's experiments, newest first."""
    with database.engine.connect() as conn:
        rows = conn.execute(text(f"SELECT {_COLUMNS} FROM experiments "
                                 "ORDER BY created_at DESC, experiment_id LIMIT :n"),
                            {"n": limit}).all()
    return [_experiment(r) for r in rows]


def not_ended(database: Database, now: datetime) -> list[Experiment]:
    """The shop's running and scheduled experiments: what a serving process keeps."""
    with database.engine.connect() as conn:
        rows = conn.execute(text(f"SELECT {_COLUMNS} FROM experiments "
                                 "WHERE stop_at IS NULL OR stop_at > :now"),
                            {"now": now}).all()
    return [_experiment(r) for r in rows]


def stop(database: Database, experiment_id: str, at: datetime) -> Experiment | None:
    """End an experiment now (a scheduled one ends before it starts: its stop becomes its
    start plus nothing, so it never runs). None if there is no such experiment; an ended
    one is returned unchanged."""
    with database.engine.begin() as conn:
        row = conn.execute(text(
            "UPDATE experiments SET stop_at = greatest(:at, start_at + interval '1 microsecond') "
            "WHERE experiment_id = :id AND (stop_at IS NULL OR stop_at > :at) "
            f"RETURNING {_COLUMNS}"), {"id": experiment_id, "at": at}).first()
    if row is not None:
        return _experiment(row)
    return get(database, experiment_id)


@dataclass(frozen=True)
class UnitOutcome:
    """What one assignment unit (shopper or session) did after an experiment's lists:
    exposures seen, those with a click in the top k, whether it added to cart or bought
    what a list showed, the revenue of those purchases, and for interleaved lists the
    clicks credited to each team (by variant name)."""

    unit: str
    variant: str
    exposures: int
    clicked_exposures: int
    carted: bool
    bought: bool
    revenue: float
    credits: dict[str, int]


_OUTCOMES_SQL = """
WITH x AS (
    SELECT request_id, variant, unit, user_id, session_id, items, teams, shown_at
    FROM exposures WHERE experiment_id = :e
),
named AS (
    SELECT e.event_id, x.request_id, e.event_type, e.product_id, e.price
    FROM x JOIN events e ON e.request_id = x.request_id AND e.product_id = ANY(x.items)
),
-- By the shopper, and apart from it by the session of an anonymous exposure: two joins
-- rather than one with an OR, so that each can use its index on events.
by_shopper AS (
    SELECT DISTINCT ON (e.event_id) e.event_id, x.request_id, e.event_type, e.product_id,
           e.price
    FROM x JOIN events e
      ON e.user_id = x.user_id AND e.product_id = ANY(x.items)
     AND e.occurred_at >= x.shown_at AND e.occurred_at < x.shown_at + :window
    WHERE e.request_id IS NULL AND x.user_id IS NOT NULL
    ORDER BY e.event_id, x.shown_at DESC
),
by_session AS (
    SELECT DISTINCT ON (e.event_id) e.event_id, x.request_id, e.event_type, e.product_id,
           e.price
    FROM x JOIN events e
      ON e.session_id = x.session_id AND e.product_id = ANY(x.items)
     AND e.occurred_at >= x.shown_at AND e.occurred_at < x.shown_at + :window
    WHERE e.request_id IS NULL AND x.user_id IS NULL
    ORDER BY e.event_id, x.shown_at DESC
),
attributed AS (
    SELECT * FROM named UNION ALL SELECT * FROM by_shopper UNION ALL SELECT * FROM by_session
),
per_exposure AS (
    SELECT x.request_id, x.variant, x.unit,
           coalesce(bool_or(a.event_type = 'click'
                            AND array_position(x.items, a.product_id) <= :k), false) AS clicked,
           coalesce(bool_or(a.event_type = 'add_to_cart'), false) AS carted,
           coalesce(bool_or(a.event_type = 'purchase'), false) AS bought,
           coalesce(sum(a.price) FILTER (WHERE a.event_type = 'purchase'), 0) AS revenue,
           array_remove(array_agg(x.teams[array_position(x.items, a.product_id)])
                        FILTER (WHERE a.event_type = 'click'), NULL) AS credited
    FROM x LEFT JOIN attributed a ON a.request_id = x.request_id
    GROUP BY x.request_id, x.variant, x.unit
),
credit_counts AS (
    SELECT q.unit, q.variant, t.team, count(*) AS n
    FROM per_exposure q, unnest(q.credited) AS t(team)
    GROUP BY q.unit, q.variant, t.team
),
credits AS (
    SELECT unit, variant, jsonb_object_agg(team, n) AS credits
    FROM credit_counts GROUP BY unit, variant
)
SELECT p.unit, p.variant, count(*) AS exposures, count(*) FILTER (WHERE p.clicked) AS clicked,
       bool_or(p.carted) AS carted, bool_or(p.bought) AS bought, sum(p.revenue) AS revenue,
       min(c.credits::text) AS credits
FROM per_exposure p LEFT JOIN credits c ON c.unit = p.unit AND c.variant = p.variant
GROUP BY p.unit, p.variant
"""


def unit_outcomes(database: Database, experiment_id: str, k: int,
                  window_hours: float) -> list[UnitOutcome]:
    """Every unit exposed to the experiment, with what its exposures led to (module doc)."""
    with database.engine.connect() as conn:
        rows = conn.execute(text(_OUTCOMES_SQL), {
            "e": experiment_id, "k": k, "window": timedelta(hours=window_hours)}).all()
    return [UnitOutcome(unit=r.unit, variant=r.variant, exposures=int(r.exposures),
                        clicked_exposures=int(r.clicked), carted=bool(r.carted),
                        bought=bool(r.bought), revenue=float(r.revenue or 0),
                        credits={str(t): int(n)
                                 for t, n in json.loads(r.credits or "{}").items()})
            for r in rows]


@dataclass(frozen=True)
class Live:
    """A running or scheduled experiment as a serving process holds it: with each variant's
    settings made once (validating and copying settings takes milliseconds)."""

    experiment: Experiment
    settings: tuple[Settings, ...]


class ExperimentBook:
    """The running and scheduled experiments of each shop, read from Postgres at most every
    `cache_seconds` per shop (one small query), so that a request finds its surface's
    experiment in memory. `forget` drops a shop's entry at once (after a create or stop)."""

    def __init__(self, base: Settings) -> None:
        self._cache: TTLCache[str, list[Experiment]] = TTLCache(
            maxsize=10_000, ttl=max(base.experiment.cache_seconds, 1e-6))
        # Variants' settings by (shop, experiment), with the settings they were made from:
        # made once, not at every request, and again only when the shop's own settings
        # change (a new index version with other tuned values).
        self._settings: LRUCache[tuple[str, str], tuple[Settings, tuple[Settings, ...]]] = (
            LRUCache(maxsize=10_000))
        self._lock = threading.Lock()

    def running(self, database: Database, surface: str, now: datetime,
                base: Settings) -> Live | None:
        """The current shop's experiment running on `surface` now, if any, its variants'
        settings made from `base` (the shop's settings without the experiment)."""
        shop = current_shop()
        with self._lock:
            entries = self._cache.get(shop)
        if entries is None:
            entries = not_ended(database, now)
            with self._lock:
                self._cache[shop] = entries
        for experiment in entries:
            if experiment.surface == surface and experiment.running(now):
                return Live(experiment, self._variant_settings(shop, experiment, base))
        return None

    def _variant_settings(self, shop: str, experiment: Experiment,
                          base: Settings) -> tuple[Settings, ...]:
        key = (shop, experiment.experiment_id)
        with self._lock:
            made = self._settings.get(key)
        if made is None or made[0] is not base:
            made = (base, tuple(base.replace(**v.overrides) for v in experiment.variants))
            with self._lock:
                self._settings[key] = made
        return made[1]

    def forget(self) -> None:
        """Read the current shop's experiments afresh on the next request."""
        with self._lock:
            self._cache.pop(current_shop(), None)
