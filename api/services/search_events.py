"""Search impressions and clicks in: validated one by one, idempotent on `event_id`,
stored in one transaction, for learning click-through per query and position bias.

The rules are those of `POST /v1/events` (api.services.events), whose helpers this uses:
the same body (one event or `{"events": [...]}`, the same cap and 413), unknown fields
refused naming them, strict JSON types, the CSV import's parsers and wording for ids and
times, the future-skew rule, `unknown_product` for a product not in the catalog at the
time of posting, repeats settled the same way within a batch and against the table, one
transaction per request, 503 `unavailable` with nothing written when the database fails,
and the same answers. What differs is the event itself:

- `request_id` is required: the search response's, stored as 32 lower-case hex digits;
- `event_type` is `impression` or `click` (any case);
- `position` is the 0-based rank shown, 0 to 1000; `query` what the shopper typed, one
  line, at most 200 characters (surrounding spaces dropped, empty means absent);
- `user_id` and `session_id` are optional (empty means absent); no shopper is added to
  `users` and no price is kept: the log serves ranking, not recommendations.

The table has no foreign key to products, so the log outlives a deleted product.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, text

from api.schemas.search_events import MAX_QUERY_LENGTH, SearchEventIn
from api.services.events import (
    ACCEPTED,
    REJECTED,
    UNKNOWN_PRODUCT,
    EventRefused,
    Ingested,
    Outcome,
    against_stored,
    ingest_with,
    parse_request_id,
    settle_repeats,
    validate_timed,
)
from data.parsers import (
    parse_choice,
    parse_identifier,
    parse_optional_identifier,
    parse_optional_label,
    show,
)
from models.db import Database
from models.tables import SEARCH_EVENT_TYPES

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class NewSearchEvent:
    """A search event that passed validation, as it is stored. Every field compares: a
    repeat of an `event_id` within a request is a duplicate only when all are equal."""

    event_id: str
    request_id: str
    event_type: str
    product_id: str
    occurred_at: datetime
    position: int | None = None
    user_id: str | None = None
    session_id: str | None = None
    query: str | None = None


_COLUMNS = tuple(f.name for f in fields(NewSearchEvent))


def parse_search_event_type(value: str) -> str:
    """impression or click (any case)."""
    return parse_choice(value, SEARCH_EVENT_TYPES)


def parse_query(value: str) -> str | None:
    """What the shopper typed: one line, at most MAX_QUERY_LENGTH characters once trimmed;
    empty means absent."""
    query = parse_optional_label(value)
    if query is not None and len(query) > MAX_QUERY_LENGTH:
        raise ValueError(f"{show(query)} is longer than {MAX_QUERY_LENGTH} characters")
    return query


# Each field's parser; `occurred_at`'s depends on the request's clock and is added there.
_PARSERS: dict[str, Callable[[Any], Any]] = {
    "event_id": parse_identifier,
    "request_id": parse_request_id,
    "event_type": parse_search_event_type,
    "product_id": parse_identifier,
    "user_id": parse_optional_identifier,
    "session_id": parse_optional_identifier,
    "query": parse_query,
}


def validate_search_event(raw: Any, now: datetime, future_skew: timedelta) -> NewSearchEvent:
    """Check one search event as decoded from JSON and return it as stored.

    `now` (aware, UTC) stands in for a missing `occurred_at` and bounds how far ahead an
    event may lie. Raises EventRefused naming every field at fault, in field order. Pure:
    the catalog check happens when storing.
    """
    return NewSearchEvent(**validate_timed(raw, SearchEventIn, _PARSERS, now, future_skew))


# --- storing ---------------------------------------------------------------------------------

_KNOWN_PRODUCTS = text(
    "SELECT product_id FROM products WHERE product_id = ANY(CAST(:ids AS text[]))"
)

# As for events: one statement, rows in key order so that overlapping requests lock in the
# same order; RETURNING names the rows written, the others were stored already.
_INSERT = text("""
    INSERT INTO search_events (event_id, request_id, event_type, product_id, occurred_at,
                               position, user_id, session_id, query)
    SELECT * FROM unnest(
        CAST(:event_id AS text[]), CAST(:request_id AS text[]), CAST(:event_type AS text[]),
        CAST(:product_id AS text[]), CAST(:occurred_at AS timestamptz[]),
        CAST(:position AS integer[]), CAST(:user_id AS text[]), CAST(:session_id AS text[]),
        CAST(:query AS text[])
    ) AS e(event_id, request_id, event_type, product_id, occurred_at, position, user_id,
           session_id, query)
    ORDER BY e.event_id COLLATE "C"
    ON CONFLICT (shop_id, event_id) DO NOTHING
    RETURNING event_id""")


_STORED = text(f"""
    SELECT {", ".join(_COLUMNS)} FROM search_events
    WHERE event_id = ANY(CAST(:ids AS text[]))""")


def _store(
    conn: Connection, valid: Sequence[tuple[int, NewSearchEvent]], outcomes: list[Outcome | None]
) -> list[NewSearchEvent]:
    """Check the catalog, settle repeats and write, inside the caller's transaction; fills
    `outcomes` for every event in `valid`; returns the events stored."""
    product_ids = sorted({event.product_id for _, event in valid})
    catalog = set(conn.execute(_KNOWN_PRODUCTS, {"ids": product_ids}).scalars())
    known: list[tuple[int, NewSearchEvent]] = []
    for index, event in valid:
        if event.product_id in catalog:
            known.append((index, event))
            continue
        refused = EventRefused.one(
            UNKNOWN_PRODUCT, "product_id", f"{show(event.product_id)} is not in the catalog"
        )
        outcomes[index] = Outcome(index, event.event_id, REJECTED, refused, event.request_id)
    kept, repeats = settle_repeats(known)
    for outcome in repeats:
        outcomes[outcome.index] = outcome
    if not kept:
        return []
    columns = {name: [getattr(event, name) for _, event in kept] for name in _COLUMNS}
    written = set(conn.execute(_INSERT, columns).scalars())
    before = {row.event_id: NewSearchEvent(**row._mapping) for row in conn.execute(
        _STORED, {"ids": [e.event_id for _, e in kept if e.event_id not in written]})}
    for index, event in kept:
        if event.event_id in written:
            outcomes[index] = Outcome(index, event.event_id, ACCEPTED, None, event.request_id)
        else:
            outcomes[index] = against_stored(index, event, before.get(event.event_id))
    return [event for _, event in kept if event.event_id in written]


def ingest(
    database: Database, items: Sequence[Any], *, now: datetime, future_skew: timedelta
) -> Ingested[NewSearchEvent]:
    """Validate each search event, then store the valid ones in one transaction.

    Returns an outcome per event in input order and the events stored. Raises
    StoreUnavailable when the database fails; then nothing of the request was written.
    """
    return ingest_with(database, items,
                       lambda raw: validate_search_event(raw, now, future_skew),
                       _store, "search event")
