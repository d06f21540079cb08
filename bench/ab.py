"""Before and after: the same HTTP requests against servers from two checkouts of Lodestar,
over one data dir, in alternating rounds.

    git worktree add /tmp/before <rev>
    python -m bench.ab --before /tmp/before --after . --rounds 4

On a shared machine latencies drift by more than a code change moves them (a run of one
benchmark a few minutes later can be 30% slower), so two separate runs compare badly.
Here each round starts the "before" server and the "after" server in turn (the order
flips every round), warms each the same way and sends each the same requests: similar
items, recommendations, a repeated search (its embedding cached), trending, and batches
of events (deleted afterwards). Both checkouts read the shop that `bench.similar` built
(bench/.data of *this* checkout); only one server runs at a time, since the embedded
engine opens a shard in one process only. Results go to bench/results/ab.md. Nothing here
asserts a speed: it reports.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import httpx
import numpy as np

from bench.access import HEADERS, server_env
from bench.recommend import delete_posted
from bench.similar import ROOT, add_scale_arguments, free_port, shop_dir, shop_settings

RESULTS = ROOT / "results" / "ab.md"
EVENT_PREFIX = "bench-ab-"
BATCHES, BATCH_SIZE = 20, 500


def serve(checkout: Path, data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`lodestar serve` of one checkout (its own code on PYTHONPATH) over the data dir."""
    port = free_port()
    env = server_env(LODESTAR_DATA_DIR=str(data_dir), PYTHONPATH=str(checkout))
    server = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
                              env=env, cwd=checkout, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/ready", timeout=10).status_code == 200:
                return server, base
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    server.terminate()
    raise RuntimeError(f"the server of {checkout} did not become ready")


def timed(http: httpx.Client, urls: Sequence[str]) -> list[float]:
    out = []
    for url in urls:
        started = time.perf_counter()
        response = http.get(url)
        out.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code, response.text[:200])
    return out


def ingest_rate(http: httpx.Client, rnd: int) -> float:
    """Events per second over BATCHES batches of BATCH_SIZE."""
    now = datetime.now(UTC).isoformat()
    batches = [[{"event_id": EVENT_PREFIX + uuid.uuid4().hex,
                 "user_id": f"{EVENT_PREFIX}{(b * BATCH_SIZE + j) % 5000}",
                 "product_id": f"P{(rnd * 13 + b * 7 + j) % 90_000 + 1:06d}",
                 "event_type": "click", "session_id": f"{EVENT_PREFIX}s-{b}",
                 "occurred_at": now} for j in range(BATCH_SIZE)] for b in range(BATCHES)]
    started = time.perf_counter()
    for batch in batches:
        response = http.post("/v1/events", json={"events": batch})
        assert response.status_code == 200, response.text[:300]
    return BATCHES * BATCH_SIZE / (time.perf_counter() - started)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_scale_arguments(parser)
    parser.add_argument("--before", type=Path, required=True, help="checkout of the old code")
    parser.add_argument("--after", type=Path, default=Path("."), help="checkout of the new code")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--note", default="", help="a line about the run for the report")
    args = parser.parse_args(argv)
    data_dir = shop_dir(args)
    if not data_dir.exists():
        print(f"no shop in {data_dir}: run `python -m bench.similar` first", file=sys.stderr)
        return 2
    checkouts = {"before": args.before.resolve(), "after": args.after.resolve()}
    rng = np.random.default_rng(7)
    products = [f"P{n:06d}" for n in rng.choice(np.arange(1, args.products + 1), 400, False)]
    users = [f"U{n:06d}" for n in rng.choice(np.arange(1, args.users + 1), 900, False)]
    warm_users, users = users[:500], users[500:]
    queries = ["running shoes", "wireless earbuds", "coffee grinder", "yoga mat", "rain jacket",
               "kids backpack", "led desk lamp", "stainless steel water bottle", "phone case",
               "trail running shoes waterproof", "bluetooth speaker", "cast iron pan",
               "electric kettle", "office chair", "gaming mouse"]
    groups = {
        "similar items": [f"/v1/products/{p}/similar?limit=10" for p in products],
        "recommendations": [f"/v1/users/{u}/recommendations?limit=10" for u in users],
        "search, repeated queries": [f"/v1/search?q={q}&limit=20" for q in queries * 20],
        "trending": ["/v1/trending?limit=10"] * 200,
    }
    latency: dict[str, dict[str, list[list[float]]]] = {
        name: {g: [] for g in groups} for name in checkouts}
    rates: dict[str, list[float]] = {name: [] for name in checkouts}
    try:
        for rnd in range(args.rounds):
            order = list(checkouts) if rnd % 2 == 0 else list(reversed(checkouts))
            for name in order:
                server, base = serve(checkouts[name], data_dir)
                try:
                    with httpx.Client(base_url=base, headers=HEADERS, timeout=60) as http:
                        # Warm the caches as a server that has been up a while has them.
                        timed(http, [f"/v1/users/{u}/recommendations?limit=10"
                                     for u in warm_users])
                        timed(http, groups["search, repeated queries"][:len(queries)])
                        timed(http, groups["similar items"][:50])
                        for group, urls in groups.items():
                            latency[name][group].append(timed(http, urls))
                        rates[name].append(ingest_rate(http, rnd))
                finally:
                    server.terminate()
                    server.wait(timeout=60)
                print(f"round {rnd + 1}/{args.rounds}: {name} done", flush=True)
    finally:
        delete_posted(shop_settings(args), EVENT_PREFIX)
    write_report(args, checkouts, groups, latency, rates)
    print(args.out.read_text())
    return 0


def _revision(checkout: Path) -> str:
    try:
        return subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


def write_report(args: argparse.Namespace, checkouts: dict[str, Path],
                 groups: dict[str, list[str]], latency: dict[str, dict[str, list[list[float]]]],
                 rates: dict[str, list[float]]) -> None:
    lines = [
        "# Before and after: paired benchmark",
        "",
        f"Written by `python -m bench.ab` on {time.strftime('%Y-%m-%d')}: "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
        f"Shop: {args.products:,} products, {args.users:,} users, {args.events:,} events. "
        f"Before: `{_revision(checkouts['before'])}`; after: `{_revision(checkouts['after'])}`. "
        f"{args.rounds} rounds, the two servers in turn (order flipped each round), each "
        "warmed by 500 shoppers' recommendations; one client, sequential requests.",
        "",
        "| request | before p50 ms | after p50 ms | before p99 ms | after p99 ms |"
        " p50 per round, before / after |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for group, urls in groups.items():
        cells = []
        for stat in (50, 99):
            for name in ("before", "after"):
                pooled = [x for run in latency[name][group] for x in run]
                cells.append(f"{np.percentile(pooled, stat):.2f}")
        rounds = " / ".join(
            ", ".join(f"{np.percentile(run, 50):.1f}" for run in latency[name][group])
            for name in ("before", "after"))
        lines.append(f"| {group} (n {len(urls)} a round) | {cells[0]} | {cells[1]} |"
                     f" {cells[2]} | {cells[3]} | {rounds} |")
    lines += [
        "",
        f"| events ingest, batches of {BATCH_SIZE} | before | after |",
        "|---|---:|---:|",
        f"| events/s, median of rounds | {statistics.median(rates['before']):,.0f} |"
        f" {statistics.median(rates['after']):,.0f} |",
        f"| events/s, each round | {', '.join(f'{r:,.0f}' for r in rates['before'])} |"
        f" {', '.join(f'{r:,.0f}' for r in rates['after'])} |",
    ]
    if args.note:
        lines += ["", args.note]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
