"""Progressive disease: the untreated prediction (BLUP), its regression-to-the-mean flags and plot data.

Known answers are hand computations (random-intercept shrinkage, the marginal variance), the
Gaussian conditioning formula (Schur complement) and the truth of simulations. The decision on the
prediction (:func:`pmpath.outcomes.judge_trajectory`) is tested in ``test_outcomes_decision.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from pmpath.errors import AnalysisError
from pmpath.outcomes import UntreatedModel, judge_trajectory, predict_untreated

B = np.array([50.0, -5.0])
G_FULL = np.array([[25.0, 2.0], [2.0, 4.0]])


def intercept_model(
    g: float = 4.0, s2: float = 1.0, vb: np.ndarray | None = None
) -> UntreatedModel:
    return UntreatedModel(
        B, np.zeros((2, 2)) if vb is None else vb, np.diag([g, 0.0]), s2, age_center=10.0
    )


def test_random_intercept_blup_is_the_hand_shrinkage():
    # G = diag(g, 0), known fixed effects: u0 = g / (g + s2/n) * mean residual;
    # conditional variance 1 / (1/g + n/s2); prediction variance adds s2.
    g, s2 = 4.0, 1.0
    model = intercept_model(g, s2)
    ages = np.array([8.0, 9.0, 10.0])
    residuals = np.array([2.0, 3.0, 4.0])
    values = B[0] + B[1] * (ages - 10.0) + residuals
    p = predict_untreated(model, ages, values, [11.0, 12.0])
    shrink = g / (g + s2 / 3)  # 12/13
    assert p.random_effects[0] == pytest.approx(shrink * 3.0)  # 36/13
    assert p.random_effects[1] == pytest.approx(0.0)
    assert p.mean == pytest.approx(B[0] + B[1] * np.array([1.0, 2.0]) + 36 / 13)
    assert p.sd**2 == pytest.approx([4 / 13 + 1, 4 / 13 + 1])
    assert p.random_effects_cov[0, 0] == pytest.approx(4 / 13)
    # the two post visits share the intercept: their covariance is its conditional variance
    assert p.covariance[0, 1] == pytest.approx(4 / 13)
    q = stats.norm.ppf(0.975)
    assert p.upper - p.mean == pytest.approx(q * p.sd)


def test_fixed_effect_uncertainty_is_propagated_through_the_blup():
    # Intercept-only with Vb = diag(0.5, 0.2); pre ages c-2, c-1, c (mean offset -1), post at c+1.
    # The predictor's error loads on (b - b_hat) with a = (1 - w, t_f - w * t_bar), w = n g / (s2 + n g).
    vb = np.diag([0.5, 0.2])
    model = intercept_model(4.0, 1.0, vb)
    w = 12 / 13
    a = np.array([1 - w, 1 - w * (-1.0)])  # (1/13, 25/13)
    expected = a @ vb @ a + 4 / 13 + 1
    assert expected == pytest.approx(125.5 / 169 + 4 / 13 + 1)
    p = predict_untreated(model, [8.0, 9.0, 10.0], [60.0, 55.0, 50.0], [11.0])
    assert p.sd[0] ** 2 == pytest.approx(expected)


def test_full_random_effects_match_gaussian_conditioning():
    # With known fixed effects the BLUP prediction is the conditional mean and variance of the joint
    # Gaussian (y_pre, y_post): Schur complement of Cov = X G X' + s2 I.
    s2 = 3.0
    model = UntreatedModel(B, np.zeros((2, 2)), G_FULL, s2, 10.0)
    pre_ages, post_ages = np.array([7.0, 8.0, 8.5, 9.5]), np.array([10.5, 11.0, 12.0])
    y = np.array([66.0, 60.0, 59.0, 52.0])
    X = np.column_stack([np.ones(7), np.concatenate([pre_ages, post_ages]) - 10.0])
    cov = X @ G_FULL @ X.T + s2 * np.eye(7)
    mu = X @ B
    spp, sfp, sff = cov[:4, :4], cov[4:, :4], cov[4:, 4:]
    cond_mean = mu[4:] + sfp @ np.linalg.solve(spp, y - mu[:4])
    cond_cov = sff - sfp @ np.linalg.solve(spp, sfp.T)
    p = predict_untreated(model, pre_ages, y, post_ages)
    np.testing.assert_allclose(p.mean, cond_mean, rtol=1e-10)
    np.testing.assert_allclose(p.covariance, cond_cov, rtol=1e-10)


def test_no_pre_measurement_gives_the_marginal_prediction():
    vb = np.diag([0.5, 0.1])
    model = UntreatedModel(B, vb, G_FULL, 2.0, 10.0)
    p = predict_untreated(model, [], [], [12.0])
    x = np.array([1.0, 2.0])
    assert not p.conditional
    assert "population" in p.note
    assert p.mean[0] == pytest.approx(B @ x)
    assert p.sd[0] ** 2 == pytest.approx(x @ (vb + G_FULL) @ x + 2.0)


def test_prediction_error_variance_matches_simulation():
    # Truth of a simulation: b_hat ~ N(b, Vb) (the cohort's estimate), the patient's u ~ N(0, G), noise.
    rng = np.random.default_rng(11)
    vb = np.array([[1.0, 0.1], [0.1, 0.3]])
    pre_ages, post_age = np.array([8.0, 9.0, 10.0]), np.array([12.0])
    errors = []
    for _ in range(3000):
        b_hat = rng.multivariate_normal(B, vb)
        u = rng.multivariate_normal([0, 0], G_FULL)
        ages = np.concatenate([pre_ages, post_age])
        y = (B[0] + u[0]) + (B[1] + u[1]) * (ages - 10) + rng.normal(0, np.sqrt(2.0), 4)
        model = UntreatedModel(b_hat, vb, G_FULL, 2.0, 10.0)
        errors.append(y[3] - predict_untreated(model, pre_ages, y[:3], post_age).mean[0])
    model = UntreatedModel(B, vb, G_FULL, 2.0, 10.0)
    expected = predict_untreated(model, pre_ages, [0.0, 0.0, 0.0], post_age).sd[0] ** 2
    assert np.mean(errors) == pytest.approx(0.0, abs=4 * np.sqrt(expected / 3000))
    assert np.var(errors) == pytest.approx(
        expected, rel=0.08
    )  # SE of a variance: sqrt(2/3000) = 2.6%


def test_log_scale_is_the_identity_model_on_log_values():
    model_log = UntreatedModel(
        np.array([np.log(50.0), -0.1]),
        np.diag([0.01, 0.001]),
        np.diag([0.04, 0.01]),
        0.01,
        10.0,
        "log",
    )
    model_id = UntreatedModel(
        np.array([np.log(50.0), -0.1]), np.diag([0.01, 0.001]), np.diag([0.04, 0.01]), 0.01, 10.0
    )
    pre, values, post = [8.0, 9.0], np.array([60.0, 52.0]), [11.0, 12.0]
    a = predict_untreated(model_log, pre, values, post)
    b = predict_untreated(model_id, pre, np.log(values), post)
    np.testing.assert_allclose(a.mean, b.mean)
    np.testing.assert_allclose(a.median_original, np.exp(b.mean))
    np.testing.assert_allclose(a.upper_original, np.exp(b.upper))
    with pytest.raises(AnalysisError, match="positive"):
        predict_untreated(model_log, pre, [60.0, 0.0], post)


def judge(model, pre_ages, pre, post_ages, post, direction="higher_is_better"):
    """The criterion-5 judgement with the first dose at the last pre-treatment age."""
    return judge_trajectory(
        model, pre_ages, pre, post_ages, post, direction, dosing_age=max(pre_ages, default=10.0)
    )


def test_regression_to_the_mean_flags():
    model = UntreatedModel(B, np.zeros((2, 2)), G_FULL, 1.0, 10.0)
    # last of three pre values is the worst against the population course 60, 55, 50 (higher is better)
    worst_last = judge(model, [8.0, 9.0, 10.0], [62.0, 56.0, 49.0], [11.0, 12.0], [50.0, 50.0])
    assert worst_last.regression_to_mean
    assert any("worst pre-treatment value" in f for f in worst_last.flags)
    # the last value beyond the population band on the harmful side: marginal SD at age 10 is sqrt(26)
    low = B[0] - 3 * np.sqrt(26.0)
    beyond = judge(model, [10.0], [low], [11.0, 12.0], [low, low])
    assert beyond.regression_to_mean
    assert any("beyond the population" in f for f in beyond.flags)
    # just inside the band: no flag (the band's half-width is 1.96 marginal SDs)
    inside = B[0] - 1.9 * np.sqrt(26.0)
    assert not judge(model, [10.0], [inside], [11.0, 12.0], [inside, inside]).regression_to_mean
    # mirrored for lower-is-better: a high value is the harmful one
    high = B[0] + 3 * np.sqrt(26.0)
    assert judge(
        model, [10.0], [high], [11.0, 12.0], [high, high], "lower_is_better"
    ).regression_to_mean
    assert not judge(model, [10.0], [low], [11.0, 12.0], [low, low], "lower_is_better").flags
    calm = judge(model, [8.0, 9.0, 10.0], [58.0, 57.0, 58.0], [11.0, 12.0], [50.0, 50.0])
    assert not calm.regression_to_mean and calm.flags == ()
    # falling values that merely follow the population's progression are not a bad moment
    progressing = judge(model, [8.0, 9.0, 10.0], [59.0, 55.0, 51.0], [11.0, 12.0], [50.0, 50.0])
    assert not progressing.regression_to_mean and progressing.flags == ()


def test_plot_grid_spans_pre_and_post():
    model = UntreatedModel(B, np.diag([0.5, 0.1]), G_FULL, 1.0, 10.0)
    r = judge(model, [8.0, 9.0], [60.0, 55.0], [11.0, 12.5], [52.0, 51.0])
    assert r.plot.grid_ages[0] == 8.0 and r.plot.grid_ages[-1] == 12.5
    assert np.all(r.plot.predicted_lower < r.plot.predicted_median)
    assert np.all(
        r.plot.population_upper - r.plot.population_lower
        > r.plot.predicted_upper - r.plot.predicted_lower
    )


def test_invalid_model_is_named():
    with pytest.raises(ValueError, match="random_effects_cov"):
        UntreatedModel(B, np.zeros((2, 2)), np.array([[1.0, 2.0], [2.0, 1.0]]), 1.0, 0.0)
    with pytest.raises(ValueError, match="residual_variance"):
        UntreatedModel(B, np.zeros((2, 2)), G_FULL, 0.0, 0.0)
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        UntreatedModel(np.zeros(3), np.zeros((2, 2)), G_FULL, 1.0, 0.0)


@settings(max_examples=40, deadline=None)
@given(
    ages=st.lists(st.floats(0.0, 20.0), min_size=1, max_size=6),
    values=st.lists(st.floats(-100.0, 100.0), min_size=7, max_size=7),
    post=st.floats(0.0, 25.0),
)
def test_more_pre_data_never_widens_the_prediction(ages, values, post):
    # With the fixed effects known, conditioning on one more measurement cannot increase the
    # conditional variance (it is the conditional variance of a Gaussian).
    model = UntreatedModel(B, np.zeros((2, 2)), G_FULL, 2.0, 10.0)
    fewer = predict_untreated(model, ages[:-1], values[: len(ages) - 1], [post])
    more = predict_untreated(model, ages, values[: len(ages)], [post])
    assert more.sd[0] <= fewer.sd[0] * (1 + 1e-9)
    assert more.sd[0] ** 2 >= 2.0 * (1 - 1e-9)  # never below the residual variance
