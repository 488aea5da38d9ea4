"""Growth-curve fits against lme4: three random-effect structures, the fallback ladder, splines in age and covariates.

The reference numbers are lme4 1.1-31's, written by ``tests/fixtures/natural_history/lme4_fits.R``
to ``lme4_fits.json`` (see the README there). Tolerance: 1e-4 absolute on estimates (fixed effects,
SDs, correlations, BLUPs, fitted means) and 1e-4 on the REML criterion, AIC and deviance; our fits
agree to about 1e-6.
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

from pmpath.errors import AnalysisError, UsageError
from pmpath.natural_history import fit_longitudinal, growth, reml
from pmpath.natural_history.growth import natural_spline_basis
from pmpath.natural_history.reml import DesignMoments, fit_design, fit_reml, subject_codes

FIXTURES = Path(__file__).parent / "fixtures" / "natural_history"
TOL = 1e-4
STRUCTURES = ("correlated", "uncorrelated", "intercept_only")


@cache
def lme4() -> dict:
    return json.loads((FIXTURES / "lme4_fits.json").read_text())


def cohort(name: str) -> pd.DataFrame:
    if name == "sleepstudy":
        raw = pd.read_csv(FIXTURES / "sleepstudy.csv")
        return raw.rename(columns={"Subject": "subject", "Days": "age", "Reaction": "value"})
    raw = pd.read_csv(FIXTURES / f"{name}_cohort.csv", dtype={"subject": str})
    return raw.dropna(subset=["value"]).reset_index(drop=True)  # as the R script does


def assert_matches(fit, ref: dict, *, criterion: float) -> None:
    """A fit (RemlFit or GrowthCurve-like numbers) against one lme4 summary."""
    assert criterion == pytest.approx(ref["reml_criterion"], abs=TOL)
    sd = np.sqrt(np.diag(fit.random_effects_cov))
    assert sd == pytest.approx([ref["intercept_sd"], ref["slope_sd"]], abs=TOL)
    assert np.sqrt(fit.residual_variance) == pytest.approx(ref["residual_sd"], abs=TOL)
    if ref["correlation"] is not None:
        corr = fit.random_effects_cov[0, 1] / (sd[0] * sd[1])
        assert corr == pytest.approx(ref["correlation"], abs=TOL)
    else:
        assert fit.random_effects_cov[0, 1] == 0.0


@pytest.mark.parametrize("name", ["sleepstudy", "unbalanced", "singular"])
@pytest.mark.parametrize("structure", STRUCTURES)
def test_reml_engine_against_lme4(name, structure):
    # (t | subject), (t || subject) and (1 | subject) with t = age - centre, REML
    ref_cohort = lme4()[name]
    ref = ref_cohort[structure]
    data = cohort(name)
    t = data["age"].to_numpy(dtype=float) - ref_cohort["age_center"]
    fit = fit_reml(t, data["value"].to_numpy(dtype=float), data["subject"].astype(str).to_numpy(),
                   structure=structure)  # fmt: skip
    assert fit.structure == structure
    assert fit.converged
    assert len(t) == ref["n_observations"]
    assert fit.fixed_effects == pytest.approx(ref["fixed_effects"], abs=TOL)
    assert fit.fixed_effects_cov == pytest.approx(np.array(ref["fixed_effects_cov"]), abs=TOL)
    assert_matches(fit, ref, criterion=fit.deviance)


@pytest.mark.parametrize("name", ["sleepstudy", "unbalanced"])
@pytest.mark.parametrize("structure", STRUCTURES)
def test_design_engine_on_the_linear_design_against_lme4(name, structure):
    # The general engine (any X) on X = [1, t] must give the same answers as the fast one.
    ref_cohort = lme4()[name]
    ref = ref_cohort[structure]
    data = cohort(name)
    t = data["age"].to_numpy(dtype=float) - ref_cohort["age_center"]
    x = np.column_stack([np.ones_like(t), t])
    fit = fit_design(x, t, data["value"].to_numpy(dtype=float), data["subject"].astype(str).to_numpy(),
                     structure=structure)  # fmt: skip
    assert fit.converged and fit.reml
    assert fit.fixed_effects == pytest.approx(ref["fixed_effects"], abs=TOL)
    assert_matches(fit, ref, criterion=fit.deviance)


@pytest.mark.parametrize("name", ["sleepstudy", "unbalanced", "singular"])
@pytest.mark.parametrize("structure", STRUCTURES)
def test_blups_against_lme4_ranef(name, structure):
    ref_cohort = lme4()[name]
    ref = ref_cohort[structure]
    data = cohort(name)
    center = ref_cohort["age_center"]
    t = data["age"].to_numpy(dtype=float) - center
    y = data["value"].to_numpy(dtype=float)
    labels = data["subject"].astype(str)
    fit = fit_reml(t, y, labels.to_numpy(), structure=structure)
    codes = subject_codes(labels)
    u = reml.subject_effects(y - fit.fixed_effects[0] - fit.fixed_effects[1] * t, t, codes,
                             int(codes.max()) + 1, fit.random_effects_cov, fit.residual_variance)  # fmt: skip
    expected = pd.DataFrame(ref["blups"]).set_index("subject").sort_index()
    assert list(expected.index) == sorted(labels.unique())
    assert u == pytest.approx(expected[["intercept", "slope"]].to_numpy(), abs=TOL)


def test_growth_curve_subject_effects_are_lme4_ranef():
    ref = lme4()["unbalanced"]["correlated"]
    data = cohort("unbalanced")
    curve = fit_longitudinal(data, "score", age_center=7)
    got = curve.subject_effects(data)
    expected = pd.DataFrame(ref["blups"]).set_index("subject").sort_index()
    assert list(got.index) == list(expected.index)
    assert got.to_numpy() == pytest.approx(expected[["intercept", "slope"]].to_numpy(), abs=TOL)


def test_unbalanced_cohort_has_the_awkward_cases():
    # what the fixture is for: subjects with one visit, irregular visits, missing values dropped
    raw = pd.read_csv(FIXTURES / "unbalanced_cohort.csv", dtype={"subject": str})
    assert raw["value"].isna().sum() == lme4()["unbalanced"]["rows_with_missing_value"] > 0
    visits = cohort("unbalanced").groupby("subject").size()
    assert (visits == 1).any() and visits.nunique() > 3
    assert len(visits) == lme4()["unbalanced"]["correlated"]["n_subjects"]


# ---------------------------------------------------------------------- the fallback ladder


def test_singular_correlation_falls_back_to_uncorrelated_slopes_as_lme4():
    # lme4's (t | subject) on this cohort: correlation -1, isSingular TRUE; (t || subject) keeps a slope
    # SD of 0.70 and is not singular. The ladder keeps the uncorrelated fit, not intercept-only
    # (whose REML criterion is higher still, 256.10 against 253.74).
    ref = lme4()["singular"]
    assert ref["correlated"]["singular"] and ref["correlated"]["correlation"] == -1
    assert not ref["uncorrelated"]["singular"]
    curve = fit_longitudinal(cohort("singular"), "x", age_center=6)
    assert curve.structure == "uncorrelated"
    assert curve.random_structure == "uncorrelated_intercept_and_slope"
    assert len(curve.fallbacks) == 1 and "correlation on the boundary" in curve.fallbacks[0]
    assert "(age || subject)" in curve.fallbacks[0]
    assert curve.fallbacks[0] in curve.notes
    assert curve.random_effects_cov.shape == (2, 2)
    assert curve.fixed_effects == pytest.approx(ref["uncorrelated"]["fixed_effects"], abs=TOL)
    assert_matches(curve, ref["uncorrelated"], criterion=-2 * curve.log_likelihood)
    assert -2 * curve.log_likelihood < ref["intercept_only"]["reml_criterion"] - 2


def test_no_slope_variance_falls_back_twice_to_intercept_only():
    # Every subject's own slope is exactly 2: no slope variance, correlated or not.
    rng = np.random.default_rng(1)
    ages = np.arange(5.0)
    x = np.column_stack([np.ones(5), ages])
    resid = np.eye(5) - x @ np.linalg.pinv(x)
    rows = []
    for s in range(30):
        y = 10 + rng.normal(0, 3) + 2 * ages + resid @ rng.normal(0, 1, 5)
        rows += [(s, a, v) for a, v in zip(ages, y, strict=True)]
    curve = fit_longitudinal(pd.DataFrame(rows, columns=["subject", "age", "value"]), "score")
    assert curve.structure == "intercept_only"
    assert len(curve.fallbacks) == 2
    assert "slope variance" in curve.fallbacks[0] and "random intercept only" in curve.fallbacks[1]
    assert curve.random_effects_cov[1, 1] == 0.0 and curve.random_effects_cov.shape == (2, 2)


def test_correlated_fit_has_no_fallbacks():
    curve = fit_longitudinal(cohort("sleepstudy"), "reaction", age_center=0)
    assert curve.structure == "correlated" and curve.fallbacks == ()


def test_uncorrelated_statsmodels_fallback_matches_lme4(monkeypatch):
    # the fast engine failing, statsmodels' MixedLM with the off-diagonal of G held at 0
    def failing(*args, **kwargs):
        raise np.linalg.LinAlgError("forced")

    monkeypatch.setattr(growth, "fit_reml", failing)
    curve = fit_longitudinal(cohort("singular"), "x", age_center=6)
    assert curve.structure == "uncorrelated" and curve.optimizer.startswith("statsmodels/")
    ref = lme4()["singular"]["uncorrelated"]
    assert curve.fixed_effects == pytest.approx(ref["fixed_effects"], abs=1e-3)
    assert curve.random_effects_sd == pytest.approx(
        [ref["intercept_sd"], ref["slope_sd"]], abs=1e-3
    )


# ---------------------------------------------------------------------- splines in age


def test_natural_spline_basis_spans_rs_ns_and_is_linear_outside():
    # A natural cubic spline is linear beyond its boundary knots, and with an intercept its span holds
    # every straight line (that it spans R's ns() is checked by the lme4 spline fits below).
    knots, bounds = (4.0, 8.0), (1.0, 12.0)
    grid = np.linspace(-3.0, 16.0, 400)
    basis = natural_spline_basis(grid, knots, bounds)
    assert basis.shape == (400, 3)
    # linear beyond the boundary knots: second differences vanish there
    for part in (grid < bounds[0], grid > bounds[1]):
        second = np.diff(basis[part], 2, axis=0)
        assert np.abs(second).max() < 1e-10
    # a straight line lies in span{1, basis}
    design = np.column_stack([np.ones_like(grid), basis])
    coef, *_ = np.linalg.lstsq(design, 3.0 - 0.5 * grid, rcond=None)
    assert design @ coef == pytest.approx(3.0 - 0.5 * grid, abs=1e-9)


def test_spline_df_chosen_by_aic_as_lme4():
    # lmer(value ~ ns(age, df) + (t | subject), REML = FALSE) for df 1-4 (df 1: value ~ t)
    ref = lme4()["spline"]
    curve = fit_longitudinal(cohort("unbalanced"), "score", age_center=7, age_shape="spline")
    expected = [(f["df"], f["aic"]) for f in ref["fits"]]
    assert [d for d, _ in curve.aic_table] == [d for d, _ in expected]
    assert [a for _, a in curve.aic_table] == pytest.approx([a for _, a in expected], abs=TOL)
    best = min(expected, key=lambda r: r[1])[0]
    assert curve.spline_df == best == 3
    assert curve.age_shape == "spline"
    assert curve.spline_knots == pytest.approx(ref["fits"][best - 1]["knots"], abs=1e-9)


@pytest.mark.parametrize("df", [1, 2, 3, 4])
def test_spline_fit_against_lme4(df):
    ref = lme4()["spline"]["fits"][df - 1]
    curve = fit_longitudinal(
        cohort("unbalanced"), "score", age_center=7, age_shape="spline", spline_df=df
    )
    assert curve.spline_df == df and curve.structure == "correlated"
    assert_matches(curve, ref["reml"], criterion=-2 * curve.log_likelihood)
    # the population mean (predict(re.form = NA)) on a grid that extends beyond the observed ages
    assert curve.mean_at(ref["grid_age"]) == pytest.approx(ref["grid_mean"], abs=TOL)
    band = curve.band(ref["grid_age"], include_residual=False, include_parameter_uncertainty=False)
    assert band.mean == pytest.approx(ref["grid_mean"], abs=TOL)
    if df == 1:
        assert curve.fixed_effects.shape == (2,)  # the default model criterion 5 takes


def test_spline_slope_is_the_mean_slope_over_the_observed_ages():
    curve = fit_longitudinal(cohort("unbalanced"), "score", age_center=7, age_shape="spline")
    lo, hi = curve.age_range
    ends = curve.mean_at([lo, hi])
    assert curve.slope == pytest.approx((ends[1] - ends[0]) / (hi - lo), rel=1e-12)
    assert curve.intercept == pytest.approx(curve.mean_at(7.0)[0], rel=1e-12)
    # the SE of that contrast from the covariance, by simulation of the fixed effects
    rng = np.random.default_rng(0)
    draws = rng.multivariate_normal(curve.fixed_effects, curve.fixed_effects_cov, 40_000)
    x = curve.design([lo, hi])
    slopes = (draws @ x[1] - draws @ x[0]) / (hi - lo)
    assert curve.slope_se == pytest.approx(slopes.std(), rel=0.02)


# ---------------------------------------------------------------------- covariates


def covariate_cohort() -> pd.DataFrame:
    data = pd.read_csv(FIXTURES / "unbalanced_cohort.csv", dtype={"subject": str})
    data = data.dropna(subset=["value"]).reset_index(drop=True)
    data["genotype_class"] = pd.Categorical(
        data["genotype_class"], categories=["truncating", "hypomorphic", "missense"]
    )
    return data


def test_covariates_against_lme4():
    # lmer(value ~ t + genotype_class + age_at_onset + sex + (t | subject)); our numeric covariates are
    # centred at their mean, so our intercept is lme4's plus b_onset * mean(onset): the same model.
    ref = lme4()["covariates"]
    data = covariate_cohort()
    curve = fit_longitudinal(
        data, "score", age_center=7, covariates=["genotype_class", "age_at_onset", "sex"]
    )
    assert curve.fixed_effect_names == ("intercept", "age", "genotype_class[hypomorphic]",
                                        "genotype_class[missense]", "age_at_onset", "sex[M]")  # fmt: skip
    onset = next(c for c in curve.covariates if c.name == "age_at_onset")
    assert onset.center == pytest.approx(data["age_at_onset"].mean())
    fe = curve.fixed_effects.copy()
    fe[0] -= fe[4] * onset.center
    assert fe == pytest.approx(ref["fixed_effects"], abs=TOL)
    assert_matches(curve, ref, criterion=-2 * curve.log_likelihood)
    assert curve.slope == pytest.approx(ref["fixed_effects"][1], abs=TOL)
    # the trajectory for a given profile: lme4's fixed part at that profile
    b = ref["fixed_effects"]
    expected = b[0] + b[1] * (9.0 - 7) + b[3] + b[4] * 1.5 + b[5]
    got = curve.mean_at(9.0, {"genotype_class": "missense", "age_at_onset": 1.5, "sex": "M"})
    assert got[0] == pytest.approx(expected, abs=TOL)


def test_covariate_errors_name_what_was_wrong():
    data = covariate_cohort()
    with pytest.raises(UsageError, match="covariates: found"):
        fit_longitudinal(data, "score", covariates=["no_such_column"])
    with pytest.raises(UsageError, match="age_shape must be one of"):
        fit_longitudinal(data, "score", age_shape="cubic")
    with pytest.raises(UsageError, match="spline_df"):
        fit_longitudinal(data, "score", spline_df=3)  # needs age_shape="spline"
    data.loc[0, "sex"] = None
    with pytest.raises(AnalysisError, match="covariate 'sex' has 1 missing"):
        fit_longitudinal(data, "score", covariates=["sex"])
    curve = fit_longitudinal(covariate_cohort(), "score", covariates=["sex"])
    with pytest.raises(UsageError, match=r"found level\(s\) \['X'\]"):
        curve.mean_at(5.0, {"sex": "X"})


# ---------------------------------------------------------------------- the design engine


@settings(max_examples=20, deadline=None)
@given(
    theta=st.lists(st.floats(0.05, 3.0), min_size=3, max_size=3),
    structure=st.sampled_from(STRUCTURES),
    use_reml=st.booleans(),
)
def test_design_criterion_gradient_is_the_numerical_derivative(theta, structure, use_reml):
    data = covariate_cohort()
    t = data["age"].to_numpy() - 7
    codes = subject_codes(data["subject"])
    x = np.column_stack([np.ones_like(t), natural_spline_basis(data["age"], (6.0, 11.0), (1.0, 20.0)),
                         data["age_at_onset"]])  # fmt: skip
    mo = DesignMoments.from_codes(x, t, data["value"].to_numpy(), codes, int(codes.max()) + 1)
    stc = reml._structure(structure)
    th = np.array(theta)[: len(stc.free)]
    *_, gradient = reml._design_profile(th, mo, stc, use_reml)
    h = 1e-4  # central differences: O(h^2) truncation, far above the criterion's rounding
    numeric = [
        (reml._design_profile(th + e, mo, stc, use_reml)[0] - reml._design_profile(th - e, mo, stc, use_reml)[0]) / (2 * h)
        for e in np.eye(len(th)) * h
    ]  # fmt: skip
    assert gradient == pytest.approx(numeric, rel=1e-4, abs=1e-4)


def test_design_engine_rejects_a_rank_deficient_design():
    data = covariate_cohort()
    t = data["age"].to_numpy() - 7
    x = np.column_stack([np.ones_like(t), t, 2 * t])
    with pytest.raises(AnalysisError, match="rank 2, expected 3"):
        fit_design(x, t, data["value"].to_numpy(), data["subject"].to_numpy())


def test_design_engine_fits_column_blocks_as_the_stacked_design():
    # the blocks growth.py passes (intercept, spline, covariates; 1-d and 2-d) are the same model as
    # their stacked design, and subjects in any row order are the same subjects
    data = covariate_cohort().sample(frac=1.0, random_state=3).reset_index(drop=True)
    t = data["age"].to_numpy() - 7
    spline = natural_spline_basis(data["age"], (6.0, 11.0), (1.0, 20.0))
    onset = data["age_at_onset"].to_numpy()
    y, groups = data["value"].to_numpy(), data["subject"].to_numpy()
    stacked = fit_design(np.column_stack([np.ones_like(t), spline, onset]), t, y, groups)
    blocks = fit_design([np.ones_like(t), spline, onset], t, y, groups)
    assert blocks.fixed_effects == pytest.approx(stacked.fixed_effects, rel=1e-9, abs=1e-12)
    assert blocks.random_effects_cov == pytest.approx(stacked.random_effects_cov, rel=1e-7)
    assert blocks.deviance == pytest.approx(stacked.deviance, abs=1e-8)
    with pytest.raises(UsageError, match="one number of rows"):
        fit_design([np.ones_like(t), spline[:-1]], t, y, groups)


def test_design_engine_converges_from_a_nearby_start_and_from_lme4s():
    # Newton steps from a nearby answer and SLSQP from lme4's start reach one minimum
    data = covariate_cohort()
    t = data["age"].to_numpy() - 7
    x = [np.ones_like(t), natural_spline_basis(data["age"], (6.0, 11.0), (1.0, 20.0))]
    y, groups = data["value"].to_numpy(), data["subject"].to_numpy()
    plain = fit_design(x, t, y, groups, reml=False)
    near = fit_reml(t, y, groups)
    started = fit_design(
        x, t, y, groups, reml=False, start=near.random_effects_cov / near.residual_variance
    )
    assert plain.converged and started.converged
    assert started.deviance == pytest.approx(plain.deviance, abs=1e-7)
    assert started.random_effects_cov == pytest.approx(plain.random_effects_cov, rel=1e-4)
