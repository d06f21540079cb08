"""Bodies of `POST /v1/events`: what a shop sends and what it gets back.

The request Structs carry their structural constraints (types, lengths, ranges, the form
of a request id) as msgspec `Meta`, which both checks them and documents them in the
OpenAPI schema. What needs more than a constraint (no control characters, an event type in
any case, a date in the years the catalog accepts) is checked by the value parsers the CSV
import uses (data.parsers), so that an event is held to one set of rules however it
arrives.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from data.parsers import FIRST_YEAR, MAX_DWELL_MS, MAX_ID_LENGTH
from models.tables import EVENT_TYPES

MAX_DEVICE_TYPE_LENGTH = 32
MAX_EVENT_TYPE_LENGTH = 32
MAX_TIME_LENGTH = 64
REQUEST_ID_PATTERN = (
    "^([0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}"
    "-[0-9a-fA-F]{12})$"
)

_ID_RULE = f"at most {MAX_ID_LENGTH} characters, no control characters"

EventId = Annotated[str, Meta(
    min_length=1, max_length=MAX_ID_LENGTH,
    description=f"Idempotency key: an event_id already stored is not stored again; {_ID_RULE}.",
)]
UserId = Annotated[str, Meta(
    min_length=1, max_length=MAX_ID_LENGTH,
    description=f"Opaque, pseudonymised shopper id; {_ID_RULE}.",
)]
ProductId = Annotated[str, Meta(
    min_length=1, max_length=MAX_ID_LENGTH,
    description="A product of the catalog; an unknown one refuses the event.",
)]
EventType = Annotated[str, Meta(
    min_length=1, max_length=MAX_EVENT_TYPE_LENGTH,
    description=f"What the shopper did: one of {', '.join(EVENT_TYPES)} (any case).",
    extra_json_schema={"enum": list(EVENT_TYPES)},
)]
OccurredAt = Annotated[Annotated[str, Meta(max_length=MAX_TIME_LENGTH)] | None, Meta(
    description=(
        "ISO 8601 date-time; no zone means UTC; absent means the server's now. Not more than"
        " LODESTAR_EVENT_FUTURE_SKEW_SECONDS ahead of the server's clock, not before"
        f" {FIRST_YEAR}."
    ),
    extra_json_schema={"format": "date-time"},
)]
SessionId = Annotated[Annotated[str, Meta(max_length=MAX_ID_LENGTH)] | None, Meta(
    description=f"The shopper's session, if known; {_ID_RULE}.",
)]
DeviceType = Annotated[Annotated[str, Meta(max_length=MAX_DEVICE_TYPE_LENGTH)] | None, Meta(
    description="e.g. mobile, desktop, tablet; short text.",
)]
DwellMs = Annotated[Annotated[int, Meta(ge=0, le=MAX_DWELL_MS)] | None, Meta(
    description="Milliseconds the shopper spent on the page; a whole number.",
)]
RequestId = Annotated[Annotated[str, Meta(pattern=REQUEST_ID_PATTERN)] | None, Meta(
    description=(
        "The request_id of the list response the shopper acted on (32 hex digits, hyphens"
        " allowed); echoed back."
    ),
)]


class EventIn(msgspec.Struct, forbid_unknown_fields=True):
    """One shopper event. Unknown fields are refused, so that a misspelt one cannot vanish."""

    event_id: EventId
    user_id: UserId
    product_id: ProductId
    event_type: EventType
    occurred_at: OccurredAt = None
    session_id: SessionId = None
    device_type: DeviceType = None
    dwell_ms: DwellMs = None
    request_id: RequestId = None


class EventBatch(msgspec.Struct, forbid_unknown_fields=True):
    """Several events at once; each is accepted or refused on its own."""

    events: Annotated[list[EventIn], Meta(
        description="1 to LODESTAR_EVENTS_BATCH_MAX (1000) events, answered in this order.",
        extra_json_schema={"minItems": 1},
    )]


EVENT_FIELDS: tuple[str, ...] = EventIn.__struct_fields__

Status = Literal["accepted", "duplicate", "rejected"]


class EventStatus(msgspec.Struct, omit_defaults=True):
    """The answer to one event: 201 when stored now, 200 when its event_id was stored
    before (the stored event is kept)."""

    event_id: str
    status: Literal["accepted", "duplicate"]
    request_id: str | None = None


class EventError(msgspec.Struct):
    """Why one event of a batch was refused; `message` names the field at fault."""

    code: str
    message: str


class EventResult(msgspec.Struct, omit_defaults=True):
    """One event of a batch, at its position in the request."""

    index: int
    event_id: str | None
    status: Status
    error: EventError | None
    request_id: str | None = None


class BatchResult(msgspec.Struct):
    """The answer to a batch: counts, and one result per event in input order."""

    accepted: int
    duplicates: int
    rejected: int
    results: list[EventResult]
