"""The rules of event ingest that need no database: body shape, one event, repeats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.errors import ApiError
from api.services.events import (
    CONFLICT,
    DUPLICATE,
    INVALID,
    REJECTED,
    EventRefused,
    NewEvent,
    parse_body,
    parse_request_id,
    settle_repeats,
    validate_event,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
SKEW = timedelta(seconds=300)


def event(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"event_id": "e1", "user_id": "u1", "product_id": "P1",
                            "event_type": "view"}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not ...}


def refused(raw: Any) -> EventRefused:
    with pytest.raises(EventRefused) as caught:
        validate_event(raw, NOW, SKEW)
    return caught.value


# --- the body ----------------------------------------------------------------------------------


def test_a_body_is_one_event_or_a_batch() -> None:
    assert parse_body(b'{"event_id": "e1"}', 10) == ([{"event_id": "e1"}], False)
    assert parse_body(b'{"events": [{"a": 1}, 2]}', 10) == ([{"a": 1}, 2], True)


@pytest.mark.parametrize(("body", "named"), [
    (b"", "body: is empty"),
    (b"   \n", "body: is empty"),
    (b"not json", "body: is not valid JSON"),
    (b'{"event_id": ', "body: is not valid JSON"),
    (b'{"event_id": "\xff"}', "body: is not valid UTF-8"),
    (b'\xff\xfe{}', "body: is not valid UTF-8"),
    (b'{"events": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
     "body: is not valid JSON (nested too deeply)"),
    (b"[" * 50_000 + b"]" * 50_000, "body: must be one event object"),
    (b"[1, 2, 3]", "body: must be one event object or {\"events\": [...]}, not an array"),
    (b'"view"', "not a string"),
    (b"null", "not null"),
    (b"12", "not a number"),
    (b'{"events": {"event_id": "e1"}}', "events: must be an array of event objects, not an obj"),
    (b'{"events": []}', "events: must hold at least one event"),
    (b'{"events": [{}], "user_id": "u1"}', "user_id: a batch holds only `events`"),
])
def test_a_malformed_body_is_refused_whole(body: bytes, named: str) -> None:
    with pytest.raises(ApiError) as caught:
        parse_body(body, 1000)
    assert caught.value.status_code == 400
    assert named in str(caught.value.detail)


def test_a_body_too_large_for_the_cap_is_refused_before_it_is_decoded() -> None:
    # About 9 MB of empty event objects: more than 1,000 events of any size can take.
    body = b'{"events": [' + b",".join([b"{}"] * 3_000_000) + b"]}"
    with pytest.raises(ApiError) as caught:
        parse_body(body, 1000)
    assert caught.value.status_code == 413
    assert caught.value.extra == {"parameter": "events", "max": 1000}
    # Within the size bound, the cap is counted on the outline of the array.
    with pytest.raises(ApiError) as counted:
        parse_body(b'{"events": [' + b",".join([b"{}"] * 1001) + b"]}", 1000)
    assert counted.value.status_code == 413 and "got 1001" in str(counted.value.detail)


def test_a_batch_over_the_cap_is_refused_naming_it() -> None:
    with pytest.raises(ApiError) as caught:
        parse_body(b'{"events": [' + b",".join([b"{}"] * 11) + b"]}", 10)
    assert caught.value.status_code == 413
    assert "at most 10 events" in str(caught.value.detail)
    assert "got 11" in str(caught.value.detail)


# --- one event ---------------------------------------------------------------------------------


def test_a_valid_event_is_normalised() -> None:
    got = validate_event(
        event(event_id=" e1 ", event_type="Add_To_Cart", occurred_at="2025-05-31T10:00:00",
              session_id="", device_type="mobile", dwell_ms=0,
              request_id="01234567-89ab-cdef-0123-456789ABCDEF"),
        NOW, SKEW,
    )
    assert got == NewEvent("e1", "u1", "P1", "add_to_cart",
                           datetime(2025, 5, 31, 10, 0, tzinfo=UTC), None, "mobile", 0)
    assert got.request_id == "0123456789abcdef0123456789abcdef"


def test_time_defaults_to_now_and_zones_are_converted_to_utc() -> None:
    assert validate_event(event(), NOW, SKEW).occurred_at == NOW
    assert validate_event(event(occurred_at=None), NOW, SKEW).occurred_at == NOW
    got = validate_event(event(occurred_at="2025-06-01T14:00:00+02:00"), NOW, SKEW)
    assert got.occurred_at == NOW
    assert validate_event(event(occurred_at="2025-06-01"), NOW, SKEW).occurred_at.hour == 0


def test_time_may_run_ahead_by_the_skew_only() -> None:
    ahead = (NOW + SKEW).isoformat()
    assert validate_event(event(occurred_at=ahead), NOW, SKEW).occurred_at == NOW + SKEW
    too_far = (NOW + SKEW + timedelta(seconds=1)).isoformat()
    assert "more than 300 s ahead" in str(refused(event(occurred_at=too_far)))


# `says` is our own wording, where the refusal is ours; None where a declared constraint
# (type, length, range, form) refused it: that wording is the decoder's, and only the
# field and code are ours to promise.
@pytest.mark.parametrize(("changes", "field", "says"), [
    ({"event_id": ""}, "event_id", None),
    ({"event_id": "   "}, "event_id", "is empty"),
    ({"user_id": "x" * 129}, "user_id", None),
    ({"product_id": "P\n1"}, "product_id", "control character"),
    ({"session_id": "s\x001"}, "session_id", "control character"),
    ({"event_type": "buy"}, "event_type", "not one of view, click, add_to_cart, purchase"),
    ({"occurred_at": "1989-12-31T23:59:59Z"}, "occurred_at", "years 1990 to 2099"),
    ({"occurred_at": "yesterday"}, "occurred_at", "not an ISO 8601"),
    ({"occurred_at": 1717243200}, "occurred_at", None),
    ({"dwell_ms": -1}, "dwell_ms", None),
    ({"dwell_ms": 2**31}, "dwell_ms", None),
    ({"dwell_ms": 1.5}, "dwell_ms", None),
    ({"dwell_ms": "1500"}, "dwell_ms", None),
    ({"dwell_ms": True}, "dwell_ms", None),
    ({"device_type": "d" * 33}, "device_type", None),
    ({"device_type": ["mobile"]}, "device_type", None),
    ({"request_id": "not-a-request"}, "request_id", None),
    ({"user_id": None}, "user_id", None),
    ({"user_id": {"nested": [1, {"deeper": []}]}}, "user_id", None),
    ({"event_id": ...}, "event_id", "is required"),
])
def test_a_bad_value_is_refused_naming_its_field(
    changes: dict[str, Any], field: str, says: str | None
) -> None:
    error = refused(event(**changes))
    assert error.code == INVALID
    assert error.field == field
    assert [name for name, _ in error.problems] == [field]
    assert str(error).startswith(f"{field}: ")
    if says is not None:
        assert says in str(error)


def test_every_bad_field_is_named_at_once() -> None:
    error = refused(event(event_id="", dwell_ms=-5, event_type="buy"))
    assert [name for name, _ in error.problems] == ["event_id", "event_type", "dwell_ms"]


def test_unknown_fields_are_named_with_a_suggestion() -> None:
    error = refused(event(dwel_ms=10, colour="red"))
    assert error.field == "dwel_ms"
    assert "'dwel_ms' (did you mean 'dwell_ms'?)" in str(error)
    assert "'colour'" in str(error)


def test_an_event_must_be_an_object() -> None:
    for raw in (1, "e1", None, [], [event()]):
        assert refused(raw).field == "event"


@pytest.mark.parametrize("value", [
    "0123456789abcdef0123456789abcdef",
    "0123456789ABCDEF0123456789ABCDEF",
    "01234567-89ab-cdef-0123-456789abcdef",
])
def test_request_ids_take_the_form_list_responses_write(value: str) -> None:
    assert parse_request_id(value) == "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize("value", ["", "0123", "g" * 32, "0123456789abcdef0123456789abcdef\n"])
def test_other_request_ids_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="not a request id"):
        parse_request_id(value)


# --- repeats within a request ------------------------------------------------------------------


def test_the_first_of_a_repeated_event_id_wins() -> None:
    first = validate_event(event(dwell_ms=10, request_id="a" * 32), NOW, SKEW)
    same = validate_event(event(dwell_ms=10), NOW, SKEW)  # request_id is not stored
    other = validate_event(event(dwell_ms=11, event_type="click"), NOW, SKEW)
    another = validate_event(event(event_id="e2"), NOW, SKEW)
    kept, repeats = settle_repeats([(0, first), (1, same), (2, other), (3, another)])
    assert kept == [(0, first), (3, another)]
    assert [(o.index, o.status) for o in repeats] == [(1, DUPLICATE), (2, REJECTED)]
    conflict = repeats[1].error
    assert conflict is not None and conflict.code == CONFLICT
    assert "repeats event 0" in str(conflict)
    assert "different event_type, dwell_ms" in str(conflict)
