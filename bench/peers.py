"""Recommendations beside their peers, in one process, one run, the same shoppers.

    python -m bench.peers                 # the 100K-product shop of bench.similar

Times, per request of a shopper with 20+ events, in process (no HTTP):

- Lodestar's recommender as the API runs it: the shopper's history read from Postgres,
  CF fold-in, the route's retrievers as filtered vector queries, blend, rules, MMR;
- `implicit`'s own `recommend()` on an ALS model trained on the same interactions with
  the same settings (its user row given, already-seen items filtered): the CF retriever
  alone, without filters, rules or a database;
- a popularity list: the most popular products not yet seen, from a precomputed order.

Lodestar's figure includes what the others skip (history from Postgres, in-stock and
request filters, rules, diversity, reasons); the table says so rather than hiding it.
Results: bench/results/peers.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable, Sequence
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

from bench.recommend import pick_users
from bench.similar import ROOT, add_scale_arguments, percentile, publish, shop_settings
from indexing.interactions import load_interactions, resolve_as_of
from indexing.vectorstore import open_vector_store
from models.db import open_database
from models.history import load_history, window_start
from retrieval.filters import ItemFilters
from retrieval.live_index import LiveIndex
from retrieval.recommender import Recommender, RecRequest

RESULTS = ROOT / "results" / "peers.md"
K = 10


def timed_each(fn: Callable[[str], object], users: Sequence[str]) -> dict[str, float]:
    for user in users[:20]:
        fn(user)
    lat = []
    for user in users:
        started = time.perf_counter()
        fn(user)
        lat.append((time.perf_counter() - started) * 1000)
    return {"n": len(lat), "p50": percentile(lat, 50), "p99": percentile(lat, 99),
            "mean": float(np.mean(lat))}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_scale_arguments(parser)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    settings = shop_settings(args)
    database = open_database(settings, pool_size=2)
    store = open_vector_store(settings)
    try:
        index = LiveIndex(database, settings.rec.item_cache_items, settings.rec.user_cache)
        index.refresh()
        view, live = index.view, index.live
        if view is None or live is None:
            raise SystemExit("no live index: run `python -m bench.similar` first")
        print("loading interactions and training ALS ...", flush=True)
        interactions = load_interactions(database, settings, resolve_as_of(database, settings))
        from implicit.cpu.als import AlternatingLeastSquares

        training = settings.training
        model = AlternatingLeastSquares(
            factors=training.als_factors, regularization=training.als_regularization,
            alpha=training.als_alpha, iterations=training.als_iterations,
            random_state=training.als_seed, dtype=np.float32)
        started = time.perf_counter()
        matrix = interactions.matrix.astype(np.float32).tocsr()
        model.fit(matrix, show_progress=False)
        fit_seconds = time.perf_counter() - started
        row_of = {u: i for i, u in enumerate(interactions.users)}
        picked = [u for u in pick_users(database, 20, 10_000, 3 * args.requests, seed=21)
                  if u in row_of]
        users, warm_up = picked[:args.requests], picked[args.requests:2 * args.requests]
        popularity = np.asarray(matrix.sum(axis=0)).ravel()
        popular_order = np.argsort(-popularity)
        since = window_start(live.as_of, training.event_window_days)
        recommender = Recommender(store, settings, view)
        no_filter = ItemFilters().to_filter()

        def lodestar(user: str) -> object:
            history = load_history(database, user, None, since, settings.rec.history_events)
            return recommender.recommend(history, RecRequest(limit=K, filter=no_filter))

        def implicit_recommend(user: str) -> object:
            row = row_of[user]
            return model.recommend(row, matrix[row], N=K, filter_already_liked_items=True)

        def popular(user: str) -> object:
            seen = set(matrix[row_of[user]].indices.tolist())
            return [int(i) for i in popular_order[:K + len(seen)] if i not in seen][:K]

        # Lodestar after a warm-up on other shoppers, so that its item cache holds what a
        # server that has been up a while would (and no timed shopper's folded-in vector
        # is cached yet); the others have nothing to warm.
        print("warming Lodestar's item cache ...", flush=True)
        for user in warm_up:
            lodestar(user)
        results = {
            "Lodestar recommender (history from Postgres, CF fold-in, retrievers, "
            "blend, rules, MMR)": timed_each(lodestar, users),
            "implicit ALS `recommend()` (CF alone, no filters or rules)":
                timed_each(implicit_recommend, users),
            "popularity, unseen items (precomputed order)": timed_each(popular, users),
        }
    finally:
        store.close()
        database.close()

    lines = [
        "# Recommendations beside their peers (in process)",
        "",
        f"Written by `python -m bench.peers` on {time.strftime('%Y-%m-%d')}: "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
        f"Shop: {args.products:,} products, {args.users:,} users, {args.events:,} events; "
        f"{len(users)} shoppers with 20+ events, each asked once per line, top {K}, one "
        "thread, no HTTP. ALS for `implicit` trained on the same interactions with the "
        f"same settings ({training.als_factors} factors, {training.als_iterations} "
        f"iterations) in {fit_seconds:.1f} s.",
        "",
        "| recommender | n | p50 ms | p99 ms | mean ms |",
        "|---|---:|---:|---:|---:|",
        *[f"| {name} | {int(r['n'])} | {r['p50']:.2f} | {r['p99']:.2f} | {r['mean']:.2f} |"
          for name, r in results.items()],
        "",
        "`implicit` scores every item against the user's vector (a matrix-vector product) "
        "and filters the seen ones; Lodestar's request also reads the shopper's events from "
        "Postgres, keeps to in-stock products and the request's filters inside each vector "
        "query, blends several retrievers and applies the business rules and MMR, which is "
        "where its extra milliseconds go (bench/results/stages.md).",
        "",
    ]
    publish(lines, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
