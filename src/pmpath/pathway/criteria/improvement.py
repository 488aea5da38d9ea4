"""Criterion 5, clinical improvement: the patient's primary endpoint after treatment against their own
predicted untreated course, from the disease's natural-history cohort.

A continuous primary endpoint (progressive disease) is judged with
:func:`pmpath.outcomes.judge_trajectory` against the cohort's growth curve; a count endpoint
(flaring disease) with :func:`pmpath.outcomes.judge_event_rates` against the cohort's event rate,
each under the plan's rule (:mod:`pmpath.pathway.criteria.decision_rules`) and the endpoint's
estimand (intercurrent events by their ICH E9(R1) strategy).
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

from pmpath.dossier import PatientRecord
from pmpath.dossier.load import COHORT_FILE
from pmpath.dossier.model import (
    Endpoint,
    EndpointKind,
    EndpointPlan,
    ImprovementPlan,
)
from pmpath.dossier.vocabulary import DAYS_PER_YEAR, study_day
from pmpath.errors import AnalysisError
from pmpath.formatting import format_number, format_study_day
from pmpath.outcomes import (
    EventJudgement,
    EventPeriods,
    TrajectoryJudgement,
    judge_event_rates,
    judge_time_to_event,
    judge_trajectory,
)
from pmpath.pathway import flags as flag_kinds
from pmpath.pathway.context import AssessmentContext
from pmpath.pathway.criteria import sampled
from pmpath.pathway.criteria.characterization import cohort_fit_errors, cohort_fits
from pmpath.pathway.criteria.decision_rules import (
    CAPPED_CATEGORIES,
    EndpointData,
    capped_at_insufficient,
    event_rule,
    holm_adjusted,
    intercurrent_events,
    trajectory_rule,
    untreated_model,
    untreated_rate,
    uses_nuts,
)
from pmpath.pathway.figures import ConcomitantMark, EventsFigure, FigureData, TrajectoryFigure
from pmpath.pathway.flags import Flag, FlagSeverity
from pmpath.pathway.results import (
    ConcomitantChange,
    EndpointComparison,
    EndpointStatus,
    EventRateComparisonResult,
    ImprovementResult,
    IntercurrentEventResult,
    Interval,
    Quantity,
    SensitivityResult,
    TimeToEventComparisonResult,
    TrajectoryComparisonResult,
    VisitRow,
)
from pmpath.pathway.verdict import CRITERION_NAMES, Status, Verdict

NUMBER = 5
LAST_PRE_DAY = 0  # a measurement on the day of the first dose is the pre-dose baseline
STOPPED = ("died", "withdrew", "lost_to_follow_up")

METHOD = (
    "The patient is compared with their own predicted untreated course, taken from the natural-history cohort of "
    "their disease, under the estimand the analysis plan declares for each endpoint (ICH E9(R1)): intercurrent "
    "events are handled by their strategy (by default a concomitant change acting on the endpoint: hypothetical, "
    "its data from that day on are not used; transplant or death: composite, a failure; withdrawal or loss to "
    "follow-up: while on treatment). Continuous endpoint (progressive disease): the cohort's linear mixed growth "
    "model predicts the patient's untreated values from ALL their pre-treatment measurements (empirical Bayes), "
    "with the prediction variance of the random effects, the residual and the fixed-effect uncertainty; the effect "
    "is the mean benefit-signed deviation over the visits counted after onset_days, its SE from the joint "
    "covariance of the predictions. Frequentist rule: met when the one-sided 1 - alpha_one_sided lower confidence "
    "bound exceeds the mcid and the earlier and later halves of the counted visits are both in the benefit "
    "direction; Bayesian rule: the posterior probability that the effect exceeds the mcid is at least "
    "posterior_threshold (with a sceptical-prior line shown). When treatment followed an unusually bad value, the "
    "analysis without the last pre-treatment visit must agree. Count endpoint (flaring disease): the post/pre "
    "rate ratio with a negative-binomial interval using the cohort's within-patient dispersion; met when its "
    "one-sided test against 1 - mcid rejects at alpha_one_sided with both half-period ratios below 1, or when the "
    "longest event-free run has probability at most max_gap_probability - alpha_one_sided untreated, computed "
    "exactly on the recording grid. Fewer than min_post_dose_visits counted visits (or periods) give "
    "insufficient. An exploratory-biomarker or clinician-set primary endpoint gives at most insufficient unless "
    "the plan justifies it; several primary endpoints are combined by Holm's procedure. Supportive endpoints are "
    "analysed the same way and reported, not deciding. Calibration by simulation: docs/methods.md."
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
    p_one_sided: float | None = None  # the deciding test's p (for Holm across primaries)
    estimand: EndpointData | None = None


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


def _effect_quantity(value: float, scale: str, unit: str) -> Quantity:
    """An effect on the model scale as shown: a ratio for a log-scale model."""
    if scale == "log":
        return Quantity.of(math.exp(value) if math.isfinite(value) else None, "ratio")
    return Quantity.of(value, unit)


def _trajectory_result(
    result: TrajectoryJudgement, endpoint: Endpoint, post_days: np.ndarray, post_values: np.ndarray
) -> TrajectoryComparisonResult:
    """The judgement as a typed result: the effect, its bounds and halves, per-visit rows."""
    unit = endpoint.unit or ""
    rule = result.rule
    level = 1 - 2 * rule.alpha_one_sided
    q = result.prediction
    sign = 1.0 if result.direction == "higher_is_better" else -1.0
    post_model = np.log(post_values) if result.scale == "log" else np.asarray(post_values)
    beyond = sign * (post_model - q.mean) > (q.upper - q.mean)
    counted = post_days > rule.onset_days
    visits = [
        VisitRow(
            study_day=study_day(day),
            age_years=_num(age),
            observed=_num(observed),
            predicted_untreated=_num(predicted),
            interval_low=_num(lower),
            interval_high=_num(upper),
            beyond_band=bool(b),
        )
        for day, age, observed, predicted, lower, upper, b in zip(
            post_days,
            q.ages,
            post_values,
            q.median_original,
            q.lower_original,
            q.upper_original,
            beyond,
            strict=True,
        )
    ]
    if result.scale == "log":
        interval = Interval.of(math.exp(result.ci_low), math.exp(result.ci_high), "ratio", level)
    else:
        interval = Interval.of(result.ci_low, result.ci_high, unit, level)
    sens = result.sensitivity
    return TrajectoryComparisonResult(
        endpoint=endpoint.id,
        name=endpoint.name,
        unit=unit,
        status=result.decision,
        reason=result.reason,
        estimand=result.estimand,
        decision_rule=result.decision_rule,
        scale=result.scale,
        direction=result.direction,
        n_pre=result.n_pre,
        n_post=len(post_days),
        n_counted=result.n_counted,
        onset_days=rule.onset_days,
        effect=_effect_quantity(result.effect, result.scale, unit),
        effect_interval=interval,
        effect_model_scale=_num(result.effect),
        effect_se=_num(result.se),
        lower_bound=_effect_quantity(result.lower_bound, result.scale, unit),
        mcid=_effect_quantity(rule.mcid, result.scale, unit),
        p_value_one_sided=_num(result.p_one_sided),
        effect_early=_effect_quantity(result.effect_early, result.scale, unit),
        effect_late=_effect_quantity(result.effect_late, result.scale, unit),
        consistent=result.consistent,
        posterior_probability=_num(result.posterior_probability)
        if rule.decision == "bayesian"
        else None,
        sceptical_probability=_num(result.sceptical_probability),
        n_beyond_band=int(np.sum(beyond & counted)),
        prediction_level=rule.prediction_level,
        visits=visits,
        regression_to_mean=result.regression_to_mean,
        sensitivity=None
        if not result.regression_to_mean
        else SensitivityResult(
            description=sens.description,
            effect=_effect_quantity(sens.effect, result.scale, unit),
            lower_bound=_effect_quantity(sens.lower_bound, result.scale, unit),
            p_value_one_sided=_num(sens.p_one_sided),
            posterior_probability=_num(sens.posterior_probability),
            passes=bool(sens.passes),
            deciding=bool(sens.deciding),
        ),
    )


def _marks(concomitant: list[dict[str, Any]]) -> list[ConcomitantMark]:
    return [
        ConcomitantMark(day=c["day"], kind=c["kind"], description=c["description"])
        for c in concomitant
    ]


def _trajectory_figure(
    result: TrajectoryJudgement, endpoint: Endpoint, age0: float, concomitant: list[dict[str, Any]]
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
    estimand: EndpointData,
) -> EndpointResult:
    measured = data.measured(endpoint.id)
    keep = np.ones(measured.day.size, dtype=bool)
    if estimand.cut_day is not None:
        keep = measured.day < estimand.cut_day
    before = (measured.day <= LAST_PRE_DAY) & keep
    after = (measured.day > LAST_PRE_DAY) & keep
    pre_day, pre_value = measured.day[before], measured.value[before]
    post_day, post_value = measured.day[after], measured.value[after]
    short = len(post_day) < plan.min_post_dose_visits
    if not hasattr(fit, "random_effects_cov"):
        return EndpointResult(
            endpoint,
            Status.insufficient,
            f"the natural-history model of {endpoint.id!r} is not a growth curve",
            post_data_short=short,
        )
    platform = ctx.dossier.platform
    age0 = patient.case.diagnosis.age_at_first_dose_years
    try:
        model = untreated_model(ctx, fit, patient.case)
        result = judge_trajectory(
            model,
            _age(patient, pre_day),
            pre_value,
            _age(patient, post_day),
            post_value,
            endpoint.direction.value,
            trajectory_rule(platform, endpoint),
            dosing_age=age0,
        )
    except AnalysisError as exc:
        return EndpointResult(
            endpoint,
            Status.insufficient,
            f"the comparison could not be made: {exc}",
            post_data_short=short,
        )
    flags = _analysis_flags(endpoint, result.flags)
    flags += [  # a covariate the counterfactual could not take from the patient
        _flag(endpoint, flag_kinds.EXTERNAL_CONTROL_MISMATCH, FlagSeverity.caveat, note)
        for note in model.notes
    ]
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
                    f"the patient's measurements span ages {format_number(ages.min())}-{format_number(ages.max())}, "
                    f"beyond the cohort's {format_number(lo)}-{format_number(hi)}: the untreated prediction extrapolates",
                )
            )
    return EndpointResult(
        endpoint,
        Status(result.decision),
        result.reason,
        figure=_trajectory_figure(result, endpoint, age0, concomitant),
        flags=flags,
        post_data_short=short,
        typed=_trajectory_result(result, endpoint, post_day, post_value),
        p_one_sided=result.p_one_sided,
    )


# ---------------------------------------------------------------------- count endpoints


def _events_result(result: EventJudgement, endpoint: Endpoint) -> EventRateComparisonResult:
    """The judgement as a typed result: rates per year, the rate ratio, the longest event-free run."""
    ratio, robust = result.rate_ratio, result.robust_rate_ratio
    sens = result.sensitivity
    pre_rate = result.pre_events / result.pre_years if result.pre_years > 0 else None
    post_rate = result.post_events / result.post_years if result.post_years > 0 else None
    bayesian = result.rule.decision == "bayesian"
    return EventRateComparisonResult(
        endpoint=endpoint.id,
        name=endpoint.name,
        status=result.decision,
        reason=result.reason,
        estimand=result.estimand,
        decision_rule=result.decision_rule,
        pre_events=result.pre_events,
        pre_years=Quantity.of(result.pre_years, "years"),
        post_events=result.post_events,
        post_years=Quantity.of(result.post_years, "years"),
        n_counted_periods=result.n_counted_periods,
        pre_rate=Quantity.of(pre_rate, "per year"),
        post_rate=Quantity.of(post_rate, "per year"),
        untreated_rate=Quantity.of(result.posterior.mean, "per year"),
        rate_ratio=None if ratio is None else Quantity.of(ratio.estimate, "ratio"),
        rate_ratio_interval=None
        if ratio is None
        else Interval.of(ratio.lower, ratio.upper, "ratio", ratio.confidence),
        rate_ratio_method=None if ratio is None else ratio.method,
        log_rate_ratio_se=None if ratio is None else _num(ratio.log_se),
        robust_rate_ratio_interval=None
        if robust is None
        else Interval.of(robust.lower, robust.upper, "ratio", robust.confidence),
        rate_ratio_p_value_one_sided=_num(result.p_one_sided),
        early_ratio=Quantity.of(result.early_ratio, "ratio"),
        late_ratio=Quantity.of(result.late_ratio, "ratio"),
        consistent=result.consistent,
        longest_gap=Quantity.of(result.run_days, "days"),
        gap_probability=_num(result.run_probability),
        rate_route=result.rate_route,
        run_route=result.run_route,
        posterior_probability=_num(result.posterior_probability) if bayesian else None,
        sceptical_probability=_num(result.sceptical_posterior_probability),
        cohort_rate=Quantity.of(result.plot.cohort_rate_per_year, "per year"),
        untreated_rate_interval=Interval.of(*result.plot.untreated_rate_interval, "per year", 0.95),
        regression_to_mean=result.regression_to_mean,
        sensitivity=None
        if sens is None or not result.regression_to_mean
        else SensitivityResult(
            description="without the last pre-treatment period",
            effect=Quantity.of(sens.rate_ratio, "ratio"),
            p_value_one_sided=_num(sens.p_one_sided),
            posterior_probability=_num(sens.posterior_probability),
            passes=sens.decision == Status.met,
            deciding=False,
        ),
    )


def _decision(primary: EndpointComparison | None) -> dict[str, Any]:
    """The primary endpoint's decision quantity: estimate, interval, threshold and rule."""
    if isinstance(primary, TrajectoryComparisonResult):
        return {
            "decision_estimate": primary.effect,
            "decision_interval": primary.effect_interval,
            "threshold": primary.mcid,
            "decision_rule": primary.decision_rule,
            "estimand": primary.estimand,
        }
    if isinstance(primary, EventRateComparisonResult):
        if primary.nuts is not None:  # the NUTS posterior decided: its median and credible interval
            return {
                "decision_estimate": primary.nuts.rate_ratio,
                "decision_interval": primary.nuts.interval,
                "threshold": Quantity.of(primary.nuts.null_ratio, "ratio"),
                "decision_rule": primary.decision_rule,
                "estimand": primary.estimand,
            }
        if primary.rate_ratio is not None:
            return {
                "decision_estimate": primary.rate_ratio,
                "decision_interval": primary.rate_ratio_interval,
                "threshold": Quantity.of(1.0, "ratio"),
                "decision_rule": primary.decision_rule,
                "estimand": primary.estimand,
            }
        return {
            "decision_estimate": Quantity.of(primary.gap_probability, "probability"),
            "decision_interval": None,
            "threshold": None,
            "decision_rule": primary.decision_rule,
            "estimand": primary.estimand,
        }
    if isinstance(primary, TimeToEventComparisonResult):
        return {
            "decision_estimate": Quantity.of(primary.probability, "probability"),
            "decision_interval": None,
            "threshold": Quantity.of(primary.max_probability, "probability"),
            "decision_rule": primary.decision_rule,
            "estimand": primary.estimand,
        }
    return {}


def _events_figure(
    result: EventJudgement, endpoint: Endpoint, concomitant: list[dict[str, Any]]
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
        if not (math.isfinite(plot.run_start) and math.isfinite(plot.run_end))
        or plot.run_end <= plot.run_start
        else (float(plot.run_start), float(plot.run_end)),
        untreated_rate_per_year=_num(plot.untreated_rate_per_year),
        untreated_rate_interval=None
        if len(interval) != 2 or None in interval
        else (interval[0], interval[1]),
        cohort_rate_per_year=_num(plot.cohort_rate_per_year),
        concomitant=_marks(concomitant),
    )


def _count(
    ctx: AssessmentContext,
    endpoint: Endpoint,
    fit: Any,
    cohort_id: str,
    data: _PatientData,
    concomitant: list[dict[str, Any]],
    estimand: EndpointData,
) -> EndpointResult:
    periods = data.events(endpoint.id)
    start, end, count = periods.start_day, periods.end_day, periods.count
    if estimand.cut_day is not None:
        keep = end <= estimand.cut_day
        start, end, count = start[keep], end[keep], count[keep]
    post_days = (
        float((np.clip(end, 0, None) - np.clip(start, 0, None)).sum()) if len(start) else 0.0
    )
    if len(start) == 0:
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
        result = judge_event_rates(
            EventPeriods(start, end, count),
            untreated_rate(ctx, cohort_id, endpoint, fit),
            event_rule(ctx.dossier.platform, endpoint),
        )
    except AnalysisError as exc:
        return EndpointResult(
            endpoint,
            Status.insufficient,
            f"the comparison could not be made: {exc}",
            post_data_short=post_days <= 0,
        )
    status, reason, typed = Status(result.decision), result.reason, _events_result(result, endpoint)
    if uses_nuts(ctx.dossier.platform) and result.rule.decision == "bayesian":
        status, reason, typed = sampled.decide_events(ctx, endpoint, cohort_id, result, typed)
    return EndpointResult(
        endpoint,
        status,
        reason,
        figure=_events_figure(result, endpoint, concomitant),
        flags=_analysis_flags(
            endpoint,
            [
                *result.flags,
                *(
                    f"regression to the mean: {f}; the analysis without the last pre-treatment period is "
                    "reported beside the main one"
                    for f in result.rtm_flags
                ),
            ],
        ),
        typed=typed,
        post_data_short=result.decision == Status.insufficient,
        p_one_sided=result.p_one_sided if result.rate_ratio is not None else result.run_probability,
    )


# ---------------------------------------------------------------------- the verdict


def _concomitant_rows(patient: PatientRecord) -> list[tuple[float, str, str, tuple[str, ...]]]:
    """The patient's concomitant changes as (day, kind, description, acts_on)."""
    frame = patient.concomitant
    if frame.empty:
        return []
    acts = frame["acts_on"] if "acts_on" in frame.columns else [()] * len(frame)
    return [
        (float(day), str(kind), str(description), tuple(a) if isinstance(a, tuple | list) else ())
        for day, kind, description, a in zip(
            frame["day"], frame["kind"], frame["description"], acts, strict=True
        )
    ]


def _compare(
    ctx: AssessmentContext,
    endpoint: Endpoint,
    fits: dict[str, Any],
    errors: dict[str, str],
    patient: PatientRecord,
    data: _PatientData,
    plan: ImprovementPlan,
    concomitant: list[dict[str, Any]],
    cohort_id: str,
    estimand: EndpointData,
) -> EndpointResult:
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
        return _continuous(ctx, endpoint, fit, patient, data, plan, concomitant, estimand)
    if endpoint.kind == EndpointKind.time_to_event:
        return _time_to_event(ctx, endpoint, fit, patient, data, plan, estimand)
    return _count(ctx, endpoint, fit, cohort_id, data, concomitant, estimand)


def _time_to_event(
    ctx: AssessmentContext,
    endpoint: Endpoint,
    fit: Any,
    patient: PatientRecord,
    data: _PatientData,
    plan: ImprovementPlan,
    estimand: EndpointData,
) -> EndpointResult:
    """The patient's event-free time against the cohort's Kaplan-Meier curve.

    The patient's record of the endpoint is its rows in the events table: a row with a count
    after the first dose is the event (its start day); without one the patient was event-free to
    the data cutoff (or the outcome date, or where the estimand cuts the record).
    """
    if not hasattr(fit, "timeline"):
        return EndpointResult(
            endpoint,
            Status.insufficient,
            f"the natural-history model of {endpoint.id!r} is not a survival curve",
        )
    periods = data.events(endpoint.id)
    age0 = patient.case.diagnosis.age_at_first_dose_years
    after = (periods.count > 0) & (periods.end_day > 0)
    if estimand.cut_day is not None:
        after &= periods.start_day < estimand.cut_day
    end_day = float(patient.day_of(ctx.dossier.platform.data_cutoff))
    outcome = patient.case.outcome
    if outcome.date is not None:
        end_day = min(end_day, float(patient.day_of(outcome.date)))
    if estimand.cut_day is not None:
        end_day = min(end_day, estimand.cut_day)
    rule = (
        f"met when remaining event-free untreated to the patient's event-free age, given event-free at "
        f"treatment, has probability at most {format_number(plan.max_gap_probability)} (the cohort's "
        "Kaplan-Meier curve)"
    )
    base = {
        "endpoint": endpoint.id,
        "name": endpoint.name,
        "estimand": "event-free time from the first dose against the untreated survival curve",
        "decision_rule": rule,
        "age_at_treatment": Quantity.of(age0, "years"),
        "max_probability": plan.max_gap_probability,
    }
    if after.any():
        day = float(np.maximum(periods.start_day[after], 0.0).min())
        reason = f"the event occurred on {format_study_day(day)}"
        typed = TimeToEventComparisonResult(
            status=Status.not_met,
            reason=reason,
            event_free_to=Quantity.of(age0 + day / DAYS_PER_YEAR, "years"),
            event_study_day=study_day(day),
            probability=None,
            **base,
        )
        return EndpointResult(endpoint, Status.not_met, reason, typed=typed)
    if end_day <= 0:
        return EndpointResult(endpoint, Status.insufficient, "no follow-up after the first dose")
    try:
        result = judge_time_to_event(
            fit.timeline,
            fit.survival,
            age0,
            age0 + end_day / DAYS_PER_YEAR,
            plan.max_gap_probability,
        )
    except AnalysisError as exc:
        return EndpointResult(
            endpoint, Status.insufficient, f"the comparison could not be made: {exc}"
        )
    reason = result.reason
    # a literature-only curve: its assumption is part of the reason
    if getattr(fit, "assumption", ""):
        reason += f"; the untreated curve is {fit.assumption}"
    typed = TimeToEventComparisonResult(
        status=result.decision,
        reason=reason,
        event_free_to=Quantity.of(result.age_event_free_to, "years"),
        probability=_num(result.probability),
        beyond_curve=result.beyond_curve,
        **base,
    )
    return EndpointResult(
        endpoint,
        Status(result.decision),
        reason,
        typed=typed,
        p_one_sided=result.probability,
    )


def _analyse(
    ctx: AssessmentContext,
    endpoint: Endpoint,
    fits: dict[str, Any],
    errors: dict[str, str],
    patient: PatientRecord,
    data: _PatientData,
    plan: ImprovementPlan,
    concomitant: list[dict[str, Any]],
    cohort_id: str,
) -> EndpointResult:
    """One endpoint under its estimand: intercurrent events applied, then the comparison, then the
    endpoint category's cap."""
    mine: EndpointPlan = plan.for_endpoint(endpoint)
    outcome = patient.case.outcome
    estimand = intercurrent_events(
        endpoint,
        mine,
        _concomitant_rows(patient),
        outcome.status,
        patient.day_of(outcome.date) if outcome.date is not None else None,
    )
    res = _compare(
        ctx, endpoint, fits, errors, patient, data, plan, concomitant, cohort_id, estimand
    )
    res.estimand = estimand
    if estimand.unsupported:
        res.status, res.reason = Status.insufficient, estimand.unsupported
    elif estimand.composite_failure:
        failures = [r for r in estimand.records if r.strategy == "composite"]
        res.status = Status.not_met
        res.reason = (
            "; ".join(f"{r.event.replace('_', ' ')} on {format_study_day(r.day)}" for r in failures)
            + f": a failure under the composite strategy ({res.reason})"
        )
    category = endpoint.category
    if category in CAPPED_CATEGORIES:
        label = category.value.replace("_", " ")
        if not capped_at_insufficient(ctx.dossier.platform, endpoint):
            res.flags.append(
                _flag(
                    endpoint,
                    "endpoint_category",
                    FlagSeverity.caveat,
                    f"{label} endpoint, allowed to decide by the plan's justification: {mine.justification}",
                )
            )
        else:
            res.flags.append(
                _flag(
                    endpoint,
                    "endpoint_category",
                    FlagSeverity.caveat,
                    f"{label} endpoint without a justification in the plan: it gives at most insufficient",
                )
            )
            if res.status == Status.met:
                res.status = Status.insufficient
                res.reason += f"; a {label} endpoint decides only with a justification in the plan, so at most insufficient"
    return res


def _combine_primaries(
    primaries: list[Endpoint], results: dict[str, EndpointResult], plan: ImprovementPlan
) -> tuple[Status, EndpointResult, list[EndpointStatus]]:
    """Several primary endpoints: Holm's procedure on their one-sided p-values (frequentist).

    An endpoint counts as met when its own rule is met and its Holm-adjusted p is below
    ``alpha_one_sided``; the criterion is met when any primary endpoint is, insufficient when
    none is but one is insufficient, else not met. The Bayesian rule has no multiplicity
    adjustment: each primary endpoint is judged on its own posterior.
    """
    if len(primaries) == 1:
        only = results[primaries[0].id]
        return only.status, only, []
    statuses: dict[str, Status] = {e.id: results[e.id].status for e in primaries}
    reasons: dict[str, str] = {e.id: results[e.id].reason for e in primaries}
    tested = [e for e in primaries if results[e.id].p_one_sided is not None]
    if plan.decision.value == "frequentist" and tested:
        adjusted = holm_adjusted([min(max(results[e.id].p_one_sided, 0.0), 1.0) for e in tested])
        for e, p in zip(tested, adjusted, strict=True):
            if statuses[e.id] == Status.met and not p < plan.alpha_one_sided:
                statuses[e.id] = Status.not_met
                reasons[e.id] += (
                    f"; Holm-adjusted p = {format_number(p)}, not below {plan.alpha_one_sided:g}"
                )
            else:
                reasons[e.id] += f"; Holm-adjusted p = {format_number(p)}"
    met = [e for e in primaries if statuses[e.id] == Status.met]
    if met:
        status, main = Status.met, results[met[0].id]
    elif any(statuses[e.id] == Status.insufficient for e in primaries):
        status, main = Status.insufficient, results[primaries[0].id]
    else:
        status, main = Status.not_met, results[primaries[0].id]
    table = [
        EndpointStatus(endpoint=e.id, status=statuses[e.id], reason=reasons[e.id])
        for e in primaries
    ]
    return status, main, table


def _assumptions(kinds: set[EndpointKind]) -> list[str]:
    out = [
        "The natural-history cohort's untreated course stands for the patient's own untreated course (same disease, comparable genotype, ages and standard of care).",
        "The analysis plan's thresholds were fixed before the patient's post-dose data were seen.",
        "Concomitant changes without acts_on do not act on the endpoint; those that do are intercurrent events handled by the estimand's strategy.",
    ]
    if EndpointKind.continuous in kinds:
        out += [
            "Untreated, the patient's endpoint follows the cohort's linear mixed model on its declared scale (a linear course in age with normal subject deviations and residuals) also at the patient's ages.",
            "Measurements on the day of the first dose (day 0) were taken before dosing and count as pre-treatment.",
            "The model's variance components are taken as known; only the fixed effects' estimation uncertainty is propagated.",
        ]
    if EndpointKind.count in kinds:
        out += [
            "Untreated, the patient's rate is drawn from the cohort's gamma (negative binomial) distribution of subject rates, and a period's count clusters around it with the cohort's within-patient dispersion.",
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
        e.id: _analyse(ctx, e, fits, errors, patient, data, plan, concomitant, disease.cohort)
        for e in platform.endpoints
    }
    primaries = list(platform.primary_endpoints)
    status, main, primary_table = _combine_primaries(primaries, results, plan)
    primary = main.endpoint

    summary = f"{primary.name}: {main.reason}."
    flags = [f for e in primaries for f in results[e.id].flags]
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
    handled = {
        (round(r.day, 6), r.description): r
        for e in primaries
        for r in (results[e.id].estimand.records if results[e.id].estimand else ())
    }
    for change in concomitant:
        key = (round(change["day"], 6), f"{change['kind']}: {change['description']}")
        record = handled.get(key)
        if record is not None:
            message = (
                f"concomitant change on study day {study_day(change['day'])} ({change['kind']}): "
                f"{change['description']}; an intercurrent event for the primary endpoint, "
                f"{record.strategy.replace('_', ' ')} strategy: {record.effect}"
            )
        else:
            message = (
                f"concomitant change on study day {study_day(change['day'])} ({change['kind']}): "
                f"{change['description']}; it can confound the improvement"
            )
        flags.append(
            Flag(
                kind=flag_kinds.CONCOMITANT_CHANGE,
                severity=FlagSeverity.caveat,
                message=message,
                criterion=NUMBER,
                endpoint=primary.id,
            )
        )
    intercurrent = [
        IntercurrentEventResult(
            endpoint=e.id,
            event=r.event,
            study_day=study_day(r.day),
            description=r.description,
            strategy=r.strategy,
            effect=r.effect,
        )
        for e in primaries
        for r in (results[e.id].estimand.records if results[e.id].estimand else ())
    ]
    if intercurrent:
        summary += (
            " Intercurrent events: "
            + "; ".join(
                f"{i.event.replace('_', ' ')} on study day {i.study_day} ({i.strategy.replace('_', ' ')})"
                for i in intercurrent
            )
            + "."
        )
    others = [
        c
        for c in concomitant
        if (round(c["day"], 6), f"{c['kind']}: {c['description']}") not in handled
    ]
    if others:
        summary += (
            f" {len(others)} concomitant change(s) since baseline could confound it: "
            + "; ".join(f"{c['kind']} on study day {study_day(c['day'])}" for c in others)
            + "."
        )

    figures: list[FigureData] = [] if main.figure is None else [main.figure]
    for endpoint in platform.endpoints:
        if endpoint.id == primary.id:
            continue
        res = results[endpoint.id]
        if endpoint.role != "primary":
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

    decision = _decision(main.typed)
    if decision.get("estimand"):
        strategies = plan.for_endpoint(primary).intercurrent
        decision["estimand"] += "; intercurrent events: " + ", ".join(
            f"{event.value.replace('_', ' ')} {strategy.value.replace('_', ' ')}"
            for event, strategy in strategies.items()
        )
    p_one = None
    posterior = None
    effect = ci_low = ci_high = None
    unit = ""
    if isinstance(main.typed, TrajectoryComparisonResult):
        p_one, posterior = main.typed.p_value_one_sided, main.typed.posterior_probability
        effect, ci_low, ci_high = (
            main.typed.effect.value,
            main.typed.effect_interval.low,
            main.typed.effect_interval.high,
        )
        unit = main.typed.effect.unit
    elif isinstance(main.typed, EventRateComparisonResult):
        p_one, posterior = main.typed.rate_ratio_p_value_one_sided, main.typed.posterior_probability
        if main.typed.rate_ratio is not None:
            effect = main.typed.rate_ratio.value
            ci_low = main.typed.rate_ratio_interval.low
            ci_high = main.typed.rate_ratio_interval.high
            unit = "ratio"
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
        effect=effect,
        ci_low=ci_low,
        ci_high=ci_high,
        unit=unit,
        p_one_sided=p_one,
        posterior_probability=posterior,
        intercurrent_events=intercurrent,
        category=primary.category.value,
        justification=plan.for_endpoint(primary).justification,
        primaries=primary_table,
        **decision,
    )
    kinds = {primary.kind} | {e.kind for e in platform.endpoints if results[e.id].typed is not None}
    evidence_paths = [COHORT_FILE, *tables.files, *patient_files]
    assumptions = _assumptions(kinds)
    # a literature-only natural history (docs/methods.md, section 3)
    if tables.literature is not None:
        flags.append(
            Flag(
                kind=flag_kinds.LITERATURE_ONLY,
                severity=FlagSeverity.caveat,
                message=f"the untreated comparator is a published summary ({tables.literature.citation}), "
                "not a model fitted to subjects' data",
                criterion=NUMBER,
            )
        )
        assumptions += [
            f"{e.id}: the untreated model is built from the published summary; {'; '.join(fits[e.id].notes[1:])}"
            for e in platform.endpoints
            if e.id in fits and len(getattr(fits[e.id], "notes", ())) > 1
        ]
    return Verdict(
        number=NUMBER,
        name=name,
        status=status,
        summary=summary,
        method=METHOD,
        assumptions=assumptions,
        evidence=ctx.evidence(*evidence_paths),
        flags=flags,
        figures=figures,
        result=typed,
    )
