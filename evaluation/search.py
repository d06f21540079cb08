"""Search relevance, measured: `lodestar evaluate --search`.

Two sets of queries, both run through the same `Searcher` the API serves, over an index
trained on the events before the usual time cut (so that the shoppers' histories and CF
vectors are what they were before the period their purchases are taken from):

- graded: queries written from the catalog's own attributes (evaluation.search_queries:
  exact products, attributes, paraphrases, typos) with graded relevance: the product
  itself 3, same subcategory with the query's attributes 2, same category 1. Scored for
  the lexical retriever alone, the semantic retriever alone, the two fused, and the fused
  list reranked for a shopper drawn at random (to see what personalisation costs a
  query that has one right answer).
- future purchases: for shoppers who bought something after the cut, the name of the
  bought product's subcategory as the query ("running shoes"), and what they bought in
  that subcategory after the cut as the relevant items. Scored fused (as an anonymous
  shopper would see it) and fused + personal (with the history before the cut).

NDCG@k and MRR per query (MRR's relevant items: grade 2 or more; a purchase), averaged
with standard errors.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from evaluation.recommendations import (
    EvaluationOptions,
    EventLog,
    SplitInfo,
    choose_split,
    just_before,
    load_events,
    train_histories,
    train_index,
)
from evaluation.search_queries import CatalogEntry, load_catalog, search_cases
from indexing.encoder import Encoder
from indexing.onnx_encoder import load_query_encoder
from indexing.vectorstore.port import VectorStore
from models.db import Database
from models.settings import Settings
from ranking.history import ShopperHistory
from ranking.metrics import ndcg_at_k, reciprocal_rank, summarise
from retrieval.lexical import LexicalRetriever
from retrieval.search import (
    QueryEmbeddings,
    Searcher,
    SearchRequest,
    UnderstoodQuery,
    catalog_vocabulary,
    understand,
)

Progress = Callable[[str, int, int], None]
MD_NAME, JSON_NAME = "search.md", "search.json"

GRADED_MODES = ("lexical", "semantic", "fused", "personal")
MODE_LABELS = {"lexical": "lexical (Postgres FTS)", "semantic": "semantic (text vectors)",
               "fused": "fused (RRF)", "personal": "fused + personal"}
_RELEVANT_GRADE = 2.0  # MRR counts the first result of at least this grade


@dataclass(frozen=True)
class SearchEvalOptions:
    n_queries: int = 400
    max_users: int = 1_000  # shoppers in the future-purchase set
    test_days: float = 14.0
    seed: int = 0
    k: int = 10
    validation: bool = False  # score a period inside the training data (for tuning)
    # The most NDCG the personal rerank may cost on graded queries, stated in advance.
    margin: float = 0.02


@dataclass
class SearchEvalResult:
    split: SplitInfo
    options: SearchEvalOptions
    graded: dict[str, dict[str, float]]  # mode -> metric summary
    graded_by_kind: dict[str, dict[str, dict[str, float]]]  # kind -> mode -> summary
    purchases: dict[str, dict[str, float]]  # "fused" | "personal" -> summary
    n_cases: dict[str, int]
    query_encoder: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    def checks(self) -> dict[str, bool]:
        ndcg = {m: self.graded[m]["ndcg"] for m in GRADED_MODES}
        lift = self.purchases["personal"]["ndcg"] - self.purchases["fused"]["ndcg"]
        return {
            "fused beats lexical": ndcg["fused"] > ndcg["lexical"],
            "fused beats semantic": ndcg["fused"] > ndcg["semantic"],
            "personal lifts future purchases": lift > 0,
            f"personal costs graded NDCG at most {self.options.margin}":
                ndcg["fused"] - ndcg["personal"] <= self.options.margin,
        }


def _score(ids: Sequence[str], gains: Mapping[str, float], k: int,
           min_grade: float = _RELEVANT_GRADE) -> dict[str, float]:
    relevant = {p for p, g in gains.items() if g >= min_grade}
    return {"ndcg": ndcg_at_k(ids, gains, k), "mrr": reciprocal_rank(ids, relevant, k)}


def later_purchases(events: EventLog, cut: datetime, users: Sequence[str]
                    ) -> dict[str, list[str]]:
    """What each of these shoppers bought at or after the cut, in order, first time each.
    Products they had looked at before count: finding again what one considered is much
    of what shop search is for."""
    wanted = set(users)
    since = np.datetime64(cut.replace(tzinfo=None), "us")
    out: dict[str, list[str]] = {}
    rows = np.flatnonzero((events.types == "purchase") & (events.times >= since))
    for i in rows:
        user = str(events.users[i])
        if user in wanted:
            bought = out.setdefault(user, [])
            if str(events.items[i]) not in bought:
                bought.append(str(events.items[i]))
    return out


def purchase_cases(bought_by: Mapping[str, Sequence[str]], users: Sequence[str],
                   catalog: Mapping[str, CatalogEntry]) -> list[tuple[str, str, dict[str, float]]]:
    """(shopper, query, relevant products) for each shopper's first bought subcategory after
    the cut: the query is the subcategory's name, as a shopper looking for one types it."""
    out = []
    for user in users:
        bought = [p for p in bought_by.get(user, ()) if p in catalog]
        if not bought:
            continue
        sub = catalog[bought[0]].subcategory
        relevant = {p: 1.0 for p in bought if catalog[p].subcategory == sub}
        out.append((user, sub.lower(), relevant))
    return out


def evaluate_search(database: Database, store: VectorStore, settings: Settings,
                    encoder: Encoder | Callable[[], Encoder], options: SearchEvalOptions,
                    progress: Progress | None = None) -> SearchEvalResult:
    started = time.perf_counter()
    rng = np.random.default_rng(options.seed)
    events = load_events(database)
    events, split, info = choose_split(events, EvaluationOptions(
        test_days=options.test_days, validation=options.validation))
    entries = load_catalog(database)
    catalog = {e.product_id: e for e in entries}
    cases = search_cases(entries, options.n_queries, options.seed)
    vocabulary = catalog_vocabulary(database, settings)
    with_history = sorted(u for u in split.users_in_both if split.train_counts.get(u, 0) > 0)
    bought_by = later_purchases(events, info.cut, with_history)
    buyers = sorted(bought_by)
    if len(buyers) > options.max_users:
        buyers = sorted(rng.choice(buyers, size=options.max_users, replace=False).tolist())
    shoppers_for_cases = rng.choice(with_history, size=len(cases)).tolist() if with_history \
        else [None] * len(cases)
    purchases = purchase_cases(bought_by, buyers, catalog)
    wanted = sorted({u for u in shoppers_for_cases if u} | {u for u, _, _ in purchases})
    timings = {"load": round(time.perf_counter() - started, 3)}
    # Loaded once, here: the split was usable, and queries embed one at a time.
    text_encoder = encoder() if callable(encoder) else encoder

    with train_index(database, store, settings, text_encoder, info.cut, "searcheval",
                     progress) as (view, train_settings, seconds):
        timings["train"] = seconds
        histories = train_histories(events, split, wanted, just_before(info.cut),
                                    train_settings)
        query_encoder = load_query_encoder(settings, lambda: text_encoder)
        embed = QueryEmbeddings(lambda: query_encoder, capacity=len(cases) + len(purchases))
        searcher = Searcher(store, train_settings, view,
                            LexicalRetriever(database, train_settings), embed)
        stage = time.perf_counter()
        graded_rows: dict[str, list[dict[str, float]]] = {m: [] for m in GRADED_MODES}
        kind_rows: dict[str, dict[str, list[dict[str, float]]]] = {}
        for done, (case, shopper) in enumerate(zip(cases, shoppers_for_cases, strict=True), 1):
            query = understand(case.query, vocabulary, train_settings.search.max_query_chars)
            history = histories.get(shopper) if shopper else None
            for mode in GRADED_MODES:
                ids = _search(searcher, query, mode, options.k, history, info.cut.timestamp())
                row = _score(ids, case.gains, options.k)
                graded_rows[mode].append(row)
                kind_rows.setdefault(case.kind, {}).setdefault(mode, []).append(row)
            if progress and (done % 50 == 0 or done == len(cases)):
                progress("graded queries", done, len(cases))
        timings["graded"] = round(time.perf_counter() - stage, 3)

        stage = time.perf_counter()
        purchase_rows: dict[str, list[dict[str, float]]] = {"fused": [], "personal": []}
        for done, (user, text, relevant) in enumerate(purchases, 1):
            query = understand(text, vocabulary, train_settings.search.max_query_chars)
            for mode in ("fused", "personal"):
                ids = _search(searcher, query, mode, options.k, histories[user],
                              info.cut.timestamp())
                purchase_rows[mode].append(_score(ids, relevant, options.k, min_grade=1.0))
            if progress and (done % 50 == 0 or done == len(purchases)):
                progress("future purchases", done, len(purchases))
        timings["purchases"] = round(time.perf_counter() - stage, 3)

    timings["total"] = round(time.perf_counter() - started, 3)
    return SearchEvalResult(
        split=info,
        options=options,
        graded={m: summarise(rows) for m, rows in graded_rows.items()},
        graded_by_kind={kind: {m: summarise(rows) for m, rows in by_mode.items()}
                        for kind, by_mode in sorted(kind_rows.items())},
        purchases={m: summarise(rows) for m, rows in purchase_rows.items()},
        query_encoder=query_encoder.name,
        n_cases={"graded": len(cases), "purchases": len(purchases),
                 **{f"graded_{k}": len(v["fused"]) for k, v in kind_rows.items()}},
        timings=timings,
    )


def _search(searcher: Searcher, query: UnderstoodQuery, mode: str, k: int,
            history: ShopperHistory | None, now: float) -> list[str]:
    request = SearchRequest(terms=query.terms, text=query.text, limit=k, mode=mode, now=now)
    return searcher.search(request, history if mode == "personal" else None).product_ids


# --- report ----------------------------------------------------------------------------

def _cell(summary: Mapping[str, float], name: str) -> str:
    se = summary.get(f"{name}_se", float("nan"))
    return f"{summary[name]:.4f} ± {se:.4f}" if np.isfinite(se) else f"{summary[name]:.4f}"


def markdown(result: SearchEvalResult) -> str:
    o, info = result.options, result.split
    k = o.k
    lines = [
        "# Search relevance",
        "",
        f"{info.kind.capitalize()} cut {info.cut:%Y-%m-%d %H:%M} UTC; index trained on the "
        f"{info.n_train_events:,} events before it. {result.n_cases['graded']} graded queries "
        f"(seed {o.seed}), {result.n_cases['purchases']} future-purchase queries. "
        f"Queries embedded by {result.query_encoder}. "
        f"NDCG@{k}; MRR@{k} counts the first result of grade 2 or more (a purchase). "
        "± one standard error.",
        "",
        f"| strategy | graded NDCG@{k} | graded MRR | future purchases NDCG@{k} "
        f"| future purchases MRR |",
        "|---|---|---|---|---|",
    ]
    for mode in GRADED_MODES:
        g = result.graded[mode]
        p = result.purchases.get(mode)
        lines.append(f"| {MODE_LABELS[mode]} | {_cell(g, 'ndcg')} | {_cell(g, 'mrr')} | "
                     f"{_cell(p, 'ndcg') if p else '–'} | {_cell(p, 'mrr') if p else '–'} |")
    lines += ["", f"By kind of query (graded NDCG@{k}):", "",
              "| kind | queries | " + " | ".join(MODE_LABELS[m] for m in GRADED_MODES) + " |",
              "|---|---|" + "---|" * len(GRADED_MODES)]
    for kind, by_mode in result.graded_by_kind.items():
        n = result.n_cases.get(f"graded_{kind}", 0)
        lines.append(f"| {kind} | {n} | " + " | ".join(
            f"{by_mode[m]['ndcg']:.4f}" for m in GRADED_MODES) + " |")
    lines += ["", "Checks:", ""]
    lines += [f"- {'pass' if ok else 'FAIL'}: {name}" for name, ok in result.checks().items()]
    lift = result.purchases["personal"]["ndcg"] - result.purchases["fused"]["ndcg"]
    cost = result.graded["fused"]["ndcg"] - result.graded["personal"]["ndcg"]
    lines += ["", f"Personal rerank: future-purchase NDCG@{k} {lift:+.4f}; graded NDCG@{k} "
              f"{-cost:+.4f} (margin {o.margin})."]
    return "\n".join(lines) + "\n"


def write_reports(result: SearchEvalResult, out_dir: Path, with_json: bool = False
                  ) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    md = out_dir / MD_NAME
    md.write_text(markdown(result))
    written = [md]
    if with_json:
        path = out_dir / JSON_NAME
        body: dict[str, Any] = {
            "split": {**asdict(result.split), "cut": result.split.cut.isoformat(),
                      "scored_until": result.split.scored_until.isoformat()},
            "options": asdict(result.options), "graded": result.graded,
            "graded_by_kind": result.graded_by_kind, "purchases": result.purchases,
            "n_cases": result.n_cases, "query_encoder": result.query_encoder,
            "checks": result.checks(), "timings": result.timings,
        }
        path.write_text(json.dumps(body, indent=2, default=str))
        written.append(path)
    return written

