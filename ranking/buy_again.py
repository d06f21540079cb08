"""Buy it again: which of a shopper's past purchases they are likely to need now. Pure.

Two things are learnt from every shopper at reindex (`repurchase_stats`): how often a
product is bought again at all (the share of its buyers who bought it on two or more
days, pulled towards its category's share when it has few buyers), and its typical
interval between purchases (the median gap, the category's when the product has few
gaps of its own). A product whose repurchase rate is below a floor never appears: a
sofa bought once is not "running low".

For one shopper (`buy_again`), each product they bought scores

    p_again × due(t, T)

where t is the time since their last purchase of it, T the interval expected of them
(the product's typical interval, moved towards their own median gap the more gaps they
have), and due() the chance that the next purchase falls within the horizon from now,
given that t has passed without one, for gaps log-normal around T (bought yesterday and
lasting a month: small; about its time: large; long overdue: a small floor, since they
may still need it). p_again is the product's repurchase rate, raised by the shopper's
own repeats (someone who bought it five times will buy it again). A product returned
since its last purchase is left out.

The baseline it is measured against (`frequency_recency`) ranks past purchases by how
often and how lately they were bought, knowing nothing of intervals.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ranking.results import RankedItem

DAY = 86_400.0


@dataclass(frozen=True, slots=True)
class Repurchase:
    """What all shoppers say about buying one product again."""

    rate: float  # share of its buyers who bought it on two or more days (smoothed)
    days: float  # typical days between two purchases; 0 when nothing says


@dataclass(frozen=True, slots=True)
class PastPurchases:
    """One shopper's purchases of one product."""

    product_id: str
    days: Sequence[float]  # epoch seconds of each purchase, one per distinct day, ascending
    returned: bool = False  # returned after the last purchase


@dataclass(frozen=True)
class BuyAgainSettings:
    min_rate: float = 0.1  # below this repurchase rate a product never appears
    prior_buyers: float = 5.0  # buyers' worth of the category's rate in a product's rate
    min_gaps: int = 3  # a product's own median gap needs this many gaps
    own_gap_weight: float = 1.0  # one own gap counts as this many of the product's
    prior_repeats: float = 3.0  # the product's rate counts as this many own repeats
    gap_spread: float = 1.2  # log-scale spread of the gaps between one product's purchases
    horizon_days: float = 14.0  # "needed now": bought again within this many days
    overdue_floor: float = 0.05  # the least a long-overdue purchase keeps


def distinct_days(times: Iterable[float]) -> list[float]:
    """Purchase times, one per calendar day (UTC), ascending: two orders on one day are
    one shopping trip, not a repurchase."""
    out: list[float] = []
    for t in sorted(times):
        if not out or math.floor(t / DAY) != math.floor(out[-1] / DAY):
            out.append(t)
    return out


def repurchase_stats(
    purchases: Iterable[tuple[str, str, str, Sequence[float]]],
    settings: BuyAgainSettings = BuyAgainSettings(),
) -> dict[str, Repurchase]:
    """Per product, from (user, product, category, purchase times) of every shopper: its
    repurchase rate and typical interval, each pulled towards its category's."""
    buyers: dict[str, int] = defaultdict(int)
    repeaters: dict[str, int] = defaultdict(int)
    gaps: dict[str, list[float]] = defaultdict(list)
    category_of: dict[str, str] = {}
    for _, product, category, times in purchases:
        days = distinct_days(times)
        if not days:
            continue
        category_of[product] = category
        buyers[product] += 1
        if len(days) > 1:
            repeaters[product] += 1
            gaps[product].extend(np.diff(days) / DAY)
    cat_buyers: dict[str, int] = defaultdict(int)
    cat_repeaters: dict[str, int] = defaultdict(int)
    cat_gaps: dict[str, list[float]] = defaultdict(list)
    for product, category in category_of.items():
        cat_buyers[category] += buyers[product]
        cat_repeaters[category] += repeaters[product]
        cat_gaps[category].extend(gaps[product])
    overall = sum(repeaters.values()) / max(sum(buyers.values()), 1)
    out: dict[str, Repurchase] = {}
    for product, category in category_of.items():
        # The category's rate, itself pulled towards the shop's, is the prior.
        prior = ((cat_repeaters[category] + settings.prior_buyers * overall)
                 / (cat_buyers[category] + settings.prior_buyers))
        rate = ((repeaters[product] + settings.prior_buyers * prior)
                / (buyers[product] + settings.prior_buyers))
        own = gaps[product]
        if len(own) >= settings.min_gaps:
            typical = float(np.median(own))
        elif cat_gaps[category]:
            typical = float(np.median(cat_gaps[category]))
        else:
            typical = 0.0
        out[product] = Repurchase(rate, typical)
    return out


def _gap_cdf(days: float, expected_days: float, spread: float) -> float:
    """P(gap <= days) for a log-normal gap with median `expected_days`."""
    if days <= 0:
        return 0.0
    z = math.log(days / expected_days) / spread
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def due(elapsed_days: float, expected_days: float, settings: BuyAgainSettings) -> float:
    """The chance that the next purchase falls in the next `horizon_days`, given that
    `elapsed_days` have passed without one: gaps between purchases taken as log-normal
    around `expected_days` (twice as early and twice as late are alike in kind)."""
    if expected_days <= 0:
        return 0.0
    spread = settings.gap_spread
    survived = 1.0 - _gap_cdf(elapsed_days, expected_days, spread)
    if survived <= 1e-9:
        # Long overdue: as likely as any gap of that length, which is no longer telling.
        return settings.overdue_floor
    within = _gap_cdf(elapsed_days + settings.horizon_days, expected_days, spread)
    chance = (within - (1.0 - survived)) / survived
    return max(chance, settings.overdue_floor) if elapsed_days > expected_days else chance


def buy_again(
    purchases: Sequence[PastPurchases],
    stats: Mapping[str, Repurchase],
    now: float,
    limit: int,
    settings: BuyAgainSettings = BuyAgainSettings(),
) -> list[RankedItem]:
    """The shopper's past purchases most likely needed now, best first (ties by product
    id); only products bought again often enough, not returned since."""
    scored: list[tuple[float, str]] = []
    for past in purchases:
        known = stats.get(past.product_id)
        if known is None or past.returned or not past.days or known.rate < settings.min_rate:
            continue
        own_gaps = list(np.diff(past.days) / DAY) if len(past.days) > 1 else []
        expected = known.days
        if own_gaps:
            mine = float(np.median(own_gaps))
            weight = settings.own_gap_weight * len(own_gaps)
            expected = (mine * weight + known.days) / (weight + 1) if known.days > 0 else mine
        repeats = len(past.days) - 1
        # The product's rate is worth `prior_repeats` of the shopper's own repeats.
        p_again = ((known.rate * settings.prior_repeats + repeats)
                   / (settings.prior_repeats + repeats))
        score = p_again * due((now - past.days[-1]) / DAY, expected, settings)
        if score > 0:
            scored.append((score, past.product_id))
    scored.sort(key=lambda sp: (-sp[0], sp[1]))
    return [RankedItem(pid, score) for score, pid in scored[:max(limit, 0)]]


def frequency_recency(purchases: Sequence[PastPurchases], now: float, limit: int,
                      half_life_days: float = 30.0) -> list[RankedItem]:
    """The baseline: purchases ranked by how many days each was bought on, each day's
    weight halving every `half_life_days` (ties by product id); it knows no intervals.
    Like `buy_again`, it leaves out what was returned since."""
    scored = sorted(
        ((sum(0.5 ** ((now - t) / DAY / half_life_days) for t in p.days), p.product_id)
         for p in purchases if p.days and not p.returned),
        key=lambda sp: (-sp[0], sp[1]))
    return [RankedItem(pid, score) for score, pid in scored[:max(limit, 0)]]
