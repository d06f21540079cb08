"""Offline evaluation: train on the past, ask every strategy about the future, score it.

The events in Postgres are split by time. An index is built from the events before the cut
only (a pair of collections of its own; no index version is created or switched, and the
pair is dropped afterwards), and each evaluated shopper's history is rebuilt from those
events exactly as the API reads it. Then the same `Recommender` the API serves ranks ten
items per shopper four ways: popularity, content only, CF only (single-signal baselines
through `RecRequest.baseline`) and the routed hybrid itself. What the shopper did at or
after the cut is the ground truth; `ranking.metrics` scores the lists.

`--validation` moves the whole exercise back inside the training period (the events at or
after the real cut are not read at all), so that settings can be tuned without ever
looking at the test period.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt
from sqlalchemy import text

from indexing.als import train_als
from indexing.encoder import Encoder
from indexing.interactions import load_interactions
from indexing.pipeline import build_index
from indexing.vectorstore.port import Filter, Range, VectorStore
from models.db import Database
from models.settings import Settings
from ranking.history import Interaction, ShopperHistory
from ranking.metrics import (
    N_USERS,
    catalog_coverage,
    intra_list_diversity,
    novelty,
    ranking_metrics,
    summarise,
)
from ranking.plain_als import top_k
from ranking.split import COLD_START_BUCKETS, Split, temporal_split
from retrieval.item_cache import ItemCache
from retrieval.live_index import IndexView
from retrieval.recommender import Recommender, RecRequest
from retrieval.results import ListResult

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]

STRATEGIES = ("popular", "content", "cf", "als", "hybrid")
"""The strategies compared, in report order; "hybrid" is what the API serves."""

STRATEGY_LABELS = {
    "popular": "popularity",
    "content": "content-only",
    "cf": "CF-only",
    "als": "ALS alone",
    "hybrid": "hybrid",
}

_BASELINE = {"popular": "popular", "content": "content", "cf": "cf", "hybrid": None}
"""The strategies the recommender ranks, and how it is asked for each; "als" is ranked by
the ALS model alone, outside it (ranking.plain_als)."""

RELEVANCE = {"purchase": 5.0, "add_to_cart": 3.0, "click": 2.0, "view": 1.0,
             "return": 0.0, "dislike": 0.0, "hide": 0.0}
"""Graded relevance of a test item: the strongest event the shopper gave it in test
(negative feedback makes nothing relevant)."""

WARM_BUCKETS = tuple(b for b in COLD_START_BUCKETS if b != "0")
"""Buckets of shoppers with training history: together they are the "overall" population."""

MIN_EVENTS_PER_SIDE = 10
"""Fewer events than this before or after the cut is no evaluation, whatever it prints."""

_US_PER_DAY = 86_400 * 1_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class NotEnoughEvents(ValueError):
    """The events cannot be split into a training and a test period worth scoring."""


@dataclass(frozen=True)
class EvaluationOptions:
    """What `lodestar evaluate` was asked for.

    test_days:  length of the test period, measured back from the newest event.
    max_users:  most shoppers scored per cold-start bucket (a seeded sample beyond it).
    seed:       seed of that sample.
    validation: evaluate on a validation split inside the training period instead.
    k:          length of each recommended list, and the cut-off of every metric.
    """

    test_days: float = 14.0
    max_users: int = 3_000
    seed: int = 0
    validation: bool = False
    k: int = 10

    def __post_init__(self) -> None:
        if not (math.isfinite(self.test_days) and self.test_days > 0):
            raise ValueError(f"test_days must be positive, got {self.test_days}")
        if self.max_users < 1:
            raise ValueError(f"max_users must be at least 1, got {self.max_users}")
        if self.k < 1:
            raise ValueError(f"k must be at least 1, got {self.k}")


@dataclass(frozen=True)
class EventLog:
    """Every event on a catalog product as parallel arrays, oldest first.

    users, items, types: (n,) object arrays of str; times: (n,) datetime64[us], UTC.
    """

    users: npt.NDArray[np.object_]
    items: npt.NDArray[np.object_]
    types: npt.NDArray[np.object_]
    times: npt.NDArray[np.datetime64]

    def __len__(self) -> int:
        return len(self.times)

    def subset(self, mask: npt.NDArray[np.bool_]) -> EventLog:
        return EventLog(self.users[mask], self.items[mask], self.types[mask], self.times[mask])


@dataclass(frozen=True)
class SplitInfo:
    """Which split was scored, stated in the report.

    kind: "test" or "validation". cut: the first instant of the scored period; the model
    saw only events strictly before it. scored_until: the end of the scored period
    (the newest event for "test", the real test cut for "validation", whose events at or
    after it were not read).
    """

    kind: str
    cut: datetime
    scored_until: datetime
    test_days: float
    n_events: int
    n_train_events: int
    n_scored_events: int
    n_train_users: int
    n_users_in_both: int
    n_cold_test_users: int


@dataclass
class EvaluationResult:
    """Scores per strategy, overall and per cold-start bucket.

    overall[strategy] and buckets[bucket][strategy] map metric names to values (means over
    shoppers with `_se` standard errors beside them, plus coverage, ild, novelty, served,
    within_caps and n_users), or are None where the strategy served none of the bucket's
    shoppers. max_per_category and max_per_brand are the caps the lists were held to.
    bucket_sizes[bucket] = (shoppers in the split, shoppers scored). routes[bucket] counts
    the routes the hybrid took.
    """

    split: SplitInfo
    options: EvaluationOptions
    catalog_size: int
    overall: dict[str, dict[str, float] | None]
    buckets: dict[str, dict[str, dict[str, float] | None]]
    bucket_sizes: dict[str, tuple[int, int]]
    routes: dict[str, dict[str, int]]
    max_per_category: int
    max_per_brand: int
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def strategies(self) -> tuple[str, ...]:
        return STRATEGIES


# --- events ------------------------------------------------------------------------------

_EVENTS = text(
    """
    SELECT e.user_id, e.product_id, e.event_type,
           CAST(EXTRACT(EPOCH FROM e.occurred_at) * 1000000 AS bigint)
    FROM events e JOIN products p USING (product_id)
    ORDER BY e.occurred_at, e.event_id
    """
)


def load_events(database: Database) -> EventLog:
    """Every event on a product that is in the catalog, oldest first.

    Events on products missing from the catalog are left out on both sides of the cut:
    no strategy could recommend them, and the trainer ignores them too.
    """
    with database.engine.connect() as conn:
        rows = conn.execute(_EVENTS).all()
    n = len(rows)
    users = np.empty(n, dtype=object)
    items = np.empty(n, dtype=object)
    types = np.empty(n, dtype=object)
    micros = np.empty(n, dtype=np.int64)
    for i, (user, item, kind, at) in enumerate(rows):
        users[i], items[i], types[i], micros[i] = str(user), str(item), str(kind), int(at)
    return EventLog(users, items, types, micros.astype("datetime64[us]"))


def _catalog_size(database: Database) -> int:
    with database.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM products")).scalar() or 0)


# --- the split ---------------------------------------------------------------------------

def as_datetime(moment: np.datetime64) -> datetime:
    micros = int(moment.astype("datetime64[us]").astype(np.int64))
    return _EPOCH + timedelta(microseconds=micros)


def epoch(moment: np.datetime64) -> float:
    return float(moment.astype("datetime64[us]").astype(np.int64)) / 1_000_000


def just_before(cut: datetime) -> np.datetime64:
    """The last moment a model trained for this cut may see: the trainer reads `<= as_of`."""
    return np.datetime64(cut.replace(tzinfo=None), "us") - np.timedelta64(1, "us")


@contextlib.contextmanager
def train_index(
    database: Database,
    store: VectorStore,
    settings: Settings,
    encoder: Encoder | Callable[[], Encoder],
    cut: datetime,
    label: str,
    progress: Progress | None = None,
) -> Iterator[tuple[IndexView, Settings, float]]:
    """An index trained on the events before the cut, in a pair of collections of its own
    that is dropped on leaving (also on failure); no index version is created or switched.
    Yields its view, the settings it was trained with and the seconds the build took.

    `encoder` may be a function that loads it, called only here, so that a caller that
    refuses a thin split first costs no model load.
    """
    train_settings = settings.replace(as_of=as_datetime(just_before(cut)).isoformat())
    token = f"{os.getpid()}_{time.time_ns() // 1_000_000}"
    items_name = f"{settings.storage.shop_prefix}_{label}_{token}_items"
    users_name = f"{settings.storage.shop_prefix}_{label}_{token}_users"
    text_encoder = encoder() if callable(encoder) else encoder
    try:
        started = time.perf_counter()
        built = build_index(database, store, train_settings, text_encoder, items_name,
                            users_name, progress)
        seconds = round(time.perf_counter() - started, 3)
        view = IndexView(version=0, items=items_name, users=users_name, gram=built.gram,
                         as_of=built.as_of.timestamp() if built.as_of else cut.timestamp(),
                         items_cache=ItemCache(train_settings.rec.item_cache_items))
        yield view, train_settings, seconds
    finally:
        for name in (items_name, users_name):
            store.drop_collection(name)


def choose_split(events: EventLog, options: EvaluationOptions) -> tuple[EventLog, Split, SplitInfo]:
    """Cut the events and split them; returns the events the split is over, the split and
    its description. Raises NotEnoughEvents when either side is too thin to score.

    The test cut is the newest event minus `test_days`. A validation split first drops
    every event at or after that cut, then cuts `test_days` earlier again, so the scored
    period has the same length and nothing from the test period is ever read.
    """
    if len(events) == 0:
        raise NotEnoughEvents("no events to evaluate on: import or generate some first")
    span = np.timedelta64(round(options.test_days * _US_PER_DAY), "us")
    newest = events.times.max()
    cut = newest - span
    scored_until = newest
    kind = "test"
    if options.validation:
        events = events.subset(events.times < cut)
        if len(events) == 0:
            raise NotEnoughEvents(
                f"too few events to split: none before the test cut {as_datetime(cut)}; "
                "shorten --test-days")
        scored_until = cut
        cut = cut - span
        kind = "validation"
    n_train = int(np.count_nonzero(events.times < cut))
    n_scored = len(events) - n_train
    split = temporal_split(events.users, events.items, events.times, cut,
                           event_types=events.types, relevance=RELEVANCE)
    if (n_train < MIN_EVENTS_PER_SIDE or n_scored < MIN_EVENTS_PER_SIDE
            or not split.users_in_both):
        raise NotEnoughEvents(
            f"too few events to split: {len(events):,} events, {n_train:,} before the "
            f"{kind} cut {as_datetime(cut).isoformat()} and {n_scored:,} at or after it, "
            f"{len(split.users_in_both):,} shoppers on both sides; need at least "
            f"{MIN_EVENTS_PER_SIDE} events on each side and one shopper on both "
            "(change --test-days or load more history)")
    info = SplitInfo(
        kind=kind,
        cut=as_datetime(cut),
        scored_until=as_datetime(scored_until),
        test_days=options.test_days,
        n_events=len(events),
        n_train_events=n_train,
        n_scored_events=n_scored,
        n_train_users=sum(1 for c in split.train_counts.values() if c > 0),
        n_users_in_both=len(split.users_in_both),
        n_cold_test_users=len(split.test_users) - len(split.users_in_both),
    )
    return events, split, info


def sample_users(split: Split, max_users: int, seed: int) -> dict[str, tuple[str, ...]]:
    """The shoppers scored in each cold-start bucket: all of them, or a seeded sample of
    `max_users` (the same seed and data always give the same sample)."""
    rng = np.random.default_rng(seed)
    out: dict[str, tuple[str, ...]] = {}
    for bucket, users in split.test_users_by_bucket().items():
        if len(users) > max_users:
            picked = np.sort(rng.choice(len(users), size=max_users, replace=False))
            out[bucket] = tuple(users[i] for i in picked)
        else:
            out[bucket] = users
    return out


# --- histories ---------------------------------------------------------------------------

def train_histories(
    events: EventLog,
    split: Split,
    users: Sequence[str],
    as_of: np.datetime64,
    settings: Settings,
) -> dict[str, ShopperHistory]:
    """Each shopper's history as the API would load it at `as_of`: their training events
    within `event_window_days` before it, the newest `rec_history_events` of them, and for
    a shopper with more, every product the window holds and which of them were bought.
    Shoppers without any get an empty history (the API's view of a new shopper)."""
    wanted = set(users)
    mine = np.fromiter((u in wanted for u in events.users.tolist()), dtype=np.bool_,
                       count=len(events))
    keep = split.train & mine
    if settings.training.event_window_days > 0:
        since = as_of - np.timedelta64(settings.training.event_window_days * _US_PER_DAY, "us")
        keep &= events.times > since
    idx = np.flatnonzero(keep)
    per_user: dict[str, list[Interaction]] = {}
    beyond: dict[str, tuple[set[str], set[str]]] = {}
    micros = events.times.astype(np.int64)
    # Newest first, as the API's query orders them, so the cap keeps the newest.
    for i in idx[np.argsort(-micros[idx], kind="stable")]:
        user = str(events.users[i])
        bucket = per_user.setdefault(user, [])
        if len(bucket) < settings.rec.history_events:
            bucket.append(Interaction(str(events.items[i]), str(events.types[i]),
                                      float(micros[i]) / 1_000_000))
            continue
        # Past the cap the API still reads which products the window holds (and which
        # were bought): everything before the cap, and these.
        if user not in beyond:
            beyond[user] = ({e.product_id for e in bucket},
                            {e.product_id for e in bucket if e.event_type == "purchase"})
        touched, bought = beyond[user]
        touched.add(str(events.items[i]))
        if events.types[i] == "purchase":
            bought.add(str(events.items[i]))
    def history(user: str) -> ShopperHistory:
        touched, bought = beyond.get(user, (set(), set()))
        return ShopperHistory(user_id=user, events=per_user.get(user, []),
                              touched=frozenset(touched), bought=frozenset(bought))

    return {user: history(user) for user in users}


def train_popularity(events: EventLog, split: Split) -> tuple[dict[str, float], int]:
    """How many training shoppers touched each item, and how many training shoppers there
    are: the popularity that novelty measures surprise against."""
    users = events.users[split.train]
    items = events.items[split.train]
    pairs = {(str(u), str(i)) for u, i in zip(users.tolist(), items.tolist(), strict=True)}
    counts: dict[str, float] = {}
    for _, item in pairs:
        counts[item] = counts.get(item, 0.0) + 1.0
    return counts, max(1, len({u for u, _ in pairs}))


# --- the run -----------------------------------------------------------------------------

def evaluate(
    database: Database,
    store: VectorStore,
    settings: Settings,
    encoder: Encoder | Callable[[], Encoder],
    options: EvaluationOptions,
    progress: Progress | None = None,
) -> EvaluationResult:
    """Split, train on the training side, recommend for every scored shopper with every
    strategy, and score the lists against what the shopper did in the scored period.

    `encoder` may be a function that loads it: it is then called only once the split has
    been found usable, so that a refusal (NotEnoughEvents) costs no model load. Builds a
    pair of collections of its own and drops it before returning (also on failure); no
    index version is created, changed or switched.
    """
    started = time.perf_counter()
    timings: dict[str, float] = {}

    def report(stage: str, done: int, total: int) -> None:
        if progress:
            progress(stage, done, total)

    events = load_events(database)
    catalog_size = _catalog_size(database)
    events, split, info = choose_split(events, options)
    scored = sample_users(split, options.max_users, options.seed)
    timings["load"] = round(time.perf_counter() - started, 3)
    log.info("%s split at %s: %d train events, %d scored events, %d shoppers on both sides",
             info.kind, info.cut.isoformat(), info.n_train_events, info.n_scored_events,
             info.n_users_in_both)

    # The model may see events strictly before the cut; the trainer reads `<= as_of`.
    as_of = just_before(info.cut)
    with train_index(database, store, settings, encoder, info.cut, "eval",
                     progress) as (view, train_settings, train_seconds):
        timings["train"] = train_seconds
        recommender = Recommender(store, train_settings, view)

        stage = time.perf_counter()
        everyone = [u for users in scored.values() for u in users]
        histories = train_histories(events, split, everyone, as_of, train_settings)
        shown_lists = _recommend_all(recommender, histories, scored, info, options, report)
        timings["recommend"] = round(time.perf_counter() - stage, 3)
        stage = time.perf_counter()
        shown_lists.lists["als"] = _plain_als(database, train_settings, as_of, everyone,
                                              options.k)
        shown_lists.within_caps["als"] = {
            user: _ids_within_caps(recommender, view, ids, options.k)
            for user, ids in shown_lists.lists["als"].items() if ids}
        timings["als"] = round(time.perf_counter() - stage, 3)

        stage = time.perf_counter()
        shown = sorted({p for per_user in shown_lists.lists.values()
                        for ids in per_user.values() for p in ids})
        # The recommender read every shown product's vectors already: its cache has them.
        vectors = {p: item.text for p, item in zip(
            shown, recommender.cache.get_products(store, view.items, shown), strict=True)
            if item is not None and item.text is not None}

    popularity, n_train_users = train_popularity(events, split)
    overall_users = [u for b in WARM_BUCKETS for u in scored[b]]
    lists, caps = shown_lists.lists, shown_lists.within_caps
    overall = {
        s: _score(overall_users, lists[s], caps[s], split.test_gains, vectors, popularity,
                  n_train_users, catalog_size, options.k)
        for s in STRATEGIES
    }
    buckets = {
        b: {s: _score(scored[b], lists[s], caps[s], split.test_gains, vectors, popularity,
                      n_train_users, catalog_size, options.k) for s in STRATEGIES}
        for b in COLD_START_BUCKETS
    }
    timings["score"] = round(time.perf_counter() - stage, 3)
    timings["total"] = round(time.perf_counter() - started, 3)
    population = split.test_users_by_bucket()
    return EvaluationResult(
        split=info,
        options=options,
        catalog_size=catalog_size,
        overall=overall,
        buckets=buckets,
        bucket_sizes={b: (len(population[b]), len(scored[b])) for b in COLD_START_BUCKETS},
        routes=shown_lists.routes,
        max_per_category=settings.rec.max_per_category,
        max_per_brand=settings.rec.max_per_brand,
        timings=timings,
    )


@dataclass
class _Lists:
    """What each strategy showed: lists[strategy][user] (product ids, best first),
    within_caps[strategy][user] (whether that list kept the category and brand caps), and
    the hybrid's routes counted per bucket."""

    lists: dict[str, dict[str, list[str]]]
    within_caps: dict[str, dict[str, bool]]
    routes: dict[str, dict[str, int]]


def _within_caps(result: ListResult, k: int, settings: Settings) -> bool:
    """Whether the first k of a list keep the per-category and per-brand caps. The caps
    give way when a strategy's candidates cannot fill the list otherwise; the report says
    how often each strategy kept them, so that its accuracy is read as measured under the
    same rules."""
    shown = [result.shown[item.product_id] for item in result.items[:k]]
    return _caps_kept([p.category for p in shown], [p.brand for p in shown], settings)


def _caps_kept(categories: Sequence[str], brands: Sequence[str], settings: Settings) -> bool:
    by_category = Counter(categories)
    by_brand = Counter(brands)
    by_brand.pop("", None)
    return (max(by_category.values(), default=0) <= settings.rec.max_per_category
            and max(by_brand.values(), default=0) <= settings.rec.max_per_brand)


def _ids_within_caps(recommender: Recommender, view: IndexView, ids: Sequence[str],
                     k: int) -> bool:
    items = [i for i in recommender.cache.get_products(recommender.store, view.items,
                                                       list(ids[:k])) if i is not None]
    return _caps_kept([i.candidate.category for i in items],
                      [i.candidate.brand for i in items], recommender.settings)


def _plain_als(database: Database, settings: Settings, as_of: np.datetime64,
               users: Sequence[str], k: int) -> dict[str, list[str]]:
    """ALS alone, as a shop running the library without Lodestar would: trained on the
    interactions the index was built from (same weights, decay, window and settings), each
    shopper's top k by their factors, what they touched left out. A shopper without
    training interactions gets nothing."""
    moment = as_datetime(as_of)
    interactions = load_interactions(database, settings, moment)
    factors = train_als(interactions.matrix, settings)
    row_of = {u: i for i, u in enumerate(interactions.users)}
    matrix = interactions.matrix
    out: dict[str, list[str]] = {}
    for user in users:
        row = row_of.get(user)
        if row is None:
            out[user] = []
            continue
        seen = matrix.indices[matrix.indptr[row]:matrix.indptr[row + 1]]
        out[user] = [interactions.items[i]
                     for i in top_k(factors.users[row], factors.items, seen.tolist(), k)]
    return out


def _recommend_all(
    recommender: Recommender,
    histories: Mapping[str, ShopperHistory],
    scored: Mapping[str, Sequence[str]],
    info: SplitInfo,
    options: EvaluationOptions,
    report: Progress,
) -> _Lists:
    """Ten items per shopper per strategy, through `Recommender.recommend` as the API calls
    it, with the clock at the cut and the catalog as it stood then: products created after
    the cut did not exist yet. (Stock is today's: the catalog keeps no stock history.)"""
    now = info.cut.timestamp()
    catalog_then = Filter(ranges={"created_at": Range(lte=now)})
    out = _Lists({s: {} for s in _BASELINE}, {s: {} for s in _BASELINE},
                 {b: {} for b in scored})
    total = sum(len(users) for users in scored.values())
    done = 0
    report("recommend", 0, total)
    for bucket, users in scored.items():
        for user in users:
            history = histories[user]
            for strategy, baseline in _BASELINE.items():
                request = RecRequest(limit=options.k, filter=catalog_then, now=now,
                                     baseline=baseline)
                rec = recommender.recommend(history, request)
                out.lists[strategy][user] = rec.product_ids[: options.k]
                out.within_caps[strategy][user] = _within_caps(rec, options.k,
                                                               recommender.settings)
                if strategy == "hybrid":
                    route = rec.strategy
                    out.routes[bucket][route] = out.routes[bucket].get(route, 0) + 1
            done += 1
            if done % 50 == 0 or done == total:
                report("recommend", done, total)
    return out


def _score(
    users: Sequence[str],
    lists: Mapping[str, Sequence[str]],
    within_caps: Mapping[str, bool],
    gains: Mapping[str, Mapping[str, float]],
    vectors: Mapping[str, npt.NDArray[np.float32]],
    popularity: Mapping[str, float],
    n_train_users: int,
    catalog_size: int,
    k: int,
) -> dict[str, float] | None:
    """Metrics of one strategy over a group of shoppers; None when it served none of them.

    Accuracy is averaged over every shopper of the group, an empty list scoring 0 (a
    strategy that cannot answer a shopper is charged for it; `served` says how often that
    happened). Diversity, novelty and `within_caps` (the share of lists that kept the
    category and brand caps) describe the lists that were shown, so they are averaged over
    the non-empty lists only.
    """
    served = [u for u in users if lists.get(u)]
    if not served:
        return None
    summary = summarise([ranking_metrics(lists.get(u, []), gains[u], k) for u in users])
    dim = next(iter(vectors.values())).shape[0] if vectors else 1
    shown = summarise([
        {
            "ild": intra_list_diversity(np.stack([
                vectors.get(p, np.zeros(dim, np.float32)) for p in lists[u][:k]])),
            "novelty": novelty(lists[u][:k], popularity, n_train_users),
        }
        for u in served
    ])
    shown.pop(N_USERS)
    summary.update(shown)
    summary["coverage"] = catalog_coverage([list(lists.get(u, []))[:k] for u in users],
                                           max(catalog_size, 1))
    summary["served"] = len(served) / len(users)
    summary["within_caps"] = sum(within_caps.get(u, False) for u in served) / len(served)
    return summary
