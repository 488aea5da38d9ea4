"""The criterion-5 rule for a continuous endpoint (:func:`pmpath.outcomes.judge_trajectory`), its batch form
and its simulator.

Known answers: the random-intercept shrinkage by hand, the joint prediction covariance of
:func:`pmpath.outcomes.predict_untreated` (the lme4-checked algebra), normal tail areas and conjugate
normal posteriors from ``scipy.stats.norm``, and the known truth of simulations.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from pmpath.dossier.vocabulary import DAYS_PER_YEAR, Status
from pmpath.errors import UsageError
from pmpath.outcomes import (
    DECISION_CODES,
    NormalPrior,
    TrajectoryRule,
    UntreatedModel,
    judge_trajectory,
    judge_trajectory_batch,
    predict_untreated,
    simulate_trajectory_patients,
)
from pmpath.outcomes.trajectory import _regression_to_mean_flags

B = np.array([50.0, -5.0])
VB = np.array([[0.5, 0.02], [0.02, 0.05]])
G = np.array([[25.0, 2.0], [2.0, 4.0]])
MODEL = UntreatedModel(B, VB, G, 4.0, age_center=10.0)
Z975 = stats.norm.ppf(0.975)


def intercept_model(g: float = 4.0, s2: float = 1.0) -> UntreatedModel:
    return UntreatedModel(B, np.zeros((2, 2)), np.diag([g, 0.0]), s2, age_center=10.0)


def course(model: UntreatedModel, ages, offset=0.0):
    ages = np.asarray(ages, dtype=float)
    return model.fixed_effects[0] + model.fixed_effects[1] * (ages - model.age_center) + offset


# --------------------------------------------------------------------------- closed forms


def test_random_intercept_effect_and_se_are_the_hand_shrinkage():
    # G = diag(g, 0), known fixed effects, n pre visits with residuals r: u0 = g / (g + s2/n) * mean(r),
    # conditional variance 1 / (1/g + n/s2); the mean of m post deviations has variance C00 + s2/m.
    g, s2 = 4.0, 1.0
    model = intercept_model(g, s2)
    pre_ages = np.array([8.0, 9.0, 10.0])
    pre = course(model, pre_ages) + np.array([2.0, 3.0, 4.0])
    post_ages = np.array([10.5, 11.0])
    post = course(model, post_ages) + np.array([6.0, 5.0])
    j = judge_trajectory(model, pre_ages, pre, post_ages, post, "higher_is_better", dosing_age=10.0)
    u0 = 12 / 13 * 3.0
    effect = np.mean([6.0, 5.0]) - u0
    se = np.sqrt(4 / 13 + 1 / 2)
    assert j.effect == pytest.approx(effect)
    assert j.se == pytest.approx(se)
    assert j.lower_bound == pytest.approx(effect - Z975 * se)
    assert j.ci_high == pytest.approx(effect + Z975 * se)
    assert j.p_one_sided == pytest.approx(stats.norm.sf(effect / se))
    assert j.effect_early == pytest.approx(6.0 - u0)
    assert j.effect_late == pytest.approx(5.0 - u0)
    assert j.decision == Status.met


def test_effect_and_se_come_from_the_joint_prediction_covariance():
    # Full model with fixed-effect uncertainty: the SE is sqrt(w' S w) with S the joint prediction-error
    # covariance of predict_untreated and w equal weights on the counted visits (onset 100 days here).
    pre_ages = np.array([8.2, 8.9, 9.4, 10.0])
    pre = np.array([60.0, 57.0, 53.0, 51.0])
    post_ages = np.array([10.1, 10.4, 10.8, 11.3, 11.9])
    post = np.array([52.0, 53.0, 52.5, 51.0, 50.0])
    rule = TrajectoryRule(onset_days=100.0)
    j = judge_trajectory(
        MODEL, pre_ages, pre, post_ages, post, "higher_is_better", rule, dosing_age=10.0
    )
    counted = post_ages > 10.0 + 100.0 / DAYS_PER_YEAR
    assert counted.tolist() == [False, True, True, True, True]
    p = predict_untreated(MODEL, pre_ages, pre, post_ages[counted])
    w = np.full(4, 0.25)
    assert j.n_counted == 4
    np.testing.assert_allclose(j.counted_ages, post_ages[counted])
    assert j.effect == pytest.approx(w @ (post[counted] - p.mean), rel=1e-10)
    assert j.se == pytest.approx(np.sqrt(w @ p.covariance @ w), rel=1e-10)
    resid = post[counted] - p.mean
    assert j.effect_early == pytest.approx(resid[:2].mean(), rel=1e-10)
    assert j.effect_late == pytest.approx(resid[2:].mean(), rel=1e-10)


def test_odd_count_leaves_the_middle_visit_out_of_both_halves():
    model = intercept_model()
    post_ages = np.array([10.5, 11.0, 11.5, 12.0, 12.5])
    deviation = np.array([1.0, 2.0, 100.0, 3.0, 4.0])
    j = judge_trajectory(
        model,
        [],
        [],
        post_ages,
        course(model, post_ages) + deviation,
        "higher_is_better",
        dosing_age=10.0,
    )
    assert j.effect_early == pytest.approx(1.5)
    assert j.effect_late == pytest.approx(3.5)
    assert j.effect == pytest.approx(deviation.mean())


def test_lower_is_better_mirrors_higher_is_better():
    rng = np.random.default_rng(3)
    pre_ages, post_ages = np.array([9.0, 9.5, 10.0]), np.array([10.5, 11.0, 11.5])
    pre, post = rng.normal(50, 3, 3), rng.normal(48, 3, 3)
    mirrored = UntreatedModel(-B, VB, G, 4.0, age_center=10.0)
    a = judge_trajectory(MODEL, pre_ages, pre, post_ages, post, "higher_is_better", dosing_age=10.0)
    b = judge_trajectory(
        mirrored, pre_ages, -pre, post_ages, -post, "lower_is_better", dosing_age=10.0
    )
    for name in ("effect", "se", "lower_bound", "p_one_sided", "effect_early", "effect_late"):
        assert getattr(b, name) == pytest.approx(getattr(a, name), rel=1e-12)
    assert a.decision == b.decision and a.regression_to_mean == b.regression_to_mean


def test_log_scale_effect_is_a_mean_log_ratio():
    model = UntreatedModel(
        np.array([4.0, 0.1]), np.diag([0.01, 0.001]), np.diag([0.2, 0.01]), 0.04, 10.0, scale="log"
    )
    pre_ages, post_ages = np.array([9.0, 9.5, 10.0]), np.array([10.5, 11.0])
    pre, post = np.array([50.0, 55.0, 60.0]), np.array([40.0, 42.0])
    j = judge_trajectory(model, pre_ages, pre, post_ages, post, "lower_is_better", dosing_age=10.0)
    p = predict_untreated(model, pre_ages, pre, post_ages)
    assert j.effect == pytest.approx(-np.mean(np.log(post) - p.mean))
    assert "×" in j.reason and "mean log ratio" in j.estimand


# --------------------------------------------------------------------------- the rule


def test_mcid_is_what_the_lower_bound_must_exceed():
    model = intercept_model()
    post_ages = np.array([10.5, 11.0, 11.5, 12.0])
    post = course(model, post_ages) + 3.0
    # effect 3, se sqrt(4 + 1/4): lower bound 3 - 1.96 * 2.06 < 0 without pre data; use pre data
    pre_ages = np.linspace(8, 10, 9)
    pre = course(model, pre_ages)
    base = judge_trajectory(
        model, pre_ages, pre, post_ages, post, "higher_is_better", dosing_age=10.0
    )
    assert 0 < base.lower_bound < 2.0 and base.decision == Status.met
    assert base.p_one_sided == pytest.approx(stats.norm.sf(base.effect / base.se))
    rule = TrajectoryRule(mcid=base.lower_bound + 0.01)
    high = judge_trajectory(
        model, pre_ages, pre, post_ages, post, "higher_is_better", rule, dosing_age=10.0
    )
    assert high.decision == Status.not_met and "not above" in high.reason
    assert high.p_one_sided == pytest.approx(stats.norm.sf((high.effect - rule.mcid) / high.se))
    assert high.p_one_sided > 0.025


def test_inconsistent_halves_are_not_met():
    model = intercept_model(g=0.5, s2=0.25)
    post_ages = np.array([10.5, 11.0, 11.5, 12.0])
    post = course(model, post_ages) + np.array([20.0, 20.0, -1.0, -1.0])
    pre_ages = np.linspace(8, 10, 5)
    j = judge_trajectory(
        model,
        pre_ages,
        course(model, pre_ages),
        post_ages,
        post,
        "higher_is_better",
        dosing_age=10.0,
    )
    assert j.lower_bound > 0 and j.effect_late < 0
    assert j.decision == Status.not_met and not j.consistent
    assert "halves" in j.reason


def test_too_few_counted_visits_is_insufficient():
    model = intercept_model()
    post_ages = np.array([10.2, 10.4, 10.9])  # only the last is beyond day 180
    rule = TrajectoryRule(onset_days=180)
    j = judge_trajectory(
        model, [9.0], [course(model, 9.0)], post_ages, course(model, post_ages) + 50,
        "higher_is_better", rule, dosing_age=10.0,
    )  # fmt: skip
    assert j.n_counted == 1 and j.decision == Status.insufficient
    assert "1 counted post-dose visit" in j.reason


def test_bayesian_posterior_is_the_conjugate_normal():
    model = intercept_model()
    pre_ages = np.linspace(8, 10, 5)
    post_ages = np.array([10.5, 11.0, 11.5])
    post = course(model, post_ages) + np.array([1.5, 2.5, 2.0])
    prior = NormalPrior(mean=0.5, sd=1.5)
    rule = TrajectoryRule(decision="bayesian", mcid=0.3, prior=prior, plausible_effect=3.0)
    j = judge_trajectory(
        model, pre_ages, course(model, pre_ages), post_ages, post, "higher_is_better", rule,
        dosing_age=10.0,
    )  # fmt: skip
    e, s = j.effect, j.se
    precision = 1 / s**2 + 1 / 1.5**2
    mean = (e / s**2 + 0.5 / 1.5**2) / precision
    assert j.posterior_probability == pytest.approx(stats.norm.sf(0.3, mean, precision**-0.5))
    sd0 = 3.0 / stats.norm.ppf(0.95)
    assert stats.norm.sf(3.0, 0, sd0) == pytest.approx(0.05)  # the sceptical prior's definition
    precision = 1 / s**2 + 1 / sd0**2
    assert j.sceptical_probability == pytest.approx(
        stats.norm.sf(0.3, e / s**2 / precision, precision**-0.5)
    )
    assert (j.decision == Status.met) == (j.posterior_probability >= 0.975 and j.consistent)
    flat = judge_trajectory(
        model, pre_ages, course(model, pre_ages), post_ages, post, "higher_is_better",
        TrajectoryRule(decision="bayesian"), dosing_age=10.0,
    )  # fmt: skip
    assert flat.posterior_probability == pytest.approx(stats.norm.cdf(flat.effect / flat.se))
    assert np.isnan(flat.sceptical_probability)


def test_a_dipped_last_visit_makes_the_sensitivity_analysis_decide():
    # Flat course, then a last pre-treatment value 3 residual SDs low: the main prediction is pulled
    # down and a modest post-dose gain reads as benefit; without the dipped visit it does not.
    model = UntreatedModel(np.array([50.0, 0.0]), np.zeros((2, 2)), np.diag([4.0, 0.0]), 1.0, 10.0)
    pre_ages = np.array([9.0, 9.25, 9.5, 9.75, 10.0])
    pre = np.array([50.0, 50.0, 50.0, 50.0, 47.0])
    post_ages = np.array([10.25, 10.5, 10.75, 11.0])
    post = np.full(4, 51.3)
    j = judge_trajectory(model, pre_ages, pre, post_ages, post, "higher_is_better", dosing_age=10.0)
    assert j.regression_to_mean and j.sensitivity.deciding
    assert j.lower_bound > 0  # the main analysis alone would say met
    assert not j.sensitivity.passes and j.decision == Status.not_met
    assert "does not agree" in j.reason
    assert j.sensitivity.n_pre_used == 4
    # the sensitivity analysis is the main analysis of the four earlier visits
    alone = judge_trajectory(
        model, pre_ages[:4], pre[:4], post_ages, post, "higher_is_better", dosing_age=10.0
    )
    assert j.sensitivity.effect == pytest.approx(alone.effect)
    assert j.sensitivity.se == pytest.approx(alone.se)
    assert any("worse than the patient's other" in f for f in j.flags)


def test_last_pre_z_is_the_leave_one_out_prediction():
    rng = np.random.default_rng(11)
    pre_ages = np.array([9.0, 9.3, 9.6, 10.0])
    pre = rng.normal(50, 4, 4)
    out = judge_trajectory_batch(
        MODEL, pre_ages, pre, [10.5, 11.0], [50.0, 50.0], "higher_is_better", dosing_ages=10.0
    )
    p = predict_untreated(MODEL, pre_ages[:3], pre[:3], pre_ages[3:])
    assert out.last_pre_z[0] == pytest.approx((pre[3] - p.mean[0]) / p.sd[0])


def test_batch_flags_are_the_scalar_flags_or_the_leave_one_out_z():
    # The vectorised flags against the scalar ones (built on the general conditioning algebra).
    rng = np.random.default_rng(5)
    for _ in range(200):
        ages = np.sort(rng.uniform(7, 10, 4))
        pre = course(MODEL, ages, rng.normal(0, 6)) + rng.normal(0, 3, 4)
        post_ages = np.array([10.5, 11.0])
        scalar = _regression_to_mean_flags(MODEL, ages, pre, 1.0, 0.95)
        new = judge_trajectory_batch(
            MODEL, ages, pre, post_ages, [45.0, 44.0], "higher_is_better", dosing_ages=10.0
        )
        expected = bool(scalar) or new.last_pre_z[0] < -0.5
        assert bool(new.regression_to_mean[0]) == expected


def test_scalar_equals_batch_for_patients_with_their_own_schedules():
    rng = np.random.default_rng(7)
    n = 50
    dose = rng.uniform(8, 12, n)
    pre_a = dose[:, None] - rng.uniform(0, 1.5, (n, 4))
    post_a = dose[:, None] + rng.uniform(0.05, 1.5, (n, 3))
    pre_v = rng.normal(50, 5, (n, 4))
    post_v = rng.normal(50, 5, (n, 3))
    rule = TrajectoryRule(onset_days=60, decision="bayesian", plausible_effect=4.0)
    out = judge_trajectory_batch(
        MODEL, pre_a, pre_v, post_a, post_v, "higher_is_better", rule, dosing_ages=dose
    )
    for i in range(n):
        j = judge_trajectory(
            MODEL,
            pre_a[i],
            pre_v[i],
            post_a[i],
            post_v[i],
            "higher_is_better",
            rule,
            dosing_age=dose[i],
        )
        assert DECISION_CODES[out.decision[i]] == j.decision
        for a, b in (
            (out.effect[i], j.effect),
            (out.se[i], j.se),
            (out.posterior_probability[i], j.posterior_probability),
            (out.sceptical_probability[i], j.sceptical_probability),
            (out.sensitivity_effect[i], j.sensitivity.effect),
        ):
            assert a == pytest.approx(b, nan_ok=True)
        # the scalar reorders unsorted visits; the numbers do not depend on the order
        if j.n_counted:
            p = predict_untreated(MODEL, pre_a[i], pre_v[i], j.counted_ages)
            counted = post_a[i] > dose[i] + 60 / DAYS_PER_YEAR
            order = np.argsort(post_a[i][counted])
            assert j.effect == pytest.approx(np.mean(post_v[i][counted][order] - p.mean), rel=1e-9)
            w = np.full(j.n_counted, 1 / j.n_counted)
            assert j.se == pytest.approx(np.sqrt(w @ p.covariance @ w), rel=1e-9)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"decision": "freq"},
        {"alpha_one_sided": 0.5},
        {"mcid": -1.0},
        {"onset_days": -3},
        {"prediction_level": 1.0},
        {"min_counted_visits": 0},
        {"posterior_threshold": 0.4},
        {"plausible_effect": 0.0},
        {"prior": (0.0, 1.0)},
    ],
)
def test_rule_refuses_bad_settings(kwargs):
    with pytest.raises(UsageError, match=r"TrajectoryRule|plausible_effect"):
        TrajectoryRule(**kwargs)


def test_batch_refuses_mismatched_shapes():
    with pytest.raises(UsageError, match="pre_values"):
        judge_trajectory_batch(
            MODEL, np.zeros((3, 2)), np.zeros((3, 4)), [11.0], np.zeros((3, 1)), "higher_is_better",
            dosing_ages=10.0,
        )  # fmt: skip
    with pytest.raises(UsageError, match="dosing_age"):
        judge_trajectory_batch(
            MODEL, [9.0], np.zeros((3, 1)), [11.0], np.zeros((3, 1)), "higher_is_better",
            dosing_ages=[10.0, 10.0],
        )  # fmt: skip


# --------------------------------------------------------------------------- invariants


@settings(max_examples=60, deadline=None)
@given(
    benefit=st.floats(0.0, 30.0),
    extra=st.floats(0.0, 30.0),
    seed=st.integers(0, 2**32 - 1),
    direction=st.sampled_from(["higher_is_better", "lower_is_better"]),
)
def test_more_benefit_never_lowers_the_effect_or_the_decision(benefit, extra, seed, direction):
    rng = np.random.default_rng(seed)
    pre_a, pre_v, post_a, post_v = simulate_trajectory_patients(
        MODEL, 20, rng, pre_offsets_years=[-1, -0.5, 0], post_offsets_years=[0.3, 0.6, 1.0, 1.4],
        dosing_ages=10.0, direction=direction,
    )  # fmt: skip
    sign = 1 if direction == "higher_is_better" else -1
    a = judge_trajectory_batch(
        MODEL, pre_a, pre_v, post_a, post_v + sign * benefit, direction, dosing_ages=10.0
    )
    b = judge_trajectory_batch(
        MODEL, pre_a, pre_v, post_a, post_v + sign * (benefit + extra), direction, dosing_ages=10.0
    )
    np.testing.assert_allclose(b.effect - a.effect, extra, atol=1e-9)
    np.testing.assert_allclose(b.se, a.se)
    assert np.all(b.lower_bound >= a.lower_bound - 1e-9)
    # codes: 0 met < 2 not met; a patient met with less benefit stays met with more
    assert np.all(b.decision[a.decision == 0] == 0)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_visit_order_does_not_matter(seed):
    rng = np.random.default_rng(seed)
    pre_ages = np.sort(rng.uniform(8, 10, 4))
    post_ages = np.sort(rng.uniform(10.1, 12, 4))
    pre, post = rng.normal(50, 5, 4), rng.normal(45, 5, 4)
    a = judge_trajectory(MODEL, pre_ages, pre, post_ages, post, "higher_is_better", dosing_age=10.0)
    i, k = rng.permutation(4), rng.permutation(4)
    b = judge_trajectory(
        MODEL, pre_ages[i], pre[i], post_ages[k], post[k], "higher_is_better", dosing_age=10.0
    )
    for name in ("effect", "se", "effect_early", "effect_late", "sceptical_probability"):
        assert getattr(a, name) == pytest.approx(getattr(b, name), nan_ok=True)
    assert a.decision == b.decision and a.sensitivity.effect == pytest.approx(b.sensitivity.effect)


# --------------------------------------------------------------------------- an independent simulation

# A progressive disease simulated here, not with the project's simulator: score falls 6 points a year
# from 60 at age 10; subjects differ in level (SD 6) and slope (SD 2); measurement SD 3; and the
# cohort's fixed-effect estimates B missed each patient's truth by N(0, VB), which the prediction's
# fixed-effect term must carry.
SIM_B = np.array([60.0, -6.0])
SIM_VB = np.array([[1.0, 0.05], [0.05, 0.1]])
SIM_G = np.array([[36.0, 3.0], [3.0, 4.0]])
SIM_S2 = 9.0
SIM_MODEL = UntreatedModel(SIM_B, SIM_VB, SIM_G, SIM_S2, age_center=10.0)
SIM_PRE = np.array([-2.0, -1.5, -1.0, -0.5, 0.0])  # years from first dose
SIM_POST = np.array([0.5, 1.0, 1.5, 2.0])


def simulate_independently(seed: int, benefit: float, n: int = 2000, select_low: bool = False):
    """Judgements of ``n`` simulated patients; ``benefit`` is added to every post-dose value."""
    rng = np.random.default_rng(seed)
    rows = []
    while sum(len(r[0]) for r in rows) < n:
        m = 4 * n
        age0 = rng.uniform(6.0, 14.0, m)
        b_true = rng.multivariate_normal(SIM_B, SIM_VB, m)
        u = rng.multivariate_normal([0.0, 0.0], SIM_G, m)
        ages = age0[:, None] + np.concatenate([SIM_PRE, SIM_POST])
        y = (b_true[:, :1] + u[:, :1]) + (b_true[:, 1:] + u[:, 1:]) * (ages - 10.0)
        y = y + rng.normal(0, np.sqrt(SIM_S2), y.shape)
        keep = np.ones(m, dtype=bool)
        if select_low:
            # enrolled because the baseline was bad: at least one marginal SD below the population
            x = np.column_stack([np.ones(m), age0 - 10.0])
            sd = np.sqrt(np.einsum("ij,jk,ik->i", x, SIM_G + SIM_VB, x) + SIM_S2)
            keep = y[:, SIM_PRE.size - 1] <= x @ SIM_B - sd
        rows.append((ages[keep], y[keep], age0[keep]))
    ages, y, age0 = (np.concatenate(parts)[:n] for parts in zip(*rows, strict=True))
    k = SIM_PRE.size
    y[:, k:] += benefit
    return judge_trajectory_batch(
        SIM_MODEL,
        ages[:, :k],
        y[:, :k],
        ages[:, k:],
        y[:, k:],
        "higher_is_better",
        dosing_ages=age0,
    )


def test_untreated_patients_of_an_independent_simulation_rarely_meet():
    n = 2000
    out = simulate_independently(seed=101, benefit=0.0, n=n)
    assert out.met.mean() <= 0.05
    # the one-sided test is calibrated: z is standard normal with the fixed-effect error included
    z = out.effect / out.se
    assert abs(z.mean()) < 3 / np.sqrt(n) and 0.93 < z.std() < 1.07
    assert np.mean(out.p_one_sided < 0.025) <= 0.04


def test_untreated_patients_selected_at_a_bad_baseline_rarely_meet():
    # Regression to the mean: a last-value comparison would credit the drift back up to treatment;
    # the prediction from all pre-treatment values keeps even the one-sided test alone at its level.
    out = simulate_independently(seed=102, benefit=0.0, select_low=True)
    assert out.met.mean() <= 0.05
    assert np.mean(out.p_one_sided < 0.025) <= 0.04


def test_clear_benefit_in_an_independent_simulation_is_usually_met():
    # +15 points at every post-dose visit: about three prediction SDs (4 to 5.3 at these visits).
    out = simulate_independently(seed=103, benefit=15.0)
    assert out.met.mean() >= 0.80


# --------------------------------------------------------------------------- the simulator


def test_simulated_patients_have_the_models_moments():
    rng = np.random.default_rng(21)
    n = 40_000
    pre_off, post_off = np.array([-1.0, 0.0]), np.array([1.0])
    pre_a, pre_v, _, post_v = simulate_trajectory_patients(
        MODEL, n, rng, pre_offsets_years=pre_off, post_offsets_years=post_off, dosing_ages=11.0
    )
    y = np.concatenate([pre_v, post_v], axis=1)
    X = np.column_stack([np.ones(3), np.array([10.0, 11.0, 12.0]) - 10.0])
    cov = X @ G @ X.T + 4.0 * np.eye(3)  # fixed effects at their estimates: no Vb in the truth
    se_mean = np.sqrt(np.diag(cov) / n)
    assert np.all(np.abs(y.mean(axis=0) - X @ B) < 5 * se_mean)
    np.testing.assert_allclose(np.cov(y.T), cov, rtol=0.05, atol=0.3)
    np.testing.assert_allclose(pre_a[0], [10.0, 11.0])


def test_simulator_benefit_ramp_dip_and_curvature_are_exact_on_the_same_patients():
    kw = dict(
        pre_offsets_years=[-1.0, -0.5, 0.0],
        post_offsets_years=[0.25, 0.5, 1.0],
        dosing_ages=np.full(5, 9.0),
    )
    base = simulate_trajectory_patients(MODEL, 5, np.random.default_rng(1), **kw)
    treated = simulate_trajectory_patients(
        MODEL,
        5,
        np.random.default_rng(1),
        benefit=2.0,
        onset_days=182.625,
        direction="lower_is_better",
        **kw,
    )
    np.testing.assert_allclose(treated[1], base[1])
    np.testing.assert_allclose(
        base[3] - treated[3], 2.0 * np.array([0.5, 1.0, 1.0]) * np.ones((5, 1))
    )
    dipped = simulate_trajectory_patients(
        MODEL, 5, np.random.default_rng(1), dip_sd=(1.0, 2.0), **kw
    )
    diff = base[1] - dipped[1]
    np.testing.assert_allclose(diff[:, :2], 0.0)
    assert np.all((diff[:, 2] >= 2.0) & (diff[:, 2] <= 4.0))  # residual SD 2
    np.testing.assert_allclose(dipped[3], base[3])
    curved = simulate_trajectory_patients(
        MODEL, 5, np.random.default_rng(1), quadratic=0.3, quadratic_center=7.0, **kw
    )
    np.testing.assert_allclose(curved[3] - base[3], 0.3 * (base[2] - 7.0) ** 2)


def test_simulator_refuses_bad_schedules():
    with pytest.raises(UsageError, match="offsets"):
        simulate_trajectory_patients(
            MODEL, 3, np.random.default_rng(0), pre_offsets_years=[0.5], post_offsets_years=[1.0],
            dosing_ages=10.0,
        )  # fmt: skip
