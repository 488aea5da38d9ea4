"""Treated-vs-control statistics against published values (Newcombe 1998), R's fisher.test and
p.adjust, scipy and statsmodels as independent implementations, and BH's defining properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from pmpath.engagement.compare import (
    benjamini_hochberg,
    compare_counts,
    fisher_greater,
    newcombe_difference,
    wilson_interval,
)
from pmpath.errors import UsageError

# ----------------------------------------------------------------- intervals


@pytest.mark.parametrize(
    ("k1", "n1", "k2", "n2", "lo", "hi"),
    [
        # Newcombe (1998) Stat Med 17:873, Table II, method 10
        (56, 70, 48, 80, 0.0524, 0.3339),
        (9, 10, 3, 10, 0.1705, 0.8090),
        (6, 7, 2, 7, 0.0582, 0.8062),
        (5, 56, 0, 29, -0.0381, 0.1926),
        (0, 10, 0, 20, -0.1611, 0.2775),
        (10, 10, 0, 20, 0.6791, 1.0000),
    ],
)
def test_newcombe_against_published_table(k1, n1, k2, n2, lo, hi) -> None:
    got = newcombe_difference(k1, n1, k2, n2)
    assert got == pytest.approx((lo, hi), abs=6e-5)


@given(
    n1=st.integers(1, 500),
    n2=st.integers(1, 500),
    data=st.data(),
)
@settings(max_examples=150, deadline=None)
def test_newcombe_equals_statsmodels(n1: int, n2: int, data: st.DataObject) -> None:
    k1 = data.draw(st.integers(0, n1))
    k2 = data.draw(st.integers(0, n2))
    lo, hi = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff")
    assert newcombe_difference(k1, n1, k2, n2) == pytest.approx((lo, hi), abs=1e-9)


@given(n=st.integers(1, 2000), data=st.data())
@settings(max_examples=100, deadline=None)
def test_wilson_equals_statsmodels(n: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(0, n))
    assert wilson_interval(k, n) == pytest.approx(
        proportion_confint(k, n, method="wilson"), abs=1e-12
    )


# ----------------------------------------------------------------- Fisher's exact


def test_fisher_greater_against_R() -> None:
    # R: fisher.test(matrix(c(3, 1, 1, 3), 2), alternative = "greater")$p.value  0.2428571
    #    fisher.test(matrix(c(10, 90, 2, 98), 2, byrow = FALSE) ...) see closed form below
    assert fisher_greater([3], [4], [1], [4])[0] == pytest.approx(0.2428571, abs=1e-7)
    # closed form: P(X >= 4) for X ~ Hypergeom(8 total, 4 edited, 4 drawn) = 1 / C(8, 4)
    assert fisher_greater([4], [4], [0], [4])[0] == pytest.approx(1 / 70, rel=1e-12)


@given(
    n1=st.integers(1, 300),
    n2=st.integers(1, 300),
    data=st.data(),
)
@settings(max_examples=150, deadline=None)
def test_fisher_greater_equals_scipy_fisher_exact(n1: int, n2: int, data: st.DataObject) -> None:
    a = data.draw(st.integers(0, n1))
    c = data.draw(st.integers(0, n2))
    expected = stats.fisher_exact([[a, n1 - a], [c, n2 - c]], alternative="greater").pvalue
    assert fisher_greater([a], [n1], [c], [n2])[0] == pytest.approx(expected, rel=1e-9, abs=1e-300)


# ----------------------------------------------------------------- Benjamini-Hochberg


def test_bh_against_R_p_adjust() -> None:
    # R: p.adjust(c(0.01, 0.02, 0.03, 0.04, 0.05, 0.5), "BH")
    #    0.06 0.06 0.06 0.06 0.06 0.50
    p = [0.01, 0.02, 0.03, 0.04, 0.05, 0.5]
    assert benjamini_hochberg(p) == pytest.approx([0.06] * 5 + [0.5])
    # R: p.adjust(c(0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205), "BH")
    p2 = [0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205]
    expected = [0.008, 0.032, 0.0672, 0.0672, 0.0672, 0.08, 0.08457143, 0.205]
    assert benjamini_hochberg(p2) == pytest.approx(expected, abs=1e-7)


@given(st.lists(st.floats(0, 1), min_size=1, max_size=60))
@settings(max_examples=150, deadline=None)
def test_bh_equals_statsmodels_and_its_rejections_are_the_step_up_set(p: list[float]) -> None:
    q = benjamini_hochberg(p)
    assert q == pytest.approx(multipletests(p, method="fdr_bh")[1], abs=1e-12)
    # the step-up rule directly: reject the k smallest, k the largest i with p_(i) <= i alpha / m
    m, alpha = len(p), 0.05
    ps = sorted(p)
    k = max((i for i in range(1, m + 1) if ps[i - 1] <= i * alpha / m), default=0)
    assert int(np.sum(q <= alpha)) == k


def test_bh_rejects_bad_input() -> None:
    with pytest.raises(UsageError, match="outside"):
        benjamini_hochberg([0.2, 1.5])
    assert benjamini_hochberg([]).size == 0


# ----------------------------------------------------------------- compare_counts


def test_compare_counts_on_a_simulated_editing_profile() -> None:
    # Truth: positions 3 and 4 edited (30%, 8%), the rest at the 0.1% error background.
    rng = np.random.default_rng(7)
    n = 5000
    rates = [0.001, 0.001, 0.30, 0.08, 0.001, 0.001, 0.001, 0.001]
    treated = [(int(rng.binomial(n, r)), n) for r in rates]
    control = [(int(rng.binomial(n, 0.001)), n) for _ in rates]
    c = compare_counts(treated, control, labels=range(101, 109))
    assert [s.label for s in c.different] == ["103", "104"]
    s = c.site("103")
    assert s.background_pct == pytest.approx(100 * control[2][0] / n)
    assert s.above_background_pct == pytest.approx(100 * (treated[2][0] - control[2][0]) / n)
    assert s.ci_low < 30 - 0.1 < s.ci_high  # the truth above background is inside
    assert all(x.not_different for x in c.sites if x.label not in ("103", "104"))


def test_compare_counts_q_values_are_bh_of_fisher() -> None:
    treated = [(10, 100), (3, 100), (50, 200)]
    control = [(2, 100), (2, 100), (40, 200)]
    c = compare_counts(treated, control)
    p = [
        stats.fisher_exact([[a, n - a], [b, m - b]], alternative="greater").pvalue
        for (a, n), (b, m) in zip(treated, control, strict=True)
    ]
    assert [s.p_value for s in c.sites] == pytest.approx(p, rel=1e-9)
    assert [s.q_value for s in c.sites] == pytest.approx(
        multipletests(p, method="fdr_bh")[1], rel=1e-9
    )


@pytest.mark.parametrize(
    ("treated", "control", "match"),
    [
        ([(1, 10)], [(1, 10), (2, 10)], "expected 1 as in treated"),
        ([(11, 10)], [(1, 10)], r"treated\[0\]: found \(11, 10\)"),
        ([(1, 10)], [(1, 0)], r"control\[0\]"),
        ([(1.5, 10)], [(1, 10)], "whole counts"),
    ],
)
def test_compare_counts_rejects_bad_counts(treated, control, match) -> None:
    with pytest.raises(UsageError, match=match):
        compare_counts(treated, control)


def test_compare_counts_rejects_bad_alpha() -> None:
    with pytest.raises(UsageError, match="alpha"):
        compare_counts([(1, 10)], [(1, 10)], alpha=0)
