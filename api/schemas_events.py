"""Bodies of `POST /v1/events`: what a shop sends and what it gets back.

The request Structs carry their constraints as documentation only (`extra_json_schema`):
the rules are enforced by the same value parsers the CSV import uses, so that an event is
held to one set of rules and one wording of refusals however it arrives.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from indexing.importer import FIRST_YEAR, MAX_DWELL_MS, MAX_ID_LENGTH
from models.tables import EVENT_TYPES

MAX_DEVICE_TYPE_LENGTH = 32
REQUEST_ID_PATTERN = (
    "^([0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}"
    "-[0-9a-fA-F]{12})$"
)

_ID = {"minLength": 1, "maxLength": MAX_ID_LENGTH}
_ID_RULE = f"at most {MAX_ID_LENGTH} characters, no control characters"

EventId = Annotated[str, Meta(
    description=f"Idempotency key: an event_id already stored is not stored again; {_ID_RULE}.",
    extra_json_schema=_ID,
)]
UserId = Annotated[str, Meta(
    description=f"Opaque, pseudonymised shopper id; {_ID_RULE}.", extra_json_schema=_ID
)]
ProductId = Annotated[str, Meta(
    description="A product of the catalog; an unknown one refuses the event.",
    extra_json_schema=_ID,
)]
EventType = Annotated[str, Meta(
    description="What the shopper did.", extra_json_schema={"enum": list(EVENT_TYPES)}
)]
OccurredAt = Annotated[str | None, Meta(
    description=(
        "ISO 8601 date-time; no zone means UTC; absent means the server's now. Not more than"
        " LODESTAR_EVENT_FUTURE_SKEW_SECONDS ahead of the server's clock, not before"
        f" {FIRST_YEAR}."
    ),
    extra_json_schema={"format": "date-time"},
)]
SessionId = Annotated[str | None, Meta(
    description=f"The shopper's session, if known; {_ID_RULE}.",
    extra_json_schema={"maxLength": MAX_ID_LENGTH},
)]
DeviceType = Annotated[str | None, Meta(
    description="e.g. mobile, desktop, tablet; short text.",
    extra_json_schema={"maxLength": MAX_DEVICE_TYPE_LENGTH},
)]
DwellMs = Annotated[int | None, Meta(
    description="Milliseconds the shopper spent on the page; a whole number.",
    extra_json_schema={"minimum": 0, "maximum": MAX_DWELL_MS},
)]
RequestId = Annotated[str | None, Meta(
    description=(
        "The request_id of the list response the shopper acted on (32 hex digits, hyphens"
        " allowed); echoed back."
    ),
    extra_json_schema={"pattern": REQUEST_ID_PATTERN},
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
