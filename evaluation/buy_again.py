"""Offline evaluation of buy it again: on a time split, does the list made at the cut name
what the shopper bought again in the test period?

What is learnt (each product's repurchase rate and interval) comes from purchases before
the cut only, as a reindex at the cut would learn it; each shopper's list is made at the
cut from their purchases before it, by `ranking.buy_again` (the service's own scoring)
and by the frequency-recency baseline. A shopper is scored when they bought again in the
test period something they had bought before the cut; the relevant items are those
repurchases. Metrics at k: precision, recall, NDCG, hit rate, and the share of shoppers
whose list is empty.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import text

from evaluation.recommendations import (
    EvaluationOptions,
    EventLog,
    NotEnoughEvents,
    as_datetime,
    epoch,
    load_events,
)
from evaluation.report import strategy_table
from indexing.repurchase import buy_again_settings
from models.db import Database
from models.settings import Settings
from ranking.buy_again import (
    PastPurchases,
    buy_again,
    distinct_days,
    frequency_recency,
    repurchase_stats,
)
from ranking.metrics import ranking_metrics, summarise

K = 10
OURS = "buy again (intervals)"
BASELINE = "frequency × recency"


@dataclass(frozen=True)
class BuyAgainResult:
    cut: datetime
    scored_until: datetime
    n_shoppers_with_purchases: int  # before the cut
    n_scored: int  # of them, those who bought something again in the test period
    n_products_learnt: int
    summaries: dict[str, dict[str, float]]  # strategy -> metric -> mean (and _se)


def _categories(database: Database) -> dict[str, str]:
    with database.engine.connect() as conn:
        return {str(p): str(c) for p, c in conn.execute(
            text("SELECT product_id, category FROM products"))}


def _purchases(events: EventLog, mask: np.ndarray) -> dict[str, dict[str, list[float]]]:
    out: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for user, item, at in zip(events.users[mask], events.items[mask], events.times[mask],
                              strict=True):
        out[str(user)][str(item)].append(epoch(at))
    return out


def time_cut(events: EventLog, options: EvaluationOptions) -> tuple[EventLog, np.datetime64,
                                                                np.datetime64]:
    """The events the split is over, its cut and the end of the scored period: the newest
    event minus `test_days` (a validation split first drops the test period, then cuts as
    much earlier again), as the recommendations' evaluation cuts."""
    if len(events) == 0:
        raise NotEnoughEvents("no events to evaluate on: import or generate some first")
    span = np.timedelta64(round(options.test_days * 86_400_000_000), "us")
    end = events.times.max()
    if options.validation:
        events = events.subset(events.times < end - span)
        if len(events) == 0:
            raise NotEnoughEvents("too few events for a validation split; shorten --test-days")
        end = end - span
    return events, end - span, end


def evaluate_buy_again(database: Database, settings: Settings,
                       options: EvaluationOptions) -> BuyAgainResult:
    events, cut, end = time_cut(load_events(database), options)
    horizon = settings.rec.buy_again_history_days
    since = cut - np.timedelta64(horizon, "D") if horizon else events.times.min()
    bought = events.types == "purchase"
    before = _purchases(events, bought & (events.times < cut) & (events.times >= since))
    after = _purchases(events, bought & (events.times >= cut))
    returned = _purchases(events, (events.types == "return") & (events.times < cut))
    categories = _categories(database)
    stats = repurchase_stats(
        ((u, p, categories.get(p, ""), times) for u, items in before.items()
         for p, times in items.items()),
        buy_again_settings(settings))
    now = epoch(cut)
    rng = np.random.default_rng(options.seed)
    scored_users = sorted(u for u in after if u in before and set(after[u]) & set(before[u]))
    if len(scored_users) > options.max_users:
        scored_users = sorted(rng.choice(scored_users, options.max_users, replace=False))
    rows: dict[str, list[dict[str, float]]] = {OURS: [], BASELINE: []}
    # "Needed now" means, here, bought again within the scored period.
    tuning = dataclasses.replace(buy_again_settings(settings), horizon_days=options.test_days)
    for user in scored_users:
        past = []
        for product, times in before[user].items():
            days = distinct_days(times)
            last_return = max(returned.get(user, {}).get(product, []), default=None)
            past.append(PastPurchases(product, days,
                                      last_return is not None and last_return >= days[-1]))
        relevant = set(after[user]) & set(before[user])
        for name, ranked in ((OURS, buy_again(past, stats, now, K, tuning)),
                             (BASELINE, frequency_recency(past, now, K))):
            ids = [r.product_id for r in ranked]
            row = ranking_metrics(ids, relevant, K)
            row["empty"] = float(not ids)
            rows[name].append(row)
    return BuyAgainResult(
        cut=as_datetime(cut), scored_until=as_datetime(end),
        n_shoppers_with_purchases=len(before), n_scored=len(scored_users),
        n_products_learnt=len(stats),
        summaries={name: summarise(r) for name, r in rows.items()})


def markdown(result: BuyAgainResult) -> str:
    names = [f"precision@{K}", f"recall@{K}", f"ndcg@{K}", f"hit_rate@{K}", "empty"]
    lines = [
        "## Buy it again",
        "",
        f"Lists made at {result.cut:%Y-%m-%d %H:%M} UTC from purchases before it; scored on "
        f"what each shopper bought again up to {result.scored_until:%Y-%m-%d %H:%M}. "
        f"{result.n_scored:,} shoppers bought again something they had bought before "
        f"(of {result.n_shoppers_with_purchases:,} with purchases before the cut); "
        f"repurchase rates and intervals learnt for {result.n_products_learnt:,} products. "
        "`empty`: share of those shoppers given no list.",
        "",
    ]
    lines += strategy_table(result.summaries, names,
                            "(no shopper bought anything again in the test period)")
    return "\n".join(lines) + "\n"

