"""Where each surface's time goes, against the speed targets: one run, one server.

    python -m bench.stages                 # 100K products, 50K users, 1M events

Starts `lodestar serve` (one process) on the shop of `python -m bench.similar`, sends
sequential requests over loopback and reads each response's `Server-Timing` header: the
server's time per stage (auth, history, SQL, vector store, encoder, lexical retriever,
rank: our own Python around them, other: the framework and serialising), beside the
latency the client saw. Groups: similar items (half filtered), recommendations of shoppers
with 20+ events after a warm-up of other shoppers, search with new queries (anonymous and
personalised) and repeated ones, a cold server's first searches, and event batches.
Results: bench/results/stages.md. Posted events are deleted afterwards.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import time
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import httpx
import numpy as np
from sqlalchemy import text

from bench.access import HEADERS
from bench.recommend import delete_posted, pick_users, serve
from bench.similar import ROOT, add_scale_arguments, percentile, publish, shop_settings
from models.db import migrate, open_database

RESULTS = ROOT / "results" / "stages.md"
EVENT_PREFIX = "bench-stages-"
STAGE_ORDER = ("auth", "history", "db", "lexical", "encode", "vector", "rank", "other")


@dataclass
class Group:
    """Latencies seen by the client and the server's stages of one group of requests."""

    client_ms: list[float] = field(default_factory=list)
    stages: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def add(self, response: httpx.Response, elapsed_ms: float) -> None:
        if response.status_code >= 300:
            raise RuntimeError(f"{response.request.url}: {response.status_code} "
                               f"{response.text[:200]}")
        self.client_ms.append(elapsed_ms)
        for entry in response.headers.get("server-timing", "").split(","):
            name, _, duration = entry.strip().partition(";dur=")
            if duration:
                self.stages[name].append(float(duration))


def timed_requests(http: httpx.Client, requests: Sequence[tuple[str, str, Any]]) -> Group:
    group = Group()
    for method, url, body in requests:
        started = time.perf_counter()
        response = http.request(method, url, json=body)
        group.add(response, (time.perf_counter() - started) * 1000)
    return group


def words_of(title: str) -> list[str]:
    return re.findall(r"[a-z]+", title.lower())


def two_word_queries(titles: Sequence[str]) -> list[str]:
    """Queries as shoppers type them: two words of a product's title."""
    out = []
    for title in titles:
        words = [w for w in words_of(title) if len(w) > 2]
        if len(words) >= 2:
            out.append(" ".join(words[:2]))
    return out


def event_batches(users: Sequence[str], products: Sequence[str], n: int, size: int
                  ) -> list[dict[str, Any]]:
    rng = np.random.default_rng(5)
    now = datetime.now(UTC)
    return [{"events": [{
        "event_id": f"{EVENT_PREFIX}{uuid.uuid4().hex}",
        "user_id": str(users[int(rng.integers(len(users)))]),
        "product_id": str(products[int(rng.integers(len(products)))]),
        "event_type": ("view", "click", "add_to_cart")[int(rng.integers(3))],
        "occurred_at": (now - timedelta(seconds=int(rng.integers(60, 86_400)))).isoformat(),
        "session_id": f"{EVENT_PREFIX}s{int(rng.integers(10_000))}",
    } for _ in range(size)]} for _ in range(n)]


# The targets: p99 over HTTP in ms, or events/s (higher is better).
TARGETS: dict[str, tuple[str, float]] = {
    "similar items": ("p99 ms", 5.0),
    "recommendations, warm shoppers": ("p99 ms", 15.0),
    "search, new query, anonymous": ("p99 ms", 25.0),
    "search, cold server, new query": ("p99 ms", 40.0),
    "event batches of 500": ("events/s", 25_000.0),
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_scale_arguments(parser)
    parser.add_argument("--requests", type=int, default=300, help="per group")
    parser.add_argument("--warm-up", type=int, default=1000,
                        help="requests of other shoppers and products before the groups")
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    n = args.requests

    settings = shop_settings(args)
    database = open_database(settings, pool_size=2)
    try:
        migrate(database)
        with database.engine.connect() as conn:
            n_products = conn.execute(text("SELECT count(*) FROM products")).scalar()
            if n_products != args.products:
                raise SystemExit(f"no {args.products:,}-product shop yet: run "
                                 "`python -m bench.similar` first, which builds it")
            rows = conn.execute(text(
                "SELECT product_id, category, price, title FROM products "
                "ORDER BY md5(product_id) LIMIT :n"), {"n": 4 * n + args.warm_up}).all()
        shoppers = pick_users(database, 20, 10_000, 2 * n + args.warm_up, seed=11)
    finally:
        database.close()
    products = [str(r[0]) for r in rows]
    queries = two_word_queries([str(r[3]) for r in rows])
    if len(queries) < 3 * n:
        raise SystemExit("too few products with two-word titles for the query groups")

    def similar_url(i: int) -> str:
        pid, category, price = rows[i][0], rows[i][1], float(rows[i][2])
        url = f"/v1/products/{pid}/similar?limit=10"
        return url + (f"&category={category}&max_price={price * 1.5:.2f}" if i % 2 else "")

    groups: dict[str, Group] = {}
    rates: dict[str, float] = {}
    server, base = serve(settings)
    try:
        with httpx.Client(base_url=base, headers=HEADERS, timeout=60) as http:
            print("cold server: first searches ...", flush=True)
            groups["search, cold server, new query"] = timed_requests(
                http, [("GET", f"/v1/search?q={q}&limit=20", None) for q in queries[:n]])
            print(f"warming up with {args.warm_up} requests of other products and shoppers",
                  flush=True)
            for i in range(args.warm_up):
                http.get(similar_url(4 * n + i if 4 * n + i < len(rows) else i))
                http.get(f"/v1/users/{shoppers[2 * n + i]}/recommendations?limit=10")
            print("groups ...", flush=True)
            groups["similar items"] = timed_requests(
                http, [("GET", similar_url(i), None) for i in range(n)])
            groups["recommendations, warm shoppers"] = timed_requests(
                http, [("GET", f"/v1/users/{u}/recommendations?limit=10", None)
                       for u in shoppers[:n]])
            groups["search, new query, anonymous"] = timed_requests(
                http, [("GET", f"/v1/search?q={q}&limit=20", None) for q in queries[n:2 * n]])
            groups["search, new query, personalised"] = timed_requests(
                http, [("GET", f"/v1/search?q={q}&limit=20&user_id={shoppers[n + i]}", None)
                       for i, q in enumerate(queries[2 * n:3 * n])])
            groups["search, repeated query, anonymous"] = timed_requests(
                http, [("GET", f"/v1/search?q={q}&limit=20", None) for q in queries[n:2 * n]])
            batches = event_batches(shoppers, products, args.batches + 2, 500)
            for body in batches[:2]:
                http.post("/v1/events", json=body)
            started = time.perf_counter()
            groups["event batches of 500"] = timed_requests(
                http, [("POST", "/v1/events", body) for body in batches[2:]])
            rates["event batches of 500"] = (500 * args.batches
                                             / (time.perf_counter() - started))
    finally:
        server.terminate()
        server.wait(timeout=60)
        delete_posted(settings, EVENT_PREFIX)

    lines = [
        "# Where the time goes: every surface against its target",
        "",
        f"Written by `python -m bench.stages` on {time.strftime('%Y-%m-%d %H:%M')}: "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
        f"Shop: {args.products:,} products, {args.users:,} users, {args.events:,} events "
        "(synthetic, seed 1). `lodestar serve` (one process) on loopback, one client sending "
        f"sequential requests ({n} per group), the client on the same 2 cores. Stages are "
        "the server's own `Server-Timing` (each stage exclusive of those inside it, so they "
        "add up to the server's total); the client's latency adds the HTTP exchange.",
        "",
        "## Targets",
        "",
        "| surface | measured | target | met |",
        "|---|---:|---:|---|",
    ]
    for name, (unit, target) in TARGETS.items():
        if unit == "events/s":
            value = rates[name]
            lines.append(f"| {name} | {value:,.0f} events/s | ≥ {target:,.0f} | "
                         f"{'yes' if value >= target else '**no**'} |")
        else:
            value = percentile(groups[name].client_ms, 99)
            lines.append(f"| {name} | p99 {value:.1f} ms | ≤ {target:.0f} ms | "
                         f"{'yes' if value <= target else '**no**'} |")
    lines += [
        "",
        "## Latency, client and server (ms)",
        "",
        "| group | n | client p50 | client p99 | server p50 | server p99 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, group in groups.items():
        total = group.stages.get("total", [0.0])
        lines.append(f"| {name} | {len(group.client_ms)} | "
                     f"{percentile(group.client_ms, 50):.2f} | "
                     f"{percentile(group.client_ms, 99):.2f} | {percentile(total, 50):.2f} | "
                     f"{percentile(total, 99):.2f} |")
    lines += [
        "",
        "## Server time per stage: mean ms (p99)",
        "",
        "A stage missing from a group did not run in it. `rank`: our own Python between the "
        "engine's calls (candidates, fusion, rules, MMR, reasons); `other`: the framework, "
        "validation and serialising; `db`: SQL outside the named stages (history, lexical).",
        "",
        "| group | " + " | ".join(STAGE_ORDER) + " | total |",
        "|---|" + "---:|" * (len(STAGE_ORDER) + 1),
    ]
    for name, group in groups.items():
        cells = []
        for stage in (*STAGE_ORDER, "total"):
            values = group.stages.get(stage)
            # A stage that ran in only some requests is averaged over all of them.
            cells.append("–" if not values else
                         f"{sum(values) / len(group.client_ms):.2f} "
                         f"({percentile(values, 99):.1f})")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("")
    publish(lines, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
