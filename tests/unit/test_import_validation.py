"""The import's value and row rules, without a database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from data.importer import (
    EVENT_COLUMNS,
    PRODUCT_COLUMNS,
    HeaderInvalid,
    RowInvalid,
    check_header,
    validate_row,
)
from data.parsers import (
    has_stray_controls,
    parse_bool,
    parse_datetime,
    parse_dwell_ms,
    parse_event_type,
    parse_identifier,
    parse_label,
    parse_long_text,
    parse_optional_identifier,
    parse_price,
    parse_required_label,
    parse_tags,
    parse_timestamp,
    parse_title,
)


def reason(parse: Callable[[str], object], value: str) -> str:
    """The message a parser refuses `value` with."""
    with pytest.raises(ValueError, match=r".*") as caught:
        parse(value)
    return str(caught.value)


# --- ids and text -----------------------------------------------------------------------------


def test_identifier_is_stripped_and_kept() -> None:
    assert parse_identifier("  P-001 ") == "P-001"
    assert parse_identifier("sku/äöü 12") == "sku/äöü 12"
    assert parse_identifier("a\u00a0b") == "a\u00a0b"  # no-break space is not a control
    assert parse_identifier("x" * 128) == "x" * 128


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("x" * 129, "is longer than 128 characters"),
        ("a\tb", "contains a control character"),
        ("a\x00b", "contains a control character"),
        ("a\x85b", "contains a control character"),
    ],
)
def test_identifier_refusals(value: str, expected: str) -> None:
    assert expected in reason(parse_identifier, value)


def test_optional_identifier_empty_is_none() -> None:
    assert parse_optional_identifier(" ") is None
    assert parse_optional_identifier("s1") == "s1"
    assert "control" in reason(parse_optional_identifier, "s\n1")


def test_labels() -> None:
    assert parse_label("") == ""
    assert parse_label(" Knit & Co ") == "Knit & Co"
    assert parse_required_label(" Shoes ") == "Shoes"
    assert reason(parse_required_label, "  ") == "is empty"
    # Scraped text is full of stray control characters: cleaned, each run to one space.
    assert parse_required_label("two\nlines") == "two lines"
    assert parse_label("Trail\x00\x1f  Runner\x7f") == "Trail Runner"
    assert reason(parse_required_label, "\x00\x01") == "is empty"
    assert "longer than 200" in reason(parse_label, "x" * 201)
    assert parse_title("t" * 500) == "t" * 500
    assert "longer than 500" in reason(parse_title, "t" * 501)


def test_description_keeps_its_lines_and_loses_other_controls() -> None:
    assert parse_long_text(" one\r\n\ttwo ") == "one\r\n\ttwo"
    assert parse_long_text("") == ""
    assert parse_long_text("bell\x07 and nul\x00") == "bell  and nul"
    assert has_stray_controls("bell\x07", long_text=True)
    assert not has_stray_controls("one\r\n\ttwo", long_text=True)
    assert "longer than 50,000" in reason(parse_long_text, "w" * 50_001)


# --- numbers, booleans, tags ------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0", "12", "12.5", "12.", ".5", "+3", "1e3", " 7.25 ", "0.125"])
def test_price_accepted(value: str) -> None:
    assert parse_price(value) == value.strip()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", "is empty"),
        ("abc", "'abc' is not a number"),
        ("-1", "'-1' is negative"),
        ("-0.5", "is negative"),
        ("nan", "is not a number"),
        ("inf", "is not a number"),
        ("1,299.00", "is not a number"),
        ("$12", "is not a number"),
        ("1_000", "is not a number"),
        ("\u0661\u0662", "is not a number"),  # Arabic-Indic digits: float() takes them
        ("10000000000", "is too large"),
        ("9999999999.999", "is too large"),  # rounds up to 10^10
        ("1e400", "is too large"),
    ],
)
def test_price_refusals(value: str, expected: str) -> None:
    assert expected in reason(parse_price, value)


def test_largest_price_fits() -> None:
    assert parse_price("9999999999.99") == "9999999999.99"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("TRUE", True), ("1", True), ("Yes", True),
     ("false", False), ("0", False), (" no ", False), ("", None), ("  ", None)],
)
def test_booleans(value: str, expected: bool | None) -> None:
    assert parse_bool(value) is expected


def test_boolean_refusal() -> None:
    assert reason(parse_bool, "maybe") == "'maybe' is not a boolean (true/false, 1/0, yes/no)"


def test_tags() -> None:
    assert parse_tags("") == []
    assert parse_tags("a|b| c |") == ["a", "b", "c"]
    assert parse_tags("a||a|b") == ["a", "b"]
    assert parse_tags("with space|{braces}|\"quote\"") == ["with space", "{braces}", '"quote"']
    assert parse_tags("x|a\tb") == ["x", "a b"]
    assert reason(parse_tags, "x|" + "t" * 201).startswith("tag ")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", None), ("0", 0), ("1500", 1500), ("1500.0", 1500), ("+7", 7), ("2147483647", 2**31 - 1)],
)
def test_dwell(value: str, expected: int | None) -> None:
    assert parse_dwell_ms(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("-5", "'-5' is negative"),
        ("1.5", "'1.5' is not a whole number"),
        ("abc", "is not a whole number"),
        ("2147483648", "is too large"),
    ],
)
def test_dwell_refusals(value: str, expected: str) -> None:
    assert expected in reason(parse_dwell_ms, value)


def test_dwell_wants_ascii_digits() -> None:
    assert "is not a whole number" in reason(parse_dwell_ms, "\u0661\u0662")


def test_event_type() -> None:
    assert parse_event_type(" Add_To_Cart ") == "add_to_cart"
    assert reason(parse_event_type, "like") == (
        "'like' is not one of view, click, add_to_cart, purchase, return, dislike, hide"
    )
    assert [parse_event_type(t) for t in ("Return", "DISLIKE", "hide")] == [
        "return", "dislike", "hide"]
    assert reason(parse_event_type, "") == "is empty"


# --- dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-01", datetime(2024, 5, 1, tzinfo=UTC)),
        ("2024-05-01T12:30:00", datetime(2024, 5, 1, 12, 30, tzinfo=UTC)),
        ("2024-05-01 12:30:00.250", datetime(2024, 5, 1, 12, 30, 0, 250000, tzinfo=UTC)),
        ("2024-05-01T12:30:00Z", datetime(2024, 5, 1, 12, 30, tzinfo=UTC)),
        ("2024-05-01T12:30:00+02:00", datetime(2024, 5, 1, 10, 30, tzinfo=UTC)),
        ("2024-05-01T00:30:00-05:00", datetime(2024, 5, 1, 5, 30, tzinfo=UTC)),
        ("1990-01-01T00:00:00", datetime(1990, 1, 1, tzinfo=UTC)),
        ("2099-12-31T23:59:59", datetime(2099, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ],
)
def test_datetimes(value: str, expected: datetime) -> None:
    parsed = parse_datetime(value)
    assert parsed == expected
    assert parsed.utcoffset() is not None
    assert parse_timestamp(value) == expected.isoformat()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", "is empty"),
        ("yesterday", "'yesterday' is not an ISO 8601 date or date-time"),
        ("01/05/2024", "is not an ISO 8601 date or date-time"),
        ("2024-13-01", "is not an ISO 8601"),
        ("1970-01-01T00:00:00Z", "is outside the years 1990 to 2099"),
        ("1989-12-31T23:59:59", "is outside the years 1990 to 2099"),
        ("2100-01-01", "is outside the years 1990 to 2099"),
        ("1990-01-01T00:30:00+01:00", "is outside the years 1990 to 2099"),  # 1989 in UTC
    ],
)
def test_datetime_refusals(value: str, expected: str) -> None:
    assert expected in reason(parse_datetime, value)


# --- headers and rows -------------------------------------------------------------------------


def test_header_in_any_order_case_and_spacing() -> None:
    names = [" EVENT_TYPE", *[c for c in EVENT_COLUMNS if c != "event_type"]]
    header = check_header("events", names)
    assert header.width == len(EVENT_COLUMNS)
    assert not header.padded


def test_header_problems_are_all_named() -> None:
    with pytest.raises(HeaderInvalid) as caught:
        check_header("products", ["product_id", "", "title", "title", "prise"])
    message = str(caught.value)
    assert "missing required column(s): category, subcategory, brand, price" in message
    assert "column(s) named more than once: title" in message
    assert "'prise' (did you mean 'price'?)" in message
    assert "an unnamed column" in message


def test_trailing_unnamed_columns_are_ignored() -> None:
    header = check_header("events", [*EVENT_COLUMNS, "", " "])
    assert header.width == len(EVENT_COLUMNS)
    with pytest.raises(HeaderInvalid, match="an unnamed column"):
        check_header("events", ["", *EVENT_COLUMNS])


def test_semicolon_header_gets_a_hint() -> None:
    with pytest.raises(HeaderInvalid, match="must be comma-separated"):
        check_header("events", [";".join(EVENT_COLUMNS)])


def test_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown import kind"):
        check_header("orders", ["order_id"])


def test_product_row_with_optional_columns_absent() -> None:
    header = check_header("products", list(PRODUCT_COLUMNS))
    assert header.padded
    row = validate_row(
        ["P1", "Shoe", "shoes", "", "Acme", "10.5", "Nice", "a|b", "2024-01-01"], header
    )
    assert row == [
        "P1", "Shoe", "Nice", "shoes", "", "Acme", "10.5", ["a", "b"], None, None,
        "2024-01-01T00:00:00+00:00",
    ]


def test_product_row_with_optional_columns_present() -> None:
    header = check_header("products", ["promoted", *PRODUCT_COLUMNS, "in_stock"])
    row = validate_row(
        ["yes", "P1", "Shoe", "shoes", "", "", "1", "", "", "2024-01-01", "0"], header
    )
    assert row[8:10] == [False, True]


def test_row_problems_name_every_column() -> None:
    header = check_header("events", list(EVENT_COLUMNS))
    with pytest.raises(RowInvalid) as caught:
        validate_row(["", "u1", "P1", "like", "soon", "", "", "-1"], header)
    assert caught.value.problems == [
        "event_id: is empty",
        "event_type: 'like' is not one of view, click, add_to_cart, purchase, return, dislike, "
        "hide",
        "timestamp: 'soon' is not an ISO 8601 date or date-time",
        "page_dwell_ms: '-1' is negative",
    ]


def test_event_row() -> None:
    header = check_header("events", list(EVENT_COLUMNS))
    row = validate_row(
        ["e1", "u1", "P1", "VIEW", "2025-01-01T10:00:00+01:00", "", "mobile", "1200.0"], header
    )
    assert row == ["e1", "u1", "P1", "view", "2025-01-01T09:00:00+00:00", None, "mobile", 1200]


def test_long_values_are_cut_short_in_messages() -> None:
    message = reason(parse_price, "x" * 500)
    assert len(message) < 80
    assert "..." in message
