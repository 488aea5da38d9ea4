"""The plan's criterion-5 decision rule for one endpoint, as the analysis packages take it.

The dossier states effects in the endpoint's own terms (an amount in its unit, a percent change or
a treated/untreated ratio; see :class:`pmpath.dossier.model.EffectSize`); the analyses work on the
model scale in the benefit direction (an amount, a log ratio, or a relative rate reduction). This
module converts once, for the criterion and for ``pmpath simulate`` alike, and builds the untreated
models from the cohort's fits (cached per assessment).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pmpath.dossier.model import (
    Case,
    EffectSize,
    Endpoint,
    EndpointCategory,
    EndpointKind,
    EndpointPlan,
    IntercurrentEvent,
    IntercurrentStrategy,
    Platform,
    PositivePrior,
)
from pmpath.errors import AnalysisError, UsageError
from pmpath.formatting import format_number, format_study_day
from pmpath.outcomes import (
    EventRule,
    NormalPrior,
    TrajectoryRule,
    UntreatedModel,
    UntreatedRate,
    within_patient_dispersion,
)
from pmpath.outcomes.bayes import PositivePrior as SamplerPositivePrior
from pmpath.outcomes.bayes import SamplerSettings
from pmpath.pathway.context import AssessmentContext

__all__ = [
    "CAPPED_CATEGORIES",
    "EndpointData",
    "IntercurrentRecord",
    "capped_at_insufficient",
    "effect_on_model_scale",
    "event_rule",
    "holm_adjusted",
    "intercurrent_events",
    "patient_covariates",
    "plausible_effect",
    "positive_prior",
    "sampler_settings",
    "trajectory_rule",
    "untreated_model",
    "untreated_rate",
    "uses_nuts",
]


def _describe(size: EffectSize) -> str:
    return f"{format_number(size.value)} {size.unit}".strip()


def effect_on_model_scale(size: EffectSize, endpoint: Endpoint, what: str) -> float:
    """``size`` as the analyses take it, in the benefit direction.

    Continuous endpoints on the identity scale: the amount in the endpoint's unit. Log-scale
    continuous endpoints: the log of the treated/untreated ratio (``%`` is ``1 + value/100`` for a
    higher-is-better endpoint, ``1 - value/100`` otherwise). Count endpoints: the relative rate
    reduction ``1 - ratio`` (``value/100`` for ``%``).

    Examples
    --------
    >>> e = Endpoint(id="s", name="Seizures", kind="count", unit="{seizures}",
    ...              direction="lower_is_better", role="primary")
    >>> effect_on_model_scale(EffectSize(value=85, unit="%"), e, "plausible_effect")
    0.85
    >>> round(effect_on_model_scale(EffectSize(value=0.5, unit="ratio"), e, "mcid"), 3)
    0.5
    """
    lower = endpoint.direction.value == "lower_is_better"
    relative = size.is_relative_for(endpoint)
    if endpoint.kind == EndpointKind.count:
        if not relative:
            if size.value == 0:
                return 0.0
            raise AnalysisError(
                f"{what} of {endpoint.id!r}: found {_describe(size)}, expected a relative change "
                "(ratio or %) for an event-rate endpoint"
            )
        ratio = size.value if size.unit == "ratio" else 1 - size.value / 100
        return float(1 - ratio)
    if endpoint.scale == "log":
        if not relative:
            if size.value == 0:
                return 0.0
            raise AnalysisError(
                f"{what} of {endpoint.id!r}: found {_describe(size)}, expected a relative change "
                "(ratio or %) for an endpoint modelled on the log scale"
            )
        if size.unit == "ratio":
            ratio = size.value
        else:
            ratio = 1 - size.value / 100 if lower else 1 + size.value / 100
        return float(-math.log(ratio) if lower else math.log(ratio))
    return float(size.value)


CAPPED_CATEGORIES = (EndpointCategory.biomarker_exploratory, EndpointCategory.clinician_set)
"""Endpoint categories that decide criterion 5 only with a justification in the plan."""


def capped_at_insufficient(platform: Platform, endpoint: Endpoint) -> bool:
    """True when ``endpoint`` gives at most ``insufficient``: an exploratory biomarker or a
    clinician-set value without the plan's ``justification``."""
    plan = platform.analysis_plan.improvement.for_endpoint(endpoint)
    return endpoint.category in CAPPED_CATEGORIES and not plan.justification


def plausible_effect(platform: Platform, endpoint: Endpoint) -> tuple[float | None, str]:
    """The plan's plausible effect of ``endpoint`` on the model scale, and how the plan states it."""
    plan = platform.analysis_plan.improvement.for_endpoint(endpoint)
    if plan.plausible_effect is None:
        return None, "not declared in the plan"
    return (
        effect_on_model_scale(plan.plausible_effect, endpoint, "plausible_effect"),
        _describe(plan.plausible_effect),
    )


def trajectory_rule(platform: Platform, endpoint: Endpoint) -> TrajectoryRule:
    """The plan's rule for a continuous endpoint."""
    plan = platform.analysis_plan.improvement
    mine = plan.for_endpoint(endpoint)
    effect, _ = plausible_effect(platform, endpoint)
    return TrajectoryRule(
        decision=plan.decision.value,
        alpha_one_sided=plan.alpha_one_sided,
        mcid=effect_on_model_scale(mine.mcid, endpoint, "mcid"),
        onset_days=float(mine.onset_days),
        prediction_level=plan.prediction_level,
        min_counted_visits=plan.min_post_dose_visits,
        posterior_threshold=plan.posterior_threshold,
        prior=NormalPrior(plan.prior.mean, plan.prior.sd),
        plausible_effect=effect if effect is not None and effect > 0 else None,
    )


def event_rule(platform: Platform, endpoint: Endpoint) -> EventRule:
    """The plan's rule for a count endpoint.

    The Bayesian rule for rates uses the reference beta-prime prior of the rate ratio
    (:class:`pmpath.outcomes.RatioPrior`); a normal prior in the plan applies to continuous
    endpoints, and a plan that gives one with a standard deviation for a rate endpoint is refused
    rather than silently replaced.
    """
    plan = platform.analysis_plan.improvement
    mine = plan.for_endpoint(endpoint)
    if plan.decision.value == "bayesian" and plan.prior.sd is not None and not uses_nuts(platform):
        raise AnalysisError(
            f"analysis_plan.improvement.prior: found a normal prior (sd {format_number(plan.prior.sd)}) "
            f"for the event-rate endpoint {endpoint.id!r}, expected none (rates use the reference "
            "beta-prime prior of the rate ratio; a normal prior of the log rate ratio needs sampler.method nuts)"
        )
    effect, _ = plausible_effect(platform, endpoint)
    kwargs: dict[str, Any] = {}
    if effect is not None and 0 < effect < 1:
        kwargs["plausible_effect"] = effect
    return EventRule(
        decision=plan.decision.value,
        alpha_one_sided=plan.alpha_one_sided,
        mcid=effect_on_model_scale(mine.mcid, endpoint, "mcid"),
        onset_days=float(mine.onset_days),
        max_gap_probability=plan.max_gap_probability,
        posterior_threshold=plan.posterior_threshold,
        **kwargs,
    )


def uses_nuts(platform: Platform) -> bool:
    """True when the plan asks for the NUTS sampler (``analysis_plan.improvement.sampler.method: nuts``)."""
    return platform.analysis_plan.improvement.sampler.method.value == "nuts"


def sampler_settings(platform: Platform) -> SamplerSettings:
    """The plan's sampler as :class:`pmpath.outcomes.bayes.SamplerSettings`."""
    s = platform.analysis_plan.improvement.sampler
    return SamplerSettings(
        chains=s.chains, warmup=s.warmup, draws=s.draws, seed=s.seed,
        max_rhat=float(s.max_rhat), min_ess=float(s.min_ess),
    )  # fmt: skip


def positive_prior(prior: PositivePrior) -> SamplerPositivePrior:
    """A plan's :class:`pmpath.dossier.model.PositivePrior` as :class:`pmpath.outcomes.bayes.PositivePrior`."""
    return SamplerPositivePrior(prior.distribution, prior.scale, prior.median)


def patient_covariates(case: Case | None) -> dict[str, object]:
    """The patient's values of the natural-history covariates a growth curve may have been fitted with.

    ``sex`` and ``genotype_class`` from ``case.yaml``'s ``diagnosis``; ``age_at_onset`` the earliest
    ``onset_age_years`` of the patient's observed (not excluded) phenotypes. A value the case does
    not give is None (the untreated model then uses the covariate's reference, and says so).
    """
    if case is None:
        return {}
    onsets = [
        p.onset_age_years
        for p in case.phenotypes
        if not p.excluded and p.onset_age_years is not None
    ]
    return {
        "sex": case.diagnosis.sex,
        "genotype_class": case.diagnosis.genotype_class,
        "age_at_onset": min(onsets) if onsets else None,
    }


def untreated_model(ctx: AssessmentContext, fit: Any, case: Case | None = None) -> UntreatedModel:
    """A cohort's growth-curve fit as the outcomes input for one patient, built (and checked) once per assessment.

    With covariates in the fit, the patient's values (:func:`patient_covariates`) enter the design;
    without ``case`` (or for a value the case does not give, or a level the cohort never had) the
    covariate's reference is used and the model's ``notes`` say so.
    """
    covariates = getattr(fit, "covariates", ())
    values = patient_covariates(case) if covariates else {}
    mine = tuple(sorted((c.name, repr(values.get(c.name))) for c in covariates))
    key = f"improvement/untreated_model/{id(fit)}/{mine}"
    if key not in ctx.cache:
        if hasattr(fit, "design"):
            model = UntreatedModel.from_growth_curve(fit, values)
        else:  # a linear summary (e.g. published): intercept and slope only
            model = UntreatedModel(
                fixed_effects=np.asarray(fit.fixed_effects, dtype=float),
                fixed_effects_cov=np.asarray(fit.fixed_effects_cov, dtype=float),
                random_effects_cov=np.asarray(fit.random_effects_cov, dtype=float),
                residual_variance=float(fit.residual_variance),
                age_center=float(fit.age_center),
                scale=fit.scale,
            )
        ctx.cache[key] = (fit, model)  # the fit is kept: its id stays its own
    return ctx.cache[key][1]


def untreated_rate(
    ctx: AssessmentContext, cohort_id: str, endpoint: Endpoint, fit: Any
) -> UntreatedRate:
    """The cohort's untreated rate of ``endpoint`` with its within-patient clustering.

    ``fit.dispersion`` is the spread of subjects' total counts; events also cluster within a
    subject's record, which one patient's rate ratio and event-free run depend on, so the cohort's
    windows give the per-period dispersion too (:func:`pmpath.outcomes.within_patient_dispersion`).
    """
    key = f"improvement/untreated_rate/{cohort_id}/{endpoint.id}"
    if key not in ctx.cache:
        tables = ctx.dossier.cohorts[cohort_id]
        events = tables.events
        windows = (
            events[events["endpoint"] == endpoint.id]
            if not events.empty and "endpoint" in events.columns
            else events.iloc[0:0]
        )
        period = None
        if len(windows) and {"subject", "age_start", "age_end", "count"} <= set(windows.columns):
            try:
                period = float(within_patient_dispersion(windows))
            except AnalysisError:
                period = None  # one window per subject: the judgement falls back, and says so
        ctx.cache[key] = UntreatedRate(
            float(fit.rate_per_year), float(fit.dispersion), period_dispersion=period
        )
    return ctx.cache[key]


# --------------------------------------------------------------------------- intercurrent events


@dataclass(frozen=True)
class IntercurrentRecord:
    """One intercurrent event of a patient on one endpoint and what its strategy did."""

    event: str  # IntercurrentEvent value
    day: float  # days from the first dose
    description: str
    strategy: str  # IntercurrentStrategy value
    effect: str  # what it did to the data, in words


@dataclass(frozen=True)
class EndpointData:
    """What the estimand keeps of an endpoint's record: data before ``cut_day`` (None: all)."""

    cut_day: float | None
    composite_failure: bool
    unsupported: str | None  # a strategy pmpath cannot apply (principal_stratum)
    records: tuple[IntercurrentRecord, ...]


def intercurrent_events(
    endpoint: Endpoint,
    plan: EndpointPlan,
    concomitant: Iterable[tuple[float, str, str, tuple[str, ...]]],
    outcome_status: str,
    outcome_day: float | None,
) -> EndpointData:
    """Apply the estimand's intercurrent-event strategies to one endpoint of one patient.

    Parameters
    ----------
    endpoint, plan
        The endpoint and its resolved plan (:meth:`ImprovementPlan.for_endpoint`).
    concomitant
        The patient's concomitant changes as (day from first dose, kind, description, acts_on).
    outcome_status, outcome_day
        ``case.yaml`` outcome (``died``, ``withdrew``, ``lost_to_follow_up``, ...) and its day.

    Returns
    -------
    EndpointData
        Where the endpoint's record is cut (hypothetical and while-on-treatment strategies), whether
        an event is a composite failure, and one record per event with what was done.

    Notes
    -----
    Only events after the first dose (day > 0) are intercurrent; changes during the pre-treatment
    record are the criterion's caveats, not estimand events. ``treatment_policy`` keeps the data as
    observed. ``principal_stratum`` needs a model of the stratum pmpath does not have: the endpoint
    is then ``insufficient`` with the reason.

    Examples
    --------
    >>> from pmpath.dossier.model import ImprovementPlan
    >>> e = Endpoint(id="seizures", name="Seizures", kind="count", unit="{seizures}",
    ...              direction="lower_is_better", role="primary")
    >>> out = intercurrent_events(e, ImprovementPlan().for_endpoint(e),
    ...     [(21.0, "medication", "clobazam started", ("seizures",))], "ongoing", None)
    >>> out.cut_day, out.records[0].strategy
    (21.0, 'hypothetical')
    """
    strategies = plan.intercurrent
    cut: float | None = None
    failure = False
    unsupported = None
    records: list[IntercurrentRecord] = []

    def handle(event: IntercurrentEvent, day: float, description: str) -> None:
        nonlocal cut, failure, unsupported
        strategy = strategies[event]
        when = format_study_day(day)
        if strategy in (IntercurrentStrategy.hypothetical, IntercurrentStrategy.while_on_treatment):
            cut = day if cut is None else min(cut, day)
            effect = (
                f"{endpoint.id} data from {when} on are not used"
                if strategy == IntercurrentStrategy.hypothetical
                else f"{endpoint.id} data up to {when} are used"
            )
        elif strategy == IntercurrentStrategy.composite:
            failure = True
            effect = f"counts as a failure on {endpoint.id}"
        elif strategy == IntercurrentStrategy.treatment_policy:
            effect = f"{endpoint.id} data used as observed"
        else:
            unsupported = (
                f"the {strategy.value} strategy for {event.value} is not supported: it needs a model "
                "of the principal stratum"
            )
            effect = "not applied: " + unsupported
        records.append(IntercurrentRecord(event.value, day, description, strategy.value, effect))

    for day, kind, description, acts_on in sorted(concomitant, key=lambda c: c[0]):
        day = float(day)
        if not math.isfinite(day) or day <= 0:
            continue
        if kind == "transplant":
            handle(IntercurrentEvent.transplant, day, description)
        elif endpoint.id in acts_on:
            handle(IntercurrentEvent.concomitant_change, day, f"{kind}: {description}")
    stops = {
        "died": IntercurrentEvent.death,
        "withdrew": IntercurrentEvent.withdrawal,
        "lost_to_follow_up": IntercurrentEvent.lost_to_follow_up,
    }
    if outcome_status in stops and outcome_day is not None:
        handle(stops[outcome_status], float(outcome_day), outcome_status.replace("_", " "))
    return EndpointData(cut, failure, unsupported, tuple(records))


# --------------------------------------------------------------------------- several primaries


def holm_adjusted(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values (Holm 1979), in the order given.

    Examples
    --------
    >>> [round(p, 3) for p in holm_adjusted([0.01, 0.04, 0.03])]
    [0.03, 0.06, 0.06]
    """
    p = np.asarray(p_values, dtype=float)
    if p.size == 0:
        return []
    if np.any(~np.isfinite(p) | (p < 0) | (p > 1)):
        raise UsageError(f"p_values: found {p.tolist()}, expected probabilities between 0 and 1")
    order = np.argsort(p, kind="stable")
    m = p.size
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.minimum(stepped, 1.0)
    return out.tolist()
