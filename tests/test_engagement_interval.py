"""Edited-fraction intervals: exact Clopper-Pearson against published values, and its widening for
overdispersed replicate samples against hand computations and simulation truth."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from pmpath.engagement import clopper_pearson, edited_fraction_interval, estimate_overdispersion

# ----------------------------------------------------------------- Clopper-Pearson, known answers


def test_clopper_pearson_zero_of_ten_against_closed_form() -> None:
    # k = 0: lower is 0, upper solves (1 - p)^n = alpha/2, i.e. 1 - 0.025^(1/10) = 0.30850
    # (the classic table value for 0/10).
    lo, hi = clopper_pearson(0, 10)
    assert lo == 0.0
    assert hi == pytest.approx(1 - 0.025 ** (1 / 10), abs=1e-12)
    assert hi == pytest.approx(0.3085, abs=5e-5)


def test_clopper_pearson_all_of_ten_against_closed_form() -> None:
    # k = n: upper is 1, lower solves p^n = alpha/2
    lo, hi = clopper_pearson(10, 10)
    assert hi == 1.0
    assert lo == pytest.approx(0.025 ** (1 / 10), abs=1e-12)


def test_clopper_pearson_five_of_ten_against_R() -> None:
    # R: binom.test(5, 10)$conf.int -> 0.1870860 0.8129140
    lo, hi = clopper_pearson(5, 10)
    assert lo == pytest.approx(0.1870860, abs=1e-7)
    assert hi == pytest.approx(0.8129140, abs=1e-7)


def test_clopper_pearson_other_confidence_against_closed_form() -> None:
    # 90%: upper for 0/20 is 1 - 0.05^(1/20)
    assert clopper_pearson(0, 20, confidence=0.90)[1] == pytest.approx(
        1 - 0.05 ** (1 / 20), abs=1e-12
    )


@given(n=st.integers(1, 2000), data=st.data(), confidence=st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_clopper_pearson_bounds_are_the_binomial_tail_points(
    n: int, data: st.DataObject, confidence: float
) -> None:
    # Definition: P(X >= k | p_lo) = alpha/2 and P(X <= k | p_hi) = alpha/2, checked with the
    # binomial distribution rather than the beta quantiles used in the code.
    k = data.draw(st.integers(0, n))
    alpha = 1 - confidence
    lo, hi = clopper_pearson(k, n, confidence)
    if k > 0:
        assert stats.binom.sf(k - 1, n, lo) == pytest.approx(alpha / 2, rel=1e-6)
    if k < n:
        assert stats.binom.cdf(k, n, hi) == pytest.approx(alpha / 2, rel=1e-6)


@given(n=st.integers(1, 5000), data=st.data())
def test_clopper_pearson_contains_the_fraction_and_stays_in_unit_interval(
    n: int, data: st.DataObject
) -> None:
    k = data.draw(st.integers(0, n))
    lo, hi = clopper_pearson(k, n)
    assert 0.0 <= lo <= k / n <= hi <= 1.0
    assert lo < hi


@given(n=st.integers(1, 1000), c=st.integers(2, 5), data=st.data())
def test_clopper_pearson_narrows_with_more_reads_at_the_same_fraction(
    n: int, c: int, data: st.DataObject
) -> None:
    k = data.draw(st.integers(0, n))
    lo, hi = clopper_pearson(k, n)
    lo_c, hi_c = clopper_pearson(c * k, c * n)
    assert hi_c - lo_c < hi - lo


@given(n=st.integers(1, 1000), data=st.data())
def test_clopper_pearson_widens_with_confidence(n: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(0, n))
    lo90, hi90 = clopper_pearson(k, n, 0.90)
    lo99, hi99 = clopper_pearson(k, n, 0.99)
    assert lo99 <= lo90 and hi90 <= hi99


@pytest.mark.parametrize(
    ("k", "n", "confidence"),
    [
        (-1, 10, 0.95),
        (11, 10, 0.95),
        (1, 0, 0.95),
        (1, 10, 1.0),
        (1, 10, 0.0),
        (float("nan"), 10, 0.95),
    ],
)
def test_clopper_pearson_refuses_impossible_input(k: float, n: float, confidence: float) -> None:
    with pytest.raises(ValueError, match="found"):
        clopper_pearson(k, n, confidence)


# ----------------------------------------------------------------- overdispersion, hand computations


def test_overdispersion_equal_sizes_by_hand() -> None:
    # p = 80/200 = 0.4; X2 = 2 * 10^2 / (100 * 0.24) = 25/3; m - 1 = 1; N - m - n_w + 1 = 99
    # rho = (25/3 - 1) / 99; design effect 1 + 99 rho = X2 / (m - 1) = 25/3
    od = estimate_overdispersion([(30, 100), (50, 100)])
    assert od is not None
    assert od.pearson_chi2 == pytest.approx(25 / 3)
    assert od.rho == pytest.approx((25 / 3 - 1) / 99)
    assert od.design_effect == pytest.approx(25 / 3)
    assert od.df == 1


def test_overdispersion_unequal_sizes_by_hand() -> None:
    # p = 50/150 = 1/3; expected 50/3 and 100/3; X2 = (20/3)^2 / (50 * 2/9) + (20/3)^2 / (100 * 2/9) = 4 + 2
    # n_w = (50^2 + 100^2) / 150 = 250/3; denominator = 150 - 2 - 250/3 + 1 = 197/3
    od = estimate_overdispersion([(10, 50), (40, 100)])
    assert od is not None
    assert od.pearson_chi2 == pytest.approx(6.0)
    rho = 5 / (197 / 3)
    assert od.rho == pytest.approx(rho)
    assert od.design_effect == pytest.approx(1 + (250 / 3 - 1) * rho)


def test_overdispersion_is_not_estimable_without_variation_to_see() -> None:
    assert estimate_overdispersion([(40, 100)]) is None  # one sample
    assert estimate_overdispersion([(0, 100), (0, 80)]) is None  # nothing edited anywhere
    assert estimate_overdispersion([(100, 100), (80, 80)]) is None  # everything edited
    assert estimate_overdispersion([(1, 1), (0, 1), (1, 1)]) is None  # single-read samples


def test_overdispersion_moment_estimate_recovers_the_simulated_rho() -> None:
    rng = np.random.default_rng(20260110)
    p, rho = 0.3, 0.02
    a, b = p * (1 - rho) / rho, (1 - p) * (1 - rho) / rho
    sizes = rng.integers(300, 700, size=400)
    edited = stats.betabinom.rvs(sizes, a, b, random_state=rng)
    od = estimate_overdispersion(list(zip(edited.tolist(), sizes.tolist(), strict=True)))
    assert od is not None
    assert od.rho == pytest.approx(rho, rel=0.25)


# ----------------------------------------------------------------- the widened interval


def test_one_replicate_is_plain_clopper_pearson_with_a_note() -> None:
    iv = edited_fraction_interval([(31, 100)])
    assert (iv.lower, iv.upper) == clopper_pearson(31, 100)
    assert iv.method == "clopper_pearson"
    assert iv.rho is None and iv.design_effect is None
    assert iv.effective_total == 100
    assert "could not be estimated" in iv.note


def test_no_excess_variation_equals_naive_clopper_pearson() -> None:
    # Identical fractions: X2 = 0, rho = 0, design effect 1 -> exactly the pooled exact interval
    iv = edited_fraction_interval([(20, 100), (40, 200), (30, 150)])
    assert iv.method == "beta_binomial_design_effect"
    assert iv.rho == 0.0 and iv.design_effect == 1.0 and iv.adjusted_design_effect == 1.0
    assert iv.lower == pytest.approx(clopper_pearson(90, 450)[0], rel=1e-12)
    assert iv.upper == pytest.approx(clopper_pearson(90, 450)[1], rel=1e-12)


def test_overdispersed_replicates_widen_the_interval() -> None:
    replicates = [(300, 1000), (450, 1000), (380, 1000), (520, 1000)]
    iv = edited_fraction_interval(replicates)
    naive = clopper_pearson(1650, 4000)
    assert iv.rho is not None and iv.rho > 0
    assert iv.lower < naive[0] and iv.upper > naive[1]
    assert iv.edited_fraction == pytest.approx(1650 / 4000)


def test_degrees_of_freedom_correction_by_hand() -> None:
    # Two replicates: D = 25/3 (see above); t_{1, 0.975} = 12.7062047 (t table), z = 1.959964;
    # D_adj = 1 + (D - 1) (t / z)^2; effective reads 200 / D_adj.
    iv = edited_fraction_interval([(30, 100), (50, 100)])
    d_adj = 1 + (25 / 3 - 1) * (12.7062047 / 1.959964) ** 2
    assert iv.adjusted_design_effect == pytest.approx(d_adj, rel=1e-6)
    assert iv.effective_total == pytest.approx(200 / d_adj, rel=1e-6)
    lo, hi = clopper_pearson(0.4 * 200 / d_adj, 200 / d_adj)
    assert (iv.lower, iv.upper) == pytest.approx((lo, hi), rel=1e-6)


replicate_sets = st.lists(
    st.integers(1, 3000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
    min_size=1,
    max_size=6,
)


@settings(max_examples=200)
@given(replicates=replicate_sets)
def test_widened_interval_contains_the_naive_one_and_the_pooled_fraction(
    replicates: list[tuple[int, int]],
) -> None:
    iv = edited_fraction_interval(replicates)
    naive = clopper_pearson(iv.edited, iv.total)
    assert 0.0 <= iv.lower <= iv.edited_fraction <= iv.upper <= 1.0
    assert iv.lower <= naive[0] + 1e-12 and iv.upper >= naive[1] - 1e-12
    assert iv.adjusted_design_effect >= 1.0
    if iv.rho is not None:
        assert 0.0 <= iv.rho <= 1.0
        assert math.isfinite(iv.design_effect)


def _coverage(
    p: float, rho: float, replicates: int, reads: int, runs: int, seed: int
) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    if rho > 0:
        a, b = p * (1 - rho) / rho, (1 - p) * (1 - rho) / rho
        edited = stats.betabinom.rvs(reads, a, b, size=(runs, replicates), random_state=rng)
    else:
        edited = rng.binomial(reads, p, size=(runs, replicates))
    widened = naive = 0
    for row in edited:
        iv = edited_fraction_interval([(int(e), reads) for e in row])
        widened += iv.lower <= p <= iv.upper
        lo, hi = clopper_pearson(int(row.sum()), reads * replicates)
        naive += lo <= p <= hi
    return widened / runs, naive / runs


def test_widened_interval_keeps_nominal_coverage_where_naive_undercovers() -> None:
    # Simulation truth: 4 replicate samples of 2000 reads, p = 0.3, rho = 0.01 (design effect ~21).
    widened, naive = _coverage(p=0.3, rho=0.01, replicates=4, reads=2000, runs=600, seed=1)
    assert widened >= 0.90
    assert naive < 0.6


def test_widened_interval_covers_binomial_replicates() -> None:
    # No overdispersion: the widened interval must not lose coverage (it may be conservative).
    widened, naive = _coverage(p=0.15, rho=0.0, replicates=3, reads=500, runs=600, seed=2)
    assert widened >= 0.93
    assert naive >= 0.93


def test_refuses_bad_replicates() -> None:
    with pytest.raises(ValueError, match="expected at least one"):
        edited_fraction_interval([])
    with pytest.raises(ValueError, match="found 12 edited of 10"):
        edited_fraction_interval([(12, 10)])
    with pytest.raises(ValueError, match="whole read counts"):
        edited_fraction_interval([(1.5, 10)])
