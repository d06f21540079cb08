"""The demo shop without a database: its vocabulary, how product text is composed, and the
structure of a shop generated in memory."""

from __future__ import annotations

import string
from collections import Counter

import numpy as np
import pytest

from data import catalog_vocab as vocab
from data import demo_shop as ds
from data.demo_shop import ShopSpec, SyntheticShop, build_shop

SUBCATEGORIES = [s for c in vocab.CATEGORIES for s in c.subcategories]
SUBCATEGORY_NAMES = [s.name for s in SUBCATEGORIES]


# --- vocabulary ----------------------------------------------------------------------------


def test_at_least_twenty_categories_each_with_three_to_eight_subcategories() -> None:
    assert len(vocab.CATEGORIES) >= 20
    assert len({c.name for c in vocab.CATEGORIES}) == len(vocab.CATEGORIES)
    for category in vocab.CATEGORIES:
        assert 3 <= len(category.subcategories) <= 8, category.name


def test_each_category_has_six_to_fifteen_brands_some_shared_across_categories() -> None:
    for category in vocab.CATEGORIES:
        assert 6 <= len(category.brands) <= 15, category.name
        assert len(set(category.brands)) == len(category.brands), category.name
    spread = Counter(b for c in vocab.CATEGORIES for b in c.brands)
    assert sum(1 for n in spread.values() if n > 1) >= 5


def test_every_brand_has_a_tier_and_every_tier_is_used() -> None:
    brands = {b for c in vocab.CATEGORIES for b in c.brands}
    assert brands == set(vocab.BRAND_TIERS)
    assert set(vocab.BRAND_TIERS.values()) == set(vocab.TIERS)
    assert set(vocab.TIER_PRICE_FACTOR) == set(vocab.TIERS) == set(vocab.TIER_WORDS)
    factors = [vocab.TIER_PRICE_FACTOR[t] for t in vocab.TIERS]
    assert factors == sorted(factors)


def test_subcategory_names_are_unique_and_complements_name_real_ones() -> None:
    assert len(set(SUBCATEGORY_NAMES)) == len(SUBCATEGORY_NAMES)
    for sub in SUBCATEGORIES:
        for other in sub.complements:
            assert other in SUBCATEGORY_NAMES, (sub.name, other)
            assert other != sub.name


@pytest.mark.parametrize(
    ("bought", "with_it"),
    [
        ("Smartphones", "Phone Cases"),
        ("Mirrorless Cameras", "Memory Cards"),
        ("Running Shoes", "Sports Socks"),
        ("Coffee Machines", "Coffee Beans"),
    ],
)
def test_natural_complements_are_declared(bought: str, with_it: str) -> None:
    sub = SUBCATEGORIES[SUBCATEGORY_NAMES.index(bought)]
    assert with_it in sub.complements


def test_every_subcategory_has_words_enough_to_compose_from() -> None:
    for sub in SUBCATEGORIES:
        assert sub.nouns and sub.materials and sub.uses, sub.name
        assert len(sub.modifiers) >= 3, sub.name
        assert len(sub.features) >= 3, sub.name
        assert sub.median_price > 0 and sub.price_sigma > 0, sub.name
        assert sub.variant_step >= 0, sub.name


def test_vocabulary_strings_are_safe_in_copy_text_and_arrays() -> None:
    texts: list[str] = [*vocab.BRAND_TIERS, *vocab.DESCRIPTION_TEMPLATES]
    texts += [*vocab.DESCRIPTION_CLOSERS, *(name for name, _ in vocab.COHORTS)]
    for category in vocab.CATEGORIES:
        texts.append(category.name)
        for sub in category.subcategories:
            texts += [sub.name, *sub.nouns, *sub.modifiers, *sub.features, *sub.materials]
            texts += [*sub.uses, *sub.audiences, *sub.colours, *sub.variants]
    for value in texts:
        assert not set(value) & {"\t", "\n", "\r", "\\"}, value


def test_description_templates_use_only_known_placeholders() -> None:
    known = {"brand", "noun", "noun_lc", "tier", "Tier", "use", "feature1", "feature2", "material"}
    for template in vocab.DESCRIPTION_TEMPLATES:
        fields = {f for _, f, _, _ in string.Formatter().parse(template) if f}
        assert fields <= known, template


def test_cohort_shares_sum_to_one() -> None:
    assert sum(share for _, share in vocab.COHORTS) == pytest.approx(1.0)


# --- composing product text ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("phrase", "plain"),
    [
        ("Trail Running Shoes", "trail running shoes"),
        ("5G Smartphone", "5G smartphone"),
        ("USB-C Charger", "USB-C charger"),
        ("OLED TV", "OLED TV"),
        ("CFexpress Card", "CFexpress card"),
        ("Bean-to-Cup Coffee Machine", "bean-to-cup coffee machine"),
        ("E-reader", "E-reader"),
        ("Chef's Knife", "chef's knife"),
    ],
)
def test_plain_case_lowers_ordinary_words_only(phrase: str, plain: str) -> None:
    assert ds.plain_case(phrase) == plain


def test_compose_title_for_apparel() -> None:
    title = ds.compose_title(
        "Trailpeak", "Trail Running Shoes", ["Waterproof"], audience="Men's", colour="Black"
    )
    assert title == "Trailpeak Men's Waterproof Trail Running Shoes — Black"


def test_compose_title_with_model_number_and_variant() -> None:
    title = ds.compose_title(
        "Voltra", "5G Smartphone", ["Unlocked"], model="VL-420", colour="Graphite",
        variant="256GB",
    )
    assert title == "Voltra VL-420 Unlocked 5G Smartphone — Graphite, 256GB"
    assert ds.compose_title("Optiq", "Prime Lens", ["Fast-Aperture"]) == (
        "Optiq Fast-Aperture Prime Lens"
    )


def test_compose_tags_are_clean_and_unique() -> None:
    tags = ds.compose_tags("Trail Running Shoes", ["Waterproof", "Trail"], "Men's")
    assert tags == ("waterproof", "trail", "running", "shoes", "men")
    assert ds.compose_tags("Soundbar with Subwoofer", ["3.1-Channel"]) == (
        "3-1-channel",
        "soundbar",
        "subwoofer",
    )


@pytest.mark.parametrize(
    ("word", "slug"),
    [("Men's", "men"), ("Kids'", "kids"), ("Noise-Cancelling", "noise-cancelling"),
     ("Thin and Light", "thin-and-light"), ("USB-C", "usb-c"), ("—", "")],
)
def test_tag_slug(word: str, slug: str) -> None:
    assert ds.tag_slug(word) == slug


def test_model_numbers_follow_the_brand() -> None:
    assert ds.model_number("Voltra", 420) == "VL-420"
    assert ds.model_number("Torqon", 180) == "TR-180"
    assert ds.model_number("Optiq", 610) == "OP-610"
    assert ds.model_number("Bean & Co", 100) == "BN-100"
    assert ds.model_number("", 5) == "X-5"


def test_usable_modifiers_do_not_repeat_the_noun() -> None:
    mice = SUBCATEGORIES[SUBCATEGORY_NAMES.index("Computer Mice")]
    kept = ds.usable_modifiers(mice, "Wireless Mouse")
    assert "Wireless" not in kept
    assert "Silent" in kept


def test_compose_description_fills_the_template() -> None:
    text = ds.compose_description(
        vocab.DESCRIPTION_TEMPLATES[0],
        brand="Trailpeak",
        noun="Trail Running Shoes",
        tier_word="versatile",
        use="race day",
        features=("a rock plate", "a grippy rubber outsole"),
        material="engineered mesh",
        closer="Ships within 24 hours.",
    )
    assert text == (
        "Trailpeak trail running shoes designed for race day, with a rock plate and a grippy "
        "rubber outsole. Made with engineered mesh. Ships within 24 hours."
    )


def test_retail_prices_end_the_way_shops_end_them() -> None:
    raw = np.array([0.2, 3.3, 9.9, 12.4, 99.6, 123.0, 999.0, 1234.0])
    assert ds.retail_price(raw).tolist() == [
        0.99, 3.49, 9.99, 11.99, 99.99, 124.99, 999.99, 1229.99,
    ]


# --- a shop in memory ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def shop() -> SyntheticShop:
    return build_shop(ShopSpec(products=3_000, users=1_500, events=60_000, seed=3))


def _rendered(shop: SyntheticShop) -> tuple[str, str, str]:
    return (
        "".join(shop.product_rows()),
        "".join(shop.user_rows()),
        "".join(shop.event_rows()),
    )


@pytest.mark.parametrize(
    ("products", "users", "events"),
    [(50, 10, 0), (50, 10, 1), (200, 2_000, 150), (300, 100, 3_000), (1_000, 300, 12_345)],
)
def test_the_history_holds_exactly_the_events_asked_for(
    products: int, users: int, events: int
) -> None:
    shop = build_shop(ShopSpec(products=products, users=users, events=events))
    assert shop.n_events == events
    assert len(shop.catalog.ids) == products
    assert len(shop.users.ids) == users
    assert "".join(shop.event_rows()).count("\n") == events


def test_a_seed_gives_the_same_rows_and_another_seed_other_rows() -> None:
    spec = ShopSpec(products=200, users=80, events=2_000, seed=21)
    first, again = _rendered(build_shop(spec)), _rendered(build_shop(spec))
    assert first == again
    other = _rendered(build_shop(ShopSpec(products=200, users=80, events=2_000, seed=22)))
    assert all(a != b for a, b in zip(first, other, strict=True))


def test_a_longer_history_keeps_the_same_catalogue() -> None:
    short = build_shop(ShopSpec(products=200, users=80, events=1_000, seed=4))
    long = build_shop(ShopSpec(products=200, users=80, events=5_000, seed=4))
    assert "".join(short.product_rows()) == "".join(long.product_rows())
    assert "".join(short.user_rows()) == "".join(long.user_rows())


@pytest.mark.parametrize(
    "changes",
    [{"products": 0}, {"users": 0}, {"events": -1}, {"days": 1}],
)
def test_spec_refuses_impossible_shops(changes: dict[str, int]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        ShopSpec(**changes)  # type: ignore[arg-type]


def test_spec_refuses_a_naive_end() -> None:
    with pytest.raises(ValueError, match="time zone"):
        ShopSpec(end=ShopSpec().end.replace(tzinfo=None))


def test_ids_are_zero_padded_and_counted_from_one(shop: SyntheticShop) -> None:
    assert shop.catalog.ids[0] == "P000001"
    assert shop.users.ids[-1] == "U001500"
    first_row = next(shop.event_rows()).split("\n", 1)[0].split("\t")
    assert first_row[0] == "E000000001"
    assert first_row[5] == shop.session_ids[0] == "S00000001"


def test_events_happen_after_their_product_and_user_exist(shop: SyntheticShop) -> None:
    users = shop.session_user[shop.event_session]
    assert (shop.catalog.created_ms[shop.event_product] <= shop.event_ms).all()
    assert (shop.users.created_ms[users] <= shop.event_ms).all()
    assert (shop.event_ms >= ds._ms(shop.spec.start)).all()
    assert (shop.event_ms < ds._ms(shop.spec.end)).all()


def test_event_ids_follow_time_and_sessions_run_forward(shop: SyntheticShop) -> None:
    assert (np.diff(shop.event_ms) >= 0).all()
    # Within a session, in event-id order, times strictly increase.
    order = np.argsort(shop.event_session, kind="stable")
    session, moment = shop.event_session[order], shop.event_ms[order]
    same = session[1:] == session[:-1]
    assert (moment[1:][same] > moment[:-1][same]).all()


def test_sessions_focus_on_one_subcategory(shop: SyntheticShop) -> None:
    sub = shop.catalog.sub[shop.event_product]
    pairs, counts = np.unique(shop.event_session * 1_000 + sub, return_counts=True)
    modal = np.zeros(len(shop.session_ids))
    np.maximum.at(modal, pairs // 1_000, counts)
    sizes = np.bincount(shop.event_session, minlength=len(shop.session_ids))
    assert (modal / sizes).mean() > 0.8


def test_catalogue_proportions(shop: SyntheticShop) -> None:
    catalog = shop.catalog
    assert catalog.new.mean() == pytest.approx(ds.NEW_ARRIVAL_SHARE, abs=0.02)
    assert (~catalog.in_stock).mean() == pytest.approx(ds.OUT_OF_STOCK_SHARE, abs=0.015)
    assert catalog.promoted.mean() == pytest.approx(ds.PROMOTED_SHARE, abs=0.015)
    assert (catalog.price > 0).all()
    assert np.unique(catalog.cat).size == len(vocab.CATEGORIES)
    start, end = ds._ms(shop.spec.start), ds._ms(shop.spec.end)
    assert ((catalog.created_ms >= start) == catalog.new).all()
    assert (catalog.created_ms < end).all()


def test_brand_tiers_move_prices(shop: SyntheticShop) -> None:
    rel = shop.catalog.price_rel
    means = [rel[shop.catalog.tier == t].mean() for t in range(len(vocab.TIERS))]
    assert means[0] < -0.2 < means[1] < 0.2 < means[2]


def test_funnel_rates_are_near_the_documented_ones(shop: SyntheticShop) -> None:
    views, clicks, carts, purchases = np.bincount(shop.event_type, minlength=4)
    assert clicks / views == pytest.approx(ds.CLICK_RATE, abs=0.05)
    assert carts / clicks == pytest.approx(ds.CART_RATE, abs=0.05)
    assert purchases / carts == pytest.approx(ds.PURCHASE_RATE, abs=0.12)


def test_device_mix(shop: SyntheticShop) -> None:
    share = np.bincount(shop.session_device, minlength=3) / len(shop.session_ids)
    assert share == pytest.approx(ds.DEVICE_SHARES, abs=0.03)


def test_shoppers_keep_to_their_favourite_categories(shop: SyntheticShop) -> None:
    users = shop.session_user[shop.event_session]
    counts = np.zeros((len(shop.users.ids), len(vocab.CATEGORIES)))
    np.add.at(counts, (users, shop.catalog.cat[shop.event_product]), 1)
    total = counts.sum(axis=1)
    regular = total >= 20
    assert (counts[regular].max(axis=1) / total[regular]).mean() > 0.6


def test_price_band_shows_in_what_shoppers_buy(shop: SyntheticShop) -> None:
    bought = shop.event_type == 3
    band = shop.users.price_mu[shop.session_user[shop.event_session[bought]]]
    paid = shop.catalog.price_rel[shop.event_product[bought]]
    assert np.corrcoef(band, paid)[0, 1] > 0.4


def test_complements_are_bought_together(shop: SyntheticShop) -> None:
    names = [s.name for s in shop.taxonomy.subcategories]
    bought = shop.event_type == 3
    baskets: dict[int, set[str]] = {}
    for session, product in zip(
        shop.event_session[bought].tolist(), shop.event_product[bought].tolist(), strict=True
    ):
        baskets.setdefault(session, set()).add(names[shop.catalog.sub[product]])
    complementary = sum(
        1
        for basket in baskets.values()
        if any(other in basket for name in basket for other in
               shop.taxonomy.subcategories[names.index(name)].complements)
    )
    assert complementary >= 20


def test_seasonal_categories_rise_and_fall(shop: SyntheticShop) -> None:
    names = [c.name for c in vocab.CATEGORIES]
    day = (shop.event_ms - ds._ms(shop.spec.start)) // ds.DAY_MS
    category = shop.catalog.cat[shop.event_product]
    early, late = category[day < 30], category[day >= shop.spec.days - 30]

    def share(events: np.ndarray, name: str) -> float:
        return float((events == names.index(name)).mean())

    assert share(late, "Garden") < 0.7 * share(early, "Garden")
    assert share(late, "Toys & Games") > 1.3 * share(early, "Toys & Games")


def test_new_arrivals_get_traffic_once_they_exist(shop: SyntheticShop) -> None:
    on_new = shop.catalog.new[shop.event_product]
    assert 0.02 < on_new.mean() < 0.3
    age_days = (shop.event_ms - shop.catalog.created_ms[shop.event_product]) / ds.DAY_MS
    assert age_days[on_new].min() >= 0
    assert np.median(age_days[on_new]) < 45


def test_every_cold_start_bucket_is_populated(shop: SyntheticShop) -> None:
    per_user = np.bincount(shop.session_user[shop.event_session], minlength=len(shop.users.ids))
    buckets = [
        (per_user == 0).sum(),
        ((per_user >= 1) & (per_user <= 2)).sum(),
        ((per_user >= 3) & (per_user <= 5)).sum(),
        (per_user > 5).sum(),
    ]
    assert min(buckets) >= 0.05 * len(shop.users.ids)
    assert per_user.max() >= 200


def test_popularity_is_skewed(shop: SyntheticShop) -> None:
    per_product = np.sort(np.bincount(shop.event_product, minlength=len(shop.catalog.ids)))
    top_tenth = per_product[-len(per_product) // 10 :].sum()
    assert top_tenth / per_product.sum() > 0.4


def test_what_is_bought_was_looked_at_longer(shop: SyntheticShop) -> None:
    views = np.flatnonzero(shop.event_type == 0)
    bought = set(
        zip(
            shop.event_session[shop.event_type == 3].tolist(),
            shop.event_product[shop.event_type == 3].tolist(),
            strict=True,
        )
    )
    later_bought = np.array(
        [(s, p) in bought for s, p in zip(
            shop.event_session[views].tolist(), shop.event_product[views].tolist(), strict=True
        )]
    )
    dwell = shop.event_dwell[views]
    assert np.median(dwell[later_bought]) > 1.4 * np.median(dwell[~later_bought])


def test_every_event_price_is_its_product_price(shop: SyntheticShop) -> None:
    rows = "".join(shop.event_rows()).splitlines()
    prices = {pid: f"{p:.2f}" for pid, p in zip(shop.catalog.ids, shop.catalog.price.tolist(),
                                                 strict=True)}
    for row in rows[:5_000]:
        fields = row.split("\t")
        assert fields[8] == prices[fields[2]]


def test_progress_reports_each_stage() -> None:
    seen: list[tuple[str, int, int]] = []
    build_shop(ShopSpec(products=100, users=50, events=500), lambda *a: seen.append(a))
    stages = [stage for stage, _, _ in seen]
    assert stages[0] == "catalog" and "users" in stages and stages[-1] == "events"
    assert seen[-1][1] == seen[-1][2] == 500
