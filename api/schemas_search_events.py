"""Bodies of `POST /v1/search/events`: search impressions and clicks.

As for `POST /v1/events`, the constraints are documentation only: the values are checked
by the same parsers, with the same wording. The answers are those of `POST /v1/events`
(`EventStatus`, `BatchResult`), so that a client learns one convention.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from api.schemas_events import (
    REQUEST_ID_PATTERN,
    EventId,
    OccurredAt,
    ProductId,
    SessionId,
)
from indexing.importer import MAX_ID_LENGTH
from models.tables import SEARCH_EVENT_TYPES

MAX_POSITION = 1000
MAX_QUERY_LENGTH = 200

SearchRequestId = Annotated[str, Meta(
    description=(
        "The request_id of the search response that showed the product (32 hex digits,"
        " hyphens allowed); stored, and echoed back."
    ),
    extra_json_schema={"pattern": REQUEST_ID_PATTERN},
)]
SearchEventType = Annotated[str, Meta(
    description="`impression`: the product was shown; `click`: the shopper opened it.",
    extra_json_schema={"enum": list(SEARCH_EVENT_TYPES)},
)]
Position = Annotated[int | None, Meta(
    description="The 0-based rank at which the response showed the product.",
    extra_json_schema={"minimum": 0, "maximum": MAX_POSITION},
)]
ShopperId = Annotated[str | None, Meta(
    description=f"Opaque, pseudonymised shopper id, if known; at most {MAX_ID_LENGTH}"
    " characters, no control characters.",
    extra_json_schema={"maxLength": MAX_ID_LENGTH},
)]
Query = Annotated[str | None, Meta(
    description="What the shopper typed, for analysis.",
    extra_json_schema={"maxLength": MAX_QUERY_LENGTH},
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
