import dataclasses
import importlib.util
from pathlib import Path

import pytest

import ranking.query
from ranking.query import (
    ACCENTED,
    PLAIN,
    STOPWORDS,
    InvalidQuery,
    ParsedQuery,
    fold,
    is_stopword,
    normalise,
    parse_query,
    tokens,
)

MIGRATION = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "0006_search.py"


def test_the_fold_table_is_the_one_postgres_uses() -> None:
    spec = importlib.util.spec_from_file_location("lodestar_migration_0006", MIGRATION)
    assert spec is not None
    assert spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert migration.ACCENTED == ACCENTED
    assert migration.PLAIN == PLAIN
    assert len(ACCENTED) == len(PLAIN)


@pytest.mark.parametrize("text", ["Café", "CAFÉ", "café", "cafe\u0301", "ＣＡＦＥ"])
def test_fold_lowers_and_strips_accents(text: str) -> None:
    assert fold(text) == "cafe"


def test_fold_covers_letters_without_a_decomposition_and_sharp_s() -> None:
    assert fold("Łódź") == "lodz"
    assert fold("Øresund Đakovo ıstanbul") == "oresund dakovo istanbul"
    assert fold("Straße") == "strasse"
    # A Latin letter outside the table still loses its mark; a ligature becomes letters.
    assert fold("Ṃaǎ ﬁsh") == "maa fish"


def test_fold_agrees_with_the_table_on_every_letter_it_holds() -> None:
    assert fold(ACCENTED) == PLAIN
    assert fold(ACCENTED.upper().replace("I", "ı")) == PLAIN


def test_fold_leaves_marks_that_make_another_letter_in_other_scripts() -> None:
    assert fold("Йогурт") == "йогурт"
    assert fold("ガム") == "ガム"


def test_normalise_keeps_the_punctuation_inside_product_names() -> None:
    assert normalise("  Trail-Runner, USB-C (2.5m)!") == "trail-runner usb-c 2.5m"
    assert normalise("VL-420 / 4K") == "vl-420 4k"
    assert normalise("Men's Boots") == "men's boots"
    assert normalise("Men’s Boots") == "men's boots"
    assert normalise("H&M c++ a + b") == "h&m c++ a + b"


def test_normalise_strips_hyphens_dots_and_apostrophes_at_token_edges() -> None:
    assert normalise("'90s style... -new- 'quoted'") == "90s style new quoted"
    assert normalise("usb-c. ... - '") == "usb-c"


def test_normalise_turns_other_characters_into_single_spaces() -> None:
    assert normalise("tent,\tstove;\n\nlamp — 2×") == "tent stove lamp 2"
    assert normalise("a/b\\c|d_e") == "a b c d e"
    assert normalise("") == ""


def test_tokens_splits_on_spaces() -> None:
    assert tokens("usb-c 2.5 men's") == ["usb-c", "2.5", "men's"]
    assert tokens("") == []


def test_stopwords_are_postgres_english_list() -> None:
    assert len(STOPWORDS) == 127
    assert {"the", "and", "don", "s", "t", "ourselves", "now"} <= STOPWORDS
    assert "jacket" not in STOPWORDS


def test_a_token_is_a_stopword_when_every_part_is() -> None:
    assert is_stopword("the")
    assert is_stopword("it's")
    assert is_stopword("don't")
    assert not is_stopword("men's")


def test_parse_query_normalises_and_keeps_search_terms_in_order_once() -> None:
    parsed = parse_query("The Café tent and the CAFE stove", max_chars=200)
    assert parsed == ParsedQuery(raw="The Café tent and the CAFE stove",
                                 text="the cafe tent and the cafe stove",
                                 terms=("cafe", "tent", "stove"))


def test_parse_query_drops_lone_symbols_from_terms_but_not_from_text() -> None:
    parsed = parse_query("H & M + jacket", max_chars=200)
    assert parsed.text == "h & m + jacket"
    assert parsed.terms == ("h", "m", "jacket")


def test_parsed_query_is_frozen() -> None:
    parsed = parse_query("tent", max_chars=10)
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed.text = "x"  # type: ignore[misc]


def test_length_limit_counts_characters_of_the_raw_query() -> None:
    assert parse_query("é" * 200, max_chars=200).terms == ("e" * 200,)
    with pytest.raises(InvalidQuery) as caught:
        parse_query("tent " * 100 + "xx", max_chars=200)
    assert caught.value.code == "query_too_long"
    assert caught.value.message == "q is 502 characters long; at most 200 are allowed"
    assert str(caught.value) == caught.value.message


def test_length_limit_is_checked_before_normalising(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(raw: str) -> str:
        raise AssertionError("normalised a query that was too long")

    monkeypatch.setattr(ranking.query, "normalise", refuse)
    with pytest.raises(InvalidQuery) as caught:
        parse_query("x" * 1_000_000, max_chars=200)
    assert caught.value.code == "query_too_long"


@pytest.mark.parametrize("raw", ["", "   ", "!!! ??? ...", "— / —", "'-.'"])
def test_nothing_left_after_normalising_is_an_empty_query(raw: str) -> None:
    with pytest.raises(InvalidQuery) as caught:
        parse_query(raw, max_chars=200)
    assert caught.value.code == "empty_query"
    assert "nothing to search for" in caught.value.message


@pytest.mark.parametrize("raw", ["the", "To be or not to be", "it's & +", "+ +"])
def test_only_stopwords_or_lone_symbols_is_no_search_terms(raw: str) -> None:
    with pytest.raises(InvalidQuery) as caught:
        parse_query(raw, max_chars=200)
    assert caught.value.code == "no_search_terms"
    assert "common words" in caught.value.message


def test_invalid_query_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="at most 3"):
        parse_query("tents", max_chars=3)


def test_max_chars_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_chars"):
        parse_query("tent", max_chars=0)
