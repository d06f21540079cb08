"""Experiments (admin): define an A/B test or an interleaving on a surface, follow it, stop
it, and read its results."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, get, post
from litestar.params import JSONBody, QueryParameter

from api.audited import audited
from api.auth import requires
from api.controllers.params import ADMIN_ERRORS, PathId, Res, Who
from api.errors import BadParameter, NotFound
from api.services import experiments as service
from evaluation import experiment_stats as stats
from models import experiments
from models.settings import Settings

MAX_VARIANTS = 10
MAX_OVERRIDES = 50
Printable = msgspec.Meta(pattern=r"^[^\x00-\x1f\x7f]*$")
Surface = Literal["recommendations", "home", "similar", "bought-together", "search"]


class VariantIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=40,
                                      pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    # Relative traffic: shares 1 and 1 split evenly, 9 and 1 send a tenth to the second.
    share: Annotated[float, msgspec.Meta(gt=0, le=1000)] = 1.0
    # Settings this variant changes, named as `lodestar settings` lists them
    # (LODESTAR_REC_POPULARITY_WEIGHT or rec_popularity_weight).
    overrides: Annotated[dict[Annotated[str, msgspec.Meta(max_length=100)],
                              bool | int | float | Annotated[str, msgspec.Meta(max_length=100)]],
                         msgspec.Meta(max_length=MAX_OVERRIDES)] = {}


class ExperimentIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200,
                                      pattern=r"^[^\x00-\x1f\x7f]*$")]
    surface: Surface
    variants: Annotated[list[VariantIn], msgspec.Meta(min_length=2, max_length=MAX_VARIANTS)]
    kind: Literal["ab", "interleave"] = "ab"
    # The fixed horizon: units (shoppers, or sessions of anonymous shoppers) each variant
    # needs before the results show intervals and p-values.
    horizon_shoppers: Annotated[int, msgspec.Meta(ge=10, le=100_000_000)] = 1000
    start_at: datetime | None = None
    stop_at: datetime | None = None


class VariantOut(msgspec.Struct):
    name: str
    share: float
    overrides: dict[str, Any]


class ExperimentOut(msgspec.Struct):
    experiment_id: str
    name: str
    surface: str
    kind: str
    variants: list[VariantOut]
    horizon_shoppers: int
    created_at: datetime
    start_at: datetime
    stop_at: datetime | None
    status: str  # scheduled | running | ended
    results: str  # where to read them


class ExperimentList(msgspec.Struct):
    items: list[ExperimentOut]


class Overridable(msgspec.Struct):
    """Settings a variant may override, as `lodestar settings` describes them."""

    items: list[dict[str, str]]


class ComparisonOut(msgspec.Struct):
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    significant: bool | None


class VariantResultOut(msgspec.Struct):
    name: str
    share: float
    shoppers: int
    exposures: int
    clicked_exposures: int
    ctr_at_k: float | None
    add_to_cart_rate: float | None
    conversion: float | None
    revenue_per_shopper: float | None
    vs_control: dict[str, ComparisonOut] | None


class SampleRatioOut(msgspec.Struct):
    observed: list[int]
    expected_shares: list[float]
    p_value: float | None
    mismatch: bool


class PreferenceOut(msgspec.Struct):
    first: str
    second: str
    shoppers_preferring_first: int
    shoppers_preferring_second: int
    ties: int
    share_preferring_second: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    significant: bool | None


class HorizonOut(msgspec.Struct):
    shoppers_per_variant: int
    reached: bool
    final: bool  # intervals and p-values are shown


class ResultsOut(msgspec.Struct):
    experiment: ExperimentOut
    method: str
    horizon: HorizonOut
    k: int
    attribution_hours: float
    variants: list[VariantResultOut]
    sample_ratio: SampleRatioOut | None
    minimum_detectable_change: dict[str, float | None]
    interleaving: PreferenceOut | None


METHOD = (
    "Fixed horizon: intervals, p-values and verdicts appear once every variant has "
    "horizon.shoppers_per_variant shoppers (or the experiment has ended), so looking "
    "earlier cannot raise the false-positive rate. Add-to-cart and conversion (over "
    "shoppers): two-proportion z-test and 95% Wald interval of the difference to the "
    "control. CTR@K (over lists shown): z-test with the shopper as the sample (weighted "
    "least squares, robust errors: the delta method), since one shopper's lists are "
    "alike. Revenue per shopper: Welch's t-test. Sample ratio: "
    "chi-square, mismatch below p=0.001. Minimum detectable change: absolute, 80% power, "
    "5% two-sided, at the sample so far. Interleaving: shoppers vote for the variant whose "
    "picks they clicked more; exact binomial test against 1/2 with a Wilson interval.")


def _out(experiment: experiments.Experiment, now: datetime | None = None) -> ExperimentOut:
    return ExperimentOut(
        experiment_id=experiment.experiment_id, name=experiment.name,
        surface=experiment.surface, kind=experiment.kind,
        variants=[VariantOut(v.name, v.share, v.overrides) for v in experiment.variants],
        horizon_shoppers=experiment.horizon_shoppers, created_at=experiment.created_at,
        start_at=experiment.start_at, stop_at=experiment.stop_at,
        status=experiment.status(now or datetime.now(UTC)),
        results=f"/v1/experiments/{experiment.experiment_id}/results")


def _comparison(c: stats.Comparison) -> ComparisonOut:
    return ComparisonOut(c.difference, c.ci_low, c.ci_high, c.p_value, c.significant)


def _aware(name: str, moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        raise BadParameter(name, "needs a time zone (e.g. 2026-12-05T00:00:00Z)")
    return moment


class ExperimentController(Controller):
    path = "/v1/experiments"
    tags = ["experiments"]
    guards = [requires("admin")]

    @post("/", status_code=201, sync_to_thread=True, responses=ADMIN_ERRORS)
    def create(self, resources: Res, caller: Who,
               data: JSONBody[ExperimentIn]) -> ExperimentOut:
        """Start (or schedule) an experiment on one surface: named variants, each a traffic
        share and setting overrides validated like the environment's. Shoppers are
        assigned by a hash of the experiment's salt and the shopper (or the session of an
        anonymous one): the same variant on every request, process and restart. Another
        experiment on the same surface at overlapping times is refused (409)."""
        now = datetime.now(UTC)
        start = _aware("start_at", data.start_at) or now
        stop = _aware("stop_at", data.stop_at)
        if stop is not None and stop <= max(start, now):
            raise BadParameter("stop_at", "must be after start_at and in the future")
        with audited(resources, caller, "experiments.create",
                     details={"surface": data.surface, "kind": data.kind}) as found:
            variants = service.checked_variants(
                resources.base_settings, data.surface, data.kind,
                [(v.name, v.share, dict(v.overrides)) for v in data.variants])
            made = service.create(resources, data.name, data.surface, data.kind, variants,
                                  data.horizon_shoppers, start, stop)
            found["experiment_id"] = made.experiment_id
        return _out(made)

    @get("/", sync_to_thread=True, responses=ADMIN_ERRORS)
    def list_experiments(self, resources: Res) -> ExperimentList:
        """The shop's experiments, newest first."""
        return ExperimentList([_out(e) for e in experiments.listed(resources.database)])

    @get("/settings", sync_to_thread=True, responses=ADMIN_ERRORS)
    def overridable(self) -> Overridable:
        """The settings a variant may override, with their defaults and meaning."""
        allowed = set(Settings.overridable())
        rows = [{"name": env.removeprefix("LODESTAR_").lower(), "variable": env,
                 "default": default, "description": doc}
                for env, default, doc in Settings.describe()
                if env.removeprefix("LODESTAR_").lower() in allowed]
        return Overridable(rows)

    @get("/{experiment_id:str}", sync_to_thread=True, responses=ADMIN_ERRORS)
    def get_experiment(self, resources: Res, experiment_id: PathId) -> ExperimentOut:
        found = experiments.get(resources.database, experiment_id)
        if found is None:
            raise NotFound("experiment", experiment_id)
        return _out(found)

    @post("/{experiment_id:str}/stop", status_code=200, sync_to_thread=True,
          responses=ADMIN_ERRORS)
    def stop(self, resources: Res, caller: Who, experiment_id: PathId) -> ExperimentOut:
        """End an experiment now: every process stops assigning within
        LODESTAR_EXPERIMENT_CACHE_SECONDS (this one at once). Its exposures and results
        stay. Stopping an ended experiment answers it as it is."""
        with audited(resources, caller, "experiments.stop", experiment_id):
            stopped = service.stop(resources, experiment_id)
            if stopped is None:
                raise NotFound("experiment", experiment_id)
        return _out(stopped)

    @get("/{experiment_id:str}/results", sync_to_thread=True, responses=ADMIN_ERRORS)
    def results(
        self, resources: Res, experiment_id: PathId,
        k: Annotated[int | None, QueryParameter(
            ge=1, le=1000, description="K of CTR@K (default LODESTAR_EXPERIMENT_CLICK_DEPTH)."
        )] = None,
    ) -> ResultsOut:
        """Per variant: shoppers, lists shown, CTR@K, add-to-cart rate, conversion and
        revenue per shopper, with the difference to the control, its 95% interval and
        p-value (once the fixed horizon is reached); a sample-ratio check; the minimum
        detectable change of the sample so far; for interleaving, the shoppers'
        preference with its interval. `method` says how each figure is computed."""
        found = experiments.get(resources.database, experiment_id)
        if found is None:
            raise NotFound("experiment", experiment_id)
        r = service.results(resources, found, k or resources.settings.experiment.click_depth)
        ratio = r.sample_ratio
        pref = r.preference
        return ResultsOut(
            experiment=_out(found), method=METHOD,
            horizon=HorizonOut(found.horizon_shoppers, r.horizon_reached, r.final),
            k=r.k, attribution_hours=r.attribution_hours,
            variants=[VariantResultOut(
                name=v.name, share=v.share, shoppers=v.units, exposures=v.exposures,
                clicked_exposures=v.clicked_exposures, ctr_at_k=v.ctr_at_k,
                add_to_cart_rate=v.add_to_cart_rate, conversion=v.conversion,
                revenue_per_shopper=v.revenue_per_unit,
                vs_control=({m: _comparison(c) for m, c in v.vs_control.items()}
                            if v.vs_control is not None else None))
                for v in r.variants],
            sample_ratio=(SampleRatioOut(ratio.observed, ratio.expected_shares, ratio.p_value,
                                         ratio.mismatch) if ratio is not None else None),
            minimum_detectable_change=r.mde,
            interleaving=(PreferenceOut(
                pref.first, pref.second, pref.wins_first, pref.wins_second, pref.ties,
                pref.share_second, pref.ci_low, pref.ci_high, pref.p_value, pref.significant)
                if pref is not None else None),
        )
