"""The patient's untreated counterfactual against lme4: linear and spline growth curves with covariates.

The reference numbers are written by ``tests/fixtures/natural_history/lme4_fits.R`` (key
``counterfactual`` of ``lme4_fits.json``): for a held-out patient with four pre-dose visits, the
BLUP-conditional prediction of five future values and its joint prediction-error covariance, computed
in R with matrices from each lme4 fit (vcov of the fixed effects, G, sigma) as the conditional of the
joint normal of (pre-dose, future) values. Two comparisons per fit:

* R's estimates fed to :class:`~pmpath.outcomes.UntreatedModel` in R's coding (the prediction
  algebra alone): within 1e-9 relative;
* pmpath's own fit of the same cohort (its own spline basis and covariate coding, a
  reparametrization of R's) turned into the patient's model by
  :meth:`~pmpath.outcomes.UntreatedModel.from_growth_curve`: within 1e-4 relative, as the brief of
  the fits (they agree with lme4 to about 1e-6).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmpath.errors import UsageError
from pmpath.natural_history import fit_longitudinal
from pmpath.outcomes import (
    TrajectoryRule,
    UntreatedModel,
    judge_trajectory,
    judge_trajectory_batch,
    predict_untreated,
    simulate_trajectory_patients,
)

FIXTURES = Path(__file__).parent / "fixtures" / "natural_history"
REL = 1e-4
COVARIATES = ["genotype_class", "age_at_onset", "sex"]


@cache
def reference() -> dict:
    return json.loads((FIXTURES / "lme4_fits.json").read_text())["counterfactual"]


@cache
def cohort() -> pd.DataFrame:
    raw = pd.read_csv(FIXTURES / "unbalanced_cohort.csv", dtype={"subject": str})
    return raw.dropna(subset=["value"]).reset_index(drop=True)


@cache
def pmpath_fit(name: str):
    shape = {"linear": {}, "linear_covariates": {"covariates": COVARIATES}}.get(
        name, {"age_shape": "spline", "spline_df": 3, "covariates": COVARIATES}
    )
    return fit_longitudinal(cohort(), "score", age_center=7, **shape)


def patient() -> dict:
    return reference()["patient"]


def patient_covariates() -> dict:
    p = patient()
    return {c: p[c] for c in COVARIATES}


def r_model(fit: dict) -> UntreatedModel:
    """R's estimates in R's coding: treatment contrasts against truncating and F, raw age at onset."""
    sd0, sd1, rho = fit["intercept_sd"], fit["slope_sd"], fit["correlation"]
    G = np.array([[sd0**2, rho * sd0 * sd1], [rho * sd0 * sd1, sd1**2]])
    p = patient()
    coding = {
        "genotype_classhypomorphic": float(p["genotype_class"] == "hypomorphic"),
        "genotype_classmissense": float(p["genotype_class"] == "missense"),
        "age_at_onset": p["age_at_onset"],
        "sexM": float(p["sex"] == "M"),
    }
    return UntreatedModel(
        np.array(fit["fixed_effects"]),
        np.array(fit["fixed_effects_cov"]),
        G,
        fit["residual_sd"] ** 2,
        7.0,
        covariate_row=np.array([coding[n] for n in fit["fixed_effect_names"][2:]]),
    )


def test_fixture_reproduces_the_fit_of_the_other_r_keys():
    # the counterfactual's covariate fit is the "covariates" model of the same script
    ref = reference()["fits"]["linear_covariates"]
    other = json.loads((FIXTURES / "lme4_fits.json").read_text())["covariates"]
    assert ref["fixed_effects"] == pytest.approx(other["fixed_effects"], rel=1e-10)
    assert ref["reml_criterion"] == pytest.approx(other["reml_criterion"], rel=1e-10)


@pytest.mark.parametrize("name", ["linear", "linear_covariates", "spline_covariates"])
def test_counterfactual_of_pmpath_fit_against_lme4(name):
    ref = reference()["fits"][name]
    curve = pmpath_fit(name)
    if name.startswith("spline"):
        assert curve.spline_knots == pytest.approx(reference()["spline_knots"], rel=1e-12)
        assert curve.boundary_knots == pytest.approx(reference()["boundary_knots"], rel=1e-12)
    assert curve.log_likelihood * -2 == pytest.approx(ref["reml_criterion"], rel=1e-6)
    model = UntreatedModel.from_growth_curve(curve, patient_covariates())
    assert model.notes == ()
    p = patient()
    pred = predict_untreated(model, p["pre_age"], p["pre_value"], p["future_age"])
    assert pred.mean == pytest.approx(ref["mean"], rel=REL)
    assert pred.covariance == pytest.approx(np.array(ref["covariance"]), rel=REL)
    assert pred.sd == pytest.approx(ref["sd"], rel=REL)
    assert pred.random_effects == pytest.approx(ref["blup"], rel=REL, abs=1e-6)
    population = predict_untreated(model, [], [], p["future_age"])
    assert population.mean == pytest.approx(ref["population_mean"], rel=REL)


@pytest.mark.parametrize("name", ["linear", "linear_covariates"])
def test_model_from_r_estimates_matches_to_rounding(name):
    """The prediction algebra alone: R's own estimates in R's coding."""
    ref = reference()["fits"][name]
    model = r_model(ref)
    assert model.linear == (name == "linear")
    p = patient()
    pred = predict_untreated(model, p["pre_age"], p["pre_value"], p["future_age"])
    assert pred.mean == pytest.approx(ref["mean"], rel=1e-9)
    assert pred.covariance == pytest.approx(np.array(ref["covariance"]), rel=1e-9)
    assert pred.random_effects == pytest.approx(ref["blup"], rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("name", ["linear_covariates", "spline_covariates"])
def test_batch_decision_uses_the_generalized_counterfactual(name):
    # The estimand: the mean over the counted visits of (measured - predicted); its SE is the square
    # root of 1' Cov 1 / m^2 with Cov R's joint prediction-error covariance.
    ref = reference()["fits"][name]
    model = UntreatedModel.from_growth_curve(pmpath_fit(name), patient_covariates())
    p = patient()
    post = np.array(ref["mean"]) + np.array([1.0, 2.5, 3.0, 4.0, 5.5])
    out = judge_trajectory_batch(
        model,
        p["pre_age"],
        p["pre_value"],
        p["future_age"],
        post,
        "higher_is_better",
        dosing_ages=8.0,
    )
    cov = np.array(ref["covariance"])
    m = len(post)
    assert out.effect[0] == pytest.approx(np.mean(post - ref["mean"]), rel=REL)
    assert out.se[0] == pytest.approx(np.sqrt(cov.sum()) / m, rel=REL)
    one = judge_trajectory(
        model,
        p["pre_age"],
        p["pre_value"],
        p["future_age"],
        post,
        "higher_is_better",
        dosing_age=8.0,
    )
    assert one.effect == pytest.approx(out.effect[0], rel=1e-12)
    assert one.prediction.mean == pytest.approx(ref["mean"], rel=REL)


@pytest.mark.parametrize("name", ["linear_covariates", "spline_covariates"])
def test_without_pre_treatment_data_the_prediction_is_the_population_one(name):
    ref = reference()["fits"][name]
    model = UntreatedModel.from_growth_curve(pmpath_fit(name), patient_covariates())
    ages = reference()["patient"]["future_age"]
    j = judge_trajectory(
        model, [], [], ages, model.population_mean(ages) + 2.0, "higher_is_better", dosing_age=8.0
    )
    assert not j.prediction.conditional
    assert j.prediction.mean == pytest.approx(ref["population_mean"], rel=REL)
    assert j.effect == pytest.approx(2.0, rel=1e-9)
    assert np.isnan(j.sensitivity.effect) or j.sensitivity.effect == pytest.approx(2.0)


def test_unknown_level_falls_back_to_the_reference_and_says_so():
    curve = pmpath_fit("linear_covariates")
    genotype = next(c for c in curve.covariates if c.name == "genotype_class")
    mine = patient_covariates() | {"genotype_class": "deep_intronic"}
    model = UntreatedModel.from_growth_curve(curve, mine)
    assert len(model.notes) == 1
    assert "deep_intronic" in model.notes[0] and "reference level" in model.notes[0]
    as_reference = UntreatedModel.from_growth_curve(
        curve, patient_covariates() | {"genotype_class": genotype.reference}
    )
    assert model.covariate_row == pytest.approx(as_reference.covariate_row, abs=0)
    missing = UntreatedModel.from_growth_curve(curve, {"sex": "M"})
    assert len(missing.notes) == 2  # genotype class and age at onset not stated
    p = patient()
    j = judge_trajectory(
        model,
        p["pre_age"],
        p["pre_value"],
        p["future_age"],
        np.full(5, 50.0),
        "higher_is_better",
        dosing_age=8.0,
    )
    assert model.notes[0] in j.notes


def test_covariate_shifts_the_counterfactual_by_its_coefficient():
    # The population (unconditional) mean of a patient of another genotype class shifts by exactly
    # that class's contrast coefficient, at every age.
    curve = pmpath_fit("linear_covariates")
    genotype = next(c for c in curve.covariates if c.name == "genotype_class")
    a = UntreatedModel.from_growth_curve(
        curve, patient_covariates() | {"genotype_class": genotype.levels[0]}
    )
    b = UntreatedModel.from_growth_curve(
        curve, patient_covariates() | {"genotype_class": genotype.levels[1]}
    )
    column = curve.fixed_effect_names.index(f"genotype_class[{genotype.levels[1]}]")
    ages = np.array([3.0, 9.0])
    shift = b.population_mean(ages) - a.population_mean(ages)
    assert shift == pytest.approx([curve.fixed_effects[column]] * 2, rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    b=st.tuples(st.floats(-50, 50), st.floats(-5, 5)),
    g=st.tuples(st.floats(0.1, 30), st.floats(0.01, 4), st.floats(-0.9, 0.9)),
    s2=st.floats(0.1, 20),
    seed=st.integers(0, 2**31),
)
def test_general_path_equals_the_linear_path(b, g, s2, seed):
    """A linear model written with a zero covariate column takes the general algebra and agrees with the 2x2 one."""
    sd0, sd1, rho = g
    G = np.array([[sd0**2, rho * sd0 * sd1], [rho * sd0 * sd1, sd1**2]])
    Vb = np.array([[0.6, 0.05], [0.05, 0.08]])
    linear = UntreatedModel(np.array(b), Vb, G, s2, 10.0)
    padded = np.zeros((3, 3))
    padded[:2, :2] = Vb
    padded[2, 2] = 0.3
    general = UntreatedModel(
        np.array([*b, 7.0]), padded, G, s2, 10.0, covariate_row=np.array([0.0])
    )
    assert not general.linear
    rng = np.random.default_rng(seed)
    data = simulate_trajectory_patients(
        linear,
        20,
        rng,
        pre_offsets_years=[-1.5, -0.7, 0.0],
        post_offsets_years=[0.4, 1.0, 1.6, 2.2],
        dosing_ages=rng.uniform(6, 14, 20),
        benefit=rng.uniform(0, 3),
    )
    dose = data[0][:, -1]
    rule = TrajectoryRule()
    x = judge_trajectory_batch(linear, *data, "higher_is_better", rule, dosing_ages=dose)
    y = judge_trajectory_batch(general, *data, "higher_is_better", rule, dosing_ages=dose)
    for name in ("effect", "se", "sensitivity_effect", "sensitivity_se", "last_pre_z"):
        assert getattr(y, name) == pytest.approx(getattr(x, name), rel=1e-9, abs=1e-9), name
    assert (x.decision == y.decision).all()
    assert (x.regression_to_mean == y.regression_to_mean).all()
    p1 = predict_untreated(linear, data[0][0], data[1][0], data[2][0])
    p2 = predict_untreated(general, data[0][0], data[1][0], data[2][0])
    assert p2.mean == pytest.approx(p1.mean, rel=1e-10, abs=1e-10)
    assert p2.covariance == pytest.approx(p1.covariance, rel=1e-10, abs=1e-10)


def test_design_checks():
    G = np.diag([4.0, 1.0])
    with pytest.raises(UsageError, match="fixed_effects: found shape"):
        UntreatedModel(np.zeros(2), np.eye(3), G, 1.0, 5.0, covariate_row=np.ones(1))
    with pytest.raises(UsageError, match="spline_knots"):
        UntreatedModel(np.zeros(4), np.eye(4), G, 1.0, 5.0, spline_df=3, spline_knots=(4.0,))
    with pytest.raises(UsageError, match="boundary_knots"):
        UntreatedModel(np.zeros(3), np.eye(3), G, 1.0, 5.0, spline_df=2, spline_knots=(4.0,))
    with pytest.raises(UsageError, match="spline_df"):
        UntreatedModel(np.zeros(2), np.eye(2), G, 1.0, 5.0, spline_df=0)
    spline = UntreatedModel(
        np.zeros(3),
        np.eye(3),
        G,
        1.0,
        5.0,
        spline_df=2,
        spline_knots=(4.0,),
        boundary_knots=(1.0, 9.0),
    )
    assert spline.design([2.0, 3.0]).shape == (2, 3)
    assert spline.random_design([2.0]).tolist() == [[1.0, -3.0]]
