"""Zero-downtime reindex, measured: a reindex job runs in the server while a client reads.

    python -m bench.reindex_under_load            # the 100K-product shop of bench.similar

Starts `lodestar serve` over the shop, starts `POST /v1/admin/reindex`, and until the job
is done sends recommendations, similar-items and trending requests one after another,
counting failures (any status but 200, or an empty list) and timing them; then the same
number of requests with no reindex running, for comparison. Results go to
bench/results/reindex_under_load.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import httpx

from bench.access import HEADERS
from bench.recommend import pick_users, popular_products, serve
from bench.similar import ROOT, add_scale_arguments, percentile, prepare, shop_settings
from models.db import migrate, open_database

RESULTS = ROOT / "results" / "reindex_under_load.md"


def read_loop(http: httpx.Client, urls: Sequence[str], until: float | None,
              job: str | None, n: int | None) -> tuple[list[float], int, int, dict[str, object]]:
    """Requests round-robin until the job ends (or `n` requests); returns latencies in ms,
    failures, the last model version seen and the job's final state."""
    lat: list[float] = []
    failures = 0
    state: dict[str, object] = {}
    last_check = 0.0
    i = 0
    while True:
        url = urls[i % len(urls)]
        i += 1
        started = time.perf_counter()
        try:
            response = http.get(url)
            ok = response.status_code == 200 and bool(response.json().get("items"))
        except httpx.HTTPError:
            ok = False
        lat.append((time.perf_counter() - started) * 1000)
        failures += not ok
        if n is not None and len(lat) >= n:
            return lat, failures, i, state
        if job is not None and time.monotonic() - last_check > 1.0:
            last_check = time.monotonic()
            state = http.get(f"/v1/admin/jobs/{job}").json()
            if state.get("status") != "running":
                return lat, failures, i, state
        if until is not None and time.monotonic() > until:
            return lat, failures, i, state


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_scale_arguments(parser)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    args.reindex = False
    settings = shop_settings(args)
    database = open_database(settings, pool_size=2)
    try:
        migrate(database)
        prepare(args, settings, database)
        users = pick_users(database, 1, 10_000, 500, seed=4)
        products = popular_products(database, 500)
    finally:
        database.close()
    urls = [url for u, p in zip(users, products, strict=False) for url in (
        f"/v1/users/{u}/recommendations?limit=10", f"/v1/products/{p}/similar?limit=10",
        "/v1/trending?limit=10")]
    server, base = serve(settings)
    try:
        with httpx.Client(base_url=base, headers=HEADERS, timeout=30) as http:
            before = http.get("/ready").json()["index_version"]
            print("reads with no reindex ...", flush=True)
            quiet, quiet_failures, _, _ = read_loop(http, urls, None, None, 1500)
            print("reindex job with reads ...", flush=True)
            started = time.monotonic()
            response = http.post("/v1/admin/reindex")
            assert response.status_code == 202, response.text
            busy, failures, n, state = read_loop(http, urls, started + 1800,
                                                 response.json()["job_id"], None)
            took = time.monotonic() - started
            after = http.get("/ready").json()["index_version"]
    finally:
        server.terminate()
        server.wait(timeout=60)
    result = state.get("result") if isinstance(state.get("result"), dict) else {}
    timings = result.get("timings", {}) if isinstance(result, dict) else {}
    lines = [
        "# Reindex under load: benchmark",
        "",
        f"Written by `python -m bench.reindex_under_load` on {time.strftime('%Y-%m-%d')}: "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
        f"Shop: {args.products:,} products, {args.users:,} users, {args.events:,} events. "
        "`lodestar serve` (one worker) runs the reindex job (a child process) while one client "
        "sends recommendations, similar-items and trending requests in turn, one at a time.",
        "",
        "| phase | requests | failed | p50 ms | p99 ms |",
        "|---|---:|---:|---:|---:|",
        f"| no reindex | {len(quiet):,} | {quiet_failures} | {percentile(quiet, 50):.1f} | "
        f"{percentile(quiet, 99):.1f} |",
        f"| during the reindex job ({took:.0f} s) | {n:,} | {failures} | "
        f"{percentile(busy, 50):.1f} | {percentile(busy, 99):.1f} |",
        "",
        f"Job: {state.get('status')}; index version {before} → {after}. A failed request is "
        "any status but 200 or an empty list.",
        "",
    ]
    if timings:
        lines += ["Reindex stages (s): " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()),
                  ""]
    report = "\n".join(lines)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report)
    print(report)
    return 0 if failures == 0 and state.get("status") == "done" else 1


if __name__ == "__main__":
    sys.exit(main())
