"""Criterion 3 end to end on small synthetic dossiers written to tmp_path (by the dossier writer, see
conftest.py) and read by the real loader."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pmpath.dossier import load_dossier
from pmpath.dossier.model import Case, Cohort
from pmpath.dossier.write import CohortSpec
from pmpath.natural_history import GrowthCurve, RateFit, SurvivalFit
from pmpath.pathway.context import AssessmentContext
from pmpath.pathway.criteria.characterization import cohort_fit_errors, cohort_fits, evaluate
from pmpath.pathway.verdict import Status

ENDPOINTS = [
    {
        "id": "score",
        "name": "Motor score",
        "kind": "continuous",
        "unit": "{score}",
        "direction": "lower_is_better",
        "role": "primary",
    },
    {
        "id": "crises",
        "name": "Metabolic crises",
        "kind": "count",
        "unit": "{crises}",
        "direction": "lower_is_better",
    },
    {
        "id": "death",
        "name": "Death",
        "kind": "time_to_event",
        "unit": "a",
        "direction": "higher_is_better",
    },
]


def write_dossier(
    small_dossier,
    root: Path,
    *,
    n_subjects: int = 40,
    slope: float = 1.5,
    continuous: bool = True,
    primary_scale: str = "identity",
    first_value: float | None = None,
    age_at_first_dose: float = 6.0,
    genotype_class: str | None = None,
    plan: dict | None = None,
    cohort_fields: dict | None = None,
    case_fields: dict | None = None,
    first_dose: str = "2025-01-15",
) -> Path:
    """A platform with one disease whose cohort has score (continuous), crises (count) and death (time-to-event) data.

    ``cohort_fields`` and ``case_fields`` are added to the cohort's and the case's declarations
    (e.g. the comparability fields ``era`` and ``assays``).
    """
    rng = np.random.default_rng(42)
    endpoints = [dict(e) for e in ENDPOINTS]
    endpoints[0]["scale"] = primary_scale
    natural_history = plan or {
        "min_subjects": 20,
        "min_person_years": 40,
        "max_slope_relative_se": 0.5,
        "min_events": 10,
    }
    platform = small_dossier.platform(
        endpoints,
        data_cutoff="2025-06-30",
        analysis_plan={"fixed_on": "2024-01-01", "natural_history": natural_history},
    )

    subjects = [f"S{i:03d}" for i in range(n_subjects)]
    data = []
    if continuous:
        rows = []
        for s in subjects:
            start = rng.uniform(2, 6)
            b0, b1 = rng.normal(20, 4), slope + rng.normal(0, 0.6)
            for age in start + np.arange(6.0):
                rows.append(
                    (s, round(age, 3), "score", round(b0 + b1 * (age - 5) + rng.normal(0, 1.0), 3))
                )
        long = pd.DataFrame(rows, columns=["subject", "age", "endpoint", "value"])
        if first_value is not None:
            long.loc[0, "value"] = first_value
        data.append(("longitudinal", "scores.csv", long))
    exposure = rng.uniform(1, 4, n_subjects)
    events = pd.DataFrame(
        {
            "subject": subjects,
            "age_start": 1.0,
            "age_end": 1.0 + exposure.round(3),
            "endpoint": "crises",
            "count": rng.poisson(2.0 * exposure),
        }
    )
    data.append(("events", "crises.csv", events))
    death = pd.DataFrame(
        {
            "subject": subjects,
            "age": rng.uniform(2, 15, n_subjects).round(2),
            "event": rng.integers(0, 2, n_subjects),
            "endpoint": "death",
        }
    )
    data.append(("time_to_event", "death.csv", death))
    cohort = small_dossier.cohort(
        platform,
        pd.DataFrame({"subject": subjects, "genotype_class": ["null/null"] * n_subjects}),
        data,
        provenance={
            "source": "Invented registry",
            "citation": "Doe et al. 2020",
            "collection": "synthetic",
        },
    )
    case = small_dossier.case(
        first_dose=first_dose,
        age_at_first_dose=age_at_first_dose,
        genotype_class=genotype_class,
    )
    if cohort_fields:
        cohort = CohortSpec(
            Cohort.model_validate(
                {**cohort.cohort.model_dump(mode="json", exclude_unset=True), **cohort_fields}
            ),
            cohort.subjects,
            cohort.data,
        )
    if case_fields:
        case = Case.model_validate(
            {**case.model_dump(mode="json", exclude_unset=True), **case_fields}
        )
    return small_dossier.write(root, platform, cohort, case)


def assess(root: Path):
    dossier = load_dossier(root)
    ctx = AssessmentContext(dossier)
    return ctx, evaluate(ctx, dossier.patients[0])


@pytest.fixture(scope="module")
def default_assessment(tmp_path_factory, small_dossier):
    return assess(write_dossier(small_dossier, tmp_path_factory.mktemp("dossier")))


def test_well_characterized_cohort_is_met(default_assessment):
    _, verdict = default_assessment
    assert verdict.status == Status.met
    assert verdict.number == 3 and verdict.name == "Well-characterized natural history"
    result = verdict.result
    primary, *supportive = result.endpoints
    assert primary.endpoint == "score" and primary.role == "primary"
    assert primary.kind == "continuous" and primary.n_subjects == 40
    assert primary.slope_interval.low < 1.5 < primary.slope_interval.high  # the simulated truth
    assert primary.slope_interval.level == 0.95
    assert primary.adequate is True and result.adequate is True
    assert {c.name for c in result.checks} == {"subjects", "person_years", "slope_relative_se"}
    # supportive endpoints are reported, not decisive
    assert {e.endpoint: (e.kind, e.role) for e in supportive} == {
        "crises": ("count", "supportive"),
        "death": ("time_to_event", "supportive"),
    }
    death = next(e for e in supportive if e.endpoint == "death")
    # the Weibull fit is reported beside Kaplan-Meier, with its own median
    assert death.weibull_shape is not None and death.weibull_shape > 0
    assert death.weibull_median_age is not None and "Weibull median" in death.estimate_text()
    assert "Weibull" in death.model
    assert result.cohort_source == "Invented registry"
    assert result.cohort_collection == "synthetic"
    assert any("synthetic" in f.message for f in verdict.flags)
    assert {e.path for e in verdict.evidence} == {
        "natural_history/cohort.yaml",
        "natural_history/subjects.csv",
        "natural_history/scores.csv",
        "natural_history/crises.csv",
        "natural_history/death.csv",
    }
    curve, survival, rates = verdict.figures
    assert (curve.kind, survival.kind, rates.kind) == (
        "natural_history_curve",
        "survival_curve",
        "cohort_rates",
    )
    assert len(curve.age) == 240
    assert all(
        lo <= m <= hi
        for lo, m, hi in zip(curve.grid_lower, curve.grid_mean, curve.grid_upper, strict=True)
    )
    # the Weibull fit is drawn beside the Kaplan-Meier steps: S(t) = exp(-(t / scale) ** shape)
    assert survival.weibull_age and len(survival.weibull_age) == len(survival.weibull_survival)
    scale, shape = death.weibull_scale.value, death.weibull_shape
    expected = [float(np.exp(-((a / scale) ** shape))) for a in survival.weibull_age]
    assert survival.weibull_survival == pytest.approx(expected, rel=1e-9)
    from pmpath.report.plots import survival_chart

    chart = survival_chart(survival)
    assert any(getattr(layer, "name", "") == "Weibull fit" for layer in chart.layers)
    assert b"Weibull fit" in chart.svg()
    (crises,) = rates.rates
    assert crises.endpoint == "crises" and len(crises.subject_rates) == 40
    json.dumps(verdict.model_dump(mode="json"), allow_nan=False)  # the result is plain JSON
    assert "figures" not in verdict.model_dump(mode="json")


def test_cohort_fits_are_cached_per_cohort(default_assessment):
    ctx, _ = default_assessment
    fits = cohort_fits(ctx, "nh")
    assert cohort_fits(ctx, "nh") is fits
    assert isinstance(fits["score"], GrowthCurve)
    assert isinstance(fits["crises"], RateFit)
    assert isinstance(fits["death"], SurvivalFit)
    assert cohort_fit_errors(ctx, "nh") == {}
    with pytest.raises(KeyError, match=r"not in natural_history/cohort\.yaml"):
        cohort_fits(ctx, "elsewhere")


def test_too_few_subjects_is_not_met(tmp_path, small_dossier):
    _, verdict = assess(write_dossier(small_dossier, tmp_path, n_subjects=8))
    assert verdict.status == Status.not_met
    assert "subjects 8 (required >= 20)" in verdict.summary
    assert "fails analysis_plan.natural_history.min_subjects" in verdict.summary


def test_flat_natural_history_is_not_met_on_precision(tmp_path, small_dossier):
    _, verdict = assess(write_dossier(small_dossier, tmp_path, slope=0.0))
    assert verdict.status == Status.not_met
    failed = [c.name for c in verdict.result.checks if c.passed is False]
    assert failed == ["slope_relative_se"]


def test_no_data_for_the_primary_endpoint_is_insufficient(tmp_path, small_dossier):
    _, verdict = assess(write_dossier(small_dossier, tmp_path, continuous=False))
    assert verdict.status == Status.insufficient
    assert "no data for the primary endpoint 'score'" in verdict.summary
    assert [e.endpoint for e in verdict.result.endpoints] == ["crises", "death"]  # still reported


def test_primary_fit_failing_on_adequate_data_is_insufficient(tmp_path, small_dossier):
    # log scale with a value of 0: the model cannot run, although the cohort is large enough
    ctx, verdict = assess(
        write_dossier(small_dossier, tmp_path, primary_scale="log", first_value=0.0)
    )
    assert verdict.status == Status.insufficient
    assert "values > 0" in verdict.summary
    assert "score" in verdict.result.failed_fits
    assert "score" not in cohort_fits(ctx, "nh")


def test_patient_outside_the_cohort_is_flagged(tmp_path, small_dossier):
    _, verdict = assess(
        write_dossier(
            small_dossier, tmp_path, age_at_first_dose=30.0, genotype_class="null/missense"
        )
    )
    assert verdict.result.criterion == 3 and verdict.result.age_within_cohort_range is False
    assert verdict.result.cohort_subjects_same_genotype_class == 0
    assert verdict.result.age_at_first_dose.unit == "years"
    mismatches = [f for f in verdict.flags if f.kind == "external_control_mismatch"]
    assert [f.is_caveat for f in mismatches] == [True, True]
    assert "outside the ages the cohort observed 'score' at" in mismatches[0].message
    assert "genotype class 'null/missense'" in mismatches[1].message


def test_primary_fit_failing_on_too_few_subjects_is_not_met(tmp_path, small_dossier):
    # one subject: the mixed model cannot run, and the data alone already fall short of the plan
    _, verdict = assess(write_dossier(small_dossier, tmp_path, n_subjects=1))
    assert verdict.status == Status.not_met
    assert "subjects 1 (required >= 20)" in verdict.summary
    assert "score" in verdict.result.failed_fits


def test_large_cohort_plots_a_seeded_sample_of_subjects_beside_quantiles_of_all(
    tmp_path, small_dossier
):
    """A cohort larger than a chart can show: 200 whole subjects at random (the same on every run),
    the model and the observed quantiles from every subject, and captions that say so."""
    _, verdict = assess(write_dossier(small_dossier, tmp_path / "a", n_subjects=600))
    assert verdict.result.endpoints[0].n_subjects == 600  # the fit uses every subject
    score, _, rates = verdict.figures
    assert (score.n_subjects, score.n_subjects_shown) == (600, 200)
    assert len(set(score.subject)) == 200 and len(score.subject) == 200 * 6  # whole subjects
    assert score.subject == sorted(score.subject)
    assert sum(score.quantiles.n_observations) == 600 * 6
    (crises,) = rates.rates
    assert (crises.n_subjects, crises.n_subjects_shown) == (600, 200)
    assert len(crises.subject_rates) == 200
    _, again = assess(write_dossier(small_dossier, tmp_path / "b", n_subjects=600))
    assert (again.figures[0].subject, again.figures[0].age) == (score.subject, score.age)

    charts = _cohort_charts(verdict)
    assert charts["natural-history-score"].caption == (
        "200 of 600 subjects' trajectories shown, sampled at random; bands from all subjects."
    )
    assert "200 of 600 subjects' own rates shown" in charts["natural-history-rates"].caption
    layers = {layer.name for layer in charts["natural-history-score"].layers}
    assert "200 of 600 cohort subjects (random sample)" in layers
    assert "observed 2.5%-97.5% (all 600 subjects)" in layers


def _cohort_charts(verdict):
    """The cohort's charts of a verdict by name (a chart with the patient over it: its cohort part)."""
    from pmpath.report.plots import OverlaidChart, criterion_graphics

    items = criterion_graphics(verdict).items
    return {c.name: c for c in (i.cohort if isinstance(i, OverlaidChart) else i for i in items)}


def test_patient_is_drawn_over_the_cohort(tmp_path, minimal_spec):
    """The natural-history curve carries the patient's own measurements at their ages; the cohort part is shared."""
    from pmpath.dossier.write import write_dossier as write_spec

    write_spec(minimal_spec, tmp_path)
    dossier = load_dossier(tmp_path)
    ctx = AssessmentContext(dossier)
    patient = dossier.patients[0]
    curve = evaluate(ctx, patient).figures[0]
    # study days -300, -150, -1, 60, 120, 240 are days -300, -150, -1, 59, 119, 239 from first dose
    days = np.array([-300, -150, -1, 59, 119, 239])
    assert curve.patient is not None and curve.patient.patient == patient.id
    assert curve.patient.age_at_first_dose == 6.0
    assert curve.patient.age == pytest.approx(list(6.0 + days / 365.25))
    assert curve.patient.value == [42.1, 41.0, 40.3, 44.8, 45.9, 46.2]
    again = evaluate(ctx, patient).figures[0]
    assert again.age is curve.age  # the cohort's lists are shared, not copied per patient


def test_small_cohort_plots_every_subject(default_assessment):
    _, verdict = default_assessment
    score = verdict.figures[0]
    assert (score.n_subjects, score.n_subjects_shown) == (40, 40)
    charts = _cohort_charts(verdict)
    assert charts["natural-history-score"].caption == ""


def test_long_kaplan_meier_curve_is_read_at_a_thousand_ages():
    from lifelines import KaplanMeierFitter

    from pmpath.natural_history import fit_survival
    from pmpath.pathway.criteria.characterization import MAX_KM_POINTS, _thinned_km

    rng = np.random.default_rng(5)
    table = pd.DataFrame(
        {
            "subject": np.arange(5000),
            "age": rng.exponential(8.0, 5000).round(4),
            "event": rng.integers(0, 2, 5000),
        }
    )
    fit = fit_survival(table, "death")
    assert len(fit.timeline) > MAX_KM_POINTS
    km = _thinned_km(fit)
    assert len(km["age"]) == MAX_KM_POINTS
    reference = KaplanMeierFitter().fit(table["age"], table["event"])
    expected = reference.survival_function_at_times(km["age"]).to_numpy()
    np.testing.assert_allclose(km["survival"], expected, rtol=1e-12)
