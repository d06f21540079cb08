"""Properties that must hold for any input, checked with generated inputs (hypothesis):
the value parsers and the event validator never fail otherwise than by refusing, and the
ranking core keeps its promises (no duplicates, filters and caps kept, scores finite)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from api.services.events import EventRefused, validate_event
from data.parsers import (
    MAX_ID_LENGTH,
    MAX_LABEL_LENGTH,
    UNSAFE,
    has_stray_controls,
    parse_datetime,
    parse_dwell_ms,
    parse_identifier,
    parse_label,
    parse_long_text,
    parse_price,
    parse_tags,
)
from ranking.candidates import Candidate
from ranking.fallback import fallback_order
from ranking.rules import RuleSet, apply_caps
from ranking.search_rank import reciprocal_rank_fusion

NOW = datetime(2025, 6, 1, tzinfo=UTC)
SKEW = timedelta(seconds=300)
text = st.text(alphabet=st.characters(codec="utf-8"), max_size=300)


def refuses_or_returns(parse: Any, value: str) -> Any:
    """The parser's value, or None when it refused with ValueError (anything else fails)."""
    try:
        return parse(value)
    except ValueError:
        return None


@given(text)
def test_an_id_is_refused_or_safe(value: str) -> None:
    got = refuses_or_returns(parse_identifier, value)
    if got is not None:
        assert got and len(got) <= MAX_ID_LENGTH
        assert not UNSAFE.search(got)
        assert got == got.strip()


@given(text)
def test_a_label_comes_out_clean_bounded_and_stable(value: str) -> None:
    got = refuses_or_returns(parse_label, value)
    if got is not None:
        assert len(got) <= MAX_LABEL_LENGTH
        assert not has_stray_controls(got)
        assert parse_label(got) == got  # cleaning twice changes nothing


@given(text)
def test_a_description_keeps_no_stray_control(value: str) -> None:
    got = refuses_or_returns(parse_long_text, value)
    if got is not None:
        assert not has_stray_controls(got, long_text=True)


@given(text)
def test_tags_are_distinct_clean_labels(value: str) -> None:
    got = refuses_or_returns(parse_tags, value)
    if got is not None:
        assert len(got) == len(set(got))
        assert all(tag and not has_stray_controls(tag) for tag in got)


@given(st.one_of(text, st.from_regex(r"\A-?\d{0,12}(\.\d{0,4})?([eE][+-]?\d{1,3})?\Z")))
def test_a_price_is_refused_or_fits_the_column(value: str) -> None:
    got = refuses_or_returns(parse_price, value)
    if got is not None:
        number = float(got)
        assert math.isfinite(number) and 0 <= round(number, 2) < 10**10


@given(st.one_of(text, st.datetimes().map(lambda d: d.isoformat())))
def test_a_time_is_refused_or_in_range(value: str) -> None:
    got = refuses_or_returns(parse_datetime, value)
    if got is not None:
        assert got.tzinfo is not None and 1990 <= got.year <= 2099


@given(st.one_of(text, st.integers().map(str)))
def test_a_dwell_time_is_refused_or_in_range(value: str) -> None:
    got = refuses_or_returns(parse_dwell_ms, value)
    if got is not None:
        assert 0 <= got <= 2**31 - 1


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)
fields = st.sampled_from(["event_id", "user_id", "product_id", "event_type", "occurred_at",
                          "session_id", "device_type", "dwell_ms", "request_id"])


@settings(max_examples=300)
@given(st.one_of(json_values, st.dictionaries(fields, json_values | text, max_size=9)))
def test_any_event_is_either_accepted_or_refused_naming_a_field(raw: Any) -> None:
    problems: list[tuple[str, str]] = []
    try:
        event = validate_event(raw, NOW, SKEW)
    except EventRefused as refused:
        problems = refused.problems
    if problems:
        assert all(name for name, _ in problems)
    else:
        assert event.event_id and event.user_id and event.product_id
        assert event.occurred_at <= NOW + SKEW


candidates = st.lists(
    st.builds(Candidate, product_id=st.sampled_from([f"p{i}" for i in range(30)]),
              category=st.sampled_from("ABCD"), brand=st.sampled_from(["", "x", "y", "z"]),
              price=st.floats(0, 1000), in_stock=st.booleans(), promoted=st.booleans(),
              created_at=st.floats(0, 2e9), popularity=st.floats(0, 1e6)),
    max_size=40)


@given(candidates, st.integers(0, 20), st.integers(1, 4), st.integers(1, 4))
def test_caps_never_repeat_a_product_nor_shorten_the_list(
    ranked: list[Candidate], k: int, per_category: int, per_brand: int
) -> None:
    rules = RuleSet(now=2e9, max_per_category=per_category, max_per_brand=per_brand)
    got = apply_caps(ranked, rules, k)
    ids = [c.product_id for c in got]
    assert len(ids) == len(set(ids))
    assert len(got) == min(k, len({c.product_id for c in ranked}))


@given(candidates, st.sets(st.sampled_from([f"p{i}" for i in range(30)])),
       st.integers(1, 15))
def test_the_fallback_keeps_its_rules(ranked: list[Candidate], excluded: set[str],
                                      limit: int) -> None:
    rules = RuleSet(now=2e9, exclude_ids=frozenset(excluded))
    got = fallback_order(ranked, rules, limit, None)
    ids = [i.product_id for i in got]
    assert len(ids) == len(set(ids)) and len(ids) <= limit
    assert not set(ids) & excluded
    in_stock = {c.product_id for c in ranked if c.in_stock}
    assert set(ids) <= in_stock
    assert all(math.isfinite(i.score) for i in got)


@given(st.dictionaries(st.sampled_from(["lexical", "semantic", "lexical_partial"]),
                       st.lists(st.sampled_from([f"p{i}" for i in range(20)]), max_size=20)),
       st.floats(0.1, 100))
def test_fusion_scores_every_listed_product_once_and_finitely(lists: dict[str, list[str]],
                                                             k: float) -> None:
    fused = reciprocal_rank_fusion(lists, dict.fromkeys(lists, 1.0), k)
    assert set(fused) == {p for ids in lists.values() for p in ids}
    assert all(math.isfinite(v) and v > 0 for v in fused.values())
