"""Criterion 5, clinical improvement: the patient's primary endpoint after treatment against their own
predicted untreated course, from the disease's natural-history cohort.

A continuous primary endpoint (progressive disease) is judged with
:func:`pmpath.outcomes.compare_trajectory` against the cohort's growth curve; a count endpoint
(flaring disease) with :func:`pmpath.outcomes.compare_event_rates` against the cohort's event rate.
Supportive endpoints get the same analyses, reported and not deciding. Death, or withdrawal before
the primary endpoint could be assessed, is not improvement. Concomitant changes after the baseline
are named: they can confound improvement.

The verdict's figures (:mod:`pmpath.pathway.figures`) are a
:class:`~pmpath.pathway.figures.TrajectoryFigure` (continuous endpoint) or an
:class:`~pmpath.pathway.figures.EventsFigure` (count endpoint) for the primary endpoint, then one for
each supportive endpoint that could be compared (``role="supportive"``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtri

from pmpath.dossier import PatientRecord
from pmpath.dossier.load import COHORT_FILE
from pmpath.dossier.model import Endpoint, EndpointKind, ImprovementPlan
from pmpath.dossier.vocabulary import DAYS_PER_YEAR, study_day
from pmpath.errors import AnalysisError
from pmpath.outcomes import (
    EventPeriods,
    EventRateComparison,
    TrajectoryComparison,
    UntreatedModel,
    UntreatedRate,
    compare_event_rates,
    compare_trajectory,
)
from pmpath.pathway import flags as flag_kinds
from pmpath.pathway.context import AssessmentContext
from pmpath.pathway.criteria.characterization import cohort_fit_errors, cohort_fits
from pmpath.pathway.figures import ConcomitantMark, EventsFigure, FigureData, TrajectoryFigure
from pmpath.pathway.flags import Flag, FlagSeverity
from pmpath.pathway.results import (
    ConcomitantChange,
    EndpointComparison,
    EndpointStatus,
    EventRateComparisonResult,
    ImprovementResult,
    Interval,
    Quantity,
    TrajectoryComparisonResult,
    VisitRow,
)
from pmpath.pathway.verdict import CRITERION_NAMES, Status, Verdict

NUMBER = 5
LAST_PRE_DAY = 0  # a measurement on the day of the first dose is the pre-dose baseline
STOPPED = ("died", "withdrew", "lost_to_follow_up")

METHOD = (
    "The patient is compared with their own predicted untreated course, taken from the natural-history cohort of "
    "their disease. Continuous primary endpoint (progressive disease): the cohort's linear mixed growth model "
    "(random intercept and slope on age) predicts the patient's untreated values after the first dose from ALL "
    "their pre-treatment measurements (day <= 0; empirical Bayes prediction of their own intercept and slope, "
    "shrunk toward the population, which guards against regression to the mean). The prediction variance adds "
    "the conditional variance of the patient's random effects, the residual variance and the fixed-effect "
    "uncertainty. The treatment effect is the mean of (observed - predicted) over post-dose visits (day >= 1) in "
    "the direction of benefit, its SE from the full joint covariance of the predictions (the visits share the "
    "patient's random effects); one-sided z test. Met when p < alpha_one_sided and at least min_fraction_beyond_band "
    "of the post-dose visits lie beyond the prediction band on the benefit side; insufficient with fewer than "
    "min_post_dose_visits post-dose visits. Count primary endpoint (flaring disease): the post/pre event rate ratio "
    "with an exact conditional (binomial, Clopper-Pearson) interval at confidence 1 - 2 alpha_one_sided, and the "
    "probability, for this patient untreated, of an event-free gap at least as long as the longest one observed "
    "anywhere in the same follow-up (exact maximum-spacing distribution of a Poisson process, integrated over the "
    "gamma-Poisson posterior of the patient's untreated rate: cohort rate and dispersion updated by the patient's "
    "pre-treatment events). Met when the rate ratio is at most max_rate_ratio with its upper bound below 1 and the "
    "gap probability is at most max_gap_probability (without a pre-treatment event record: on the gap alone); "
    "insufficient when there is no post-dose observation or the follow-up is too short for even an event-free "
    "follow-up to be improbable. Death, or withdrawal or loss to follow-up before the primary endpoint could be "
    "assessed, is not met. Supportive endpoints are analysed the same way and reported, not deciding."
)


@dataclass
class EndpointResult:
    """One endpoint's analysis for the verdict: its status, why, its typed result and its figure."""

    endpoint: Endpoint
    status: Status
    reason: str
    figure: TrajectoryFigure | EventsFigure | None = None
    flags: list[Flag] = field(default_factory=list)
    post_data_short: bool = False  # too few post-dose visits, or too little post-dose follow-up
    typed: EndpointComparison | None = None  # the comparison as a typed result, with units


def _flag(endpoint: Endpoint, kind: str, severity: FlagSeverity, message: str) -> Flag:
    return Flag(
        kind=kind,
        severity=severity,
        message=f"{endpoint.id!r}: {message}",
        criterion=NUMBER,
        endpoint=endpoint.id,
    )


def _analysis_flags(endpoint: Endpoint, notes: Sequence[str]) -> list[Flag]:
    """The comparison's notes as flags; a regression-to-the-mean note bears on the verdict."""
    out = []
    for note in notes:
        if "regression to the mean" in note:
            out.append(_flag(endpoint, flag_kinds.REGRESSION_TO_MEAN, FlagSeverity.caveat, note))
        else:
            out.append(_flag(endpoint, flag_kinds.ENDPOINT_ANALYSIS, FlagSeverity.info, note))
    return out


# ---------------------------------------------------------------------- JSON-able numbers


def _num(x: Any) -> float | None:
    """A JSON-able float: None for NaN and infinities."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _nums(values: Any) -> list[float | None]:
    return [_num(v) for v in np.asarray(values, dtype=float).reshape(-1)]


# ---------------------------------------------------------------------- the patient's data


def _age(patient: PatientRecord, day: np.ndarray | float) -> np.ndarray:
    return (
        patient.case.diagnosis.age_at_first_dose_years
        + np.asarray(day, dtype=float) / DAYS_PER_YEAR
    )


@dataclass(frozen=True)
class _Measured:
    """One endpoint's measurements of the patient, by day from first dose (sorted, stable)."""

    day: np.ndarray
    value: np.ndarray


@dataclass(frozen=True)
class _Periods:
    """One endpoint's event periods of the patient, sorted by start and end day (stable)."""

    start_day: np.ndarray
    end_day: np.ndarray
    count: np.ndarray


_NO_MEASUREMENTS = _Measured(np.empty(0), np.empty(0))
_NO_PERIODS = _Periods(np.empty(0), np.empty(0), np.empty(0))


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _split_by_endpoint(
    frame: pd.DataFrame, columns: tuple[str, ...]
) -> dict[str, list[np.ndarray]]:
    """Endpoint id -> the numeric ``columns`` of its rows with a number in each (table order).

    One pass over the patient's table for all endpoints: per endpoint it is a few milliseconds of
    pandas, which for a thousand patients was most of criterion 5.
    """
    if frame.empty:
        return {}
    endpoint = frame["endpoint"].to_numpy(dtype=object)
    values = [_column(frame, c) for c in columns]
    complete = np.logical_and.reduce([~np.isnan(v) for v in values])
    out = {}
    for e in pd.unique(endpoint):
        rows = (endpoint == e) & complete
        out[str(e)] = [v[rows] for v in values]
    return out


def _measurements(patient: PatientRecord) -> dict[str, _Measured]:
    """Endpoint id -> the patient's measurements of it, sorted by day."""
    out = {}
    for e, (day, value) in _split_by_endpoint(patient.measurements, ("day", "value")).items():
        order = np.argsort(day, kind="stable")
        out[e] = _Measured(day[order], value[order])
    return out


def _event_periods(patient: PatientRecord) -> dict[str, _Periods]:
    """Endpoint id -> the patient's event periods of it, sorted by start and end day."""
    columns = ("start_day", "end_day", "count")
    out = {}
    for e, (start, end, count) in _split_by_endpoint(patient.events, columns).items():
        order = np.lexsort((end, start))  # stable: equal periods keep their order
        out[e] = _Periods(start[order], end[order], count[order])
    return out


@dataclass(frozen=True)
class _PatientData:
    """The patient's measurements and event periods by endpoint, read from their tables once."""

    measurements: dict[str, _Measured]
    periods: dict[str, _Periods]

    @classmethod
    def of(cls, patient: PatientRecord) -> _PatientData:
        return cls(_measurements(patient), _event_periods(patient))

    def measured(self, endpoint_id: str) -> _Measured:
        return self.measurements.get(endpoint_id, _NO_MEASUREMENTS)

    def events(self, endpoint_id: str) -> _Periods:
        return self.periods.get(endpoint_id, _NO_PERIODS)


def _baseline_day(data: _PatientData, endpoint: Endpoint) -> float:
    """First day of the endpoint's record (its first pre-treatment datum when there is one); 0 without data."""
    if endpoint.kind == EndpointKind.continuous:
        days = data.measured(endpoint.id).day
    elif endpoint.kind == EndpointKind.count:
        days = data.events(endpoint.id).start_day
    else:
        days = np.empty(0)
    return float(min(days.min(), 0.0)) if len(days) else 0.0


def _concomitant_since(patient: PatientRecord, baseline_day: float) -> list[dict[str, Any]]:
    frame = patient.concomitant
    if frame.empty:
        return []
    out = []
    for day, kind, description in zip(
        frame["day"], frame["kind"], frame["description"], strict=True
    ):
        day = float(day)
        if math.isfinite(day) and day >= baseline_day:
            out.append({"day": day, "kind": str(kind), "description": str(description)})
    return sorted(out, key=lambda c: c["day"])


# ---------------------------------------------------------------------- continuous endpoints


def _untreated_model(ctx: AssessmentContext, fit: Any) -> UntreatedModel:
    """:func:`_as_untreated_model` of a cohort's fit, built (and checked) once per assessment."""
    key = f"improvement/untreated_model/{id(fit)}"
    if key not in ctx.cache:
        ctx.cache[key] = (fit, _as_untreated_model(fit))  # the fit is kept: its id stays its own
    return ctx.cache[key][1]


def _as_untreated_model(fit: Any) -> UntreatedModel:
    """A natural-history growth curve (anything with the GrowthCurve attributes) as the outcomes input."""
    return UntreatedModel(
        fixed_effects=np.asarray(fit.fixed_effects, dtype=float),
        fixed_effects_cov=np.asarray(fit.fixed_effects_cov, dtype=float),
        random_effects_cov=np.asarray(fit.random_effects_cov, dtype=float),
        residual_variance=float(fit.residual_variance),
        age_center=float(fit.age_center),
        scale=fit.scale,
    )


def _one_sided_z(alpha: float) -> float:
    return float(ndtri(1 - alpha))


def _trajectory_result(
    result: TrajectoryComparison, endpoint: Endpoint, post_days: np.ndarray
) -> TrajectoryComparisonResult:
    """The comparison as a typed result: the effect with its 1 - 2 alpha interval, per-visit rows."""
    z = _one_sided_z(result.alpha_one_sided)
    lo, hi = result.effect - z * result.se, result.effect + z * result.se
    if result.scale == "log":  # a mean log ratio: shown back-transformed, as a ratio
        effect = Quantity.of(math.exp(result.effect), "ratio")
        interval = Interval.of(math.exp(lo), math.exp(hi), "ratio", 1 - 2 * result.alpha_one_sided)
    else:
        effect = Quantity.of(result.effect, endpoint.unit or "")
        interval = Interval.of(lo, hi, endpoint.unit or "", 1 - 2 * result.alpha_one_sided)
    p = result.prediction
    visits = [
        VisitRow(
            study_day=study_day(day),
            age_years=_num(age),
            observed=_num(observed),
            predicted_untreated=_num(predicted),
            interval_low=_num(lower),
            interval_high=_num(upper),
            beyond_band=bool(beyond),
        )
        for day, age, observed, predicted, lower, upper, beyond in zip(
            post_days,
            p.ages,
            result.plot.post_values,
            p.median_original,
            p.lower_original,
            p.upper_original,
            result.beyond_band,
            strict=True,
        )
    ]
    return TrajectoryComparisonResult(
        endpoint=endpoint.id,
        name=endpoint.name,
        unit=endpoint.unit or "",
        status=result.decision,
        reason=result.reason,
        scale=result.scale,
        direction=result.direction,
        n_pre=result.n_pre,
        n_post=result.n_post,
        effect=effect,
        effect_interval=interval,
        p_value_one_sided=_num(result.p_value),
        fraction_beyond_band=Quantity.of(result.fraction_beyond_band, "%"),
        n_beyond_band=result.n_beyond_band,
        prediction_level=result.prediction_level,
        visits=visits,
        regression_to_mean=result.regression_to_mean,
    )


def _marks(concomitant: list[dict[str, Any]]) -> list[ConcomitantMark]:
    return [
        ConcomitantMark(day=c["day"], kind=c["kind"], description=c["description"])
        for c in concomitant
    ]


def _trajectory_figure(
    result: TrajectoryComparison, endpoint: Endpoint, age0: float, concomitant: list[dict[str, Any]]
) -> TrajectoryFigure:
    plot = result.plot

    def days(ages: np.ndarray) -> list[float | None]:
        return _nums((np.asarray(ages, dtype=float) - age0) * DAYS_PER_YEAR)

    return TrajectoryFigure(
        role=endpoint.role,
        endpoint=endpoint.id,
        name=endpoint.name,
        unit=endpoint.unit or "",
        direction=endpoint.direction.value,
        day=days(plot.pre_ages) + days(plot.post_ages),
        value=_nums(plot.pre_values) + _nums(plot.post_values),
        phase=["pre"] * len(plot.pre_ages) + ["post"] * len(plot.post_ages),
        prediction_day=days(plot.grid_ages),
        prediction_mean=_nums(plot.predicted_median),
        prediction_lower=_nums(plot.predicted_lower),
        prediction_upper=_nums(plot.predicted_upper),
        prediction_level=plot.level,
        population_mean=_nums(plot.population_median),
        population_lower=_nums(plot.population_lower),
        population_upper=_nums(plot.population_upper),
        concomitant=_marks(concomitant),
    )


def _continuous(
    ctx: AssessmentContext,
    endpoint: Endpoint,
    fit: Any,
    patient: PatientRecord,
    data: _PatientData,
    plan: ImprovementPlan,
    concomitant: list[dict[str, Any]],
) -> EndpointResult:
    measured = data.measured(endpoint.id)
    before = measured.day <= LAST_PRE_DAY
    after = measured.day > LAST_PRE_DAY
    pre_day, pre_value = measured.day[before], measured.value[before]
    post_day, post_value = measured.day[after], measured.value[after]
    n_post = len(post_day)
    short = n_post < plan.min_post_dose_visits
    if not hasattr(fit, "random_effects_cov"):
        return EndpointResult(
            endpoint,
            Status.insufficient,
            f"the natural-history model of {endpoint.id!r} is not a growth curve",
            post_data_short=short,
        )
    try:
        model = _untreated_model(ctx, fit)
        result = compare_trajectory(
            model,
            _age(patient, pre_day),
            pre_value,
            _age(patient, post_day),
            post_value,
            endpoint.direction.value,
            alpha_one_sided=plan.alpha_one_sided,
            prediction_level=plan.prediction_level,
            min_fraction_beyond_band=plan.min_fraction_beyond_band,
            min_post_visits=plan.min_post_dose_visits,
        )
    except AnalysisError as exc:
        return EndpointResult(
            endpoint,
            Status.insufficient,
            f"the comparison could not be made: {exc}",
            post_data_short=short,
        )
    flags = _analysis_flags(endpoint, result.flags)
    if len(pre_day) == 0:
        flags.append(
            _flag(
                endpoint,
                "no_pre_treatment_measurement",
                FlagSeverity.caveat,
                "no pre-treatment measurement; the untreated prediction is the population's, not the patient's own",
            )
        )
    if getattr(fit, "converged", True) is False:
        flags.append(
            _flag(
                endpoint,
                flag_kinds.FALLBACK_MODEL,
                FlagSeverity.caveat,
                "the natural-history model did not converge",
            )
        )
    age_range = getattr(fit, "age_range", None)
    ages = np.concatenate([result.plot.pre_ages, result.plot.post_ages])
    if age_range is not None and ages.size and all(np.isfinite(age_range)):
        lo, hi = float(age_range[0]), float(age_range[1])
        if ages.min() < lo or ages.max() > hi:
            flags.append(
                _flag(
                    endpoint,
                    flag_kinds.EXTRAPOLATION,
                    FlagSeverity.caveat,
                    f"the patient's measurements span ages {ages.min():.2f}-{ages.max():.2f}, beyond the cohort's "
                    f"{lo:.2f}-{hi:.2f}: the untreated prediction extrapolates",
                )
            )
    age0 = patient.case.diagnosis.age_at_first_dose_years
    return EndpointResult(
        endpoint,
        Status(result.decision),
        result.reason,
        figure=_trajectory_figure(result, endpoint, age0, concomitant),
        flags=flags,
        post_data_short=short,
        typed=_trajectory_result(result, endpoint, post_day),
    )


# ---------------------------------------------------------------------- count endpoints


def _events_result(result: EventRateComparison, endpoint: Endpoint) -> EventRateComparisonResult:
    """The comparison as a typed result: rates per year, the rate ratio, the longest gap."""
    ratio = result.rate_ratio
    return EventRateComparisonResult(
        endpoint=endpoint.id,
        name=endpoint.name,
        status=result.decision,
        reason=result.reason,
        pre_events=result.pre_events,
        pre_years=Quantity.of(result.pre_years, "years"),
        post_events=result.post_events,
        post_years=Quantity.of(result.post_years, "years"),
        pre_rate=Quantity.of(result.pre_rate_per_year, "per year"),
        post_rate=Quantity.of(result.post_rate_per_year, "per year"),
        untreated_rate=Quantity.of(result.posterior.mean, "per year"),
        rate_ratio=None if ratio is None else Quantity.of(ratio.estimate, "ratio"),
        rate_ratio_interval=None
        if ratio is None
        else Interval.of(ratio.lower, ratio.upper, "ratio", ratio.confidence),
        rate_ratio_p_value_one_sided=None if ratio is None else _num(ratio.p_value),
        longest_gap=Quantity.of(result.longest_gap_days, "days"),
        gap_probability=_num(result.gap_probability),
        cohort_rate=Quantity.of(result.cohort.rate_per_year, "per year"),
        untreated_rate_interval=Interval.of(
            *result.posterior.interval(result.confidence), "per year", result.confidence
        ),
        follow_up=Quantity.of(result.follow_up_days, "days"),
        post_count_probability=_num(result.post_count_probability),
        regression_to_mean=result.regression_to_mean,
    )


def _decision(primary: EndpointComparison | None, plan: ImprovementPlan) -> dict[str, Any]:
    """The primary endpoint's decision quantity: estimate, interval, threshold and rule."""
    if isinstance(primary, TrajectoryComparisonResult):
        no_effect = (
            Quantity.of(1.0, "ratio") if primary.scale == "log" else Quantity.of(0.0, primary.unit)
        )
        return {
            "decision_estimate": primary.effect,
            "decision_interval": primary.effect_interval,
            "threshold": no_effect,
            "decision_rule": (
                f"met when the mean benefit over post-dose visits is above {no_effect} with one-sided "
                f"p < {plan.alpha_one_sided:g} and at least {plan.min_fraction_beyond_band:.0%} of at least "
                f"{plan.min_post_dose_visits} post-dose visits lie beyond the {plan.prediction_level:.0%} "
                "prediction interval of the untreated course"
            ),
        }
    if isinstance(primary, EventRateComparisonResult):
        gap_rule = (
            f"the chance of the longest event-free gap under the untreated rate is at most "
            f"{plan.max_gap_probability:g}"
        )
        if primary.rate_ratio is not None:
            return {
                "decision_estimate": primary.rate_ratio,
                "decision_interval": primary.rate_ratio_interval,
                "threshold": Quantity.of(plan.max_rate_ratio, "ratio"),
                "decision_rule": (
                    f"met when the post/pre event rate ratio is at most ×{plan.max_rate_ratio:g} with "
                    f"its upper bound below ×1, and {gap_rule}"
                ),
            }
        return {
            "decision_estimate": Quantity.of(primary.gap_probability, "probability"),
            "decision_interval": None,
            "threshold": Quantity.of(plan.max_gap_probability, "probability"),
            "decision_rule": f"no pre-treatment event record: met when {gap_rule}",
        }
    return {}


def _events_figure(
    result: EventRateComparison, endpoint: Endpoint, concomitant: list[dict[str, Any]]
) -> EventsFigure:
    plot = result.plot
    interval = _nums(plot.untreated_rate_interval)
    return EventsFigure(
        role=endpoint.role,
        endpoint=endpoint.id,
        name=endpoint.name,
        start_day=_nums(plot.period_start),
        end_day=_nums(plot.period_end),
        count=[int(c) for c in plot.period_count],
        longest_gap=None
        if not (math.isfinite(plot.gap_start) and math.isfinite(plot.gap_end))
        else (float(plot.gap_start), float(plot.gap_end)),
        untreated_rate_per_year=_num(plot.untreated_rate_per_year),
        untreated_rate_interval=None
        if len(interval) != 2 or None in interval
        else (interval[0], interval[1]),
        cohort_rate_per_year=_num(plot.cohort_rate_per_year),
        concomitant=_marks(concomitant),
    )


def _count(
    endpoint: Endpoint,
    fit: Any,
    data: _PatientData,
    plan: ImprovementPlan,
    concomitant: list[dict[str, Any]],
) -> EndpointResult:
    periods = data.events(endpoint.id)
    post_days = (
        float((np.clip(periods.end_day, 0, None) - np.clip(periods.start_day, 0, None)).sum())
        if len(periods.start_day)
        else 0.0
    )
    if len(periods.start_day) == 0:
        return EndpointResult(
            endpoint,
            Status.insufficient,
            f"no event record for {endpoint.id!r}",
            post_data_short=True,
        )
    if not hasattr(fit, "rate_per_year"):
        return EndpointResult(
            endpoint,
            Status.insufficient,
            f"the natural-history model of {endpoint.id!r} is not an event-rate model",
            post_data_short=post_days <= 0,
        )
    try:
        untreated = UntreatedRate(float(fit.rate_per_year), float(fit.dispersion))
        result = compare_event_rates(
            EventPeriods(periods.start_day, periods.end_day, periods.count),
            untreated,
            confidence=1 - 2 * plan.alpha_one_sided,
            max_rate_ratio=plan.max_rate_ratio,
            max_gap_probability=plan.max_gap_probability,
        )
    except AnalysisError as exc:
        return EndpointResult(
            endpoint,
            Status.insufficient,
            f"the comparison could not be made: {exc}",
            post_data_short=post_days <= 0,
        )
    return EndpointResult(
        endpoint,
        Status(result.decision),
        result.reason,
        figure=_events_figure(result, endpoint, concomitant),
        flags=_analysis_flags(endpoint, result.flags),
        typed=_events_result(result, endpoint),
        post_data_short=result.decision == "insufficient",
    )


# ---------------------------------------------------------------------- the verdict


def _analyse(
    ctx: AssessmentContext,
    endpoint: Endpoint,
    fits: dict[str, Any],
    errors: dict[str, str],
    patient: PatientRecord,
    data: _PatientData,
    plan: ImprovementPlan,
    concomitant: list[dict[str, Any]],
) -> EndpointResult:
    if endpoint.kind == EndpointKind.time_to_event:
        return EndpointResult(
            endpoint,
            Status.insufficient,
            f"{endpoint.id!r} is a time-to-event endpoint: no single-patient comparison with the natural history is implemented",
        )
    fit = fits.get(endpoint.id)
    if fit is None:
        why = errors.get(endpoint.id, "the cohort has no data for it")
        if endpoint.kind == EndpointKind.continuous:
            short = (
                int((data.measured(endpoint.id).day > LAST_PRE_DAY).sum())
                < plan.min_post_dose_visits
            )
        else:
            short = not (data.events(endpoint.id).end_day > 0).any()
        return EndpointResult(
            endpoint,
            Status.insufficient,
            f"no natural-history model of {endpoint.id!r}: {why}",
            post_data_short=short,
        )
    if endpoint.kind == EndpointKind.continuous:
        return _continuous(ctx, endpoint, fit, patient, data, plan, concomitant)
    return _count(endpoint, fit, data, plan, concomitant)


def _assumptions(kinds: set[EndpointKind]) -> list[str]:
    out = [
        "The natural-history cohort's untreated course stands for the patient's own untreated course (same disease, comparable genotype, ages and standard of care).",
        "The analysis plan's thresholds were fixed before the patient's post-dose data were seen.",
    ]
    if EndpointKind.continuous in kinds:
        out += [
            "Untreated, the patient's endpoint follows the cohort's linear mixed model on its declared scale (a linear course in age with normal subject deviations and residuals) also at the patient's ages.",
            "Measurements on the day of the first dose (day 0) were taken before dosing and count as pre-treatment.",
            "The model's variance components are taken as known; only the fixed effects' estimation uncertainty is propagated.",
        ]
    if EndpointKind.count in kinds:
        out += [
            "Untreated, the patient's events follow a Poisson process with a constant rate drawn from the cohort's gamma (negative binomial) distribution of subject rates.",
            "Events in a multi-day period could fall anywhere in it, so only periods recorded with zero events count as event-free; time covered by no period is not event-free.",
            "The cohort's rate and dispersion are taken as known (their estimation uncertainty is not propagated).",
        ]
    return out


def _stop_reason(patient: PatientRecord) -> str:
    """'The patient died on 2026-03-01 (study day 51): reason', for a patient who stopped."""
    outcome = patient.case.outcome
    day = patient.day_of(outcome.date) if outcome.date is not None else None
    when = f" on {outcome.date} (study day {study_day(day)})" if day is not None else ""
    why = f": {outcome.reason}" if outcome.reason else ""
    what = {
        "died": "The patient died",
        "withdrew": "The patient withdrew",
        "lost_to_follow_up": "The patient was lost to follow-up",
    }[outcome.status]
    return f"{what}{when}{why}"


def evaluate(ctx: AssessmentContext, patient: PatientRecord) -> Verdict:
    """Criterion 5 for one patient: did the primary endpoint improve against the patient's predicted untreated course?"""
    platform = ctx.dossier.platform
    plan = platform.analysis_plan.improvement
    primary = platform.primary_endpoint
    name = CRITERION_NAMES[NUMBER]
    patient_files = ctx.patient_files(patient, "case", "measurements", "events", "concomitant")
    disease = platform.disease(patient.case.diagnosis.disease)
    tables = ctx.dossier.cohorts.get(disease.cohort) if disease is not None else None
    if disease is None or tables is None:
        why = (
            f"the patient's disease {patient.case.diagnosis.disease!r} is not among the platform's diseases"
            if disease is None
            else f"disease {disease.id!r} names cohort {disease.cohort!r}, which is not in {COHORT_FILE}"
        )
        return Verdict(
            number=NUMBER,
            name=name,
            status=Status.insufficient,
            summary=f"No natural history to compare with: {why}.",
            method=METHOD,
            evidence=ctx.evidence(*patient_files),
        )

    fits = cohort_fits(ctx, disease.cohort)
    errors = cohort_fit_errors(ctx, disease.cohort)
    data = _PatientData.of(patient)
    concomitant = _concomitant_since(patient, _baseline_day(data, primary))
    results = {
        e.id: _analyse(ctx, e, fits, errors, patient, data, plan, concomitant)
        for e in platform.endpoints
    }
    main = results[primary.id]

    status, summary = main.status, f"{primary.name}: {main.reason}."
    flags = list(main.flags)
    outcome = patient.case.outcome.status
    if outcome == "died":
        status = Status.not_met
        summary = f"{_stop_reason(patient)}. {summary}"
    elif outcome in STOPPED and main.post_data_short:
        status = Status.not_met
        summary = f"{_stop_reason(patient)}, before {primary.name} could be assessed. {summary}"
    elif outcome in STOPPED:
        flags.append(
            Flag(
                kind=flag_kinds.STOPPED_EARLY,
                severity=FlagSeverity.caveat,
                message=_stop_reason(patient),
                criterion=NUMBER,
            )
        )
    for change in concomitant:
        flags.append(
            Flag(
                kind=flag_kinds.CONCOMITANT_CHANGE,
                severity=FlagSeverity.caveat,
                message=f"concomitant change on study day {study_day(change['day'])} ({change['kind']}): "
                f"{change['description']}; it can confound the improvement",
                criterion=NUMBER,
                endpoint=primary.id,
            )
        )
    if concomitant:
        summary += (
            f" {len(concomitant)} concomitant change(s) since baseline could confound it: "
            + "; ".join(f"{c['kind']} on study day {study_day(c['day'])}" for c in concomitant)
            + "."
        )

    figures: list[FigureData] = [] if main.figure is None else [main.figure]
    for endpoint in platform.endpoints:
        if endpoint.id == primary.id:
            continue
        res = results[endpoint.id]
        # a supportive endpoint does not decide: its flags are context, not caveats
        flags.extend(
            f.model_copy(
                update={
                    "message": f"supportive endpoint {f.message}",
                    "severity": min(f.severity, FlagSeverity.info),
                }
            )
            for f in res.flags
        )
        if res.figure is not None:
            figures.append(res.figure)

    typed = ImprovementResult(
        primary_endpoint=primary.id,
        primary=main.typed,
        supportive=[
            results[e.id].typed
            for e in platform.endpoints
            if e.id != primary.id and results[e.id].typed is not None
        ],
        concomitant_since_baseline=[
            ConcomitantChange(
                study_day=study_day(c["day"]), kind=c["kind"], description=c["description"]
            )
            for c in concomitant
        ],
        not_compared=[
            EndpointStatus(endpoint=e.id, status=results[e.id].status, reason=results[e.id].reason)
            for e in platform.endpoints
            if results[e.id].typed is None
        ],
        outcome_status=outcome,
        age_at_first_dose=Quantity.of(patient.case.diagnosis.age_at_first_dose_years, "years"),
        cohort=disease.cohort,
        **_decision(main.typed, plan),
    )
    kinds = {primary.kind} | {e.kind for e in platform.endpoints if results[e.id].typed is not None}
    evidence_paths = [COHORT_FILE, *tables.files, *patient_files]
    return Verdict(
        number=NUMBER,
        name=name,
        status=status,
        summary=summary,
        method=METHOD,
        assumptions=_assumptions(kinds),
        evidence=ctx.evidence(*evidence_paths),
        flags=flags,
        figures=figures,
        result=typed,
    )
