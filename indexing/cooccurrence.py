"""Products bought together: co-occurrence in baskets, computed in Postgres at reindex.

A basket is a session's add_to_cart and purchase events (or, for events without a
session, one user's on one day). Pairs are scored by cosine-normalised co-occurrence,
n(a, b) / sqrt(n(a) · n(b)), which, unlike raw counts, does not crown the best-sellers
as everyone's companion, and unlike lift, does not reward pairs seen once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import text

from models.db import Database
from models.settings import Settings

_PAIRS = text(
    """
    WITH baskets AS (
        SELECT DISTINCT
               COALESCE(session_id, user_id || '@' || to_char(occurred_at, 'YYYY-MM-DD'))
                   AS basket,
               product_id
        FROM events
        WHERE event_type IN ('add_to_cart', 'purchase')
          AND occurred_at <= CAST(:as_of AS timestamptz)
          AND (:window_days = 0
               OR occurred_at > CAST(:as_of AS timestamptz) - make_interval(days => :window_days))
          AND product_id <> ALL(CAST(:withheld AS text[]))
    ),
    item_counts AS (SELECT product_id, count(*) AS n FROM baskets GROUP BY product_id),
    pairs AS (
        SELECT a.product_id AS a, b.product_id AS b,
               count(*) / sqrt(max(ca.n) * max(cb.n)) AS score, count(*) AS support
        FROM baskets a
        JOIN baskets b ON a.basket = b.basket AND a.product_id <> b.product_id
        JOIN item_counts ca ON ca.product_id = a.product_id
        JOIN item_counts cb ON cb.product_id = b.product_id
        GROUP BY a.product_id, b.product_id
        HAVING count(*) >= :min_support
    )
    SELECT a, b, score, support FROM (
        SELECT a, b, score, support,
               row_number() OVER (PARTITION BY a ORDER BY score DESC, b) AS rank
        FROM pairs
    ) ranked
    WHERE rank <= :per_item
    """
)
# Grocery baskets of dozens of products make millions of pairs (5.9M for Ta-Feng's 90
# days): with Postgres's default 4 MB of work memory the aggregation spilled to disk for
# over ten minutes; with 256 MB it took 23 s (512 MB: 25 s). Only each product's best
# `per_item` pairs leave Postgres.
_WORK_MEM = "256MB"


def bought_together(
    database: Database, settings: Settings, as_of: datetime | None, per_item: int = 20,
    withheld: Sequence[str] = (),
) -> dict[str, list[tuple[str, float]]]:
    """For each product, its companions (best first, ties by id), at most `per_item`; the
    events of `withheld` products are left out."""
    if as_of is None:
        return {}
    with database.engine.begin() as conn:
        conn.execute(text(f"SET LOCAL work_mem = '{_WORK_MEM}'"))
        rows = conn.execute(_PAIRS, {
            "as_of": as_of.isoformat(),
            "window_days": settings.training.event_window_days,
            "min_support": settings.training.bought_together_min_support,
            "withheld": list(withheld),
            "per_item": per_item,
        }).all()
    companions: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for a, b, score, _support in rows:
        companions[str(a)].append((str(b), float(score)))
    return {
        pid: sorted(pairs, key=lambda p: (-p[1], p[0]))[:per_item]
        for pid, pairs in companions.items()
    }
