"""Criterion 3 on a literature-only cohort: a publication's summary judged, and turned into the fits criterion 5 uses.

A literature cohort (``literature:`` in ``cohort.yaml``) has no subjects' data. Each endpoint's
summary becomes the same fit a patient-level cohort gives (:mod:`pmpath.natural_history.literature`)
when the publication reports every quantity its kind needs; the characterization is judged on what
the publication reports: at least ``min_subjects`` subjects (the plan's threshold, named when it
fails), every required quantity (``insufficient`` naming the missing ones otherwise) and, for a
continuous endpoint, the precision of the slope, SE/|slope| at most ``max_slope_relative_se`` (with
a published SE, or else its lower bound SD_slope / sqrt(n), so only a failure is conclusive).
Person-years and event counts are not judged: a summary rarely gives them.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from pmpath.dossier.model import (
    Endpoint,
    LiteratureSummary,
    NaturalHistoryPlan,
    PublishedGrowth,
    PublishedRate,
    PublishedSurvival,
)
from pmpath.natural_history import (
    GrowthCurve,
    LiteratureSurvival,
    RateFit,
    growth_from_summary,
    rate_from_summary,
    survival_from_summary,
)
from pmpath.pathway.figures import CohortRate, NaturalHistoryCurve, SurvivalCurve
from pmpath.pathway.numbers import format_number
from pmpath.pathway.results import CharacterizationCheck, EndpointFit, Interval, Quantity

if TYPE_CHECKING:
    from pmpath.pathway.criteria.characterization import CohortFits

__all__ = [
    "LITERATURE_ASSUMPTIONS",
    "add_literature_endpoint",
    "literature_age_range",
    "literature_figure",
    "literature_fit",
]

PLAN = "analysis_plan.natural_history"
GRID_POINTS = 60
BAND_LEVEL = 0.95

LITERATURE_ASSUMPTIONS = [
    "The published cohort's untreated course stands for what the patient's course would have been without "
    "treatment (same disease, comparable genotypes, ages and standard of care).",
    "The publication's model and its assumptions hold as published: pmpath has no subjects' data to check "
    "them against, nor to refit the model.",
]

Fit = GrowthCurve | RateFit | LiteratureSurvival


def literature_fit(endpoint: Endpoint, literature: LiteratureSummary) -> Fit | None:
    """The endpoint's fit built from its published summary; None when a required quantity is missing."""
    summary = literature.endpoints.get(endpoint.id)
    if summary is None or literature.missing(endpoint.id):
        return None
    n = literature.subjects_for(endpoint.id)
    assert n is not None  # missing() would have named it
    if isinstance(summary, PublishedGrowth):
        return growth_from_summary(
            endpoint.id,
            reference_age=summary.reference_age,
            intercept=summary.intercept,
            slope=summary.slope,
            sd_intercept=summary.sd_intercept,
            sd_slope=summary.sd_slope,
            correlation=summary.correlation,
            residual_sd=summary.residual_sd,
            n_subjects=n,
            age_range=summary.age_range,
            scale=summary.scale,
            intercept_se=summary.intercept_se,
            slope_se=summary.slope_se,
            slope_intercept_cov=summary.slope_intercept_cov,
        )
    if isinstance(summary, PublishedRate):
        return rate_from_summary(
            endpoint.id,
            rate_per_year=summary.rate_per_year,
            dispersion=summary.dispersion,
            n_subjects=n,
            person_years=summary.person_years,
            n_events=summary.n_events,
            rate_ci=summary.rate_ci,
        )
    return survival_from_summary(
        endpoint.id,
        n_subjects=n,
        survival_at=[(p.age, p.survival, p.ci) for p in summary.survival_at],
        median=summary.median,
        median_ci=summary.median_ci,
        weibull_shape=summary.weibull_shape,
        n_events=summary.n_events,
        last_age=None if summary.age_range is None else summary.age_range[1],
    )


def literature_age_range(
    summary: PublishedGrowth | PublishedRate | PublishedSurvival,
) -> tuple[float, float] | None:
    """Youngest and oldest age the publication observed the endpoint at (time to event: from birth)."""
    if isinstance(summary, PublishedSurvival):
        if summary.age_range is not None:
            return 0.0, float(summary.age_range[1])
        if summary.survival_at:
            return 0.0, float(summary.survival_at[-1].age)
        return None
    return None if summary.age_range is None else tuple(float(a) for a in summary.age_range)


def _checks(
    endpoint: Endpoint,
    literature: LiteratureSummary,
    fit: Fit | None,
    plan: NaturalHistoryPlan,
) -> tuple[list[CharacterizationCheck], list[str], bool | None]:
    """The checks, one sentence per failed check or missing quantity, and whether it is characterized."""
    n = literature.subjects_for(endpoint.id)
    checks: list[CharacterizationCheck] = []
    reasons: list[str] = []
    if n is not None:
        passed = n >= plan.min_subjects
        checks.append(
            CharacterizationCheck(
                name="subjects",
                value=float(n),
                threshold=float(plan.min_subjects),
                comparison=">=",
                passed=passed,
                plan_field=f"{PLAN}.min_subjects",
            )
        )
        if not passed:
            reasons.append(
                f"subjects {n} reported by the publication (required >= {plan.min_subjects}) "
                f"fails {PLAN}.min_subjects"
            )
    if isinstance(fit, GrowthCurve):
        published = literature.endpoints[endpoint.id].slope_se is not None  # type: ignore[union-attr]
        value = fit.slope_relative_se
        ok = bool(value <= plan.max_slope_relative_se)
        checks.append(
            CharacterizationCheck(
                name="slope_relative_se",
                value=value if math.isfinite(value) else None,
                threshold=plan.max_slope_relative_se,
                comparison="<=",
                passed=ok,
                plan_field=f"{PLAN}.max_slope_relative_se",
            )
        )
        if not ok:
            basis = (
                ""
                if published
                else " (on its lower bound SD_slope / sqrt(n): the SE is not published)"
            )
            reasons.append(
                f"slope_relative_se {format_number(value)}{basis} (required <= "
                f"{format_number(plan.max_slope_relative_se)}) fails {PLAN}.max_slope_relative_se"
            )
    missing = literature.missing(endpoint.id)
    if missing:
        reasons.append(f"not reported by the publication: {', '.join(missing)}")
        adequate: bool | None = None  # the summary cannot be judged whole
    else:
        adequate = all(c.passed for c in checks)
    return checks, reasons, adequate


def add_literature_endpoint(
    out: CohortFits, endpoint: Endpoint, literature: LiteratureSummary, plan: NaturalHistoryPlan
) -> None:
    """Judge one endpoint's published summary and keep its fit, typed result and figure in ``out``."""
    summary = literature.endpoints.get(endpoint.id)
    if summary is None:
        return
    ages = literature_age_range(summary)
    if ages is not None:
        out.age_ranges[endpoint.id] = ages
    fit = literature_fit(endpoint, literature)
    checks, reasons, adequate = _checks(endpoint, literature, fit, plan)
    missing = literature.missing(endpoint.id)
    if fit is None:
        out.errors[endpoint.id] = (
            f"the published summary does not report {', '.join(missing)} ({literature.citation})"
        )
        out.shortfalls[endpoint.id] = []
    else:
        out.fits[endpoint.id] = fit
        out.figures[endpoint.id] = literature_figure(fit, endpoint, literature)
    n = literature.subjects_for(endpoint.id) or 0
    common = {
        "endpoint": endpoint.id,
        "name": endpoint.name,
        "unit": endpoint.unit or "",
        "role": endpoint.role,
        "n_subjects": n,
        "adequate": adequate,
        "checks": checks,
        "reasons": reasons,
        "notes": [] if fit is None else list(fit.notes),
    }
    cite = f"published summary, {literature.citation}"
    if isinstance(summary, PublishedGrowth):
        unit = "log units" if summary.scale == "log" else (endpoint.unit or "")
        extra: dict = {}
        if isinstance(fit, GrowthCurve):
            lo, hi = fit.slope_ci()
            extra = {
                "slope": Quantity.of(fit.slope, unit),
                "slope_interval": Interval.of(lo, hi, unit, 0.95),
                "slope_relative_se": _num(fit.slope_relative_se),
            }
        elif summary.slope is not None:
            extra = {"slope": Quantity.of(summary.slope, unit)}
        out.summaries[endpoint.id] = EndpointFit(
            kind="continuous", model=f"linear mixed model ({cite})", **extra, **common
        )
    elif isinstance(summary, PublishedRate):
        extra = {}
        if summary.rate_per_year is not None:
            extra["rate"] = Quantity.of(summary.rate_per_year, "per year")
        if isinstance(fit, RateFit) and all(math.isfinite(x) for x in fit.rate_ci):
            extra["rate_interval"] = Interval.of(fit.rate_ci[0], fit.rate_ci[1], "per year", 0.95)
        if summary.person_years is not None:
            extra["person_years"] = Quantity.of(summary.person_years, "years")
        out.summaries[endpoint.id] = EndpointFit(
            kind="count",
            model=f"negative binomial rate ({cite})",
            n_events=summary.n_events,
            dispersion=_num(summary.dispersion),
            **extra,
            **common,
        )
    else:
        extra = {}
        if summary.median is not None:
            extra["median_age"] = Quantity.of(summary.median, "years")
        if summary.median_ci is not None:
            lo, hi = summary.median_ci
            extra["median_age_interval"] = Interval.of(lo, hi, "years", 0.95)
        what = "survival at stated ages" if summary.survival_at else "median age at event"
        out.summaries[endpoint.id] = EndpointFit(
            kind="time_to_event",
            model=f"{what} ({cite})",
            n_events=summary.n_events,
            **extra,
            **common,
        )


def _num(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _nums(values) -> list[float | None]:
    return [_num(v) for v in np.asarray(values, dtype=float)]


def literature_figure(
    fit: Fit, endpoint: Endpoint, literature: LiteratureSummary
) -> NaturalHistoryCurve | CohortRate | SurvivalCurve:
    """The published mean trajectory and band, the published rate, or the published survival points."""
    if isinstance(fit, GrowthCurve):
        grid = np.linspace(fit.age_range[0], fit.age_range[1], GRID_POINTS)
        band = fit.band(grid, BAND_LEVEL)
        return NaturalHistoryCurve(
            endpoint=endpoint.id,
            name=endpoint.name,
            unit=endpoint.unit or "",
            grid_age=_nums(band.age),
            grid_mean=_nums(band.mean),
            grid_lower=_nums(band.lower),
            grid_upper=_nums(band.upper),
            band_level=BAND_LEVEL,
            n_subjects=fit.n_subjects,
            n_subjects_shown=0,
            published=literature.citation,
        )
    if isinstance(fit, RateFit):
        return CohortRate(
            endpoint=endpoint.id,
            name=endpoint.name,
            rate_per_year=_num(fit.rate_per_year),
            lower=_num(fit.rate_ci[0]),
            upper=_num(fit.rate_ci[1]),
            subject_rates=[],
            n_subjects=fit.n_subjects,
            n_subjects_shown=0,
            published=literature.citation,
        )
    points = fit.points
    step = max(1, len(fit.timeline) // 120)  # the comparator curve at about 120 ages
    return SurvivalCurve(
        endpoint=endpoint.id,
        name=endpoint.name,
        age=[p[0] for p in points],
        survival=[p[1] for p in points],
        lower=[p[1] if p[2] is None else p[2] for p in points],
        upper=[p[1] if p[3] is None else p[3] for p in points],
        n_subjects=fit.n_subjects,
        weibull_age=_nums(fit.timeline[::step]),
        weibull_survival=_nums(fit.survival[::step]),
        published=literature.citation,
        comparator=fit.assumption,
    )
