"""HNSW build settings of the items collection: build time against filtered recall.

    python -m bench.hnsw                  # the 100K-product shop of bench.similar

Copies the live items collection of the shop (its vectors and payloads, read through the
vector-store port) into new collections built with each setting, times the bulk load and
the index build (`finish_bulk_load`), and measures recall@10 of filtered text queries
against exact search under the same filter, and their latency. Filters: none, the
product's category with a price cap (as similar items filter), and its brand in stock (a
narrower one). Results: bench/results/hnsw.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
from sqlalchemy import text

from bench.similar import ROOT, add_scale_arguments, percentile, publish, shop_settings
from indexing.collections import CF, CF_RAW, TEXT, items_spec
from indexing.vectorstore.edge import EdgeVectorStore
from indexing.vectorstore.port import Filter, Point, Query, Range, point_id
from models.db import open_database
from retrieval.live_index import LiveIndex

RESULTS = ROOT / "results" / "hnsw.md"
K = 10


def filters_for(payload: Mapping[str, Any]) -> dict[str, Filter]:
    price = float(payload.get("price", 0.0))
    return {
        "none": Filter(),
        "category + price cap": Filter(equals={"category": payload["category"]},
                                       ranges={"price": Range(lte=price * 1.5)}),
        "brand, in stock": Filter(equals={"brand": payload["brand"], "in_stock": True}),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_scale_arguments(parser)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--settings", default="16/100,0/100,0/64",
                        help="payload_m/ef_construct pairs to compare (16/100: Qdrant's "
                             "defaults)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    settings = shop_settings(args)
    database = open_database(settings, pool_size=2)
    try:
        index = LiveIndex(database, 0, 0)
        index.refresh()
        live = index.live
        if live is None:
            raise SystemExit("no live index: run `python -m bench.similar` first")
        with database.engine.connect() as conn:
            product_ids = [str(r[0]) for r in conn.execute(
                text("SELECT product_id FROM products ORDER BY product_id"))]
    finally:
        database.close()
    source = EdgeVectorStore(settings.storage.data_dir / "qdrant")
    points: list[Point] = []
    started = time.perf_counter()
    for start in range(0, len(product_ids), 1000):
        ids = [point_id(p) for p in product_ids[start:start + 1000]]
        for r in source.retrieve(live.items_collection, ids, vectors=[TEXT, CF, CF_RAW]):
            points.append(Point(r.id, r.vectors, r.payload or {}))
    source.close()
    print(f"read {len(points):,} points in {time.perf_counter() - started:.0f}s", flush=True)
    rng = np.random.default_rng(0)
    sample = [points[i] for i in rng.choice(len(points), size=args.queries, replace=False)]
    spec = items_spec(len(points[0].vectors[TEXT]), len(points[0].vectors[CF]))

    rows = []
    for setting in args.settings.split(","):
        payload_m, ef_construct = (int(v) for v in setting.split("/"))
        scratch = Path(tempfile.mkdtemp(prefix="hnsw-", dir=ROOT / ".data"))
        store = EdgeVectorStore(scratch, payload_m=payload_m, ef_construct=ef_construct)
        try:
            store.create_collection("items", spec)
            started = time.perf_counter()
            store.upsert("items", points)
            loaded = time.perf_counter() - started
            started = time.perf_counter()
            store.finish_bulk_load("items")
            built = time.perf_counter() - started
            print(f"{setting}: load {loaded:.0f}s, build {built:.0f}s", flush=True)
            for name in filters_for(sample[0].payload):
                recall, latency = [], []
                for point in sample:
                    flt = filters_for(point.payload)[name]
                    vector = point.vectors[TEXT]
                    t0 = time.perf_counter()
                    approx = store.query("items", Query(vector, TEXT, K, flt))
                    latency.append((time.perf_counter() - t0) * 1000)
                    exact = store.query("items", Query(vector, TEXT, K, flt, exact=True))
                    truth = {h.id for h in exact}
                    if truth:
                        recall.append(len({h.id for h in approx} & truth) / len(truth))
                rows.append((payload_m, ef_construct, loaded, built, name, float(np.mean(recall)),
                             float(np.min(recall)), percentile(latency, 50),
                             percentile(latency, 99)))
        finally:
            store.close()
            shutil.rmtree(scratch, ignore_errors=True)

    lines = [
        "# HNSW build settings of the items collection",
        "",
        f"Written by `python -m bench.hnsw` on {time.strftime('%Y-%m-%d')}: "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
        f"The live items collection of the {args.products:,}-product shop ({len(points):,} "
        "points; vectors text 384-d, cf and cf_raw 64-d; 11 indexed payload fields) copied "
        "into a new collection per setting; m 16 throughout. `payload_m` is the number of "
        "links per point of the extra graphs Qdrant builds for each value of an indexed "
        "payload field (its default is m), `ef_construct` the breadth of the search that "
        "links each new point (default 100). Recall@10 of text queries "
        f"against exact search under the same filter, {args.queries} products' own vectors "
        "as queries (the product itself among the results), ef 64 (the service's default).",
        "",
        "| payload_m | ef_construct | load s | build s | filter | recall@10 mean | min "
        "| p50 ms | p99 ms |",
        "|---:|---:|---:|---:|---|---:|---:|---:|---:|",
        *[f"| {m} | {ef} | {lo:.0f} | {bu:.0f} | {name} | {mean:.3f} | {low:.2f} | "
          f"{p50:.2f} | {p99:.2f} |" for m, ef, lo, bu, name, mean, low, p50, p99 in rows],
        "",
    ]
    publish(lines, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
