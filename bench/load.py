"""Mixed load: similar items, recommendations, search and events at once, at several
concurrency levels, for a bounded time each, over loopback.

    python -m bench.load                           # the 100K shop, 1, 4 and 16 clients
    python -m bench.load --levels 1,8 --seconds 20

Shares the shop of `python -m bench.similar` (bench/.data/<scale>). One `lodestar serve`
(uvicorn, one worker); each client is a thread with its own connection sending requests
back to back, drawn at random from the mix (weights below). Every answer that is not 2xx,
and every transport error, counts as an error. Events posted are deleted afterwards.
Results go to bench/results/load.md: throughput, p50/p99 latency and errors per level.
Nothing here asserts a speed: it reports.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import httpx
import numpy as np

from bench.access import HEADERS
from bench.recommend import delete_posted, pick_users, popular_products, serve
from bench.similar import ROOT, add_scale_arguments, prepare, shop_settings
from models.db import migrate, open_database

RESULTS = ROOT / "results" / "load.md"
EVENT_PREFIX = "bench-load-"
MIX = {"similar items": 0.35, "recommendations": 0.30, "search": 0.20, "events": 0.15}
QUERIES = ["running shoes", "wireless earbuds", "coffee grinder", "yoga mat", "rain jacket",
           "kids backpack", "desk lamp", "water bottle", "phone case", "bluetooth speaker",
           "cast iron pan", "electric kettle", "office chair", "gaming mouse", "sofa"]

Request = Callable[[httpx.Client, random.Random], httpx.Response]


def requests_of(products: Sequence[str], users: Sequence[str]) -> dict[str, Request]:
    def similar(http: httpx.Client, rng: random.Random) -> httpx.Response:
        return http.get(f"/v1/products/{rng.choice(products)}/similar?limit=10")

    def recommendations(http: httpx.Client, rng: random.Random) -> httpx.Response:
        return http.get(f"/v1/users/{rng.choice(users)}/recommendations?limit=10")

    def search(http: httpx.Client, rng: random.Random) -> httpx.Response:
        return http.get("/v1/search", params={"q": rng.choice(QUERIES), "limit": 20,
                                              "user_id": rng.choice(users)})

    def events(http: httpx.Client, rng: random.Random) -> httpx.Response:
        batch = [{"event_id": EVENT_PREFIX + uuid.uuid4().hex,
                  "user_id": f"{EVENT_PREFIX}{rng.randrange(1000)}",
                  "product_id": rng.choice(products), "event_type": "view",
                  "occurred_at": datetime.now(UTC).isoformat()} for _ in range(20)]
        return http.post("/v1/events", json={"events": batch})

    return {"similar items": similar, "recommendations": recommendations, "search": search,
            "events": events}


def run_level(base: str, clients: int, seconds: float, requests: dict[str, Request]
              ) -> dict[str, float]:
    """`clients` threads sending the mix for `seconds`; throughput, latency, errors."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    names, weights = list(MIX), list(MIX.values())

    def client(seed: int) -> None:
        nonlocal errors
        rng = random.Random(seed)
        mine: list[float] = []
        failed = 0
        with httpx.Client(base_url=base, headers=HEADERS, timeout=30) as http:
            while time.monotonic() < stop:
                request = requests[rng.choices(names, weights)[0]]
                started = time.perf_counter()
                try:
                    ok = request(http, rng).is_success
                except httpx.HTTPError:
                    ok = False
                mine.append((time.perf_counter() - started) * 1000)
                failed += not ok
        with lock:
            latencies.extend(mine)
            errors += failed

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    lat = np.asarray(latencies or [0.0])
    return {"clients": clients, "requests": len(latencies), "rps": len(latencies) / elapsed,
            "p50": float(np.percentile(lat, 50)), "p99": float(np.percentile(lat, 99)),
            "errors": errors}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_scale_arguments(parser)
    parser.add_argument("--levels", default="1,4,16", help="concurrent clients per level")
    parser.add_argument("--seconds", type=float, default=30.0, help="per level")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--note", default="", help="a line about the run for the report")
    parser.add_argument("--fresh", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--reindex", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    levels = [int(n) for n in args.levels.split(",")]
    settings = shop_settings(args)
    database = open_database(settings, pool_size=2)
    try:
        migrate(database)
        prepare(args, settings, database)
        users = pick_users(database, 1, 10_000, 2000, seed=5)
        products = popular_products(database, 5000)
    finally:
        database.close()
    requests = requests_of(products, users)
    server, base = serve(settings)
    rows = []
    try:
        # Warm the caches a little.
        with httpx.Client(base_url=base, headers=HEADERS, timeout=30) as http:
            rng = random.Random(0)
            for name in ("similar items", "recommendations", "search"):
                for _ in range(100):
                    requests[name](http, rng)
        for clients in levels:
            print(f"{clients} client(s) for {args.seconds:g}s ...", flush=True)
            rows.append(run_level(base, clients, args.seconds, requests))
    finally:
        server.terminate()
        server.wait(timeout=60)
        delete_posted(settings, EVENT_PREFIX)
    lines = [
        "# Mixed load: benchmark",
        "",
        f"Written by `python -m bench.load` on {time.strftime('%Y-%m-%d')}: "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
        f"Shop: {args.products:,} products, {args.users:,} users, {args.events:,} events. "
        "`lodestar serve` (uvicorn, one worker) on loopback; each client a thread with its "
        "own connection sending requests back to back, drawn from the mix: "
        + ", ".join(f"{name} {share:.0%}" for name, share in MIX.items())
        + " (events in batches of 20; search personalised for a random shopper). "
        f"{args.seconds:g} s per level. The clients run on the same 2 cores as the server.",
        "",
        "| clients | requests | req/s | p50 ms | p99 ms | errors |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(f"| {row['clients']} | {row['requests']:,} | {row['rps']:.0f} |"
                     f" {row['p50']:.1f} | {row['p99']:.1f} | {row['errors']} |")
    if args.note:
        lines += ["", args.note]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(args.out.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
