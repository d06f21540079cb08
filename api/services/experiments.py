"""Serving under an experiment: which variant a request's shopper is in, the list made
with that variant's settings (or, interleaved, two variants' lists mixed by team draft),
and the exposure logged off the request path.

A request takes part when its surface has a running experiment and it names a unit: the
shopper (`user_id`, as stored), else the session of an anonymous shopper. A request naming
neither (an anonymous product page without a session) is served as usual and not logged:
it could not be followed to a click or a sale.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from api.errors import ApiError
from api.resources import Resources
from evaluation import experiment_stats as stats
from models import experiments
from models.experiments import INTERLEAVED, Experiment, Kind, Live, Variant
from models.exposures import Exposure
from models.settings import Settings, SettingsError
from models.tenancy import current_shop
from ranking.experiments import assign, team_draft
from retrieval.results import ListResult

T = TypeVar("T")


@dataclass(frozen=True)
class Arm:
    """Where a request landed: the experiment, and the variant's name and position
    (`interleaved` and None for an interleaving experiment, whose every request sees
    both)."""

    live: Live
    variant: str
    unit: str
    index: int | None = None

    @property
    def settings(self) -> Settings:
        """The settings an A/B arm's variant serves with."""
        if self.index is None:
            raise ValueError("an interleaved arm serves with both variants' settings")
        return self.live.settings[self.index]

    @property
    def experiment_id(self) -> str:
        return self.live.experiment.experiment_id

    @property
    def interleaved(self) -> bool:
        return self.live.experiment.kind == "interleave"


def unit_of(user_id: str | None, session_id: str | None) -> str | None:
    """The assignment unit: the shopper, else their session (kept apart from shopper ids
    by a prefix no stored id can collide with in meaning)."""
    if user_id is not None:
        return f"user:{user_id}"
    if session_id is not None:
        return f"session:{session_id}"
    return None


def arm_for(resources: Resources, surface: str, user_id: str | None,
            session_id: str | None) -> Arm | None:
    unit = unit_of(user_id, session_id)
    if unit is None:
        return None
    live = resources.experiments.running(resources.database, surface, datetime.now(UTC),
                                         resources.shop_settings)
    if live is None:
        return None
    experiment = live.experiment
    if experiment.kind == "interleave":
        return Arm(live, INTERLEAVED, unit)
    index = assign(experiment.salt, unit, [v.share for v in experiment.variants])
    return Arm(live, experiment.variants[index].name, unit, index)


def served(resources: Resources, arm: Arm | None, produce: Callable[[], ListResult],
           limit: int, request_id: str) -> tuple[ListResult, list[str] | None]:
    """The list the request's arm asks for, and for an interleaved list the variant that
    picked each item."""
    if arm is None:
        return produce(), None
    variants = arm.live.experiment.variants
    if not arm.interleaved:
        with resources.using(arm.settings):
            return produce(), None
    with resources.using(arm.live.settings[0]):
        first = produce()
    with resources.using(arm.live.settings[1]):
        second = produce()
    ids, picked_by = team_draft(first.product_ids, second.product_ids, limit, request_id)
    # Each item keeps the score and reason of the ranking that picked it.
    picked = ({i.product_id: i for i in first.items}, {i.product_id: i for i in second.items})
    items = [picked[team][pid] for pid, team in zip(ids, picked_by, strict=True)]
    shown = {**second.shown, **first.shown}
    merged = ListResult(items, shown, first.strategy, first.version, total=first.total,
                        facets=first.facets, personalised=first.personalised)
    return merged, [variants[team].name for team in picked_by]


def log_exposure(resources: Resources, arm: Arm | None, surface: str, request_id: str,
                 user_id: str | None, session_id: str | None, items: list[str],
                 teams: list[str] | None = None) -> None:
    """Queue the exposure of a list served under `arm` (nothing when not in one)."""
    if arm is None:
        return
    resources.exposures.add(Exposure(
        shop_id=current_shop(), request_id=request_id, experiment_id=arm.experiment_id,
        variant=arm.variant, surface=surface, unit=arm.unit, user_id=user_id,
        session_id=session_id, items=tuple(items),
        teams=tuple(teams) if teams is not None else None, shown_at=datetime.now(UTC)))
    resources.metrics.experiment_lists.labels(surface, arm.variant).inc()


def run_list(resources: Resources, surface: str, produce: Callable[[], ListResult],
             limit: int, request_id: str, user_id: str | None,
             session_id: str | None) -> tuple[ListResult, Arm | None]:
    """A list surface's answer under its experiment, if any, with the exposure logged."""
    arm = arm_for(resources, surface, user_id, session_id)
    result, teams = served(resources, arm, produce, limit, request_id)
    log_exposure(resources, arm, surface, request_id, user_id, session_id,
                 result.product_ids, teams)
    return result, arm


def run_page(resources: Resources, surface: str, produce: Callable[[], T],
             items_of: Callable[[T], list[str]], request_id: str, user_id: str | None,
             session_id: str | None) -> tuple[T, Arm | None]:
    """A page made of several lists (the home page) under its surface's A/B experiment, if
    any; the exposure lists its products in the order shown, row after row."""
    arm = arm_for(resources, surface, user_id, session_id)
    if arm is None:
        return produce(), None
    with resources.using(arm.settings):
        page = produce()
    log_exposure(resources, arm, surface, request_id, user_id, session_id, items_of(page))
    return page, arm


def labels(arm: Arm | None) -> dict[str, str | None]:
    """The `experiment` and `variant` fields of a response."""
    if arm is None:
        return {"experiment": None, "variant": None}
    return {"experiment": arm.experiment_id, "variant": arm.variant}


# --- definitions and results ---------------------------------------------------------------

INTERLEAVING_SURFACES = ("search", "recommendations")


class ExperimentRefused(ApiError):
    def __init__(self, code: str, message: str, details: dict[str, Any]) -> None:
        super().__init__(400, code, message, details)


class ExperimentOverlaps(ApiError):
    def __init__(self, other: Experiment) -> None:
        super().__init__(409, "experiment_overlap",
                         f"experiment {other.experiment_id} ({other.name!r}) runs on "
                         f"{other.surface} at the same time; stop it or schedule around it",
                         {"experiment_id": other.experiment_id})


def checked_variants(base: Settings, surface: str, kind: str,
                     variants: list[tuple[str, float, dict[str, Any]]]) -> tuple[Variant, ...]:
    """The variants as stored, each override named as overrides name settings and its
    value validated as the environment's would be; 400 naming the variant and setting."""
    names = [name for name, _, _ in variants]
    if len(set(names)) != len(names):
        raise ExperimentRefused("invalid_experiment", "variants: names must differ",
                                {"parameter": "variants"})
    if kind == "interleave":
        if surface not in INTERLEAVING_SURFACES:
            raise ExperimentRefused(
                "invalid_experiment",
                f"kind: interleaving compares rankers of one list: surface must be one of "
                f"{', '.join(INTERLEAVING_SURFACES)}", {"parameter": "kind"})
        if len(variants) != 2:
            raise ExperimentRefused("invalid_experiment",
                                    "variants: interleaving mixes exactly two variants",
                                    {"parameter": "variants"})
    out = []
    for name, share, overrides in variants:
        named: dict[str, Any] = {}
        for key, value in overrides.items():
            flat = Settings.override_name(key)
            if flat is None:
                raise ExperimentRefused(
                    "invalid_override",
                    f"variants[{name}].overrides: {key!r} is not a setting a variant may "
                    f"change (see GET /v1/experiments/settings)",
                    {"variant": name, "setting": key})
            named[flat] = value
        try:
            base.replace(**named)
        except SettingsError as exc:
            raise ExperimentRefused("invalid_override", f"variants[{name}].overrides: {exc}",
                                    {"variant": name}) from None
        out.append(Variant(name, share, named))
    return tuple(out)


def create(resources: Resources, name: str, surface: str, kind: Kind,
           variants: tuple[Variant, ...], horizon: int, start_at: datetime,
           stop_at: datetime | None) -> Experiment:
    try:
        made = experiments.create(resources.database, name, surface, kind, variants, horizon,
                                  start_at, stop_at)
    except experiments.Overlap as exc:
        raise ExperimentOverlaps(exc.other) from None
    resources.experiments.forget()
    return made


def stop(resources: Resources, experiment_id: str) -> Experiment | None:
    stopped = experiments.stop(resources.database, experiment_id, datetime.now(UTC))
    resources.experiments.forget()
    return stopped


@dataclass(frozen=True)
class Results:
    experiment: Experiment
    status: str
    final: bool
    horizon_reached: bool
    k: int
    attribution_hours: float
    variants: list[stats.VariantResult]
    sample_ratio: stats.SampleRatio | None
    mde: dict[str, float | None]
    preference: stats.Preference | None


def results(resources: Resources, experiment: Experiment, k: int) -> Results:
    """What the experiment's exposures led to, per variant, with the statistics of
    evaluation.experiment_stats (a fixed horizon: intervals and p-values once every
    variant has `horizon_shoppers` units, or the experiment has ended)."""
    settings = resources.settings.experiment
    now = datetime.now(UTC)
    outcomes = experiments.unit_outcomes(resources.database, experiment.experiment_id, k,
                                         settings.attribution_hours)
    units = outcomes
    if experiment.kind == "interleave":
        names, shares = [INTERLEAVED], [1.0]
    else:
        names = [v.name for v in experiment.variants]
        shares = [v.share for v in experiment.variants]
    counts = [sum(1 for u in units if u.variant == name) for name in names]
    reached = all(c >= experiment.horizon_shoppers for c in counts)
    final = reached or experiment.ended(now)
    rows = stats.variant_results(names, shares, units, final)
    mde: dict[str, float | None] = {"conversion": None, "ctr_at_k": None}
    preference = None
    ratio = None
    if experiment.kind == "interleave":
        first, second = (v.name for v in experiment.variants)
        preference = stats.preference(first, second, units, final)
    else:
        ratio = stats.sample_ratio(counts, shares)
        control = rows[0]
        others = [r for r in rows[1:] if r.units]
        if others:
            smallest = min(others, key=lambda r: r.units)
            mde["conversion"] = stats.minimum_detectable_change(
                control.conversion, control.units, smallest.units)
            mde["ctr_at_k"] = stats.minimum_detectable_change(
                control.ctr_at_k, control.exposures, smallest.exposures)
    return Results(experiment, experiment.status(now), final, reached, k,
                   settings.attribution_hours, rows, ratio, mde, preference)
