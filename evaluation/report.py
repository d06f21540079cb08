"""The offline evaluation's report: a Markdown table for people, a bar chart, JSON for
machines. Pure formatting of an `EvaluationResult`; the numbers are computed elsewhere.

The plot is drawn on a bare matplotlib `Figure` with the Agg canvas, so no display and no
global pyplot state is involved (the command runs on servers and in tests).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from evaluation.recommendations import STRATEGY_LABELS, EvaluationResult
from ranking.metrics import N_USERS, SE_SUFFIX
from ranking.split import COLD_START_BUCKETS

MISSING = "—"

BUCKET_TITLES = {
    "0": "0 interactions (new shoppers)",
    "1-2": "1–2 interactions",
    "3-5": "3–5 interactions",
    "6+": "6 or more interactions",
}

ROUTE_NAMES = {
    "popular": "popular",
    "content": "content",
    "content_knn": "content + similar shoppers",
    "hybrid": "hybrid",
    "session": "session",
}

MD_NAME = "evaluation.md"
PNG_NAME = "evaluation.png"
JSON_NAME = "evaluation.json"


def _metric_names(k: int) -> list[tuple[str, str]]:
    return [
        (f"precision@{k}", f"precision@{k}"),
        (f"recall@{k}", f"recall@{k}"),
        (f"ndcg@{k}", f"NDCG@{k}"),
        (f"map@{k}", f"MAP@{k}"),
        (f"hit_rate@{k}", f"hit rate@{k}"),
        ("coverage", "coverage"),
        ("ild", "ILD"),
        ("novelty", "novelty (bits)"),
    ]


def _number(value: float) -> str:
    return f"{value:.4f}" if abs(value) < 10 else f"{value:.2f}"


def _with_se(scores: dict[str, float], name: str) -> str:
    se = scores.get(name + SE_SUFFIX, math.nan)
    text = _number(scores[name])
    return f"{text} ± {se:.4f}" if math.isfinite(se) else text


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def strategy_table(summaries: Mapping[str, Mapping[str, float]], names: Sequence[str],
                   nothing: str) -> list[str]:
    """A table of one row per strategy, each metric its mean ± standard error (— where
    missing); `nothing` is the one row when no strategy scored anyone."""
    if not summaries or all(s.get(N_USERS, 0) == 0 for s in summaries.values()):
        return _table(["strategy", *names], [[nothing, *([""] * len(names))]])
    return _table(["strategy", *names],
                  [[strategy, *(_with_se(dict(summary), n) if n in summary else MISSING
                                for n in names)]
                   for strategy, summary in summaries.items()])


def markdown(result: EvaluationResult) -> str:
    """The report as Markdown: what was split and how relevance is judged, the overall
    table, then NDCG and recall per cold-start bucket."""
    info, opts = result.split, result.options
    k = opts.k
    lines = [f"# Offline evaluation ({info.kind} split)", ""]
    if info.kind == "test":
        period = (f"the last {info.test_days:g} days: trained on events before "
                  f"**{_when(info.cut)}** (the newest event, {_when(info.scored_until)}, "
                  f"minus {info.test_days:g} days), scored on the events at or after it.")
    else:
        period = (f"a **validation** period inside the training data: trained on events "
                  f"before **{_when(info.cut)}**, scored on those from then until the test "
                  f"cut {_when(info.scored_until)}; events of the test period were not read.")
    lines += [
        f"Split by time, {period}",
        "",
        f"- Events: {info.n_events:,} ({info.n_train_events:,} for training, "
        f"{info.n_scored_events:,} scored); {info.n_train_users:,} shoppers in training; "
        f"catalog of {result.catalog_size:,} products.",
        f"- Overall means the shoppers seen on both sides ({info.n_users_in_both:,}): some "
        "training event, and at least one product in the scored period that they had not "
        "touched in training. Shoppers seen only after the cut "
        f"({info.n_cold_test_users:,}) are scored in bucket 0 alone.",
        f"- At most {opts.max_users:,} shoppers per bucket (seeded sample, seed "
        f"{opts.seed}); buckets count training interactions.",
        f"- Relevance: graded NDCG@{k} uses the strongest event on each scored product "
        "(purchase 5, add_to_cart 3, click 2, view 1); precision, recall, MAP and hit rate "
        "count any interaction as relevant. Products the shopper touched in training are "
        "not counted.",
        f"- Every strategy but ALS alone ranks {k} products through the recommender the API "
        "serves, with the clock at the cut and products created after it left out. "
        "Popularity, content-only and CF-only are its single-signal baselines; hybrid is "
        "what the API answers (routed by the shopper's history). ALS alone is the ALS "
        "model with nothing around it, as a shop running the library by itself would show: "
        "trained on the same interactions with the same settings, the shopper's factors "
        "against every product's, what they touched left out. A strategy that returns "
        "nothing for a shopper scores 0 for them (`served` is the share it answered); ILD (mean "
        "pairwise cosine distance of the text embeddings) and novelty (mean −log2 of the "
        "training popularity) are over the lists shown; coverage is the share of the "
        "catalog shown to anyone.",
        "- Every recommender strategy's list passes the same business rules (MMR, at most "
        f"{result.max_per_category} per category and {result.max_per_brand} per brand) over "
        "its own candidates plus the same popular ones, which the caps can draw on; a "
        "baseline orders them by its one signal. The caps give way only when the "
        "candidates cannot fill the list otherwise; `within caps` is the share of lists "
        "that kept them.",
        "",
        "## Overall (shoppers seen in training and scored period)",
        "",
    ]
    names = _metric_names(k)
    header = ["strategy", *(label for _, label in names), "served", "within caps", "n users"]
    rows = []
    for strategy in result.strategies:
        scores = result.overall.get(strategy)
        label = STRATEGY_LABELS[strategy]
        if scores is None:
            rows.append([label, *([MISSING] * (len(names) + 3))])
            continue
        cells = [_with_se(scores, key) if key == f"ndcg@{k}" else _number(scores[key])
                 for key, _ in names]
        rows.append([label, *cells, f"{scores['served']:.0%}", f"{scores['within_caps']:.0%}",
                     f"{int(scores[N_USERS]):,}"])
    lines += _table(header, rows)
    lines += ["", "## By cold-start bucket", ""]
    for bucket in COLD_START_BUCKETS:
        population, scored = result.bucket_sizes[bucket]
        sampled = f", {scored:,} scored" if scored != population else ""
        lines += [f"### {BUCKET_TITLES[bucket]}: {population:,} shoppers{sampled}", ""]
        rows = []
        for strategy in result.strategies:
            scores = result.buckets[bucket].get(strategy)
            label = STRATEGY_LABELS[strategy]
            if scores is None:
                rows.append([label, MISSING, MISSING, MISSING, MISSING])
                continue
            rows.append([label, _with_se(scores, f"ndcg@{k}"), _number(scores[f"recall@{k}"]),
                         f"{scores['served']:.0%}", f"{int(scores[N_USERS]):,}"])
        lines += _table(["strategy", f"NDCG@{k}", f"recall@{k}", "served", "n users"], rows)
        routes = result.routes.get(bucket, {})
        total = sum(routes.values())
        if total:
            mix = ", ".join(f"{ROUTE_NAMES.get(r, r)} {n / total:.0%}"
                            for r, n in sorted(routes.items(), key=lambda kv: -kv[1]))
            lines += ["", f"Hybrid routes: {mix}."]
        lines.append("")
    lines.append(f"{MISSING}: the strategy cannot serve any shopper of the bucket "
                 "(no history to find similar products from, no CF vector).")
    return "\n".join(lines) + "\n"


def _when(moment: Any) -> str:
    return str(moment.strftime("%Y-%m-%d %H:%M:%S UTC"))


def write_plot(result: EvaluationResult, path: Path) -> None:
    """Grouped bars: NDCG@k overall and per cold-start bucket, one bar per strategy, with
    standard-error whiskers; a strategy that cannot serve a bucket has no bar there."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    k = result.options.k
    groups = ["overall", *COLD_START_BUCKETS]
    overall_n = next((int(s[N_USERS]) for s in result.overall.values() if s is not None), 0)
    titles = [f"overall\n({overall_n:,} shoppers)",
              *(f"{b} interactions\n({result.bucket_sizes[b][1]:,} shoppers)"
                for b in COLD_START_BUCKETS)]
    fig = Figure(figsize=(9.0, 4.8), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    width = 0.8 / len(result.strategies)
    for j, strategy in enumerate(result.strategies):
        xs, heights, errors = [], [], []
        for i, group in enumerate(groups):
            scores = (result.overall if group == "overall" else result.buckets[group]).get(
                strategy)
            x = i - 0.4 + width * (j + 0.5)
            if scores is None:
                ax.text(x, 0, "n/a", ha="center", va="bottom", fontsize=7, rotation=90,
                        color="0.4")
                continue
            se = scores.get(f"ndcg@{k}{SE_SUFFIX}", math.nan)
            xs.append(x)
            heights.append(scores[f"ndcg@{k}"])
            errors.append(se if math.isfinite(se) else 0.0)
        ax.bar(xs, heights, width, yerr=errors, capsize=2, label=STRATEGY_LABELS[strategy])
    ax.set_xticks(range(len(groups)), titles)
    ax.set_ylabel(f"NDCG@{k}")
    ax.set_title(f"NDCG@{k} by strategy ({result.split.kind} split, cut "
                 f"{result.split.cut:%Y-%m-%d})")
    ax.legend(frameon=False)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    fig.tight_layout()
    fig.savefig(path)


def to_json(result: EvaluationResult) -> dict[str, Any]:
    """The whole result as plain JSON values (NaN, e.g. the standard error of a single
    shopper, becomes null)."""
    info = asdict(result.split)
    info["cut"] = result.split.cut.isoformat()
    info["scored_until"] = result.split.scored_until.isoformat()
    body: dict[str, Any] = {
        "split": info,
        "options": asdict(result.options),
        "relevance": "graded NDCG: strongest test event per product (purchase 5, "
                     "add_to_cart 3, click 2, view 1); other metrics: any test interaction",
        "catalog_size": result.catalog_size,
        "caps": {"max_per_category": result.max_per_category,
                 "max_per_brand": result.max_per_brand},
        "strategies": {s: STRATEGY_LABELS[s] for s in result.strategies},
        "overall": result.overall,
        "buckets": result.buckets,
        "bucket_sizes": {b: {"shoppers": n, "scored": m}
                         for b, (n, m) in result.bucket_sizes.items()},
        "hybrid_routes": result.routes,
        "timings": result.timings,
    }
    finite: dict[str, Any] = _finite(body)
    return finite


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def write_reports(result: EvaluationResult, out_dir: Path, with_json: bool) -> list[Path]:
    """Write evaluation.md, evaluation.png and, when asked, evaluation.json into `out_dir`
    (created if needed); returns the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / MD_NAME, out_dir / PNG_NAME]
    written[0].write_text(markdown(result), encoding="utf-8")
    write_plot(result, written[1])
    if with_json:
        path = out_dir / JSON_NAME
        path.write_text(json.dumps(to_json(result), indent=2, sort_keys=False) + "\n",
                        encoding="utf-8")
        written.append(path)
    return written
