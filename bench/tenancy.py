"""Tenancy benchmark: how should several shops share the embedded vector engine?

    python -m bench.tenancy [--quick]

Without --quick: 10 shops × 10,000 items, 50 × 2,000, and 50,000 + 500, written to
bench/results/tenancy.md (about 15 minutes on 2 busy cores, most of it layout B's index
builds). --quick runs much smaller scales in under a minute as a smoke test and writes no
file unless --out names one. The worst-case section of the report comes from a second run
on uniform random vectors, saved and then rendered with the main one:

    python -m bench.tenancy --uniform --scale even-10 --scale skew --json /tmp/uniform.json
    python -m bench.tenancy --json /tmp/main.json --worst-case-json /tmp/uniform.json
    python -m bench.tenancy --from-json /tmp/main.json --worst-case-json /tmp/uniform.json

Two layouts, both written and read through the project's VectorStore port (the embedded
`EdgeVectorStore`, as `open_vector_store` opens it), never through qdrant-edge directly:

  A. one collection per shop, named after the shop;
  B. one shared collection for every shop, with a keyword index on `shop_id` and every
     query filtered by `shop_id`.

Each collection has a 384-d cosine `text` vector and the payload indexes of the items
collection (`ITEM_INDEXES`), plus `shop_id` in layout B. Vectors are synthetic unit
vectors from numpy with a fixed seed (see `VectorSpace`). For each scale and layout it
measures the build (upsert + finish_bulk_load), the data dir's size on disk (as du counts
it), the process's RSS growth, the latency of top-10 queries for a random shop (unfiltered,
and with in_stock=true as well), recall@10 against exact numpy brute force within the shop,
and what replacing or removing one shop costs. Every (scale, layout) runs in a fresh
process, so RSS growth and open files are its own. Data dirs live under /tmp and are
removed afterwards. Results go to bench/results/tenancy.md (not with --quick unless --out
says so). Nothing here asserts a speed: it reports.
"""

from __future__ import annotations

import argparse
import functools
import importlib.metadata
import json
import multiprocessing
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import psutil

from bench.similar import brute_force, normalise, percentile, timed
from indexing.collections import ITEM_INDEXES, RANKING_FIELDS, TEXT
from indexing.vectorstore import open_vector_store
from indexing.vectorstore.port import (
    CollectionSpec,
    Distance,
    Filter,
    PayloadType,
    Point,
    Query,
    VectorSpec,
    VectorStore,
    VectorStoreError,
    point_id,
)
from models.settings import Settings

Matrix = npt.NDArray[np.float32]
Mask = npt.NDArray[np.bool_]

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results" / "tenancy.md"
DIM = 384
K = 10
SEED = 7
UPSERT_BATCH = 2_000
WARM_UP = 50
IN_STOCK_SHARE = 0.7
LAYOUT_A = "A"
LAYOUT_B = "B"
LAYOUT_NAMES = {LAYOUT_A: "A: collection per shop", LAYOUT_B: "B: shared, shop_id filter"}
SHARED = "items-shared"


@dataclass(frozen=True)
class Scale:
    """A set of shops to host together: one item count per shop."""

    key: str
    title: str
    sizes: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.sizes)

    @property
    def skewed(self) -> bool:
        return len(set(self.sizes)) > 1


SCALES = (
    Scale("even-10", "10 shops × 10,000 items", (10_000,) * 10),
    Scale("even-50", "50 shops × 2,000 items", (2_000,) * 50),
    Scale("skew", "2 shops, skewed: 50,000 + 500 items", (50_000, 500)),
)
QUICK_SCALES = (
    Scale("quick-even-4", "4 shops × 1,000 items", (1_000,) * 4),
    Scale("quick-even-10", "10 shops × 300 items", (300,) * 10),
    Scale("quick-skew", "2 shops, skewed: 5,000 + 100 items", (5_000, 100)),
)


# --- the synthetic shops -------------------------------------------------------------------


class VectorSpace:
    """Unit vectors with the rough shape of text embeddings: each is a topic centre plus
    noise in a 32-d latent space, mapped into 384-d by a fixed random matrix, with a little
    isotropic noise on top, then normalised. All shops share the topics (shops selling
    similar things), which is the hard case for a shared filtered index: a query's nearest
    neighbours in the whole collection belong mostly to other shops. Independent uniform
    unit vectors (`uniform`) have no neighbourhood structure at all, so any graph index
    finds them poorly; they are the option for a worst case."""

    LATENT = 32
    TOPICS = 64

    def __init__(self, rng: np.random.Generator, uniform: bool = False) -> None:
        self.uniform = uniform
        self.centres = rng.standard_normal((self.TOPICS, self.LATENT))
        self.mixing = rng.standard_normal((self.LATENT, DIM)) / np.sqrt(self.LATENT)

    def sample(self, rng: np.random.Generator, n: int) -> tuple[Matrix, npt.NDArray[np.int64]]:
        """`n` unit vectors and the topic each was drawn from."""
        topics = rng.integers(self.TOPICS, size=n)
        if self.uniform:
            raw = rng.standard_normal((n, DIM))
        else:
            latent = self.centres[topics] + 0.6 * rng.standard_normal((n, self.LATENT))
            raw = latent @ self.mixing + 0.3 * rng.standard_normal((n, DIM))
        return normalise(raw.astype(np.float32)), topics


@dataclass
class Shop:
    name: str
    product_ids: list[str]
    vectors: Matrix
    payloads: list[dict[str, Any]]
    in_stock: Mask


@dataclass
class Workload:
    shops: list[Shop]
    # (shop index, query vector); the same queries for both layouts.
    queries: list[tuple[int, Matrix]]


def make_workload(scale: Scale, n_queries: int, uniform: bool = False) -> Workload:
    """The shops of a scale and the queries, the same on every call (fixed seed)."""
    rng = np.random.default_rng(SEED)
    space = VectorSpace(rng, uniform)
    shops = []
    for s, size in enumerate(scale.sizes):
        name = f"shop-{s:03d}"
        vectors, topics = space.sample(rng, size)
        in_stock = rng.random(size) < IN_STOCK_SHARE
        prices = np.round(rng.lognormal(3.5, 0.8, size), 2)
        popularity = rng.random(size)
        brands = rng.integers(200, size=size)
        # Product ids repeat across shops (each shop has its own SKUs): layout B keys its
        # points by shop and product.
        ids = [f"p{j:06d}" for j in range(size)]
        payloads = [
            {
                "product_id": ids[j],
                "title": f"product {ids[j]} of {name}",
                "category": f"c{int(topics[j]):02d}",
                "subcategory": f"c{int(topics[j]):02d}-{j % 5}",
                "brand": f"b{int(brands[j]):03d}",
                "price": float(prices[j]),
                "tags": [f"t{(j + k) % 40}" for k in range(3)],
                "in_stock": bool(in_stock[j]),
                "promoted": j % 50 == 0,
                "has_cf": False,
                "created_at": 1.7e9 + j * 60.0,
                "popularity": float(popularity[j]),
            }
            for j in range(size)
        ]
        shops.append(Shop(name, ids, vectors, payloads, in_stock))
    which = rng.integers(len(shops), size=n_queries)
    vectors, _ = space.sample(rng, n_queries)
    queries = [(int(which[i]), vectors[i]) for i in range(n_queries)]
    return Workload(shops, queries)


def collection_spec(layout: str) -> CollectionSpec:
    """The items collection's indexes on a text-only collection; B adds `shop_id`."""
    indexes = dict(ITEM_INDEXES)
    if layout == LAYOUT_B:
        indexes["shop_id"] = PayloadType.KEYWORD
    return CollectionSpec(vectors={TEXT: VectorSpec(DIM, Distance.COSINE)}, indexes=indexes)


def shop_point_id(layout: str, shop: Shop, product_id: str) -> int:
    """A's collections hold one shop each; B's ids must differ across shops."""
    return point_id(product_id if layout == LAYOUT_A else f"{shop.name}:{product_id}")


def shop_points(layout: str, shop: Shop) -> Iterator[list[Point]]:
    """A shop's points in batches, with `shop_id` in the payload for layout B."""
    for start in range(0, len(shop.product_ids), UPSERT_BATCH):
        batch = []
        for j in range(start, min(start + UPSERT_BATCH, len(shop.product_ids))):
            payload = shop.payloads[j]
            if layout == LAYOUT_B:
                payload = {**payload, "shop_id": shop.name}
            batch.append(Point(shop_point_id(layout, shop, shop.product_ids[j]),
                               {TEXT: shop.vectors[j]}, payload))
        yield batch


# --- measuring one layout at one scale (in a process of its own) ---------------------------


@dataclass
class CaseResult:
    scale: str
    layout: str
    # The build, in a process of its own.
    build_s: float = 0.0
    build_rss_mb: float = 0.0
    disk_mb: float = 0.0
    apparent_mb: float = 0.0
    build_load: float = 0.0  # 1-minute load average when the build ended
    # Serving, in a fresh process that opens what the build left (as a server would).
    open_s: float = 0.0
    query_load: float = 0.0
    rss_mb: float = 0.0
    anon_mb: float = 0.0
    threads: int = 0
    open_files: int = 0
    # Per query, in the order of the workload: shop index, ms, recall@10.
    shop: list[int] = field(default_factory=list)
    ms: list[float] = field(default_factory=list)
    recall: list[float] = field(default_factory=list)
    ms_filtered: list[float] = field(default_factory=list)
    recall_filtered: list[float] = field(default_factory=list)
    foreign_hits: int = 0
    replace_s: float = 0.0
    replaced_size: int = 0
    remove_s: float = 0.0
    remove_optimize_s: float = 0.0
    disk_after_remove_mb: float = 0.0
    disk_after_optimize_mb: float = 0.0
    lock_message: str = ""


def disk_usage_mb(path: Path) -> tuple[float, float]:
    """(allocated, apparent) size of a directory tree in MB: du and du --apparent-size."""
    blocks = apparent = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            st = os.lstat(os.path.join(folder, name))
            blocks += st.st_blocks * 512
            apparent += st.st_size
    return blocks / 2**20, apparent / 2**20


def memory_mb() -> tuple[float, float]:
    """(RSS, its anonymous part) of this process in MB. The rest of RSS is mapped files,
    which the kernel can drop and read back under memory pressure."""
    info = psutil.Process().memory_info()
    return info.rss / 2**20, (info.rss - info.shared) / 2**20


def collection_of(layout: str, shop: Shop) -> str:
    return f"{shop.name}-v1" if layout == LAYOUT_A else SHARED


def load_shop(store: VectorStore, layout: str, shop: Shop, collection: str) -> None:
    for batch in shop_points(layout, shop):
        store.upsert(collection, batch)


def build(store: VectorStore, layout: str, shops: Sequence[Shop]) -> None:
    """A: create, load and optimise each shop's collection. B: load every shop into one
    collection, then optimise it once (the bulk-load best case for B)."""
    if layout == LAYOUT_A:
        for shop in shops:
            name = collection_of(layout, shop)
            store.create_collection(name, collection_spec(layout))
            load_shop(store, layout, shop, name)
            store.finish_bulk_load(name)
        return
    store.create_collection(SHARED, collection_spec(layout))
    for shop in shops:
        load_shop(store, layout, shop, SHARED)
    store.finish_bulk_load(SHARED)


def query_for(layout: str, shop: Shop, vector: Matrix, in_stock: bool, ef: int
              ) -> tuple[str, Query]:
    """The collection to ask and the query: B always filters by shop_id."""
    equals: dict[str, str | bool | int] = {}
    if layout == LAYOUT_B:
        equals["shop_id"] = shop.name
    if in_stock:
        equals["in_stock"] = True
    flt = Filter(equals=equals) if equals else None
    return collection_of(layout, shop), Query(
        vector, TEXT, K, flt, with_payload=True, payload_fields=RANKING_FIELDS, hnsw_ef=ef)


def exact_top(shop: Shop, vector: Matrix, in_stock: bool) -> list[int]:
    """Rows of the shop's exact top-10 by cosine (brute force in numpy)."""
    mask = shop.in_stock if in_stock else np.ones(len(shop.product_ids), dtype=bool)
    return brute_force(shop.vectors, vector, mask, K)


def lock_check(data_dir: Path, collection: str) -> str:
    """Try to read `collection` from a second process while this one holds it open."""
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from indexing.vectorstore.edge import EdgeVectorStore\n"
        "store = EdgeVectorStore(Path(sys.argv[1]))\n"
        "try:\n"
        "    print('opened; count =', store.count(sys.argv[2]))\n"
        "except Exception as exc:\n"
        "    print(type(exc).__name__ + ': ' + str(exc))\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(data_dir / "qdrant"), collection],
                          capture_output=True, text=True, timeout=120, check=False)
    return (done.stdout.strip() or done.stderr.strip()).splitlines()[-1]


def settings_for(data_dir: Path) -> Settings:
    return Settings.from_env(data_dir=data_dir, database_url=None, qdrant_url=None)


def build_case(scale: Scale, layout: str, data_dir: Path, uniform: bool) -> CaseResult:
    """Build one layout of one scale in a fresh data dir; time it and measure the dir."""
    shops = make_workload(scale, 0, uniform).shops
    shutil.rmtree(data_dir, ignore_errors=True)
    rss_before, _ = memory_mb()
    store = open_vector_store(settings_for(data_dir))
    try:
        started = time.perf_counter()
        build(store, layout, shops)
        build_s = time.perf_counter() - started
    finally:
        store.close()
    disk, apparent = disk_usage_mb(data_dir / "qdrant")
    print(f"  built in {build_s:.1f}s, {disk:.0f} MB on disk", flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux
    return CaseResult(scale.key, layout, build_s=build_s, build_rss_mb=peak - rss_before,
                      disk_mb=disk, apparent_mb=apparent, build_load=os.getloadavg()[0])


def serve_case(scale: Scale, layout: str, data_dir: Path, n_queries: int, ef: int,
               uniform: bool, check_lock: bool, result: CaseResult) -> CaseResult:
    """Open what `build_case` left in a fresh process, as a server would, and query it;
    then replace and remove one shop. The data dir is removed afterwards."""
    work = make_workload(scale, n_queries, uniform)
    shops = work.shops
    rows_of = [{shop_point_id(layout, s, pid): r for r, pid in enumerate(s.product_ids)}
               for s in shops]
    truth = [[exact_top(shops[s], v, f) for s, v in work.queries] for f in (False, True)]

    rss_before, anon_before = memory_mb()
    store = open_vector_store(settings_for(data_dir))
    try:
        # Open every shop's collection first, as a server that serves them all would, so
        # that no timed query pays for opening a shard.
        started = time.perf_counter()
        for shop in shops:
            store.count(collection_of(layout, shop))
        result.open_s = time.perf_counter() - started
        for s, v in work.queries[:WARM_UP]:
            name, q = query_for(layout, shops[s], v, False, ef)
            store.query(name, q)
        for filtered in (False, True):
            lat, rec = [], []
            for i, (s, v) in enumerate(work.queries):
                name, q = query_for(layout, shops[s], v, filtered, ef)
                hits, ms = timed(functools.partial(store.query, name, q))
                lat.append(ms)
                rows = [rows_of[s].get(h.id) for h in hits]
                result.foreign_hits += sum(r is None for r in rows)
                expected = set(truth[filtered][i])
                rec.append(len(expected & {r for r in rows if r is not None}) / len(expected))
            if filtered:
                result.ms_filtered, result.recall_filtered = lat, rec
            else:
                result.ms, result.recall = lat, rec
        result.shop = [s for s, _ in work.queries]
        result.query_load = os.getloadavg()[0]
        rss, anon = memory_mb()
        result.rss_mb, result.anon_mb = rss - rss_before, anon - anon_before
        proc = psutil.Process()
        result.threads, result.open_files = proc.num_threads(), proc.num_fds()

        if check_lock:
            result.lock_message = lock_check(data_dir, collection_of(layout, shops[-1]))
        measure_operations(store, layout, shops[-1], data_dir, result)
    finally:
        store.close()
        shutil.rmtree(data_dir, ignore_errors=True)
    return result


def measure_operations(store: VectorStore, layout: str, shop: Shop, data_dir: Path,
                       result: CaseResult) -> None:
    """Replace one shop's items with a fresh build of them, then remove the shop.

    A: build `<shop>-v2` beside the live collection and drop v1 (what a per-shop versioned
    reindex does), then drop the collection. B: the port deletes by id only (no delete by
    filter), so both go through the shop's ids, which the caller must know from the
    catalog: delete them and upsert the new points into the live shared collection, then
    optimise; removal is a delete by ids, whose space comes back only after an optimise.
    """
    result.replaced_size = len(shop.product_ids)
    ids = [shop_point_id(layout, shop, pid) for pid in shop.product_ids]
    started = time.perf_counter()
    if layout == LAYOUT_A:
        new = f"{shop.name}-v2"
        store.create_collection(new, collection_spec(layout))
        load_shop(store, layout, shop, new)
        store.finish_bulk_load(new)
        store.drop_collection(collection_of(layout, shop))
    else:
        store.delete(SHARED, ids)
        load_shop(store, layout, shop, SHARED)
        store.finish_bulk_load(SHARED)
    result.replace_s = time.perf_counter() - started

    started = time.perf_counter()
    if layout == LAYOUT_A:
        store.drop_collection(f"{shop.name}-v2")
        result.remove_s = time.perf_counter() - started
        result.disk_after_remove_mb = disk_usage_mb(data_dir / "qdrant")[0]
        result.disk_after_optimize_mb = result.disk_after_remove_mb
        return
    store.delete(SHARED, ids)
    result.remove_s = time.perf_counter() - started
    left = store.count(SHARED, Filter(equals={"shop_id": shop.name}))
    if left:
        raise VectorStoreError(f"{left} points of {shop.name} survived the delete")
    result.disk_after_remove_mb = disk_usage_mb(data_dir / "qdrant")[0]
    started = time.perf_counter()
    store.finish_bulk_load(SHARED)
    result.remove_optimize_s = time.perf_counter() - started
    result.disk_after_optimize_mb = disk_usage_mb(data_dir / "qdrant")[0]


# --- the report ----------------------------------------------------------------------------


def _stats(result: CaseResult, shop: int | None = None) -> dict[str, float]:
    pick = [i for i, s in enumerate(result.shop) if shop is None or s == shop]

    def sub(values: list[float]) -> list[float]:
        return [values[i] for i in pick]

    return {
        "n": len(pick),
        "p50": percentile(sub(result.ms), 50), "p99": percentile(sub(result.ms), 99),
        "p50f": percentile(sub(result.ms_filtered), 50),
        "p99f": percentile(sub(result.ms_filtered), 99),
        "recall": float(np.mean(sub(result.recall))),
        "recallf": float(np.mean(sub(result.recall_filtered))),
    }


def scale_section(scale: Scale, results: dict[str, CaseResult]) -> list[str]:
    lines = [
        f"## {scale.title} ({scale.total:,} points)",
        "",
        "| layout | build s | disk MB | RSS +MB | p50 ms | p99 ms | p50 filtered ms "
        "| p99 filtered ms | recall@10 | recall@10 filtered |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for layout, r in results.items():
        st = _stats(r)
        lines.append(
            f"| {LAYOUT_NAMES[layout]} | {r.build_s:.1f} | {r.disk_mb:.0f} | {r.rss_mb:.0f} "
            f"| {st['p50']:.2f} | {st['p99']:.2f} | {st['p50f']:.2f} | {st['p99f']:.2f} "
            f"| {st['recall']:.3f} | {st['recallf']:.3f} |")
    if scale.skewed:
        lines += [
            "",
            "Per shop (each query went to one of the two shops at random):",
            "",
            "| layout | shop | queries | p50 ms | p99 ms | p99 filtered ms | recall@10 "
            "| recall@10 filtered |",
            "|---|---|---:|---:|---:|---:|---:|---:|",
        ]
        for layout, r in results.items():
            for s, size in enumerate(scale.sizes):
                st = _stats(r, s)
                lines.append(
                    f"| {LAYOUT_NAMES[layout]} | {size:,} items | {int(st['n'])} "
                    f"| {st['p50']:.2f} | {st['p99']:.2f} | {st['p99f']:.2f} "
                    f"| {st['recall']:.3f} | {st['recallf']:.3f} |")
    lines.append("")
    return lines


def resources_section(scales: Sequence[Scale], results: dict[str, dict[str, CaseResult]]
                      ) -> list[str]:
    lines = [
        "## Resources of the serving process",
        "",
        "*Apparent MB* is the size the files claim (`du --apparent-size`): the engine "
        "preallocates sparse files, which a copy or backup that does not keep holes "
        "writes out in full. *Build peak* is the build process's peak RSS over its start. "
        "*Open all* is how long a fresh process took to open every shop's collection. "
        "*Serving* is that process's RSS growth after it ran the queries, as a server "
        "would; *anon* is the part of it that is not mapped files (mapped file pages can be "
        "dropped and read back under memory pressure; anonymous memory cannot).",
        "",
        "| scale | layout | disk MB | apparent MB | build peak RSS +MB | open all s "
        "| serving RSS +MB | of which anon MB | threads | open files |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for scale in scales:
        for layout, r in results[scale.key].items():
            lines.append(
                f"| {scale.title} | {LAYOUT_NAMES[layout]} | {r.disk_mb:.0f} "
                f"| {r.apparent_mb:.0f} | {r.build_rss_mb:.0f} | {r.open_s:.2f} "
                f"| {r.rss_mb:.0f} | {r.anon_mb:.0f} | {r.threads} | {r.open_files} |")
    lines.append("")
    return lines


def operations_section(scales: Sequence[Scale], results: dict[str, dict[str, CaseResult]]
                       ) -> list[str]:
    lines = [
        "## Replacing and removing one shop",
        "",
        "The last shop of each scale (in the skewed case, the small one), in the serving "
        "process after the queries. *Replace*: A builds `<shop>-v2` beside the live "
        "collection and drops v1, as a per-shop versioned reindex would; B deletes the "
        "shop's points by id and upserts the new ones into the live shared collection, then "
        "optimises. *Remove*: A drops the collection; B deletes by id (the port has no "
        "delete by filter, so the caller needs the shop's product ids); a delete frees no "
        "disk by itself, and the last column shows what an optimise afterwards gave back.",
        "",
        "| scale | layout | shop items | replace s | remove s | optimise after remove s "
        "| disk MB: built → removed → optimised |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for scale in scales:
        for layout, r in results[scale.key].items():
            opt = f"{r.remove_optimize_s:.1f}" if layout == LAYOUT_B else "–"
            lines.append(
                f"| {scale.title} | {LAYOUT_NAMES[layout]} | {r.replaced_size:,} "
                f"| {r.replace_s:.2f} | {r.remove_s:.3f} | {opt} "
                f"| {r.disk_mb:.0f} → {r.disk_after_remove_mb:.0f} → "
                f"{r.disk_after_optimize_mb:.0f} |")
    lines.append("")
    return lines


def limits_section(lock: str) -> list[str]:
    """What the port allows and what it does not, as met by this benchmark."""
    lines = [
        "## What the port can and cannot express",
        "",
        "- `Filter.equals` takes any payload key, so `shop_id` is filtered like any keyword "
        "field, inside the vector query; no stand-in field was needed.",
        "- The engine has a tenant flag for keyword indexes (`KeywordIndexParams(is_tenant=True)`) "
        "and a per-payload graph setting (`HnswIndexConfig(payload_m=...)`), meant for "
        "exactly layout B, but `CollectionSpec` only names a `PayloadType` per field and the "
        "adapter creates a plain index. B is measured with a plain keyword index on "
        "`shop_id`; a tenant index might build and search B differently.",
        "- Likewise the engine's search thread settings (`max_search_threads`, "
        "`search_pool_core`) are not in the spec, so every collection of A brings its own "
        "default set of threads.",
        "- The port deletes by id only: removing a shop from B needs its ids from the "
        "catalog, where A drops one collection.",
    ]
    if lock:
        lines.append(
            "- A collection (shard) can be open in one process only. Measured: while the "
            f"serving process held a shop's collection, a second process got `{lock}`")
    lines.append("")
    return lines


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.1f}×" if b > 0 else "n/a"


def summary_section(scales: Sequence[Scale], results: dict[str, dict[str, CaseResult]],
                    worst: Run | None = None) -> list[str]:
    """Sentences computed from the numbers, then the choice they support."""
    facts = []
    for scale in scales:
        a, b = results[scale.key][LAYOUT_A], results[scale.key][LAYOUT_B]
        sa, sb = _stats(a), _stats(b)
        facts.append(
            f"- {scale.title}: build {b.build_s:.0f} vs {a.build_s:.0f} s "
            f"({_ratio(b.build_s, a.build_s)}); disk {b.disk_mb:.0f} vs {a.disk_mb:.0f} MB; "
            f"serving RSS {b.rss_mb:.0f} vs {a.rss_mb:.0f} MB; p50 {sb['p50']:.2f} vs "
            f"{sa['p50']:.2f} ms, p99 {sb['p99']:.2f} vs {sa['p99']:.2f} ms (filtered "
            f"{sb['p99f']:.2f} vs {sa['p99f']:.2f}); recall@10 {sb['recall']:.3f} vs "
            f"{sa['recall']:.3f} (filtered {sb['recallf']:.3f} vs {sa['recallf']:.3f}); "
            f"replacing a {a.replaced_size:,}-item shop {b.replace_s:.1f} vs "
            f"{a.replace_s:.1f} s.")
    foreign = sum(r.foreign_hits for per in results.values() for r in per.values())
    lines = ["## What this says", "", "B against A (B's number first), per scale:", "",
             *facts,
             f"- Items of another shop among B's hits, over all its queries: {foreign}.", ""]

    pairs = [(results[s.key][LAYOUT_A], results[s.key][LAYOUT_B]) for s in scales]
    low_recall = min(min(_stats(r)["recall"], _stats(r)["recallf"])
                     for pair in pairs for r in pair)
    ratios = [b.build_s / a.build_s for a, b in pairs if a.build_s > 0]
    big_a, big_b = max(pairs, key=lambda pair: pair[0].replaced_size)
    many = max(scales, key=lambda s: len(s.sizes))
    a_many, b_many = results[many.key][LAYOUT_A], results[many.key][LAYOUT_B]
    extra = max(len(many.sizes) - 1, 1)  # A's collections beyond B's one
    per_mb = max(a_many.rss_mb - b_many.rss_mb, 0.0) / extra
    per_anon = max(a_many.anon_mb - b_many.anon_mb, 0.0) / extra
    per_threads = max(a_many.threads - b_many.threads, 0) / extra
    a_p50_lower = all(_stats(a)["p50"] < _stats(b)["p50"] for a, b in pairs)
    if not (pairs[0][1].build_s > pairs[0][0].build_s and big_b.replace_s > big_a.replace_s):
        lines += [
            "These numbers do not show A ahead on both the build and the replacement of an "
            "indexed shop, so they do not make the case for one collection per shop; read "
            "the tables and the notes on the port above before choosing.", ""]
        return lines
    recall = (
        f"Recall does not separate the layouts: the lowest mean recall@10 of any row is "
        f"{low_recall:.3f}, the small shop of the skewed case included (it is under the "
        "full-scan threshold, so both layouts score it exactly), and B never returned "
        "another shop's item."
        if low_recall >= 0.99 else
        f"Recall needs a look: the lowest mean recall@10 of any row is {low_recall:.3f}.")
    if worst is not None:
        worse = [s.title for s in worst.scales
                 if min(_stats(worst.results[s.key][LAYOUT_B])[k]
                        - _stats(worst.results[s.key][LAYOUT_A])[k]
                        for k in ("recall", "recallf")) < -0.01]
        recall += (
            " On uniform random vectors, where both layouts miss many neighbours, B's recall "
            "was not below A's at any scale measured." if not worse else
            f" On uniform random vectors B's recall fell below A's at: {', '.join(worse)}.")
    latency = (" A's median latency was the lower at every scale; the p99s are a few ms "
               "in both and move between runs." if a_p50_lower else "")
    lines += [
        f"{recall}{latency} What separates them is cost and operations. B's builds took "
        f"{min(ratios):.1f}–{max(ratios):.1f}× as long as A's. Replacing a "
        f"{big_a.replaced_size:,}-item shop inside the live shared collection took "
        f"{big_b.replace_s:.0f} s against {big_a.replace_s:.1f} s for a new collection built "
        "beside the old one; that is "
        f"{100 * big_b.replace_s / max(big_b.build_s, 1e-9):.0f}% of B's whole build, so the "
        "optimise after the upsert evidently re-indexed far more than the one shop. (A shop "
        "small enough to stay under the engine's indexing threshold was cheap to replace "
        "in B: the optimise had little to do.) A also fits how the project already "
        "reindexes: build a new "
        "collection, switch to it, keep the old one for rollback. Per shop, that gives "
        "each shop its own versions and rollback, and lets a reindex process build one "
        "shop while the server holds the others, since a shard opens in one process only "
        "and B's single shard could only be written by the server itself. Dropping a shop "
        "is one call that frees its disk at once. A's price is per open collection: about "
        f"{per_mb:.0f} MB of RSS (of which {per_anon:.0f} MB anonymous; the rest is mapped "
        "shard files, which the kernel can reclaim but which count in RSS and in a "
        f"container's memory until it does) and {per_threads:.0f} threads per shop, so "
        f"{len(many.sizes)} shops held {a_many.rss_mb / 1024:.1f} GB and {a_many.threads} "
        f"threads where B held {b_many.rss_mb:.0f} MB and {b_many.threads}.",
        "",
        "The choice these numbers support: one collection per shop (A) for the embedded "
        "engine when a process serves a handful of shops: builds up to "
        f"{max(ratios):.1f}× faster, a cheap per-shop reindex, drop and rollback, and no "
        "loss of recall. Its per-collection overhead is what limits it: at "
        f"{len(many.sizes)} small shops in one process that overhead "
        f"({a_many.rss_mb / 1024:.1f} GB, {a_many.threads} threads) becomes the main cost, "
        "and a shared collection (B) is the layout to measure again there, with the tenant "
        "index that the port cannot ask for yet, or the Qdrant server profile.",
        "",
    ]
    return lines


@dataclass
class Run:
    """The results of one run, as measured or as read back from --json."""

    scales: list[Scale]
    results: dict[str, dict[str, CaseResult]]
    n_queries: int
    ef: int
    uniform: bool

    def to_json(self) -> str:
        return json.dumps({
            "queries": self.n_queries, "ef": self.ef, "uniform": self.uniform,
            "results": {s: {lay: asdict(r) for lay, r in per.items()}
                        for s, per in self.results.items()}})

    @classmethod
    def from_json(cls, path: Path) -> Run:
        raw = json.loads(path.read_text())
        results = {s: {lay: CaseResult(**r) for lay, r in per.items()}
                   for s, per in raw["results"].items()}
        scales = [s for s in (*SCALES, *QUICK_SCALES) if s.key in results]
        return cls(scales, results, raw["queries"], raw["ef"], raw["uniform"])


def worst_case_section(run: Run) -> list[str]:
    """Recall and latency of a run on uniform random vectors, beside the main run."""
    flags = " ".join(f"--scale {s.key}" for s in run.scales)
    lines = [
        "## Worst case: uniform random vectors",
        "",
        f"A separate run, `python -m bench.tenancy --uniform {flags}`, with independent "
        "uniform unit vectors: no topics, no neighbourhood structure for a graph to "
        f"follow. At hnsw_ef={run.ef} any graph-searched collection then misses most true "
        "neighbours, in either layout, so the absolute recall says little about real "
        "embeddings; what matters is whether the shared filtered index does worse than "
        f"separate collections ({run.n_queries:,} queries per layout and scale).",
        "",
    ]
    for scale in run.scales:
        a, b = run.results[scale.key][LAYOUT_A], run.results[scale.key][LAYOUT_B]
        sa, sb = _stats(a), _stats(b)
        lines.append(
            f"- {scale.title}: recall@10 B {sb['recall']:.3f} vs A {sa['recall']:.3f} "
            f"(filtered {sb['recallf']:.3f} vs {sa['recallf']:.3f}); build B "
            f"{b.build_s:.0f} vs A {a.build_s:.0f} s.")
    lines.append("")
    for scale in run.scales:
        lines += ["#" + line if line.startswith("## ") else line
                  for line in scale_section(scale, run.results[scale.key])]
    return lines


def write_report(scales: Sequence[Scale], results: dict[str, dict[str, CaseResult]],
                 n_queries: int, ef: int, uniform: bool, worst: Run | None = None) -> str:
    """The markdown report of a run."""
    lock = next((r.lock_message for per in results.values() for r in per.values()
                 if r.lock_message), "")
    loads = [x for per in results.values() for r in per.values()
             for x in (r.build_load, r.query_load)]
    version = importlib.metadata.version("qdrant-edge-py")
    vectors = ("independent uniform unit vectors" if uniform else
               "synthetic unit vectors with topic structure (64 topics shared by all shops, "
               "32-d latent space mapped to 384-d; see `VectorSpace`)")
    lines = [
        "# Tenancy: one collection per shop, or one shared collection",
        "",
        f"Written by `python -m bench.tenancy` on {time.strftime('%Y-%m-%d')}: "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"qdrant-edge-py {version} through `EdgeVectorStore`. "
        f"Scales: {'; '.join(s.title for s in scales)}.",
        "",
        f"The machine was not idle: other processes ran alongside, and the 1-minute load "
        f"average read {min(loads):.1f}–{max(loads):.1f} at the end of builds and query "
        "runs. Times, builds above all, carry that noise; compare the layouts by large "
        "ratios, not by small differences.",
        "",
        "Layouts: **A** one collection per shop; **B** one shared collection with a keyword "
        "index on `shop_id`, every query filtered by it.",
        "",
        f"Vectors: 384-d cosine `text`, {vectors}, fixed seed. Every collection has the "
        "items collection's eleven payload indexes; B adds `shop_id`. Queries: "
        f"{n_queries:,} top-10 queries per layout and scale, each for a random shop with a "
        "fresh vector from the same distribution, asking for the ranking payload fields as "
        f"the service does, hnsw_ef={ef}, single thread, after {WARM_UP} warm-up queries; "
        "*filtered* adds in_stock=true (70% of items). Recall@10 is against the exact "
        "top-10 within the shop (numpy brute force, same filter). Build = upsert + "
        "finish_bulk_load, in a process of its own; disk = the data dir as du counts it "
        "after the build; RSS +MB = growth of a fresh serving process that opened every "
        "shop's collection and ran the queries (it counts mapped shard files).",
        "",
        "The engine's default full-scan threshold (10 MB of vectors, about 6,600 points at "
        "384-d) applies: a collection, or a filter, that selects fewer points than that is "
        "searched exactly, without the HNSW graph. So A searches a shop of fewer items "
        "exactly, and so does B when the shop filter selects that few.",
        "",
    ]
    for scale in scales:
        lines += scale_section(scale, results[scale.key])
    lines += resources_section(scales, results)
    lines += operations_section(scales, results)
    lines += limits_section(lock)
    if worst is not None:
        lines += worst_case_section(worst)
    lines += summary_section(scales, results, worst)
    return "\n".join(lines)


# --- running -------------------------------------------------------------------------------


def run_all(scales: Sequence[Scale], n_queries: int, data_root: Path, ef: int,
            uniform: bool) -> dict[str, dict[str, CaseResult]]:
    """Every (scale, layout): built in one fresh spawned process, served from another."""
    results: dict[str, dict[str, CaseResult]] = {}
    context = multiprocessing.get_context("spawn")
    for n, scale in enumerate(scales):
        results[scale.key] = {}
        for layout in (LAYOUT_A, LAYOUT_B):
            print(f"{scale.title}, layout {layout} ...", flush=True)
            data_dir = data_root / f"{scale.key}-{layout}"
            with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
                built = pool.submit(build_case, scale, layout, data_dir, uniform).result()
            with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
                results[scale.key][layout] = pool.submit(
                    serve_case, scale, layout, data_dir, n_queries, ef, uniform, n == 0,
                    built).result()
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="much smaller scales and 200 queries: a smoke test")
    parser.add_argument("--scale", action="append", default=None,
                        choices=sorted({s.key for s in (*SCALES, *QUICK_SCALES)}),
                        help="run only this scale (repeatable)")
    parser.add_argument("--queries", type=int, default=None,
                        help="queries per layout and scale (default 1000, 200 with --quick)")
    parser.add_argument("--ef", type=int, default=None,
                        help="hnsw_ef of the queries (default: the serving setting)")
    parser.add_argument("--uniform", action="store_true",
                        help="independent uniform unit vectors (a worst case for any index)")
    parser.add_argument("--data-root", type=Path, default=Path("/tmp/lodestar-tenancy"))
    parser.add_argument("--out", type=Path, default=None,
                        help="report path (default: bench/results/tenancy.md for a full run "
                             "of the default scales, else none)")
    parser.add_argument("--json", type=Path, default=None, help="also save the raw results")
    parser.add_argument("--from-json", type=Path, default=None,
                        help="write the report from saved raw results without measuring")
    parser.add_argument("--worst-case-json", type=Path, default=None,
                        help="raw results of a --uniform run, reported in a section of "
                             "their own")
    args = parser.parse_args(argv)

    scales = [s for s in (QUICK_SCALES if args.quick else SCALES)
              if args.scale is None or s.key in args.scale]
    n_queries = args.queries or (200 if args.quick else 1000)
    ef = args.ef or settings_for(args.data_root).serving.hnsw_ef
    if args.from_json:
        run = Run.from_json(args.from_json)
    elif not scales:
        parser.error("no scale of this set has that name (quick scales need --quick)")
    else:
        started = time.perf_counter()
        results = run_all(scales, n_queries, args.data_root, ef, args.uniform)
        print(f"measured in {time.perf_counter() - started:.0f}s", flush=True)
        shutil.rmtree(args.data_root, ignore_errors=True)
        run = Run(list(scales), results, n_queries, ef, args.uniform)
    if args.json:
        args.json.write_text(run.to_json())
    worst = Run.from_json(args.worst_case_json) if args.worst_case_json else None
    report = write_report(run.scales, run.results, run.n_queries, run.ef, run.uniform, worst)
    print(report)
    full = not run.uniform and [s.key for s in run.scales] == [s.key for s in SCALES]
    out = args.out or (RESULTS if full else None)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(report)
        print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
