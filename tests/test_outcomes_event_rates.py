"""Flaring disease: the event record (EventPeriods) and the untreated-rate posterior (RatePosterior).

Known answers: the conjugate gamma-Poisson update by hand, the gamma distribution's Laplace
transform (the negative binomial probability of no event), scipy.integrate.quad for the
posterior integral of the event-free-run probability, and periods written out by hand.
"""

from __future__ import annotations

import math

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
    event_free_run_probability,
    longest_run_sf,
)

MONTH = 30.4375


def test_posterior_is_the_conjugate_gamma_update():
    # mu = 12/year, alpha = 0.5, 20 events in 1 year: Gamma(2 + 20, 1/6 + 1) -> mean 22 * 6/7
    post = UntreatedRate(12.0, 0.5).posterior(20, 1.0)
    assert post.shape == pytest.approx(22.0) and post.rate == pytest.approx(7 / 6)
    assert post.mean == pytest.approx(22 * 6 / 7)
    # the cohort's own rate before any pre-treatment record
    prior = UntreatedRate(12.0, 0.5).posterior()
    assert (prior.shape, prior.rate, prior.mean) == pytest.approx((2.0, 1 / 6, 12.0))
    # no heterogeneity: the cohort rate, whatever the patient's pre-treatment record
    poisson = UntreatedRate(12.0, 0.0).posterior(40, 1.0)
    assert poisson.is_point_mass and poisson.mean == 12.0
    assert poisson.interval() == (12.0, 12.0)
    with pytest.raises(ValueError, match="non-negative"):
        UntreatedRate(12.0, 0.5).posterior(-1, 1.0)
    with pytest.raises(ValueError, match="dispersion"):
        UntreatedRate(12.0, -0.1)


@pytest.mark.parametrize(
    ("shape", "rate"), [(0.5, 0.05), (1.0, 0.1), (2.0, 1 / 6), (22.0, 7 / 6), (400.0, 20.0)]
)
def test_posterior_nodes_integrate_the_no_event_probability(shape, rate):
    # E[exp(-L t)] = (b / (b + t))^a, the negative binomial chance of no event in t years: a bounded
    # expectation like the run probabilities the nodes serve, whose small values come from the low
    # rates; to a relative 1e-4 down to 1e-4, well past the run route's 0.025.
    post = UntreatedRate(shape / rate, 1 / shape).posterior()
    assert (post.shape, post.rate) == pytest.approx((shape, rate))
    rates, weights = post.nodes()
    assert weights.sum() == pytest.approx(1.0, abs=1e-12)
    for target in (0.5, 0.025, 1e-3, 1e-4):
        t = rate * (target ** (-1 / shape) - 1)  # years with (b / (b + t))^a = target
        assert np.sum(weights * np.exp(-rates * t)) == pytest.approx(target, rel=1e-4)


def test_point_mass_posterior_has_one_node():
    rates, weights = UntreatedRate(6.0).posterior(3, 1.0).nodes()
    assert rates.tolist() == [6.0] and weights.tolist() == [1.0]


def test_run_probability_integrates_over_the_posterior():
    untreated = UntreatedRate(6.0, 0.8)
    post = untreated.posterior(9, 1.0)
    a, b = post.shape, post.rate
    assert (a, b) == pytest.approx((1 / 0.8 + 9, 1 / (0.8 * 6.0) + 1.0))
    edges = np.arange(13) * MONTH
    start, end = edges[:-1], edges[1:]
    # the whole year event-free: the negative binomial probability of no event, (b / (b + t))^a
    whole = event_free_run_probability(start, end, post, 12 * MONTH)
    assert whole == pytest.approx((b / (b + 12 * MONTH / DAYS_PER_YEAR)) ** a, rel=1e-8)

    # a nine-month run: adaptive quadrature over the posterior's probability scale u (log u below
    # 1/2, where the low rates that make a long run likely sit)
    def f(u: float) -> float:
        rate = stats.gamma.ppf(u, a, scale=1 / b) / DAYS_PER_YEAR
        return float(longest_run_sf(start, end, rate, 9 * MONTH)[0])

    low, _ = integrate.quad(
        lambda s: f(math.exp(s)) * math.exp(s),
        math.log(1e-300),
        math.log(0.5),
        limit=500,
        epsabs=0,
        epsrel=1e-10,
    )
    high, _ = integrate.quad(f, 0.5, 1.0, limit=500, epsabs=0, epsrel=1e-10)
    assert event_free_run_probability(start, end, post, 9 * MONTH) == pytest.approx(
        low + high, rel=1e-6
    )


def test_periods_from_event_times_are_written_out():
    p = EventPeriods.from_event_times([30.0, 20.0, 30.0], 400.0, pre_events=9, pre_days=365.25)
    rows = list(zip(p.start_day.tolist(), p.end_day.tolist(), p.count.tolist(), strict=True))
    assert rows == [
        (-365.25, 0.0, 9),
        (0.0, 20.0, 0),
        (20.0, 20.0, 1),
        (20.0, 30.0, 0),
        (30.0, 30.0, 2),
        (30.0, 400.0, 0),
    ]
    with pytest.raises(ValueError, match="within"):
        EventPeriods.from_event_times([410.0], 400.0)
    with pytest.raises(ValueError, match="pre-treatment duration"):
        EventPeriods.from_event_times([10.0], 400.0, pre_events=3)


def test_periods_are_sorted_and_read_only():
    p = EventPeriods([30, 0, 10], [40, 10, 30], [1, 0, 2])
    assert p.start_day.tolist() == [0.0, 10.0, 30.0] and p.count.tolist() == [0, 2, 1]
    with pytest.raises(ValueError):
        p.count[0] = 5


def test_overlapping_periods_are_rejected():
    with pytest.raises(AnalysisError, match="overlap"):
        EventPeriods([0, 5], [10, 20], [0, 1])
    with pytest.raises(AnalysisError, match="inside the period"):
        EventPeriods([0, 5], [10, 5], [0, 1])
    with pytest.raises(ValueError, match="whole numbers"):
        EventPeriods([0], [1], [0.5])
    with pytest.raises(ValueError, match="before it starts"):
        EventPeriods([5], [1], [0])
    with pytest.raises(ValueError, match="one of each"):
        EventPeriods([0, 1], [1], [0])


@settings(max_examples=40, deadline=None)
@given(
    cohort_rate=st.floats(0.5, 100.0),
    dispersion=st.floats(0.01, 5.0),
    pre_events=st.integers(0, 200),
    pre_years=st.floats(0.01, 5.0),
)
def test_posterior_mean_lies_between_the_cohort_and_the_patient(
    cohort_rate, dispersion, pre_events, pre_years
):
    # Shrinkage: the posterior mean is a weighted average of the cohort's rate and the patient's own.
    post = UntreatedRate(cohort_rate, dispersion).posterior(pre_events, pre_years)
    own = pre_events / pre_years
    lo, hi = min(cohort_rate, own), max(cohort_rate, own)
    assert lo * (1 - 1e-9) <= post.mean <= hi * (1 + 1e-9)
