"""Literature-only natural history: a published summary in place of subjects' data (issue 8).

Known answers: a summary written from the fit of a simulated cohort must give criterion 5 what the
cohort itself gives (exactly with the published SEs, closely with the SEs approximated); the
survival comparators are checked against their closed forms; criterion 3's rules are checked on
each quantity left out; the schema's and the loader's errors name the field.
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from typer.testing import CliRunner

from pmpath.cli import app
from pmpath.dossier import load_dossier
from pmpath.dossier.model import Cohort, CohortFile, Endpoint, LiteratureSummary
from pmpath.dossier.write import CohortSpec, DossierSpec, write_dossier
from pmpath.errors import DossierError
from pmpath.natural_history import (
    GrowthCurve,
    fit_event_rate,
    fit_longitudinal,
    fit_survival,
    growth_from_summary,
    rate_from_summary,
    survival_from_summary,
)
from pmpath.outcomes.event_decision import judge_time_to_event
from pmpath.pathway import assess_dossier, flags
from pmpath.pathway.context import AssessmentContext
from pmpath.pathway.criteria import characterization, improvement
from pmpath.pathway.criteria.literature import literature_figure
from pmpath.pathway.figures import NaturalHistoryCurve, SurvivalCurve
from pmpath.pathway.verdict import Status
from pmpath.report.plots import natural_history_chart, survival_chart

CITATION = "Simulated A et al. J Invented Dis 2025;1:1-10, table 2"
CONTINUOUS_REQUIRED = (
    "reference_age",
    "intercept",
    "slope",
    "sd_intercept",
    "sd_slope",
    "correlation",
    "residual_sd",
    "age_range",
)


# --------------------------------------------------------------------------- helpers


def growth_summary(g: GrowthCurve, *, with_se: bool = True) -> dict[str, Any]:
    """A fitted growth curve written as a publication would report it."""
    sd0, sd1 = g.random_effects_sd
    out: dict[str, Any] = {
        "kind": "continuous",
        "unit": "{score}",
        "reference_age": g.age_center,
        "intercept": g.intercept,
        "slope": g.slope,
        "sd_intercept": sd0,
        "sd_slope": sd1,
        "correlation": 0.0 if sd1 == 0 else g.random_effects_correlation,
        "residual_sd": g.residual_sd,
        "age_range": list(g.age_range),
    }
    if with_se:
        out |= {
            "intercept_se": g.intercept_se,
            "slope_se": g.slope_se,
            "slope_intercept_cov": float(g.fixed_effects_cov[0, 1]),
        }
    return out


def literature_cohort(old: Cohort, literature: dict[str, Any]) -> Cohort:
    keep = old.model_dump(exclude={"subjects", "data", "provenance"}, exclude_defaults=True)
    return Cohort.model_validate(
        {
            **keep,
            "provenance": {"source": "a publication", "collection": "published_aggregate"},
            "literature": literature,
        }
    )


def with_literature(spec: DossierSpec, root: Path, literature: dict[str, Any]) -> Path:
    """``spec`` with its one cohort replaced by ``literature``, written at ``root``."""
    cohort = literature_cohort(spec.cohorts[0].cohort, literature)
    write_dossier(dataclasses.replace(spec, cohorts=[CohortSpec(cohort, pd.DataFrame())]), root)
    return root


def verdict(root: Path, number: int):
    dossier = load_dossier(root)
    module = {3: characterization, 5: improvement}[number]
    return module.evaluate(AssessmentContext(dossier), dossier.patients[0])


@pytest.fixture
def cohort_fits(minimal_spec, tmp_path):
    """The minimal dossier written as is, and the fits of its cohort (score and crises)."""
    root = tmp_path / "patient-level"
    write_dossier(minimal_spec, root)
    tables = load_dossier(root).cohorts["nh"]
    return (
        root,
        fit_longitudinal(tables.longitudinal, "score"),
        fit_event_rate(tables.events, "crises"),
    )


def full_literature(g: GrowthCurve, r, *, with_se: bool = True, n: int | None = None) -> dict:
    return {
        "citation": CITATION,
        "n_subjects": g.n_subjects if n is None else n,
        "endpoints": {
            "score": growth_summary(g, with_se=with_se),
            "crises": {
                "kind": "count",
                "unit": "{crises}",
                "rate_per_year": r.rate_per_year,
                "dispersion": r.dispersion,
                "person_years": r.person_years,
            },
        },
    }


# --------------------------------------------------------------------------- builders


def test_growth_from_summary_is_the_fitted_curve_when_everything_is_published(cohort_fits):
    _, g, _ = cohort_fits
    s = growth_summary(g)
    built = growth_from_summary(
        "score",
        **{k: v for k, v in s.items() if k not in ("kind", "unit")},
        n_subjects=g.n_subjects,
    )
    np.testing.assert_allclose(built.fixed_effects, g.fixed_effects, rtol=1e-12)
    np.testing.assert_allclose(built.fixed_effects_cov, g.fixed_effects_cov, rtol=1e-12)
    np.testing.assert_allclose(
        built.random_effects_cov, g.random_effects_cov, rtol=1e-9, atol=1e-12
    )
    assert built.residual_variance == pytest.approx(g.residual_variance, rel=1e-12)
    ages = np.linspace(*g.age_range, 7)
    np.testing.assert_allclose(built.band(ages).upper, g.band(ages).upper, rtol=1e-9)


def test_missing_standard_errors_are_g_over_n() -> None:
    curve = growth_from_summary(
        "x", reference_age=4, intercept=10, slope=-1, sd_intercept=3, sd_slope=0.5,
        correlation=-0.4, residual_sd=1, n_subjects=36, age_range=(1, 9),
    )  # fmt: skip
    # closed form: G / n
    assert curve.intercept_se == pytest.approx(3 / 6)
    assert curve.slope_se == pytest.approx(0.5 / 6)
    assert curve.fixed_effects_cov[0, 1] == pytest.approx(-0.4 * 3 * 0.5 / 36)
    assert any("lower bound" in n for n in curve.notes)


def test_rate_from_summary_interval_closed_form() -> None:
    fit = rate_from_summary("c", rate_per_year=3.0, dispersion=0.2, n_subjects=25, person_years=100)
    mu = 3.0 * 100 / 25
    se = math.sqrt((1 / mu + 0.2) / 25)
    assert fit.log_rate_se == pytest.approx(se)
    assert fit.rate_ci == pytest.approx(
        (3 * math.exp(-1.959964 * se), 3 * math.exp(1.959964 * se)), rel=1e-6
    )
    published = rate_from_summary(
        "c", rate_per_year=3.0, dispersion=0.0, n_subjects=25, rate_ci=(2, 4.5)
    )
    assert published.model == "poisson" and published.log_rate_se == pytest.approx(
        (math.log(4.5) - math.log(2)) / (2 * 1.959964), rel=1e-6
    )


@given(
    median=st.floats(0.5, 30),
    shape=st.one_of(st.none(), st.floats(0.3, 5)),
    t=st.floats(0, 1),
)
@settings(max_examples=60, deadline=None)
def test_median_curves_match_their_closed_form(median, shape, t) -> None:
    s = survival_from_summary("e", n_subjects=10, median=median, weibull_shape=shape)
    age = t * s.timeline[-1]
    rho = 1.0 if shape is None else shape
    lam = median / math.log(2) ** (1 / rho)
    # the step function on the grid: exact at grid ages, and within one step between them
    i = np.searchsorted(s.timeline, age, side="right") - 1
    assert s.survival[i] == pytest.approx(math.exp(-((s.timeline[i] / lam) ** rho)), rel=1e-9)
    # one grid step (4 medians / 1000) from the median moves S by at most rho log(2) / 2 x 0.004
    assert float(s.survival_at(median)[0]) == pytest.approx(0.5, abs=0.0015 * rho)


def test_survival_points_interpolate_with_constant_hazard() -> None:
    s = survival_from_summary(
        "e", n_subjects=40, survival_at=[(2.0, 0.8, None), (6.0, 0.2, (0.1, 0.3))]
    )

    # between 2 and 6 the hazard is log(0.8 / 0.2) / 4: S(4) = 0.8 * (0.2 / 0.8) ** 0.5 = 0.4
    def exact(a: float) -> float:
        return 0.8 ** (a / 2) if a <= 2 else 0.8 * 0.25 ** ((a - 2) / 4)

    assert exact(4.0) == pytest.approx(0.4)
    np.testing.assert_allclose(s.survival, [exact(a) for a in s.timeline], rtol=1e-12)
    assert float(s.survival_at(2.0)[0]) == 0.8 and float(s.survival_at(4.0)[0]) == pytest.approx(
        0.4, rel=2e-3
    )
    assert s.timeline[-1] == 6.0 and s.points[0] == (0.0, 1.0, None, None)
    # criterion 5's judgement reads it like any curve: P(event-free to 6 | event-free at 2) = 0.25
    j = judge_time_to_event(s.timeline, s.survival, 2.0, 6.0, 0.3)
    assert j.probability == pytest.approx(0.25, rel=1e-9) and j.decision == Status.met
    assert "constant hazard" in s.assumption


# --------------------------------------------------------------------------- criterion 5


def test_literature_cohort_with_published_ses_gives_the_patient_level_result(
    cohort_fits, minimal_spec, tmp_path
):
    root, g, r = cohort_fits
    lit = with_literature(minimal_spec, tmp_path / "lit", full_literature(g, r))
    mine, theirs = verdict(lit, 5), verdict(root, 5)
    assert mine.status == theirs.status == Status.met
    assert mine.result.effect == pytest.approx(theirs.result.effect, rel=1e-6)
    assert mine.result.ci_low == pytest.approx(theirs.result.ci_low, rel=1e-6)
    assert mine.result.ci_high == pytest.approx(theirs.result.ci_high, rel=1e-6)
    kinds = [f.kind for f in mine.flags if f.is_caveat]
    assert flags.LITERATURE_ONLY in kinds


def test_literature_cohort_without_ses_is_close_to_the_patient_level_result(
    cohort_fits, minimal_spec, tmp_path
):
    root, g, r = cohort_fits
    lit = with_literature(minimal_spec, tmp_path / "lit", full_literature(g, r, with_se=False))
    mine, theirs = verdict(lit, 5), verdict(root, 5)
    assert mine.status == theirs.status
    assert mine.result.effect == pytest.approx(theirs.result.effect, rel=0.02)
    width = theirs.result.ci_high - theirs.result.ci_low
    assert mine.result.ci_high - mine.result.ci_low == pytest.approx(width, rel=0.1)
    assert any("SD / sqrt(n)" in a for a in mine.assumptions)


def write_survival(small_dossier, root: Path, literature: dict | None, *, cutoff: str) -> Path:
    """Loss of walking, exponential from age 3 with hazard 0.5 a year (as test_criterion5's)."""
    rng = np.random.default_rng(11)
    endpoints = [
        {"id": "walking", "name": "Loss of independent walking", "kind": "time_to_event",
         "unit": "a", "direction": "higher_is_better", "role": "primary"}
    ]  # fmt: skip
    platform = small_dossier.platform(endpoints, data_cutoff=cutoff)
    subjects = [f"S{i:03d}" for i in range(300)]
    ages = 3 + rng.exponential(2.0, len(subjects))
    censor = rng.uniform(8, 20, len(subjects))
    frame = pd.DataFrame(
        {
            "subject": subjects,
            "age": np.round(np.minimum(ages, censor), 3),
            "event": (ages <= censor).astype(int),
            "endpoint": "walking",
        }
    )
    cohort = small_dossier.cohort(
        platform,
        pd.DataFrame({"subject": subjects}),
        [("time_to_event", "walking.csv", frame)],
        provenance={"source": "simulation", "collection": "synthetic"},
    )
    if literature is not None:
        cohort = CohortSpec(literature_cohort(cohort.cohort, literature(frame)), pd.DataFrame())
    case = small_dossier.case(first_dose="2025-01-10", age_at_first_dose=5.0)
    return small_dossier.write(root, platform, cohort, case)


def km_points(frame: pd.DataFrame) -> dict:
    km = fit_survival(frame, "walking")
    ages = [3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 12.0, 14.0]
    points = [{"age": a, "survival": float(km.survival_at(a)[0])} for a in ages]
    return {
        "citation": CITATION,
        "n_subjects": len(frame),
        "endpoints": {"walking": {"kind": "time_to_event", "survival_at": points}},
    }


@pytest.mark.parametrize("cutoff", ["2026-01-10", "2028-01-10", "2033-01-10"])
def test_survival_at_stated_ages_gives_the_kaplan_meier_probability(
    small_dossier, tmp_path, cutoff
):
    theirs = verdict(write_survival(small_dossier, tmp_path / "km", None, cutoff=cutoff), 5)
    mine = verdict(write_survival(small_dossier, tmp_path / "lit", km_points, cutoff=cutoff), 5)
    assert mine.status == theirs.status, (mine.summary, theirs.summary)
    p, q = mine.result.primary.probability, theirs.result.primary.probability
    assert p == pytest.approx(q, abs=0.03)
    assert "constant hazard" in mine.result.primary.reason


def test_median_alone_assumes_an_exponential_curve_and_says_so(small_dossier, tmp_path):
    def median_only(frame):
        return {
            "citation": CITATION,
            "n_subjects": len(frame),
            "endpoints": {
                "walking": {"kind": "time_to_event", "median": 4.4, "median_ci": [4.2, 4.6]}
            },
        }

    v5 = verdict(write_survival(small_dossier, tmp_path, median_only, cutoff="2027-01-10"), 5)
    # exponential from birth through the median: P(event-free 5 -> 7) = 2 ** (-2 / 4.4)
    assert v5.result.primary.probability == pytest.approx(2 ** (-2 / 4.4), abs=2e-3)
    assert "exponential" in v5.result.primary.reason
    v3 = verdict(tmp_path, 3)
    assert v3.status == Status.met and v3.result.literature_only
    assert any("exponential" in a for a in v3.assumptions)


# --------------------------------------------------------------------------- criterion 3


def test_criterion3_met_on_a_complete_summary(cohort_fits, minimal_spec, tmp_path):
    _, g, r = cohort_fits
    v = verdict(with_literature(minimal_spec, tmp_path / "lit", full_literature(g, r)), 3)
    assert v.status == Status.met, v.summary
    assert "literature-only" in v.summary and v.result.literature_only is True
    assert v.result.cohort_citation == CITATION and v.result.n_subjects == 30
    assert [f for f in v.flags if f.kind == flags.LITERATURE_ONLY and f.is_caveat]
    assert any("published" in a for a in v.assumptions)


@pytest.mark.parametrize("missing", [*CONTINUOUS_REQUIRED, "n_subjects"])
def test_criterion3_insufficient_names_each_missing_quantity(
    cohort_fits, minimal_spec, tmp_path, missing
):
    _, g, r = cohort_fits
    lit = full_literature(g, r)
    if missing == "n_subjects":
        del lit["n_subjects"]
    else:
        del lit["endpoints"]["score"][missing]
    v = verdict(with_literature(minimal_spec, tmp_path / "lit", lit), 3)
    assert v.status == Status.insufficient
    assert missing in v.summary and "literature-only" in v.summary
    # criterion 5 has no model to compare with either, and says why
    v5 = verdict(tmp_path / "lit", 5)
    assert v5.status == Status.insufficient and missing in v5.summary


@pytest.mark.parametrize(
    ("endpoint", "named"),
    [
        ({"kind": "count", "unit": "{crises}", "dispersion": 0.1}, "rate_per_year"),
        ({"kind": "count", "unit": "{crises}", "rate_per_year": 1.0}, "dispersion"),
        ({"kind": "time_to_event"}, "median (or survival_at)"),
        ({"kind": "time_to_event", "median": 5.0}, "median_ci"),
    ],
)
def test_missing_quantities_of_other_kinds(endpoint, named) -> None:
    lit = LiteratureSummary.model_validate(
        {"citation": CITATION, "n_subjects": 30, "endpoints": {"e": endpoint}}
    )
    assert any(named in m for m in lit.missing("e"))


def test_too_few_subjects_is_not_met_naming_the_plan_threshold(cohort_fits, minimal_spec, tmp_path):
    _, g, r = cohort_fits
    v = verdict(with_literature(minimal_spec, tmp_path / "lit", full_literature(g, r, n=12)), 3)
    assert v.status == Status.not_met
    assert "analysis_plan.natural_history.min_subjects" in v.summary


def test_imprecise_slope_is_not_met_even_on_its_lower_bound(cohort_fits, minimal_spec, tmp_path):
    _, g, r = cohort_fits
    lit = full_literature(g, r, with_se=False)
    lit["endpoints"]["score"] |= {"slope": -0.05, "sd_slope": 0.8}  # SE >= 0.8 / sqrt(30) = 0.146
    v = verdict(with_literature(minimal_spec, tmp_path / "lit", lit), 3)
    assert v.status == Status.not_met
    assert "max_slope_relative_se" in v.summary and "lower bound" in v.summary


def test_comparability_uses_the_published_ages_and_genotype_classes(
    cohort_fits, minimal_spec, tmp_path
):
    _, g, r = cohort_fits
    lit = full_literature(g, r) | {"genotype_classes": {"null": 20, "missense": 10}}
    lit["endpoints"]["score"]["age_range"] = [8.0, 12.0]  # the patient is dosed at 6
    spec = dataclasses.replace(
        minimal_spec,
        patients=[
            dataclasses.replace(
                p,
                case=p.case.model_copy(
                    update={
                        "diagnosis": p.case.diagnosis.model_copy(
                            update={"genotype_class": "splice"}
                        )
                    }
                ),
            )
            for p in minimal_spec.patients
        ],
    )
    v = verdict(with_literature(spec, tmp_path / "lit", lit), 3)
    rows = {row.field: row for row in v.result.comparability}
    assert rows["age at first dose"].status == "mismatch"
    assert rows["genotype class"].status == "mismatch"
    assert v.result.cohort_subjects_same_genotype_class == 0


# --------------------------------------------------------------------------- validation


BASE = {
    "id": "lit",
    "disease": "d",
    "provenance": {"source": "x", "collection": "published_aggregate"},
}


def errors_of(cohort: dict) -> list[tuple[tuple, str]]:
    with pytest.raises(ValidationError) as exc:
        Cohort.model_validate(cohort)
    return [(e["loc"], e["msg"]) for e in exc.value.errors()]


def lit(endpoints: dict, **extra) -> dict:
    return BASE | {
        "literature": {"citation": CITATION, "n_subjects": 30, "endpoints": endpoints, **extra}
    }


@pytest.mark.parametrize(
    ("cohort", "loc", "words"),
    [
        (BASE, ("subjects",), "literature"),
        (lit({"s": {"kind": "time_to_event", "median": 3}}) | {"subjects": {"path": "s.csv"}}, ("subjects",), "not both"),
        (BASE | {"literature": {"n_subjects": 3, "endpoints": {"s": {"kind": "time_to_event"}}}}, ("literature", "citation"), "required"),
        (lit({"s": {"kind": "continuous", "unit": "{score}", "correlation": 1.5}}), ("literature", "endpoints", "s", "continuous", "correlation"), "1"),
        (lit({"s": {"kind": "continuous", "unit": "{score}", "slope_intercept_cov": 0.1}}), ("literature", "endpoints", "s", "continuous", "slope_intercept_cov"), "standard errors"),
        (lit({"s": {"kind": "continuous", "unit": "{score}", "age_range": [9, 2]}}), ("literature", "endpoints", "s", "continuous", "age_range"), "youngest"),
        (lit({"s": {"kind": "continuous", "unit": "{score}", "sd_slope": -1}}), ("literature", "endpoints", "s", "continuous", "sd_slope"), "greater than or equal"),
        (lit({"s": {"kind": "time_to_event", "median": 5, "median_ci": [6, 8]}}), ("literature", "endpoints", "s", "time_to_event", "median_ci"), "around the median"),
        (lit({"s": {"kind": "time_to_event", "survival_at": [{"age": 2, "survival": 0.5}, {"age": 4, "survival": 0.7}]}}), ("literature", "endpoints", "s", "time_to_event", "survival_at", 1, "survival"), "non-increasing"),
        (lit({"s": {"kind": "time_to_event", "survival_at": [{"age": 2, "survival": 0.5, "ci": [0.6, 0.9]}]}}), ("literature", "endpoints", "s", "time_to_event", "survival_at", 0, "ci"), "lower <= survival"),
        (lit({"s": {"kind": "count", "unit": "{crises}", "rate_per_year": 2, "rate_ci": [3, 4]}}), ("literature", "endpoints", "s", "count", "rate_ci"), "rate_per_year"),
        (lit({"s": {"kind": "count", "rate_per_year": 2}}), ("literature", "endpoints", "s", "count", "unit"), "required"),
        (lit({"s": {"kind": "growth"}}), ("literature", "endpoints", "s"), "tag"),
    ],
)  # fmt: skip
def test_schema_errors_name_the_field(cohort, loc, words) -> None:
    found = errors_of(cohort)
    assert any(at == loc and words.lower() in m.lower() for at, m in found), found


def _write_cohort_yaml(root: Path, literature: dict) -> None:
    path = root / "natural_history" / "cohort.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["cohorts"][0]["literature"] = literature
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


@pytest.mark.parametrize(
    ("summary", "field", "words"),
    [
        ({"score": {"kind": "count", "unit": "{score}", "rate_per_year": 1, "dispersion": 0}}, "literature.endpoints.score", "continuous"),
        ({"score": {"kind": "continuous", "unit": "mg/dL"}}, "literature.endpoints.score.unit", "unit"),
        ({"score": {"kind": "continuous", "unit": "{score}", "scale": "log"}}, "literature.endpoints.score.scale", "scale"),
        ({"scor": {"kind": "continuous", "unit": "{score}"}}, "literature.endpoints.scor", "unknown endpoint"),
    ],
)  # fmt: skip
def test_loader_checks_the_summary_against_the_platform(
    cohort_fits, minimal_spec, tmp_path, summary, field, words
):
    _, g, r = cohort_fits
    root = with_literature(minimal_spec, tmp_path / "lit", full_literature(g, r))
    _write_cohort_yaml(root, {"citation": CITATION, "n_subjects": 30, "endpoints": summary})
    with pytest.raises(DossierError) as exc:
        load_dossier(root)
    hits = [f for f in exc.value.findings if f.field.endswith(field)]
    assert hits, exc.value.findings
    assert words in f"{hits[0].found} {hits[0].expected}"
    assert hits[0].path == "natural_history/cohort.yaml" and hits[0].line is not None


def test_units_are_converted_to_the_endpoints(small_dossier, tmp_path) -> None:
    endpoints = [
        {"id": "phe", "name": "Phenylalanine", "kind": "continuous", "unit": "umol/L",
         "direction": "lower_is_better", "role": "primary"}
    ]  # fmt: skip
    platform = small_dossier.platform(endpoints, data_cutoff="2025-12-31")
    cohort = Cohort.model_validate(
        lit({"phe": {"kind": "continuous", "unit": "mmol/L", "reference_age": 5, "intercept": 1.2,
                     "slope": 0.05, "sd_intercept": 0.2, "sd_slope": 0.01, "correlation": 0,
                     "residual_sd": 0.1, "slope_se": 0.002, "age_range": [1, 10]}})
        | {"id": "nh", "disease": "dis"}
    )  # fmt: skip
    case = small_dossier.case(first_dose="2025-01-10", age_at_first_dose=6.0)
    small_dossier.write(tmp_path, platform, CohortSpec(cohort, pd.DataFrame()), case)
    summary = load_dossier(tmp_path).cohorts["nh"].literature.endpoints["phe"]
    assert summary.unit == "umol/L"
    assert (
        summary.intercept,
        summary.slope,
        summary.residual_sd,
        summary.slope_se,
    ) == pytest.approx((1200, 50, 100, 2))


# --------------------------------------------------------------------------- report and command line


def test_charts_draw_the_published_summary(cohort_fits, minimal_spec, tmp_path):
    _, g, r = cohort_fits
    v = verdict(with_literature(minimal_spec, tmp_path / "lit", full_literature(g, r)), 3)
    curve = next(f for f in v.figures if isinstance(f, NaturalHistoryCurve))
    assert curve.published == CITATION and not curve.subject and not curve.sampled
    chart = natural_history_chart(curve)
    assert "Literature-only" in chart.caption and CITATION in chart.caption
    names = {getattr(layer, "name", None) for layer in chart.layers}
    assert "published mean" in names and not any("cohort subjects" in (n or "") for n in names)
    assert len(curve.grid_mean) > 0
    s = survival_from_summary("walking", n_subjects=10, survival_at=[(2.0, 0.8, (0.7, 0.9))])
    figure = literature_figure(
        s,
        Endpoint(
            id="walking",
            name="Walking",
            kind="time_to_event",
            unit="a",
            direction="higher_is_better",
        ),
        LiteratureSummary(
            citation=CITATION, endpoints={"walking": {"kind": "time_to_event", "median": 3}}
        ),
    )
    assert isinstance(figure, SurvivalCurve) and figure.survival == [1.0, 0.8]
    assert "constant hazard" in survival_chart(figure).caption


def test_cli_assess_on_an_example_with_a_literature_cohort(example_copy, tmp_path):
    """abe-ucd with its OTC cohort replaced by the published summary of its own fit."""
    root = example_copy("abe-ucd")
    dossier = load_dossier(root)
    tables = dossier.cohorts["otc-nh"]
    endpoints: dict[str, Any] = {}
    for e in dossier.platform.endpoints:
        if e.kind.value == "continuous":
            rows = tables.longitudinal[tables.longitudinal["endpoint"] == e.id]
            g = fit_longitudinal(rows.reset_index(drop=True), e.id, scale=e.scale)
            endpoints[e.id] = growth_summary(g) | {"unit": e.unit, "scale": e.scale}
        else:
            r = fit_event_rate(tables.events[tables.events["endpoint"] == e.id], e.id)
            endpoints[e.id] = {"kind": "count", "unit": e.unit, "rate_per_year": r.rate_per_year,
                               "dispersion": r.dispersion, "person_years": r.person_years}  # fmt: skip
    path = root / "natural_history" / "cohort.yaml"
    doc = yaml.safe_load(path.read_text())
    otc = next(c for c in doc["cohorts"] if c["id"] == "otc-nh")
    del otc["subjects"], otc["data"]
    otc["provenance"] = {"source": "published summary", "collection": "published_aggregate"}
    otc["literature"] = {
        "citation": CITATION,
        "n_subjects": len(tables.subjects),
        "endpoints": endpoints,
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    shutil.rmtree(root / "natural_history" / "otc-nh")

    out = tmp_path / "report"
    result = CliRunner().invoke(
        app, ["assess", str(root), "--out", str(out)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    data = json.loads((out / "assessment.json").read_text())
    before = {p.id: p for p in assess_dossier(dossier).patients}
    otc_patients = [p for p in data["patients"] if p["disease"] == "otc_deficiency"]
    assert otc_patients
    for p in otc_patients:
        c3 = p["criteria"][2]
        assert c3["result"]["literature_only"] is True and "literature-only" in c3["summary"]
        c5, old = p["criteria"][4], before[p["id"]].criterion(5)
        assert c5["status"] == old.status.value
        if old.result.effect is not None:
            assert c5["result"]["effect"] == pytest.approx(old.result.effect, rel=1e-5)
    html = (out / "index.html").read_text()
    assert "literature-only" in html and CITATION in html


def test_the_documented_example_is_valid() -> None:
    text = (Path(__file__).resolve().parents[1] / "docs" / "dossier.md").read_text(encoding="utf-8")
    section = text[text.index("### Literature-only natural history") :]
    block = section[
        section.index("```yaml\n") + 8 : section.index("```\n", section.index("```yaml"))
    ]
    cohort = CohortFile.model_validate(yaml.safe_load(block)).cohorts[0]
    assert cohort.literature_only and set(cohort.literature.endpoints) == {
        "protein_tolerance", "hyperammonemic_crises", "death"
    }  # fmt: skip
    assert cohort.literature.missing("protein_tolerance") == []
    assert cohort.literature.missing("death") == []
