"""The natural-history plan's growth-curve options (age shape, spline df, covariates) through criteria 3 and 5,
and the patient's country against the cohort's.

The bundled abe-ucd example is edited in a temporary copy: its primary endpoint ``protein_tolerance`` is
continuous and its cohorts record ``genotype_class``, ``sex`` and ``age_at_onset`` per subject.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pmpath.dossier import load_dossier
from pmpath.dossier.model import Case, NaturalHistoryEndpointPlan
from pmpath.errors import DossierError
from pmpath.natural_history.growth import SPLINE_DFS
from pmpath.pathway import assess_dossier
from pmpath.pathway.criteria.characterization import _country_status, comparability_rows
from pmpath.pathway.criteria.decision_rules import patient_covariates

ANCHOR = "    min_events: 20\n"


def with_plan(root: Path, options: str) -> Path:
    """Insert ``analysis_plan.natural_history.endpoints`` (YAML flow text) into the copy's platform.yaml."""
    path = root / "platform.yaml"
    text = path.read_text()
    assert text.count(ANCHOR) == 1
    path.write_text(text.replace(ANCHOR, ANCHOR + f"    endpoints: {options}\n"))
    return root


def set_case(root: Path, patient: str, old: str, new: str) -> None:
    path = root / "patients" / patient / "case.yaml"
    text = path.read_text()
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new))


def primary_fit(assessment, patient: str = "P01"):
    verdict = next(p for p in assessment.patients if p.id == patient).criterion(3)
    return verdict, verdict.result.endpoints[0]


def test_spline_by_aic_and_covariates_in_criterion_3(example_copy):
    root = with_plan(
        example_copy("abe-ucd"),
        "{protein_tolerance: {age_shape: spline, covariates: [genotype_class, sex, age_at_onset]}}",
    )
    assessment = assess_dossier(load_dossier(root))
    verdict, fit = primary_fit(assessment)
    assert fit.endpoint == "protein_tolerance"
    assert fit.age_shape == "spline"
    assert [row.df for row in fit.spline_aic] == list(SPLINE_DFS)
    chosen = [row for row in fit.spline_aic if row.chosen]
    assert len(chosen) == 1 and chosen[0].aic == min(row.aic for row in fit.spline_aic)
    assert fit.spline_df == chosen[0].df
    assert fit.covariates == ["genotype_class", "sex", "age_at_onset"]
    assert (
        "chosen by AIC" in fit.model and "covariates genotype_class, sex, age_at_onset" in fit.model
    )
    assert "chosen by AIC (df 1 AIC" in verdict.summary
    # the supportive continuous endpoints keep the straight line
    ammonia = next(e for e in verdict.result.endpoints if e.endpoint == "ammonia")
    assert ammonia.age_shape == "linear" and ammonia.covariates == [] and ammonia.spline_aic == []
    # criterion 5 judged every patient with the covariate model
    for patient in assessment.patients:
        assert patient.criterion(5).status is not None


def test_fixed_spline_df_and_an_unknown_genotype_class(example_copy):
    root = with_plan(
        example_copy("abe-ucd"),
        "{protein_tolerance: {age_shape: spline, spline_df: 2, covariates: [genotype_class]}}",
    )
    set_case(root, "P01", "genotype_class: missense", "genotype_class: deep_intronic")
    assessment = assess_dossier(load_dossier(root))
    verdict, fit = primary_fit(assessment)
    assert fit.spline_df == 2 and fit.spline_aic == []
    assert "df 2, from the plan" in fit.model
    # criterion 3: no cohort subject of the class; criterion 5: the counterfactual used the reference
    assert any("deep_intronic" in f.message for f in verdict.flags)
    improvement = next(p for p in assessment.patients if p.id == "P01").criterion(5)
    notes = [f.message for f in improvement.flags if "reference level" in f.message]
    assert len(notes) == 1 and "deep_intronic" in notes[0]
    assert "protein_tolerance" in notes[0]


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ("{protein_tolerance: {age_shape: linear, spline_df: 3}}", "expected age_shape spline"),
        ("{hyperammonemic_crises: {age_shape: spline}}", "count endpoint 'hyperammonemic_crises'"),
        ("{no_such_endpoint: {age_shape: spline}}", "unknown endpoint 'no_such_endpoint'"),
        ("{protein_tolerance: {covariates: [height]}}", "height"),
        ("{protein_tolerance: {age_shape: spline, spline_df: 0}}", "spline_df"),
        ("{protein_tolerance: {covariates: [sex, sex]}}", "at most once"),
    ],
)
def test_bad_options_are_findings(example_copy, options, match):
    root = with_plan(example_copy("abe-ucd"), options)
    with pytest.raises(DossierError, match=match):
        load_dossier(root)


def _copy(example_copy, tmp_path: Path, name: str) -> Path:
    """A fresh copy of abe-ucd under its own name (``example_copy`` copies to one fixed place)."""
    return example_copy("abe-ucd").rename(tmp_path / f"abe-ucd-{name}")


def test_plan_hash_ignores_defaults_written_out(example_copy, tmp_path):
    base = load_dossier(_copy(example_copy, tmp_path, "base")).plan_sha256
    written = with_plan(
        _copy(example_copy, tmp_path, "defaults"),
        "{protein_tolerance: {age_shape: linear, spline_df: null, covariates: []}}",
    )
    assert load_dossier(written).plan_sha256 == base
    spline = with_plan(
        _copy(example_copy, tmp_path, "spline"), "{protein_tolerance: {age_shape: spline}}"
    )
    assert load_dossier(spline).plan_sha256 != base


def test_patient_covariates_from_the_case(example_dossiers):
    case = example_dossiers["abe-ucd"].patients[0].case
    values = patient_covariates(case)
    assert values["sex"] == case.diagnosis.sex
    assert values["genotype_class"] == case.diagnosis.genotype_class
    onsets = [
        p.onset_age_years
        for p in case.phenotypes
        if not p.excluded and p.onset_age_years is not None
    ]
    assert values["age_at_onset"] == min(onsets)
    bare = case.model_copy(update={"phenotypes": []})
    assert patient_covariates(bare)["age_at_onset"] is None
    assert patient_covariates(None) == {}


def test_default_endpoint_options():
    options = NaturalHistoryEndpointPlan()
    assert (options.age_shape, options.spline_df, options.covariates) == ("linear", None, [])


# ---------------------------------------------------------------------- the patient's country


@pytest.mark.parametrize(
    ("countries", "country", "status"),
    [
        (["US", "CA"], "US", "ok"),
        (["US", "CA"], "us ", "ok"),
        (["US", "CA"], "DE", "mismatch"),
        (["United States", "Canada"], "united  states", "ok"),
        (["United States", "Canada"], "Germany", "mismatch"),
        (["United States", "Canada"], "US", "reported"),  # a code against names: not compared
        (["US"], "Germany", "reported"),
        (["US"], None, "reported"),
    ],
)
def test_country_status(countries, country, status):
    assert _country_status(countries, country) == status


def test_country_row_and_its_caveat(example_dossiers):
    dossier = example_dossiers["abe-ucd"]
    cohort = next(iter(dossier.cohorts.values())).cohort
    case = dossier.patients[0].case

    def row(country: str | None):
        mine = Case.model_validate(
            case.model_dump() | {"diagnosis": case.diagnosis.model_dump() | {"country": country}}
        )
        rows = comparability_rows(
            cohort,
            mine,
            primary_endpoints=["protein_tolerance"],
            age_range=(0.0, 20.0),
            primary_endpoint="protein_tolerance",
            genotype_counts=None,
        )
        return next(r for r in rows if r.field == "countries")

    assert cohort.countries == ["United States", "Canada"]
    assert row("Canada").status == "ok"
    assert row("Mexico").status == "mismatch" and row("Mexico").patient == "Mexico"
    assert row(None).status == "reported"


def test_country_mismatch_flagged_by_criterion_3(example_copy):
    root = example_copy("abe-ucd")
    set_case(
        root,
        "P01",
        "  genotype_class: missense\n",
        "  genotype_class: missense\n  country: Mexico\n",
    )
    assessment = assess_dossier(load_dossier(root))
    verdict, _ = primary_fit(assessment)
    messages = [f.message for f in verdict.flags if "Mexico" in f.message]
    assert messages and "not among the cohort's countries" in messages[0]
    assert "countries" in verdict.summary


def test_covariates_join_the_rows_as_a_left_merge_would():
    # the lookup by distinct labels against pandas' own left merge: labels given as numbers in one
    # table and text in the other, a subject missing from the subjects table, a categorical kept
    import pandas as pd

    from pmpath.dossier.model import Endpoint
    from pmpath.pathway.criteria.characterization import _with_covariates

    rows = pd.DataFrame(
        {"subject": [3, 1, 3, 7, 1], "age": [1.0, 2, 3, 4, 5], "value": [9.0, 8, 7, 6, 5]}
    )
    subjects = pd.DataFrame(
        {
            "subject": ["1", "3", "3", "4"],
            "sex": pd.Categorical(
                ["male", "female", "female", "male"], categories=["male", "female"]
            ),
            "age_at_onset": [0.5, 1.5, 1.5, 2.5],
        }
    )
    endpoint = Endpoint(
        id="score", name="Score", kind="continuous", unit="points", direction="higher_is_better"
    )
    got = _with_covariates(rows, subjects, ["sex", "age_at_onset"], endpoint)
    want = rows.assign(subject=rows["subject"].astype(str)).merge(
        subjects.drop_duplicates("subject"), on="subject", how="left"
    )
    pd.testing.assert_frame_equal(got, want)
    assert isinstance(got["sex"].dtype, pd.CategoricalDtype)


def test_simulate_draws_each_dosed_patients_untreated_course_at_their_covariates(example_copy):
    # every resampled patient's untreated model is the cohort's growth curve at that patient's
    # covariates (as criterion 5 judges them), not at the cohort's reference levels
    import numpy as np

    from pmpath.pathway.context import AssessmentContext
    from pmpath.pathway.simulate import _fits, _models, _templates

    root = with_plan(
        example_copy("abe-ucd"),
        "{protein_tolerance: {covariates: [genotype_class, sex, age_at_onset]}}",
    )
    dossier = load_dossier(root)
    ctx = AssessmentContext(dossier)
    endpoint = dossier.platform.primary_endpoint
    fits = _fits(ctx, endpoint)
    templates = [t for t in _templates(dossier, endpoint) if t.disease in fits]
    models = _models(ctx, endpoint, fits, templates)
    cases = {p.id: p.case for p in dossier.patients}
    ages = np.array([1.0, 4.0, 9.0])
    means = set()
    for template, model in zip(templates, models, strict=True):
        curve = fits[template.disease]
        want = curve.mean_at(ages, patient_covariates(cases[template.patient]))
        assert model.population_mean(ages) == pytest.approx(want, rel=1e-12)
        means.add(tuple(np.round(want, 9)))
    assert len(means) > 1  # the patients' covariates differ, and so do their untreated means
