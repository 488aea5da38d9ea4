"""Poisson and binomial MaxSPRT: R Sequential's known answers, and brute force written here, not in the code under test."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from pmpath.errors import AnalysisError, UsageError
from pmpath.postmarket import (
    binomial_critical_counts,
    binomial_llr,
    critical_value_binomial,
    critical_value_poisson,
    performance_binomial,
    performance_poisson,
    poisson_critical_counts,
    poisson_llr,
)

# --------------------------------------------------------------------------- brute force


def _llr_poisson(c: int, u: float) -> float:
    return c * math.log(c / u) - (c - u) if c > u else 0.0


def _llr_binomial(k: int, n: int, z: float) -> float:
    p0 = 1 / (1 + z)
    if n == 0 or k / n <= p0:
        return 0.0
    value = k * math.log(k / n) - k * math.log(p0) - (n - k) * math.log(1 - p0)
    if k < n:
        value += (n - k) * math.log((n - k) / n)
    return value


def _binomial_paths(n_max: int, looks: list[int], z: float, cv: float, m: int, p: float):
    """Enumerate every case/control sequence of n_max events: (power, E[signal time; signal], E[sample])."""
    power = time = sample = 0.0
    for seq in itertools.product((0, 1), repeat=n_max):
        k = sum(seq)
        weight = p**k * (1 - p) ** (n_max - k)
        cases = np.cumsum(seq)
        stop = None
        for n in looks:
            c = int(cases[n - 1])
            if c >= m and _llr_binomial(c, n, z) >= cv:
                stop = n
                break
        if stop is None:
            sample += weight * n_max
        else:
            power += weight
            time += weight * stop
            sample += weight * stop
    return power, time / power if power else math.nan, sample


def _poisson_group_brute(looks: list[float], cv: float, m: int, rr: float, top: int = 45):
    """Sum over every vector of increments (each below ``top``) at the looks: (power, signal time, sample)."""
    increments = np.diff([0.0, *looks])
    pmfs = [stats.poisson.pmf(np.arange(top), rr * d) for d in increments]
    power = time = 0.0
    for counts in itertools.product(range(top), repeat=len(looks)):
        weight = math.prod(float(pmfs[i][c]) for i, c in enumerate(counts))
        if weight < 1e-300:
            continue
        total = 0
        for t, c in zip(looks, counts, strict=True):
            total += c
            if total >= m and _llr_poisson(total, t) >= cv:
                power += weight
                time += weight * t
                break
    return power, time / power, time + (1 - power) * looks[-1]


def _simulate_continuous_poisson(T: float, cv: float, rr: float, m: int, reps: int, seed: int):
    """Monte Carlo of the continuous test: the statistic at every event arrival up to T."""
    rng = np.random.default_rng(seed)
    counts = rng.poisson(rr * T, size=reps)
    width = int(counts.max())
    arrivals = rng.uniform(0, T, size=(reps, width))
    arrivals[np.arange(width)[None, :] >= counts[:, None]] = np.inf  # only counts[i] events
    arrivals.sort(axis=1)
    c = np.arange(1, width + 1)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        llr = np.where(c > arrivals, c * np.log(c / arrivals) - (c - arrivals), 0.0)
    crossed = (llr >= cv) & (c >= m) & np.isfinite(arrivals)
    signal = crossed.any(axis=1)
    first = np.argmax(crossed, axis=1)
    when = np.where(signal, arrivals[np.arange(reps), first], T)
    return signal.mean(), when[signal].mean(), when.mean(), signal.std() / math.sqrt(reps)


# --------------------------------------------------------------------------- R's known answers


def test_cv_poisson_against_R():
    """CV.Poisson(SampleSize=10, alpha=0.05) = 3.467952."""
    cv = critical_value_poisson(10, 0.05)
    assert cv.critical_value == pytest.approx(3.467952, abs=1e-6)
    assert cv.alpha == pytest.approx(0.05, abs=1e-10)
    assert cv.continuous and cv.critical_value_max == cv.critical_value


@pytest.mark.parametrize(
    ("T", "M", "expected"),
    [  # cells of Sequential's table (TableCV.PoissonM), which its authors computed exactly
        (2, 1, 3.0469774628286),
        (20, 1, 3.62812301587201),
        (100, 1, 3.95232090599911),
        (10, 4, 2.92156132978567),
        (50, 10, 3.11755331874543),
    ],
)
def test_cv_poisson_against_Rs_table(T, M, expected):
    assert critical_value_poisson(T, 0.05, min_events=M).critical_value == pytest.approx(
        expected, abs=1e-6
    )


def test_performance_poisson_against_R():
    """Performance.Poisson(10, cv=3.467952, RR=2): power 0.6850634, ESignalTime 4.130985, ESampleSize 5.979353."""
    p = performance_poisson(10, 3.467952, rr=2)
    assert p.power == pytest.approx(0.6850634, abs=2e-7)
    assert p.signal_time == pytest.approx(4.130985, abs=2e-6)
    assert p.sample_size == pytest.approx(5.979353, abs=2e-6)


def test_group_binomial_against_R():
    """N=25, alpha 0.05, M=1, z=3.5, groups of 5: alpha 0.04775995 at 1.985199, the same up to 2.175208."""
    cv = critical_value_binomial(25, 0.05, matching_ratio=3.5, min_events=1, group_sizes=5)
    assert cv.alpha == pytest.approx(0.04775995, abs=5e-9)
    assert cv.critical_value == pytest.approx(1.985199, abs=1e-6)
    assert cv.critical_value_max == pytest.approx(2.175208, abs=1e-6)
    assert not cv.continuous
    # the choice: the statistic of 10 cases in 25 events (1.98519872) spends more than 0.05, any
    # value above it up to that of 7 cases in 15 (2.17520756) spends 0.04775995, and no more
    lower = _llr_binomial(10, 25, 3.5)
    assert lower < cv.critical_value <= lower + 1e-6
    assert cv.critical_value_max == pytest.approx(_llr_binomial(7, 15, 3.5), abs=1e-12)
    kw = dict(matching_ratio=3.5, rr=1, group_sizes=[5] * 5)
    # (1e-12 below: the two computations of one statistic may differ in the last bit)
    assert performance_binomial(25, lower - 1e-12, **kw).power > 0.05
    for value in (cv.critical_value, 2.1, cv.critical_value_max):
        assert performance_binomial(25, value, **kw).power == pytest.approx(cv.alpha, abs=1e-15)
    assert performance_binomial(25, cv.critical_value_max + 1e-9, **kw).power < cv.alpha


# --------------------------------------------------------------------------- brute force


@pytest.mark.parametrize(
    ("looks", "z", "m"),
    [(list(range(1, 13)), 1.5, 2), ([3, 7, 12], 1.0, 1), ([4, 8, 12], 2.0, 3)],
)
def test_binomial_performance_equals_path_enumeration(looks, z, m):
    n_max = looks[-1]
    groups = None if looks == list(range(1, n_max + 1)) else list(np.diff([0, *looks]))
    cv = critical_value_binomial(n_max, 0.1, matching_ratio=z, min_events=m, group_sizes=groups)
    for rr in (1.0, 2.5):
        perf = performance_binomial(
            n_max, cv.critical_value, matching_ratio=z, rr=rr, min_events=m, group_sizes=groups
        )
        power, signal_time, sample = _binomial_paths(
            n_max, looks, z, cv.critical_value, m, rr / (rr + z)
        )
        assert perf.power == pytest.approx(power, abs=1e-12)
        assert perf.signal_time == pytest.approx(signal_time, rel=1e-12)
        assert perf.sample_size == pytest.approx(sample, rel=1e-12)
    assert cv.alpha <= 0.1
    # every smaller attainable statistic spends more than the target
    below = max(
        _llr_binomial(k, n, z)
        for n in looks
        for k in range(m, n + 1)
        if _llr_binomial(k, n, z) < cv.critical_value
    )
    assert _binomial_paths(n_max, looks, z, below, m, 1 / (1 + z))[0] > 0.1


def test_group_poisson_equals_brute_force():
    looks = [1.5, 3.5, 6.0]
    cv = critical_value_poisson(6.0, 0.05, group_sizes=[1.5, 2.0, 2.5])
    assert cv.alpha <= 0.05
    for rr in (1.0, 2.0):
        perf = performance_poisson(6.0, cv.critical_value, rr=rr, group_sizes=[1.5, 2.0, 2.5])
        power, signal_time, sample = _poisson_group_brute(looks, cv.critical_value, 1, rr)
        assert perf.power == pytest.approx(power, abs=1e-12)
        assert perf.signal_time == pytest.approx(signal_time, rel=1e-10)
        assert perf.sample_size == pytest.approx(sample, rel=1e-10)
    if cv.alpha < 0.05:  # just below the chosen value the test spends more than alpha
        lower = max(
            _llr_poisson(n, t)
            for t in looks
            for n in range(1, 40)
            if _llr_poisson(n, t) < cv.critical_value
        )
        assert _poisson_group_brute(looks, lower, 1, 1.0)[0] > 0.05


def test_group_poisson_min_events_brute_force():
    looks = [2.0, 4.0]
    perf = performance_poisson(4.0, 1.2, rr=1.5, min_events=5, group_sizes=[2.0, 2.0])
    power, signal_time, sample = _poisson_group_brute(looks, 1.2, 5, 1.5, top=60)
    assert perf.power == pytest.approx(power, abs=1e-12)
    assert perf.signal_time == pytest.approx(signal_time, rel=1e-10)
    assert perf.sample_size == pytest.approx(sample, rel=1e-10)


@pytest.mark.parametrize(("T", "m", "alpha"), [(5.0, 1, 0.05), (8.0, 3, 0.1)])
def test_continuous_poisson_against_monte_carlo(T, m, alpha):
    cv = critical_value_poisson(T, alpha, min_events=m)
    assert cv.alpha == pytest.approx(alpha, abs=1e-9)
    for rr, seed in ((1.0, 1), (2.0, 2)):
        perf = performance_poisson(T, cv.critical_value, rr=rr, min_events=m)
        power, signal_time, sample, se = _simulate_continuous_poisson(
            T, cv.critical_value, rr, m, 200_000, seed
        )
        assert abs(perf.power - power) < 4.5 * se
        assert perf.signal_time == pytest.approx(signal_time, rel=0.01)
        assert perf.sample_size == pytest.approx(sample, rel=0.005)


def test_continuous_poisson_boundary_is_where_the_statistic_equals_cv():
    times, counts = poisson_critical_counts(10, 3.467952)
    inner = times[:-1]
    assert np.allclose(poisson_llr(counts[:-1], inner), 3.467952, atol=1e-9)
    assert times[-1] == 10 and counts.tolist() == list(range(1, len(counts) + 1))


def test_llr_functions_against_closed_form():
    for c, u in [(6, 2.0), (3, 2.5), (1, 3.0), (40, 17.3)]:
        assert float(poisson_llr(c, u)) == pytest.approx(_llr_poisson(c, u), abs=1e-12)
    for k, n, z in [(10, 25, 3.5), (5, 5, 1.0), (2, 10, 1.0), (7, 9, 0.5)]:
        assert float(binomial_llr(k, n, z)) == pytest.approx(_llr_binomial(k, n, z), abs=1e-12)


def test_binomial_critical_counts_are_the_smallest_that_signal():
    looks, cases = binomial_critical_counts(
        20, 2.0, matching_ratio=1.0, min_events=2, group_sizes=4
    )
    for n, k in zip(looks, cases, strict=True):
        signalling = [c for c in range(2, n + 1) if _llr_binomial(c, n, 1.0) >= 2.0]
        assert k == (signalling[0] if signalling else n + 1)


# --------------------------------------------------------------------------- properties


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(4, 30),
    z=st.floats(0.5, 4.0),
    cv1=st.floats(0.05, 4.0),
    cv2=st.floats(0.05, 4.0),
    group=st.sampled_from([1, 2]),
)
def test_binomial_alpha_never_grows_with_the_critical_value(n, z, cv1, cv2, group):
    n = n - n % group
    lo, hi = sorted((cv1, cv2))
    kw = dict(matching_ratio=z, rr=1, group_sizes=group)
    assert (
        performance_binomial(n, hi, **kw).power <= performance_binomial(n, lo, **kw).power + 1e-15
    )


@settings(max_examples=30, deadline=None)
@given(
    sizes=st.lists(st.floats(0.2, 4.0), min_size=1, max_size=5),
    cv=st.floats(0.2, 4.0),
    rr1=st.floats(1.0, 4.0),
    rr2=st.floats(1.0, 4.0),
)
def test_poisson_power_grows_with_the_relative_risk(sizes, cv, rr1, rr2):
    total = float(sum(sizes))
    lo, hi = sorted((rr1, rr2))
    a = performance_poisson(total, cv, rr=lo, group_sizes=sizes)
    b = performance_poisson(total, cv, rr=hi, group_sizes=sizes)
    assert b.power >= a.power - 1e-12
    assert 0 <= a.power <= 1 and a.sample_size <= total + 1e-9


@settings(max_examples=25, deadline=None)
@given(T=st.floats(1.5, 40.0), alpha=st.sampled_from([0.01, 0.05, 0.1]), m=st.integers(1, 3))
def test_continuous_poisson_cv_spends_exactly_alpha(T, alpha, m):
    if stats.poisson.sf(m - 1, T) < alpha:
        with pytest.raises(AnalysisError):
            critical_value_poisson(T, alpha, min_events=m)
        return
    cv = critical_value_poisson(T, alpha, min_events=m)
    assert performance_poisson(T, cv.critical_value, rr=1, min_events=m).power == pytest.approx(
        alpha, abs=1e-9
    )
    assert cv.alpha_spent[-1] == pytest.approx(cv.alpha) and all(np.diff(cv.alpha_spent) >= -1e-15)


@settings(max_examples=25, deadline=None)
@given(n=st.integers(5, 40), z=st.floats(0.5, 4.0), alpha=st.sampled_from([0.05, 0.1]))
def test_binomial_cv_is_the_smallest_below_alpha(n, z, alpha):
    try:
        cv = critical_value_binomial(n, alpha, matching_ratio=z)
    except AnalysisError:
        # then even the largest attainable statistic spends more than alpha
        top = max(_llr_binomial(k, i, z) for i in range(1, n + 1) for k in range(1, i + 1))
        assert performance_binomial(n, top, matching_ratio=z, rr=1).power > alpha
        return
    assert cv.alpha <= alpha
    values = sorted(
        {_llr_binomial(k, i, z) for i in range(1, n + 1) for k in range(1, i + 1)} - {0.0}
    )
    below = [v for v in values if v < cv.critical_value - 1e-12]
    if below:
        assert performance_binomial(n, below[-1] - 1e-12, matching_ratio=z, rr=1).power > alpha


# --------------------------------------------------------------------------- bad arguments


@pytest.mark.parametrize(
    "call",
    [
        lambda: critical_value_poisson(10, 0.7),
        lambda: critical_value_poisson(-1, 0.05),
        lambda: critical_value_poisson(10, 0.05, min_events=0),
        lambda: critical_value_poisson(10, 0.05, group_sizes=[5, 4]),
        lambda: critical_value_binomial(25, 0.05, matching_ratio=1, group_sizes=4),
        lambda: critical_value_binomial(25, 0.05, matching_ratio=0),
        lambda: performance_poisson(10, 3.0, rr=0.5),
        lambda: performance_binomial(10, -1.0, matching_ratio=1.0),
    ],
)
def test_bad_arguments_are_usage_errors(call):
    with pytest.raises(UsageError):
        call()


def test_impossible_designs_are_analysis_errors():
    with pytest.raises(AnalysisError, match="lengthen"):
        critical_value_poisson(1.0, 0.05, min_events=4)
    with pytest.raises(AnalysisError, match="lengthen"):
        critical_value_binomial(3, 0.05, matching_ratio=1.0)
