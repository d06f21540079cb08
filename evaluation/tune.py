"""`lodestar tune`: search the recommender's settings on the shop's own data, never on its
test window.

The validation split of `lodestar evaluate --validation` is used: the test period (the
last `test_days`) is dropped first, and the period before it is scored. The search has
two phases, both scored with NDCG@10 on what each sampled shopper went on to do:

1. **ALS** (factors, regularisation, α, iterations). Each trial trains ALS with the same
   interactions a reindex would aggregate (event weights, decay, window), as of the
   validation cut, and scores the ALS ranking itself (the shopper's trained vector against
   every item, what the shopper touched before the cut left out): the signal the hybrid's
   CF retriever carries. Trials are a seeded random sample of a fixed grid; the first is
   the settings passed in (the command passes what the shop runs now: its earlier winner
   if it was tuned), so the winner is never worse on this window than those.
2. **Blend** (the hybrid's CF weight α range, popularity, content and co-purchase
   weights). One index is built as of the validation cut with the winning ALS settings,
   and each trial asks the same `Recommender` the API serves for every sampled shopper's
   list with the candidate weights. The search moves one weight at a time around the
   best blend so far, the weights in a seeded order, starting from the current blend. A
   candidate replaces the best only when it beats it by more than one standard error of
   the paired per-shopper difference: a validation window of a few thousand shoppers is
   noisy, and a blend that wins by noise would not win on the next weeks.

Both phases are bounded by a trial count and one time budget: ALS trials stop starting
once half of it is spent (all of it when no blend is searched), blend trials once all of
it is; the first trial of each phase always runs. A phase that runs out keeps its best so
far.
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
    EventLog,
    Progress,
    as_datetime,
    choose_split,
    just_before,
    load_events,
    train_histories,
    train_index,
)
from indexing.als import train_als
from indexing.encoder import Encoder
from indexing.interactions import load_interactions
from indexing.vectorstore.port import Filter, Range, VectorStore
from models.db import Database
from models.settings import Settings
from ranking.metrics import ranking_metrics, summarise
from ranking.plain_als import top_k
from ranking.split import Split
from retrieval.recommender import Recommender, RecRequest

K = 10
NDCG = f"ndcg@{K}"

ALS_SPACE: dict[str, tuple[Any, ...]] = {
    "als_factors": (32, 64, 128),
    "als_regularization": (0.01, 0.05, 0.1, 0.5, 1.0),
    "als_alpha": (1.0, 5.0, 10.0, 20.0, 40.0, 80.0),
    "als_iterations": (10, 15, 20, 30),
}
"""The grid the ALS phase samples: ALS's size, L2 penalty, confidence scale and passes."""

BLEND_SPACE: dict[str, tuple[float, ...]] = {
    "rec_popularity_weight": (0.0, 0.1, 0.25, 0.5, 1.0, 2.0),
    "rec_alpha_max": (0.5, 0.7, 0.9, 1.0),
    "rec_alpha_min": (0.1, 0.3, 0.5),
    "rec_content_weight": (0.2, 0.6, 1.0),
    "rec_copurchase_weight": (0.0, 0.2, 0.5),
}
"""The values the blend phase tries for each weight: how far the hybrid trusts CF as history
grows (α from its minimum to its maximum), and the popularity, content and co-purchase
weights beside it. The live session's weights are left alone: an offline split has no
sessions to learn them from."""

TUNED_NAMES = frozenset(ALS_SPACE) | frozenset(BLEND_SPACE)
"""Every setting `lodestar tune` may store for a shop."""


@dataclass(frozen=True)
class TuneOptions:
    test_days: float = 14.0
    trials: int = 12
    blend_trials: int = 12
    budget_seconds: float = 600.0
    max_users: int = 2000
    seed: int = 0

    def __post_init__(self) -> None:
        if self.trials < 1:
            raise ValueError("--trials must be at least 1")
        if self.blend_trials < 0:
            raise ValueError("--blend-trials must not be negative (0 searches ALS alone)")
        if self.budget_seconds <= 0:
            raise ValueError("--budget-seconds must be positive")
        if self.max_users < 1:
            raise ValueError("--max-users must be at least 1")


@dataclass(frozen=True)
class Trial:
    values: dict[str, Any]
    scores: dict[str, float]
    seconds: float
    kept: bool = False  # blend phase: whether it became the best so far


@dataclass(frozen=True)
class BlendSearch:
    """The blend phase: its trials in the order run (the first is the current blend)."""

    trials: list[Trial]
    stopped_by: str
    build_seconds: float

    @property
    def best(self) -> Trial:
        kept = [t for t in self.trials if t.kept]
        return kept[-1] if kept else self.trials[0]

    @property
    def current(self) -> Trial:
        return self.trials[0]


@dataclass(frozen=True)
class TuneResult:
    cut: str
    scored_until: str
    n_users: int
    trials: list[Trial] = field(default_factory=list)
    stopped_by: str = "trials"
    blend: BlendSearch | None = None
    blend_skipped: str | None = None  # why no blend was searched, when none was

    @property
    def best(self) -> Trial:
        """The best ALS trial; the first of equals, so the current settings keep a tie."""
        return max(self.trials, key=lambda t: t.scores[NDCG])

    @property
    def current(self) -> Trial:
        return self.trials[0]

    @property
    def winner(self) -> dict[str, Any]:
        """Every value to store for the shop: the best ALS settings and the best blend."""
        blend = self.blend.best.values if self.blend is not None else {}
        return {**self.best.values, **blend}


def candidates(current: Mapping[str, Any], seed: int) -> list[dict[str, Any]]:
    """The ALS phase's plan: the current settings first, then every other point of the
    grid in a seeded order."""
    first = {name: current[name] for name in ALS_SPACE}
    grid = [dict(zip(ALS_SPACE, point, strict=True))
            for point in itertools.product(*ALS_SPACE.values())]
    random.Random(seed).shuffle(grid)
    return [first, *(g for g in grid if g != first)]


def blend_steps(best: Mapping[str, float], names: Sequence[str],
                tried: set[tuple[tuple[str, float], ...]]) -> list[dict[str, float]]:
    """The coordinate search's next candidates: for each weight in `names`, each of its
    values with the others at `best`; leaves out `best` itself, what was tried (and marks
    the rest tried) and α ranges that run backwards."""
    out = []
    for name in names:
        for value in BLEND_SPACE[name]:
            candidate = {**best, name: value}
            key = _key(candidate)
            if (candidate == best or key in tried
                    or candidate["rec_alpha_min"] > candidate["rec_alpha_max"]):
                continue
            tried.add(key)
            out.append(candidate)
    return out


def _key(values: Mapping[str, float]) -> tuple[tuple[str, float], ...]:
    return tuple(sorted((k, float(v)) for k, v in values.items()))


def beats(candidate: Sequence[float], best: Sequence[float]) -> bool:
    """Whether per-shopper scores `candidate` beat `best` (the same shoppers, in order) by
    more than one standard error of the paired difference."""
    diff = np.asarray(candidate, dtype=np.float64) - np.asarray(best, dtype=np.float64)
    if len(diff) < 2:
        return bool(diff.sum() > 0)
    se = float(diff.std(ddof=1) / np.sqrt(len(diff)))
    return float(diff.mean()) > se


def _score_als(factors_users: np.ndarray, factors_items: np.ndarray, rows: Sequence[int],
               seen: Sequence[set[int]], gains: Sequence[Mapping[int, float]]) -> dict[str, float]:
    per_user = []
    for row, touched, relevant in zip(rows, seen, gains, strict=True):
        top = top_k(factors_users[row], factors_items, touched, K)
        per_user.append(ranking_metrics([str(i) for i in top],
                                        {str(i): g for i, g in relevant.items()}, K))
    return summarise(per_user)


def tune(
    database: Database,
    settings: Settings,
    options: TuneOptions,
    store: VectorStore | None = None,
    encoder: Encoder | Callable[[], Encoder] | None = None,
    progress: Progress | None = None,
    on_trial: Callable[[str, int, int, Trial], None] | None = None,
) -> TuneResult:
    """Search ALS on the validation window, then (with a vector store and an encoder, and
    `blend_trials` above 0) the blend over an index built with the winning ALS settings.

    `encoder` may be a function that loads it, called only when the blend phase runs.
    `progress(stage, done, total)` follows the stages; `on_trial(phase, n, planned, trial)`
    hears of each trial as it ends.
    """
    started = time.perf_counter()
    events, split, info = choose_split(load_events(database), EvaluationOptions(
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

    searching_blend = options.blend_trials > 0 and store is not None and encoder is not None
    als_budget = options.budget_seconds / 2 if searching_blend else options.budget_seconds
    current = {name: getattr(settings.training, name) for name in ALS_SPACE}
    plan = candidates(current, options.seed)[:options.trials]
    trials: list[Trial] = []
    stopped_by = "trials"
    for n, values in enumerate(plan):
        if trials and time.perf_counter() - started > als_budget:
            stopped_by = "budget"
            break
        if progress is not None:
            progress("als trials", n, len(plan))
        t = time.perf_counter()
        factors = train_als(matrix, settings.replace(**values))
        trial = Trial(values, _score_als(factors.users, factors.items, rows, seen, gains),
                      round(time.perf_counter() - t, 2))
        trials.append(trial)
        if on_trial is not None:
            on_trial("als", n + 1, len(plan), trial)
    if progress is not None:
        progress("als trials", len(trials), len(plan))
    result = TuneResult(cut=info.cut.isoformat(), scored_until=info.scored_until.isoformat(),
                        n_users=len(users), trials=trials, stopped_by=stopped_by)

    if options.blend_trials == 0:
        return _with(result, blend_skipped="not asked for")
    if store is None or encoder is None:
        return _with(result, blend_skipped="no vector store and encoder to build an index with")
    if time.perf_counter() - started > options.budget_seconds:
        return _with(result, blend_skipped="the budget was spent on ALS")
    blend = _search_blend(database, store, settings.replace(**result.best.values), encoder,
                          events, split, info.cut, users, options, started, progress,
                          on_trial)
    return _with(result, blend=blend)


def _with(result: TuneResult, **changes: Any) -> TuneResult:
    return TuneResult(**{**result.__dict__, **changes})


def _search_blend(
    database: Database,
    store: VectorStore,
    settings: Settings,
    encoder: Encoder | Callable[[], Encoder],
    events: EventLog,
    split: Split,
    cut: Any,
    users: Sequence[str],
    options: TuneOptions,
    started: float,
    progress: Progress | None,
    on_trial: Callable[[str, int, int, Trial], None] | None,
) -> BlendSearch:
    """The coordinate search over the blend weights, over one index built as of the cut."""
    now = cut.timestamp()
    catalog_then = Filter(ranges={"created_at": Range(lte=now)})
    current = {name: float(getattr(settings.rec, name.removeprefix("rec_")))
               for name in BLEND_SPACE}
    order = list(BLEND_SPACE)
    random.Random(options.seed).shuffle(order)
    trials: list[Trial] = []
    per_user: list[list[float]] = []
    best_at = 0
    stopped_by = "trials"
    with train_index(database, store, settings, encoder, cut, "tune",
                     progress) as (view, train_settings, build_seconds):
        histories = train_histories(events, split, users, just_before(cut), train_settings)
        tried = {_key(current)}
        pending = [current]
        coordinate = idle = 0
        while len(trials) < options.blend_trials:
            if not pending:
                if idle == len(order):
                    stopped_by = "converged"
                    break
                # The next weight's values around the best so far (a value kept on the
                # way changes only that weight, so the rest of its values stay valid).
                name = order[coordinate % len(order)]
                coordinate += 1
                pending = blend_steps(trials[best_at].values, [name], tried)
                idle = 0 if pending else idle + 1
                continue
            if trials and time.perf_counter() - started > options.budget_seconds:
                stopped_by = "budget"
                break
            values = pending.pop(0)
            if progress is not None:
                progress("blend trials", len(trials), options.blend_trials)
            t = time.perf_counter()
            recommender = Recommender(store, train_settings.replace(**values), view)
            rows = []
            for user in users:
                listed = recommender.recommend(histories[user], RecRequest(
                    limit=K, filter=catalog_then, now=now)).product_ids[:K]
                rows.append(ranking_metrics(listed, split.test_gains[user], K))
            ndcg = [row[NDCG] for row in rows]
            kept = not trials or beats(ndcg, per_user[best_at])
            trial = Trial(values, summarise(rows), round(time.perf_counter() - t, 2), kept)
            if kept:
                best_at = len(trials)
            trials.append(trial)
            per_user.append(ndcg)
            if on_trial is not None:
                on_trial("blend", len(trials), options.blend_trials, trial)
        if progress is not None:
            progress("blend trials", len(trials), options.blend_trials)
    return BlendSearch(trials=trials, stopped_by=stopped_by, build_seconds=build_seconds)


def report(result: TuneResult) -> dict[str, Any]:
    """What is stored beside the winner: the window, and every trial's settings and score."""

    def rows(trials: Sequence[Trial]) -> list[dict[str, Any]]:
        return [{"settings": t.values, NDCG: t.scores[NDCG],
                 f"recall@{K}": t.scores[f"recall@{K}"], "seconds": t.seconds,
                 **({"kept": t.kept} if t.kept else {})} for t in trials]

    out: dict[str, Any] = {"cut": result.cut, "scored_until": result.scored_until,
                           "n_users": result.n_users, "stopped_by": result.stopped_by,
                           "trials": rows(result.trials)}
    if result.blend is not None:
        out["blend"] = {"stopped_by": result.blend.stopped_by,
                        "build_seconds": result.blend.build_seconds,
                        "trials": rows(result.blend.trials)}
    else:
        out["blend"] = {"skipped": result.blend_skipped}
    return out


def _ndcg(trial: Trial) -> str:
    se = trial.scores.get(f"{NDCG}_se", float("nan"))
    return f"{trial.scores[NDCG]:.4f}" + (f" ± {se:.4f}" if np.isfinite(se) else "")


def markdown(result: TuneResult) -> str:
    best, now = result.best, result.current
    lines = [
        "## Tuning ALS on the validation window",
        "",
        f"Trained on events before {result.cut}, scored on {result.n_users:,} shoppers' "
        f"events up to {result.scored_until} (the test period after it is never read). "
        f"{len(result.trials)} trials (stopped by {result.stopped_by}); the first is the "
        "current settings. NDCG@10 of ALS's own ranking.",
        "",
        "| # | factors | regularization | alpha | iterations | NDCG@10 | recall@10 | s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for i, t in enumerate(result.trials, 1):
        v = t.values
        mark = " **best**" if t is best else ""
        lines.append(
            f"| {i}{mark} | {v['als_factors']} | {v['als_regularization']} | {v['als_alpha']} "
            f"| {v['als_iterations']} | {t.scores[NDCG]:.4f} "
            f"| {t.scores[f'recall@{K}']:.4f} | {t.seconds:.1f} |")
    gain = best.scores[NDCG] - now.scores[NDCG]
    lines += ["", f"Best NDCG@10 {best.scores[NDCG]:.4f} against "
              f"{now.scores[NDCG]:.4f} for the current settings ({gain:+.4f})."]
    lines += ["", "## Tuning the hybrid's blend", ""]
    blend = result.blend
    if blend is None:
        lines.append(f"Not searched: {result.blend_skipped}.")
        return "\n".join(lines) + "\n"
    names = list(BLEND_SPACE)
    lines += [
        "An index built as of the same cut with the best ALS settings "
        f"({blend.build_seconds:.0f} s); each trial is the hybrid's NDCG@10 over the same "
        "shoppers, one weight moved at a time from the best so far. A trial is kept when "
        "it beats the best so far by more than one standard error of the paired "
        f"difference. {len(blend.trials)} trials "
        f"(stopped by {blend.stopped_by}); the first is the current blend.",
        "",
        "| # | " + " | ".join(n.removeprefix("rec_") for n in names)
        + " | NDCG@10 | recall@10 | kept | s |",
        "|---:|" + "---:|" * (len(names) + 4),
    ]
    top = blend.best
    for i, t in enumerate(blend.trials, 1):
        mark = " **best**" if t is top else ""
        lines.append(f"| {i}{mark} | " + " | ".join(f"{t.values[n]:g}" for n in names)
                     + f" | {_ndcg(t)} | {t.scores[f'recall@{K}']:.4f} "
                     f"| {'yes' if t.kept else ''} | {t.seconds:.1f} |")
    gain = top.scores[NDCG] - blend.current.scores[NDCG]
    lines += ["", f"Best hybrid NDCG@10 {top.scores[NDCG]:.4f} against "
              f"{blend.current.scores[NDCG]:.4f} for the current blend ({gain:+.4f})."]
    return "\n".join(lines) + "\n"
