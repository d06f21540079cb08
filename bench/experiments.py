"""How many shoppers does an experiment need? A/B test against interleaving, measured with
the simulated shoppers of `lodestar simulate`.

    python -m bench.experiments [--visits 3000] [--quick]

Builds a demo-generator shop (3,000 products, 2,000 shoppers, 80,000 events) in a scratch
data dir, indexes it, and serves it in process. Two pairs of rankers of recommendations:
the shop's defaults against more weight on popularity (`rec_popularity_weight` 2.0, then
1.0, against the default 0.5), a clear difference and a smaller one. For each pair the
simulated shoppers (their latent tastes, position-biased clicks) play `--visits` visits
under an A/B test of the two, then as many under an interleaving of the two. From each
run's shoppers, subsamples of n shoppers (200 per n, without replacement) are judged as
the results endpoint judges them (A/B: CTR@10 with the shopper as the sample;
interleaving: the shoppers' vote, binomial test); the share of subsamples that find the
difference at 5% is the power at n. The report gives the power curve of both and the
smallest n with 80% power. It also times what serving under an experiment adds to a
request. Results go to bench/results/experiments.md. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from litestar.testing import TestClient

from api.app import create_app
from api.resources import Resources
from api.services.experiments import arm_for, log_exposure
from bench.access import BENCH_KEY, HEADERS
from data.demo_shop import ShopSpec, generate_shop
from data.simulate import SimulationPlan, simulate
from data.simulated_shoppers import Tastes
from evaluation.experiment_stats import ALPHA, Unit, preference, variant_results
from indexing.encoder import load_encoder
from indexing.pipeline import reindex
from indexing.vectorstore import open_vector_store
from models.db import migrate, open_database
from models.experiments import unit_outcomes
from models.settings import Settings
from retrieval.live_index import LiveIndex

RESULTS = Path(__file__).resolve().parent / "results" / "experiments.md"
SPEC = ShopSpec(products=3_000, users=2_000, events=80_000, seed=21)
CONTROL: dict[str, Any] = {}
# Popularity weights of the second ranker (the shop's default is 0.5): a clear difference
# and a smaller one.
POPULARITY_WEIGHTS = (2.0, 1.0)
SUBSAMPLES = 200
POWER = 0.8


def _units(resources: Resources, experiment: str) -> list[Unit]:
    return unit_outcomes(resources.database, experiment, 10, 24.0)


def _run(client: TestClient[Any], resources: Resources, tastes: Tastes, kind: str,
         weight: float, visits: int, seed: int) -> tuple[list[Unit], float]:
    made = client.post("/v1/experiments", json={
        "name": f"bench {kind}", "surface": "recommendations", "kind": kind,
        "horizon_shoppers": 10,
        "variants": [{"name": "defaults", "overrides": CONTROL},
                     {"name": "popular", "overrides": {"rec_popularity_weight": weight}}]})
    made.raise_for_status()
    experiment = made.json()["experiment_id"]
    started = time.perf_counter()
    summary = simulate(client, SimulationPlan(spec=SPEC, shoppers=visits, seed=seed,
                                              duration_seconds=3600, concurrency=2), tastes)
    seconds = time.perf_counter() - started
    client.post(f"/v1/experiments/{experiment}/stop").raise_for_status()
    resources.exposures.flush()
    print(f"{kind} ({weight}): {summary.visits} visits, {summary.clicks} clicks, {summary.errors} "
          f"errors in {seconds:.0f}s")
    return _units(resources, experiment), seconds


def _latencies(client: TestClient[Any], users: Sequence[str], rounds: int) -> list[float]:
    out = []
    for n in range(rounds):
        user = users[n % len(users)]
        started = time.perf_counter()
        client.get(f"/v1/users/{user}/recommendations").raise_for_status()
        out.append((time.perf_counter() - started) * 1000)
    return out


def _overhead(client: TestClient[Any], resources: Resources,
              users: Sequence[str]) -> dict[str, float]:
    """What serving under an experiment adds to a request, two ways.

    End to end: p50 and p99 of recommendations without an experiment, and under an A/B
    test whose two variants rank as the shop does, in alternating blocks so that a busy
    moment of the machine hurts both alike (the tail of a few thousand requests on a shared
    2-core machine is noisy). Own code: the experiment's steps of a request timed alone,
    10,000 times (finding the running experiment, the hash, queueing the exposure)."""
    plain: list[float] = []
    under: list[float] = []
    own: dict[str, float] = {}
    _latencies(client, users, 300)  # warm the caches
    for block in range(12):
        made = client.post("/v1/experiments", json={
            "name": "overhead", "surface": "recommendations",
            "variants": [{"name": "a"}, {"name": "b", "overrides": {}}]}).json()
        # Untimed first requests after a change: the process reads its experiments
        # afresh then (a creation's one-off cost, not a request's).
        _latencies(client, users, 5)
        under += _latencies(client, users[block::12], 250)
        if block == 0:
            own = _own_cost(resources, users)
        client.post(f"/v1/experiments/{made['experiment_id']}/stop")
        _latencies(client, users, 5)
        plain += _latencies(client, users[block::12], 250)
    resources.exposures.flush()
    return {"plain_p50": float(np.percentile(plain, 50)),
            "plain_p99": float(np.percentile(plain, 99)),
            "under_p50": float(np.percentile(under, 50)),
            "under_p99": float(np.percentile(under, 99)),
            "requests": float(len(plain)), **own}


def _own_cost(resources: Resources, users: Sequence[str]) -> dict[str, float]:
    items = [f"P{n:06d}" for n in range(10)]
    took = []
    for n in range(10_000):
        user = users[n % len(users)]
        started = time.perf_counter()
        arm = arm_for(resources, "recommendations", user, None)
        log_exposure(resources, arm, "recommendations", f"{n:032x}", user, None, items)
        took.append((time.perf_counter() - started) * 1e6)
    resources.exposures.flush()
    return {"own_p50_us": float(np.percentile(took, 50)),
            "own_p99_us": float(np.percentile(took, 99))}


def _found_ab(units: Sequence[Unit]) -> tuple[bool, float]:
    compared = variant_results(["defaults", "popular"], [1, 1], units, final=True)[1]
    assert compared.vs_control is not None
    ctr = compared.vs_control["ctr_at_k"]
    return ctr.p_value is not None and ctr.p_value < ALPHA, ctr.difference or 0.0


def _found_interleaved(units: Sequence[Unit]) -> tuple[bool, float]:
    pref = preference("defaults", "popular", units, final=True)
    return pref.p_value is not None and pref.p_value < ALPHA, (pref.share_second or 0.5) - 0.5


def _power(units: list[Unit], n: int, judge: Any, rng: np.random.Generator) -> float:
    hits = 0
    for _ in range(SUBSAMPLES):
        pick = rng.choice(len(units), size=n, replace=False)
        hits += judge([units[i] for i in pick])[0]
    return hits / SUBSAMPLES


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--visits", type=int, default=3_000)
    parser.add_argument("--quick", action="store_true", help="300 visits, no file written")
    args = parser.parse_args(argv)
    visits = 300 if args.quick else args.visits
    data_dir = Path(tempfile.mkdtemp(prefix="lodestar-bench-exp-"))
    try:
        settings = Settings.from_env(data_dir=data_dir, admin_key=BENCH_KEY)
        database = open_database(settings)
        migrate(database)
        generate_shop(database, SPEC, replace=True)
        store = open_vector_store(settings)
        encoder = load_encoder(settings)
        reindex(database, store, settings, encoder)
        index = LiveIndex(database, settings.rec.item_cache_items, settings.rec.user_cache)
        resources = Resources(settings, database, store, index, encoder)
        resources.index.refresh()
        tastes = Tastes.of(SPEC)
        with TestClient(app=create_app(resources=resources)) as client:
            client.headers.update(HEADERS)
            overhead = _overhead(client, resources, tastes.user_ids[:600])
            print(overhead)
            runs = []
            for n, weight in enumerate(POPULARITY_WEIGHTS):
                ab, ab_seconds = _run(client, resources, tastes, "ab", weight, visits,
                                      seed=10 * n + 1)
                il, il_seconds = _run(client, resources, tastes, "interleave", weight,
                                      visits, seed=10 * n + 2)
                runs.append((weight, ab, il, ab_seconds + il_seconds))
        rng = np.random.default_rng(7)
        sections = []
        for weight, ab, il, seconds in runs:
            most = min(len(ab), len(il)) // 2
            sizes = [n for n in (25, 50, 100, 150, 200, 300, 400, 600, 800, 1000)
                     if n <= most] or [most]
            rows = [(n, _power(ab, n, _found_ab, rng), _power(il, n, _found_interleaved, rng))
                    for n in sizes]
            sections.append(_section(weight, ab, il, rows, _found_ab(ab),
                                     _found_interleaved(il), seconds))
        report = _report(visits, sections, overhead)
        print(report)
        if not args.quick:
            RESULTS.write_text(report, encoding="utf-8")
            print(f"wrote {RESULTS}")
        store.close()
        database.close()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def _first(rows: list[tuple[int, float, float]], column: int) -> str:
    found = [row[0] for row in rows if row[column] >= POWER]
    return f"{found[0]:,}" if found else f"more than {rows[-1][0]:,}"


def _section(weight: float, ab: list[Unit], il: list[Unit],
             rows: list[tuple[int, float, float]], ab_all: tuple[bool, float],
             il_all: tuple[bool, float], seconds: float) -> list[str]:
    return [
        f"## Defaults against `rec_popularity_weight` {weight:g}",
        "",
        f"All shoppers ({seconds:.0f} s of simulation): A/B {len(ab):,} shoppers, CTR@10 "
        f"difference {ab_all[1]:+.4f} ({'found' if ab_all[0] else 'not found'} at 5%); "
        f"interleaving {len(il):,} shoppers, share preferring the second ranker minus 1/2 "
        f"{il_all[1]:+.3f} ({'found' if il_all[0] else 'not found'} at 5%).",
        "",
        f"Power (share of {SUBSAMPLES} subsamples of n shoppers that find the difference "
        "at 5%, judged as `GET /v1/experiments/{id}/results` judges):",
        "",
        "| shoppers n | A/B test (CTR@10, shopper as the sample) | interleaving (shoppers' vote) |",
        "|---:|---:|---:|",
        *[f"| {n:,} | {a:.0%} | {i:.0%} |" for n, a, i in rows],
        "",
        f"Shoppers for 80% power: A/B {_first(rows, 1)}, interleaving {_first(rows, 2)}.",
        "",
    ]


def _report(visits: int, sections: list[list[str]], overhead: dict[str, float]) -> str:
    lines = [
        "# Shoppers an experiment needs: A/B test against interleaving",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {platform.machine()}, "
        f"{platform.python_version()}, by `python -m bench.experiments` "
        f"({visits:,} simulated visits per design and pair of rankers).",
        "",
        f"Shop: the demo generator's {SPEC.products:,} products, {SPEC.users:,} shoppers, "
        f"{SPEC.events:,} events (seed {SPEC.seed}). Rankers of recommendations: the "
        "shop's defaults (`rec_popularity_weight` 0.5) against more weight on popularity. "
        "Shoppers: `lodestar simulate`'s (latent tastes of the generator, position-biased "
        "clicks); a shopper may visit more than once. Subsamples of up to half the "
        "shoppers, without replacement.",
        "",
        *[line for section in sections for line in section],
        "Why: interleaving shows each shopper both rankings in one list, so a shopper's "
        "clicks compare the rankers directly and the differences between shoppers (how "
        "keen they are, how many lists they see) cancel out; an A/B test compares two "
        "groups of shoppers whose keenness varies far more than the rankers differ. "
        "Interleaving says which ranker shoppers prefer, not by how much revenue: confirm "
        "a winner with an A/B test on conversion and revenue.",
        "",
        "## What serving under an experiment costs",
        "",
        "The experiment's own steps of a request (finding the running experiment, the "
        "assignment hash, queueing the exposure), timed alone 10,000 times: "
        f"p50 {overhead['own_p50_us']:.0f} µs, p99 {overhead['own_p99_us']:.0f} µs. "
        "The exposure is written by a background thread in batches, off the request path.",
        "",
        f"End to end, `GET /v1/users/{{id}}/recommendations` in process, "
        f"{overhead['requests']:,.0f} requests each, in alternating blocks: without an "
        "experiment, and under an A/B test whose variants rank as the shop does (the tail "
        "of a few thousand requests on a shared 2-core machine moves by a millisecond or "
        "two from run to run either way):",
        "",
        "| | p50 ms | p99 ms |",
        "|---|---:|---:|",
        f"| no experiment | {overhead['plain_p50']:.2f} | {overhead['plain_p99']:.2f} |",
        f"| under an A/B test | {overhead['under_p50']:.2f} | {overhead['under_p99']:.2f} |",
        f"| difference | {overhead['under_p50'] - overhead['plain_p50']:+.2f} | "
        f"{overhead['under_p99'] - overhead['plain_p99']:+.2f} |",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
