"""Values as Lodestar takes them from outside: pure parsers shared by the CSV import, the
event ingest and the admin catalog writes, so that a value is held to one set of rules and
one wording of refusals however it arrives.

Each takes the raw text and returns the value as it is stored, or raises ValueError with a
reason that the caller prefixes with the field's name.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime

from models.tables import EVENT_TYPES

MAX_ID_LENGTH = 128
MAX_LABEL_LENGTH = 200  # brand, category, subcategory, a tag, a device type: btree-indexable
MAX_TITLE_LENGTH = 500
MAX_DESCRIPTION_LENGTH = 50_000  # well inside what a tsvector and a payload hold
MAX_PRICE = 10**10  # numeric(12, 2): ten digits before the point
MAX_DWELL_MS = 2**31 - 1  # the column is a 32-bit integer
FIRST_YEAR, LAST_YEAR = 1990, 2099


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

_SPAN_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_SPAN_PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])")


def parse_span(value: str) -> float:
    """A length of time, '90s', '30m', '6h', '1d' or combined ('1h30m'), as seconds; case
    and surrounding spaces do not matter. How every command reads one (its own bounds are
    its caller's)."""
    text = value.strip().lower()
    parts = _SPAN_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"{value!r} is not an interval like 30m, 6h or 1d")
    return sum(float(n) * _SPAN_UNITS[u] for n, u in parts)

UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""What no id, URL or filter may hold: C0 and C1 controls, DEL, and the bidirectional
overrides and isolates that make text display other than it reads (spoofed ids)."""
_CONTROL_IN_LONG_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# ASCII only: float() and int() would take other scripts' digits, which Postgres does not.
_DECIMAL = re.compile(r"\+?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_WHOLE = re.compile(r"\+?(\d+)(?:\.0*)?", re.ASCII)
_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no"})


def show(value: str) -> str:
    """The value quoted for a message, cut short when long."""
    return repr(value if len(value) <= 40 else value[:40] + "...")


def parse_identifier(value: str) -> str:
    """A required id: non-empty, at most 128 characters, no control characters and no
    bidirectional overrides."""
    value = value.strip()
    # isprintable() is the quick test; it also fails on harmless characters such as a
    # no-break space, which the pattern then lets through.
    if value and len(value) <= MAX_ID_LENGTH and (
        value.isprintable() or not UNSAFE.search(value)
    ):
        return value
    if not value:
        raise ValueError("is empty")
    if len(value) > MAX_ID_LENGTH:
        raise ValueError(f"{show(value)} is longer than {MAX_ID_LENGTH} characters")
    if _CONTROL.search(value):
        raise ValueError(f"{show(value)} contains a control character")
    if UNSAFE.search(value):
        raise ValueError(f"{show(value)} contains a bidirectional override")
    return value


def parse_optional_identifier(value: str) -> str | None:
    """An id that may be absent (empty becomes NULL)."""
    return parse_identifier(value) if value.strip() else None


def _clean(value: str, stray: re.Pattern[str]) -> str:
    """Each run of stray control characters replaced by one space, spaces collapsed."""
    return " ".join(part for part in stray.sub(" ", value).split(" ") if part)


def has_stray_controls(value: str, long_text: bool = False) -> bool:
    """Whether text holds control characters that the text parsers clean away (a tab or
    line break in a description is kept, not stray)."""
    return bool((_CONTROL_IN_LONG_TEXT if long_text else _CONTROL).search(value))


def parse_label(value: str, max_length: int = MAX_LABEL_LENGTH) -> str:
    """Short free text (brand, subcategory, ...): may be empty, one line, at most
    `max_length` characters. Stray control characters (scraped text is full of them) are
    cleaned: each run becomes one space."""
    value = value.strip()
    if not value.isprintable() and _CONTROL.search(value):
        # Stripped again: a control character could have hidden other white space at an
        # end ("\x1b\xa00"), and cleaning twice must change nothing.
        value = _clean(value, _CONTROL).strip()
    if len(value) > max_length:
        raise ValueError(f"{show(value)} is longer than {max_length} characters")
    return value


def parse_required_label(value: str, max_length: int = MAX_LABEL_LENGTH) -> str:
    """Short free text that must be present (category; a title, with its own maximum)."""
    value = parse_label(value, max_length)
    if not value:
        raise ValueError("is empty")
    return value


def parse_title(value: str) -> str:
    """A product's title: present, at most MAX_TITLE_LENGTH characters, cleaned."""
    return parse_required_label(value, MAX_TITLE_LENGTH)


def parse_optional_label(value: str) -> str | None:
    """Short free text where empty means unknown (NULL), e.g. device_type."""
    return parse_label(value) or None


def parse_long_text(value: str) -> str:
    """A description: may be empty and span lines (tabs and line breaks are kept), at most
    MAX_DESCRIPTION_LENGTH characters; other control characters are cleaned to spaces."""
    value = value.strip()
    if _CONTROL_IN_LONG_TEXT.search(value):
        value = _CONTROL_IN_LONG_TEXT.sub(" ", value).strip()
    if len(value) > MAX_DESCRIPTION_LENGTH:
        raise ValueError(f"is longer than {MAX_DESCRIPTION_LENGTH:,} characters")
    return value


def parse_price(value: str) -> str:
    """A price: a plain non-negative decimal below 10^10 (numeric(12, 2) holds it)."""
    value = value.strip()
    if not value:
        raise ValueError("is empty")
    if not _DECIMAL.fullmatch(value):
        if value.startswith("-") and _DECIMAL.fullmatch(value[1:]):
            raise ValueError(f"{show(value)} is negative")
        raise ValueError(f"{show(value)} is not a number")
    number = float(value)
    # Postgres rounds to cents on the way in; what it rounds to must still fit.
    if math.isinf(number) or round(number, 2) >= MAX_PRICE:
        raise ValueError(f"{show(value)} is too large (at most 9999999999.99)")
    return value


def parse_bool(value: str) -> bool | None:
    """true/false, 1/0, yes/no in any case; empty means "not stated" (None)."""
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    if not lowered:
        return None
    raise ValueError(f"{show(value.strip())} is not a boolean (true/false, 1/0, yes/no)")


def parse_tags(value: str) -> list[str]:
    """Tags separated by `|`, each a label (cleaned, at most MAX_LABEL_LENGTH characters);
    surrounding spaces, empty tags and repeats are dropped."""
    if not value:
        return []
    tags: list[str] = []
    for part in value.split("|"):
        try:
            tag = parse_label(part)
        except ValueError as exc:
            raise ValueError(f"tag {exc}") from None
        if tag and tag not in tags:
            tags.append(tag)
    return tags


def parse_datetime(value: str) -> datetime:
    """An ISO 8601 date or date-time; UTC when it has no zone; years 1990 to 2099 (UTC)."""
    text = value.strip()
    if not text:
        raise ValueError("is empty")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{show(text)} is not an ISO 8601 date or date-time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    else:
        try:
            moment = moment.astimezone(UTC)
        except OverflowError:
            raise ValueError(f"{show(text)} is outside the years 1990 to 2099") from None
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise ValueError(f"{show(text)} is outside the years {FIRST_YEAR} to {LAST_YEAR}")
    return moment


def parse_timestamp(value: str) -> str:
    """`parse_datetime`, written out as ISO 8601 in UTC for COPY."""
    return parse_datetime(value).isoformat()


def parse_choice(value: str, choices: Sequence[str]) -> str:
    """One of `choices`, in any case; returned in lower case."""
    lowered = value.strip().lower()
    if lowered in choices:
        return lowered
    if not lowered:
        raise ValueError("is empty")
    raise ValueError(f"{show(value.strip())} is not one of {', '.join(choices)}")


def parse_event_type(value: str) -> str:
    """One of the event types (EVENT_TYPES: view, click, add_to_cart, purchase, return,
    dislike, hide), any case."""
    return parse_choice(value, EVENT_TYPES)


def parse_dwell_ms(value: str) -> int | None:
    """Empty (None), or a whole number of milliseconds, 0 to 2147483647."""
    value = value.strip()
    if not value:
        return None
    match = _WHOLE.fullmatch(value)
    if match is None:
        if value.startswith("-") and _WHOLE.fullmatch(value[1:]):
            raise ValueError(f"{show(value)} is negative")
        raise ValueError(f"{show(value)} is not a whole number")
    number = int(match.group(1))
    if number > MAX_DWELL_MS:
        raise ValueError(f"{show(value)} is too large (at most {MAX_DWELL_MS})")
    return number
