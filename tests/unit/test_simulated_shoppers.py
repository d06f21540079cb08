"""Simulated shoppers without a server: they want what the demo history says they want,
look at the top of a list more than its bottom, and behave the same for the same seed."""

from __future__ import annotations

import numpy as np
import pytest

from data import demo_shop as ds
from data.demo_shop import CatalogAndShoppers, ShopSpec, build_catalog_and_shoppers
from data.simulate import SimulationPlan, parse_duration, shopper_order
from data.simulated_shoppers import (
    Tastes,
    cart_probability,
    click_probability,
    examination,
    purchase_probability,
    react,
)

SPEC = ShopSpec(products=600, users=200, events=0, seed=5)


@pytest.fixture(scope="module")
def shop() -> CatalogAndShoppers:
    return build_catalog_and_shoppers(SPEC)


@pytest.fixture(scope="module")
def tastes(shop: CatalogAndShoppers) -> Tastes:
    return Tastes(shop)


def test_the_catalog_and_shoppers_are_the_ones_the_shop_writes(
    shop: CatalogAndShoppers,
) -> None:
    full = ds.build_shop(ShopSpec(products=600, users=200, events=3_000, seed=5))
    assert shop.catalog.ids == full.catalog.ids
    assert shop.catalog.titles == full.catalog.titles
    np.testing.assert_array_equal(shop.catalog.price, full.catalog.price)
    assert shop.users.ids == full.users.ids
    for name in ("slot_cat", "slot_weight", "slot_sub", "slot_brand", "price_mu"):
        np.testing.assert_array_equal(getattr(shop.users, name), getattr(full.users, name))


def test_utility_is_between_zero_and_one_and_zero_for_unknown_products(tastes: Tastes) -> None:
    everything = np.arange(tastes.n_products)
    for user in range(tastes.n_users):
        u = tastes.utility(user, everything)
        assert u.shape == (tastes.n_products,)
        assert (u >= 0).all() and (u <= 1).all()
    assert tastes.utility_of("U000001", ["NOT-IN-THE-SPEC"]).tolist() == [0.0]


def test_a_shopper_prefers_their_favourite_categories(
    shop: CatalogAndShoppers, tastes: Tastes
) -> None:
    everything = np.arange(tastes.n_products)
    for user in range(tastes.n_users):
        favourite = np.isin(shop.catalog.cat, shop.users.slot_cat[user])
        u = tastes.utility(user, everything)
        assert u[favourite].mean() > 3 * u[~favourite].mean(), user


def test_a_shopper_prefers_their_subcategory_within_a_favourite_category(
    shop: CatalogAndShoppers, tastes: Tastes
) -> None:
    """Mostly, not always: a few products of another subcategory at the right price can
    beat the preferred one's, as in the generator."""
    compared = wins = 0
    for user in range(tastes.n_users):
        for cat, sub in zip(shop.users.slot_cat[user], shop.users.slot_sub[user], strict=True):
            in_category = np.flatnonzero(shop.catalog.cat == cat)
            preferred = in_category[shop.catalog.sub[in_category] == sub]
            others = in_category[shop.catalog.sub[in_category] != sub]
            if cat < 0 or preferred.size == 0 or others.size == 0:
                continue
            compared += 1
            u_preferred = tastes.utility(user, preferred).mean()
            wins += u_preferred > tastes.utility(user, others).mean()
    assert compared > 100
    assert wins > 0.8 * compared


def test_a_shopper_prefers_products_in_their_price_band(
    shop: CatalogAndShoppers, tastes: Tastes
) -> None:
    """Within one subcategory, products priced for the shopper's band beat those far off."""
    compared = 0
    for user in range(tastes.n_users):
        for sub in shop.users.slot_sub[user]:
            items = np.flatnonzero(shop.catalog.sub == sub)
            gap = np.abs(shop.catalog.price_rel[items] - shop.users.price_mu[user])
            near, far = items[gap < 0.15], items[gap > 0.6]
            if sub < 0 or near.size == 0 or far.size == 0:
                continue
            compared += 1
            assert tastes.utility(user, near).mean() > tastes.utility(user, far).mean()
    assert compared > 50


def test_position_bias_lowers_clicks_down_the_list(tastes: Tastes) -> None:
    """The same product at every rank: only the position changes the clicks."""
    user = 0
    best = tastes.product_ids[int(tastes.ranked_for(user)[0])]
    clicks = np.zeros(10)
    rng = np.random.default_rng(1)
    for _ in range(3_000):
        for reaction in react(tastes, user, [best] * 10, rng):
            clicks[reaction.rank] += 1
    assert clicks[0] > 1.4 * clicks[3] > 0
    assert clicks[3] > 1.2 * clicks[9] > 0
    expected = examination(np.arange(10))
    np.testing.assert_allclose(clicks / clicks[0], expected / expected[0], atol=0.06)
    assert examination(np.arange(3), row=2)[0] < examination(np.arange(3), row=0)[0]


def test_shoppers_click_lists_ranked_by_their_tastes_far_more_than_random_lists(
    tastes: Tastes,
) -> None:
    """The signal an experiment needs: the same shoppers, a list ordered by what they want
    against ten products drawn at random."""
    rng = np.random.default_rng(2)
    ranked = random = 0
    for user in range(tastes.n_users):
        best = [tastes.product_ids[i] for i in tastes.ranked_for(user)[:10]]
        for _ in range(5):
            drawn = rng.choice(tastes.n_products, 10, replace=False)
            ranked += len(react(tastes, user, best, rng))
            random += len(react(tastes, user, [tastes.product_ids[i] for i in drawn], rng))
    assert ranked > 5 * random > 0


def test_the_order_of_a_list_changes_the_clicks(tastes: Tastes) -> None:
    """Interleaving needs it: the same ten products, best first or best last."""
    rng = np.random.default_rng(3)
    top_first = top_last = 0.0
    for user in range(tastes.n_users):
        best = [tastes.product_ids[i] for i in tastes.ranked_for(user)[:10]]
        for _ in range(10):
            top_first += sum(r.utility for r in react(tastes, user, best, rng))
            top_last += sum(r.utility for r in react(tastes, user, best[::-1], rng))
    assert top_first > 1.5 * top_last


def test_funnel_probabilities_grow_with_utility_on_the_generator_scale() -> None:
    u = np.array([0.0, 0.5, 1.0])
    assert click_probability(u)[2] == pytest.approx(1.25 * ds.CLICK_RATE)
    assert click_probability(u)[0] == 0.0
    assert np.all(np.diff(cart_probability(u)) > 0)
    assert cart_probability(u)[2] == pytest.approx(ds.CART_RATE * 1.3)
    in_stock = purchase_probability(u, np.array([True] * 3))
    assert in_stock[2] == pytest.approx(ds.PURCHASE_RATE)
    assert np.all(purchase_probability(u, np.array([False] * 3)) < in_stock)


def test_the_same_seed_gives_the_same_reactions_and_queries(tastes: Tastes) -> None:
    ids = tastes.product_ids[:40]

    def play(seed: int) -> tuple[list[object], list[str], int]:
        rng = np.random.default_rng(seed)
        reactions: list[object] = []
        queries = []
        for user in range(20):
            reactions.extend(react(tastes, user, ids, rng))
            queries.append(tastes.search_query(user, rng))
        return reactions, queries, tastes.landing_product(0, rng)

    assert play(7) == play(7)
    assert play(7) != play(8)


def test_search_queries_use_the_words_of_a_favourite_subcategory(
    shop: CatalogAndShoppers, tastes: Tastes
) -> None:
    rng = np.random.default_rng(4)
    for user in range(tastes.n_users):
        query = tastes.search_query(user, rng)
        subs = [shop.taxonomy.subcategories[s] for s in shop.users.slot_sub[user] if s >= 0]
        nouns = {ds.plain_case(noun) for s in subs for noun in s.nouns}
        assert any(query.endswith(noun) for noun in nouns), (user, query)


def test_every_shopper_visits_before_anyone_returns() -> None:
    order = shopper_order(50, 120, seed=9)
    assert sorted(order[:50]) == list(range(50))
    assert sorted(order[50:100]) == list(range(50))
    assert order == shopper_order(50, 120, seed=9)
    assert order != shopper_order(50, 120, seed=10)


@pytest.mark.parametrize(("text", "seconds"), [("60s", 60), ("5m", 300), ("1h", 3600),
                                               ("90", 90), ("0.5s", 0.5)])
def test_durations_read_as_seconds(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["0s", "61m", "2h", "soon", "-5s", "5d"])
def test_durations_out_of_bounds_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"duration|at most 1h"):
        parse_duration(text)


@pytest.mark.parametrize("changes", [{"shoppers": 0}, {"shoppers": 100_001},
                                     {"concurrency": 33}, {"concurrency": 0},
                                     {"duration_seconds": 3_601}, {"seed": -1}])
def test_plans_out_of_bounds_are_refused(changes: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="must be"):
        SimulationPlan(**{"spec": SPEC, "shoppers": 10, **changes})  # type: ignore[arg-type]
