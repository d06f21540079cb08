"""Text vectors as float32 or int8: memory, disk, latency and recall, at 100K and 1M items.

    python -m bench.quantisation [--sizes 100000 1000000] [--queries 200]

The vectors are the bench shop's own text embeddings (`python -m bench.similar` builds
it): its 100,000 products' all-MiniLM vectors, and beyond that many, copies of them with
noise (each copy its source plus a Gaussian of a quarter of its scale, normalised), so
that a larger collection keeps the shape of real sentence embeddings. Each size is written
twice through the project's VectorStore port, once plain and once with
`VectorSpec(quantized=True)` (what `LODESTAR_QUANTIZE_TEXT_VECTORS` asks of a reindex:
int8 in memory, originals on disk, candidates rescored), in a fresh process each, with the
items collection's `category` and `in_stock` indexes. The collection is then opened in
another fresh process, which runs the queries and reports its resident memory: what a
serving process holds for the collection. Recall@10 is against exact numpy search; half
the queries filter on a category. Results: bench/results/quantisation.md.
"""

from __future__ import annotations

import argparse
import multiprocessing
import platform
import shutil
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import psutil

from bench.similar import ROOT, add_scale_arguments, brute_force, normalise, percentile
from indexing.collections import TEXT
from indexing.vectorstore.edge import EdgeVectorStore
from indexing.vectorstore.port import (
    CollectionSpec,
    Distance,
    Filter,
    PayloadType,
    Point,
    Query,
    VectorSpec,
)

RESULTS = ROOT / "results" / "quantisation.md"
COLLECTION = "quant"
CATEGORIES = 50
Matrix = npt.NDArray[np.float32]


def source_vectors(shop: Path) -> Matrix:
    """The text vectors of the bench shop's live items collection."""
    from indexing.vectorstore import open_vector_store
    from models.settings import Settings

    settings = Settings.from_env(data_dir=shop, database_url=None, qdrant_url=None)
    store = open_vector_store(settings)
    try:
        alias = settings.storage.items_alias
        ids = store.ids(alias).tolist()
        rows = []
        for at in range(0, len(ids), 2_000):
            rows.extend(r.vectors[TEXT] for r in store.retrieve(alias, ids[at:at + 2_000],
                                                                vectors=[TEXT],
                                                                with_payload=False)
                        if TEXT in r.vectors)
        return np.stack(rows).astype(np.float32)
    finally:
        store.close()


def grown(base: Matrix, n: int, seed: int = 3) -> Matrix:
    """`n` vectors: the base ones, then noisy copies of them."""
    rng = np.random.default_rng(seed)
    parts = [base[:n]]
    scale = float(np.std(base))
    while sum(len(p) for p in parts) < n:
        take = min(len(base), n - sum(len(p) for p in parts))
        noise = rng.normal(0, scale / 4, size=(take, base.shape[1])).astype(np.float32)
        parts.append(normalise(base[:take] + noise))
    return np.concatenate(parts)


def spec(quantized: bool, dim: int) -> CollectionSpec:
    return CollectionSpec(vectors={TEXT: VectorSpec(dim, Distance.COSINE, quantized)},
                          indexes={"category": PayloadType.KEYWORD,
                                   "in_stock": PayloadType.BOOL})


def build(root: str, vectors_file: str, quantized: bool) -> dict[str, float]:
    """Write and index the collection (in its own process)."""
    vectors = np.load(vectors_file, mmap_mode="r")
    store = EdgeVectorStore(Path(root))
    started = time.perf_counter()
    store.create_collection(COLLECTION, spec(quantized, vectors.shape[1]))
    for at in range(0, len(vectors), 5_000):
        chunk = np.asarray(vectors[at:at + 5_000])
        store.upsert(COLLECTION, [
            Point(at + i, {TEXT: v}, {"category": f"c{(at + i) % CATEGORIES}",
                                      "in_stock": (at + i) % 10 != 0})
            for i, v in enumerate(chunk)])
    store.finish_bulk_load(COLLECTION)
    seconds = time.perf_counter() - started
    store.close()
    return {"build_s": seconds,
            "disk_mb": sum(f.stat().st_size for f in Path(root).rglob("*") if f.is_file()) / 1e6,
            "build_peak_mb": psutil.Process().memory_info().rss / 1e6}


def serve(root: str, vectors_file: str, n_queries: int) -> dict[str, Any]:
    """Open the collection as a serving process would and query it (its own process)."""
    before = psutil.Process().memory_info().rss
    store = EdgeVectorStore(Path(root))
    vectors = np.load(vectors_file, mmap_mode="r")
    rng = np.random.default_rng(11)
    picks = rng.choice(len(vectors), size=n_queries, replace=False)
    # Queries near, but not at, stored vectors: a product page's neighbours.
    queries = normalise(np.asarray(vectors[picks]) + rng.normal(
        0, 0.02, size=(n_queries, vectors.shape[1])).astype(np.float32))
    latencies: list[float] = []
    found: list[list[int]] = []
    for _ in range(2):  # the first round reads the files in
        latencies, found = [], []
        for i, q in enumerate(queries):
            flt = Filter(equals={"category": f"c{i % CATEGORIES}"}) if i % 2 else None
            t = time.perf_counter()
            hits = store.query(COLLECTION, Query(q, TEXT, 10, flt, with_payload=False,
                                                 hnsw_ef=64))
            latencies.append((time.perf_counter() - t) * 1000)
            found.append([h.id for h in hits])
    rss = psutil.Process().memory_info().rss
    store.close()
    return {"latencies": latencies, "found": found, "queries": queries,
            "rss_mb": (rss - before) / 1e6}


def recall(vectors_file: str, queries: Matrix, found: list[list[int]]) -> float:
    vectors = np.load(vectors_file, mmap_mode="r")
    ids = np.arange(len(vectors))
    hits = 0
    # Exact search in blocks, so that 1M vectors are never all in memory at once.
    best: list[list[tuple[float, int]]] = [[] for _ in queries]
    for at in range(0, len(vectors), 100_000):
        block = np.asarray(vectors[at:at + 100_000])
        for qi, q in enumerate(queries):
            mask = np.ones(len(block), dtype=bool)
            if qi % 2:
                mask = (ids[at:at + len(block)] % CATEGORIES) == (qi % CATEGORIES)
            top = brute_force(block, q, mask, 10)
            best[qi].extend((float(block[j] @ q), at + j) for j in top)
    for qi, candidates in enumerate(best):
        exact = {i for _, i in sorted(candidates, reverse=True)[:10]}
        hits += len(exact & set(found[qi]))
    return hits / (10 * len(queries))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_scale_arguments(parser)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args(argv)
    shop = ROOT / ".data" / f"p{args.products}-u{args.users}-e{args.events}"
    base = source_vectors(shop)
    print(f"{len(base):,} source vectors of {base.shape[1]} dimensions", flush=True)
    spawn = multiprocessing.get_context("spawn")
    rows: list[list[str]] = []
    work = Path(tempfile.mkdtemp(prefix="lodestar-quant-"))
    try:
        for n in args.sizes:
            vectors_file = str(work / f"v{n}.npy")
            np.save(vectors_file, grown(base, n))
            for quantized in (False, True):
                root = work / f"q{n}-{int(quantized)}"
                with spawn.Pool(1) as pool:
                    built = pool.apply(build, (str(root), vectors_file, quantized))
                with spawn.Pool(1) as pool:
                    served = pool.apply(serve, (str(root), vectors_file, args.queries))
                r10 = recall(vectors_file, served["queries"], served["found"])
                lat = served["latencies"]
                rows.append([f"{n:,}", "int8, originals on disk" if quantized else "float32",
                             f"{built['build_s']:.0f}", f"{built['disk_mb']:,.0f}",
                             f"{served['rss_mb']:,.0f}", f"{percentile(lat, 50):.2f}",
                             f"{percentile(lat, 99):.2f}", f"{r10:.3f}"])
                print(rows[-1], flush=True)
                shutil.rmtree(root, ignore_errors=True)
            Path(vectors_file).unlink()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    lines = [
        "# Text vectors as float32 or int8 (in-process engine)",
        "",
        f"Written by `python -m bench.quantisation` on "
        f"{datetime.now().strftime('%Y-%m-%d %H:%M')}: {platform.machine()}, 2 cores, "
        f"Python {platform.python_version()}.",
        f"Vectors: the bench shop's {len(base):,} all-MiniLM text embeddings "
        f"({base.shape[1]} dimensions), and noisy copies of them beyond that. "
        f"{args.queries} queries near stored vectors, top 10, ef 64, every second one filtered "
        f"on one of {CATEGORIES} categories; recall@10 against exact numpy search.",
        "",
        "| items | text vectors | build s | disk MB | serving memory MB | p50 ms | p99 ms "
        "| recall@10 |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
        *("| " + " | ".join(r) + " |" for r in rows),
        "",
        "Serving memory: the growth of a fresh process's resident memory from before it opens "
        "the collection to after two rounds of the queries (the engine maps its files, so "
        "this counts what the queries touched and what it keeps in memory). The int8 copy "
        "is kept in memory; the originals on disk are read only to rescore candidates.",
        "",
    ]
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
