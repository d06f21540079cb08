"""`lodestar tune`: search ALS's hyperparameters on the shop's own data, never on its test
window.

The validation split of `lodestar evaluate --validation` is used: the test period (the
last `test_days`) is dropped first, and the period before it is scored. Each trial trains
ALS with the same interactions a reindex would aggregate (event weights, decay, window),
as of the validation cut, and scores the ALS ranking itself (the shopper's trained vector
against every item, what the shopper touched before the cut left out) with NDCG@10 on
what each sampled shopper went on to do: the signal the hybrid's CF retriever carries.
The first trial is the current settings, so the winner is never worse on this window
than what the shop runs now; the others are a seeded random sample of a fixed grid,
stopped by a trial count or a time budget, whichever comes first.

Blend weights are not searched yet: each candidate blend needs a whole recommender over a
built index (minutes a trial at 100K products), which a later version may sample.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from evaluation.recommendations import (
    EvaluationOptions,
    as_datetime,
    choose_split,
    just_before,
    load_events,
)
from indexing.als import train_als
from indexing.interactions import load_interactions
from models.db import Database
from models.settings import Settings
from ranking.metrics import ranking_metrics, summarise

K = 10
SPACE: dict[str, tuple[Any, ...]] = {
    "als_factors": (32, 64, 128),
    "als_regularization": (0.01, 0.05, 0.1, 0.5, 1.0),
    "als_alpha": (1.0, 5.0, 10.0, 20.0, 40.0, 80.0),
    "als_iterations": (10, 15, 20, 30),
}
"""The grid the search samples: ALS's size, L2 penalty, confidence scale and passes."""


@dataclass(frozen=True)
class TuneOptions:
    test_days: float = 14.0
    trials: int = 12
    budget_seconds: float = 600.0
    max_users: int = 2000
    seed: int = 0

    def __post_init__(self) -> None:
        if self.trials < 1:
            raise ValueError("--trials must be at least 1")
        if self.budget_seconds <= 0:
            raise ValueError("--budget-seconds must be positive")


@dataclass(frozen=True)
class Trial:
    values: dict[str, Any]
    scores: dict[str, float]
    seconds: float


@dataclass(frozen=True)
class TuneResult:
    cut: str
    scored_until: str
    n_users: int
    trials: list[Trial] = field(default_factory=list)
    stopped_by: str = "trials"

    @property
    def best(self) -> Trial:
        # The first of equals: the current settings keep a tie.
        return max(self.trials, key=lambda t: t.scores[f"ndcg@{K}"])

    @property
    def current(self) -> Trial:
        return self.trials[0]


def candidates(current: Mapping[str, Any], seed: int) -> list[dict[str, Any]]:
    """The current settings first, then every other point of the grid in a seeded order."""
    first = {name: current[name] for name in SPACE}
    grid = [dict(zip(SPACE, point, strict=True)) for point in itertools.product(*SPACE.values())]
    random.Random(seed).shuffle(grid)
    return [first, *(g for g in grid if g != first)]


def _score(factors_users: np.ndarray, factors_items: np.ndarray, rows: Sequence[int],
           seen: Sequence[set[int]], gains: Sequence[Mapping[int, float]]) -> dict[str, float]:
    per_user = []
    for row, touched, relevant in zip(rows, seen, gains, strict=True):
        scores = factors_items @ factors_users[row]
        if touched:
            scores[list(touched)] = -np.inf
        top = np.argpartition(-scores, K)[:K] if len(scores) > K else np.arange(len(scores))
        top = top[np.argsort(-scores[top])]
        per_user.append(ranking_metrics([str(i) for i in top],
                                        {str(i): g for i, g in relevant.items()}, K))
    return summarise(per_user)


def tune(database: Database, settings: Settings, options: TuneOptions,
         progress: Callable[[int, int, Trial], None] | None = None) -> TuneResult:
    """Search the grid on the validation window; the trials in the order run."""
    _, split, info = choose_split(load_events(database), EvaluationOptions(
        test_days=options.test_days, max_users=options.max_users, seed=options.seed,
        validation=True))
    as_of = as_datetime(just_before(info.cut))
    interactions = load_interactions(database, settings.replace(as_of=as_of.isoformat()),
                                     as_of)
    user_row = {u: i for i, u in enumerate(interactions.users)}
    item_col = {p: i for i, p in enumerate(interactions.items)}
    users = [u for u in split.users_in_both if u in user_row]
    if len(users) > options.max_users:
        picked = np.random.default_rng(options.seed).choice(len(users), options.max_users,
                                                            replace=False)
        users = [users[i] for i in sorted(picked)]
    matrix = interactions.matrix
    rows = [user_row[u] for u in users]
    seen = [set(matrix.indices[matrix.indptr[r]:matrix.indptr[r + 1]].tolist()) for r in rows]
    gains = [{item_col[p]: g for p, g in split.test_gains[u].items() if p in item_col}
             for u in users]
    current = {name: getattr(settings.training, name) for name in SPACE}
    plan = candidates(current, options.seed)[:options.trials]
    trials: list[Trial] = []
    started = time.perf_counter()
    stopped_by = "trials"
    for n, values in enumerate(plan):
        if trials and time.perf_counter() - started > options.budget_seconds:
            stopped_by = "budget"
            break
        t = time.perf_counter()
        factors = train_als(matrix, settings.replace(**values))
        trial = Trial(values, _score(factors.users, factors.items, rows, seen, gains),
                      round(time.perf_counter() - t, 2))
        trials.append(trial)
        if progress is not None:
            progress(n + 1, len(plan), trial)
    return TuneResult(cut=info.cut.isoformat(), scored_until=info.scored_until.isoformat(),
                      n_users=len(users), trials=trials, stopped_by=stopped_by)


def report(result: TuneResult) -> dict[str, Any]:
    """What is stored beside the winner: the window, and every trial's settings and score."""
    return {"cut": result.cut, "scored_until": result.scored_until, "n_users": result.n_users,
            "stopped_by": result.stopped_by,
            "trials": [{"settings": t.values, "ndcg@10": t.scores[f"ndcg@{K}"],
                        "recall@10": t.scores[f"recall@{K}"], "seconds": t.seconds}
                       for t in result.trials]}


def markdown(result: TuneResult) -> str:
    best, now = result.best, result.current
    lines = [
        "## Tuning ALS on the validation window",
        "",
        f"Trained on events before {result.cut}, scored on {result.n_users:,} shoppers' "
        f"events up to {result.scored_until} (the test period after it is never read). "
        f"{len(result.trials)} trials (stopped by {result.stopped_by}); the first is the "
        "current settings.",
        "",
        "| # | factors | regularization | alpha | iterations | NDCG@10 | recall@10 | s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for i, t in enumerate(result.trials, 1):
        v = t.values
        mark = " **best**" if t is best else ""
        lines.append(
            f"| {i}{mark} | {v['als_factors']} | {v['als_regularization']} | {v['als_alpha']} "
            f"| {v['als_iterations']} | {t.scores[f'ndcg@{K}']:.4f} "
            f"| {t.scores[f'recall@{K}']:.4f} | {t.seconds:.1f} |")
    gain = best.scores[f"ndcg@{K}"] - now.scores[f"ndcg@{K}"]
    lines += ["", f"Best NDCG@10 {best.scores[f'ndcg@{K}']:.4f} against "
              f"{now.scores[f'ndcg@{K}']:.4f} for the current settings ({gain:+.4f})."]
    return "\n".join(lines) + "\n"
