"""Cold-start items, measured: do products nobody has touched reach the shoppers who will?

`lodestar evaluate --cold-items` takes the usual time split, then withholds a random set
of products that shoppers interacted with after the cut: every event on them is left out
of training, so the train-only index knows them as a new product would be known (by text
alone), and they are dated as created at the cut. Each shopper who later interacted with
one of them gets the recommender's list, three ways:

- bootstrapped: as served: the withheld products inherit CF factors from their text
  neighbours (and can take the new-arrival slot by CF fit);
- no bootstrapping: the same index with the inherited factors removed;
- random insertion: the lists without bootstrapping, with the new-arrival slot given to
  a withheld product drawn at random.

Scored on the withheld products only: recall, NDCG and hit rate at k over the shoppers
who interacted with at least one, and how many of the withheld products reached anyone.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
from sqlalchemy import text

from evaluation.recommendations import (
    EvaluationOptions,
    SplitInfo,
    as_datetime,
    choose_split,
    epoch,
    load_events,
    train_histories,
)
from indexing.collections import TEXT
from indexing.encoder import Encoder
from indexing.pipeline import build_index
from indexing.vectorstore.port import Filter, Point, Range, VectorStore, point_id
from models.db import Database
from models.settings import Settings
from ranking.metrics import ranking_metrics, summarise
from retrieval.item_cache import ItemCache
from retrieval.live_index import IndexView
from retrieval.recommender import Recommender, RecRequest

Progress = Callable[[str, int, int], None]
STRATEGIES = ("bootstrapped", "no bootstrapping", "random insertion")
MD_NAME, JSON_NAME = "cold_items.md", "cold_items.json"


@dataclass(frozen=True)
class ColdItemsOptions:
    test_days: float = 14.0
    n_items: int = 200  # products withheld (fewer when fewer were touched after the cut)
    max_users: int = 3_000
    seed: int = 0
    k: int = 10


@dataclass
class ColdItemsResult:
    split: SplitInfo
    options: ColdItemsOptions
    n_candidates: int  # products eligible to be withheld
    n_withheld: int
    n_users: int
    scores: dict[str, dict[str, float]]  # strategy -> metric -> value (with _se)
    new_item_share: float
    timings: dict[str, float] = field(default_factory=dict)


def evaluate_cold_items(database: Database, store: VectorStore, settings: Settings,
                        encoder: Encoder | Callable[[], Encoder], options: ColdItemsOptions,
                        progress: Progress | None = None) -> ColdItemsResult:
    started = time.perf_counter()
    timings: dict[str, float] = {}
    rng = np.random.default_rng(options.seed)
    events = load_events(database)
    events, split, info = choose_split(events, EvaluationOptions(test_days=options.test_days))
    created = _created_at(database)
    cut = info.cut.timestamp()
    # Products some shopper with a history turned to after the cut, old enough that the
    # model could have known them: the ones a withheld history matters for.
    candidates = sorted({item for user in split.users_in_both
                         for item in split.test_gains.get(user, {})
                         if created.get(item, cut) < cut})
    n = min(options.n_items, len(candidates))
    withheld = sorted(rng.choice(candidates, size=n, replace=False).tolist()) if n else []
    held = set(withheld)
    users = [u for u in split.users_in_both if held & set(split.test_gains.get(u, {}))]
    if len(users) > options.max_users:
        users = sorted(rng.choice(users, size=options.max_users, replace=False).tolist())
    gains = {u: {i: g for i, g in split.test_gains[u].items() if i in held} for u in users}

    as_of = np.datetime64(info.cut.replace(tzinfo=None), "us") - np.timedelta64(1, "us")
    train_settings = settings.replace(as_of=as_datetime(as_of).isoformat())
    held_mask = np.fromiter((str(i) in held for i in events.items.tolist()), dtype=np.bool_,
                            count=len(events))
    train_split = dataclasses.replace(split, train=split.train & ~held_mask)
    histories = train_histories(events, train_split, users, as_of, train_settings)
    token = f"{os.getpid()}_{time.time_ns() // 1_000_000}"
    items = f"{settings.storage.shop_prefix}_coldeval_{token}_items"
    users_name = f"{settings.storage.shop_prefix}_coldeval_{token}_users"
    text_encoder = encoder() if callable(encoder) else encoder
    lists: dict[str, dict[str, list[str]]] = {}
    try:
        stage = time.perf_counter()
        built = build_index(database, store, train_settings, text_encoder, items, users_name,
                            progress, withheld=withheld)
        for pid in withheld:  # arriving now, as a new product does
            store.set_payload(items, point_id(pid), {"created_at": cut - 1.0})
        timings["train"] = round(time.perf_counter() - stage, 3)

        def recommend_all(label: str) -> dict[str, list[str]]:
            view = IndexView(0, items, users_name, built.gram,
                             built.as_of.timestamp() if built.as_of else epoch(as_of),
                             ItemCache(train_settings.rec.item_cache_items))
            recommender = Recommender(store, train_settings, view)
            catalog_then = Filter(ranges={"created_at": Range(lte=cut)})
            out = {}
            for done, user in enumerate(users, 1):
                rec = recommender.recommend(histories[user], RecRequest(
                    limit=options.k, filter=catalog_then, now=cut))
                out[user] = rec.product_ids
                if progress and (done % 50 == 0 or done == len(users)):
                    progress(label, done, len(users))
            return out

        stage = time.perf_counter()
        lists["bootstrapped"] = recommend_all("bootstrapped")
        _forget_inherited(store, items, withheld)
        lists["no bootstrapping"] = recommend_all("no bootstrapping")
        lists["random insertion"] = _insert_at_random(lists["no bootstrapping"], withheld,
                                                      options.k, rng)
        timings["recommend"] = round(time.perf_counter() - stage, 3)
    finally:
        for name in (items, users_name):
            store.drop_collection(name)
    scores = {}
    for strategy, per_user in lists.items():
        summary = summarise([ranking_metrics(per_user[u], gains[u], options.k) for u in users])
        reached = {p for ids in per_user.values() for p in ids[:options.k] if p in held}
        summary["items_reached"] = len(reached) / max(1, len(withheld))
        scores[strategy] = summary
    timings["total"] = round(time.perf_counter() - started, 3)
    return ColdItemsResult(info, options, len(candidates), len(withheld), len(users), scores,
                           settings.rec.new_item_share, timings)


def _created_at(database: Database) -> dict[str, float]:
    with database.engine.connect() as conn:
        return {str(p): t.timestamp() for p, t in conn.execute(
            text("SELECT product_id, created_at FROM products"))}


def _forget_inherited(store: VectorStore, collection: str, product_ids: Sequence[str]) -> None:
    """Rewrite the withheld products with their text vector only: no CF factors at all."""
    records = store.retrieve(collection, [point_id(p) for p in product_ids], vectors=[TEXT])
    store.upsert(collection, [
        Point(r.id, {TEXT: r.vectors[TEXT]}, {**(r.payload or {}), "cf_bootstrapped": False})
        for r in records if TEXT in r.vectors])


def _insert_at_random(lists: Mapping[str, list[str]], withheld: Sequence[str], k: int,
                      rng: np.random.Generator) -> dict[str, list[str]]:
    """Each list with the new-arrival position (mid-list, as the recommender puts it) given
    to a withheld product drawn at random, unless the list holds one already."""
    held = set(withheld)
    out = {}
    for user, ids in lists.items():
        shown = list(ids[:k])
        if withheld and not held & set(shown):
            pick = str(withheld[int(rng.integers(len(withheld)))])
            at = min(len(shown), k // 2)
            shown = [*shown[:at], pick, *shown[at:]][:k]
        out[user] = shown
    return out


def markdown(result: ColdItemsResult) -> str:
    k, info = result.options.k, result.split
    lines = [
        "# Cold-start items: offline evaluation",
        "",
        f"Trained on events before **{_when(info.cut)}** (the newest event minus "
        f"{info.test_days:g} days). {result.n_withheld} of the {result.n_candidates} products "
        "that shoppers with a training history turned to after the cut were withheld: every "
        "event on them was left out of training, and they were dated as created at the cut, "
        f"as new products. Scored: the {result.n_users:,} shoppers who interacted with at "
        f"least one of them after the cut, on the withheld products only; each list holds "
        f"{k} products, {result.new_item_share:.0%} of slots kept for new arrivals.",
        "",
        f"| strategy | recall@{k} | NDCG@{k} | hit rate@{k} | withheld products shown to anyone |",
        "|---|---:|---:|---:|---:|",
    ]
    for strategy in STRATEGIES:
        s = result.scores[strategy]
        lines.append(
            f"| {strategy} | {s[f'recall@{k}']:.4f} | {s[f'ndcg@{k}']:.4f} ± "
            f"{s[f'ndcg@{k}_se']:.4f} | {s[f'hit_rate@{k}']:.4f} | {s['items_reached']:.0%} |")
    lines += ["", "bootstrapped: the withheld products inherit CF factors from their 20 "
              "nearest products by text that have their own (what the service does); no "
              "bootstrapping: the same, with those factors removed; random insertion: the "
              "no-bootstrapping lists with the new-arrival slot given to a withheld product "
              "at random.", ""]
    return "\n".join(lines)


def write_reports(result: ColdItemsResult, out_dir: Path, with_json: bool) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / MD_NAME]
    written[0].write_text(markdown(result), encoding="utf-8")
    if with_json:
        body = {"split": {"cut": result.split.cut.isoformat(),
                          "test_days": result.split.test_days},
                "n_candidates": result.n_candidates, "n_withheld": result.n_withheld,
                "n_users": result.n_users, "k": result.options.k, "scores": result.scores,
                "timings": result.timings}
        path = out_dir / JSON_NAME
        path.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
        written.append(path)
    return written


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")
