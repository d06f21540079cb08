"""Bodies of `POST /v1/search/events`: search impressions and clicks.

As for `POST /v1/events`, structural constraints are msgspec `Meta` and the values are
checked by the same parsers. The answers are those of `POST /v1/events`
(`EventStatus`, `BatchResult`), so that a client learns one convention.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from api.schemas.events import (
    MAX_EVENT_TYPE_LENGTH,
    REQUEST_ID_PATTERN,
    EventId,
    OccurredAt,
    ProductId,
    SessionId,
)
from data.parsers import MAX_ID_LENGTH
from models.tables import SEARCH_EVENT_TYPES

MAX_POSITION = 1000
MAX_QUERY_LENGTH = 200

SearchRequestId = Annotated[str, Meta(
    pattern=REQUEST_ID_PATTERN,
    description=(
        "The request_id of the search response that showed the product (32 hex digits,"
        " hyphens allowed); stored, and echoed back."
    ),
)]
SearchEventType = Annotated[str, Meta(
    min_length=1, max_length=MAX_EVENT_TYPE_LENGTH,
    description="`impression`: the product was shown; `click`: the shopper opened it.",
    extra_json_schema={"enum": list(SEARCH_EVENT_TYPES)},
)]
Position = Annotated[Annotated[int, Meta(ge=0, le=MAX_POSITION)] | None, Meta(
    description="The 0-based rank at which the response showed the product.",
)]
ShopperId = Annotated[Annotated[str, Meta(max_length=MAX_ID_LENGTH)] | None, Meta(
    description=f"Opaque, pseudonymised shopper id, if known; at most {MAX_ID_LENGTH}"
    " characters, no control characters.",
)]
# What the shopper typed may carry surrounding spaces, trimmed before its length counts.
Query = Annotated[Annotated[str, Meta(max_length=4 * MAX_QUERY_LENGTH)] | None, Meta(
    description=f"What the shopper typed, for analysis; at most {MAX_QUERY_LENGTH}"
    " characters once trimmed.",
)]


class SearchEventIn(msgspec.Struct, forbid_unknown_fields=True):
    """One search result shown or clicked. Unknown fields are refused."""

    event_id: EventId
    request_id: SearchRequestId
    event_type: SearchEventType
    product_id: ProductId
    position: Position = None
    user_id: ShopperId = None
    session_id: SessionId = None
    query: Query = None
    occurred_at: OccurredAt = None


class SearchEventBatch(msgspec.Struct, forbid_unknown_fields=True):
    """Several search events at once; each is accepted or refused on its own."""

    events: Annotated[list[SearchEventIn], Meta(
        description="1 to LODESTAR_EVENTS_BATCH_MAX (1000) events, answered in this order.",
        extra_json_schema={"minItems": 1},
    )]
