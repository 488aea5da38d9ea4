"""Known-answer tests of the natural-history growth curve (linear mixed model on age) and its REML engine."""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from pmpath.errors import AnalysisError, ConvergenceError
from pmpath.natural_history import GrowthCurve, fit_longitudinal, growth, reml
from pmpath.natural_history.reml import (
    RemlFit,
    SubjectMoments,
    fit_reml,
    profiled_deviance,
    relative_factor,
)

FIXTURES = Path(__file__).parent / "fixtures" / "natural_history"


def sleepstudy() -> pd.DataFrame:
    raw = pd.read_csv(FIXTURES / "sleepstudy.csv")
    return raw.rename(columns={"Subject": "subject", "Days": "age", "Reaction": "value"})


def simulate(
    n_subjects: int,
    ages: np.ndarray,
    beta: tuple[float, float],
    g: np.ndarray,
    sigma: float,
    center: float,
    seed: int,
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    u = rng.multivariate_normal([0.0, 0.0], g, size=n_subjects)
    rows = []
    for i in range(n_subjects):
        y = (
            beta[0]
            + u[i, 0]
            + (beta[1] + u[i, 1]) * (ages - center)
            + rng.normal(0, sigma, len(ages))
        )
        rows += [(f"s{i}", a, v) for a, v in zip(ages, y, strict=True)]
    return pd.DataFrame(rows, columns=["subject", "age", "value"])


def test_sleepstudy_against_lme4():
    # lme4: lmer(Reaction ~ Days + (Days | Subject), sleepstudy), REML (see fixtures/natural_history/README.md)
    fit = fit_longitudinal(sleepstudy(), "reaction", age_center=0)
    assert fit.random_structure == "intercept_and_slope"
    assert fit.converged
    assert fit.intercept == pytest.approx(251.405, abs=1e-3)
    assert fit.intercept_se == pytest.approx(6.825, abs=1e-3)
    assert fit.slope == pytest.approx(10.467, abs=1e-3)
    assert fit.slope_se == pytest.approx(1.546, abs=1e-3)
    sd_intercept, sd_slope = fit.random_effects_sd
    assert sd_intercept == pytest.approx(24.741, abs=2e-3)
    assert sd_slope == pytest.approx(5.922, abs=2e-3)
    assert fit.random_effects_correlation == pytest.approx(0.066, abs=1e-3)
    assert fit.residual_sd == pytest.approx(25.592, abs=2e-3)
    assert -2 * fit.log_likelihood == pytest.approx(
        1743.6, abs=0.05
    )  # lme4's "REML criterion at convergence"
    assert (fit.n_subjects, fit.n_observations) == (18, 180)
    assert fit.person_years == pytest.approx(18 * 9)  # every subject followed from day 0 to day 9
    assert (
        fit.optimizer == growth.REML_ENGINE
    )  # the profiled-REML engine, not the statsmodels fallback


def test_default_center_is_rounded_mean_age_and_moves_only_the_intercept():
    # Mean of Days is 4.5, which rounds (half to even) to 4; the intercept there is lme4's 251.405 + 4 * 10.467.
    fit = fit_longitudinal(sleepstudy(), "reaction")
    assert fit.age_center == 4.0
    assert fit.slope == pytest.approx(10.467, abs=1e-3)
    assert fit.intercept == pytest.approx(251.405 + 4 * 10.467, abs=5e-3)
    assert fit.random_effects_sd[1] == pytest.approx(5.922, abs=2e-3)


def test_band_is_the_hand_computed_marginal_range():
    g = np.array([[4.0, 0.6], [0.6, 0.25]])
    v = np.array([[0.09, 0.01], [0.01, 0.04]])
    curve = GrowthCurve(
        endpoint="x", scale="identity", age_center=10.0, fixed_effects=np.array([50.0, 2.0]), fixed_effects_cov=v,
        random_effects_cov=g, residual_variance=1.0, n_subjects=30, n_observations=200, person_years=100.0, converged=True,
    )  # fmt: skip
    # at age 12: x = (1, 2); x'Gx = 4 + 2*2*0.6 + 4*0.25 = 7.4; x'Vx = 0.09 + 0.04 + 0.16 = 0.29
    band = curve.band([12.0], level=0.9)
    z = stats.norm.ppf(0.95)
    assert band.mean[0] == pytest.approx(54.0)
    assert band.lower[0] == pytest.approx(54.0 - z * np.sqrt(7.4 + 1.0 + 0.29))
    assert band.upper[0] == pytest.approx(54.0 + z * np.sqrt(7.4 + 1.0 + 0.29))
    narrow = curve.band(
        [12.0], level=0.9, include_residual=False, include_parameter_uncertainty=False
    )
    assert narrow.upper[0] - narrow.mean[0] == pytest.approx(z * np.sqrt(7.4))
    log_curve = dataclasses.replace(curve, scale="log", fixed_effects=np.array([np.log(50.0), 0.1]))
    log_band = log_curve.band([10.0], level=0.9)
    # at the centre x = (1, 0): variance 4 + 1 + 0.09, back-transformed with exp
    assert log_band.mean[0] == pytest.approx(50.0)
    assert log_band.upper[0] == pytest.approx(50.0 * np.exp(z * np.sqrt(5.09)))
    assert log_curve.mean_at(11.0)[0] == pytest.approx(50.0 * np.exp(0.1))


def test_simulated_truth_recovered_and_band_covers_new_subjects():
    truth_g = np.array([[9.0, 0.3], [0.3, 0.25]])
    ages = np.arange(2.0, 12.0, 1.5)
    data = simulate(80, ages, (40.0, 1.5), truth_g, sigma=2.0, center=7.0, seed=11)
    fit = fit_longitudinal(data, "score", age_center=7.0)
    lo, hi = fit.slope_ci()
    assert lo < 1.5 < hi
    lo, hi = fit.intercept_ci()
    assert lo < 40.0 < hi
    assert fit.random_effects_sd[0] == pytest.approx(3.0, rel=0.3)
    assert fit.random_effects_sd[1] == pytest.approx(0.5, rel=0.3)
    assert fit.residual_sd == pytest.approx(2.0, rel=0.1)
    # New untreated subjects from the same truth fall in the 95% band about 95% of the time.
    new = simulate(400, ages, (40.0, 1.5), truth_g, sigma=2.0, center=7.0, seed=12)
    band = fit.band(new["age"].to_numpy(), 0.95)
    inside = np.mean(
        (new["value"].to_numpy() >= band.lower) & (new["value"].to_numpy() <= band.upper)
    )
    assert 0.92 < inside < 0.98


def test_log_scale_fits_log_values():
    g = np.array([[0.04, 0.0], [0.0, 0.0025]])
    data = simulate(
        60, np.arange(0.0, 10.0, 2.0), (np.log(300.0), 0.08), g, sigma=0.1, center=5.0, seed=3
    )
    data["value"] = np.exp(data["value"])
    fit = fit_longitudinal(data, "phe", scale="log", age_center=5.0)
    assert fit.scale == "log"
    lo, hi = fit.slope_ci()
    assert lo < 0.08 < hi
    assert fit.mean_at(5.0)[0] == pytest.approx(np.exp(fit.intercept))
    data.loc[3, "value"] = 0.0
    with pytest.raises(AnalysisError, match="values > 0"):
        fit_longitudinal(data, "phe", scale="log")


def test_singular_slope_variance_falls_back_to_random_intercept():
    # Every subject's own least-squares slope is exactly 2 (the noise is projected off span{1, age}),
    # so the slopes do not vary between subjects: the REML slope variance is on its boundary at 0.
    rng = np.random.default_rng(1)
    ages = np.arange(5.0)
    x = np.column_stack([np.ones(5), ages])
    resid = np.eye(5) - x @ np.linalg.pinv(x)
    rows = []
    for s in range(30):
        y = 10 + rng.normal(0, 3) + 2 * ages + resid @ rng.normal(0, 1, 5)
        rows += [(s, a, v) for a, v in zip(ages, y, strict=True)]
    fit = fit_longitudinal(pd.DataFrame(rows, columns=["subject", "age", "value"]), "score")
    assert fit.random_structure == "intercept"
    assert any("random intercept only" in n for n in fit.notes)
    assert fit.random_effects_cov[1, 1] == 0.0
    assert fit.slope == pytest.approx(2.0, abs=1e-6)  # balanced design: the common slope exactly


def test_no_optimizer_converging_raises_convergence_error_saying_what_to_try(monkeypatch):
    from statsmodels.regression.mixed_linear_model import MixedLM

    def failing_fit(self, *args, **kwargs):
        raise np.linalg.LinAlgError("Singular matrix")

    def failing_reml(*args, **kwargs):
        raise ConvergenceError("the REML criterion could not be evaluated from any start")

    monkeypatch.setattr(growth, "fit_reml", failing_reml)
    monkeypatch.setattr(MixedLM, "fit", failing_fit)
    with pytest.raises(ConvergenceError, match="Try scale='log'") as info:
        fit_longitudinal(sleepstudy(), "reaction")
    assert "lbfgs" in str(info.value) and "nm" in str(info.value)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"subject": [1, 2], "value": [1.0, 2.0]}), "missing column"),
        (
            pd.DataFrame({"subject": [1, 1, 1], "age": [1.0, 2.0, 3.0], "value": [1.0, 2.0, 3.0]}),
            "at least 2 subjects",
        ),
        (
            pd.DataFrame({"subject": [1, 2, 3], "age": [4.0, 4.0, 4.0], "value": [1.0, 2.0, 3.0]}),
            "spread of ages",
        ),
        (
            pd.DataFrame(
                {"subject": [1, 2, 3], "age": [1.0, 2.0, 3.0], "value": [1.0, "n/a", 3.0]}
            ),
            "not finite",
        ),
    ],
)
def test_unusable_tables_raise_analysis_error(frame, message):
    with pytest.raises(AnalysisError, match=message):
        fit_longitudinal(frame, "score")


# ---------------------------------------------------------------------- the REML engine


def unbalanced(
    seed: int, n_subjects: int, g: np.ndarray, sigma: float, keep: float
) -> pd.DataFrame:
    """Visits every 1.5 years from age 0 to 15 with jitter; each kept with probability ``keep`` (at least one)."""
    rng = np.random.default_rng(seed)
    u = rng.multivariate_normal([0.0, 0.0], g, size=n_subjects)
    visits = np.arange(0.0, 16.0, 1.5)
    rows = []
    for i in range(n_subjects):
        kept = visits[rng.random(len(visits)) < keep]
        ages = (kept if kept.size else visits[:1]) + rng.normal(0, 0.2)
        y = 20 + u[i, 0] + (1.5 + u[i, 1]) * (ages - 8) + rng.normal(0, sigma, len(ages))
        rows += [(f"s{i}", a, v) for a, v in zip(ages, y, strict=True)]
    return pd.DataFrame(rows, columns=["subject", "age", "value"])


def dense_reml_deviance(theta, t, y, groups, structure):
    """-2 REML log-likelihood profiled over s^2, from the n x n covariance written out in full."""
    lam = relative_factor(theta, structure)
    x = np.column_stack([np.ones_like(t), t])
    v = np.eye(len(y))
    for g in np.unique(groups):
        i = np.flatnonzero(groups == g)
        v[np.ix_(i, i)] += x[i] @ lam @ lam.T @ x[i].T
    v_inv = np.linalg.inv(v)
    xvx = x.T @ v_inv @ x
    beta = np.linalg.solve(xvx, x.T @ v_inv @ y)
    r2 = (y - x @ beta) @ v_inv @ (y - x @ beta)
    dof = len(y) - 2
    return (
        np.linalg.slogdet(v)[1]
        + np.linalg.slogdet(xvx)[1]
        + dof * (1 + np.log(2 * np.pi * r2 / dof))
    )


@pytest.mark.parametrize("structure", ["correlated", "uncorrelated", "intercept_only"])
def test_profiled_deviance_and_gradient_equal_the_dense_computation(structure):
    # The Woodbury / sufficient-statistic algebra against the textbook formula with V built in full
    # (Bates et al. 2015, eq. 42: the profiled REML criterion), at arbitrary theta; subjects with 1 visit included.
    data = unbalanced(4, 25, np.array([[4.0, -0.5], [-0.5, 0.36]]), 1.5, keep=0.2)
    t, y, groups = data["age"].to_numpy() - 8, data["value"].to_numpy(), data["subject"].to_numpy()
    assert (data.groupby("subject").size() == 1).any()
    moments = SubjectMoments.from_data(t, y, groups)
    rng = np.random.default_rng(0)
    for _ in range(5):
        low, high = {
            "correlated": ([0.05, -2, 0.05], [3, 2, 3]),
            "uncorrelated": ([0.05, 0.05], [3, 3]),
            "intercept_only": ([0.05], [3]),
        }[structure]
        theta = rng.uniform(low, high)
        value, gradient = profiled_deviance(theta, moments, structure)
        assert value == pytest.approx(
            dense_reml_deviance(theta, t, y, groups, structure), rel=1e-10
        )
        steps = np.eye(len(theta)) * 1e-6
        numeric = [
            (profiled_deviance(theta + e, moments, structure)[0] - profiled_deviance(theta - e, moments, structure)[0]) / 2e-6
            for e in steps
        ]  # fmt: skip
        assert gradient == pytest.approx(numeric, rel=1e-5, abs=1e-5)


def balanced(seed: int, n_subjects: int, ages: np.ndarray, g: np.ndarray, sigma: float):
    rng = np.random.default_rng(seed)
    u = rng.multivariate_normal([0.0, 0.0], g, size=n_subjects)
    y = 20 + u[:, :1] + (1.5 + u[:, 1:]) * ages + rng.normal(0, sigma, (n_subjects, len(ages)))
    return y  # (subjects, visits), every subject seen at the same ``ages``


def _flatten(y: np.ndarray, ages: np.ndarray):
    m, k = y.shape
    return np.tile(ages, m), y.ravel(), np.repeat(np.arange(m), k)


def test_balanced_random_slope_fit_is_the_closed_form_reml():
    # With every subject seen at the same ages the REML estimates have a closed form (when G is inside
    # the parameter space): the likelihood splits into within-subject residuals (s^2 = pooled RSS / m(k-2))
    # and the subjects' own least-squares lines b_i ~ N(beta, G + s^2 (X0'X0)^-1), whose REML estimate is
    # their sample covariance S_b. So G = S_b - s^2 (X0'X0)^-1, beta = mean b_i, Cov(beta) = S_b / m.
    ages = np.arange(-5.0, 6.0, 2.0)
    y = balanced(5, 30, ages, np.array([[9.0, 0.6], [0.6, 0.25]]), sigma=2.0)
    m, k = y.shape
    x0 = np.column_stack([np.ones(k), ages])
    b = np.linalg.lstsq(x0, y.T, rcond=None)[0].T
    rss = ((y - b @ x0.T) ** 2).sum()
    s2 = rss / (m * (k - 2))
    s_b = np.cov(b.T)
    g = s_b - s2 * np.linalg.inv(x0.T @ x0)
    assert np.all(np.linalg.eigvalsh(g) > 0)  # inside: the closed form applies
    fit = fit_reml(*_flatten(y, ages))
    assert fit.converged
    assert fit.residual_variance == pytest.approx(s2, rel=1e-7)
    np.testing.assert_allclose(fit.random_effects_cov, g, rtol=1e-6)
    np.testing.assert_allclose(fit.fixed_effects, b.mean(axis=0), rtol=1e-9)
    np.testing.assert_allclose(fit.fixed_effects_cov, s_b / m, rtol=1e-6)


def test_balanced_random_intercept_fit_is_the_anova_estimate():
    # Balanced one-way random intercept with a common slope: REML equals the ANOVA estimates
    # (Searle, Casella & McCulloch 1992, ch. 3-4): s^2 = MSE of y ~ subject + age (df N - m - 1),
    # s_u^2 = (MSB - MSE) / k with MSB = k var(subject means); with ages centred, the intercept is the
    # grand mean with variance MSB / (m k) and the slope has variance MSE / (m sum (a - mean a)^2).
    ages = np.arange(-4.0, 5.0, 2.0)
    y = balanced(6, 25, ages, np.array([[6.0, 0.0], [0.0, 0.0]]), sigma=1.5)
    m, k = y.shape
    slope = ((y - y.mean(axis=1, keepdims=True)) @ ages).sum() / (m * (ages**2).sum())
    resid = y - y.mean(axis=1, keepdims=True) - slope * ages
    mse = (resid**2).sum() / (m * k - m - 1)
    msb = k * y.mean(axis=1).var(ddof=1)
    fit = fit_reml(*_flatten(y, ages), structure="intercept_only")
    assert fit.converged
    assert fit.residual_variance == pytest.approx(mse, rel=1e-7)
    assert fit.random_effects_cov[0, 0] == pytest.approx((msb - mse) / k, rel=1e-6)
    assert fit.random_effects_cov[1, 1] == 0.0
    np.testing.assert_allclose(fit.fixed_effects, [y.mean(), slope], rtol=1e-9)
    np.testing.assert_allclose(
        fit.fixed_effects_cov,
        np.diag([msb / (m * k), mse / (m * (ages**2).sum())]),
        rtol=1e-6,
        atol=1e-12,
    )


def _scaled_gap(a: np.ndarray, b: np.ndarray) -> float:
    """Largest difference of two covariance matrices in units of sqrt(b_ii b_jj) (relative, correlation-scaled)."""
    scale = np.sqrt(np.outer(np.diag(b), np.diag(b)))
    return float(np.max(np.abs(a - b) / scale))


@pytest.mark.parametrize(
    ("seed", "g", "sigma", "keep"),
    [
        (1, np.array([[9.0, 0.6], [0.6, 0.25]]), 2.0, 1.0),  # every visit kept
        (
            2,
            np.array([[4.0, -0.5], [-0.5, 0.36]]),
            1.5,
            0.5,
        ),  # unbalanced, some single-visit subjects
        (
            3,
            np.array([[9.0, 0.0], [0.0, 0.004]]),
            2.0,
            0.8,
        ),  # near-singular: slope SD 0.06 vs residual 2
    ],
    ids=["balanced", "unbalanced", "near-singular"],
)
def test_reml_engine_matches_statsmodels_mixedlm(seed, g, sigma, keep):
    from statsmodels.regression.mixed_linear_model import MixedLM

    data = unbalanced(seed, 50, g, sigma, keep)
    t, y, groups = data["age"].to_numpy() - 8, data["value"].to_numpy(), data["subject"].to_numpy()
    ours = fit_reml(t, y, groups)
    x = np.column_stack([np.ones_like(t), t])
    # statsmodels' optimizers each fail on some of these data sets: keep its best converged fit
    peers = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for method in ("bfgs", "lbfgs", "powell"):
            result = MixedLM(y, x, groups=groups, exog_re=x).fit(reml=True, method=method)
            peers += [result] if result.converged else []
    peer = max(peers, key=lambda r: r.llf)
    g_peer = np.asarray(peer.cov_re)
    assert ours.converged
    assert ours.deviance <= -2 * peer.llf + 1e-6  # never a worse REML optimum than statsmodels
    assert ours.deviance == pytest.approx(-2 * peer.llf, abs=1e-5)
    assert _scaled_gap(ours.random_effects_cov, g_peer) < 1e-4
    assert ours.residual_variance == pytest.approx(peer.scale, rel=1e-4)
    fe_se = np.sqrt(np.diag(ours.fixed_effects_cov))
    assert np.max(np.abs(ours.fixed_effects - peer.fe_params) / fe_se) < 1e-4
    # Cov(beta) = s^2 (X'V^-1X)^-1 as lme4's vcov, here evaluated densely at statsmodels' estimates.
    # statsmodels' own cov_params inverts the joint information of all parameters, a different
    # estimator: 0.1% apart on these data, a few % on some unbalanced cohorts.
    v = np.eye(len(y)) * peer.scale
    for s in np.unique(groups):
        i = np.flatnonzero(groups == s)
        v[np.ix_(i, i)] += x[i] @ g_peer @ x[i].T
    vcov = np.linalg.inv(x.T @ np.linalg.solve(v, x))
    assert _scaled_gap(ours.fixed_effects_cov, vcov) < 1e-4
    assert _scaled_gap(ours.fixed_effects_cov, np.asarray(peer.cov_params())[:2, :2]) < 2e-2


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    scale=st.floats(0.01, 100.0),
    shift=st.floats(-20.0, 20.0),
    age_shift=st.floats(-30.0, 30.0),
    random_slope=st.booleans(),
)
def test_reml_fit_is_equivariant_under_units_and_origin(
    seed, scale, shift, age_shift, random_slope
):
    # y -> shift + scale * y multiplies beta's slope, G and s^2 by scale (squared) and adds
    # (n - p) log(scale^2) to the criterion (r^2 scales by scale^2); moving the age origin by age_shift
    # moves the intercept by slope * age_shift and leaves the slope, its variance, s^2 and the criterion alone.
    data = unbalanced(seed, 20, np.array([[4.0, 0.3], [0.3, 0.2]]), 1.0, keep=0.7)
    t, y, groups = data["age"].to_numpy() - 8, data["value"].to_numpy(), data["subject"].to_numpy()
    base = fit_reml(t, y, groups, structure=random_slope)
    moved = fit_reml(t - age_shift, shift + scale * y, groups, structure=random_slope)
    assert base.converged and moved.converged
    dof = len(y) - 2
    assert moved.deviance == pytest.approx(base.deviance + dof * np.log(scale**2), abs=1e-5)
    assert moved.residual_variance == pytest.approx(scale**2 * base.residual_variance, rel=1e-5)
    b0, b1 = base.fixed_effects
    assert moved.fixed_effects[1] == pytest.approx(scale * b1, rel=1e-6, abs=1e-9 * scale)
    assert moved.fixed_effects[0] == pytest.approx(
        shift + scale * (b0 + b1 * age_shift), rel=1e-6, abs=1e-6 * scale
    )
    # G at the new origin: A G A' with A = [[1, age_shift], [0, 1]], times scale^2
    a = np.array([[1.0, age_shift], [0.0, 1.0]])
    g = base.random_effects_cov
    expected = scale**2 * (a @ g @ a.T if random_slope else g)
    assert _scaled_gap(moved.random_effects_cov[: 1 + random_slope, : 1 + random_slope],
                       expected[: 1 + random_slope, : 1 + random_slope]) < 1e-4  # fmt: skip


def test_reml_engine_failing_falls_back_to_statsmodels(monkeypatch):
    def failing_reml(*args, **kwargs):
        raise ConvergenceError("the REML criterion could not be evaluated from any start")

    monkeypatch.setattr(growth, "fit_reml", failing_reml)
    fit = fit_longitudinal(sleepstudy(), "reaction", age_center=0)
    assert fit.optimizer.startswith("statsmodels/")
    assert any("profiled-reml/SLSQP (correlated): ConvergenceError" in n for n in fit.notes)
    # lme4's answer (fixtures/natural_history/README.md) from the fallback engine too
    assert fit.slope == pytest.approx(10.467, abs=1e-3)
    assert fit.random_effects_sd[1] == pytest.approx(5.922, abs=2e-3)


def test_reml_engine_not_converging_falls_back_to_statsmodels(monkeypatch):
    def unconverged(t, y, groups, *, structure="correlated"):
        fit = fit_reml(t, y, groups, structure=structure)
        return dataclasses.replace(fit, converged=False, gradient=1.0)

    monkeypatch.setattr(growth, "fit_reml", unconverged)
    fit = fit_longitudinal(sleepstudy(), "reaction", age_center=0)
    assert fit.optimizer.startswith("statsmodels/") and fit.converged
    assert any("profiled-reml/SLSQP (correlated): did not converge" in n for n in fit.notes)
    assert fit.intercept == pytest.approx(251.405, abs=1e-3)


def test_reml_fit_reports_lme4_criterion_and_rejects_degenerate_input():
    data = sleepstudy()
    fit = fit_reml(data["age"].to_numpy(), data["value"].to_numpy(), data["subject"].to_numpy())
    assert isinstance(fit, RemlFit) and fit.random_slope
    assert fit.deviance == pytest.approx(1743.6, abs=0.05)  # lme4's REML criterion, fixture README
    assert fit.log_likelihood == pytest.approx(-871.81, abs=0.01)
    with pytest.raises(AnalysisError, match="expected a spread"):
        fit_reml(np.ones(6), np.arange(6.0), np.repeat([1, 2], 3))
    with pytest.raises(AnalysisError, match="at least 3"):
        fit_reml(np.arange(2.0), np.arange(2.0), np.array([1, 2]))


def test_scaled_gradient_is_the_newton_decrement_of_the_criterion():
    # With one parameter (random intercept only) the scaled gradient is |g| / sqrt(H), and near the
    # minimum the criterion is quadratic: deviance(theta) - deviance(minimum) = (g^2 / H) / 2.
    data = sleepstudy()
    t, y = data["age"].to_numpy(dtype=float), data["value"].to_numpy(dtype=float)
    fit = fit_reml(t, y, data["subject"].to_numpy(), structure="intercept_only")
    moments = SubjectMoments.from_data(t, y, data["subject"].to_numpy())
    theta_hat = np.sqrt(fit.random_effects_cov[0, 0] / fit.residual_variance)
    low, _ = profiled_deviance(np.array([theta_hat]), moments, "intercept_only")
    theta = np.array([theta_hat * 1.02])
    value, gradient = profiled_deviance(theta, moments, "intercept_only")

    def evaluate(th):
        return profiled_deviance(th, moments, "intercept_only")

    scaled = reml._scaled_gradient(evaluate, theta, gradient, reml._structure("intercept_only"))
    assert scaled**2 / 2 == pytest.approx(value - low, rel=0.05)
    assert (
        reml._scaled_gradient(evaluate, np.array([theta_hat]), np.zeros(1), reml._structure(False))
        == 0.0
    )


def test_large_cohort_converges_on_the_scaled_gradient_without_statsmodels(monkeypatch):
    # 10,000 subjects x 28 visits: the criterion is of order 10^6 and the last digits of its raw
    # gradient are rounding noise above the 1e-3 tolerance, although no step can lower it; judged on
    # the raw gradient alone the fit was "not converged" and went to statsmodels, which took minutes.
    rng = np.random.default_rng(11)
    m, k = 10_000, 28
    entry = rng.uniform(0.0, 12.0, (m, 1))
    ages = entry + np.sort(rng.uniform(0.0, 6.0, (m, k)), axis=1)
    u0, u1 = rng.normal(0.0, 50.0, (m, 1)), rng.normal(0.0, 5.0, (m, 1))
    value = 350.0 + u0 + (-12.0 + u1) * (ages - 5.0) + rng.normal(0.0, 20.0, (m, k))
    table = pd.DataFrame(
        {
            "subject": np.repeat([f"S{i:05d}" for i in range(m)], k),
            "age": ages.ravel(),
            "value": value.ravel(),
        }
    )

    def no_statsmodels(*args, **kwargs):
        raise AssertionError("statsmodels' fallback ran")

    monkeypatch.setattr(growth, "_statsmodels_attempt", no_statsmodels)
    curve = fit_longitudinal(table, "dose", age_center=5)
    assert curve.converged and curve.optimizer == growth.REML_ENGINE
    assert curve.random_structure == "intercept_and_slope"
    lo, hi = curve.slope_ci(0.999)
    assert lo < -12.0 < hi  # the simulated truth
    assert curve.random_effects_sd == pytest.approx((50.0, 5.0), rel=0.05)
    assert curve.residual_sd == pytest.approx(20.0, rel=0.01)
    raw = fit_reml(ages.ravel() - 5, value.ravel(), table["subject"].to_numpy())
    assert raw.converged
    if raw.gradient >= 1e-3:  # the case this test is about: converged on the scaled gradient
        assert raw.scaled_gradient < 1e-3


def test_statsmodels_fallback_is_not_tried_for_a_cohort_too_large_for_it(monkeypatch):
    def unconverged(t, y, groups, *, structure="correlated"):
        fit = fit_reml(t, y, groups, structure=structure)
        return dataclasses.replace(fit, converged=False, gradient=1.0)

    def no_statsmodels(*args, **kwargs):
        raise AssertionError("statsmodels' fallback ran")

    monkeypatch.setattr(growth, "fit_reml", unconverged)
    monkeypatch.setattr(growth, "_statsmodels_attempt", no_statsmodels)
    monkeypatch.setattr(growth, "FALLBACK_MAX_SUBJECTS", 10)  # sleepstudy has 18 subjects
    with pytest.raises(ConvergenceError, match="statsmodels' fallback not tried for 18 subjects"):
        fit_longitudinal(sleepstudy(), "reaction", age_center=0)


def test_subject_codes_follow_the_sorted_labels():
    labels = np.array(["b", "a", "c", "a", "b"], dtype=object)
    _, expected = np.unique(labels.astype(str), return_inverse=True)
    np.testing.assert_array_equal(reml.subject_codes(labels), expected)
    np.testing.assert_array_equal(reml.subject_codes(pd.Series(labels, dtype="str")), expected)
    np.testing.assert_array_equal(reml.subject_codes(np.array([10, 2, 2, 7])), [2, 0, 0, 1])
    codes = np.array([1, 0, 2, 1])  # already codes 0 .. m - 1: returned as they are
    np.testing.assert_array_equal(reml.subject_codes(codes), codes)
    with pytest.raises(ValueError, match="missing subject label"):
        reml.subject_codes(np.array(["a", None, "b"], dtype=object))
