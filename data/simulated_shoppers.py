"""The demo shop's own shoppers, as simulated visitors: what they want and how they react to
a list.

A simulated shopper is one of the users `data.demo_shop` generated, with the latent tastes
the generator drew for them: favourite categories with weights, a preferred subcategory in
each, for some a loyal brand per favourite, and a price band. Simulated shoppers have to
want what the demo history says they want, or an experiment run with them would measure
noise, so `Tastes` scores a product for a shopper from those very draws and the
generator's own constants (`_price_fit`, `BRAND_BOOST`, `EXPLORE_RATE`,
`PREFERRED_SUBCATEGORY_RATE`).

**Utility** of product p for shopper s, in [0, 1] (1: the top favourite category, the
preferred subcategory, a perfect price fit and the loyal brand, or no loyalty):

    u = category · subcategory · brand · price_fit
    category    = (1 - EXPLORE_RATE) · w(s, cat p) / max w(s)
                  + EXPLORE_RATE · traffic(cat p) / max traffic
    subcategory = 1 for the shopper's preferred subcategory of that favourite,
                  else 1 - PREFERRED_SUBCATEGORY_RATE
    brand       = 1 / BRAND_BOOST when the shopper is loyal to another brand in that
                  category, else 1
    price_fit   = exp(-(price_rel - price_mu)^2 / (2 PRICE_TOLERANCE^2))   (the generator's)

where w are the favourite weights as they stand at the end of the history (the generator's
taste drift applied in full: the simulation plays after the history). Seasons are left out:
the simulation has no calendar date of its own.

**Choice model** (position-based, the examination hypothesis): a shopper looks down a list;
the item at 0-based rank r (of row k on the home page) is examined with probability
`(1 + r)^-0.7 · (1 + k)^-0.7`, and an examined item is clicked with probability
`min(0.95, 1.25 · CLICK_RATE · u)`, so a perfect match clicks as often as the best-fitting
view of the generated history (`CLICK_RATE · (0.5 + 0.75)`) and a product outside the
shopper's interests almost never. After a click: add to cart with
`min(0.9, CART_RATE · (0.3 + u))`, then purchase with
`min(0.95, PURCHASE_RATE · (0.5 + 0.5 u))`, times 0.3 when out of stock (the generator's
funnel, with the utility where the generator has the price fit). Each item's draws are
independent given its rank and utility, so a list ordered by the shopper's tastes draws
clearly more clicks than the same products shuffled: the signal an A/B test or an
interleaving experiment is there to find.

Everything random is drawn from a numpy `Generator` the caller seeds; nothing reads a
clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from data.demo_shop import (
    BRAND_BOOST,
    CART_RATE,
    CLICK_RATE,
    DEVICES,
    EXPLORE_RATE,
    PREFERRED_SUBCATEGORY_RATE,
    PURCHASE_RATE,
    CatalogAndShoppers,
    ShopSpec,
    _price_fit,
    build_catalog_and_shoppers,
    plain_case,
    usable_modifiers,
)

Array = npt.NDArray[Any]

EXAMINATION_EXPONENT = 0.7  # examination probability (1 + rank)^-this
CLICK_SCALE = 1.25  # a perfect match clicks at 1.25 · CLICK_RATE, the history's best view
MAX_CLICK = 0.95
MAX_CART = 0.9
MAX_PURCHASE = 0.95
OUT_OF_STOCK_PURCHASE = 0.3  # the generator's penalty on buying what is out of stock
MODIFIER_RATE = 0.5  # share of search queries that add a modifier to the noun


class Tastes:
    """What each shopper of a demo-shop spec wants from each of its products.

    Products and shoppers are addressed by index (the order the generator wrote them:
    index i is id P{i+1:06d} / U{i+1:06d}); `product_indexes` maps the ids a server answers
    with, -1 for a product the spec does not have (added since: no shopper has a taste for
    it, so its utility is 0).
    """

    def __init__(self, shop: CatalogAndShoppers) -> None:
        self.spec = shop.spec
        self._taxonomy = shop.taxonomy
        self._catalog = catalog = shop.catalog
        self._users = users = shop.users
        self.product_ids: list[str] = catalog.ids
        self.user_ids: list[str] = users.ids
        self.titles: list[str] = catalog.titles
        self._product_at = {pid: i for i, pid in enumerate(catalog.ids)}
        self._user_at = {uid: i for i, uid in enumerate(users.ids)}
        used = users.slot_cat >= 0
        # End-of-history weights: the generator's drift applied in full (tau = 1).
        weight = users.slot_weight * np.exp(users.slot_drift) * used
        total = weight.sum(axis=1, keepdims=True)
        self._slot_weight: Array = np.divide(
            weight, total, out=np.zeros_like(weight), where=total > 0)
        top = self._slot_weight.max(axis=1, keepdims=True)
        self._slot_relative: Array = np.divide(
            self._slot_weight, top, out=np.zeros_like(weight), where=top > 0)
        n_cat = len(shop.taxonomy.categories)
        traffic = np.bincount(shop.taxonomy.sub_category, weights=catalog.sub_traffic,
                              minlength=n_cat)
        self._category_traffic: Array = traffic / max(float(traffic.max()), 1e-12)

    @classmethod
    def of(cls, spec: ShopSpec) -> Tastes:
        """The tastes of `spec`'s shoppers, built without the history (a fraction of the
        time of generating the shop)."""
        return cls(build_catalog_and_shoppers(spec))

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_products(self) -> int:
        return len(self.product_ids)

    def user_index(self, user_id: str) -> int:
        """The index of a shopper id; `KeyError` for an id the spec does not have."""
        return self._user_at[user_id]

    def product_indexes(self, product_ids: Sequence[str]) -> Array:
        """`(k,) int64`: the index of each product id, -1 where the spec has no such product."""
        return np.array([self._product_at.get(p, -1) for p in product_ids], dtype=np.int64)

    def device(self, user: int) -> str:
        """The shopper's usual device, as their generated events name it."""
        return DEVICES[int(self._users.device[user])]

    def in_stock(self, products: Array) -> Array:
        """`(k,) bool`: whether each product (index, -1 allowed) is in stock in the spec."""
        products = np.asarray(products, dtype=np.int64)
        known = products >= 0
        return np.where(known, self._catalog.in_stock[np.maximum(products, 0)], True)

    def utility(self, user: int, products: Array) -> Array:
        """`(k,) float64` in [0, 1]: how much shopper `user` wants each product (indexes,
        -1 for unknown products, which get 0); the formula is in the module docstring."""
        products = np.asarray(products, dtype=np.int64)
        known = products >= 0
        items = np.maximum(products, 0)
        c, u = self._catalog, self._users
        cat, sub, brand = c.cat[items], c.sub[items], c.brand[items]
        match = u.slot_cat[user][None, :] == cat[:, None]  # (k, 3); a category fills one slot
        favourite = match.any(axis=1)
        slot = np.argmax(match, axis=1)
        weight = np.where(favourite, self._slot_relative[user][slot], 0.0)
        category = (1 - EXPLORE_RATE) * weight + EXPLORE_RATE * self._category_traffic[cat]
        preferred = favourite & (u.slot_sub[user][slot] == sub)
        subcategory = np.where(preferred, 1.0, 1.0 - PREFERRED_SUBCATEGORY_RATE)
        loyal_to = np.where(favourite, u.slot_brand[user][slot], -1)
        brand_factor = np.where((loyal_to >= 0) & (loyal_to != brand), 1.0 / BRAND_BOOST, 1.0)
        fit = _price_fit(c.price_rel[items], u.price_mu[user])
        value: Array = np.where(known, category * subcategory * brand_factor * fit, 0.0)
        return value

    def utility_of(self, user_id: str, product_ids: Sequence[str]) -> Array:
        """`utility` by ids: what a server answered, scored for one shopper."""
        return self.utility(self.user_index(user_id), self.product_indexes(product_ids))

    def ranked_for(self, user: int, products: Array | None = None) -> Array:
        """Product indexes (all, or `products`) best first for the shopper, ties by index:
        the list an oracle that knows the shopper's tastes would show."""
        pool = np.arange(self.n_products) if products is None else np.asarray(products)
        score = self.utility(user, pool)
        ranked: Array = pool[np.lexsort((pool, -score))]
        return ranked

    def landing_product(self, user: int, rng: np.random.Generator) -> int:
        """A product the shopper opens from outside the shop's lists (a link, a bookmark):
        drawn by popularity times utility, as the generator draws its views."""
        weight = self._catalog.popularity * self.utility(user, np.arange(self.n_products))
        total = float(weight.sum())
        if total <= 0:
            return int(rng.integers(self.n_products))
        return int(rng.choice(self.n_products, p=weight / total))

    def search_query(self, user: int, rng: np.random.Generator) -> str:
        """What the shopper types: a noun of a favourite subcategory (the favourite drawn
        by weight), with a modifier half the time, as "waterproof trail running shoes"."""
        u = self._users
        usable = (u.slot_cat[user] >= 0) & (u.slot_sub[user] >= 0)
        weight = self._slot_weight[user] * usable
        if weight.sum() > 0:
            sub = int(u.slot_sub[user][rng.choice(3, p=weight / weight.sum())])
        else:
            sub = int(self._catalog.sub[self.landing_product(user, rng)])
        subcategory = self._taxonomy.subcategories[sub]
        noun = subcategory.nouns[int(rng.integers(len(subcategory.nouns)))]
        words = [noun]
        if rng.random() < MODIFIER_RATE:
            modifiers = usable_modifiers(subcategory, noun)
            words.insert(0, modifiers[int(rng.integers(len(modifiers)))])
        return plain_case(" ".join(words))


# --- the choice model ----------------------------------------------------------------------


def examination(ranks: Array, row: int = 0) -> Array:
    """`(k,) float64`: the chance each 0-based rank is looked at, in row `row` of a page."""
    ranks = np.asarray(ranks, dtype=np.float64)
    value: Array = ((1.0 + ranks) * (1.0 + row)) ** -EXAMINATION_EXPONENT
    return value


def click_probability(utility: Array) -> Array:
    """`(k,) float64`: the chance an examined item is clicked."""
    value: Array = np.minimum(CLICK_SCALE * CLICK_RATE * np.asarray(utility), MAX_CLICK)
    return value


def cart_probability(utility: Array) -> Array:
    """`(k,) float64`: the chance a clicked item goes into the cart."""
    value: Array = np.minimum(CART_RATE * (0.3 + np.asarray(utility)), MAX_CART)
    return value


def purchase_probability(utility: Array, in_stock: Array) -> Array:
    """`(k,) float64`: the chance a carted item is bought."""
    base = np.minimum(PURCHASE_RATE * (0.5 + 0.5 * np.asarray(utility)), MAX_PURCHASE)
    value: Array = base * np.where(np.asarray(in_stock), 1.0, OUT_OF_STOCK_PURCHASE)
    return value


@dataclass(frozen=True)
class Reaction:
    """A click on an item of a list, and whether it went on to the cart and a purchase."""

    product_id: str
    rank: int
    utility: float
    add_to_cart: bool
    purchase: bool


def react(
    tastes: Tastes,
    user: int,
    product_ids: Sequence[str],
    rng: np.random.Generator,
    *,
    row: int = 0,
) -> list[Reaction]:
    """The shopper's clicks on a list shown top-down (row `row` of a page), in rank order.

    Four uniforms are drawn per item whatever happens, so a list's draws do not depend on
    earlier outcomes in it; a purchase implies a cart, a cart a click.
    """
    k = len(product_ids)
    if k == 0:
        return []
    products = tastes.product_indexes(product_ids)
    utility = tastes.utility(user, products)
    draws = rng.random((4, k))
    clicked = (draws[0] < examination(np.arange(k), row)) & (
        draws[1] < click_probability(utility))
    carted = clicked & (draws[2] < cart_probability(utility))
    bought = carted & (draws[3] < purchase_probability(utility, tastes.in_stock(products)))
    return [
        Reaction(product_ids[i], i, float(utility[i]), bool(carted[i]), bool(bought[i]))
        for i in np.flatnonzero(clicked).tolist()
    ]
