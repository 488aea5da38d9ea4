"""Criterion 5 and the pooled effect with the NUTS models of :mod:`pmpath.outcomes.bayes`, when the plan
asks for them (``analysis_plan.improvement.sampler.method: nuts``).

:func:`decide_events` re-decides a count endpoint's Bayesian comparison with the cohort's
dispersion uncertain; :func:`hierarchical_pooled` fits the hierarchical pooled effect beside the
DerSimonian-Laird one. A fit whose diagnostics fail (R-hat above ``max_rhat``, bulk ESS below
``min_ess``, any divergent transition) gives ``insufficient`` with the failed checks as the
reason: a verdict never stands on an unconverged chain.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from pmpath.dossier.model import Endpoint, EndpointKind, Platform
from pmpath.dossier.vocabulary import DAYS_PER_YEAR
from pmpath.errors import AnalysisError
from pmpath.formatting import format_interval, format_number, format_percent, format_quantity
from pmpath.outcomes import EventJudgement
from pmpath.outcomes.bayes import (
    SamplerDiagnostics,
    pool_effects_bayes,
    rate_ratio_posterior,
)
from pmpath.pathway.context import AssessmentContext
from pmpath.pathway.criteria.decision_rules import (
    effect_on_model_scale,
    positive_prior,
    sampler_settings,
)
from pmpath.pathway.results import (
    EventRateComparisonResult,
    HierarchicalPooledResult,
    Interval,
    Quantity,
    RateRatioPosteriorResult,
    SamplerDiagnosticsResult,
)
from pmpath.pathway.verdict import Status

__all__ = ["cohort_totals", "decide_events", "diagnostics_result", "hierarchical_pooled"]

_TOLERANCE_DAYS = 1e-9


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def diagnostics_result(d: SamplerDiagnostics) -> SamplerDiagnosticsResult:
    """The sampler's diagnostics as the typed result the verdict carries."""
    return SamplerDiagnosticsResult(
        chains=d.chains, warmup=d.warmup, draws=d.draws, seed=d.seed,
        max_rhat=_finite(d.max_rhat), min_ess=_finite(d.min_ess),
        rhat={k: _finite(v) for k, v in d.rhat.items()}, ess={k: _finite(v) for k, v in d.ess.items()},
        divergences=d.divergences, max_rhat_allowed=d.max_rhat_allowed, min_ess_required=d.min_ess_required,
        converged=d.converged, problems=list(d.problems),
    )  # fmt: skip


def _not_converged(d: SamplerDiagnostics) -> str:
    return (
        f"the NUTS fit did not converge ({'; '.join(d.problems)}): no verdict on an unconverged chain "
        "(raise sampler.warmup and sampler.draws, or check the priors)"
    )


def cohort_totals(
    ctx: AssessmentContext, cohort_id: str, endpoint_id: str
) -> tuple[np.ndarray, np.ndarray]:
    """Each cohort subject's total count of ``endpoint_id`` and exposure in years (its windows summed)."""
    key = f"improvement/cohort_totals/{cohort_id}/{endpoint_id}"
    if key not in ctx.cache:
        events = ctx.dossier.cohorts[cohort_id].events
        if events.empty or not {"endpoint", "subject", "age_start", "age_end", "count"} <= set(
            events.columns
        ):
            ctx.cache[key] = (np.empty(0), np.empty(0))
        else:
            rows = events[events["endpoint"] == endpoint_id]
            years = (rows["age_end"] - rows["age_start"]).astype(float)
            frame = (
                rows.assign(_years=years).groupby("subject", sort=True)[["count", "_years"]].sum()
            )
            ctx.cache[key] = (
                frame["count"].to_numpy(dtype=float),
                frame["_years"].to_numpy(dtype=float),
            )
    return ctx.cache[key]


def decide_events(
    ctx: AssessmentContext,
    endpoint: Endpoint,
    cohort_id: str,
    judgement: EventJudgement,
    typed: EventRateComparisonResult,
) -> tuple[Status, str, EventRateComparisonResult]:
    """The Bayesian event comparison re-decided by NUTS, the cohort's dispersion uncertain.

    ``met`` when ``P(rate ratio < 1 - mcid)`` reaches the plan's ``posterior_threshold`` and both
    halves of the counted periods are below the pre-treatment rate (as the closed-form rule);
    ``insufficient`` when the fit's diagnostics fail or it cannot run. A comparison the closed form
    already found insufficient (too few counted periods, no pre-treatment record) stays so.
    """
    if judgement.decision == Status.insufficient or judgement.rate_ratio is None:
        return Status(judgement.decision), judgement.reason, typed
    platform = ctx.dossier.platform
    plan = platform.analysis_plan.improvement
    rule = judgement.rule
    plot = judgement.plot
    start = np.asarray(plot.period_start, dtype=float)
    end = np.asarray(plot.period_end, dtype=float)
    count = np.asarray(plot.period_count, dtype=float)
    years = (end - start) / DAYS_PER_YEAR
    pre = end <= _TOLERANCE_DAYS
    counted = start >= rule.onset_days - _TOLERANCE_DAYS
    cohort_counts, cohort_years = cohort_totals(ctx, cohort_id, endpoint.id)
    period = judgement.rate_ratio.dispersion
    null = 1 - rule.mcid
    try:
        post = rate_ratio_posterior(
            count[pre], years[pre], count[counted], years[counted], cohort_counts, cohort_years,
            null_ratio=null, prior_mean=plan.prior.mean, prior_sd=plan.prior.sd,
            reference_prior=rule.prior, dispersion_prior=positive_prior(plan.dispersion_prior),
            period_dispersion=float(period) if math.isfinite(period) else 0.0,
            settings=sampler_settings(platform),
        )  # fmt: skip
    except AnalysisError as exc:
        reason = f"the NUTS comparison could not be made: {exc}"
        return (
            Status.insufficient,
            reason,
            typed.model_copy(update={"status": Status.insufficient, "reason": reason}),
        )
    d = post.diagnostics
    nuts = RateRatioPosteriorResult(
        probability=_finite(post.probability), probability_mcse=_finite(post.probability_mcse), null_ratio=null,
        rate_ratio=Quantity.of(post.median, "ratio"),
        interval=Interval.of(post.lower, post.upper, "ratio", post.level),
        dispersion=Quantity.of(post.dispersion_median), dispersion_interval=Interval.of(
            post.dispersion_lower, post.dispersion_upper, "", post.level),
        prior=post.prior, dispersion_prior=post.dispersion_prior, period_dispersion=_finite(post.period_dispersion),
        diagnostics=diagnostics_result(d),
    )  # fmt: skip
    if not d.converged:
        status, reason = Status.insufficient, _not_converged(d)
    else:
        met = post.probability >= rule.posterior_threshold and judgement.consistent
        status = Status.met if met else Status.not_met
        halves = (
            f"halves {format_quantity(judgement.early_ratio, 'ratio')} and "
            f"{format_quantity(judgement.late_ratio, 'ratio')} "
            f"({'consistent' if judgement.consistent else 'not both below ×1'})"
        )
        reason = (
            f"posterior probability of a rate ratio below {format_quantity(null, 'ratio')} "
            f"{format_percent(post.probability)} with the cohort's dispersion uncertain (expected at least "
            f"{format_percent(rule.posterior_threshold)}; {post.prior}, dispersion {post.dispersion_prior}); "
            f"rate ratio {format_quantity(post.median, 'ratio')} ({format_percent(post.level)} credible interval "
            f"{format_interval(post.lower, post.upper, 'ratio')}); {halves}; {d.describe()}"
        )
    decision_rule = typed.decision_rule + "; sampled with NUTS, the cohort's dispersion uncertain"
    updated = typed.model_copy(
        update={
            "status": status, "reason": reason, "nuts": nuts, "decision_rule": decision_rule,
            "posterior_probability": _finite(post.probability),
        }
    )  # fmt: skip
    return status, reason, updated


def hierarchical_pooled(
    platform: Platform,
    endpoint_id: str,
    ids: Sequence[str],
    effects: Sequence[float],
    variances: Sequence[float],
    ratio: bool,
    unit: str,
) -> HierarchicalPooledResult:
    """The hierarchical pooled effect of the primary endpoint (model scale), for the platform's result.

    The threshold is the plan's mcid on the model scale in the benefit direction: for a count
    endpoint ``P(mu < log(1 - mcid))`` (pooled log rate ratios), otherwise ``P(mu > mcid)``.
    """
    plan = platform.analysis_plan.improvement
    endpoint: Endpoint | None = next((e for e in platform.endpoints if e.id == endpoint_id), None)
    mcid = 0.0
    if endpoint is not None:
        try:
            mcid = effect_on_model_scale(plan.for_endpoint(endpoint).mcid, endpoint, "mcid")
        except AnalysisError:
            mcid = 0.0
    count = endpoint is not None and endpoint.kind == EndpointKind.count
    threshold, direction = (math.log(1 - mcid), "less") if count else (mcid, "greater")

    def shown(x: float) -> Quantity:
        return Quantity.of(math.exp(x), "ratio") if ratio else Quantity.of(x, unit)

    try:
        res = pool_effects_bayes(
            effects, variances, ids, threshold=threshold, direction=direction,
            mu_prior_mean=plan.pooled_prior.mu.mean, mu_prior_sd=plan.pooled_prior.mu.sd,
            tau_prior=positive_prior(plan.pooled_prior.tau), settings=sampler_settings(platform),
        )  # fmt: skip
    except AnalysisError as exc:
        return HierarchicalPooledResult(
            status=Status.insufficient, reason=f"the hierarchical model could not be fitted: {exc}",
            estimate=Quantity.of(None, "ratio" if ratio else unit), interval=Interval.of(None, None),
            threshold=shown(threshold), probability=None, tau=None, tau_interval=Interval.of(None, None),
            mu_prior="", tau_prior="",
        )  # fmt: skip
    d = res.diagnostics
    side = "below" if direction == "less" else "above"
    if d.converged:
        status = Status.met if res.probability >= plan.posterior_threshold else Status.not_met
        reason = (
            f"P(mean effect {side} {shown(threshold)}) {format_percent(res.probability)}; between-patient SD "
            f"{format_number(res.tau_median)} (model scale); {d.describe()}"
        )
    else:
        status, reason = Status.insufficient, _not_converged(d)
    unit_shown = "ratio" if ratio else unit
    return HierarchicalPooledResult(
        status=status, reason=reason, estimate=shown(res.median),
        interval=Interval.of(*(math.exp(x) if ratio else x for x in (res.lower, res.upper)), unit_shown, res.level),
        threshold=shown(threshold), probability=_finite(res.probability), tau=_finite(res.tau_median),
        tau_interval=Interval.of(res.tau_lower, res.tau_upper, "", res.level),
        mu_prior=res.mu_prior, tau_prior=res.tau_prior,
        patients={i: shown(float(t)) for i, t in zip(res.labels, res.shrunk, strict=True)},
        diagnostics=diagnostics_result(d),
    )  # fmt: skip
