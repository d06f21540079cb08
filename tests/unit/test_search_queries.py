"""The search evaluation set, without a database: queries written from a catalogue composed
the demo shop's way, and the graded relevance that comes with them."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import pytest

from data import catalog_vocab as vocab
from data.demo_shop import ShopSpec, build_shop, compose_tags, compose_title
from evaluation import search_queries as sq
from evaluation.search_queries import CatalogEntry, SearchCase, search_cases


def _product(
    pid: str,
    category: str,
    subcategory: str,
    brand: str,
    noun: str,
    modifiers: tuple[str, ...],
    *,
    model: str = "",
    variant: str = "",
) -> CatalogEntry:
    title = compose_title(brand, noun, modifiers, model=model, variant=variant)
    return CatalogEntry(pid, title, brand, category, subcategory, compose_tags(noun, modifiers))


# A catalogue small enough to grade by hand. No audiences or colours, so each product's exact
# query is fixed (up to the capitals of a cased brand).
A = _product("A", "Footwear", "Running Shoes", "Trailpeak", "Trail Running Shoes", ("Waterproof",))
B = _product(
    "B", "Footwear", "Running Shoes", "Pacer", "Trail Running Shoes", ("Waterproof", "Lightweight")
)
C = _product("C", "Footwear", "Running Shoes", "Kinetica", "Road Running Shoes", ("Cushioned",))
D = _product("D", "Footwear", "Sandals", "Solefit", "Sandals", ("Waterproof",))
E = _product(
    "E", "Phones & Tablets", "Smartphones", "Voltra", "5G Smartphone", ("Unlocked",),
    model="VL-420", variant="256GB",
)
F = _product("F", "Home Furniture", "Sofas", "Oakhaus", "Sofa", ("Velvet",))
G = _product("G", "Garden", "Outdoor Furniture", "Verdant", "Rattan Corner Sofa", ("Teak",))
# Its tags went missing: only a query that asks for no tag can find it at grade 2.
H = CatalogEntry("H", "Kitchara Non-Stick Frying Pan", "Kitchara", "Kitchen", "Frying Pans", ())
# Not composed from the vocabulary: graded, never written from.
J = CatalogEntry("J", "Crocky Garden Clogs", "Crocky", "Footwear", "Clogs", ("garden", "clogs"))
# Same brand as A and every word of A's exact query: a twin, as good an answer to it as A.
K = _product(
    "K", "Footwear", "Running Shoes", "Trailpeak", "Trail Running Shoes",
    ("Waterproof", "Lightweight"),
)
SMALL = [A, B, C, D, E, F, G, H, J, K]
BY_ID = {p.product_id: p for p in SMALL}
EXACT = {
    "A": "trailpeak waterproof trail running shoes",
    "B": "pacer waterproof lightweight trail running shoes",
    "C": "kinetica cushioned road running shoes",
    "D": "solefit waterproof sandals",
    "E": "voltra vl-420 5g smartphone",
    "F": "oakhaus velvet sofa",
    "G": "verdant teak rattan corner sofa",
    "H": "kitchara non-stick frying pan",
    "K": "trailpeak waterproof lightweight trail running shoes",
}


@pytest.fixture(scope="module")
def small_cases() -> list[SearchCase]:
    return search_cases(SMALL, 200, seed=11)


def _by_kind(cases: list[SearchCase], kind: str) -> list[SearchCase]:
    found = [c for c in cases if c.kind == kind]
    assert found, kind
    return found


def _osa(a: str, b: str) -> int:
    """Edit distance counting a swap of adjacent letters as one edit."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[len(a)][len(b)]


# --- the small catalogue, graded by hand ---------------------------------------------------


def test_exact_queries_name_brand_model_modifiers_and_noun(small_cases: list[SearchCase]) -> None:
    for case in _by_kind(small_cases, "exact"):
        assert case.target is not None
        assert case.query.lower() == EXACT[case.target]


def test_exact_gains_target_and_twins_three_attribute_match_two_category_one(
    small_cases: list[SearchCase],
) -> None:
    expected = {
        "A": {"A": 3, "K": 3, "B": 2, "C": 1, "D": 1, "J": 1},
        "B": {"B": 3, "K": 2, "A": 1, "C": 1, "D": 1, "J": 1},
        "K": {"K": 3, "B": 2, "A": 1, "C": 1, "D": 1, "J": 1},
        "D": {"D": 3, "A": 1, "B": 1, "C": 1, "K": 1, "J": 1},
        "E": {"E": 3},
        "F": {"F": 3},
        "H": {"H": 3},
    }
    exact = _by_kind(small_cases, "exact")
    assert {c.target for c in exact} >= set(expected)
    for case in exact:
        assert case.target is not None
        if case.target in expected:
            assert dict(case.gains) == expected[case.target], case.query


def test_typo_queries_are_one_edit_from_their_exact_query_with_its_gains(
    small_cases: list[SearchCase],
) -> None:
    exact_gains = {c.target: dict(c.gains) for c in small_cases if c.kind == "exact"}
    for case in _by_kind(small_cases, "typo"):
        assert case.target is not None
        typed, meant = case.query.lower().split(), EXACT[case.target].split()
        assert len(typed) == len(meant)
        changed = [(t, m) for t, m in zip(typed, meant, strict=True) if t != m]
        assert len(changed) == 1, case.query
        typo, word = changed[0]
        assert _osa(typo, word) == 1 and len(word) >= sq.MIN_TYPO_LETTERS
        assert word in BY_ID[case.target].brand.lower().split() or len(word) == max(
            len(w) for w in meant if w.isalpha()
        )
        if case.target in exact_gains:
            assert dict(case.gains) == exact_gains[case.target]


def test_attribute_gains_follow_the_tags_within_the_subcategory(
    small_cases: list[SearchCase],
) -> None:
    for case in _by_kind(small_cases, "attribute"):
        assert case.target is None
        assert sq.GRADE_TARGET not in case.gains.values()
        words = set(case.query.split())
        seeds = [p for p in SMALL if p.tags and words <= set(p.tags)]
        assert seeds, case.query
        home = seeds[0]
        for p in SMALL:
            if p.subcategory == home.subcategory and words <= set(p.tags):
                want: float | None = 2
            elif p.category == home.category:
                want = 1
            else:
                want = None
            assert case.gains.get(p.product_id) == want, (case.query, p.product_id)


def test_paraphrases_use_other_words_and_grade_the_whole_subcategory(
    small_cases: list[SearchCase],
) -> None:
    queries = {c.query: dict(c.gains) for c in _by_kind(small_cases, "paraphrase")}
    # the subcategory's name, or a synonym of it: every running shoe is a match
    for phrase in ("running shoes", "running trainers", "jogging shoes"):
        if phrase in queries:
            assert queries[phrase] == {"A": 2, "B": 2, "C": 2, "K": 2, "D": 1, "J": 1}
    assert {"running shoes", "running trainers", "jogging shoes"} & set(queries)
    # a modifier narrows the matches to the products that carry it
    if "waterproof running trainers" in queries:
        want = {"A": 2, "B": 2, "K": 2, "C": 1, "D": 1, "J": 1}
        assert queries["waterproof running trainers"] == want
    for query, gains in queries.items():
        assert query not in EXACT.values()
        assert max(gains.values()) == 2


def test_a_noun_synonym_reaches_other_categories_at_grade_one(
    small_cases: list[SearchCase],
) -> None:
    queries = {c.query: dict(c.gains) for c in _by_kind(small_cases, "paraphrase")}
    # "couch" stands for the noun "sofa", which the garden's rattan corner sofa carries...
    noun_level = [q for q in ("couch", "settee") if q in queries]
    assert noun_level
    for query in noun_level:
        assert queries[query] == {"F": 2, "G": 1}
    # ...while "couches" stands for the Sofas subcategory, and stays in its department.
    for name in ("couches", "settees", "sofas"):
        if name in queries:
            assert queries[name] == {"F": 2}


def test_cases_without_a_match_are_skipped(small_cases: list[SearchCase]) -> None:
    with_h = [c for c in small_cases if "H" in c.gains]
    assert {c.kind for c in with_h} >= {"exact", "paraphrase"}
    for case in with_h:
        # H has no tags: only its own exact (and typo) queries and the plain subcategory
        # name can rate it 2 or more; everything else would have no match and is dropped.
        assert case.kind != "attribute"
        assert max(case.gains.values()) >= 2
        if case.kind == "paraphrase":
            assert case.query in {"frying pans", "fry pans", "frypans"}


def test_products_the_vocabulary_cannot_read_are_graded_but_never_targets(
    small_cases: list[SearchCase],
) -> None:
    assert all(c.target != "J" for c in small_cases)
    assert all(c.gains.get("J") in {None, 1} for c in small_cases)


def test_no_query_appears_twice(small_cases: list[SearchCase]) -> None:
    queries = [c.query.casefold() for c in small_cases]
    assert len(queries) == len(set(queries))


# --- properties on a generated shop --------------------------------------------------------


@pytest.fixture(scope="module")
def shop_catalog() -> list[CatalogEntry]:
    shop = build_shop(ShopSpec(products=600, users=10, events=0, seed=5))
    c, t = shop.catalog, shop.taxonomy
    return [
        CatalogEntry(
            product_id=c.ids[i],
            title=c.titles[i],
            brand=t.brands[int(c.brand[i])],
            category=t.categories[int(c.cat[i])].name,
            subcategory=t.subcategories[int(c.sub[i])].name,
            tags=tuple(c.tags[i]),
        )
        for i in range(len(c.ids))
    ]


@pytest.fixture(scope="module")
def shop_cases(shop_catalog: list[CatalogEntry]) -> list[SearchCase]:
    return search_cases(shop_catalog, 120, seed=2)


def test_every_demo_shop_title_reads_back_into_its_vocabulary(
    shop_catalog: list[CatalogEntry],
) -> None:
    for entry in shop_catalog:
        assert sq._parse(entry) is not None, entry.title


def test_same_seed_same_cases_other_seed_other_cases(
    shop_catalog: list[CatalogEntry], shop_cases: list[SearchCase]
) -> None:
    assert search_cases(list(reversed(shop_catalog)), 120, seed=2) == shop_cases
    assert search_cases(shop_catalog, 120, seed=3) != shop_cases


def test_the_kinds_share_the_cases_equally(shop_cases: list[SearchCase]) -> None:
    assert len(shop_cases) == 120
    assert Counter(c.kind for c in shop_cases) == dict.fromkeys(sq.KINDS, 30)
    assert len({c.query.casefold() for c in shop_cases}) == 120


def test_queries_read_like_typed_ones(shop_cases: list[SearchCase]) -> None:
    for case in shop_cases:
        assert "—" not in case.query and "," not in case.query and "'" not in case.query
        assert case.query == " ".join(case.query.split())
        if case.kind in {"attribute", "paraphrase"}:
            assert case.query == case.query.lower()
    lower = sum(c.query == c.query.lower() for c in shop_cases)
    assert lower > 0.75 * len(shop_cases)


def test_grades_respect_the_taxonomy(
    shop_catalog: list[CatalogEntry], shop_cases: list[SearchCase]
) -> None:
    by_id = {e.product_id: e for e in shop_catalog}
    for case in shop_cases:
        assert set(case.gains.values()) <= {1.0, 2.0, 3.0}
        best = [pid for pid, g in case.gains.items() if g >= 2]
        assert best
        home = by_id[best[0]]
        if case.kind in {"exact", "typo"}:
            assert case.target is not None and case.gains[case.target] == 3
            assert home.subcategory == by_id[case.target].subcategory
        else:
            assert case.target is None and 3 not in case.gains.values()
        for pid in best:
            assert by_id[pid].subcategory == home.subcategory, case.query
        for entry in shop_catalog:
            if entry.category == home.category:
                assert entry.product_id in case.gains, case.query
            elif entry.product_id in case.gains:
                # another department only when it carries every word the query is after
                assert case.gains[entry.product_id] == 1
                assert set(case.query.lower().split()) & set(entry.tags), case.query


def test_a_tiny_catalogue_gives_fewer_cases_not_an_endless_loop() -> None:
    cases = search_cases([A], 40, seed=1)
    assert 0 < len(cases) < 40
    assert search_cases([], 10, seed=1) == []
    assert search_cases([J], 10, seed=1) == []
    assert search_cases(SMALL, 0, seed=1) == []


# --- pieces --------------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["trailpeak", "waterproof", "noise-cancelling", "sofa"])
def test_misspell_makes_one_edit_and_keeps_the_first_letter(word: str) -> None:
    rng = random.Random(0)
    for _ in range(50):
        typo = sq.misspell(word, rng)
        assert typo != word and typo[0] == word[0]
        assert _osa(typo, word) == 1


def test_every_synonym_rewrites_a_phrase_the_catalogue_really_uses() -> None:
    used = set()
    for category in vocab.CATEGORIES:
        for sub in category.subcategories:
            used.add(sub.name.lower())
            used.update(noun.lower() for noun in sub.nouns)
    assert set(sq.SYNONYMS) <= used, set(sq.SYNONYMS) - used
    for key, alternatives in sq.SYNONYMS.items():
        assert alternatives and key not in alternatives
        assert all(a == a.lower() and "'" not in a for a in alternatives), key


def test_load_catalog_reads_products_in_id_order() -> None:
    rows = [
        SimpleNamespace(
            product_id="P1", title="Orbi Tablet", brand="Orbi", category="Phones & Tablets",
            subcategory="Tablets", tags=["tablet"],
        ),
        SimpleNamespace(
            product_id="P2", title="Hand-made", brand=None, category="Misc", subcategory=None,
            tags=None,
        ),
    ]
    seen: list[str] = []

    class Connection:
        def execute(self, statement: Any) -> Any:
            seen.append(str(statement))
            return SimpleNamespace(all=lambda: rows)

    @contextmanager
    def connect() -> Iterator[Connection]:
        yield Connection()

    database: Any = SimpleNamespace(engine=SimpleNamespace(connect=connect))
    assert sq.load_catalog(database) == [
        CatalogEntry("P1", "Orbi Tablet", "Orbi", "Phones & Tablets", "Tablets", ("tablet",)),
        CatalogEntry("P2", "Hand-made", "", "Misc", "", ()),
    ]
    assert "FROM products ORDER BY product_id" in seen[0]
