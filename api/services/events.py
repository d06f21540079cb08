"""Shoppers' events in: validated one by one, idempotent on `event_id`, stored in one
transaction.

Rules, stated once (the README repeats them):

- A body is one event object, or `{"events": [...]}` with 1 to `events_batch_max` events.
  A body that is not JSON, not an object, or a batch whose `events` is not a non-empty
  array is refused as a whole (400); a batch over the cap is refused with 413.
- Fields are those of `EventIn`; any other field refuses the event, naming it, so that a
  misspelt optional field cannot vanish. Types and structural constraints are the
  Struct's msgspec `Meta` (lengths, ranges, the form of a request id), checked field by
  field so that every refusal names its field: `dwell_ms` is a JSON integer, ids and
  times are strings, `null` means absent for the optional fields.
- Values follow the CSV import's rules (the same parsers, data.parsers): ids non-empty, at most
  128 characters, no control characters, surrounding spaces dropped; `event_type` one of
  view, click, add_to_cart, purchase, return, dislike, hide (any case); `occurred_at` an
  ISO 8601 date or date-time, UTC when it has no zone, the server's now when absent, in
  the years 1990 to 2099 and not more than `event_future_skew_seconds` ahead of the server's clock;
  `dwell_ms` a whole number from 0 to 2147483647; `device_type` short text (at most 32
  characters); an empty `session_id` or `device_type` means absent. `request_id` is 32
  hex digits (a UUID, hyphens allowed) as list responses write it; it is checked, stored
  (experiments attribute the event to the list that showed the product) and echoed.
- The product must be in the catalog, else the event is refused with `unknown_product`:
  a live shop shows only catalog products, so an unknown id is a client bug. (The CSV
  import accepts such events because history may precede the catalog.) The catalog is
  asked once per request, for all the batch's products.
- An `event_id` already stored makes an identical event a `duplicate`; one that differs
  (another shopper, product, type, time...) is refused with `conflict` (409 alone), and
  the stored event is kept as it is. Within one batch the first occurrence of an
  `event_id` is processed; later ones are `duplicate` when they are identical and refused
  with `conflict` when they differ.
- Every event stored by one request is written in one transaction, with the product's
  catalog price, together with its shopper in `users` when new; a database failure
  writes nothing and answers 503 `unavailable`.
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, ClassVar, Generic, Literal, Protocol, TypeVar

import msgspec
from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

from api.errors import ApiError, BadParameter, DatabaseUnavailable
from api.schemas.events import (
    REQUEST_ID_PATTERN,
    BatchResult,
    EventError,
    EventIn,
    EventResult,
    EventStatus,
)
from data.parsers import (
    MAX_ID_LENGTH,
    parse_datetime,
    parse_event_type,
    parse_identifier,
    parse_optional_identifier,
    parse_optional_label,
    show,
)
from models.db import Database

log = logging.getLogger(__name__)

ACCEPTED: Literal["accepted"] = "accepted"
DUPLICATE: Literal["duplicate"] = "duplicate"
REJECTED: Literal["rejected"] = "rejected"

INVALID = "invalid_parameter"
UNKNOWN_PRODUCT = "unknown_product"
CONFLICT = "conflict"

_REQUEST_ID = re.compile(REQUEST_ID_PATTERN, re.ASCII)
_SHOWN_UNKNOWN = 5


# --- records -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event that passed validation, as it is stored.

    This plain record is what `ingest` hands back for the events it stored, so that work
    which follows storing (refreshing a shopper's vector, say) needs neither the request
    nor the database. Equality compares the stored fields only, which is what tells an
    identical repeat within a batch from a conflicting one.
    """

    event_id: str
    user_id: str
    product_id: str
    event_type: str
    occurred_at: datetime
    session_id: str | None = None
    device_type: str | None = None
    dwell_ms: int | None = None
    price: Decimal | None = field(default=None, compare=False)
    request_id: str | None = field(default=None, compare=False)


class Keyed(Protocol):
    """What `settle_repeats` needs of a stored record: a dataclass with an `event_id` and
    the `request_id` its answer echoes; the fields that compare tell repeats apart."""

    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]

    @property
    def event_id(self) -> str: ...

    @property
    def request_id(self) -> str | None: ...


E = TypeVar("E", bound=Keyed)


class EventRefused(ValueError):
    """An event is not stored: `code` says why, `problems` name each field at fault."""

    def __init__(self, code: str, problems: Sequence[tuple[str, str]]) -> None:
        self.code = code
        self.problems = list(problems)
        super().__init__("; ".join(f"{name}: {reason}" for name, reason in self.problems))

    @property
    def field(self) -> str:
        """The first field at fault: the one a single-event error names as its parameter."""
        return self.problems[0][0]

    @classmethod
    def one(cls, code: str, name: str, reason: str) -> EventRefused:
        return cls(code, [(name, reason)])


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one event of a request, at its position in the request."""

    index: int
    event_id: str | None
    status: Literal["accepted", "duplicate", "rejected"]
    error: EventRefused | None = None
    request_id: str | None = None


@dataclass(frozen=True)
class Ingested(Generic[E]):
    """The result of one request: an outcome per event in input order, and the events
    stored by it (with their catalog price) for whatever runs after storing."""

    outcomes: list[Outcome]
    stored: list[E]

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)


class StoreUnavailable(DatabaseUnavailable):
    def __init__(self) -> None:
        super().__init__("the database is unavailable; no event of this request was stored")


class TooManyEvents(ApiError):
    def __init__(self, count: int | None, cap: int, size: int = 0) -> None:
        got = f"got {count}" if count is not None else (
            f"got a body of {size:,} bytes, more than {cap} events can take")
        super().__init__(
            413, "payload_too_large",
            f"events: at most {cap} events per request (LODESTAR_EVENTS_BATCH_MAX), {got}",
            {"parameter": "events", "max": cap},
        )


MAX_EVENT_BYTES = 8_192
"""The most one event's JSON may take (every field at its longest, escaped): a body larger
than the batch cap times this is refused before it is decoded."""


# --- the body --------------------------------------------------------------------------------


def _kind(value: Any) -> str:
    """A JSON value's kind, as a message names it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def parse_body(body: bytes, batch_max: int) -> tuple[list[Any], bool]:
    """Split a request body into its events (still raw JSON values) and whether it was a
    batch. Raises BadParameter for a body that is malformed as a whole, TooManyEvents
    for a batch over the cap or a body larger than such a batch can be. Events themselves
    are checked later, one by one.

    Bounded before work: the body's size is checked first, then only its outline is
    decoded (the top-level keys, the array's elements as raw slices), so a batch over the
    cap is refused before any of its events is built."""
    if not body.strip():
        raise BadParameter("body", 'is empty: send one event object or {"events": [...]}')
    if len(body) > batch_max * MAX_EVENT_BYTES:
        raise TooManyEvents(None, batch_max, len(body))
    try:
        top = _decode(body, dict[str, msgspec.Raw])
    except msgspec.ValidationError:
        raise BadParameter(
            "body", f'must be one event object or {{"events": [...]}}, not {_kind_of(body)}'
        ) from None
    if "events" not in top:
        return [{key: _decode(value) for key, value in top.items()}], False
    others = [key for key in top if key != "events"]
    if others:
        raise BadParameter(
            others[0][:MAX_ID_LENGTH],
            f"a batch holds only `events`; unknown field(s) {', '.join(map(show, others[:5]))}",
        )
    try:
        raw_events = _decode(top["events"], list[msgspec.Raw])
    except msgspec.ValidationError:
        kind = _kind_of(bytes(top["events"]))
        raise BadParameter("events", f"must be an array of event objects, not {kind}") from None
    if not raw_events:
        raise BadParameter("events", "must hold at least one event")
    if len(raw_events) > batch_max:
        raise TooManyEvents(len(raw_events), batch_max)
    events: list[Any] = _decode(top["events"])  # within the cap: decoded in one pass
    return events, True


def _decode(data: bytes | msgspec.Raw, type: Any = Any) -> Any:
    """JSON as `type`; a body that is not JSON, or not UTF-8, is refused whole (400)."""
    try:
        return msgspec.json.decode(data, type=type)
    except RecursionError:
        raise BadParameter("body", "is not valid JSON (nested too deeply)") from None
    except msgspec.ValidationError:
        if type is not Any:
            raise  # the outline is not of the expected shape: the caller names it
        raise BadParameter("body", "is not valid JSON (a number out of range)") from None
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        # Told apart here rather than by the decoder's wording, which differs by version.
        if not _is_utf8(bytes(data)):
            raise BadParameter("body", "is not valid UTF-8") from None
        raise BadParameter("body", f"is not valid JSON ({exc})") from None


_KINDS = {ord("{"): "an object", ord("["): "an array", ord('"'): "a string",
          ord("n"): "null",
          ord("t"): "a boolean", ord("f"): "a boolean"}


def _kind_of(data: bytes) -> str:
    """The kind of the JSON value `data` holds, from its first character (valid JSON)."""
    first = data.lstrip()[:1]
    return _KINDS.get(first[0], "a number") if first else "nothing"


# --- one event: pure -------------------------------------------------------------------------


def _unknown_fields(raw: Mapping[str, Any], fields: Sequence[str]) -> EventRefused | None:
    unknown = [key for key in raw if key not in fields]
    if not unknown:
        return None
    described = []
    for name in unknown[:_SHOWN_UNKNOWN]:
        close = difflib.get_close_matches(name, fields, n=1)
        described.append(show(name) + (f" (did you mean {close[0]!r}?)" if close else ""))
    more = f" and {len(unknown) - _SHOWN_UNKNOWN} more" if len(unknown) > _SHOWN_UNKNOWN else ""
    return EventRefused.one(
        INVALID,
        unknown[0][:MAX_ID_LENGTH] or "event",  # a key may be empty: name the event
        f"unknown field(s) {', '.join(described)}{more}; an event has {', '.join(fields)}",
    )


def parse_request_id(value: str) -> str:
    """The id of a list response: 32 hex digits, or a hyphenated UUID; returned as 32
    lower-case hex digits, the form list responses write."""
    if not _REQUEST_ID.fullmatch(value):
        raise ValueError(f"{show(value)} is not a request id (32 hex digits)")
    return value.replace("-", "").lower()


def decode_fields(raw: Any, struct: type[msgspec.Struct]
                  ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """One event as decoded from JSON, held to the shape of `struct`: its fields' values,
    each of its declared type within its constraints (msgspec `Meta`), and a problem
    naming each field that is not (or is required and missing), in field order. A value
    that is not an object, or a field that `struct` lacks, refuses the event at once
    (EventRefused). The values' meaning is for the caller to check."""
    if not isinstance(raw, dict):
        raise EventRefused.one(INVALID, "event", f"must be an object, not {_kind(raw)}")
    if refused := _unknown_fields(raw, struct.__struct_fields__):
        raise refused
    try:
        decoded = msgspec.convert(raw, struct)
    except msgspec.ValidationError:
        return _diagnose(raw, struct)
    return {name: getattr(decoded, name) for name in struct.__struct_fields__}, []


def _diagnose(raw: Mapping[str, Any], struct: type[msgspec.Struct]
              ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The fields of an event that failed to decode, one by one: the values that pass and
    a problem for each that does not. Slower than decoding the whole event (each field's
    type is compiled anew), so only refused events come here."""
    values: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for field_info in msgspec.structs.fields(struct):
        name = field_info.name
        if name not in raw:
            if field_info.required:
                problems.append((name, "is required"))
            continue
        try:
            values[name] = msgspec.convert(raw[name], field_info.type)
        except msgspec.ValidationError as exc:
            reason = str(exc)
            problems.append((name, reason[:1].lower() + reason[1:]))
    return values, problems


def validate_fields(raw: Any, struct: type[msgspec.Struct],
                    parsers: Mapping[str, Callable[[Any], Any]]) -> dict[str, Any]:
    """`decode_fields`, then each present, non-null value through its field's parser
    (which returns the value as stored, or raises ValueError with the reason). Raises
    EventRefused naming every field at fault, in field order."""
    values, problems = decode_fields(raw, struct)
    faulty = {name for name, _ in problems}
    for name in struct.__struct_fields__:
        if name in faulty or values.get(name) is None or name not in parsers:
            continue
        try:
            values[name] = parsers[name](values[name])
        except ValueError as exc:
            problems.append((name, str(exc)))
    if problems:
        order = {name: i for i, name in enumerate(struct.__struct_fields__)}
        raise EventRefused(INVALID, sorted(problems, key=lambda p: order.get(p[0], -1)))
    return values


def parse_occurred_at(value: str, now: datetime, future_skew: timedelta) -> datetime:
    """`occurred_at` by the CSV import's rule, and not more than `future_skew` ahead of
    `now` (the server's clock)."""
    moment = parse_datetime(value)
    if moment > now + future_skew:
        raise ValueError(f"{show(value)} is more than {int(future_skew.total_seconds())} s"
                         " ahead of the server's clock")
    return moment


# Each field's parser; `occurred_at`'s depends on the request's clock and is added there.
_EVENT_PARSERS: dict[str, Callable[[Any], Any]] = {
    "event_id": parse_identifier,
    "user_id": parse_identifier,
    "product_id": parse_identifier,
    "event_type": parse_event_type,
    "session_id": parse_optional_identifier,
    "device_type": parse_optional_label,
    "request_id": parse_request_id,
}


def validate_event(raw: Any, now: datetime, future_skew: timedelta) -> NewEvent:
    """Check one event as decoded from JSON and return it as stored.

    `now` (aware, UTC) stands in for a missing `occurred_at` and bounds how far ahead an
    event may lie. Raises EventRefused naming every field at fault. Pure: the catalog
    check happens when storing.
    """
    return NewEvent(**validate_timed(raw, EventIn, _EVENT_PARSERS, now, future_skew))


def validate_timed(raw: Any, struct: type[msgspec.Struct],
                   parsers: Mapping[str, Callable[[Any], Any]], now: datetime,
                   future_skew: timedelta) -> dict[str, Any]:
    """`validate_fields` for an event with an `occurred_at`: checked against the server's
    clock `now` (at most `future_skew` ahead), and `now` when absent."""
    clocked: dict[str, Callable[[Any], Any]] = {
        **parsers, "occurred_at": partial(parse_occurred_at, now=now, future_skew=future_skew)}
    values = validate_fields(raw, struct, clocked)
    if values.get("occurred_at") is None:
        values["occurred_at"] = now
    return values


def settle_repeats(
    events: Sequence[tuple[int, E]],
) -> tuple[list[tuple[int, E]], list[Outcome]]:
    """Within one request, keep the first event of each `event_id`; a later identical one
    is a duplicate, a later different one a conflict. Returns the kept (index, event)
    pairs and an outcome for each repeat."""
    first: dict[str, tuple[int, E]] = {}
    kept: list[tuple[int, E]] = []
    repeats: list[Outcome] = []
    for index, event in events:
        seen = first.get(event.event_id)
        if seen is None:
            first[event.event_id] = (index, event)
            kept.append((index, event))
        elif seen[1] == event:
            repeats.append(Outcome(index, event.event_id, DUPLICATE, None, event.request_id))
        else:
            differs = [f.name for f in dataclasses.fields(event)
                       if f.compare and getattr(seen[1], f.name) != getattr(event, f.name)]
            refused = EventRefused.one(
                CONFLICT, "event_id",
                f"{show(event.event_id)} repeats event {seen[0]} of this request with a"
                f" different {', '.join(differs)}",
            )
            repeats.append(Outcome(index, event.event_id, REJECTED, refused, event.request_id))
    return kept, repeats


def against_stored(index: int, event: E, stored: E | None) -> Outcome:
    """The outcome of an event whose id was stored before (`stored`, as read back): a
    `duplicate` when identical, else refused as a `conflict` naming what differs. The
    stored event is kept either way; a different event cannot hide behind a used id."""
    if stored is None or stored == event:
        return Outcome(index, event.event_id, DUPLICATE, None, event.request_id)
    differs = [f.name for f in dataclasses.fields(event)
               if f.compare and getattr(stored, f.name) != getattr(event, f.name)]
    refused = EventRefused.one(
        CONFLICT, "event_id",
        f"{show(event.event_id)} was stored before with a different {', '.join(differs)}",
    )
    return Outcome(index, event.event_id, REJECTED, refused, event.request_id)


def echoed_id(raw: Any) -> str | None:
    """The event_id of a refused event, for the client to match results up; only when it
    is a string of acceptable length, so a refusal never echoes a megabyte back."""
    value = raw.get("event_id") if isinstance(raw, dict) else None
    if isinstance(value, str) and len(value.strip()) <= MAX_ID_LENGTH:
        return value.strip()
    return None


# --- storing ---------------------------------------------------------------------------------

_KNOWN_PRODUCTS = text(
    "SELECT product_id, price FROM products WHERE product_id = ANY(CAST(:ids AS text[]))"
)

# One statement for the whole request, rows in key order: two requests with overlapping
# event ids then take their locks in the same order and wait for each other rather than
# deadlock. RETURNING names the rows written; the others were stored already. The rows
# travel as one JSON document that Postgres unpacks: binding ten arrays of 500 values
# made the driver convert every value in Python, a fifth of a batch's time.
_INSERT_EVENTS = text("""
    INSERT INTO events (event_id, user_id, product_id, event_type, occurred_at, session_id,
                        device_type, dwell_ms, price, request_id)
    SELECT e.event_id, e.user_id, e.product_id, e.event_type, e.occurred_at, e.session_id,
           e.device_type, e.dwell_ms, e.price, e.request_id
    FROM json_to_recordset(CAST(:rows AS json)) AS e(
        event_id text, user_id text, product_id text, event_type text,
        occurred_at timestamptz, session_id text, device_type text, dwell_ms integer,
        price numeric, request_id text)
    ORDER BY e.event_id COLLATE "C"
    ON CONFLICT (shop_id, event_id) DO NOTHING
    RETURNING event_id""")

_STORED_EVENTS = text("""
    SELECT event_id, user_id, product_id, event_type, occurred_at, session_id, device_type,
           dwell_ms
    FROM events WHERE event_id = ANY(CAST(:ids AS text[]))""")

_INSERT_USERS = text("""
    INSERT INTO users (user_id)
    SELECT u FROM unnest(CAST(:ids AS text[])) AS u ORDER BY u COLLATE "C"
    ON CONFLICT (shop_id, user_id) DO NOTHING""")


def _rows(events: Sequence[NewEvent]) -> str:
    """The events as the JSON array _INSERT_EVENTS reads (times in ISO 8601, prices as
    decimal strings, so nothing is rounded on the way)."""
    return msgspec.json.encode([
        {"event_id": e.event_id, "user_id": e.user_id, "product_id": e.product_id,
         "event_type": e.event_type, "occurred_at": e.occurred_at, "session_id": e.session_id,
         "device_type": e.device_type, "dwell_ms": e.dwell_ms, "price": e.price,
         "request_id": e.request_id}
        for e in events]).decode()


def _store(
    conn: Connection, valid: Sequence[tuple[int, NewEvent]], outcomes: list[Outcome | None]
) -> list[NewEvent]:
    """Check the catalog, settle repeats and write, on one connection inside its
    transaction; fills `outcomes` for every event in `valid`; returns the events stored."""
    product_ids = sorted({event.product_id for _, event in valid})
    prices: dict[str, Decimal] = {
        str(pid): price for pid, price in conn.execute(_KNOWN_PRODUCTS, {"ids": product_ids})
    }
    known: list[tuple[int, NewEvent]] = []
    for index, event in valid:
        price = prices.get(event.product_id)
        if price is None:
            refused = EventRefused.one(
                UNKNOWN_PRODUCT, "product_id", f"{show(event.product_id)} is not in the catalog"
            )
            outcomes[index] = Outcome(index, event.event_id, REJECTED, refused, event.request_id)
        else:
            known.append((index, dataclasses.replace(event, price=price)))
    kept, repeats = settle_repeats(known)
    for outcome in repeats:
        outcomes[outcome.index] = outcome
    if not kept:
        return []
    written = set(conn.execute(_INSERT_EVENTS, {"rows": _rows([e for _, e in kept])}).scalars())
    repeated = [e.event_id for _, e in kept if e.event_id not in written]
    before = {row.event_id: NewEvent(*row) for row in conn.execute(
        _STORED_EVENTS, {"ids": repeated})} if repeated else {}
    stored: list[NewEvent] = []
    for index, event in kept:
        if event.event_id in written:
            outcomes[index] = Outcome(index, event.event_id, ACCEPTED, None, event.request_id)
            stored.append(event)
        else:
            outcomes[index] = against_stored(index, event, before.get(event.event_id))
    if stored:
        conn.execute(_INSERT_USERS, {"ids": sorted({e.user_id for e in stored})})
    return stored


def ingest(
    database: Database, items: Sequence[Any], *, now: datetime, future_skew: timedelta
) -> Ingested[NewEvent]:
    """Validate each event, then store the valid ones in one transaction.

    Returns an outcome per event in input order and the events stored, as plain records,
    for whatever runs after storing. Raises StoreUnavailable when the database fails; then
    nothing of the request was written.
    """
    return ingest_with(database, items, lambda raw: validate_event(raw, now, future_skew),
                       _store, "event")


def ingest_with(
    database: Database,
    items: Sequence[Any],
    validate: Callable[[Any], E],
    store: Callable[[Connection, list[tuple[int, E]], list[Outcome | None]], list[E]],
    what: str,
) -> Ingested[E]:
    """The ingest of any kind of event: validate each (a refusal is that item's outcome),
    then `store` the valid ones in one transaction, which settles their outcomes. Raises
    StoreUnavailable when the database fails; then nothing was written."""
    outcomes: list[Outcome | None] = [None] * len(items)
    valid: list[tuple[int, E]] = []
    for index, raw in enumerate(items):
        try:
            valid.append((index, validate(raw)))
        except EventRefused as refused:
            outcomes[index] = Outcome(index, echoed_id(raw), REJECTED, refused)
    stored: list[E] = []
    if valid:
        try:
            with database.engine.begin() as conn:
                stored = store(conn, valid, outcomes)
        except SQLAlchemyError:
            log.exception("storing %d %s(s) failed; the transaction was rolled back",
                          len(valid), what)
            raise StoreUnavailable() from None
    settled = [o for o in outcomes if o is not None]
    assert len(settled) == len(items), "every event has an outcome"
    return Ingested(outcomes=settled, stored=stored)


# --- answers ---------------------------------------------------------------------------------


def batch_result(ingested: Ingested[Any]) -> BatchResult:
    """The answer to a batch: counts and one result per event, in input order."""
    results = [
        EventResult(
            index=o.index,
            event_id=o.event_id,
            status=o.status,
            error=EventError(o.error.code, str(o.error)) if o.error else None,
            request_id=o.request_id,
        )
        for o in ingested.outcomes
    ]
    return BatchResult(
        accepted=ingested.count(ACCEPTED),
        duplicates=ingested.count(DUPLICATE),
        rejected=ingested.count(REJECTED),
        results=results,
    )


def single_result(ingested: Ingested[Any]) -> tuple[EventStatus, int]:
    """The answer to one event and its status code: 201 stored now, 200 stored before.
    A refused event raises ApiError naming the field at fault: 409 for an event_id stored
    before with other content, else 400."""
    outcome = ingested.outcomes[0]
    if outcome.error is not None or outcome.event_id is None or outcome.status == REJECTED:
        error = outcome.error or EventRefused.one(INVALID, "event", "refused")
        raise ApiError(409 if error.code == CONFLICT else 400, error.code, str(error),
                       {"parameter": error.field})
    status = 201 if outcome.status == ACCEPTED else 200
    return EventStatus(outcome.event_id, outcome.status, outcome.request_id), status
