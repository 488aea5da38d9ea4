"""Flaring disease: maximum-gap probabilities, the rate ratio, the untreated-rate posterior and decisions.

Known answers: Monte Carlo of uniform points and of Poisson processes simulated here, the explicit
Poisson mixture of the uniform-spacings formula, scipy's binomtest Clopper-Pearson interval converted
by hand, the conjugate gamma-Poisson update by hand, and scipy.integrate.quad for the posterior integral.
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from pmpath.errors import AnalysisError
from pmpath.outcomes import (
    DAYS_PER_YEAR,
    EventPeriods,
    UntreatedRate,
    compare_event_rates,
    poisson_max_gap_sf,
    rate_ratio_ci,
    uniform_max_spacing_sf,
)
from pmpath.outcomes.event_rates import _max_gap_sf_blocks


def poisson_process_max_gaps(
    rng: np.random.Generator, rate: float, length: float, reps: int
) -> np.ndarray:
    """Longest event-free interval (boundary pieces included) of simulated Poisson processes."""
    out = np.empty(reps)
    for i in range(reps):
        t = np.sort(rng.uniform(0, length, rng.poisson(rate * length)))
        out[i] = np.diff(np.concatenate([[0.0], t, [length]])).max()
    return out


@pytest.mark.parametrize(("n", "x"), [(0, 0.5), (1, 0.6), (5, 0.3), (12, 0.2), (30, 0.12)])
def test_uniform_max_spacing_against_monte_carlo(n, x):
    rng = np.random.default_rng(n)
    reps = 100_000
    u = np.sort(rng.uniform(size=(reps, n)), axis=1)
    spacings = np.diff(np.concatenate([np.zeros((reps, 1)), u, np.ones((reps, 1))], axis=1), axis=1)
    mc = float(np.mean(spacings.max(axis=1) >= x))
    p = uniform_max_spacing_sf(n, x)
    assert p == pytest.approx(mc, abs=4 * math.sqrt(max(mc * (1 - mc), 1e-4) / reps))


def test_uniform_max_spacing_edges():
    assert uniform_max_spacing_sf(0, 0.7) == 1.0  # no point: one spacing of length 1
    assert uniform_max_spacing_sf(3, 0.0) == 1.0
    assert uniform_max_spacing_sf(3, 1.01) == 0.0
    # one point: max(U, 1-U) >= x with probability 2(1 - x) for x >= 1/2
    assert uniform_max_spacing_sf(1, 0.8) == pytest.approx(0.4)


@pytest.mark.parametrize(
    ("rate", "length", "gap"),
    [(0.05, 365.0, 60.0), (0.03, 365.0, 120.0), (0.2, 100.0, 10.0), (0.02, 200.0, 150.0)],
)
def test_max_gap_is_the_poisson_mixture_of_uniform_spacings(rate, length, gap):
    mu = rate * length
    mixture = sum(
        stats.poisson.pmf(n, mu) * uniform_max_spacing_sf(n, gap / length)
        for n in range(int(mu + 10 * math.sqrt(mu) + 20))
    )
    assert poisson_max_gap_sf(rate, length, gap) == pytest.approx(mixture, abs=1e-12)


@pytest.mark.parametrize(("rate", "length", "gap"), [(0.05, 365.0, 60.0), (0.5, 200.0, 9.0)])
def test_max_gap_against_simulated_poisson_process(rate, length, gap):
    rng = np.random.default_rng(5)
    reps = 20_000
    mc = float(np.mean(poisson_process_max_gaps(rng, rate, length, reps) >= gap))
    p = poisson_max_gap_sf(rate, length, gap)
    assert p == pytest.approx(mc, abs=4 * math.sqrt(mc * (1 - mc) / reps))
    # a gap of that length anywhere is far likelier than one fixed window being empty
    assert p > math.exp(-rate * gap)


def test_max_gap_edges():
    assert poisson_max_gap_sf(0.1, 100.0, 0.0) == 1.0
    assert poisson_max_gap_sf(0.1, 100.0, 101.0) == 0.0
    assert poisson_max_gap_sf(0.0, 100.0, 100.0) == 1.0
    # the whole follow-up event-free: P(no event) exactly
    assert poisson_max_gap_sf(0.1, 100.0, 100.0) == pytest.approx(math.exp(-10.0))
    # one term for gap in [length/2, length]: exp(-r g) (1 + r (L - g))
    assert poisson_max_gap_sf(0.1, 100.0, 70.0) == pytest.approx(math.exp(-7.0) * (1 + 3.0))
    np.testing.assert_allclose(
        poisson_max_gap_sf(np.array([0.05, 0.1]), 100.0, 70.0),
        [math.exp(-3.5) * 2.5, math.exp(-7.0) * 4.0],
    )


@pytest.mark.parametrize(
    ("rate", "length", "gap"),
    [
        (0.05, 365.0, 60.0),
        (0.01, 400.0, 150.0),
        (1.0, 300.0, 4.5),
        (0.5, 50.0, 50.0),
        (0.02, 365.0, 100.5),
    ],
)
def test_renewal_solution_agrees_with_the_closed_form(rate, length, gap):
    # The fallback used where the alternating sum would cancel, checked where both are accurate:
    # the complement Q = 1 - P to a relative 1e-6.
    closed = poisson_max_gap_sf(rate, length, gap)
    assert 1 - _max_gap_sf_blocks(np.array([rate]), length, gap)[0] == pytest.approx(
        1 - closed, rel=1e-6
    )


def exact_max_gap_sf(rate: float, length: float, gap: float, digits: int = 80) -> Decimal:
    """The closed-form alternating sum in 80-digit decimal arithmetic: no cancellation trouble."""
    with localcontext() as ctx:
        ctx.prec = digits
        lam, total_length, g = Decimal(rate), Decimal(length), Decimal(gap)
        total = Decimal(0)
        for k in range(1, math.floor(length / gap) + 1):
            r = lam * (total_length - k * g)
            power = Decimal(1) if k == 1 else r ** (k - 1)
            term = (-lam * k * g).exp() * power / math.factorial(k - 1) * (1 + r / k)
            total += term if k % 2 else -term
        return total


def test_ill_conditioned_rates_match_high_precision_arithmetic():
    # lambda = 1, length 200, gap 2: the float sum's terms reach 1e10, the answer is 1 - 1e-12-ish.
    rates = np.array([1.0, 1.5])
    p = poisson_max_gap_sf(rates, 200.0, 2.0)
    for rate, value in zip(rates, p, strict=True):
        q_exact = 1 - exact_max_gap_sf(rate, 200.0, 2.0)
        assert 0 < q_exact < Decimal("1e-6")
        assert 1 - _max_gap_sf_blocks(np.array([rate]), 200.0, 2.0)[0] == pytest.approx(
            float(q_exact), rel=1e-5
        )
        assert value == pytest.approx(1 - float(q_exact), abs=1e-15)


def test_ill_conditioned_rates_stay_probabilities():
    # Thousands of terms; a rigorous bound: 500 disjoint windows of length 2, any empty one is a gap >= 2.
    rates = np.array([1.0, 2.0, 3.0])
    p = poisson_max_gap_sf(rates, 1000.0, 2.0)
    assert np.all(p >= 1 - (1 - np.exp(-rates * 2.0)) ** 500 - 1e-12)
    assert np.all(p <= 1.0)


@settings(max_examples=60, deadline=None)
@given(
    rate=st.floats(0.001, 2.0),
    factor=st.floats(1.01, 3.0),
    length=st.floats(10.0, 800.0),
    frac=st.floats(0.01, 1.0),
)
def test_max_gap_probability_falls_as_the_rate_rises(rate, factor, length, frac):
    # Thinning a faster process gives a slower one whose gaps contain the faster one's.
    gap = frac * length
    slow, fast = poisson_max_gap_sf(np.array([rate, rate * factor]), length, gap)
    assert 0.0 <= fast <= slow + 1e-9 <= 1.0 + 1e-9


def test_rate_ratio_ci_is_clopper_pearson_converted_by_hand():
    pre_events, pre_years, post_events, post_years = 18, 1.5, 4, 2.0
    r = rate_ratio_ci(pre_events, pre_years, post_events, post_years, 0.95)
    ci = stats.binomtest(post_events, pre_events + post_events).proportion_ci(0.95, method="exact")
    to_ratio = lambda p: p / (1 - p) * pre_years / post_years  # noqa: E731
    assert r.estimate == pytest.approx((4 / 2.0) / (18 / 1.5))
    assert r.lower == pytest.approx(to_ratio(ci.low))
    assert r.upper == pytest.approx(to_ratio(ci.high))
    # one-sided p: P(Y <= 4 | n = 22, pi0 = t2 / (t1 + t2))
    assert r.p_value == pytest.approx(stats.binom.cdf(4, 22, 2.0 / 3.5))


def test_rate_ratio_ci_edges():
    none_after = rate_ratio_ci(10, 1.0, 0, 1.0)
    assert none_after.estimate == 0.0 and none_after.lower == 0.0 and none_after.upper < 1
    # no events after: upper limit of pi is 1 - (alpha/2)^(1/n)
    assert none_after.upper == pytest.approx((1 - 0.025 ** (1 / 10)) / 0.025 ** (1 / 10))
    none_before = rate_ratio_ci(0, 1.0, 3, 1.0)
    assert math.isinf(none_before.estimate) and math.isinf(none_before.upper)
    nothing = rate_ratio_ci(0, 1.0, 0, 1.0)
    assert math.isnan(nothing.estimate) and nothing.lower == 0 and math.isinf(nothing.upper)


def test_posterior_is_the_conjugate_gamma_update():
    # mu = 12/year, alpha = 0.5, 20 events in 1 year: Gamma(2 + 20, 1/6 + 1) -> mean 22 * 6/7
    post = UntreatedRate(12.0, 0.5).posterior(20, 1.0)
    assert post.shape == pytest.approx(22.0) and post.rate == pytest.approx(7 / 6)
    assert post.mean == pytest.approx(22 * 6 / 7)
    # no heterogeneity: the cohort rate, whatever the patient's pre-treatment record
    poisson = UntreatedRate(12.0, 0.0).posterior(40, 1.0)
    assert poisson.is_point_mass and poisson.mean == 12.0
    # the predictive count is negative binomial: P(0 events in t) = (b / (b + t))^a
    assert post.no_event_probability(0.5) == pytest.approx(
        (post.rate / (post.rate + 0.5)) ** post.shape
    )
    assert post.predictive_cdf(0, 0.5) == pytest.approx(post.no_event_probability(0.5))
    t = post.years_until_no_event_probability(0.05)
    assert post.no_event_probability(t) == pytest.approx(0.05)


def test_gap_probability_integrates_over_the_posterior():
    untreated = UntreatedRate(6.0, 0.8)
    periods = EventPeriods.from_event_times([20.0, 30.0], 400.0, pre_events=9, pre_days=365.25)
    r = compare_event_rates(periods, untreated)
    assert r.longest_gap_days == pytest.approx(370.0) and (
        r.longest_gap_start,
        r.longest_gap_end,
    ) == (30.0, 400.0)
    a, b = r.posterior.shape, r.posterior.rate
    assert (a, b) == pytest.approx((1 / 0.8 + 9, 1 / (0.8 * 6.0) + 1.0))

    # adaptive quadrature over the posterior's probability scale u (log u below 1/2, where the
    # low rates that make a long gap likely sit)
    def f(u: float) -> float:
        return poisson_max_gap_sf(stats.gamma.ppf(u, a, scale=1 / b) / DAYS_PER_YEAR, 400.0, 370.0)

    low, _ = integrate.quad(
        lambda s: f(math.exp(s)) * math.exp(s),
        math.log(1e-300),
        math.log(0.5),
        limit=500,
        epsabs=0,
        epsrel=1e-10,
    )
    high, _ = integrate.quad(f, 0.5, 1.0, limit=500, epsabs=0, epsrel=1e-10)
    expected = low + high
    assert r.gap_probability == pytest.approx(expected, rel=1e-6)


def test_longest_gap_counts_only_periods_recorded_event_free():
    # A daily diary: events on days 5 and 20 (two that day) -> event-free days 6..19 = 14 days.
    days = np.arange(30)
    counts = np.zeros(30, dtype=int)
    counts[5], counts[20] = 1, 2
    diary = EventPeriods(days, days + 1, counts)
    r = compare_event_rates(diary, UntreatedRate(12.0, 0.5))
    assert (r.longest_gap_start, r.longest_gap_end) == (6.0, 20.0)
    assert r.post_events == 3 and r.post_years == pytest.approx(30 / DAYS_PER_YEAR)
    # a month holding one event is not event-free anywhere inside it
    months = EventPeriods([0, 10, 40], [10, 40, 100], [0, 1, 0])
    assert compare_event_rates(months, UntreatedRate(12.0, 0.5)).longest_gap_days == 60.0
    # time covered by no period breaks a stretch and is flagged
    holes = compare_event_rates(EventPeriods([0, 20], [10, 50], [0, 0]), UntreatedRate(12.0, 0.5))
    assert holes.longest_gap_days == 30.0 and holes.follow_up_days == 50.0
    assert any("covered by no period" in f for f in holes.flags)


def test_periods_across_the_first_dose():
    untreated = UntreatedRate(12.0, 0.5)
    clean = compare_event_rates(EventPeriods([-100, 50], [50, 200], [0, 1]), untreated)
    assert clean.pre_years == pytest.approx(100 / DAYS_PER_YEAR) and clean.longest_gap_days == 50.0
    mixed = compare_event_rates(EventPeriods([-100, -10, 10], [-10, 10, 200], [3, 2, 0]), untreated)
    assert mixed.pre_events == 3 and mixed.post_events == 0
    assert mixed.longest_gap_days == 190.0  # the straddling period's post part may hold its events
    assert any("spanning the first dose" in f for f in mixed.flags)


def test_overlapping_periods_are_rejected():
    with pytest.raises(AnalysisError, match="overlap"):
        EventPeriods([0, 5], [10, 20], [0, 1])
    with pytest.raises(AnalysisError, match="inside the period"):
        EventPeriods([0, 5], [10, 5], [0, 1])
    with pytest.raises(ValueError, match="whole numbers"):
        EventPeriods([0], [1], [0.5])


def test_decisions():
    untreated = UntreatedRate(24.0, 0.3)
    # 24 events in the year before, one event in the year after (day 100)
    good = compare_event_rates(
        EventPeriods.from_event_times([100.0], 365.0, pre_events=24, pre_days=365.25), untreated
    )
    assert good.decision == "met", good.reason
    assert good.rate_ratio.estimate == pytest.approx(1 / 24, rel=1e-3) and good.rate_ratio.upper < 1
    assert good.gap_probability < 0.05
    # events as frequent as before
    same = compare_event_rates(
        EventPeriods.from_event_times(
            np.linspace(5, 360, 24), 365.0, pre_events=24, pre_days=365.25
        ),
        untreated,
    )
    assert same.decision == "not_met" and "rate ratio" in same.reason
    # ten event-free days: even no event at all would be unremarkable untreated
    short = compare_event_rates(
        EventPeriods.from_event_times([], 10.0, pre_events=24, pre_days=365.25), untreated
    )
    assert short.decision == "insufficient" and "too short" in short.reason
    assert short.min_follow_up_days > 10.0
    # no post-treatment record at all
    pre_only = compare_event_rates(EventPeriods([-365], [0], [24]), untreated)
    assert pre_only.decision == "insufficient" and "no observation time" in pre_only.reason
    # no pre-treatment record: judged on the gap alone, against the cohort rate
    gap_only = compare_event_rates(EventPeriods.from_event_times([300.0], 365.0), untreated)
    assert gap_only.rate_ratio is None and gap_only.decision == "met"
    assert any("gap alone" in f for f in gap_only.flags)


def test_regression_to_the_mean_is_flagged_and_shrunk():
    untreated = UntreatedRate(6.0, 0.25)
    # 20 events in a year when the cohort's 97.5% range for a year is far lower
    r = compare_event_rates(
        EventPeriods.from_event_times([200.0], 365.0, pre_events=20, pre_days=365.25), untreated
    )
    assert r.regression_to_mean and any("regression to the mean" in f for f in r.flags)
    assert 6.0 < r.posterior.mean < 20.0
