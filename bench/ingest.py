"""Event ingest, row by row against batches: the same validation and the same transactional
store (`api.services.events.ingest`), in process, with one event per transaction and with
batches of growing size.

    python -m bench.ingest [--products N --users N --events N] [--rows 2000] [--batched 20000]

Runs on the shop of `python -m bench.similar` (generated and indexed first if missing):
its `events` table and its indexes are what each insert pays for. Each line writes fresh
events (new ids, so nothing is a repeat) for existing products and a thousand benchmark
shoppers, one HTTP request's worth per call, and times the calls. Posted events are
deleted afterwards. Results: bench/results/ingest.md. Nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import platform
import random
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.recommend import delete_posted, popular_products
from bench.similar import ROOT, add_scale_arguments, percentile, prepare, publish, shop_settings
from models.db import migrate, open_database

RESULTS = ROOT / "results" / "ingest.md"
EVENT_PREFIX = "bench-ingest-"
BATCH_SIZES = (1, 10, 100, 500, 1000)
EVENT_TYPES = ("view", "view", "view", "click", "add_to_cart", "purchase")


def fresh_events(rng: random.Random, products: Sequence[str], n: int) -> list[dict[str, Any]]:
    """`n` new events as a client would post them (JSON-ready dicts)."""
    now = datetime.now(UTC)
    return [{"event_id": EVENT_PREFIX + uuid.uuid4().hex,
             "user_id": f"{EVENT_PREFIX}{rng.randrange(1000)}",
             "product_id": rng.choice(products),
             "event_type": rng.choice(EVENT_TYPES),
             "occurred_at": (now - timedelta(seconds=rng.randrange(86_400))).isoformat(),
             "session_id": f"{EVENT_PREFIX}s{rng.randrange(5000)}"} for _ in range(n)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_scale_arguments(parser)
    parser.add_argument("--rows", type=int, default=2_000,
                        help="events written one per transaction")
    parser.add_argument("--batched", type=int, default=20_000,
                        help="events written per batched line")
    parser.add_argument("--reindex", action="store_true",
                        help="rebuild the shop's index even if it is there")
    args = parser.parse_args(argv)

    # Imported here: the service module pulls in the API's settings and schemas.
    from api.services.events import ingest

    settings = shop_settings(args)
    database = open_database(settings, serving=True)
    migrate(database)
    timings = prepare(args, settings, database)
    products = popular_products(database, 20_000)
    rng = random.Random(7)
    rows: list[list[str]] = []
    try:
        for size in BATCH_SIZES:
            total = args.rows if size == 1 else args.batched
            calls = [fresh_events(rng, products, size) for _ in range(max(total // size, 1))]
            ingest(database, calls[0], now=datetime.now(UTC), future_skew=timedelta(minutes=5))
            per_call: list[float] = []
            started = time.perf_counter()
            for batch in calls[1:]:
                t = time.perf_counter()
                done = ingest(database, batch, now=datetime.now(UTC),
                              future_skew=timedelta(minutes=5))
                per_call.append((time.perf_counter() - t) * 1000)
                if len(done.stored) != len(batch):
                    raise RuntimeError(f"{len(batch) - len(done.stored)} events not stored")
            elapsed = time.perf_counter() - started
            written = size * (len(calls) - 1)
            label = ("one event per transaction (row by row)" if size == 1
                     else f"batches of {size}, one transaction each")
            rows.append([label, f"{written:,}", f"{written / elapsed:,.0f}",
                         f"{percentile(per_call, 50):.2f}", f"{percentile(per_call, 99):.2f}"])
            print(rows[-1], flush=True)
    finally:
        database.close()
        delete_posted(settings, EVENT_PREFIX)

    lines = [
        "# Event ingest: row by row against batches (in process)",
        "",
        f"Written by `python -m bench.ingest` on {datetime.now().strftime('%Y-%m-%d %H:%M')}: "
        f"{platform.machine()}, 2 cores, Python {platform.python_version()}.",
        f"Shop: {args.products:,} products, {args.users:,} users, {args.events:,} events "
        "(synthetic, seed 1), embedded Postgres. The same `ingest` the API calls (validation, "
        "then one transaction per call), without HTTP; every event is new.",
        "",
        "| how | events | events/s | p50 ms per call | p99 ms per call |",
        "|---|---:|---:|---:|---:|",
        *("| " + " | ".join(r) + " |" for r in rows),
        "",
        "A transaction's commit waits for its WAL to reach the disk, so row by row pays that "
        "wait per event; a batch pays it once, and sends its rows as one statement. Over "
        "HTTP, the request's parsing and response add to each call "
        "(bench/results/stages.md).",
        "",
    ]
    publish(lines, RESULTS, timings)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
