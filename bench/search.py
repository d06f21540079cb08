"""Search benchmark: `GET /v1/search` over loopback, anonymous and personalised, cold and
warm, and the parts of a search measured alone in process.

    python -m bench.search                      # 100K products, 50K users, 1M events

Shares the shop of `python -m bench.similar` (bench/.data/<scale>). Queries are the
evaluation's generated shop queries (exact products, attributes, paraphrases, typos).

- cold: a server just started (empty item cache, empty query-embedding cache), queries
  it has never seen: every request runs the encoder.
- new query, warm server: the item cache is full after a warm-up, the query is new.
- warm: the same queries asked again: the embedding comes from the cache.

Each group is run anonymously and for shoppers with 20+ events (personal rerank).
Results go to bench/results/search.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import urllib.parse
from collections.abc import Callable, Sequence
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import httpx

from bench.access import HEADERS
from bench.recommend import pick_users, serve, time_gets
from bench.similar import (
    ROOT,
    add_scale_arguments,
    percentile,
    prepare,
    publish,
    shop_settings,
)
from evaluation.search_queries import load_catalog, search_cases
from indexing.collections import TEXT
from indexing.encoder import load_encoder
from indexing.onnx_encoder import load_query_encoder
from indexing.vectorstore import open_vector_store
from indexing.vectorstore.port import Filter, Query
from models import index_versions
from models.db import migrate, open_database
from retrieval.lexical import LexicalRetriever
from retrieval.search import catalog_vocabulary, understand

RESULTS = ROOT / "results" / "search.md"


def url(query: str, user: str | None = None, limit: int = 20) -> str:
    params = {"q": query, "limit": str(limit)}
    if user is not None:
        params["user_id"] = user
    return "/v1/search?" + urllib.parse.urlencode(params)


def timed(fn: Callable[[], object], n: int) -> dict[str, float]:
    lat = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        lat.append((time.perf_counter() - started) * 1000)
    return {"n": n, "p50": percentile(lat, 50), "p99": percentile(lat, 99)}


def in_process(args: argparse.Namespace, queries: Sequence[str]) -> dict[str, dict[str, float]]:
    """The parts of one search, alone: how much of a request each costs."""
    settings = shop_settings(args)
    database = open_database(settings, pool_size=2)
    store = open_vector_store(settings)
    try:
        live = index_versions.live_version(database)
        assert live is not None
        started = time.perf_counter()
        vocabulary = catalog_vocabulary(database, settings)
        vocab_s = time.perf_counter() - started
        encoder = load_encoder(settings)
        onnx = load_query_encoder(settings.replace(search_query_encoder="onnx-int8"),
                                  lambda: encoder)
        lexical = LexicalRetriever(database, settings)
        understood = [understand(q, vocabulary, settings.search.max_query_chars)
                      for q in queries]
        vectors = encoder.encode([u.text for u in understood])
        it = iter(range(10**9))

        def nxt() -> int:
            return next(it) % len(queries)

        out = {
            "parse + typo correction": timed(
                lambda: understand(queries[nxt()], vocabulary, 200), len(queries)),
            "encoder, one query (torch fp32)": timed(
                lambda: encoder.encode([understood[nxt()].text]), len(queries)),
            "encoder, one query (onnx int8)": timed(
                lambda: onnx.encode([understood[nxt()].text]), len(queries)),
            "lexical: Postgres full-text, top 100": timed(
                lambda: lexical.search(understood[nxt()].terms, Filter(), 100), len(queries)),
            "semantic: vector query, top 100": timed(
                lambda: store.query(live.items_collection, Query(
                    vector=vectors[nxt()], using=TEXT, limit=100,
                    hnsw_ef=max(settings.serving.hnsw_ef, 100))), len(queries)),
        }
        out["_vocabulary_build_s"] = {"n": len(vocabulary), "p50": vocab_s, "p99": vocab_s}
        return out
    finally:
        store.close()
        database.close()


def _first_title(body: dict[str, object]) -> str:
    items = body.get("items")
    if isinstance(items, list) and items and isinstance(items[0], dict):
        return str(items[0].get("title", "-"))
    return "-"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_scale_arguments(parser)
    parser.add_argument("--requests", type=int, default=300, help="per group")
    parser.add_argument("--warm-up", type=int, default=1000,
                        help="searches that fill the server's item cache before warm groups")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--query-encoders", default="torch,onnx-int8",
                        help="comma-separated LODESTAR_SEARCH_QUERY_ENCODER values to compare")
    parser.add_argument("--note", default="", help="a line about the run for the report")
    args = parser.parse_args(argv)
    args.reindex = False

    settings = shop_settings(args)
    database = open_database(settings, pool_size=2)
    try:
        migrate(database)
        timings = prepare(args, settings, database)
        n = args.requests
        cases = search_cases(load_catalog(database), 4 * n + args.warm_up, seed=11)
        queries = [c.query for c in cases]
        shoppers = pick_users(database, 20, 10_000, 2 * n, seed=4)
    finally:
        database.close()
    if len(queries) < 4 * n + args.warm_up:
        raise SystemExit(f"only {len(queries)} distinct queries for {4 * n + args.warm_up}")
    cold_anon, cold_personal = queries[:n], queries[n:2 * n]
    new_anon, new_personal = queries[2 * n:3 * n], queries[3 * n:4 * n]
    warm_up = queries[4 * n:]
    shoppers_a, shoppers_b = shoppers[:n], shoppers[n:2 * n]

    print("measuring the parts in process ...", flush=True)
    parts = in_process(args, queries[:n])

    results: dict[str, dict[str, float]] = {}
    sample: dict[str, object] = {}
    for encoder_name in [e.strip() for e in args.query_encoders.split(",") if e.strip()]:
        env = {"LODESTAR_SEARCH_QUERY_ENCODER": encoder_name}
        tag = f"[{encoder_name}] "
        for label, group, users in (("cold, anonymous", cold_anon, None),
                                    ("cold, personalised", cold_personal, shoppers_a)):
            server, base = serve(settings, env)  # a fresh server: both caches empty
            try:
                with httpx.Client(base_url=base, headers=HEADERS, timeout=30) as http:
                    print(f"{tag}{label} ...", flush=True)
                    urls = [url(q, users[i] if users else None) for i, q in enumerate(group)]
                    results[tag + label] = time_gets(http, urls, warm_up=0)
            finally:
                server.terminate()
                server.wait(timeout=30)

        server, base = serve(settings, env)
        try:
            with httpx.Client(base_url=base, headers=HEADERS, timeout=30) as http:
                print(f"{tag}warming up with {len(warm_up)} searches ...", flush=True)
                for i, q in enumerate(warm_up):
                    http.get(url(q, shoppers[i % len(shoppers)] if i % 2 else None))
                results[tag + "new query, warm server, anonymous"] = time_gets(
                    http, [url(q) for q in new_anon], warm_up=0)
                results[tag + "new query, warm server, personalised"] = time_gets(
                    http, [url(q, shoppers_b[i]) for i, q in enumerate(new_personal)],
                    warm_up=0)
                # Asked again: the embeddings are cached now.
                results[tag + "warm (repeated query), anonymous"] = time_gets(
                    http, [url(q) for q in new_anon], warm_up=0)
                results[tag + "warm (repeated query), personalised"] = time_gets(
                    http, [url(q, shoppers_b[i]) for i, q in enumerate(new_personal)],
                    warm_up=0)
                sample = http.get(url(new_anon[0])).json()
        finally:
            server.terminate()
            server.wait(timeout=30)

    vocab = parts.pop("_vocabulary_build_s")
    target = 30.0
    lines = [
        "# Search: benchmark",
        "",
        f"Written by `python -m bench.search` on {time.strftime('%Y-%m-%d')}: "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
        f"Shop: {args.products:,} products, {args.users:,} users, {args.events:,} events "
        "(synthetic, seed 1). `lodestar serve` (uvicorn, one worker) on loopback, one client, "
        f"sequential requests, `limit=20`; {n} requests per group, each query asked once per "
        "group. Queries: the search evaluation's generated shop queries (exact products, "
        "attributes, paraphrases, typos). Personalised: shoppers with 20+ events "
        "(history read from Postgres, CF vector, profile, rerank). `[torch]`: queries "
        "embedded by the catalog's own encoder (fp32); `[onnx-int8]`: by its int8 ONNX "
        "export (bench/results/encoder.md compares the two).",
        "",
        "## `GET /v1/search` over HTTP",
        "",
        f"| group | n | p50 ms | p99 ms | p99 < {target:.0f} ms |",
        "|---|---:|---:|---:|---|",
        *[f"| {name} | {int(r['n'])} | {r['p50']:.1f} | {r['p99']:.1f} | "
          f"{'yes' if r['p99'] < target else 'no'} |" for name, r in results.items()],
        "",
        "cold: a server just started, nothing cached, every query new (the encoder runs). "
        f"new query, warm server: after {len(warm_up)} other searches filled the item cache. "
        "warm: the same queries again, their embeddings cached.",
        "",
        "## The parts, in process (no HTTP)",
        "",
        "| part | n | p50 ms | p99 ms |",
        "|---|---:|---:|---:|",
        *[f"| {name} | {int(r['n'])} | {r['p50']:.2f} | {r['p99']:.2f} |"
          for name, r in parts.items()],
        "",
        f"The typo vocabulary ({int(vocab['n']):,} words) is built from the catalog in "
        f"{vocab['p50']:.1f} s when the server starts.",
        "",
        f"A response (first of the warm group, `{new_anon[0]}`): total {sample.get('total')}, "
        f"first item {_first_title(sample)!r}.",
        "",
    ]
    publish(lines, args.out, timings, args.note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
