import random
import threading

import pytest

import ranking.spelling
from ranking.spelling import (
    LONG_TOKEN,
    MAX_WORD_LENGTH,
    Vocabulary,
    _osa_within,
    _within_one,
    correct_terms,
    osa_distance,
    words_of,
)

CATALOG = {
    "trailpeak": 40, "jacket": 25, "boots": 30, "waterproof": 12, "tent": 50,
    "stove": 8, "lantern": 6, "sleeping": 10, "backpack": 15,
}


def _reference_osa(a: str, b: str) -> int:
    """The textbook OSA table, with no trimming or early exit, to check the fast one."""
    d = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        d[i][0] = i
    for j in range(len(b) + 1):
        d[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


def test_osa_distance_counts_each_kind_of_edit_once() -> None:
    assert osa_distance("jacket", "jacket") == 0
    assert osa_distance("jacket", "jakket") == 1  # substitution
    assert osa_distance("jacket", "jakcet") == 1  # transposition
    assert osa_distance("jacket", "jaket") == 1  # deletion
    assert osa_distance("jacket", "jacckett") == 2  # two insertions
    assert osa_distance("", "tent") == 4
    assert osa_distance("ca", "abc") == 3  # OSA edits no substring twice


def test_osa_distance_matches_the_textbook_table() -> None:
    rng = random.Random(7)
    for _ in range(3000):
        a = "".join(rng.choice("abc") for _ in range(rng.randint(0, 7)))
        b = "".join(rng.choice("abc") for _ in range(rng.randint(0, 7)))
        expected = _reference_osa(a, b)
        assert osa_distance(a, b) == expected, (a, b)
        # The bounded check that verifies candidates: exact up to the bound, bound + 1 past it.
        for bound in (1, 2, 3):
            assert _osa_within(a, b, bound) == min(expected, bound + 1), (a, b, bound)
        assert _within_one(a, b) == (expected <= 1), (a, b)


@pytest.mark.parametrize(("typo", "word"), [
    ("trailpaek", "trailpeak"),  # transposition on a long word
    ("trailpeek", "trailpeak"),  # substitution on a long word
    ("jakket", "jacket"),  # substitution
    ("jakcet", "jacket"),  # transposition
    ("jaket", "jacket"),  # a letter left out
    ("jacklet", "jacket"),  # a letter too many
    ("bots", "boots"),  # at min_length
])
def test_one_edit_is_corrected(typo: str, word: str) -> None:
    assert Vocabulary(CATALOG).correct(typo) == word


@pytest.mark.parametrize(("typo", "word"), [
    ("watarproaf", "waterproof"),  # two substitutions
    ("wterprof", "waterproof"),  # two letters left out
    ("waterprooof", "waterproof"),  # one letter too many...
    ("wayterprooof", "waterproof"),  # ...and two
    ("sleepnig", "sleeping"),  # transposition at exactly LONG_TOKEN letters
    ("bakcpak", None),  # two edits on a short token are too many
])
def test_long_tokens_may_take_two_edits(typo: str, word: str | None) -> None:
    assert len("sleepnig") == LONG_TOKEN
    assert Vocabulary(CATALOG).correct(typo) == word


def test_max_distance_one_allows_one_edit_on_long_tokens_too() -> None:
    vocabulary = Vocabulary(CATALOG, max_distance=1)
    assert vocabulary.correct("watarproaf") is None
    assert vocabulary.correct("waterprof") == "waterproof"


@pytest.mark.parametrize("token", [
    "tent",  # known
    "tnt", "ten",  # shorter than min_length
    "vl-421", "10l", "t3nt",  # digits: a model number or size is never corrected
    "xylophone",  # nothing close
])
def test_no_correction(token: str) -> None:
    vocabulary = Vocabulary({**CATALOG, "vl-420": 3, "10k": 2})
    assert vocabulary.correct(token) is None


def test_min_length_is_configurable() -> None:
    assert Vocabulary(CATALOG, min_length=3).correct("tnt") == "tent"


def test_ties_go_to_the_more_frequent_word_then_the_first_alphabetically() -> None:
    assert Vocabulary({"boat": 1, "boot": 5}).correct("boet") == "boot"
    assert Vocabulary({"boat": 5, "boot": 1}).correct("boet") == "boat"
    assert Vocabulary({"boat": 2, "boot": 2}).correct("boet") == "boat"


def test_a_nearer_word_beats_a_more_frequent_one() -> None:
    vocabulary = Vocabulary({"waterproof": 1, "waterproofs": 1000})
    assert vocabulary.correct("waterprof") == "waterproof"


def test_words_added_at_run_time_are_counted_and_become_targets() -> None:
    vocabulary = Vocabulary(CATALOG)
    assert vocabulary.correct("hammok") is None
    assert "hammock" not in vocabulary
    size = len(vocabulary)
    vocabulary.add(["hammock", "tent", "hammock"])
    assert "hammock" in vocabulary
    assert len(vocabulary) == size + 1
    assert vocabulary.count("hammock") == 2
    assert vocabulary.count("tent") == 51
    assert vocabulary.correct("hammok") == "hammock"
    # A new, more frequent neighbour takes over a tie.
    vocabulary.add(["boat"] * 3 + ["boot"])
    assert vocabulary.correct("boet") == "boat"


def test_concurrent_adds_lose_nothing() -> None:
    vocabulary = Vocabulary()
    words = [f"word{letter}{other}" for letter in "abcdefgh" for other in "ijklmnop"]
    words = [w.replace("word", "wrd") for w in words]  # no digits: all of them indexable

    def add_all() -> None:
        for word in words:
            vocabulary.add([word])
            vocabulary.correct(word + "x")

    threads = [threading.Thread(target=add_all) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(vocabulary) == len(words)
    assert all(vocabulary.count(word) == 4 for word in words)
    assert vocabulary.correct("wrdaix") == "wrdai"


def test_merging_the_recent_words_into_the_main_table_loses_none(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Merge after every few words, so that lookups meet both tables and many merges.
    monkeypatch.setattr(ranking.spelling, "_RECENT_WORDS", 3)
    vocabulary = Vocabulary({"trailpeak": 2})
    added = ["hammock", "lantern", "sleeping", "waterproof", "backpack", "stove", "carabiner"]
    for word in added:
        vocabulary.add([word])
    main, recent = vocabulary._index
    assert main.words + recent.words == len(added) + 1
    assert recent.words < 3
    assert vocabulary.correct("trailpaek") == "trailpeak"
    assert vocabulary.correct("hammok") == "hammock"
    assert vocabulary.correct("karabiner") == "carabiner"
    assert vocabulary.correct("stvoe") == "stove"


def test_words_outside_ascii_are_corrected_too() -> None:
    vocabulary = Vocabulary({"йогурт": 3, "brulee": 1})
    assert vocabulary.correct("йогрут") == "йогурт"
    assert vocabulary.correct("brulée") == "brulee"


def test_overlong_words_are_known_but_never_targets() -> None:
    long_word = "a" * (MAX_WORD_LENGTH + 1)
    vocabulary = Vocabulary({long_word: 1})
    assert long_word in vocabulary
    assert vocabulary.correct(long_word[:-1]) is None
    assert vocabulary.correct(long_word + "b") is None


@pytest.mark.parametrize("max_distance", [1, 2, 3])
def test_the_index_finds_what_a_scan_of_the_vocabulary_finds(max_distance: int) -> None:
    # A small alphabet makes near neighbours common, so every kind of edit pair occurs.
    rng = random.Random(max_distance)

    def word() -> str:
        return "".join(rng.choice("abcd") for _ in range(rng.randint(2, 11)))

    counts = {word(): rng.randint(1, 5) for _ in range(250)}
    vocabulary = Vocabulary(counts, max_distance=max_distance)
    for _ in range(300):
        token = word()
        allowed = 1 if len(token) < LONG_TOKEN else max_distance
        expected = None
        if token not in counts and len(token) >= 4:
            near = [(d, -c, w) for w, c in counts.items()
                    if abs(len(w) - len(token)) <= allowed
                    and (d := _osa_within(token, w, allowed)) <= allowed]
            expected = min(near)[2] if near else None
        assert vocabulary.correct(token) == expected, token


def test_vocabulary_refuses_bad_settings() -> None:
    with pytest.raises(ValueError, match="max_distance"):
        Vocabulary(max_distance=0)
    with pytest.raises(ValueError, match="max_distance"):
        Vocabulary(max_distance=4)
    with pytest.raises(ValueError, match="min_length"):
        Vocabulary(min_length=0)
    with pytest.raises(ValueError, match="positive"):
        Vocabulary({"tent": 0})


def test_correct_terms_reports_what_changed() -> None:
    vocabulary = Vocabulary(CATALOG)
    terms, changes = correct_terms(vocabulary, ("trailpaek", "tent", "vl-420", "jakcet"))
    assert terms == ("trailpeak", "tent", "vl-420", "jacket")
    assert changes == {"trailpaek": "trailpeak", "jakcet": "jacket"}


def test_correct_terms_keeps_each_term_once() -> None:
    terms, changes = correct_terms(Vocabulary(CATALOG), ("trailpaek", "trailpeak"))
    assert terms == ("trailpeak",)
    assert changes == {"trailpaek": "trailpeak"}
    assert correct_terms(Vocabulary(CATALOG), ()) == ((), {})


def test_words_of_keeps_alphabetic_non_stopwords_folded() -> None:
    text = "The TrailPeak Café Jacket, for 2.5 m of rain — VL-420 & 4K"
    assert words_of(text) == ["trailpeak", "cafe", "jacket", "rain", "vl"]


def test_words_of_splits_hyphenated_words_and_keeps_the_whole() -> None:
    assert words_of("Trail-Runner USB-C up-to-date") == [
        "trail-runner", "trail", "runner", "usb-c", "usb", "up-to-date", "date"]
    assert words_of("Men's boots, it's dry") == ["men's", "men", "boots", "dry"]
    assert words_of("tent tent") == ["tent", "tent"]


def test_catalog_words_and_query_tokens_meet_in_the_same_form() -> None:
    vocabulary = Vocabulary()
    vocabulary.add(words_of("Łódź Crème Brûlée Stove"))
    assert "lodz" in vocabulary
    assert vocabulary.correct("brulle") == "brulee"
