"""Criterion 3, a well-characterized natural history: fits the patient's natural-history cohort and judges its primary endpoint.

`cohort_fits` fits every platform endpoint that has data in a cohort once per assessment (cached in
``ctx.cache``) and is what criterion 5 compares patients with. `evaluate` judges the primary endpoint's
fit against ``analysis_plan.natural_history``; supportive endpoints are reported, not decisive.
`comparability_rows` compares the external control with the treated patient (ages, genotype class,
era of care, assays); each mismatch is a caveat, each field not stated an info flag.

The verdict's figures (:mod:`pmpath.pathway.figures`) are, per fitted endpoint, by kind:

- continuous: a :class:`~pmpath.pathway.figures.NaturalHistoryCurve`: the observations of whole
  subjects drawn at random (seeded: every run shows the same ones), at most 200 subjects and 6000
  points, the population mean and 95% range of untreated observations (from the model fitted to
  every subject), the observed 2.5%, 50% and 97.5% quantiles by age over every observation, and the
  patient's own measurements of the endpoint;
- count: one :class:`~pmpath.pathway.figures.CohortRates` for all count endpoints, each with the
  cohort rate and its interval (from every subject) and the own rates of at most 200 subjects;
- time-to-event: a :class:`~pmpath.pathway.figures.SurvivalCurve`, the Kaplan-Meier curve (a curve
  with more than 1000 steps is given at 1000 ages, the step function read there).

A literature-only cohort (``literature:`` in ``cohort.yaml``: a publication's summary, no
subjects' data) is not fitted: :mod:`pmpath.pathway.criteria.literature` judges what the
publication reports and builds the same fits from it; the verdict says it is literature-only.

Everything here is computed once per cohort (``ctx.cache``), not once per patient: for a cohort of
100,000 subjects the plot data is as small as for one of 100, and the fits are not repeated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pmpath.dossier import CohortTables, PatientRecord
from pmpath.dossier.load import COHORT_FILE
from pmpath.dossier.model import (
    Case,
    Cohort,
    Endpoint,
    EndpointKind,
    LiteratureSummary,
    NaturalHistoryPlan,
)
from pmpath.dossier.vocabulary import DAYS_PER_YEAR
from pmpath.errors import AnalysisError
from pmpath.natural_history import (
    Characterization,
    GrowthCurve,
    RateFit,
    SurvivalFit,
    age_quantiles,
    characterize,
    fit_event_rate,
    fit_longitudinal,
    fit_survival,
)
from pmpath.pathway import flags as flag_kinds
from pmpath.pathway.context import AssessmentContext
from pmpath.pathway.criteria.literature import LITERATURE_ASSUMPTIONS, add_literature_endpoint
from pmpath.pathway.figures import (
    CohortRate,
    CohortRates,
    FigureData,
    NaturalHistoryCurve,
    PatientMeasurements,
    QuantileBands,
    SurvivalCurve,
)
from pmpath.pathway.flags import Flag, FlagSeverity
from pmpath.pathway.numbers import format_number
from pmpath.pathway.results import (
    CharacterizationCheck,
    ComparabilityRow,
    EndpointFit,
    Interval,
    NaturalHistoryResult,
    Quantity,
    SplineAic,
)
from pmpath.pathway.verdict import CRITERION_NAMES, Status, Verdict

NUMBER = 3
MAX_PLOT_SUBJECTS = 200  # subjects' trajectories (or rates) drawn, sampled at random beyond this
MAX_PLOT_POINTS = 6000  # and at most this many observations in one chart
MAX_KM_POINTS = 1000
GRID_POINTS = 60
BAND_LEVEL = 0.95
PLOT_SEED = 0  # the sample of subjects drawn is the same on every run
AGE_MARGIN_YEARS = 1.0  # a patient dosed this far outside the cohort's observed ages is a mismatch
ERA_MARGIN_YEARS = 10  # a first dose this many years from the cohort's era of care is a mismatch
PLAN = "analysis_plan.natural_history"
PLAN_FIELDS = {  # the characterization check -> the plan threshold it is judged against
    "subjects": f"{PLAN}.min_subjects",
    "person_years": f"{PLAN}.min_person_years",
    "slope_relative_se": f"{PLAN}.max_slope_relative_se",
    "events": f"{PLAN}.min_events",
}
Fit = GrowthCurve | RateFit | SurvivalFit

METHOD = (
    "Each endpoint of the platform with data in the disease's natural-history cohort is fitted: continuous "
    "endpoints with a linear mixed model of value on age (random intercept and slope per subject, REML, on the "
    "endpoint's declared scale; uncorrelated random intercept and slope, then random intercept only, when the "
    "random-effect covariance is singular; a natural cubic spline in age, its degrees of freedom from the plan or "
    "chosen by AIC, and subject-level covariates when analysis_plan.natural_history.endpoints asks), count "
    "endpoints with an intercept-only negative binomial (NB2) model of each subject's events with log exposure as "
    "offset (Poisson when the counts show no overdispersion), time-to-event endpoints with Kaplan-Meier on age. "
    "The primary endpoint decides: it is characterized when the pre-specified analysis plan's checks all pass "
    "(subjects >= min_subjects; person-years >= min_person_years for continuous and count endpoints; "
    "SE/|slope| <= max_slope_relative_se for continuous endpoints; events >= min_events for count and "
    "time-to-event endpoints). Met when all pass, not met when the data fall short, insufficient when the "
    "cohort has no usable data for the primary endpoint; the verdict names the plan threshold that failed. "
    "The external control is compared with the patient: age at first dose more than "
    f"{AGE_MARGIN_YEARS:g} year outside the ages the cohort observed the primary endpoint at, no cohort subject "
    f"of the patient's genotype class, a first dose more than {ERA_MARGIN_YEARS} years from the cohort's era of "
    "care, or a different assay for an endpoint is each flagged as a caveat; a comparability field that is not "
    "stated is an info flag. The analysis plan declares no comparability rule, so mismatches do not change the "
    "status."
)


@dataclass
class CohortFits:
    """What one cohort gives every patient compared with it, computed once per assessment.

    Attributes
    ----------
    fits : dict
        Endpoint id -> fit, for endpoints with data whose fit succeeded.
    errors : dict
        Endpoint id -> why the fit failed, for endpoints with data whose fit failed.
    summaries : dict
        Endpoint id -> the fit and its characterization as a typed result, for every fitted endpoint.
    figures : dict
        Endpoint id -> the cohort's plot data (see the module docstring), for every fitted endpoint.
    age_ranges : dict
        Endpoint id -> youngest and oldest age the cohort observed it at, for endpoints with data.
    shortfalls : dict
        Endpoint id -> the plan's checks that fail on the data alone, for endpoints whose fit failed.
    visits : dict
        Endpoint id -> mean and median rows (visits, or observation windows) per subject, for
        continuous and count endpoints with data.
    """

    fits: dict[str, Fit] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    summaries: dict[str, EndpointFit] = field(default_factory=dict)
    figures: dict[str, NaturalHistoryCurve | CohortRate | SurvivalCurve] = field(
        default_factory=dict
    )
    age_ranges: dict[str, tuple[float, float]] = field(default_factory=dict)
    shortfalls: dict[str, list[str]] = field(default_factory=dict)
    visits: dict[str, tuple[float, float]] = field(default_factory=dict)
    patients: dict[tuple[str, str], PatientMeasurements] = field(default_factory=dict)


def _kind_table(tables: CohortTables, kind: EndpointKind) -> pd.DataFrame:
    return {
        EndpointKind.continuous: tables.longitudinal,
        EndpointKind.count: tables.events,
        EndpointKind.time_to_event: tables.time_to_event,
    }[kind]


def _endpoint_table(frame: pd.DataFrame, endpoint: Endpoint) -> pd.DataFrame:
    if frame.empty or "endpoint" not in frame.columns:
        return frame.iloc[0:0]
    return frame[frame["endpoint"] == endpoint.id].reset_index(drop=True)


def _with_covariates(
    table: pd.DataFrame, subjects: pd.DataFrame, covariates: list[str], endpoint: Endpoint
) -> pd.DataFrame:
    """The endpoint's rows with the subject-level covariates of the subjects table beside them."""
    absent = [c for c in covariates if c not in subjects.columns]
    if absent:
        raise AnalysisError(
            f"endpoint {endpoint.id!r}: {PLAN}.endpoints.{endpoint.id}.covariates names {absent}, "
            f"found no such column in the cohort's subjects table (columns: {list(subjects.columns)})"
        )
    per_subject = subjects[["subject", *covariates]].drop_duplicates("subject")
    # each row's subject looked up by its distinct labels: a registry's millions of rows name a
    # few thousand subjects, and a merge on text would compare every row's label
    codes, labels = pd.factorize(table["subject"])
    at = pd.Index(per_subject["subject"].astype(str)).get_indexer(pd.Index(labels).astype(str))[
        codes
    ]
    found = at >= 0

    def column(name: str) -> pd.Series:
        values = per_subject[name].take(np.where(found, at, 0))
        values = pd.Series(values.array, index=table.index, name=name)  # its dtype kept
        return values if found.all() else values.where(found)

    columns = {c: column(c) for c in covariates}
    return table.assign(subject=table["subject"].astype(str), **columns)


def _fit(
    endpoint: Endpoint,
    table: pd.DataFrame,
    plan: NaturalHistoryPlan | None = None,
    subjects: pd.DataFrame | None = None,
) -> Fit:
    if endpoint.kind == EndpointKind.continuous:
        options = (plan or NaturalHistoryPlan()).for_endpoint(endpoint.id)
        if options.covariates:
            table = _with_covariates(
                table,
                pd.DataFrame(columns=["subject"]) if subjects is None else subjects,
                list(options.covariates),
                endpoint,
            )
        return fit_longitudinal(
            table,
            endpoint.id,
            scale=endpoint.scale,
            age_shape=options.age_shape,
            spline_df=options.spline_df,
            covariates=tuple(options.covariates),
        )
    if endpoint.kind == EndpointKind.count:
        return fit_event_rate(table, endpoint.id)
    return fit_survival(table, endpoint.id)


def _cohort_results(ctx: AssessmentContext, cohort_id: str) -> CohortFits:
    key = f"natural_history/{cohort_id}"
    if key not in ctx.cache:
        tables = ctx.dossier.cohorts.get(cohort_id)
        if tables is None:
            raise KeyError(
                f"cohort {cohort_id!r} is not in {COHORT_FILE}; found {sorted(ctx.dossier.cohorts)}"
            )
        plan = ctx.dossier.platform.analysis_plan.natural_history
        out = CohortFits()
        for endpoint in ctx.dossier.platform.endpoints:
            if tables.literature is not None:  # a published summary, no subjects' data
                add_literature_endpoint(out, endpoint, tables.literature, plan)
                continue
            # one endpoint's rows at a time: a large cohort's tables are not all copied at once
            _add_endpoint(
                out,
                endpoint,
                _endpoint_table(_kind_table(tables, endpoint.kind), endpoint),
                plan,
                tables.subjects,
            )
        _add_patients(out, ctx, cohort_id)
        ctx.cache[key] = out
    return ctx.cache[key]


def _add_patients(out: CohortFits, ctx: AssessmentContext, cohort_id: str) -> None:
    """The measurements of every patient compared with the cohort, and charts wide enough for all."""
    platform = ctx.dossier.platform
    curves = {e: f for e, f in out.figures.items() if isinstance(f, NaturalHistoryCurve)}
    if not curves:
        return
    endpoints = [e for e in platform.endpoints if e.id in curves]
    extents: dict[str, list[float]] = {e: [] for e in curves}
    for patient in ctx.dossier.patients:
        disease = platform.disease(patient.case.diagnosis.disease)
        if disease is None or disease.cohort != cohort_id:
            continue
        for endpoint in endpoints:
            mine = _patient_measurements(patient, endpoint)
            if mine is None:
                continue
            out.patients[(patient.id, endpoint.id)] = mine
            ages = [a for a in mine.age if a is not None]
            values = [v for v in mine.value if v is not None]
            extents[endpoint.id] += [min(ages), max(ages), min(values), max(values)]
    for endpoint_id, curve in curves.items():
        e = extents[endpoint_id]
        if not e:
            continue
        ages = [a for a in (*curve.age, *curve.grid_age, *e[0::4], *e[1::4]) if a is not None]
        values = [
            v
            for v in (*curve.value, *curve.grid_lower, *curve.grid_upper, *e[2::4], *e[3::4])
            if v is not None
        ]
        out.figures[endpoint_id] = curve.model_copy(
            update={
                "age_extent": (min(ages), max(ages)),
                "value_extent": (min(values), max(values)),
            }
        )


def _add_endpoint(
    out: CohortFits,
    endpoint: Endpoint,
    table: pd.DataFrame,
    plan: NaturalHistoryPlan,
    subjects: pd.DataFrame | None = None,
) -> None:
    """Fit one endpoint's rows of the cohort and keep what the verdicts need from them."""
    if table.empty:
        return
    out.age_ranges[endpoint.id] = _age_range(endpoint, table)
    if endpoint.kind != EndpointKind.time_to_event:  # time to event: one row per subject
        per_subject = table.groupby("subject").size()
        out.visits[endpoint.id] = (float(per_subject.mean()), float(per_subject.median()))
    try:
        fit = _fit(endpoint, table, plan, subjects)
    except AnalysisError as exc:  # includes ConvergenceError
        out.errors[endpoint.id] = str(exc)
        out.shortfalls[endpoint.id] = _raw_shortfall(endpoint, table, plan)
        return
    out.fits[endpoint.id] = fit
    out.summaries[endpoint.id] = _endpoint_fit(
        fit, endpoint, _characterize(fit, plan), out.visits.get(endpoint.id)
    )
    out.figures[endpoint.id] = _figure(fit, endpoint, table)


def cohort_fits(ctx: AssessmentContext, cohort_id: str) -> dict[str, Fit]:
    """Natural-history fits of cohort ``cohort_id`` keyed by endpoint id, computed once per context.

    Endpoints without data in the cohort are absent, and so are endpoints whose fit failed;
    :func:`cohort_fit_errors` says why those failed. Raises KeyError for an unknown cohort.
    """
    return _cohort_results(ctx, cohort_id).fits


def cohort_fit_errors(ctx: AssessmentContext, cohort_id: str) -> dict[str, str]:
    """Endpoint id -> error message, for endpoints with data in the cohort whose fit failed."""
    return _cohort_results(ctx, cohort_id).errors


# ---------------------------------------------------------------------- numbers


def _num(x: Any) -> float | None:
    """A JSON-able float: None for NaN and infinities."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _nums(values: Any) -> list[float | None]:
    return [_num(v) for v in np.asarray(values, dtype=float)]


def _endpoint_fit(
    fit: Fit,
    endpoint: Endpoint,
    ch: Characterization,
    visits: tuple[float, float] | None = None,
) -> EndpointFit:
    """One endpoint's fit and characterization as a typed result (units from the endpoint)."""
    common: dict[str, Any] = {
        "visits_per_subject_mean": None if visits is None else visits[0],
        "visits_per_subject_median": None if visits is None else visits[1],
        "endpoint": endpoint.id,
        "name": endpoint.name,
        "unit": endpoint.unit or "",
        "role": endpoint.role,
        "n_subjects": fit.n_subjects,
        "person_years": Quantity.of(fit.person_years, "years"),
        "adequate": ch.adequate,
        "checks": [
            CharacterizationCheck(
                name=c.name,
                value=_num(c.value),
                threshold=c.threshold,
                comparison=c.comparison,
                passed=c.passed,
                plan_field=PLAN_FIELDS.get(c.name),
            )
            for c in ch.checks
        ],
        "reasons": _reasons(ch),
    }
    if isinstance(fit, GrowthCurve):
        unit = "log units" if fit.scale == "log" else (endpoint.unit or "")
        lo, hi = fit.slope_ci()
        return EndpointFit(
            kind="continuous",
            model=_growth_model_text(fit),
            n_observations=fit.n_observations,
            slope=Quantity.of(fit.slope, unit),
            slope_interval=Interval.of(lo, hi, unit, 0.95),
            slope_relative_se=_num(fit.slope_relative_se),
            age_shape=fit.age_shape,
            spline_df=fit.spline_df,
            spline_aic=[
                SplineAic(df=df, aic=aic, chosen=df == fit.spline_df) for df, aic in fit.aic_table
            ],
            covariates=[c.name for c in fit.covariates],
            notes=list(fit.notes),
            **common,
        )
    if isinstance(fit, RateFit):
        return EndpointFit(
            kind="count",
            model=fit.model.replace("_", " "),
            n_events=fit.n_events,
            rate=Quantity.of(fit.rate_per_year, "per year"),
            rate_interval=Interval.of(fit.rate_ci[0], fit.rate_ci[1], "per year", 0.95),
            dispersion=_num(fit.dispersion),
            notes=list(fit.notes),
            **common,
        )
    weibull = getattr(fit, "weibull", None)
    truncated = bool(getattr(fit, "left_truncated", False))
    return EndpointFit(
        kind="time_to_event",
        model="Kaplan-Meier"
        + (" with left truncation (age at entry)" if truncated else "")
        + (", Weibull beside it" if weibull is not None else ""),
        n_events=fit.n_events,
        median_age=Quantity.of(fit.median, "years"),
        median_age_interval=Interval.of(fit.median_ci[0], fit.median_ci[1], "years", 0.95),
        weibull_scale=None if weibull is None else Quantity.of(weibull.scale, "years"),
        weibull_shape=None if weibull is None else _num(weibull.shape),
        weibull_median_age=None if weibull is None else Quantity.of(weibull.median, "years"),
        weibull_median_interval=None
        if weibull is None
        else Interval.of(weibull.median_ci[0], weibull.median_ci[1], "years", weibull.level),
        left_truncated=truncated,
        notes=list(getattr(fit, "notes", ())),
        **common,
    )


def _growth_model_text(fit: GrowthCurve) -> str:
    """'linear mixed model (REML), natural cubic spline in age (df 3 of 1-4 by AIC), covariates sex; random ...'."""
    parts = ["linear mixed model (REML)"]
    if fit.age_shape == "spline":
        how = (
            f"df {fit.spline_df} of {', '.join(str(df) for df, _ in fit.aic_table)} chosen by AIC"
            if fit.aic_table
            else f"df {fit.spline_df}, from the plan"
        )
        parts.append(f"natural cubic spline in age ({how})")
    if fit.covariates:
        parts.append(f"covariates {', '.join(c.name for c in fit.covariates)}")
    text = ", ".join(parts)
    return f"{text}; random {fit.random_structure.replace('_', ' ')}"


def _reasons(ch: Characterization) -> list[str]:
    """One sentence per failed or undecidable check, naming the plan threshold it was judged against."""
    out = []
    for c in ch.checks:
        where = PLAN_FIELDS.get(c.name, PLAN)
        if c.passed is False:
            out.append(
                f"{c.name} {format_number(c.value)} (required {c.comparison} {format_number(c.threshold)}) "
                f"fails {where}"
            )
        elif c.passed is None:
            out.append(
                f"{c.name} could not be computed (required {c.comparison} {format_number(c.threshold)}, {where})"
            )
    return out


def _characterize(fit: Fit, plan: NaturalHistoryPlan) -> Characterization:
    return characterize(
        fit,
        min_subjects=plan.min_subjects,
        min_person_years=plan.min_person_years,
        max_slope_relative_se=plan.max_slope_relative_se,
        min_events=plan.min_events,
    )


def _raw_shortfall(endpoint: Endpoint, table: pd.DataFrame, plan: NaturalHistoryPlan) -> list[str]:
    """Checks that fail on the data alone, for an endpoint whose fit failed: too few subjects, person-years or events."""
    n_subjects = int(table["subject"].nunique())
    out = []
    if n_subjects < plan.min_subjects:
        out.append(
            f"subjects {n_subjects} (required >= {plan.min_subjects}) fails {PLAN_FIELDS['subjects']}"
        )
    if endpoint.kind == EndpointKind.continuous:
        by_subject = table.groupby("subject")["age"]
        years = float((by_subject.max() - by_subject.min()).sum())
    elif endpoint.kind == EndpointKind.count:
        years = float((table["age_end"] - table["age_start"]).sum())
    else:
        years = math.inf
    if endpoint.kind != EndpointKind.time_to_event and years < plan.min_person_years:
        out.append(
            f"person-years {format_number(years)} (required >= {format_number(plan.min_person_years)}) "
            f"fails {PLAN_FIELDS['person_years']}"
        )
    if endpoint.kind != EndpointKind.continuous:
        events = int(table["count" if endpoint.kind == EndpointKind.count else "event"].sum())
        if events < plan.min_events:
            out.append(
                f"events {events} (required >= {plan.min_events}) fails {PLAN_FIELDS['events']}"
            )
    return out


def _age_range(endpoint: Endpoint, table: pd.DataFrame) -> tuple[float, float]:
    """Youngest and oldest age the cohort observed the endpoint at (time-to-event follow-up starts at birth)."""
    if endpoint.kind == EndpointKind.count:
        return float(table["age_start"].min()), float(table["age_end"].max())
    if endpoint.kind == EndpointKind.time_to_event:
        return 0.0, float(table["age"].max())
    return float(table["age"].min()), float(table["age"].max())


def _describe(fit: Fit, endpoint: Endpoint) -> str:
    n = format_number
    if isinstance(fit, GrowthCurve):
        lo, hi = fit.slope_ci()
        unit = "log units" if fit.scale == "log" else endpoint.unit
        shape = ""
        if fit.age_shape == "spline":
            aic = "; ".join(f"df {df} AIC {n(a)}" for df, a in fit.aic_table)
            shape = f"; natural cubic spline in age, df {fit.spline_df}" + (
                f" chosen by AIC ({aic})" if aic else ""
            )
        if fit.covariates:
            shape += f"; covariates {', '.join(c.name for c in fit.covariates)}"
        mean = " mean" if fit.spline_df > 1 else ""
        return (
            f"{fit.n_subjects} subjects, {n(fit.person_years)} person-years,{mean} slope {n(fit.slope)} {unit}/year "
            f"(95% CI {n(lo)} to {n(hi)}, SE/|slope| {n(fit.slope_relative_se)}){shape}"
        )
    if isinstance(fit, RateFit):
        lo, hi = fit.rate_ci
        return (
            f"{fit.n_subjects} subjects, {n(fit.person_years)} person-years, {fit.n_events} events, "
            f"rate {n(fit.rate_per_year)}/year (95% CI {n(lo)} to {n(hi)}, {fit.model.replace('_', ' ')})"
        )
    median = f"median age {n(fit.median)}" if fit.median_reached else "median not reached"
    return f"{fit.n_subjects} subjects, {fit.n_events} events, {median}"


# ---------------------------------------------------------------------- plots


def _sample_subjects(sizes: pd.Series, max_points: int) -> tuple[list[str], bool]:
    """Whole subjects to draw, at random (seeded) once there are more than a chart can show.

    ``sizes`` is the number of rows per subject, indexed by subject and sorted. Subjects are taken
    in one seeded random order until :data:`MAX_PLOT_SUBJECTS` are kept, skipping a subject that
    would take the chart past ``max_points``. Returns the kept subjects in sorted order and whether
    any was left out.
    """
    subjects = sizes.index.to_numpy()
    if len(subjects) <= MAX_PLOT_SUBJECTS and int(sizes.sum()) <= max_points:
        return [str(x) for x in subjects], False
    keep: list[str] = []
    total = 0
    counts = dict(zip(subjects, sizes.to_numpy(), strict=True))
    for s in np.random.default_rng(PLOT_SEED).permutation(subjects):
        if total + counts[s] > max_points and keep:
            continue
        keep.append(str(s))
        total += int(counts[s])
        if len(keep) == MAX_PLOT_SUBJECTS:
            break
    return sorted(keep), True


def _quantile_bands(table: pd.DataFrame) -> QuantileBands | None:
    tail = (1 - BAND_LEVEL) / 2
    q = age_quantiles(
        table["age"].to_numpy(dtype=float),
        table["value"].to_numpy(dtype=float),
        (tail, 0.5, 1 - tail),
    )
    if q is None:
        return None
    return QuantileBands(
        age=_nums(q.age),
        lower=_nums(q.values[:, 0]),
        median=_nums(q.values[:, 1]),
        upper=_nums(q.values[:, 2]),
        level=BAND_LEVEL,
        n_observations=[int(n) for n in q.n_observations],
    )


def _thinned_km(fit: SurvivalFit) -> dict[str, list[float | None]]:
    """The Kaplan-Meier curve for the chart: every step, or the step function read at MAX_KM_POINTS ages."""
    age = np.asarray(fit.timeline, dtype=float)
    columns = {"survival": fit.survival, "lower": fit.ci_lower, "upper": fit.ci_upper}
    if len(age) > MAX_KM_POINTS:
        grid = np.linspace(age[0], age[-1], MAX_KM_POINTS)
        # right-continuous: the value of the last step at or before each grid age
        at = np.searchsorted(age, grid, side="right") - 1
        age = grid
        columns = {k: np.asarray(v, dtype=float)[at] for k, v in columns.items()}
    return {"age": _nums(age), **{k: _nums(v) for k, v in columns.items()}}


def _figure(
    fit: Fit, endpoint: Endpoint, table: pd.DataFrame
) -> NaturalHistoryCurve | CohortRate | SurvivalCurve:
    """The cohort's plot data of one fitted endpoint (the same for every patient)."""
    if isinstance(fit, GrowthCurve):
        subject = table["subject"].astype(str)
        sizes = subject.value_counts().sort_index()
        keep, sampled = _sample_subjects(sizes, MAX_PLOT_POINTS)
        shown = table[subject.isin(set(keep))] if sampled else table
        shown = shown.assign(subject=subject[shown.index]).sort_values(["subject", "age"])
        grid = np.linspace(fit.age_range[0], fit.age_range[1], GRID_POINTS)
        band = fit.band(grid, BAND_LEVEL)
        return NaturalHistoryCurve(
            endpoint=endpoint.id,
            name=endpoint.name,
            unit=endpoint.unit or "",
            subject=shown["subject"].tolist(),
            age=_nums(shown["age"]),
            value=_nums(shown["value"]),
            grid_age=_nums(band.age),
            grid_mean=_nums(band.mean),
            grid_lower=_nums(band.lower),
            grid_upper=_nums(band.upper),
            band_level=BAND_LEVEL,
            quantiles=_quantile_bands(table),
            n_subjects=len(sizes),
            n_subjects_shown=len(keep),
        )
    if isinstance(fit, RateFit):
        per = (
            table.assign(
                person_years=table["age_end"] - table["age_start"],
                subject=table["subject"].astype(str),
            )
            .groupby("subject", sort=True)[["count", "person_years"]]
            .sum()
        )
        keep, _ = _sample_subjects(pd.Series(1, index=per.index), MAX_PLOT_SUBJECTS)
        shown = per.loc[keep]
        return CohortRate(
            endpoint=endpoint.id,
            name=endpoint.name,
            rate_per_year=_num(fit.rate_per_year),
            lower=_num(fit.rate_ci[0]),
            upper=_num(fit.rate_ci[1]),
            subject_rates=_nums(shown["count"] / shown["person_years"]),
            n_subjects=len(per),
            n_subjects_shown=len(shown),
        )
    km = _thinned_km(fit)
    weibull = getattr(fit, "weibull", None)
    grid = (
        np.linspace(0.0, float(np.nanmax(fit.timeline)), 61)
        if weibull is not None and len(fit.timeline)
        else np.empty(0)
    )
    return SurvivalCurve(
        endpoint=endpoint.id,
        name=endpoint.name,
        age=km["age"],
        survival=km["survival"],
        lower=km["lower"],
        upper=km["upper"],
        n_subjects=fit.n_subjects,
        weibull_age=[float(a) for a in grid],
        weibull_survival=[float(x) for x in weibull.survival_at(grid)] if grid.size else [],
        left_truncated=bool(getattr(fit, "left_truncated", False)),
    )


def _patient_measurements(patient: PatientRecord, endpoint: Endpoint) -> PatientMeasurements | None:
    """The patient's own measurements of a continuous endpoint, at their ages, for the cohort's chart."""
    frame = patient.measurements
    if frame.empty or "endpoint" not in frame.columns:
        return None
    rows = frame[frame["endpoint"] == endpoint.id]
    day = pd.to_numeric(rows["day"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    value = pd.to_numeric(rows["value"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    keep = ~(np.isnan(day) | np.isnan(value))
    if not keep.any():
        return None
    order = np.argsort(day[keep], kind="stable")
    age0 = patient.case.diagnosis.age_at_first_dose_years
    return PatientMeasurements(
        patient=patient.id,
        age=_nums(age0 + day[keep][order] / DAYS_PER_YEAR),
        value=_nums(value[keep][order]),
        age_at_first_dose=age0,
    )


def _figures(
    results: CohortFits, platform_endpoints: list[Endpoint], patient: PatientRecord
) -> list[FigureData]:
    """Criterion 3's figures: one per continuous and time-to-event endpoint, one for all rates."""
    out: list[FigureData] = []
    rates: list[CohortRate] = []
    for endpoint in platform_endpoints:
        figure = results.figures.get(endpoint.id)
        if isinstance(figure, NaturalHistoryCurve):
            mine = results.patients.get((patient.id, endpoint.id))
            # a shallow copy: the cohort's lists are shared, not copied, for every patient
            out.append(figure if mine is None else figure.model_copy(update={"patient": mine}))
        elif isinstance(figure, SurvivalCurve):
            out.append(figure)
        elif isinstance(figure, CohortRate):
            rates.append(figure)
    if rates:
        out.append(CohortRates(rates=rates))
    return out


# ---------------------------------------------------------------------- verdict


def _assumptions(
    kinds: set[EndpointKind], collection: str, visit_schedule: str | None = None
) -> list[str]:
    out = [
        "The cohort's untreated course stands for what the patient's course would have been without treatment "
        "(same disease, comparable genotypes, ages and standard of care).",
        "Missed visits and dropout are unrelated to the values that were not observed (missing at random).",
    ]
    if EndpointKind.continuous in kinds:
        out.append(
            "Continuous endpoints change linearly with age on their declared scale over the observed ages; subject deviations and residuals are normal."
        )
    if EndpointKind.count in kinds:
        out.append(
            "Each subject's events follow a Poisson process with a constant, gamma-distributed subject rate (negative binomial)."
        )
    if EndpointKind.time_to_event in kinds:
        out.append(
            "Time-to-event follow-up starts at birth (no delayed entry) and censoring is independent of the event."
        )
    if collection == "retrospective_chart_review" or visit_schedule in ("clinical_care", "mixed"):
        source = (
            "A retrospective chart review records"
            if collection == "retrospective_chart_review"
            else "Visits scheduled by clinical care record"
        )
        out.append(
            f"{source} visits driven by clinical need, which can over-represent worse periods."
        )
    return out


# ---------------------------------------------------------------------- comparability


def _genotype_counts(subjects: pd.DataFrame) -> dict[str, int] | None:
    """Cohort subjects per genotype class, or None when the subjects table has no genotype_class."""
    if "genotype_class" not in subjects.columns:
        return None
    classes = subjects["genotype_class"].dropna().astype(str)
    return {str(k): int(v) for k, v in classes.value_counts().sort_index().items()}


def _same_genotype(subjects: pd.DataFrame, genotype_class: str | None) -> int | None:
    counts = _genotype_counts(subjects)
    if counts is None or genotype_class is None:
        return None
    return counts.get(genotype_class, 0)


def _same_assay(a: str, b: str) -> bool:
    """Assay names compared without regard to case and runs of white space."""
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _is_code(name: str) -> bool:
    """An ISO 3166-1 alpha-2 code (two letters) rather than a country's name."""
    name = name.strip()
    return len(name) == 2 and name.isalpha()


def _country_status(countries: list[str], country: str | None) -> str:
    """``ok`` when the patient's country is among the cohort's, ``mismatch`` when it is not, ``reported``
    when it cannot be compared (not stated, or a code against names only or a name against codes only)."""
    if country is None:
        return "reported"
    comparable = [c for c in countries if _is_code(c) == _is_code(country)]
    if not comparable:
        return "reported"
    mine = " ".join(country.split()).casefold()
    return "ok" if any(" ".join(c.split()).casefold() == mine for c in comparable) else "mismatch"


def _mismatch_message(row: ComparabilityRow) -> str:
    """One sentence for a comparability mismatch: what differs, both sides and the rule."""
    if row.field == "age at first dose":
        return (
            f"the patient's age at first dose ({row.patient}) is more than {format_number(AGE_MARGIN_YEARS)} "
            f"year outside the ages the cohort observed {row.endpoint!r} at ({row.cohort}): comparisons "
            "extrapolate the natural history"
        )
    if row.field == "genotype class":
        return f"no cohort subject shares the patient's genotype class {row.patient!r} (cohort: {row.cohort})"
    if row.field == "countries":
        return (
            f"the patient's country {row.patient!r} is not among the cohort's countries ({row.cohort}): "
            "standard of care may differ"
        )
    if row.field == "era of care":
        return (
            f"the patient's {row.patient} is more than {ERA_MARGIN_YEARS} years from the cohort's era of care "
            f"({row.cohort}): standard of care may have changed"
        )
    return (
        f"{row.endpoint!r} was measured by a different assay for the patient ({row.patient}) than in the "
        f"cohort ({row.cohort})"
    )


def comparability_rows(
    cohort: Cohort,
    case: Case,
    *,
    primary_endpoints: list[str],
    age_range: tuple[float, float] | None,
    primary_endpoint: str,
    genotype_counts: dict[str, int] | None,
) -> list[ComparabilityRow]:
    """The external control against the treated patient, one row per compared field.

    Rules (see ``docs/methods.md`` section 3): the age at first dose is a mismatch more than
    :data:`AGE_MARGIN_YEARS` outside ``age_range`` (the ages the cohort observed the primary
    endpoint at); the genotype class when no cohort subject shares it; the era of care when the
    first-dose year is more than :data:`ERA_MARGIN_YEARS` years from ``cohort.era``; the assay of
    an endpoint when the cohort's and the patient's differ (case and spacing ignored); the
    patient's ``diagnosis.country`` when it is not among the cohort's ``countries`` (case and
    spacing ignored; a two-letter ISO code is compared with codes, a name with names, and a
    country that cannot be compared is ``reported``). Assays are compared for every primary
    endpoint and for any endpoint either side names. Centres and the visit schedule have no
    patient side: they are ``reported``. A side that is absent makes the row ``not stated``.

    Parameters
    ----------
    cohort, case
        The cohort's and the patient's declarations.
    primary_endpoints
        Ids of the platform's primary endpoints.
    age_range
        Youngest and oldest age the cohort observed ``primary_endpoint`` at, or None (no data).
    primary_endpoint
        The endpoint whose observed ages the patient's age is compared with.
    genotype_counts
        Cohort subjects per genotype class, or None when the cohort does not record it.

    Returns
    -------
    list of ComparabilityRow
    """
    rows: list[ComparabilityRow] = []
    age = case.diagnosis.age_at_first_dose_years
    age_text = f"{format_number(age)} years"
    rule = f"within {format_number(AGE_MARGIN_YEARS)} year of the ages the cohort observed {primary_endpoint} at"
    if age_range is None:
        rows.append(
            ComparabilityRow(
                field="age at first dose",
                cohort="no data",
                patient=age_text,
                status="not stated",
                rule=rule,
                endpoint=primary_endpoint,
            )
        )
    else:
        lo, hi = age_range
        ok = lo - AGE_MARGIN_YEARS <= age <= hi + AGE_MARGIN_YEARS
        rows.append(
            ComparabilityRow(
                field="age at first dose",
                cohort=f"{format_number(lo)}-{format_number(hi)} years",
                patient=age_text,
                status="ok" if ok else "mismatch",
                rule=rule,
                endpoint=primary_endpoint,
            )
        )

    genotype = case.diagnosis.genotype_class
    rule = "at least one cohort subject of the patient's genotype class"
    cohort_side = (
        "not stated"
        if genotype_counts is None
        else ", ".join(f"{k} ({n})" for k, n in genotype_counts.items())
        or "no subject's class recorded"
    )
    if not genotype_counts or genotype is None:  # no class recorded on one side
        status = "not stated"
    else:
        status = "ok" if genotype_counts.get(genotype, 0) > 0 else "mismatch"
    rows.append(
        ComparabilityRow(
            field="genotype class",
            cohort=cohort_side,
            patient=genotype or "not stated",
            status=status,
            rule=rule,
        )
    )

    year = case.first_dose.year
    rule = f"first-dose year within {ERA_MARGIN_YEARS} years of the era"
    if cohort.era is None:
        rows.append(
            ComparabilityRow(
                field="era of care",
                cohort="not stated",
                patient=f"first dose {year}",
                status="not stated",
                rule=rule,
            )
        )
    else:
        ok = cohort.era.years_from(year) <= ERA_MARGIN_YEARS
        rows.append(
            ComparabilityRow(
                field="era of care",
                cohort=str(cohort.era),
                patient=f"first dose {year}",
                status="ok" if ok else "mismatch",
                rule=rule,
            )
        )

    for endpoint_id in dict.fromkeys([*primary_endpoints, *cohort.assays, *case.assays]):
        theirs, mine = cohort.assays.get(endpoint_id), case.assays.get(endpoint_id)
        if theirs is None or mine is None:
            status = "not stated"
        else:
            status = "ok" if _same_assay(theirs, mine) else "mismatch"
        rows.append(
            ComparabilityRow(
                field=f"assay for {endpoint_id}",
                cohort=theirs or "not stated",
                patient=mine or "not stated",
                status=status,
                rule="the same assay or laboratory",
                endpoint=endpoint_id,
            )
        )

    country = case.diagnosis.country
    if not cohort.countries and not cohort.centres:
        rows.append(
            ComparabilityRow(
                field="countries or centres",
                cohort="not stated",
                patient=country or "",
                status="not stated",
            )
        )
    else:
        if cohort.countries:
            rows.append(
                ComparabilityRow(
                    field="countries",
                    cohort=", ".join(cohort.countries),
                    patient=country or "",
                    status=_country_status(cohort.countries, country),
                    rule="the patient's country among the cohort's (codes compared with codes, names with names)"
                    if country
                    else "",
                )
            )
        if cohort.centres:
            rows.append(
                ComparabilityRow(
                    field="centres", cohort=", ".join(cohort.centres), patient="", status="reported"
                )
            )
    schedule = cohort.visit_schedule
    if schedule is None:
        rows.append(
            ComparabilityRow(
                field="visit schedule", cohort="not stated", patient="", status="not stated"
            )
        )
    else:
        text = schedule.kind.replace("_", " ")
        rows.append(
            ComparabilityRow(
                field="visit schedule",
                cohort=f"{text}: {schedule.description}" if schedule.description else text,
                patient="",
                status="reported",
            )
        )
    return rows


LITERATURE_METHOD = (
    " A literature-only cohort (a published summary, no subjects' data) is not fitted: each endpoint's "
    "published model stands in for the fit. Its primary endpoint is characterized when the publication "
    "reports at least min_subjects subjects, every quantity the endpoint's kind needs (continuous: "
    "reference_age, intercept, slope, sd_intercept, sd_slope, correlation, residual_sd, age_range; count: "
    "rate_per_year, dispersion; time to event: median with median_ci, or survival_at) and, for a "
    "continuous endpoint, SE/|slope| <= max_slope_relative_se (on its lower bound SD_slope / sqrt(n) when "
    "no SE is published); not met when a threshold fails, insufficient naming each quantity not reported."
)


def _literature_status(
    literature: LiteratureSummary, primary: Endpoint, fitted: EndpointFit | None, cohort_id: str
) -> tuple[Status, str]:
    """Criterion 3's status and summary for a literature-only cohort's primary endpoint."""
    where = f"the published summary of cohort {cohort_id!r} ({literature.citation})"
    if fitted is None:
        return (
            Status.insufficient,
            f"Literature-only natural history: {where} gives nothing for the primary endpoint "
            f"{primary.id!r} ({primary.name}).",
        )
    reasons = "; ".join(fitted.reasons)
    if fitted.adequate is True:
        return (
            Status.met,
            f"{primary.name} is characterized by {where}, a literature-only natural history: "
            f"{fitted.n_subjects} subjects, {fitted.estimate_text()}.",
        )
    if fitted.adequate is False:
        return (
            Status.not_met,
            f"{primary.name} is not characterized well enough by {where}, a literature-only natural "
            f"history: {reasons}.",
        )
    return (
        Status.insufficient,
        f"{primary.name}: {where}, a literature-only natural history, could not be judged: {reasons}.",
    )


def evaluate(ctx: AssessmentContext, patient: PatientRecord) -> Verdict:
    """Criterion 3 for one patient: is the natural history of the patient's disease characterized on the primary endpoint?"""
    platform = ctx.dossier.platform
    plan = platform.analysis_plan.natural_history
    primary = platform.primary_endpoint
    name = CRITERION_NAMES[NUMBER]
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
            summary=f"No natural-history cohort: {why}.",
            method=METHOD,
        )

    cohort = tables.cohort
    results = _cohort_results(ctx, cohort.id)
    flags: list[Flag] = []

    def flag(kind: str, severity: FlagSeverity, message: str, endpoint: str | None = None) -> None:
        flags.append(
            Flag(kind=kind, severity=severity, message=message, criterion=NUMBER, endpoint=endpoint)
        )

    if cohort.provenance.collection == "synthetic":
        flag(
            flag_kinds.SYNTHETIC_DATA,
            FlagSeverity.info,
            f"natural-history cohort {cohort.id!r} is synthetic (invented data)",
        )
    literature = tables.literature
    if literature is not None:
        flag(
            flag_kinds.LITERATURE_ONLY,
            FlagSeverity.caveat,
            f"the natural history is literature-only: cohort {cohort.id!r} is a published summary "
            f"({literature.citation}), not subjects' data; its model cannot be checked or refitted",
        )
        primary_lit = results.fits.get(primary.id)
        for note in getattr(primary_lit, "notes", ())[1:]:  # the first says it was not fitted
            flag(
                flag_kinds.LITERATURE_ONLY,
                FlagSeverity.caveat,
                f"primary endpoint {primary.id!r}, published summary: {note}",
                primary.id,
            )

    # every endpoint with a fit; supportive ones are reported only
    fitted = [results.summaries[e.id] for e in platform.endpoints if e.id in results.summaries]
    fitted.sort(key=lambda e: e.endpoint != primary.id)  # the primary endpoint first
    for endpoint_id, message in results.errors.items():
        if endpoint_id != primary.id:
            flag(
                "fit_failed",
                FlagSeverity.warning,
                f"supportive endpoint {endpoint_id!r} could not be fitted: {message}",
                endpoint_id,
            )

    # the patient against the external control: ages, genotype class, era of care, assays
    diagnosis = patient.case.diagnosis
    age_range: Interval | None = None
    inside: bool | None = None
    if primary.id in results.age_ranges:
        lo, hi = results.age_ranges[primary.id]
        inside = lo <= diagnosis.age_at_first_dose_years <= hi
        age_range = Interval.of(lo, hi, "years")
    if literature is None:
        counts = _genotype_counts(tables.subjects)
    else:  # the publication's counts by genotype class, when it reports them
        counts = dict(sorted(literature.genotype_classes.items())) or None
    same = (
        None
        if counts is None or diagnosis.genotype_class is None
        else counts.get(diagnosis.genotype_class, 0)
    )
    comparability = comparability_rows(
        cohort,
        patient.case,
        primary_endpoints=[e.id for e in platform.primary_endpoints],
        age_range=results.age_ranges.get(primary.id),
        primary_endpoint=primary.id,
        genotype_counts=counts,
    )
    for row in comparability:
        if row.status == "mismatch":
            flag(
                flag_kinds.EXTERNAL_CONTROL_MISMATCH,
                FlagSeverity.caveat,
                _mismatch_message(row),
                row.endpoint,
            )
        elif row.status == "not stated":
            flag(
                flag_kinds.EXTERNAL_CONTROL_NOT_STATED,
                FlagSeverity.info,
                f"external control, {row.field}: not stated (cohort: {row.cohort}; "
                f"patient: {row.patient or 'not applicable'})",
                row.endpoint,
            )

    # the primary endpoint decides
    fit = results.fits.get(primary.id)
    primary_fit = results.summaries.get(primary.id)
    if literature is not None:
        status, summary = _literature_status(literature, primary, primary_fit, cohort.id)
    elif fit is not None:
        ch = _characterize(fit, plan)
        described = _describe(fit, primary)
        if isinstance(fit, GrowthCurve) and fit.fallbacks:
            flag(
                flag_kinds.FALLBACK_MODEL,
                FlagSeverity.caveat,
                f"primary endpoint {primary.id!r}: {'; then '.join(fit.fallbacks)}",
                primary.id,
            )
        if isinstance(fit, RateFit) and fit.model == "poisson":
            flag(
                flag_kinds.FALLBACK_MODEL,
                FlagSeverity.caveat,
                f"primary endpoint {primary.id!r}: Poisson rate model ({'; '.join(fit.notes)})",
                primary.id,
            )
        if ch.adequate is True:
            status, summary = (
                Status.met,
                f"{primary.name} is characterized by cohort {cohort.id!r}: {described}.",
            )
        elif ch.adequate is False:
            status = Status.not_met
            summary = f"{primary.name} is not characterized well enough by cohort {cohort.id!r}: {'; '.join(_reasons(ch))} ({described})."
        else:
            status = Status.insufficient
            summary = f"{primary.name}: cohort {cohort.id!r} could not be judged: {'; '.join(_reasons(ch))}."
    elif primary.id in results.errors:
        shortfall = results.shortfalls[primary.id]
        if shortfall:
            status = Status.not_met
            summary = f"{primary.name} is not characterized by cohort {cohort.id!r}: {'; '.join(shortfall)}; the model could not be fitted."
        else:
            status = Status.insufficient
            summary = f"{primary.name}: the natural-history model could not be fitted to cohort {cohort.id!r}: {results.errors[primary.id]}"
    else:
        status = Status.insufficient
        summary = f"Cohort {cohort.id!r} has no data for the primary endpoint {primary.id!r} ({primary.name})."

    mismatched = [r for r in comparability if r.status == "mismatch"]
    if mismatched:
        summary += (
            f" The external control differs from the patient in {', '.join(r.field for r in mismatched)}: "
            "caveats, not a change of status (the analysis plan declares no comparability rule)."
        )
    kinds = {e.kind for e in platform.endpoints if e.id in results.fits}
    assumptions = _assumptions(
        kinds,
        cohort.provenance.collection,
        None if cohort.visit_schedule is None else cohort.visit_schedule.kind,
    )
    if literature is not None:
        assumptions = [*LITERATURE_ASSUMPTIONS, *assumptions[2:]]
        assumptions = [a for a in assumptions if not a.startswith("Time-to-event follow-up")]
        assumptions += [
            f"{e.id}: {results.fits[e.id].assumption}"  # type: ignore[union-attr]
            for e in platform.endpoints
            if e.kind == EndpointKind.time_to_event and e.id in results.fits
        ]
    return Verdict(
        number=NUMBER,
        name=name,
        status=status,
        summary=summary,
        method=METHOD + (LITERATURE_METHOD if literature is not None else ""),
        assumptions=assumptions,
        evidence=ctx.evidence(COHORT_FILE, *tables.files),
        flags=flags,
        figures=_figures(results, platform.endpoints, patient),
        result=NaturalHistoryResult(
            cohort=cohort.id,
            cohort_source=cohort.provenance.source,
            cohort_collection=cohort.provenance.collection,
            cohort_citation=cohort.provenance.citation
            if literature is None
            else cohort.provenance.citation or literature.citation,
            n_subjects=len(tables.subjects)
            if literature is None
            else (literature.subjects_for(primary.id) or 0),
            literature_only=literature is not None,
            primary_endpoint=primary.id,
            model=None if primary_fit is None else primary_fit.model,
            adequate=None if primary_fit is None else primary_fit.adequate,
            checks=[] if primary_fit is None else primary_fit.checks,
            reasons=[] if primary_fit is None else primary_fit.reasons,
            age_at_first_dose=Quantity.of(diagnosis.age_at_first_dose_years, "years"),
            cohort_age_range=age_range,
            age_within_cohort_range=inside,
            cohort_subjects_same_genotype_class=same,
            genotype_class=diagnosis.genotype_class,
            endpoints=fitted,
            failed_fits=dict(results.errors),
            comparability=comparability,
        ),
    )
