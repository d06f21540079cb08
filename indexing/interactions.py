"""Shoppers' events turned into the weighted, time-decayed user × item confidence matrix.

Window and decay are measured back from the "as of" time: the newest event in the data
unless a setting names one, never the wall clock, so imported history works as well as
live traffic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sqlalchemy import text

from indexing.decay import decay_factor
from indexing.event_weights import weight_case, weight_params
from models.db import Database
from models.settings import Settings


@dataclass(frozen=True)
class Interactions:
    """Confidences of `users[u]` for `items[i]` in `matrix[u, i]` (CSR, float32)."""

    users: list[str]
    items: list[str]
    matrix: sparse.csr_matrix
    as_of: datetime | None
    n_events: int

    @property
    def nnz(self) -> int:
        return int(self.matrix.nnz)


_AGGREGATE = text(
    f"""
    WITH bounds AS (
        SELECT COALESCE(CAST(:as_of AS timestamptz), max(occurred_at)) AS as_of FROM events
    )
    SELECT e.user_id, e.product_id,
           SUM({weight_case('e.event_type')}
               * {decay_factor(":decay", "EXTRACT(EPOCH FROM (b.as_of - e.occurred_at))")}
           ) AS confidence,
           count(*) AS n
    FROM events e
    CROSS JOIN bounds b
    JOIN products p ON p.product_id = e.product_id
    WHERE e.occurred_at <= b.as_of
      AND (:window_days = 0 OR e.occurred_at > b.as_of - make_interval(days => :window_days))
      AND e.product_id <> ALL(CAST(:withheld AS text[]))
    GROUP BY e.user_id, e.product_id
    """
)


def resolve_as_of(database: Database, settings: Settings) -> datetime | None:
    """The time window and decay are measured from: the setting, else the newest event."""
    if settings.training.as_of:
        return datetime.fromisoformat(settings.training.as_of)
    with database.engine.connect() as conn:
        value = conn.execute(text("SELECT max(occurred_at) FROM events")).scalar()
    return value if isinstance(value, datetime) else None


def load_interactions(
    database: Database, settings: Settings, as_of: datetime | None = None,
    withheld: Sequence[str] = (),
) -> Interactions:
    """Aggregate events per (user, product) in Postgres and build the sparse matrix; the
    events of `withheld` products are left out (an evaluation of cold items)."""
    weights = settings.training.event_weights()
    params = {
        "as_of": as_of.isoformat() if as_of else settings.training.as_of,
        **weight_params(weights),
        "decay": settings.training.decay_per_day,
        "window_days": settings.training.event_window_days,
        "withheld": list(withheld),
    }
    with database.engine.connect() as conn:
        rows = conn.execute(_AGGREGATE, params).all()
    if as_of is None:
        as_of = resolve_as_of(database, settings)
    if not rows:
        return Interactions([], [], sparse.csr_matrix((0, 0), dtype=np.float32), as_of, 0)
    user_ids = np.array([r[0] for r in rows], dtype=object)
    item_ids = np.array([r[1] for r in rows], dtype=object)
    confidence = np.array([float(r[2]) for r in rows], dtype=np.float32)
    n_events = int(sum(int(r[3]) for r in rows))
    return build_matrix(user_ids, item_ids, confidence, as_of, n_events)


def build_matrix(
    user_ids: npt.NDArray[np.object_],
    item_ids: npt.NDArray[np.object_],
    confidence: npt.NDArray[np.float32],
    as_of: datetime | None = None,
    n_events: int = 0,
) -> Interactions:
    """Index users and items (sorted, so the result is deterministic) and build CSR."""
    users, u_idx = np.unique(user_ids.astype(str), return_inverse=True)
    items, i_idx = np.unique(item_ids.astype(str), return_inverse=True)
    matrix = sparse.csr_matrix(
        (confidence.astype(np.float32), (u_idx, i_idx)),
        shape=(len(users), len(items)),
        dtype=np.float32,
    )
    matrix.sum_duplicates()
    return Interactions(list(users), list(items), matrix, as_of, n_events)
