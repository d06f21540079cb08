"""The statistics of an experiment's results, from what each unit (shopper, or session of an
anonymous shopper) did: no I/O, only statsmodels and scipy doing the arithmetic.

- Rates over units: add-to-cart rate and conversion (shoppers who added to cart, or
  bought, something a list showed them), compared with the control (the first variant)
  by a two-proportion z-test (pooled variance; statsmodels `proportions_ztest`) and a 95%
  Wald interval of the difference (`confint_proportions_2indep`).
- CTR@K is over lists (lists with a click in their first K products, of lists shown), but
  one shopper's lists are alike, so treating lists as independent would claim effects
  that are not there (measured: 11% false positives at a nominal 5% with shoppers of
  differing keenness). Its z-test therefore takes the shopper as the sample: weighted
  least squares of each shopper's CTR on the variant, weighted by their lists, with
  heteroskedasticity-robust errors (statsmodels `WLS`, HC3, the variant that holds its
  level with few shoppers or clicks): the delta method for a
  ratio of sums.
- Revenue per shopper: Welch's t-test and its 95% interval of the difference in means
  (scipy `ttest_ind(equal_var=False)`).
- Sample ratio mismatch: a chi-square test of units per variant against the configured
  shares (scipy `chisquare`); p < 0.001 means the split is broken and no result should be
  trusted.
- Minimum detectable effect: the smallest absolute change of conversion and CTR@K that the
  sample so far would detect with 80% power at 5% two-sided (statsmodels `NormalIndPower`
  on Cohen's h, turned back into rates around the control's).
- Peeking: a fixed horizon. Each experiment names the units per variant it needs; until
  every variant has them (or the experiment has ended), the results show the counts and
  the observed differences but no interval, p-value or verdict, so that looking early
  cannot inflate the false-positive rate. One look, at the horizon.
- Interleaving: each unit's clicks on products a team picked are summed; a unit whose
  clicks favour one team votes for it (ties abstain). The share of votes for the second
  variant is tested against 1/2 with an exact binomial test (scipy `binomtest`) and given
  a 95% Wilson interval. The unit, not the click, is the sample, so one keen shopper
  cannot decide the result.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from models.experiments import UnitOutcome as Unit

with warnings.catch_warnings():
    # statsmodels 0.14 decorates its docstrings with helpers that pandas 3 deprecates:
    # noise at import time that says nothing about this module's use.
    warnings.simplefilter("ignore", DeprecationWarning)
    from statsmodels.regression.linear_model import WLS
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest
    from statsmodels.tools.tools import add_constant

ALPHA = 0.05
POWER = 0.8
SRM_ALPHA = 0.001


@dataclass(frozen=True)
class Comparison:
    """A variant's metric against the control's: the difference (variant minus control),
    and, once the horizon allows, its 95% interval and p-value."""

    difference: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None

    @property
    def significant(self) -> bool | None:
        return None if self.p_value is None else self.p_value < ALPHA


@dataclass(frozen=True)
class VariantResult:
    name: str
    share: float
    units: int
    exposures: int
    clicked_exposures: int
    ctr_at_k: float | None
    add_to_cart_rate: float | None
    conversion: float | None
    revenue_per_unit: float | None
    vs_control: dict[str, Comparison] | None


@dataclass(frozen=True)
class SampleRatio:
    observed: list[int]
    expected_shares: list[float]
    p_value: float | None

    @property
    def mismatch(self) -> bool:
        return self.p_value is not None and self.p_value < SRM_ALPHA


@dataclass(frozen=True)
class Preference:
    """Interleaving: units whose clicks favoured each variant, ties, and the share of
    votes for the second variant with its interval and p-value against 1/2."""

    first: str
    second: str
    wins_first: int
    wins_second: int
    ties: int
    share_second: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None

    @property
    def significant(self) -> bool | None:
        return None if self.p_value is None else self.p_value < ALPHA


def _rate(count: int, total: int) -> float | None:
    return count / total if total else None


def compare_rates(count_c: int, n_c: int, count_v: int, n_v: int,
                  final: bool) -> Comparison:
    """Variant minus control of a rate; interval and p-value only when `final`."""
    if not n_c or not n_v:
        return Comparison(None)
    difference = count_v / n_v - count_c / n_c
    if not final:
        return Comparison(difference)
    if count_c + count_v == 0 or count_c + count_v == n_c + n_v:
        # Nothing (or everything) happened on both sides: no variance, no evidence.
        return Comparison(difference, 0.0 if difference == 0 else None, None, 1.0)
    _, p_value = proportions_ztest([count_v, count_c], [n_v, n_c])
    low, high = confint_proportions_2indep(count_v, n_v, count_c, n_c, method="wald",
                                           compare="diff", alpha=ALPHA)
    return Comparison(difference, float(low), float(high), float(p_value))


def compare_ratios(control: Sequence[tuple[int, int]], variant: Sequence[tuple[int, int]],
                   final: bool) -> Comparison:
    """Variant minus control of a rate over exposures (successes, exposures per unit),
    with the unit as the sample: a z-test whose standard error is robust to exposures of
    one shopper being alike (weighted least squares of each unit's rate on the variant,
    weights its exposures, heteroskedasticity-robust HC3 errors: the delta method for a
    ratio of sums). Interval and p-value only when `final`."""
    c = np.asarray(control, float).reshape(-1, 2)
    v = np.asarray(variant, float).reshape(-1, 2)
    c, v = c[c[:, 1] > 0], v[v[:, 1] > 0]
    if not len(c) or not len(v):
        return Comparison(None)
    difference = float(v[:, 0].sum() / v[:, 1].sum() - c[:, 0].sum() / c[:, 1].sum())
    if not final:
        return Comparison(difference)
    rows = np.vstack([c, v])
    rate = rows[:, 0] / rows[:, 1]
    if len(c) < 2 or len(v) < 2 or np.all(rate == rate[0]):
        return Comparison(difference, None, None, None if difference else 1.0)
    treated = np.r_[np.zeros(len(c)), np.ones(len(v))]
    fit = WLS(rate, add_constant(treated), weights=rows[:, 1]).fit(cov_type="HC3")
    low, high = fit.conf_int(alpha=ALPHA)[1]
    return Comparison(float(fit.params[1]), float(low), float(high), float(fit.pvalues[1]))


def compare_means(control: Sequence[float], variant: Sequence[float],
                  final: bool) -> Comparison:
    """Variant minus control of a mean (Welch); interval and p-value only when `final`."""
    if not len(control) or not len(variant):
        return Comparison(None)
    a, b = np.asarray(control, float), np.asarray(variant, float)
    difference = float(b.mean() - a.mean())
    if not final:
        return Comparison(difference)
    if len(a) < 2 or len(b) < 2 or (a.var() == 0 and b.var() == 0):
        return Comparison(difference, None, None, None if difference else 1.0)
    result = stats.ttest_ind(b, a, equal_var=False)
    interval = result.confidence_interval(confidence_level=1 - ALPHA)
    return Comparison(difference, float(interval.low), float(interval.high),
                      float(result.pvalue))


def sample_ratio(observed: Sequence[int], shares: Sequence[float]) -> SampleRatio:
    total, share_sum = sum(observed), sum(shares)
    expected = [s / share_sum for s in shares]
    if total == 0 or len(observed) < 2:
        return SampleRatio(list(observed), expected, None)
    _, p_value = stats.chisquare(list(observed), [total * e for e in expected])
    return SampleRatio(list(observed), expected, float(p_value))


def minimum_detectable_change(baseline: float | None, n_control: int, n_variant: int
                              ) -> float | None:
    """The smallest absolute rise of a rate from `baseline` that samples of these sizes
    detect with POWER at ALPHA (two-sided)."""
    if baseline is None or n_control < 2 or n_variant < 2:
        return None
    h = NormalIndPower().solve_power(effect_size=None, nobs1=n_control, alpha=ALPHA,
                                     power=POWER, ratio=n_variant / n_control,
                                     alternative="two-sided")
    angle = math.asin(math.sqrt(min(max(baseline, 0.0), 1.0))) + float(h) / 2
    if angle >= math.pi / 2:
        return 1.0 - baseline
    return math.sin(angle) ** 2 - baseline


def variant_results(names: Sequence[str], shares: Sequence[float], units: Sequence[Unit],
                    final: bool) -> list[VariantResult]:
    """Per variant, in the experiment's order; the first is the control."""
    by_variant: dict[str, list[Unit]] = {name: [] for name in names}
    for unit in units:
        if unit.variant in by_variant:
            by_variant[unit.variant].append(unit)
    out: list[VariantResult] = []
    control = by_variant[names[0]]
    for name, share in zip(names, shares, strict=True):
        group = by_variant[name]
        n = len(group)
        exposures = sum(u.exposures for u in group)
        clicked = sum(u.clicked_exposures for u in group)
        carted = sum(u.carted for u in group)
        bought = sum(u.bought for u in group)
        revenue = [u.revenue for u in group]
        vs = None
        if name != names[0]:
            vs = {
                "ctr_at_k": compare_ratios(
                    [(u.clicked_exposures, u.exposures) for u in control],
                    [(u.clicked_exposures, u.exposures) for u in group], final),
                "add_to_cart_rate": compare_rates(sum(u.carted for u in control),
                                                  len(control), carted, n, final),
                "conversion": compare_rates(sum(u.bought for u in control), len(control),
                                            bought, n, final),
                "revenue_per_shopper": compare_means([u.revenue for u in control],
                                                     revenue, final),
            }
        out.append(VariantResult(
            name=name, share=share, units=n, exposures=exposures, clicked_exposures=clicked,
            ctr_at_k=_rate(clicked, exposures), add_to_cart_rate=_rate(carted, n),
            conversion=_rate(bought, n),
            revenue_per_unit=float(np.mean(revenue)) if revenue else None, vs_control=vs))
    return out


def preference(first: str, second: str, units: Sequence[Unit], final: bool) -> Preference:
    """Interleaving's verdict over units (module doc)."""
    wins_first = wins_second = ties = 0
    for unit in units:
        a, b = unit.credits.get(first, 0), unit.credits.get(second, 0)
        if a > b:
            wins_first += 1
        elif b > a:
            wins_second += 1
        elif a:
            ties += 1
    votes = wins_first + wins_second
    share = wins_second / votes if votes else None
    if not final or not votes:
        return Preference(first, second, wins_first, wins_second, ties, share, None, None,
                          None)
    test = stats.binomtest(wins_second, votes, 0.5)
    interval = test.proportion_ci(confidence_level=1 - ALPHA, method="wilson")
    return Preference(first, second, wins_first, wins_second, ties, share,
                      float(interval.low), float(interval.high), float(test.pvalue))

