"""Similar-items benchmark: our vector store vs brute-force numpy vs qdrant-client local
mode, HTTP latency of the endpoint, and reindex time per stage.

    python -m bench.similar                       # 100K products, 50K users, 1M events
    python -m bench.similar --products 20000 --users 10000 --events 200000

The shop is generated once into bench/.data/<scale> and reused (as is the embedding
cache), so a second run skips straight to the measurements; --fresh rebuilds it.
Results go to bench/results/similar.md. Nothing here asserts a speed: it reports.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import httpx
import numpy as np
import numpy.typing as npt
from sqlalchemy import text

from bench.access import HEADERS, server_env
from data.demo_shop import ShopSpec, generate_shop
from indexing.collections import CF, TEXT, items_spec
from indexing.encoder import load_encoder
from indexing.pipeline import reindex
from indexing.vectorstore import open_vector_store
from indexing.vectorstore.client import ClientVectorStore
from indexing.vectorstore.port import Filter, Point, Query, Range, VectorStore, point_id
from models import index_versions
from models.db import Database, migrate, open_database
from models.settings import Settings

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results" / "similar.md"
K = 10

Matrix = npt.NDArray[np.float32]


@dataclass
class Item:
    product_id: str
    pid: int
    category: str
    price: float


def percentile(samples: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(samples), q))


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    value = fn()
    return value, (time.perf_counter() - started) * 1000


def publish(lines: list[str], out: Path, timings: Mapping[str, float] | None = None,
            note: str | None = None) -> None:
    """Write a benchmark's results table to `out` and echo it, with the reindex's stage
    times (when this run built the shop) and the run's note after it."""
    if timings:
        lines = [*lines, "Reindex of this shop, per stage (s): "
                 + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()), ""]
    if note:
        lines = [*lines, f"Note on this run: {note}", ""]
    report = "\n".join(lines)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    print(report)


def add_scale_arguments(parser: argparse.ArgumentParser) -> None:
    """The shop's size: every benchmark shares one generated shop per scale."""
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=50_000)
    parser.add_argument("--events", type=int, default=1_000_000)


def shop_dir(args: argparse.Namespace) -> Path:
    return ROOT / ".data" / f"p{args.products}-u{args.users}-e{args.events}"


def shop_settings(args: argparse.Namespace) -> Settings:
    """Settings for the shop of this scale: embedded Postgres and engine in its data dir."""
    return Settings.from_env(data_dir=shop_dir(args), database_url=None, qdrant_url=None)


def prepare(args: argparse.Namespace, settings: Settings, database: Database) -> dict[str, float]:
    """Generate and index the shop unless the data dir already holds this scale."""
    with database.engine.connect() as conn:
        n_products = conn.execute(text("SELECT count(*) FROM products")).scalar() or 0
    if n_products != args.products:
        print(f"generating {args.products:,} products, {args.users:,} users, "
              f"{args.events:,} events ...", flush=True)
        spec = ShopSpec(products=args.products, users=args.users, events=args.events, seed=1)
        stats = generate_shop(database, spec, replace=True)
        print(f"  generated in {stats.seconds:.1f}s", flush=True)
    live = index_versions.live_version(database)
    if live is None or live.n_items != args.products or args.reindex:
        print("reindexing (embedding 100K texts takes minutes on 2 cores) ...", flush=True)
        store = open_vector_store(settings)
        try:
            result = reindex(database, store, settings, load_encoder(settings),
                             progress=_stage_printer())
        finally:
            store.close()
        return dict(result.timings)
    return {k: float(v) for k, v in live.timings.items()}


def _stage_printer() -> Callable[[str, int, int], None]:
    last: dict[str, float] = {}

    def report(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - last.get(stage, 0) > 10 or done == total:
            last[stage] = now
            print(f"  {stage}: {done:,}/{total:,}", flush=True)

    return report


def load_vectors(store: VectorStore, collection: str, database: Database
                 ) -> tuple[list[Item], Matrix, Matrix, npt.NDArray[np.bool_]]:
    with database.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT product_id, category, price FROM products ORDER BY product_id")).all()
    items = [Item(r[0], point_id(r[0]), r[1], float(r[2])) for r in rows]
    text_m = np.zeros((len(items), 384), dtype=np.float32)
    cf_m: Matrix | None = None
    has_cf = np.zeros(len(items), dtype=bool)
    for start in range(0, len(items), 2000):
        chunk = items[start:start + 2000]
        records = store.retrieve(collection, [i.pid for i in chunk], vectors=[TEXT, CF],
                                 with_payload=False)
        by_id = {r.id: r for r in records}
        for offset, item in enumerate(chunk):
            rec = by_id[item.pid]
            text_m[start + offset] = rec.vectors[TEXT]
            if CF in rec.vectors:
                if cf_m is None:
                    cf_m = np.zeros((len(items), len(rec.vectors[CF])), dtype=np.float32)
                cf_m[start + offset] = rec.vectors[CF]
                has_cf[start + offset] = True
    assert cf_m is not None
    return items, text_m, cf_m, has_cf


def normalise(m: Matrix) -> Matrix:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return np.where(norms > 0, m / np.maximum(norms, 1e-12), 0).astype(np.float32)


def brute_force(matrix: Matrix, q: Matrix, mask: npt.NDArray[np.bool_], k: int) -> list[int]:
    """Exact top-k by cosine among rows where mask is True (rows pre-normalised)."""
    scores = matrix @ q
    scores = np.where(mask, scores, -np.inf)
    top = np.argpartition(-scores, k)[:k]
    return [int(i) for i in top[np.argsort(-scores[top])] if np.isfinite(scores[i])]


def make_queries(items: list[Item], has_cf: npt.NDArray[np.bool_], n: int, seed: int
                 ) -> list[tuple[int, Filter, npt.NDArray[np.bool_]]]:
    """Half unfiltered, half filtered by the product's category and a price cap."""
    rng = np.random.default_rng(seed)
    candidates = np.flatnonzero(has_cf)
    chosen = rng.choice(candidates, size=min(n, len(candidates)), replace=False)
    categories = np.array([i.category for i in items])
    prices = np.array([i.price for i in items])
    out = []
    for j, row in enumerate(chosen):
        item = items[int(row)]
        mask = np.ones(len(items), dtype=bool)
        mask[row] = False
        if j % 2:
            cap = item.price * 1.5
            flt = Filter(equals={"category": item.category}, ranges={"price": Range(lte=cap)},
                         exclude_ids=frozenset({item.pid}))
            mask &= (categories == item.category) & (prices <= cap)
        else:
            flt = Filter(exclude_ids=frozenset({item.pid}))
        out.append((int(row), flt, mask))
    return out


def measure_store(store: VectorStore, collection: str, items: list[Item], text_m: Matrix,
                  queries: list[tuple[int, Filter, npt.NDArray[np.bool_]]], ef: int | None,
                  exact_text: Matrix) -> dict[str, dict[str, float]]:
    pid_to_row = {item.pid: i for i, item in enumerate(items)}
    out: dict[str, dict[str, float]] = {}
    for label, want_filtered in (("unfiltered", False), ("filtered", True)):
        lat, recalls = [], []
        for j, (row, flt, mask) in enumerate(queries):
            if (j % 2 == 1) != want_filtered:
                continue
            q = Query(text_m[row], TEXT, K, flt, hnsw_ef=ef)
            hits, ms = timed(lambda q=q: store.query(collection, q))
            lat.append(ms)
            truth = set(brute_force(exact_text, exact_text[row], mask, K))
            got = {pid_to_row[h.id] for h in hits}
            if truth:
                recalls.append(len(truth & got) / len(truth))
        out[label] = {"p50": percentile(lat, 50), "p99": percentile(lat, 99),
                      "recall": float(np.mean(recalls)) if recalls else float("nan"),
                      "n": len(lat)}
    return out


def measure_numpy(exact_text: Matrix, queries: list[tuple[int, Filter, npt.NDArray[np.bool_]]]
                  ) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for label, want_filtered in (("unfiltered", False), ("filtered", True)):
        lat = []
        for j, (row, _flt, mask) in enumerate(queries):
            if (j % 2 == 1) != want_filtered:
                continue
            _, ms = timed(lambda row=row, mask=mask: brute_force(exact_text, exact_text[row],
                                                                 mask, K))
            lat.append(ms)
        out[label] = {"p50": percentile(lat, 50), "p99": percentile(lat, 99), "recall": 1.0,
                      "n": len(lat)}
    return out


def build_local_mode(items: list[Item], text_m: Matrix, cf_m: Matrix,
                     has_cf: npt.NDArray[np.bool_], path: Path) -> tuple[ClientVectorStore, float]:
    store = ClientVectorStore(path=str(path))
    store.create_collection("bench", items_spec(text_m.shape[1], cf_m.shape[1]))
    started = time.perf_counter()
    batch: list[Point] = []
    for i, item in enumerate(items):
        vectors = {TEXT: text_m[i]}
        if has_cf[i]:
            vectors[CF] = cf_m[i]
        batch.append(Point(item.pid, vectors, {"category": item.category, "price": item.price}))
        if len(batch) == 2000:
            store.upsert("bench", batch)
            batch = []
    if batch:
        store.upsert("bench", batch)
    return store, time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def measure_http(settings: Settings, items: list[Item],
                 queries: list[tuple[int, Filter, npt.NDArray[np.bool_]]], rounds: int
                 ) -> dict[str, dict[str, float]]:
    """Start `lodestar serve` on the data dir and time the endpoint over loopback."""
    port = free_port()
    env = server_env(LODESTAR_DATA_DIR=str(settings.storage.data_dir))
    server = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    out: dict[str, dict[str, float]] = {}
    try:
        with httpx.Client(base_url=base, headers=HEADERS, timeout=30) as http:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if http.get("/ready").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("server did not become ready")
                time.sleep(0.2)
            for label, want_filtered in (("unfiltered", False), ("filtered", True)):
                urls = []
                for j, (row, _flt, _mask) in enumerate(queries):
                    if (j % 2 == 1) != want_filtered:
                        continue
                    item = items[row]
                    url = f"/v1/products/{item.product_id}/similar?limit={K}"
                    if want_filtered:
                        url += f"&category={item.category}&max_price={item.price * 1.5:.2f}"
                    urls.append(url)
                for url in urls[:20]:  # warm-up
                    http.get(url)
                lat = []
                for _ in range(rounds):
                    for url in urls:
                        response, ms = timed(lambda url=url: http.get(url))
                        assert response.status_code == 200, response.text
                        lat.append(ms)
                out[label] = {"p50": percentile(lat, 50), "p99": percentile(lat, 99),
                              "n": len(lat)}
    finally:
        server.terminate()
        server.wait(timeout=30)
    return out


def write_report(args: argparse.Namespace, timings: dict[str, float],
                 rows: list[tuple[str, dict[str, dict[str, float]]]],
                 http: dict[str, dict[str, float]], local_load_s: float | None,
                 counts: dict[str, int]) -> str:
    lines = [
        "# Similar items: benchmark",
        "",
        f"Written by `python -m bench.similar` on {time.strftime('%Y-%m-%d')}: "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
        f"Shop: {counts['products']:,} products ({counts['with_cf']:,} with a CF vector), "
        f"{args.users:,} users, {args.events:,} events (synthetic, seed 1). Vectors: text "
        "384-d cosine. Top-10; half the queries unfiltered, half filtered by the product's "
        "category and a price cap (1.5× its price), the product itself excluded.",
        "",
        "## Vector query (in process, single thread)",
        "",
        "Recall@10 is against the exact top-10 (brute force over the same filter).",
        "",
        "| engine | query | n | p50 ms | p99 ms | recall@10 |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for name, result in rows:
        for label in ("unfiltered", "filtered"):
            r = result[label]
            lines.append(f"| {name} | {label} | {int(r['n'])} | {r['p50']:.2f} | {r['p99']:.2f} "
                         f"| {r['recall']:.3f} |")
    if local_load_s is not None:
        lines += ["", f"qdrant-client local mode needed {local_load_s:.1f}s to load the points "
                  "(it keeps them in Python and scans them per query)."]
    lines += [
        "",
        "## HTTP: `GET /v1/products/{id}/similar?limit=10` on loopback",
        "",
        "`lodestar serve` (uvicorn, one worker) over the same data dir; one client, "
        "sequential requests, after a warm-up. Each request runs the text and CF queries "
        "with the filters inside them and fuses the two lists.",
        "",
        "| request | n | p50 ms | p99 ms |",
        "|---|---:|---:|---:|",
    ]
    for label in ("unfiltered", "filtered"):
        r = http[label]
        lines.append(f"| {label} | {int(r['n'])} | {r['p50']:.2f} | {r['p99']:.2f} |")
    lines += [
        "",
        "## Reindex, per stage (seconds)",
        "",
        "| stage | seconds |",
        "|---|---:|",
    ]
    # Postgres keeps JSON keys in its own order: list the stages in the order they run.
    order = ["catalog", "embed", "interactions", "als", "popularity", "bought_together",
             "write_items", "write_users", "optimize", "switch"]
    for stage in sorted(timings, key=lambda k: order.index(k) if k in order else len(order)):
        lines.append(f"| {stage} | {timings[stage]:.1f} |")
    lines.append(f"| **total** | **{sum(timings.values()):.1f}** |")
    lines += ["", "The embed stage is the first build's cost; later reindexes read unchanged "
              "texts from the embedding cache.", ""]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_scale_arguments(parser)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--http-rounds", type=int, default=3)
    parser.add_argument("--local-queries", type=int, default=40,
                        help="queries for qdrant-client local mode (slow); 0 skips it")
    parser.add_argument("--fresh", action="store_true", help="rebuild the data dir")
    parser.add_argument("--reindex", action="store_true", help="reindex even if current")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--note", default="", help="a line about the run for the report")
    args = parser.parse_args(argv)

    if args.fresh and shop_dir(args).exists():
        shutil.rmtree(shop_dir(args))
    settings = shop_settings(args)
    database = open_database(settings, pool_size=2)
    try:
        migrate(database)
        timings = prepare(args, settings, database)
        live = index_versions.live_version(database)
        assert live is not None
        store = open_vector_store(settings)
        try:
            items, text_m, cf_m, has_cf = load_vectors(store, live.items_collection, database)
            exact_text = normalise(text_m)
            queries = make_queries(items, has_cf, args.queries, seed=5)
            print("measuring the vector store ...", flush=True)
            rows = [
                ("qdrant-edge (ef=128)", measure_store(store, live.items_collection, items,
                                                            text_m, queries, 128, exact_text)),
                ("qdrant-edge (ef=64, default)", measure_store(store, live.items_collection, items,
                                                           text_m, queries, 64, exact_text)),
                ("numpy brute force", measure_numpy(exact_text, queries)),
            ]
        finally:
            store.close()
        local_load = None
        if args.local_queries > 0:
            print("loading qdrant-client local mode (slow) ...", flush=True)
            with tempfile.TemporaryDirectory() as tmp:
                local, local_load = build_local_mode(items, text_m, cf_m, has_cf, Path(tmp))
                try:
                    rows.append(("qdrant-client local mode", measure_store(
                        local, "bench", items, text_m, queries[: args.local_queries], None,
                        exact_text)))
                finally:
                    local.close()
        counts = {"products": len(items), "with_cf": int(has_cf.sum())}
    finally:
        database.close()
    print("measuring HTTP ...", flush=True)
    http = measure_http(settings, items, queries, args.http_rounds)
    report = write_report(args, timings, rows, http, local_load, counts)
    if args.note:
        report += f"\nNote on this run: {args.note}\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report)
    print(report)
    print(f"written to {args.out}")
    print(f"median of medians: {statistics.median([r['filtered']['p50'] for _, r in rows]):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
