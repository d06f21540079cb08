"""Offline evaluation of cart complements on held-out baskets: leave one product out of a
basket of the test period, ask for the complements of the rest, and see whether the
product left out comes back.

Companions are computed in Postgres exactly as a reindex at the cut would compute them
(`indexing.cooccurrence.bought_together` as of the cut); a basket is what the reindex
calls one (a session's add_to_cart and purchase events, or one shopper's day). Strategies,
all from the same companions and the same products:

- **cart complements**: the service's scoring (`ranking.cart.complements`, with the
  popularity a reindex at the cut would store) without its content fill (text needs an
  index; the fill only adds where co-purchases run short);
- **bought together, last item**: the companions of the product added last, alone;
- **popular**: the most popular products at the cut (what trending would list).

Each basket of two or more products counts once, with one product left out at random
(seeded). The report counts the baskets whose product left out shares a subcategory with
the rest (a content fill would never offer it).
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text

from evaluation.buy_again import time_cut
from evaluation.recommendations import EvaluationOptions, as_datetime, load_events
from evaluation.report import strategy_table
from indexing.cooccurrence import bought_together
from indexing.popularity import popularity_by_device
from models.db import Database
from models.settings import Settings
from ranking.cart import complements
from ranking.metrics import ranking_metrics, summarise

K = 10
OURS = "cart complements"
LAST_ITEM = "bought together, last item"
POPULAR = "popular"

_BASKETS = text(
    """
    SELECT COALESCE(e.session_id, e.user_id || '@' || to_char(e.occurred_at, 'YYYY-MM-DD')),
           e.product_id, min(e.occurred_at)
    FROM events e JOIN products p USING (product_id)
    WHERE e.event_type IN ('add_to_cart', 'purchase')
      AND e.occurred_at > CAST(:start AS timestamptz)
      AND e.occurred_at <= CAST(:end AS timestamptz)
    GROUP BY 1, 2
    """
)


@dataclass(frozen=True)
class CartResult:
    cut: datetime
    n_baskets: int  # test-period baskets of two or more products, scored
    same_subcategory: int  # of them, left-out products sharing a subcategory with the rest
    summaries: dict[str, dict[str, float]]


def _baskets(database: Database, start: datetime, end: datetime) -> dict[str, list[str]]:
    """Basket -> its products in the order they were first added."""
    rows: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    with database.engine.connect() as conn:
        for basket, product, at in conn.execute(_BASKETS, {"start": start.isoformat(),
                                                           "end": end.isoformat()}):
            rows[str(basket)].append((at, str(product)))
    return {b: [p for _, p in sorted(items)] for b, items in rows.items()}


def evaluate_cart(database: Database, settings: Settings,
                  options: EvaluationOptions) -> CartResult:
    _, cut, end = time_cut(load_events(database), options)
    cut_at, end_at = as_datetime(cut), as_datetime(end)
    companions = bought_together(database, settings, cut_at)
    popularity = popularity_by_device(database, settings, cut_at).overall
    with database.engine.connect() as conn:
        subcategory_of = {str(p): str(s or c) for p, s, c in conn.execute(
            text("SELECT product_id, subcategory, category FROM products"))}
    tests = sorted((b, ps) for b, ps in _baskets(database, cut_at, end_at).items()
                   if len(ps) >= 2)
    rng = random.Random(options.seed)
    if len(tests) > options.max_users:
        tests = sorted(rng.sample(tests, options.max_users))
    everything = frozenset(subcategory_of)
    popular = sorted(popularity, key=lambda p: (-popularity[p], p))[:K + 50]
    rows: dict[str, list[dict[str, float]]] = {OURS: [], LAST_ITEM: [], POPULAR: []}
    same = 0
    for _, products in tests:
        held = rng.randrange(len(products))
        left_out = products[held]
        cart = [p for i, p in enumerate(products) if i != held]
        same += subcategory_of.get(left_out, "") in {subcategory_of.get(p, "") for p in cart}
        ours = complements({p: dict(companions.get(p, [])) for p in cart}, popularity,
                           frozenset(cart), everything, K)
        last = [p for p, _ in companions.get(cart[-1], []) if p not in cart][:K]
        lists = {OURS: [r.product_id for r in ours], LAST_ITEM: last,
                 POPULAR: [p for p in popular if p not in cart][:K]}
        for name, ids in lists.items():
            row = ranking_metrics(ids, {left_out}, K)
            row["empty"] = float(not ids)
            rows[name].append(row)
    return CartResult(cut_at, len(tests), same,
                      {name: summarise(r) for name, r in rows.items()})


def markdown(result: CartResult) -> str:
    names = [f"hit_rate@{K}", f"ndcg@{K}", f"mrr@{K}", "empty"]
    lines = [
        "## Cart complements",
        "",
        f"Baskets after {result.cut:%Y-%m-%d %H:%M} UTC with two or more products, one left "
        f"out at random: {result.n_baskets:,} baskets; in {result.same_subcategory:,} of "
        "them the product left out shares a subcategory with the rest. Companions and "
        "popularity as of the cut; no content fill.",
        "",
    ]
    lines += strategy_table(result.summaries, names,
                            "(no basket of two or more products in the test period)")
    return "\n".join(lines) + "\n"
