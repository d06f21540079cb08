"""Recommendations benchmark: the HTTP endpoint for warm shoppers, cold shoppers and
anonymous sessions, and event ingest (single and batched), over loopback.

    python -m bench.recommend                     # 100K products, 50K users, 1M events

Shares the shop of `python -m bench.similar` (bench/.data/<scale>), reindexing it if the
index predates what recommendations need. Results go to bench/results/recommend.md.
Events the benchmark posts are deleted afterwards, so runs do not drift.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import httpx
import numpy as np
from sqlalchemy import text

from bench.access import HEADERS, server_env
from bench.similar import (
    ROOT,
    add_scale_arguments,
    free_port,
    percentile,
    prepare,
    publish,
    shop_settings,
)
from models import index_versions
from models.db import Database, migrate, open_database
from models.settings import Settings

RESULTS = ROOT / "results" / "recommend.md"
EVENT_PREFIX = "bench-"


def pick_users(database: Database, low: int, high: int, n: int, seed: int) -> list[str]:
    with database.engine.connect() as conn:
        rows = [r[0] for r in conn.execute(text(
            "SELECT user_id FROM events GROUP BY user_id "
            "HAVING count(*) BETWEEN :lo AND :hi ORDER BY user_id"), {"lo": low, "hi": high})]
    rng = np.random.default_rng(seed)
    return [rows[i] for i in rng.choice(len(rows), size=min(n, len(rows)), replace=False)]


def popular_products(database: Database, n: int) -> list[str]:
    with database.engine.connect() as conn:
        return [r[0] for r in conn.execute(text(
            "SELECT product_id FROM events GROUP BY 1 ORDER BY count(*) DESC LIMIT :n"),
            {"n": n})]


def event(user: str, product: str, session: str, kind: str = "view") -> dict[str, Any]:
    return {"event_id": EVENT_PREFIX + uuid.uuid4().hex, "user_id": user, "product_id": product,
            "event_type": kind, "session_id": session,
            "occurred_at": datetime.now(UTC).isoformat()}


def time_gets(http: httpx.Client, urls: Sequence[str], warm_up: int = 10) -> dict[str, float]:
    """p50/p99 of sequential GETs; the first `warm_up` URLs are asked once beforehand."""
    for url in urls[:warm_up]:
        http.get(url)
    lat = []
    for url in urls:
        started = time.perf_counter()
        response = http.get(url)
        lat.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
    return {"n": len(lat), "p50": percentile(lat, 50), "p99": percentile(lat, 99)}


def delete_posted(settings: Settings, prefix: str) -> None:
    """Remove the events a benchmark posted (and the shoppers it made), all named with
    `prefix`, so the shop is as it was for the next run."""
    database = open_database(settings, pool_size=1)
    try:
        with database.engine.begin() as conn:
            conn.execute(text("DELETE FROM events WHERE event_id LIKE :p"), {"p": prefix + "%"})
            conn.execute(text("DELETE FROM users WHERE user_id LIKE :p"), {"p": prefix + "%"})
    finally:
        database.close()


def serve(settings: Settings,
          extra_env: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = server_env(LODESTAR_DATA_DIR=str(settings.storage.data_dir), **(extra_env or {}))
    server = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(base + "/ready").status_code == 200:
                return server, base
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            server.terminate()
            raise RuntimeError("server did not become ready")
        time.sleep(0.2)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_scale_arguments(parser)
    parser.add_argument("--requests", type=int, default=300, help="per shopper group")
    parser.add_argument("--warm-up", type=int, default=2000,
                        help="requests of other shoppers that fill the server's item cache")
    parser.add_argument("--single-events", type=int, default=300)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    args.reindex = False

    settings = shop_settings(args)
    database = open_database(settings, pool_size=2)
    try:
        migrate(database)
        live = index_versions.live_version(database)
        # An index from before raw factors and the Gram matrix were stored cannot fold in.
        args.reindex = live is None or index_versions.load_gram(database, live.version) is None
        timings = prepare(args, settings, database)
        heavy = pick_users(database, 20, 10_000, 2 * args.requests + args.warm_up, seed=1)
        first, warm, warm_up = (heavy[:args.requests], heavy[args.requests:2 * args.requests],
                                heavy[2 * args.requests:])
        cold = pick_users(database, 1, 2, args.requests, seed=2)
        products = popular_products(database, 2000)
    finally:
        database.close()

    server, base = serve(settings)
    results: dict[str, dict[str, float]] = {}
    try:
        with httpx.Client(base_url=base, headers=HEADERS, timeout=30) as http:
            print("recommendations ...", flush=True)
            results["warm shoppers (20+ events), first requests after start"] = time_gets(
                http, [f"/v1/users/{u}/recommendations?limit=10" for u in first])
            print(f"warming the item cache with {len(warm_up)} other shoppers ...", flush=True)
            for u in warm_up:
                http.get(f"/v1/users/{u}/recommendations?limit=10")
            results["warm shoppers (20+ events)"] = time_gets(
                http, [f"/v1/users/{u}/recommendations?limit=10" for u in warm])
            results["cold shoppers (1-2 events)"] = time_gets(
                http, [f"/v1/users/{u}/recommendations?limit=10" for u in cold])
            results["new shoppers (no events)"] = time_gets(
                http, [f"/v1/users/new-{i}/recommendations?limit=10"
                       for i in range(args.requests)])
            rng = np.random.default_rng(3)
            sessions = []
            for i in range(args.requests):
                sid = f"{EVENT_PREFIX}session-{i}"
                for product in rng.choice(products, size=3, replace=False):
                    http.post("/v1/events", json=event(f"anon-{i}", str(product), sid))
                sessions.append(sid)
            results["anonymous sessions (3 views)"] = time_gets(
                http, [f"/v1/users/anon-x/recommendations?limit=10&session_id={s}"
                       for s in sessions])
            print("events ...", flush=True)
            lat = []
            started = time.perf_counter()
            for i in range(args.single_events):
                body = event(f"single-{i % 50}", str(products[i % len(products)]), "s-single")
                t0 = time.perf_counter()
                assert http.post("/v1/events", json=body).status_code == 201
                lat.append((time.perf_counter() - t0) * 1000)
            single_rate = args.single_events / (time.perf_counter() - started)
            started = time.perf_counter()
            for b in range(args.batches):
                batch = [event(f"batch-{(b * args.batch_size + j) % 5000}",
                               str(products[(b * 7 + j) % len(products)]), f"s-batch-{b}",
                               "click") for j in range(args.batch_size)]
                response = http.post("/v1/events", json={"events": batch})
                assert response.status_code == 200, response.text
                assert response.json()["accepted"] == len(batch), response.text
            batched_rate = args.batches * args.batch_size / (time.perf_counter() - started)
    finally:
        server.terminate()
        server.wait(timeout=30)
        database = open_database(settings, pool_size=1)
        try:
            with database.engine.begin() as conn:
                conn.execute(text("DELETE FROM events WHERE event_id LIKE :p"),
                             {"p": EVENT_PREFIX + "%"})
        finally:
            database.close()

    lines = [
        "# Recommendations: benchmark",
        "",
        f"Written by `python -m bench.recommend` on {time.strftime('%Y-%m-%d')}: "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
        f"Shop: {args.products:,} products, {args.users:,} users, {args.events:,} events "
        "(synthetic, seed 1). `lodestar serve` (uvicorn, one worker) on loopback, one client, "
        "sequential requests; `limit=10`. The first group runs right after the server "
        "starts, with its item cache empty; the others after "
        f"{args.warm_up:,} requests of other shoppers, as on a server that has been up a "
        "while. No shopper is asked twice.",
        "",
        "## `GET /v1/users/{id}/recommendations`",
        "",
        "| shoppers | n | p50 ms | p99 ms |",
        "|---|---:|---:|---:|",
        *[f"| {name} | {int(r['n'])} | {r['p50']:.1f} | {r['p99']:.1f} |"
          for name, r in results.items()],
        "",
        "Each request reads the shopper's events from Postgres, folds new ones into their CF "
        "vector when there are any, runs the route's retrievers as filtered vector queries, "
        "blends, applies the rules and MMR.",
        "",
        "## `POST /v1/events`",
        "",
        "| mode | events/s | note |",
        "|---|---:|---|",
        f"| single events | {single_rate:,.0f} | p50 {percentile(lat, 50):.1f} ms, "
        f"p99 {percentile(lat, 99):.1f} ms per request |",
        f"| batches of {args.batch_size} | {batched_rate:,.0f} | {args.batches} batches |",
        "",
    ]
    publish(lines, args.out, timings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
