"""The calibrated criterion-5 rule for event endpoints (pmpath.outcomes.event_decision).

Known answers from independent sources: brute-force enumeration of every zero/non-zero pattern,
Monte Carlo draws from the gamma-Poisson model, statsmodels' GLMs, scipy's beta-prime
distribution, lifelines' Kaplan-Meier fit, the continuous-time probability of a long gap, and the
truth of a simulation written here (daily diaries of a Poisson process).
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from pmpath.dossier.vocabulary import DAYS_PER_YEAR, Status
from pmpath.errors import AnalysisError, UsageError
from pmpath.outcomes import (
    EventPeriods,
    EventRule,
    RatioPrior,
    UntreatedRate,
    event_free_run_probability,
    judge_event_rates,
    judge_event_rates_batch,
    judge_time_to_event,
    longest_run_sf,
    nb_rate_ratio,
    robust_rate_ratio,
    sceptical_prior,
    simulate_event_patients,
    within_patient_dispersion,
)

MONTH = 30.4375


def _monthly(pre: list[int], post: list[int]) -> EventPeriods:
    edges = np.arange(-len(pre), len(post) + 1) * MONTH
    return EventPeriods(edges[:-1], edges[1:], np.array(pre + post))


def _brute_force_run_sf(start, end, rate, run_days, dispersion=0.0):
    """Sum over all 2^n patterns of zero / non-zero periods of P(pattern) [longest run >= run_days]."""
    lengths = end - start
    if dispersion:
        q = stats.nbinom.pmf(0, 1 / dispersion, 1 / (1 + dispersion * rate * lengths))
    else:
        q = stats.poisson.pmf(0, rate * lengths)
    total = 0.0
    for pattern in itertools.product((0, 1), repeat=len(start)):  # 1 = events in the period
        p = float(np.prod(np.where(np.array(pattern) == 1, 1 - q, q)))
        best = run = 0.0
        prev_end = -math.inf
        for j, has_events in enumerate(pattern):
            if start[j] > prev_end + 1e-9:
                run = 0.0
            run = 0.0 if has_events else run + lengths[j]
            best = max(best, run)
            prev_end = end[j]
        if best >= run_days - 1e-9:
            total += p
    return total


# --------------------------------------------------------------------------- the longest run


@pytest.mark.parametrize(("seed", "dispersion"), [(0, 0.0), (1, 0.0), (2, 0.0), (3, 0.4), (4, 2.0)])
def test_longest_run_matches_brute_force_on_unequal_grids_with_gaps(seed, dispersion):
    rng = np.random.default_rng(seed)
    lengths = rng.choice([1.0, 7.0, 30.0, 31.0], size=9)
    gaps = np.where(rng.random(9) < 0.2, 5.0, 0.0)  # uncovered days before some periods
    start = np.cumsum(np.concatenate([[0.0], lengths[:-1] + gaps[1:]]))
    end = start + lengths
    rates = np.array([0.001, 0.02, 0.1, 0.5])
    runs = {0.5, *(float(end[j] - start[i]) for i in range(9) for j in range(i, 9))}
    for run_days in sorted(runs)[:: max(1, len(runs) // 12)]:
        got = longest_run_sf(start, end, rates, run_days, dispersion)
        want = [_brute_force_run_sf(start, end, r, run_days, dispersion) for r in rates]
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-14)


def test_run_probability_matches_monte_carlo_over_the_posterior():
    untreated = UntreatedRate(24.0, 0.4)
    posterior = untreated.posterior(10, 0.5)
    edges = np.arange(0, 10) * MONTH
    start, end = edges[:-1], edges[1:]
    rng = np.random.default_rng(5)
    n = 400_000
    lam = rng.gamma(posterior.shape, 1 / posterior.rate, size=n) / DAYS_PER_YEAR
    zero = rng.random((n, 9)) < np.exp(-lam[:, None] * MONTH)
    for months in (1, 2, 3):
        window = np.lib.stride_tricks.sliding_window_view(zero, months, axis=1).all(axis=2)
        mc = window.any(axis=1).mean()
        exact = event_free_run_probability(start, end, posterior, months * MONTH)
        se = math.sqrt(mc * (1 - mc) / n)
        assert abs(exact - mc) < 4 * se + 1e-6


def test_run_probability_on_a_fine_grid_approaches_continuous_time():
    """A daily diary of a rare event: the grid probability is below (never above) continuous time's."""
    edges = np.arange(0, 181, dtype=float)
    rate = 4 / 365.25
    grid = float(longest_run_sf(edges[:-1], edges[1:], rate, 120.0)[0])
    # In continuous time at most one gap of g > L/2 fits in [0, L]: either no event before g, or an
    # event at some s <= L - g with none in the g after it (expected number, hence probability,
    # (L - g) r exp(-r g)): exp(-r g) (1 + r (L - g)), the one term of the maximum-spacing sum.
    continuous = math.exp(-rate * 120.0) * (1 + rate * 60.0)
    assert grid <= continuous
    assert grid == pytest.approx(continuous, rel=0.05)


@settings(max_examples=40, deadline=None)
@given(
    rate=st.floats(1e-4, 1.0),
    factor=st.floats(1.01, 5.0),
    run=st.integers(1, 8),
)
def test_longer_runs_and_higher_rates_are_less_probable(rate, factor, run):
    edges = np.arange(0, 9) * 7.0
    s, e = edges[:-1], edges[1:]
    p = float(longest_run_sf(s, e, rate, run * 7.0)[0])
    assert float(longest_run_sf(s, e, rate, (run + 1) * 7.0)[0]) <= p + 1e-12
    assert float(longest_run_sf(s, e, rate * factor, run * 7.0)[0]) <= p + 1e-12
    assert 0 <= p <= 1


# --------------------------------------------------------------------------- rate ratios


def _grid_counts(seed):
    rng = np.random.default_rng(seed)
    t_pre = rng.uniform(0.05, 0.12, size=6)
    t_post = rng.uniform(0.05, 0.12, size=8)
    pre = rng.negative_binomial(3, 3 / (3 + 40 * t_pre))
    post = rng.negative_binomial(3, 3 / (3 + 20 * t_post))
    return pre, t_pre, post, t_post


@pytest.mark.parametrize("seed", [0, 1])
def test_negative_binomial_ratio_matches_statsmodels_glm_with_fixed_alpha(seed):
    import statsmodels.api as sm

    pre, tp, post, tq = _grid_counts(seed)
    y = np.concatenate([pre, post]).astype(float)
    x = np.column_stack([np.ones(y.size), np.r_[np.zeros(pre.size), np.ones(post.size)]])
    alpha = 0.3
    fit = sm.GLM(
        y, x, family=sm.families.NegativeBinomial(alpha=alpha), offset=np.log(np.r_[tp, tq])
    ).fit(tol=1e-12)
    got = nb_rate_ratio(pre, tp, post, tq, alpha)
    assert math.log(got.estimate) == pytest.approx(fit.params[1], abs=1e-8)
    assert got.log_se == pytest.approx(fit.bse[1], rel=1e-6)
    lo, hi = np.exp(fit.conf_int(0.05)[1])
    assert (got.lower, got.upper) == pytest.approx((lo, hi), rel=1e-6)


@pytest.mark.parametrize("seed", [0, 1])
def test_robust_ratio_matches_statsmodels_poisson_hc0(seed):
    import statsmodels.api as sm

    pre, tp, post, tq = _grid_counts(seed)
    y = np.concatenate([pre, post]).astype(float)
    x = np.column_stack([np.ones(y.size), np.r_[np.zeros(pre.size), np.ones(post.size)]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sm.GLM(y, x, family=sm.families.Poisson(), offset=np.log(np.r_[tp, tq])).fit(
            cov_type="HC0"
        )
    got = robust_rate_ratio(pre, tp, post, tq)
    assert math.log(got.estimate) == pytest.approx(fit.params[1], abs=1e-10)
    assert got.log_se == pytest.approx(fit.bse[1], rel=1e-8)
    assert got.p_one_sided == pytest.approx(stats.norm.cdf(fit.tvalues[1]), rel=1e-8)


def test_dispersion_zero_is_the_poisson_wald_ratio():
    pre, post = np.array([5, 7, 4]), np.array([1, 2, 0, 1])
    got = nb_rate_ratio(pre, np.full(3, 0.1), post, np.full(4, 0.1), 0.0)
    assert got.estimate == pytest.approx((4 / 0.4) / (16 / 0.3))
    assert got.log_se == pytest.approx(math.sqrt(1 / 16 + 1 / 4))


# --------------------------------------------------------------------------- Bayesian


def test_posterior_probability_matches_monte_carlo_of_gamma_posteriors():
    periods = _monthly([4, 6, 3, 5, 5, 7], [3, 2, 4, 1, 2, 3, 2, 1, 3])
    rule = EventRule(decision="bayesian", dispersion=0.0, prior=RatioPrior(0.5, 0.5), mcid=0.2)
    j = judge_event_rates(periods, UntreatedRate(60.0, 0.02), rule)
    rng = np.random.default_rng(3)
    # c -> 0: the posterior rates are Gamma(shape + count, exposure)
    post = rng.gamma(0.5 + j.post_events, 1 / j.post_years, size=1_000_000)
    pre = rng.gamma(0.5 + j.pre_events, 1 / j.pre_years, size=1_000_000)
    mc = float(np.mean(post / pre < 0.8))
    assert j.posterior_probability == pytest.approx(
        mc, abs=4 * math.sqrt(mc * (1 - mc) / 1e6) + 1e-4
    )


@pytest.mark.parametrize("effect", [0.3, 0.5, 0.8])
def test_sceptical_prior_is_centred_on_no_effect_with_five_percent_beyond_the_plausible_effect(
    effect,
):
    prior = sceptical_prior(effect)
    assert stats.betaprime.cdf(1 - effect, prior.shape_post, prior.shape_pre) == pytest.approx(
        0.05, abs=1e-9
    )
    assert stats.betaprime.median(prior.shape_post, prior.shape_pre) == pytest.approx(1.0)


# --------------------------------------------------------------------------- the rule


@pytest.mark.parametrize(
    "kwargs",
    [
        {"decision": "bayes"},
        {"alpha_one_sided": 0.0},
        {"mcid": 1.0},
        {"mcid": -0.1},
        {"onset_days": -1},
        {"max_gap_probability": 0.01},
        {"posterior_threshold": 0.4},
        {"plausible_effect": 0.0},
        {"interval": "sandwich"},
        {"dispersion": -1.0},
        {"dispersion": "estimated"},
        {"prior": (0.5, 0.5)},
    ],
)
def test_rule_refuses_invalid_fields(kwargs):
    with pytest.raises(UsageError):
        EventRule(**kwargs)


def test_judgement_agrees_with_the_batch_row_by_row():
    untreated = UntreatedRate(60.0, 0.02)
    sim = simulate_event_patients(untreated, 12, np.random.default_rng(0), rate_ratio=0.6)
    for rule in (
        EventRule(),
        EventRule(decision="bayesian"),
        EventRule(interval="robust", mcid=0.1),
    ):
        batch = judge_event_rates_batch(sim.start_day, sim.end_day, sim.counts, untreated, rule)
        for i in range(12):
            j = judge_event_rates(
                EventPeriods(sim.start_day, sim.end_day, sim.counts[i]), untreated, rule
            )
            assert j.decision.value == batch.decision[i]
            assert j.rate_ratio.estimate == pytest.approx(batch.rate_ratio[i])
            assert j.run_probability == pytest.approx(batch.run_probability[i])
            assert j.posterior_probability == pytest.approx(batch.posterior_probability[i])


def test_clear_benefit_is_met_and_no_change_is_not():
    untreated = UntreatedRate(60.0, 0.02)
    met = judge_event_rates(_monthly([5, 6, 4, 5, 6, 5], [1, 0, 1, 0, 0, 1, 0, 0, 1]), untreated)
    assert met.decision == Status.met and met.rate_route and met.consistent
    assert met.effect == pytest.approx(1 - (4 / 9) / (31 / 6))
    assert 0 < met.ci_low < met.effect < met.ci_high < 1
    same = judge_event_rates(_monthly([5, 6, 4, 5, 6, 5], [5, 4, 6, 5, 5, 6, 4, 5, 5]), untreated)
    assert same.decision == Status.not_met and "neither route" in same.reason


def test_inconsistent_halves_block_the_rate_route():
    untreated = UntreatedRate(60.0, 0.02)
    # all of the fall in the first half, a return to the old rate in the second
    j = judge_event_rates(
        _monthly([9] * 6, [1, 1, 1, 1, 10, 10, 10, 10, 10]), untreated, EventRule(dispersion=0.0)
    )
    assert j.p_one_sided < 0.025 and j.early_ratio < 1 <= j.late_ratio
    assert not j.rate_route and not j.run_route and j.decision == Status.not_met


def test_rule_spends_the_budget_on_the_run_route_only_without_a_pre_treatment_record():
    untreated = UntreatedRate(12.0, 0.3)
    edges = np.arange(0, 10) * MONTH
    periods = EventPeriods(edges[:-1], edges[1:], np.array([1, 0, 0, 0, 0, 0, 0, 0, 1]))
    j = judge_event_rates(periods, untreated)
    assert j.rate_ratio is None
    # the rule's default per-period dispersion is the cohort's
    want = event_free_run_probability(edges[:-1], edges[1:], untreated.posterior(), 7 * MONTH, 0.3)
    assert j.run_probability == pytest.approx(want)
    assert j.decision == (Status.met if want <= 0.05 else Status.not_met)


def test_fewer_than_two_counted_periods_is_insufficient():
    j = judge_event_rates(
        _monthly([5, 6, 4], [0, 0, 1]), UntreatedRate(60.0, 0.02), EventRule(onset_days=2 * MONTH)
    )
    assert j.decision == Status.insufficient and j.n_counted_periods == 1


def test_onset_days_leave_out_the_periods_before_onset():
    untreated = UntreatedRate(60.0, 0.02)
    pre, post = [5, 6, 4, 5, 6, 5], [9, 8, 1, 0, 1, 0, 1, 1, 0]
    j = judge_event_rates(_monthly(pre, post), untreated, EventRule(onset_days=2 * MONTH))
    edges = np.arange(-6, 10) * MONTH
    keep = np.r_[np.arange(6), np.arange(8, 15)]
    dropped = judge_event_rates(
        EventPeriods(edges[:-1][keep], edges[1:][keep], np.array(pre + post)[keep]), untreated
    )
    assert j.rate_ratio.estimate == pytest.approx(dropped.rate_ratio.estimate)
    assert j.post_events == 4 and j.decision == Status.met


def test_regression_to_the_mean_flags_a_start_after_the_worst_period_with_a_sensitivity_analysis():
    untreated = UntreatedRate(60.0, 0.02)
    pre, post = [4, 5, 3, 5, 4, 16], [3, 2, 3, 2, 3, 3, 2, 3, 2]
    j = judge_event_rates(_monthly(pre, post), untreated)
    assert j.regression_to_mean
    assert any("worst" in f for f in j.rtm_flags)
    assert any("last pre-treatment period is beyond" in f for f in j.rtm_flags)
    # the sensitivity analysis is the analysis of the record without its last pre-treatment month
    edges = np.arange(-6, 10) * MONTH
    keep = np.r_[np.arange(5), np.arange(6, 15)]
    without = judge_event_rates(
        EventPeriods(edges[:-1][keep], edges[1:][keep], np.array(pre + post)[keep]), untreated
    )
    assert j.sensitivity.rate_ratio == pytest.approx(without.rate_ratio.estimate)
    assert j.sensitivity.decision == without.decision
    assert j.sensitivity.rate_ratio > j.rate_ratio.estimate
    calm = judge_event_rates(_monthly([4, 5, 6, 5, 4, 3], post), untreated)
    assert not calm.regression_to_mean


def test_exactly_timed_events_are_refused_and_an_empty_record_cannot_be_judged():
    periods = EventPeriods.from_event_times(np.array([3.0]), 30.0, pre_events=5, pre_days=60.0)
    with pytest.raises(UsageError, match="daily grid"):
        judge_event_rates(periods, UntreatedRate(60.0, 0.02))
    with pytest.raises(AnalysisError):
        judge_event_rates(
            EventPeriods(np.array([]), np.array([]), np.array([])), UntreatedRate(60.0)
        )


def test_reason_uses_the_house_number_format():
    j = judge_event_rates(
        _monthly([5, 6, 4, 5, 6, 5], [1, 0, 1, 0, 0, 1, 0, 0, 1]), UntreatedRate(60.0, 0.02)
    )
    assert "×" in j.reason and "< 0.001" in j.reason


# --------------------------------------------------------------------------- simulation


def test_simulator_draws_the_gamma_poisson_truth():
    untreated = UntreatedRate(24.0, 0.25)
    sim = simulate_event_patients(
        untreated, 40_000, np.random.default_rng(1), rate_ratio=0.5, last_pre_worst=False
    )
    assert sim.counts.shape == (40_000, 15)
    month = MONTH / DAYS_PER_YEAR
    pre_mean = sim.counts[:, :6].mean()
    assert pre_mean == pytest.approx(24 * month, rel=0.02)
    assert sim.counts[:, 6:].mean() / pre_mean == pytest.approx(0.5, rel=0.03)
    assert np.var(sim.rate_per_year) / 24**2 == pytest.approx(0.25, rel=0.05)
    worst = simulate_event_patients(untreated, 1000, np.random.default_rng(1))
    assert np.all(worst.counts[:, 5] == worst.counts[:, :6].max(axis=1))


def test_simulator_onset_applies_the_effect_from_the_onset_day():
    untreated = UntreatedRate(60.0, 0.0)
    sim = simulate_event_patients(
        untreated, 20_000, np.random.default_rng(2), rate_ratio=0.0, onset_days=1.5 * MONTH
    )
    assert sim.counts[:, 6].mean() == pytest.approx(60 * MONTH / DAYS_PER_YEAR, rel=0.03)
    assert sim.counts[:, 7].mean() == pytest.approx(0.5 * 60 * MONTH / DAYS_PER_YEAR, rel=0.03)
    assert sim.counts[:, 8:].sum() == 0


# --------------------------------------------------------------------------- time to event


def test_time_to_event_against_lifelines_kaplan_meier():
    from lifelines import KaplanMeierFitter

    rng = np.random.default_rng(4)
    ages = rng.weibull(2.0, size=80) * 8
    censor = rng.uniform(2, 14, size=80)
    observed = np.minimum(ages, censor)
    kmf = KaplanMeierFitter().fit(observed, event_observed=ages <= censor)
    s = kmf.survival_function_
    j = judge_time_to_event(s.index.to_numpy(), s.iloc[:, 0].to_numpy(), 3.0, 9.0, 0.2)
    want = float(
        kmf.survival_function_at_times(9.0).iloc[0] / kmf.survival_function_at_times(3.0).iloc[0]
    )
    assert j.probability == pytest.approx(want)
    assert j.decision == (Status.met if want <= 0.2 else Status.not_met)


def test_time_to_event_edges():
    j = judge_time_to_event([0, 2], [1.0, 0.5], 1.0, 5.0, 0.6)
    assert j.beyond_curve and j.probability == pytest.approx(0.5) and j.decision == Status.met
    with pytest.raises(AnalysisError):
        judge_time_to_event([0, 2], [1.0, 0.0], 3.0, 5.0)
    with pytest.raises(UsageError):
        judge_time_to_event([0, 2], [1.0, 0.5], 3.0, 2.0)


def test_bayesian_rule_without_a_pre_treatment_record_is_insufficient():
    edges = np.arange(0, 10) * MONTH
    periods = EventPeriods(edges[:-1], edges[1:], np.zeros(9))
    j = judge_event_rates(periods, UntreatedRate(12.0, 0.3), EventRule(decision="bayesian"))
    assert j.decision == Status.insufficient and "cannot be computed" in j.reason


def test_ratio_to_the_predicted_untreated_rate():
    untreated = UntreatedRate(60.0, 0.02)
    j = judge_event_rates(_monthly([5, 6, 4, 5, 6, 5], [2, 2, 3, 2, 2, 3, 2, 2, 3]), untreated)
    posterior_mean = (1 / 0.02 + 31) / (1 / (0.02 * 60) + 6 * MONTH / DAYS_PER_YEAR)
    assert j.ratio_to_untreated == pytest.approx(
        (21 / (9 * MONTH / DAYS_PER_YEAR)) / posterior_mean
    )


def test_within_patient_dispersion_recovers_the_simulated_clustering():
    rng = np.random.default_rng(8)
    n, w, truth = 2000, 20, 0.3
    rate = 20 * rng.gamma(
        2, 0.5, size=n
    )  # subjects differ too: that is not within-patient clustering
    length = rng.uniform(0.05, 0.15, size=(n, w))
    y = rng.poisson(rng.gamma(1 / truth, truth * rate[:, None] * length))
    start = np.tile(np.arange(w) * 0.2, n)
    windows = pd.DataFrame(
        {
            "subject": np.repeat(np.arange(n), w),
            "age_start": start,
            "age_end": start + length.ravel(),
            "count": y.ravel(),
        }
    )
    assert within_patient_dispersion(windows) == pytest.approx(truth, abs=0.02)
    poisson = windows.assign(count=rng.poisson(np.repeat(rate, w) * length.ravel()))
    assert within_patient_dispersion(poisson) == pytest.approx(0.0, abs=0.01)
    with pytest.raises(UsageError):
        within_patient_dispersion(windows.drop(columns="count"))


def test_simulator_clusters_events_within_periods():
    sim = simulate_event_patients(
        UntreatedRate(60.0, 0.0),
        50_000,
        np.random.default_rng(9),
        period_dispersion=0.4,
        last_pre_worst=False,
    )
    m = 60 * MONTH / DAYS_PER_YEAR
    assert sim.counts.mean() == pytest.approx(m, rel=0.01)
    assert sim.counts.var() == pytest.approx(m + 0.4 * m**2, rel=0.03)


def test_clustered_run_probability_matches_monte_carlo():
    posterior = UntreatedRate(24.0, 0.4).posterior(10, 0.5)
    edges = np.arange(0, 10) * MONTH
    rng = np.random.default_rng(6)
    n, a = 400_000, 0.5
    lam = rng.gamma(posterior.shape, 1 / posterior.rate, size=n) / DAYS_PER_YEAR
    y = rng.poisson(rng.gamma(1 / a, a * lam[:, None] * MONTH, size=(n, 9)))
    window = np.lib.stride_tricks.sliding_window_view(y == 0, 3, axis=1).all(axis=2)
    mc = window.any(axis=1).mean()
    exact = event_free_run_probability(edges[:-1], edges[1:], posterior, 3 * MONTH, a)
    assert abs(exact - mc) < 4 * math.sqrt(mc * (1 - mc) / n)


def test_cohort_dispersion_is_the_within_patient_one_when_the_cohort_model_gives_it():
    periods = _monthly([5, 6, 4, 5, 6, 5], [3, 2, 4, 1, 2, 3, 2, 1, 3])
    with_period = judge_event_rates(periods, UntreatedRate(60.0, 0.02, period_dispersion=0.4))
    explicit = judge_event_rates(periods, UntreatedRate(60.0, 0.02), EventRule(dispersion=0.4))
    assert with_period.rate_ratio.dispersion == 0.4
    assert with_period.rate_ratio.upper == pytest.approx(explicit.rate_ratio.upper)
    assert with_period.run_probability == pytest.approx(explicit.run_probability)
    assert not any("within-patient dispersion" in f for f in with_period.flags)
    fallback = judge_event_rates(periods, UntreatedRate(60.0, 0.02))
    assert fallback.rate_ratio.dispersion == 0.02
    assert any("within-patient dispersion" in f for f in fallback.flags)
    with pytest.raises(UsageError):
        UntreatedRate(60.0, 0.02, period_dispersion=-1.0)


# --------------------------------------------------------------------------- an independent simulation

# Simulated here, not with simulate_event_patients, on another design than the calibration's: 24
# events a year on average, patients' rates gamma with dispersion 0.3, events a Poisson process in
# continuous time; one year counted as a single pre-treatment period, then a daily diary for a year.
DIARY_COHORT = UntreatedRate(24.0, 0.3)
DIARY_DAYS = 365
N_DIARIES = 200


def judge_simulated_diaries(seed: int, rate_ratio: float, select_high: bool = False):
    """Judgements of simulated patients whose post-dose rate is ``rate_ratio`` times their own."""
    rng = np.random.default_rng(seed)
    alpha = DIARY_COHORT.dispersion
    mu = DIARY_COHORT.rate_per_year
    cutoff = np.quantile(rng.poisson(mu * rng.gamma(1 / alpha, alpha, 20_000)), 0.8)
    rows = []
    while len(rows) < N_DIARIES:
        rate = mu * rng.gamma(1 / alpha, alpha)
        pre_events = rng.poisson(rate)
        if select_high and pre_events < cutoff:
            continue  # enrolled after a bad year: top fifth of the cohort's counts
        n_post = rng.poisson(rate * rate_ratio * DIARY_DAYS / DAYS_PER_YEAR)
        times = rng.uniform(0, DIARY_DAYS, n_post)
        daily = np.bincount(np.floor(times).astype(int), minlength=DIARY_DAYS)
        rows.append(np.concatenate([[pre_events], daily]))
    days = np.arange(DIARY_DAYS, dtype=float)
    start = np.concatenate([[-DAYS_PER_YEAR], days])
    end = np.concatenate([[0.0], days + 1])
    return judge_event_rates_batch(start, end, np.array(rows), DIARY_COHORT)


def test_untreated_diaries_rarely_meet():
    assert judge_simulated_diaries(seed=201, rate_ratio=1.0).met.mean() <= 0.05


def test_untreated_diaries_after_a_bad_year_rarely_meet():
    # Regression to the mean: the untreated rate is shrunk toward the cohort's, not the bad year's.
    assert judge_simulated_diaries(seed=202, rate_ratio=1.0, select_high=True).met.mean() <= 0.05


def test_a_ninety_percent_fall_in_a_diary_is_usually_met():
    assert judge_simulated_diaries(seed=203, rate_ratio=0.1).met.mean() >= 0.80
