"""The synthetic demo shop: a catalogue, its shoppers and their history, written to Postgres.

The shop exists to show Lodestar working and to judge it, so it has latent structure that a
recommender and a search engine can find, and that an evaluation can score them against:

* **Catalogue.** Every product belongs to a subcategory of `catalog_vocab`; its title,
  description and tags are composed from that subcategory's nouns, modifiers, features,
  materials and uses, so text similarity follows the taxonomy. Brands belong to categories
  (some span related ones) and carry a price tier; prices are lognormal around the
  subcategory's median, shifted by tier and variant. Within a subcategory popularity is
  Zipf-like (exponent `ZIPF_EXPONENT`). About 10% of products are new arrivals created during
  the history, ~5% are out of stock and ~3% promoted.
* **Shoppers.** Each user has 1-3 favourite categories with Dirichlet weights (tilted by the
  acquisition cohort, so cohort-level popularity is informative), a preferred subcategory in
  each, a price band (budget/mid/premium), for 30% of them a loyal brand per favourite
  category, a usual device, and a heavy-tailed activity level: 8% show no activity in the
  history, 30% visit once, the rest share the remaining sessions in proportion to a
  lognormal activity, so every cold-start bucket (0, 1-2, 3-5, more events) is populated.
* **Sessions.** A session starts at a time drawn from a daily and weekly rhythm with slow
  growth, focuses on one of the user's categories (drifting over the history and with the
  category's season; 10% explore a random category), mostly on one subcategory, and views
  products drawn by popularity and re-weighted by the shopper's price band, brand loyalty,
  novelty and a per-product trend. Each view may lead to a click, an add-to-cart and a
  purchase at checkout; carts sometimes pull in a complementary product (phone and case,
  camera and memory card, coffee machine and beans).

Everything is drawn from one numpy `Generator` seeded by `ShopSpec.seed`, in bulk arrays
(no per-user loop), and no wall clock is read, so a seed always gives byte-identical rows.
`generate_shop` streams the rows to Postgres with COPY in one transaction.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import numpy as np
import numpy.typing as npt
from sqlalchemy import text

from data import catalog_vocab as vocab
from models.db import Database
from models.tables import EVENT_TYPES
from models.tenancy import as_owner

Array = npt.NDArray[Any]
Progress = Callable[[str, int, int], None]

DAY_MS = 86_400_000
HOUR_MS = 3_600_000

# --- generative choices --------------------------------------------------------------------
# Funnel: chance of each step given the one before, for a shopper whose price band fits the
# product. The fit, brand loyalty, session intent and device move each view's chances around
# these values; the rates measured on a generated shop are close to them.
CLICK_RATE = 0.30  # click | view
CART_RATE = 0.10  # add_to_cart | click
PURCHASE_RATE = 0.40  # purchase | add_to_cart
COMPLEMENT_RATE = 0.35  # a session with a cart adds a complementary product
COMPLEMENT_PURCHASE_RATE = 0.8  # ...and buys it too, when the session buys anything

DEVICES = ("mobile", "desktop", "tablet")
DEVICE_SHARES = (0.60, 0.35, 0.05)
DEVICE_STICKINESS = 0.8  # share of a user's sessions on their usual device
DEVICE_CONVERSION = (0.85, 1.25, 1.0)  # multiplies cart and purchase chances
DEVICE_DWELL = (0.85, 1.1, 1.0)  # multiplies view and click dwell

# Dwell per event type (view, click, add_to_cart, purchase): lognormal median and sigma.
DWELL_MEDIAN_MS = (6_000.0, 28_000.0, 3_500.0, 45_000.0)
DWELL_SIGMA = (0.8, 0.9, 0.5, 0.5)
DWELL_IF_BOUGHT = 1.8  # views and clicks of what ends up bought last longer
DWELL_IF_CARTED = 1.3
THINK_MEDIAN_MS = 1_500.0  # pause between one event and the next

# Views per session: 1 + negative binomial; mean about 3.8, a quarter of sessions bounce.
VIEWS_SHAPE = 1.2
VIEWS_P = 0.3
MAX_VIEWS = 40
CANDIDATES = 5  # popularity-drawn candidates per view, one kept by the shopper's taste

NEW_ARRIVAL_SHARE = 0.10
OUT_OF_STOCK_SHARE = 0.05
PROMOTED_SHARE = 0.03
ZIPF_EXPONENT = 0.95
CATALOG_AGE_DAYS = 730  # products older than the history were created within this span
NOVELTY_BOOST = 3.0  # appeal of a new arrival on its first day: 1 + this
NOVELTY_DAYS = 21.0  # ...decaying with this time constant
TREND_SIGMA = 0.6  # per-product drift of appeal across the history (log scale)

USER_AGE_DAYS = 1_095  # users older than the history signed up within this span
PRE_EXISTING_USERS = 0.6
DORMANT_SHARE = 0.08  # signed up, never active in the history
LIGHT_SHARE = 0.30  # exactly one session
ACTIVITY_SIGMA = 1.2  # lognormal spread of the other users' activity
FAVOURITES = ((1, 0.40), (2, 0.35), (3, 0.25))  # how many favourite categories
COHORT_TILT_SIGMA = 0.7
TASTE_DRIFT_SIGMA = 0.7  # per-favourite log-weight change from start to end of history
PRICE_BANDS = ((-0.35, 0.35), (0.0, 0.45), (0.4, 0.20))  # (log price offset, share)
PRICE_TOLERANCE = 0.3  # how far (log scale) from their band shoppers still look
LOYAL_SHARE = 0.30
BRAND_FOCUS_RATE = 0.6  # a loyal shopper's view drawn from their brand's products
BRAND_BOOST = 3.0
EXPLORE_RATE = 0.10  # sessions in a category outside the user's favourites
PREFERRED_SUBCATEGORY_RATE = 0.65
STRAY_VIEW_RATE = 0.15  # views in another subcategory of the session's category
INTENT_SIGMA = 0.6  # lognormal spread of purchase intent across sessions
SEASON_REDRAWS = 3  # times an out-of-season session may be moved to another time

# Relative traffic per hour of the day and per weekday (Monday first), and the growth of
# traffic from the first to the last day of the history.
HOURLY_TRAFFIC = (
    0.35, 0.22, 0.15, 0.12, 0.12, 0.18, 0.35, 0.60, 0.80, 0.90, 0.95, 1.00,
    1.10, 1.05, 0.95, 0.95, 1.00, 1.10, 1.30, 1.50, 1.60, 1.50, 1.10, 0.65,
)
WEEKDAY_TRAFFIC = (1.05, 1.0, 1.0, 0.98, 0.92, 0.95, 1.15)
TRAFFIC_GROWTH = 0.25

COPY_CHUNK_ROWS = 50_000


@dataclass(frozen=True)
class ShopSpec:
    """How big a shop to generate, from which seed, over which stretch of time.

    `end` is fixed rather than "now" so that the same spec always gives the same shop; the
    history covers the `days` before it.
    """

    products: int = 5_000
    users: int = 2_000
    events: int = 100_000
    seed: int = 7
    days: int = 120
    end: datetime = datetime(2026, 11, 1, tzinfo=UTC)

    def __post_init__(self) -> None:
        if self.products < 1:
            raise ValueError("a shop needs at least one product")
        if self.users < 1:
            raise ValueError("a shop needs at least one user")
        if self.events < 0:
            raise ValueError("events cannot be negative")
        if self.days < 2:
            raise ValueError("the history must span at least two days")
        if self.end.tzinfo is None:
            raise ValueError("end must carry a time zone")

    @property
    def start(self) -> datetime:
        return self.end - timedelta(days=self.days)


@dataclass(frozen=True)
class ShopStats:
    """What `generate_shop` wrote, and how long it took."""

    products: int
    users: int
    events: int
    categories: int
    seconds: float
    subcategories: int = 0
    brands: int = 0
    sessions: int = 0
    users_with_events: int = 0
    new_arrivals: int = 0
    events_by_type: Mapping[str, int] = field(default_factory=dict)
    history_start: datetime | None = None
    history_end: datetime | None = None


# --- composing product text ----------------------------------------------------------------


def plain_case(phrase: str) -> str:
    """Lower-case the ordinary words of a title-cased phrase for use inside a sentence.

    "Trail Running Shoes" becomes "trail running shoes" while "5G", "USB-C", "OLED" and
    "CFexpress" keep their capitals; hyphenated words are judged part by part.
    """

    def plain(part: str) -> str:
        ordinary = len(part) > 1 and part[0].isupper() and part[1:].islower()
        return part.lower() if ordinary else part

    return " ".join("-".join(plain(p) for p in word.split("-")) for word in phrase.split(" "))


def usable_modifiers(subcategory: vocab.Subcategory, noun: str) -> tuple[str, ...]:
    """The modifiers that do not repeat a word of `noun` ("Wireless" before "Wireless Mouse")."""
    words = {w.lower() for w in noun.split()}
    kept = tuple(m for m in subcategory.modifiers if m.lower() not in words)
    return kept or subcategory.modifiers


def model_number(brand: str, number: int) -> str:
    """A model number in the brand's style: its initial, its next consonant and a number,
    e.g. "Voltra" and 420 give "VL-420"."""
    letters = [c for c in brand.upper() if "A" <= c <= "Z"]
    if not letters:
        return f"X-{number}"
    consonants = [c for c in letters[1:] if c not in "AEIOU"]
    second = consonants[0] if consonants else (letters[1] if len(letters) > 1 else "X")
    return f"{letters[0]}{second}-{number}"


def compose_title(
    brand: str,
    noun: str,
    modifiers: Sequence[str],
    *,
    audience: str = "",
    model: str = "",
    colour: str = "",
    variant: str = "",
) -> str:
    """A shop-style title: "Trailpeak Men's Waterproof Trail Running Shoes — Black", or with a
    model number "Voltra VL-420 Unlocked 5G Smartphone — Graphite, 256GB"."""
    words = [brand, model, audience, *modifiers, noun]
    title = " ".join(w for w in words if w)
    extras = ", ".join(x for x in (colour, variant) if x)
    return f"{title} — {extras}" if extras else title


def compose_description(
    template: str,
    *,
    brand: str,
    noun: str,
    tier_word: str,
    use: str,
    features: Sequence[str],
    material: str,
    closer: str = "",
) -> str:
    """Fill a description template; `features` needs two entries. `closer` is appended."""
    text = template.format(
        brand=brand,
        noun=noun,
        noun_lc=plain_case(noun),
        tier=tier_word,
        Tier=tier_word[:1].upper() + tier_word[1:],
        use=use,
        feature1=features[0],
        feature2=features[1],
        material=material,
    )
    return f"{text} {closer}" if closer else text


_NOT_TAG = re.compile(r"[^a-z0-9]+")


def tag_slug(word: str) -> str:
    """A tag from a word or phrase: lower case, possessives dropped, other punctuation and
    spaces as hyphens ("Men's" → "men", "Noise-Cancelling" → "noise-cancelling")."""
    lowered = word.lower().replace("'s", "").replace("'", "")
    return _NOT_TAG.sub("-", lowered).strip("-")


def compose_tags(noun: str, modifiers: Sequence[str], audience: str = "") -> tuple[str, ...]:
    """Tags for a product: its modifiers, the words of its noun and its audience, e.g.
    ("waterproof", "trail", "running", "shoes", "men"); only [a-z0-9-], no duplicates."""
    tags: list[str] = []
    for word in (*modifiers, *noun.split(), audience):
        slug = tag_slug(word)
        if slug and slug not in vocab.TAG_STOPWORDS and slug not in tags:
            tags.append(slug)
    return tuple(tags)


def retail_price(raw: Array) -> Array:
    """Round raw prices the way shops do: to .49/.99 below 10, to x.99 below 100, to the
    nearest 5 (less a cent) below 1000 and to the nearest 10 (less a cent) above."""
    p = np.maximum(np.asarray(raw, dtype=np.float64), 0.5)
    step = np.where(p < 10, 0.5, np.where(p < 100, 1.0, np.where(p < 1000, 5.0, 10.0)))
    rounded = np.round(p / step) * step
    result: Array = np.round(np.maximum(rounded, 1.0) - 0.01, 2)
    return result


# --- taxonomy ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Taxonomy:
    """The vocabulary flattened into index arrays."""

    categories: tuple[vocab.Category, ...]
    subcategories: tuple[vocab.Subcategory, ...]
    sub_category: Array  # category index of each subcategory
    brands: tuple[str, ...]
    brand_tier: Array  # tier index of each brand
    category_brands: tuple[Array, ...]
    complements: tuple[Array, ...]  # subcategory indexes bought with each subcategory


def _taxonomy() -> _Taxonomy:
    categories = vocab.CATEGORIES
    subcategories = tuple(s for c in categories for s in c.subcategories)
    sub_category = np.array(
        [i for i, c in enumerate(categories) for _ in c.subcategories], dtype=np.int64
    )
    brands: list[str] = []
    for c in categories:
        brands.extend(b for b in c.brands if b not in brands)
    brand_index = {b: i for i, b in enumerate(brands)}
    sub_index = {s.name: i for i, s in enumerate(subcategories)}
    return _Taxonomy(
        categories=categories,
        subcategories=subcategories,
        sub_category=sub_category,
        brands=tuple(brands),
        brand_tier=np.array([vocab.TIERS.index(vocab.BRAND_TIERS[b]) for b in brands]),
        category_brands=tuple(
            np.array([brand_index[b] for b in c.brands], dtype=np.int64) for c in categories
        ),
        complements=tuple(
            np.array([sub_index[name] for name in s.complements], dtype=np.int64)
            for s in subcategories
        ),
    )


# --- sampling helpers ----------------------------------------------------------------------


class _GroupSampler:
    """Draws members of groups with probability proportional to their weights, many draws
    at once: each draw is a binary search in one cumulative array over all members."""

    def __init__(self, groups: Array, weights: Array, n_groups: int) -> None:
        positive = np.flatnonzero(np.asarray(weights) > 0)
        order = positive[np.argsort(groups[positive], kind="stable")]
        self.members = order
        self.cum = np.cumsum(np.asarray(weights, dtype=np.float64)[order])
        sorted_groups = groups[order]
        every = np.arange(n_groups)
        self.start = np.searchsorted(sorted_groups, every, side="left")
        self.stop = np.searchsorted(sorted_groups, every, side="right")
        before = np.concatenate(([0.0], self.cum))
        self.low = before[self.start]
        self.total = before[self.stop] - self.low

    def draw(self, groups: Array, u: Array) -> Array:
        """One member per entry of `groups` (any shape), chosen by the uniforms `u`; -1
        where a group has no member."""
        groups = np.asarray(groups)
        if self.members.size == 0:
            return np.full(groups.shape, -1, dtype=np.int64)
        position = np.searchsorted(self.cum, self.low[groups] + u * self.total[groups], "right")
        last = np.maximum(self.stop[groups] - 1, self.start[groups])
        position = np.clip(position, self.start[groups], last)
        chosen = self.members[np.minimum(position, self.members.size - 1)]
        return np.where(self.total[groups] > 0, chosen, -1)


def _pick_rows(weights: Array, u: Array) -> Array:
    """For each row of `weights`, a column drawn in proportion to the row; -1 where a row is
    all zero."""
    cum = np.cumsum(weights, axis=1)
    total = cum[:, -1]
    column = (cum <= (u * total)[:, None]).sum(axis=1)
    column = np.minimum(column, weights.shape[1] - 1)
    return np.where(total > 0, column, -1)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp()) * 1000


class _Clock:
    """Session start times with a daily and weekly rhythm and slow growth, on an hourly grid
    over the history."""

    def __init__(self, spec: ShopSpec) -> None:
        self.start_ms = _ms(spec.start)
        hours = np.arange(spec.days * 24)
        first_hour = spec.start.hour
        first_weekday = spec.start.weekday()
        hour_of_day = (first_hour + hours) % 24
        weekday = (first_weekday + (first_hour + hours) // 24) % 7
        weight = (
            np.asarray(HOURLY_TRAFFIC)[hour_of_day]
            * np.asarray(WEEKDAY_TRAFFIC)[weekday]
            * (1.0 + TRAFFIC_GROWTH * hours / hours.size)
        )
        self.cum = np.concatenate(([0.0], np.cumsum(weight)))
        self.hours = hours.size

    def draw(self, not_before_ms: Array, rng: np.random.Generator) -> Array:
        """One start per entry, at or after `not_before_ms` and before the last hour."""
        first = np.ceil((not_before_ms - self.start_ms) / HOUR_MS).astype(np.int64)
        first = np.clip(first, 0, self.hours - 2)
        last = self.hours - 1
        x = self.cum[first] + rng.random(first.size) * (self.cum[last] - self.cum[first])
        hour = np.clip(np.searchsorted(self.cum, x, side="right") - 1, first, last - 1)
        within = (rng.random(first.size) * HOUR_MS).astype(np.int64)
        starts: Array = self.start_ms + hour * HOUR_MS + within
        return starts


def _season(spec: ShopSpec, taxonomy: _Taxonomy) -> Array:
    """Demand multiplier per day of the history (rows) and category (columns)."""
    days = [(spec.start + timedelta(days=d)).timetuple().tm_yday for d in range(spec.days)]
    day_of_year = np.asarray(days, dtype=np.float64)[:, None]
    peak = np.array([(c.season_peak_month - 0.5) * 30.44 for c in taxonomy.categories])
    amplitude = np.array([c.season_amplitude for c in taxonomy.categories])
    season: Array = 1.0 + amplitude * np.cos(2 * np.pi * (day_of_year - peak) / 365.25)
    return season


# --- catalogue -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Catalog:
    ids: list[str]
    sub: Array
    cat: Array
    brand: Array
    tier: Array
    price: Array
    price_rel: Array  # log of price over the subcategory's typical price for the variant
    created_ms: Array
    new: Array
    in_stock: Array
    promoted: Array
    popularity: Array
    trend: Array
    anchor: Array  # per subcategory: its most popular product (always old), or -1
    sub_traffic: Array  # per subcategory: share of sessions, 0 where it has no products
    titles: list[str]
    descriptions: list[str]
    tags: list[tuple[str, ...]]


def _id_format(prefix: str, count: int, digits: int) -> str:
    width = max(digits, len(str(count)))
    return prefix + "{:0" + str(width) + "d}"


def _rank_within(groups: Array, tiebreak: Array) -> Array:
    """Rank of each element within its group, ordered by `tiebreak`."""
    order = np.lexsort((tiebreak, groups))
    ordered = groups[order]
    first = np.searchsorted(ordered, ordered, side="left")
    rank = np.empty(groups.size, dtype=np.int64)
    rank[order] = np.arange(groups.size) - first
    return rank


def _build_catalog(
    spec: ShopSpec, taxonomy: _Taxonomy, rng: np.random.Generator, report: Progress
) -> _Catalog:
    n = spec.products
    subs = taxonomy.subcategories
    n_sub, n_cat = len(subs), len(taxonomy.categories)
    start_ms, end_ms = _ms(spec.start), _ms(spec.end)

    category_weight = rng.lognormal(0.0, 0.4, n_cat)
    sub_size = rng.lognormal(0.0, 0.6, n_sub)
    per_category = np.bincount(taxonomy.sub_category, minlength=n_cat)
    share = category_weight[taxonomy.sub_category] * sub_size / per_category[taxonomy.sub_category]
    share = share / share.sum()
    # The first products go round-robin over the categories, so that even a small shop
    # spans every category and as many subcategories as it can.
    position = _rank_within(taxonomy.sub_category, np.arange(n_sub))
    cover = np.lexsort((taxonomy.sub_category, position))[: min(n, n_sub)]
    rest = rng.choice(n_sub, size=n - cover.size, p=share)
    sub = rng.permutation(np.concatenate([cover, rest]))
    cat = taxonomy.sub_category[sub]

    # Within a category, brands hold Zipf-like market shares in a random order.
    pair_category = np.concatenate(
        [np.full(b.size, c) for c, b in enumerate(taxonomy.category_brands)]
    )
    pair_brand = np.concatenate(taxonomy.category_brands)
    pair_share = np.concatenate(
        [1.0 / (1.0 + rng.permutation(b.size)) ** 0.8 for b in taxonomy.category_brands]
    )
    brand_sampler = _GroupSampler(pair_category, pair_share, n_cat)
    brand = pair_brand[brand_sampler.draw(cat, rng.random(n))]
    tier = taxonomy.brand_tier[brand]

    median = np.array([s.median_price for s in subs])[sub]
    sigma = np.array([s.price_sigma for s in subs])[sub]
    step = np.array([s.variant_step for s in subs])[sub]
    n_variants = np.array([len(s.variants) for s in subs])[sub]
    variant = np.where(n_variants > 0, (rng.random(n) * n_variants).astype(np.int64), -1)
    typical = median * (1.0 + step * np.maximum(variant, 0))
    tier_factor = np.array([vocab.TIER_PRICE_FACTOR[t] for t in vocab.TIERS])[tier]
    price = retail_price(typical * tier_factor * np.exp(sigma * rng.standard_normal(n)))
    price_rel = np.log(price / typical)

    rank = _rank_within(sub, rng.random(n))
    is_anchor = rank == 0
    anchor = np.full(n_sub, -1, dtype=np.int64)
    anchor[sub[is_anchor]] = np.flatnonzero(is_anchor)
    new = (rng.random(n) < NEW_ARRIVAL_SHARE) & ~is_anchor
    arrival = start_ms + rng.random(n) * (end_ms - 3 * DAY_MS - start_ms)
    established = start_ms - HOUR_MS - rng.random(n) * CATALOG_AGE_DAYS * DAY_MS
    created_ms = (np.where(new, arrival, established) // 1000 * 1000).astype(np.int64)
    in_stock = (rng.random(n) >= OUT_OF_STOCK_SHARE) | is_anchor
    promoted = rng.random(n) < PROMOTED_SHARE
    popularity = (
        (rank + 1.0) ** -ZIPF_EXPONENT
        * np.where(promoted, 2.0, 1.0)
        * np.where(in_stock, 1.0, 0.5)
    )
    trend = rng.normal(0.0, TREND_SIGMA, n)
    sub_traffic = share * (np.bincount(sub, minlength=n_sub) > 0)

    titles, descriptions, tags = _compose_texts(taxonomy, sub, brand, tier, variant, rng, report)
    id_format = _id_format("P", n, 6)
    return _Catalog(
        ids=[id_format.format(i + 1) for i in range(n)],
        sub=sub,
        cat=cat,
        brand=brand,
        tier=tier,
        price=price,
        price_rel=price_rel,
        created_ms=created_ms,
        new=new,
        in_stock=in_stock,
        promoted=promoted,
        popularity=popularity,
        trend=trend,
        anchor=anchor,
        sub_traffic=sub_traffic,
        titles=titles,
        descriptions=descriptions,
        tags=tags,
    )


def _compose_texts(
    taxonomy: _Taxonomy,
    sub: Array,
    brand: Array,
    tier: Array,
    variant: Array,
    rng: np.random.Generator,
    report: Progress,
) -> tuple[list[str], list[str], list[tuple[str, ...]]]:
    """Titles, descriptions and tags; the choices are drawn in bulk, then composed per product."""
    n = sub.size
    draws = rng.random((n, 14)).tolist()
    subs_of, brands_of, tiers_of = sub.tolist(), brand.tolist(), tier.tolist()
    variants_of = variant.tolist()
    titles: list[str] = []
    descriptions: list[str] = []
    tags: list[tuple[str, ...]] = []
    templates, closers = vocab.DESCRIPTION_TEMPLATES, vocab.DESCRIPTION_CLOSERS

    def pick(options: Sequence[str], u: float) -> str:
        return options[int(u * len(options))] if options else ""

    for i in range(n):
        s = taxonomy.subcategories[subs_of[i]]
        r = draws[i]
        brand_name = taxonomy.brands[brands_of[i]]
        noun = pick(s.nouns, r[0])
        mods = usable_modifiers(s, noun)
        first = int(r[2] * len(mods))
        chosen = [first]
        if r[1] < 0.35 and len(mods) > 1:
            chosen.append((first + 1 + int(r[3] * (len(mods) - 1))) % len(mods))
        modifiers = [mods[j] for j in sorted(chosen)]
        audience = pick(s.audiences, r[4])
        model = model_number(brand_name, 100 + 10 * int(r[6] * 90)) if s.model_numbers else ""
        titles.append(
            compose_title(
                brand_name,
                noun,
                modifiers,
                audience=audience,
                model=model,
                colour=pick(s.colours, r[5]),
                variant=s.variants[variants_of[i]] if variants_of[i] >= 0 else "",
            )
        )
        n_features = len(s.features)
        f1 = int(r[7] * n_features)
        f2 = (f1 + 1 + int(r[8] * (n_features - 1))) % n_features
        descriptions.append(
            compose_description(
                pick(templates, r[12]),
                brand=brand_name,
                noun=noun,
                tier_word=pick(vocab.TIER_WORDS[vocab.TIERS[tiers_of[i]]], r[11]),
                use=pick(s.uses, r[10]),
                features=(s.features[f1], s.features[f2]),
                material=pick(s.materials, r[9]),
                closer=pick(closers, r[13]),
            )
        )
        tags.append(compose_tags(noun, modifiers, audience))
        if (i + 1) % 20_000 == 0:
            report("catalog", i + 1, n)
    report("catalog", n, n)
    return titles, descriptions, tags


# --- shoppers ------------------------------------------------------------------------------

_DORMANT, _LIGHT, _REGULAR = 0, 1, 2


@dataclass(frozen=True)
class _Users:
    ids: list[str]
    created_ms: Array
    active_from_ms: Array
    cohort: Array
    device: Array
    segment: Array
    activity: Array
    price_mu: Array
    slot_cat: Array  # (users, 3): favourite categories, -1 where unused
    slot_weight: Array
    slot_drift: Array
    slot_sub: Array
    slot_brand: Array  # loyal brand per favourite, -1 where none


def _build_users(
    spec: ShopSpec, taxonomy: _Taxonomy, catalog: _Catalog, rng: np.random.Generator
) -> _Users:
    n = spec.users
    n_cat = len(taxonomy.categories)
    start_ms, end_ms = _ms(spec.start), _ms(spec.end)

    pre_existing = rng.random(n) < PRE_EXISTING_USERS
    before = start_ms - HOUR_MS - rng.random(n) * USER_AGE_DAYS * DAY_MS
    during = start_ms + rng.random(n) * (end_ms - DAY_MS - start_ms)
    created_ms = (np.where(pre_existing, before, during) // 1000 * 1000).astype(np.int64)
    active_from_ms = np.maximum(created_ms, start_ms)
    cohort_share = np.array([share for _, share in vocab.COHORTS])
    cohort = rng.choice(len(vocab.COHORTS), n, p=cohort_share / cohort_share.sum())
    device = rng.choice(len(DEVICES), n, p=DEVICE_SHARES)
    band = rng.choice(len(PRICE_BANDS), n, p=[share for _, share in PRICE_BANDS])
    price_mu = np.array([mu for mu, _ in PRICE_BANDS])[band] + rng.normal(0.0, 0.1, n)
    segment = rng.choice(3, n, p=[DORMANT_SHARE, LIGHT_SHARE, 1 - DORMANT_SHARE - LIGHT_SHARE])
    window = (end_ms - HOUR_MS - active_from_ms) / (end_ms - start_ms)
    activity = rng.lognormal(0.0, ACTIVITY_SIGMA, n) * window

    # Favourite categories: a Gumbel top-k draw without replacement, weighted by category
    # traffic tilted by the cohort, so that acquisition channels differ in taste.
    category_traffic = np.bincount(
        taxonomy.sub_category, weights=catalog.sub_traffic, minlength=n_cat
    )
    tilt = rng.lognormal(0.0, COHORT_TILT_SIGMA, (len(vocab.COHORTS), n_cat))
    with np.errstate(divide="ignore"):
        log_weight = np.log(category_traffic[None, :] * tilt[cohort])
    scores = log_weight + rng.gumbel(size=(n, n_cat))
    top = np.argsort(-scores, axis=1, kind="stable")[:, :3]
    how_many = rng.choice(
        [k for k, _ in FAVOURITES], n, p=[share for _, share in FAVOURITES]
    )
    used = (np.arange(3)[None, :] < how_many[:, None]) & np.isfinite(
        np.take_along_axis(scores, top, axis=1)
    )
    slot_cat = np.where(used, top, -1)
    weight = rng.gamma(1.0, size=(n, 3)) * used
    slot_weight = weight / weight.sum(axis=1, keepdims=True)
    slot_drift = rng.normal(0.0, TASTE_DRIFT_SIGMA, (n, 3))

    by_category = _GroupSampler(taxonomy.sub_category, catalog.sub_traffic, n_cat)
    slot_sub = np.where(used, by_category.draw(np.maximum(slot_cat, 0), rng.random((n, 3))), -1)
    by_sub = _GroupSampler(catalog.sub, catalog.popularity, len(taxonomy.subcategories))
    liked = by_sub.draw(np.maximum(slot_sub, 0), rng.random((n, 3)))
    loyal = rng.random(n) < LOYAL_SHARE
    slot_brand = np.where(used & loyal[:, None] & (liked >= 0), catalog.brand[liked], -1)

    id_format = _id_format("U", n, 6)
    return _Users(
        ids=[id_format.format(i + 1) for i in range(n)],
        created_ms=created_ms,
        active_from_ms=active_from_ms,
        cohort=cohort,
        device=device,
        segment=segment,
        activity=activity,
        price_mu=price_mu,
        slot_cat=slot_cat,
        slot_weight=slot_weight,
        slot_drift=slot_drift,
        slot_sub=slot_sub,
        slot_brand=slot_brand,
    )


# --- sessions and events -------------------------------------------------------------------


class _World:
    """What session generation reads: the catalogue, the shoppers and the samplers over them."""

    def __init__(
        self, spec: ShopSpec, taxonomy: _Taxonomy, catalog: _Catalog, users: _Users
    ) -> None:
        self.spec = spec
        self.catalog = catalog
        self.users = users
        self.start_ms, self.end_ms = _ms(spec.start), _ms(spec.end)
        self.clock = _Clock(spec)
        self.season = _season(spec, taxonomy)
        self.season_high = self.season.max(axis=0)
        n_cat, n_sub = len(taxonomy.categories), len(taxonomy.subcategories)
        self.category_traffic = np.bincount(
            taxonomy.sub_category, weights=catalog.sub_traffic, minlength=n_cat
        )
        self.sub_by_category = _GroupSampler(taxonomy.sub_category, catalog.sub_traffic, n_cat)
        self.product_by_sub = _GroupSampler(catalog.sub, catalog.popularity, n_sub)
        self.n_brands = len(taxonomy.brands)
        keys = catalog.sub * self.n_brands + catalog.brand
        self.sub_brand_keys, group = np.unique(keys, return_inverse=True)
        self.product_by_sub_brand = _GroupSampler(
            group.reshape(-1), catalog.popularity, self.sub_brand_keys.size
        )
        # Complements, as a compressed row list, keeping only subcategories with products.
        stocked = np.bincount(catalog.sub, minlength=n_sub) > 0
        kept = [c[stocked[c]] for c in taxonomy.complements]
        self.complement_ptr = np.concatenate(([0], np.cumsum([c.size for c in kept])))
        self.complement_idx = np.concatenate(kept).astype(np.int64)

    def sub_brand_group(self, sub: Array, brand: Array) -> Array:
        """The (subcategory, brand) group of each pair, or -1 where the brand has no product
        in that subcategory."""
        keys = sub * self.n_brands + brand
        at = np.searchsorted(self.sub_brand_keys, keys)
        clipped = np.minimum(at, self.sub_brand_keys.size - 1)
        return np.where(self.sub_brand_keys[clipped] == keys, clipped, -1)

    def appeal(self, items: Array, at_ms: Array, tau: Array, mu: Array, brand: Array) -> Array:
        """How much a shopper wants each candidate: price fit, loyalty, novelty and trend;
        zero for products that do not exist yet."""
        c = self.catalog
        age_days = (at_ms - c.created_ms[items]) / DAY_MS
        fit = _price_fit(c.price_rel[items], mu)
        fresh = np.exp(-np.maximum(age_days, 0.0) / NOVELTY_DAYS)
        novelty = 1.0 + NOVELTY_BOOST * fresh * c.new[items]
        trend = np.exp(c.trend[items] * (tau - 0.5))
        loyalty = np.where(c.brand[items] == brand, BRAND_BOOST, 1.0)
        return fit * novelty * trend * loyalty * (age_days >= 0)

    def choose(
        self,
        sub: Array,
        brand: Array,
        at_ms: Array,
        tau: Array,
        mu: Array,
        candidates: int,
        rng: np.random.Generator,
    ) -> Array:
        """One product per entry: candidates drawn by popularity within the subcategory (or
        the shopper's brand in it), one of them kept in proportion to its appeal."""
        n = sub.size
        pool = self.product_by_sub.draw(
            np.repeat(sub, candidates), rng.random(n * candidates)
        ).reshape(n, candidates)
        focus = np.flatnonzero((brand >= 0) & (rng.random(n) < BRAND_FOCUS_RATE))
        group = self.sub_brand_group(sub[focus], brand[focus])
        focus, group = focus[group >= 0], group[group >= 0]
        pool[focus] = self.product_by_sub_brand.draw(
            np.repeat(group, candidates), rng.random(focus.size * candidates)
        ).reshape(-1, candidates)
        score = self.appeal(pool, at_ms[:, None], tau[:, None], mu[:, None], brand[:, None])
        pick = _pick_rows(score, rng.random(n))
        rows = np.arange(n)
        column = np.maximum(pick, 0)
        usable = (pick >= 0) & (score[rows, column] > 0)
        # The anchor of a subcategory predates the history, so it is always there to fall
        # back on when no candidate existed yet.
        return np.where(usable, pool[rows, column], self.catalog.anchor[sub])


def _price_fit(price_rel: Array, mu: Array) -> Array:
    return np.exp(-((price_rel - mu) ** 2) / (2 * PRICE_TOLERANCE**2))


@dataclass(frozen=True)
class _Batch:
    """Sessions and their events; events grouped by session, in time order within it."""

    session_user: Array
    session_device: Array
    session_start_ms: Array
    event_session: Array
    event_rank: Array
    event_product: Array
    event_type: Array
    event_ms: Array
    event_dwell: Array

    def head(self, events: int) -> _Batch:
        """The first sessions holding `events` events, the last one cut short if need be."""
        counts = np.bincount(self.event_session, minlength=self.session_user.size)
        cum = np.cumsum(counts)
        last = int(np.searchsorted(cum, events))
        before = int(cum[last - 1]) if last > 0 else 0
        keep = (self.event_session < last) | (
            (self.event_session == last) & (self.event_rank < events - before)
        )
        sessions = slice(0, last + 1)
        return _Batch(
            session_user=self.session_user[sessions],
            session_device=self.session_device[sessions],
            session_start_ms=self.session_start_ms[sessions],
            event_session=self.event_session[keep],
            event_rank=self.event_rank[keep],
            event_product=self.event_product[keep],
            event_type=self.event_type[keep],
            event_ms=self.event_ms[keep],
            event_dwell=self.event_dwell[keep],
        )


def _focus(
    world: _World, session_user: Array, start: Array, rng: np.random.Generator
) -> tuple[Array, Array, Array]:
    """Each session's category, the favourite slot it came from, and whether it explores.

    Mostly one of the user's favourites, weighted by taste (drifting over the history) and
    season; with `EXPLORE_RATE` a category picked by traffic and season instead.
    """
    users = world.users
    n = session_user.size
    day = np.clip((start - world.start_ms) // DAY_MS, 0, world.spec.days - 1)
    tau = (start - world.start_ms) / (world.end_ms - world.start_ms)
    slot_cat = users.slot_cat[session_user]
    taste = (
        users.slot_weight[session_user]
        * np.exp(users.slot_drift[session_user] * tau[:, None])
        * world.season[day[:, None], np.maximum(slot_cat, 0)]
        * (slot_cat >= 0)
    )
    slot = np.maximum(_pick_rows(taste, rng.random(n)), 0)
    explore = rng.random(n) < EXPLORE_RATE
    explored = _pick_rows(world.category_traffic[None, :] * world.season[day], rng.random(n))
    category = np.where(explore, explored, slot_cat[np.arange(n), slot])
    return category, slot, explore


def _sessions(world: _World, session_user: Array, rng: np.random.Generator) -> _Batch:
    """Generate one session per entry of `session_user`, all at once."""
    users, catalog = world.users, world.catalog
    n = session_user.size
    rows = np.arange(n)

    # A session's time and category are drawn together: a session whose category is out of
    # season is moved to another time with the chance the season gives, a few times over,
    # so that seasonal categories rise and fall even for shoppers with a single favourite.
    start = world.clock.draw(users.active_from_ms[session_user], rng)
    category, slot, explore = _focus(world, session_user, start, rng)
    pending = rows
    for _ in range(SEASON_REDRAWS):
        day = (start[pending] - world.start_ms) // DAY_MS
        kept = category[pending]
        in_season = world.season[day, kept] / world.season_high[kept]
        pending = pending[rng.random(pending.size) >= in_season]
        start[pending] = world.clock.draw(users.active_from_ms[session_user[pending]], rng)
        category[pending], slot[pending], explore[pending] = _focus(
            world, session_user[pending], start[pending], rng
        )
    tau = (start - world.start_ms) / (world.end_ms - world.start_ms)
    usual = rng.random(n) < DEVICE_STICKINESS
    device = np.where(usual, users.device[session_user], rng.choice(3, n, p=DEVICE_SHARES))
    preferred = ~explore & (rng.random(n) < PREFERRED_SUBCATEGORY_RATE)
    by_traffic = world.sub_by_category.draw(category, rng.random(n))
    sub = np.where(preferred, users.slot_sub[session_user, slot], by_traffic)
    brand = np.where(explore, -1, users.slot_brand[session_user, slot])
    mu = users.price_mu[session_user]
    intent = rng.lognormal(-(INTENT_SIGMA**2) / 2, INTENT_SIGMA, n)
    views = np.minimum(1 + rng.negative_binomial(VIEWS_SHAPE, VIEWS_P, n), MAX_VIEWS)

    # Views, flattened across sessions.
    vs = np.repeat(rows, views)
    n_views = vs.size
    slot_of_view = np.arange(n_views) - (np.cumsum(views) - views)[vs]
    stray = rng.random(n_views) < STRAY_VIEW_RATE
    view_sub = np.where(
        stray, world.sub_by_category.draw(category[vs], rng.random(n_views)), sub[vs]
    )
    item = world.choose(view_sub, brand[vs], start[vs], tau[vs], mu[vs], CANDIDATES, rng)

    fit = _price_fit(catalog.price_rel[item], mu[vs])
    loyal = np.where(catalog.brand[item] == brand[vs], 1.0, 0.0)
    conversion = np.asarray(DEVICE_CONVERSION)[device[vs]]
    p_click = np.minimum(CLICK_RATE * (0.5 + 0.75 * fit) * (1 + 0.2 * loyal), 0.95)
    clicked = rng.random(n_views) < p_click
    p_cart = CART_RATE * (0.3 + fit) * intent[vs] * conversion * (1 + 0.3 * loyal)
    carted = clicked & (rng.random(n_views) < np.minimum(p_cart, 0.9))
    p_buy = (
        PURCHASE_RATE
        * np.sqrt(intent[vs])
        * conversion
        * np.where(catalog.in_stock[item], 1.0, 0.3)
    )
    bought = carted & (rng.random(n_views) < np.minimum(p_buy, 0.95))

    # Complements: the first cart of a session may pull in a product bought with it.
    cart_views = np.flatnonzero(carted)
    with_cart, first = np.unique(vs[cart_views], return_index=True)
    source = view_sub[cart_views[first]]
    options = world.complement_ptr[source + 1] - world.complement_ptr[source]
    takes = (rng.random(with_cart.size) < COMPLEMENT_RATE) & (options > 0)
    cs, source, options = with_cart[takes], source[takes], options[takes]
    offset = (rng.random(cs.size) * options).astype(np.int64)
    complement_sub = world.complement_idx[world.complement_ptr[source] + offset]
    complement = world.choose(
        complement_sub, np.full(cs.size, -1), start[cs], tau[cs], mu[cs], 3, rng
    )
    buys_anything = np.bincount(vs[bought], minlength=n) > 0
    complement_bought = buys_anything[cs] & (rng.random(cs.size) < COMPLEMENT_PURCHASE_RATE)

    # Events, ordered within a session by (step, sub-step): browsing step by step, then the
    # complement, then every purchase together at checkout.
    fate = np.where(bought, 2, np.where(carted, 1, 0))
    checkout = views + 1
    cb = np.flatnonzero(complement_bought)
    complement_fate = np.where(complement_bought, 2, 1)
    # Each part: (session, step, sub-step, product, event type, fate).
    parts: list[tuple[Array, Array, Array, Array, int, Array]] = []
    for stage, mask in ((0, np.ones(n_views, dtype=bool)), (1, clicked), (2, carted)):
        steps = slot_of_view[mask]
        parts.append((vs[mask], steps, np.full(steps.size, stage), item[mask], stage, fate[mask]))
    paid = vs[bought]
    parts.append((paid, checkout[paid], slot_of_view[bought], item[bought], 3, fate[bought]))
    for stage in (0, 1, 2):
        parts.append((cs, views[cs], np.full(cs.size, stage), complement, stage, complement_fate))
    parts.append((cs[cb], checkout[cs[cb]], views[cs[cb]], complement[cb], 3, np.full(cb.size, 2)))
    session = np.concatenate([p[0] for p in parts])
    order = np.lexsort(
        (np.concatenate([p[2] for p in parts]), np.concatenate([p[1] for p in parts]), session)
    )
    session = session[order]
    product = np.concatenate([p[3] for p in parts])[order]
    kind = np.concatenate([np.full(p[0].size, p[4]) for p in parts])[order]
    fates = np.concatenate([p[5] for p in parts])[order]
    n_events = session.size

    engaged = np.where(fates == 2, DWELL_IF_BOUGHT, np.where(fates == 1, DWELL_IF_CARTED, 1.0))
    browsing = kind <= 1
    scale = np.where(browsing, engaged * np.asarray(DEVICE_DWELL)[device[session]], 1.0)
    median = np.asarray(DWELL_MEDIAN_MS)[kind] * scale
    noise = np.asarray(DWELL_SIGMA)[kind] * rng.standard_normal(n_events)
    dwell = np.clip(median * np.exp(noise), 300, 900_000).astype(np.int64)
    think = rng.lognormal(math.log(THINK_MEDIAN_MS), 0.7, n_events).astype(np.int64)

    gap = (dwell + think).astype(np.float64)
    elapsed = np.cumsum(gap) - gap
    first_event = np.searchsorted(session, rows)
    offset = elapsed - elapsed[first_event][session]
    last_event = np.concatenate((first_event[1:], [n_events])) - 1
    duration = offset[last_event]
    # A session that would run past the end of the history is compressed to fit.
    room = (world.end_ms - 1000 - start).astype(np.float64)
    squeeze = np.where(duration > room, room / np.maximum(duration, 1.0), 1.0)
    occurred = start[session] + (offset * squeeze[session]).astype(np.int64)

    return _Batch(
        session_user=session_user,
        session_device=device,
        session_start_ms=start,
        event_session=session,
        event_rank=np.arange(n_events) - first_event[session],
        event_product=product,
        event_type=kind,
        event_ms=occurred,
        event_dwell=dwell,
    )


def _expected_events_per_session() -> float:
    """A first guess from the nominal rates; each generated batch then gives the real one."""
    views = 1 + VIEWS_SHAPE * (1 - VIEWS_P) / VIEWS_P
    return views * (1 + CLICK_RATE * (1 + CART_RATE * (1 + PURCHASE_RATE)))


def _history(world: _World, rng: np.random.Generator, report: Progress) -> list[_Batch]:
    """Batches of sessions holding exactly `spec.events` events.

    The first batch gives every light user one session and shares the rest among regular
    users by activity; its sessions are in random order, so cutting the surplus off the end
    drops a random few. Should it fall short, further batches top it up.
    """
    users = world.users
    target = world.spec.events
    light = np.flatnonzero(users.segment == _LIGHT)
    regular = np.flatnonzero(users.segment == _REGULAR)
    if regular.size == 0:
        regular = np.arange(users.segment.size)
    share = users.activity[regular] / users.activity[regular].sum()
    per_session = _expected_events_per_session()
    batches: list[_Batch] = []
    written = 0
    while written < target:
        need = target - written
        if not batches:
            sessions = max(0, math.ceil(need / per_session) - light.size)
            repeats = rng.multinomial(sessions, share)
            who = rng.permutation(np.concatenate([light, np.repeat(regular, repeats)]))
        else:
            who = rng.choice(regular, size=math.ceil(need / per_session * 1.1) + 8, p=share)
        batch = _sessions(world, who, rng)
        if batch.event_session.size:
            per_session = batch.event_session.size / batch.session_user.size
        if batch.event_session.size > need:
            batch = batch.head(need)
        batches.append(batch)
        written += batch.event_session.size
        report("events", written, target)
    return batches


# --- the shop ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyntheticShop:
    """A generated shop held in memory: rows for products, users and events, rendered as
    COPY text on demand. Events are in time order; their ids count up with time."""

    spec: ShopSpec
    taxonomy: _Taxonomy
    catalog: _Catalog
    users: _Users
    session_ids: list[str]
    session_user: Array
    session_device: Array
    event_session: Array
    event_product: Array
    event_type: Array
    event_ms: Array
    event_dwell: Array

    @property
    def n_events(self) -> int:
        return int(self.event_ms.size)

    def stats(self, seconds: float) -> ShopStats:
        kinds = np.bincount(self.event_type, minlength=len(EVENT_TYPES))
        active = np.unique(self.session_user[self.event_session]).size
        return ShopStats(
            products=len(self.catalog.ids),
            users=len(self.users.ids),
            events=self.n_events,
            categories=int(np.unique(self.catalog.cat).size),
            seconds=seconds,
            subcategories=int(np.unique(self.catalog.sub).size),
            brands=int(np.unique(self.catalog.brand).size),
            sessions=len(self.session_ids),
            users_with_events=int(active),
            new_arrivals=int(self.catalog.new.sum()),
            events_by_type={k: int(c) for k, c in zip(EVENT_TYPES, kinds, strict=True)},
            history_start=self.spec.start,
            history_end=self.spec.end,
        )

    def product_rows(self) -> Iterator[str]:
        """COPY text for `products`, in chunks."""
        c, tax = self.catalog, self.taxonomy
        created = _timestamps(c.created_ms)
        prices = [f"{p:.2f}" for p in c.price.tolist()]
        categories = [_copy_text(x.name) for x in tax.categories]
        subcategories = [_copy_text(x.name) for x in tax.subcategories]
        brands = [_copy_text(b) for b in tax.brands]
        cat, sub, brand = c.cat.tolist(), c.sub.tolist(), c.brand.tolist()
        in_stock, promoted = c.in_stock.tolist(), c.promoted.tolist()
        for lo in range(0, len(c.ids), COPY_CHUNK_ROWS):
            lines = []
            for i in range(lo, min(lo + COPY_CHUNK_ROWS, len(c.ids))):
                lines.append(
                    "\t".join(
                        (
                            c.ids[i],
                            _copy_text(c.titles[i]),
                            _copy_text(c.descriptions[i]),
                            categories[cat[i]],
                            subcategories[sub[i]],
                            brands[brand[i]],
                            prices[i],
                            "{" + ",".join(c.tags[i]) + "}",
                            "t" if in_stock[i] else "f",
                            "t" if promoted[i] else "f",
                            created[i],
                            created[i],
                        )
                    )
                )
            yield "\n".join(lines) + "\n"

    def user_rows(self) -> Iterator[str]:
        """COPY text for `users`, in chunks."""
        u = self.users
        created = _timestamps(u.created_ms)
        cohorts = [name for name, _ in vocab.COHORTS]
        cohort = u.cohort.tolist()
        for lo in range(0, len(u.ids), COPY_CHUNK_ROWS):
            hi = min(lo + COPY_CHUNK_ROWS, len(u.ids))
            yield "".join(
                f"{u.ids[i]}\t{created[i]}\t{cohorts[cohort[i]]}\n" for i in range(lo, hi)
            )

    def event_rows(self) -> Iterator[str]:
        """COPY text for `events`, in chunks of `COPY_CHUNK_ROWS`."""
        user_ids = np.array(self.users.ids, dtype=object)
        product_ids = np.array(self.catalog.ids, dtype=object)
        session_ids = np.array(self.session_ids, dtype=object)
        prices = np.array([f"{p:.2f}" for p in self.catalog.price.tolist()], dtype=object)
        kinds = np.array(EVENT_TYPES, dtype=object)
        devices = np.array(DEVICES, dtype=object)
        id_format = _id_format("E", self.n_events, 9).format
        for lo in range(0, self.n_events, COPY_CHUNK_ROWS):
            hi = min(lo + COPY_CHUNK_ROWS, self.n_events)
            session = self.event_session[lo:hi]
            product = self.event_product[lo:hi]
            columns = (
                map(id_format, range(lo + 1, hi + 1)),
                user_ids[self.session_user[session]].tolist(),
                product_ids[product].tolist(),
                kinds[self.event_type[lo:hi]].tolist(),
                _timestamps(self.event_ms[lo:hi]),
                session_ids[session].tolist(),
                devices[self.session_device[session]].tolist(),
                self.event_dwell[lo:hi].astype(str).tolist(),
                prices[product].tolist(),
            )
            yield "\n".join(map("\t".join, zip(*columns, strict=True))) + "\n"


def _timestamps(ms: Array) -> list[str]:
    """ISO 8601 UTC text ("2026-07-04T18:22:05.123Z") for epoch milliseconds."""
    text = np.datetime_as_string(ms.astype("datetime64[ms]"), unit="ms", timezone="UTC")
    return cast(list[str], text.tolist())


def _copy_text(value: str) -> str:
    """Escape a value for COPY's text format."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        value = value.replace("\\", "\\\\").replace("\t", "\\t")
        return value.replace("\n", "\\n").replace("\r", "\\r")
    return value


def _quiet(stage: str, done: int, total: int) -> None:
    return None


@dataclass(frozen=True)
class CatalogAndShoppers:
    """A spec's taxonomy, catalogue and shoppers (with their latent tastes), no history."""

    spec: ShopSpec
    taxonomy: _Taxonomy
    catalog: _Catalog
    users: _Users


def _streams(spec: ShopSpec) -> list[np.random.Generator]:
    """The catalogue, user and history streams, spawned from the seed."""
    return [np.random.default_rng(s) for s in np.random.SeedSequence(spec.seed).spawn(3)]


def build_catalog_and_shoppers(
    spec: ShopSpec, progress: Progress | None = None
) -> CatalogAndShoppers:
    """The catalogue and the shoppers `build_shop` makes for `spec`, without the history.

    Cheap next to `build_shop` (no sessions are drawn), for what needs the shop's latent
    structure but not its events, such as shoppers simulated against a running server: the
    catalogue and users draw from streams of their own, so they are the very ones written.
    """
    report = progress or _quiet
    taxonomy = _taxonomy()
    catalog_rng, user_rng, _ = _streams(spec)
    catalog = _build_catalog(spec, taxonomy, catalog_rng, report)
    users = _build_users(spec, taxonomy, catalog, user_rng)
    report("users", spec.users, spec.users)
    return CatalogAndShoppers(spec, taxonomy, catalog, users)


def build_shop(spec: ShopSpec, progress: Progress | None = None) -> SyntheticShop:
    """Generate a shop in memory, without touching a database.

    The catalogue, the users and the history draw from separate streams spawned from the
    seed, so a bigger history over the same catalogue keeps the catalogue unchanged.
    """
    report = progress or _quiet
    made = build_catalog_and_shoppers(spec, report)
    taxonomy, catalog, users = made.taxonomy, made.catalog, made.users
    history_rng = _streams(spec)[2]
    world = _World(spec, taxonomy, catalog, users)
    batches = _history(world, history_rng, report)

    session_user = np.concatenate([b.session_user for b in batches] or [np.zeros(0, np.int64)])
    session_device = np.concatenate(
        [b.session_device for b in batches] or [np.zeros(0, np.int64)]
    )
    session_start = np.concatenate(
        [b.session_start_ms for b in batches] or [np.zeros(0, np.int64)]
    )
    offsets = np.cumsum([0] + [b.session_user.size for b in batches])
    event_session = np.concatenate(
        [b.event_session + o for b, o in zip(batches, offsets, strict=False)]
        or [np.zeros(0, np.int64)]
    )

    def joined(name: str) -> Array:
        return np.concatenate([getattr(b, name) for b in batches] or [np.zeros(0, np.int64)])

    event_rank, event_ms = joined("event_rank"), joined("event_ms")

    # Sessions are numbered by start time, events by occurrence time.
    session_order = np.lexsort((np.arange(session_start.size), session_start))
    session_number = np.empty(session_start.size, dtype=np.int64)
    session_number[session_order] = np.arange(session_start.size)
    id_format = _id_format("S", session_start.size, 8)
    session_ids = [id_format.format(i + 1) for i in range(session_start.size)]
    order = np.lexsort((event_rank, session_number[event_session], event_ms))
    return SyntheticShop(
        spec=spec,
        taxonomy=taxonomy,
        catalog=catalog,
        users=users,
        session_ids=session_ids,
        session_user=session_user[session_order],
        session_device=session_device[session_order],
        event_session=session_number[event_session][order],
        event_product=joined("event_product")[order],
        event_type=joined("event_type")[order],
        event_ms=event_ms[order],
        event_dwell=joined("event_dwell")[order],
    )


# --- writing -------------------------------------------------------------------------------

SHOP_TABLES = ("products", "users", "events")


def occupied_tables(database: Database) -> list[str]:
    """Which of products, users and events already hold rows."""
    with database.engine.connect() as connection:
        return [
            table
            for table in SHOP_TABLES
            if connection.execute(text(f"SELECT EXISTS (SELECT 1 FROM {table})")).scalar()
        ]


def _refuse(occupied: Sequence[str]) -> ValueError:
    return ValueError(
        f"the shop is not empty ({', '.join(occupied)} already hold rows); "
        "pass replace=True to delete them and generate a new shop"
    )


def generate_shop(
    database: Database,
    spec: ShopSpec,
    progress: Progress | None = None,
    *,
    replace: bool = False,
) -> ShopStats:
    """Generate a demo shop and write it into products, users and events in one transaction.

    Refuses with `ValueError` when any of those tables holds rows, unless `replace` is set, in
    which case they are emptied first (in the same transaction, so a failure leaves the old
    shop in place). `progress(stage, done, total)` is called as work advances, with stages
    "catalog", "users", "events" (generation) and "copy" (rows written). The same spec always
    writes the same rows: ids, times and every value derive from the seed alone (`updated_at`
    is set to `created_at` for the same reason).
    """
    began = time.perf_counter()
    report = progress or _quiet
    if not replace:
        occupied = occupied_tables(database)
        if occupied:
            raise _refuse(occupied)
    shop = build_shop(spec, report)
    total = len(shop.catalog.ids) + len(shop.users.ids) + shop.n_events
    # As the owner: Postgres refuses COPY into a table under row-level security. The shop
    # stays set, so every row lands in the current shop (models.tenancy).
    with as_owner(), database.driver_cursor() as cursor:
        # The owner is outside row-level security: every statement names the shop.
        mine = "shop_id = current_setting('lodestar.shop')"
        if replace:
            for table in ("events", "users", "products"):
                cursor.execute(f"DELETE FROM {table} WHERE {mine}")
        else:
            # Checked again under a lock: rows may have arrived while the shop was generated.
            cursor.execute("LOCK TABLE products, users, events IN SHARE ROW EXCLUSIVE MODE")
            occupied = []
            for table in SHOP_TABLES:
                if cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {table} WHERE {mine})"
                                  ).fetchone()[0]:
                    occupied.append(table)
            if occupied:
                raise _refuse(occupied)
        done = 0
        for statement, chunks in (
            (
                "COPY products (product_id, title, description, category, subcategory, brand,"
                " price, tags, in_stock, promoted, created_at, updated_at) FROM STDIN",
                shop.product_rows(),
            ),
            ("COPY users (user_id, created_at, cohort) FROM STDIN", shop.user_rows()),
            (
                "COPY events (event_id, user_id, product_id, event_type, occurred_at,"
                " session_id, device_type, dwell_ms, price) FROM STDIN",
                shop.event_rows(),
            ),
        ):
            with cursor.copy(statement) as copy:
                for chunk in chunks:
                    copy.write(chunk)
                    done += chunk.count("\n")
                    report("copy", done, total)
        # Fresh statistics, so that the first queries on the new shop plan well.
        cursor.execute("ANALYZE products, users, events")
    return shop.stats(seconds=time.perf_counter() - began)
