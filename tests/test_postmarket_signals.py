"""Disproportionality on spontaneous reports against openEBGM 0.9.1 on its caers example, and closed forms.

Known answers: ``../shared/data/caers/`` (openEBGM's own run: every pair's N, E, PRR, Qn, EBGM,
QUANT_05, QUANT_95 at theta_squashed2, its squashed points and negative log-likelihoods), scipy's
negative binomial and gamma distributions, and brute-force counts written here with pandas loops.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from pmpath.errors import AnalysisError, UsageError
from pmpath.postmarket import (
    Prior,
    auto_squash,
    count_pairs,
    detect_signals,
    disproportionality,
    fit_prior,
    information_component,
    neg_log_likelihood,
    posterior_quantile_bisect,
    posterior_scores,
    squash,
    squash_openebgm,
)

CAERS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "caers"
needs_caers = pytest.mark.skipif(
    not (CAERS / "caers.csv").exists(), reason=f"openEBGM's caers data not found at {CAERS}"
)


@pytest.fixture(scope="module")
def fit_json() -> dict:
    return json.loads((CAERS / "caers_openEBGM_fit.json").read_text())


@pytest.fixture(scope="module")
def openebgm_prior(fit_json) -> Prior:
    t = fit_json["theta_squashed2"]
    return Prior(t["alpha1"], t["beta1"], t["alpha2"], t["beta2"], t["P"])


@pytest.fixture(scope="module")
def caers_rows() -> pd.DataFrame:
    raw = pd.read_csv(CAERS / "caers.csv", dtype=str, keep_default_na=False)
    return raw.rename(columns={"var1": "drug", "var2": "event"})


@pytest.fixture(scope="module")
def caers_counts(caers_rows):
    return count_pairs(caers_rows)


@pytest.fixture(scope="module")
def reference(caers_counts) -> pd.DataFrame:
    ref = pd.read_csv(CAERS / "caers_openEBGM_scores.csv", keep_default_na=False, na_values=["NA"])
    ref = ref.rename(columns={"var1": "drug", "var2": "event"})
    merged = ref.merge(caers_counts.table, on=["drug", "event"], how="outer", indicator=True)
    assert (merged["_merge"] == "both").all(), "the pairs differ from openEBGM's"
    return merged


# --------------------------------------------------------------------------- counts


@needs_caers
def test_counts_reproduce_openebgm_n_and_e_exactly(caers_counts, reference, fit_json):
    assert caers_counts.reports == 3356
    assert int(caers_counts.n.sum()) == 19917
    assert len(reference) == 17189
    assert (reference["N_x"] == reference["N_y"]).all()
    np.testing.assert_allclose(reference["E_y"], reference["E_x"], rtol=1e-13, atol=0)


@needs_caers
def test_stratified_e_is_the_sum_over_strata_brute_force(caers_rows):
    counts = count_pairs(caers_rows, ["strat1"])
    expected = {}
    for _, g in caers_rows.groupby("strat1"):
        per_drug = g.groupby("drug")["id"].nunique()
        per_event = g.groupby("event")["id"].nunique()
        n = g["id"].nunique()
        for drug, event in counts.table[["drug", "event"]].itertuples(index=False):
            if drug in per_drug.index and event in per_event.index:
                expected[drug, event] = (
                    expected.get((drug, event), 0) + per_drug[drug] * per_event[event] / n
                )
    want = np.array(
        [expected[k] for k in counts.table[["drug", "event"]].itertuples(index=False, name=None)]
    )
    np.testing.assert_allclose(counts.e, want, rtol=1e-12)
    # N and the crude marginals do not depend on the strata
    crude = count_pairs(caers_rows)
    assert (counts.table["N"] == crude.table["N"]).all()
    assert not np.allclose(counts.e, crude.e)


def test_counts_count_unique_reports_and_ignore_repeated_rows():
    rows = pd.DataFrame(
        {
            "id": ["1", "1", "1", "2", "3", "3"],
            "drug": ["A", "A", "A", "A", "B", "A"],
            "event": ["x", "x", "y", "x", "x", "y"],
        }
    )
    c = count_pairs(rows).table.set_index(["drug", "event"])
    assert c.loc[("A", "x"), "N"] == 2 and c.loc[("A", "y"), "N"] == 2
    assert c.loc[("A", "x"), "n_drug"] == 3 and c.loc[("A", "x"), "n_event"] == 3
    assert c.loc[("B", "x"), "E"] == pytest.approx(1 * 3 / 3)
    assert c.loc[("A", "y"), "E"] == pytest.approx(3 * 2 / 3)


def test_counts_name_a_missing_column():
    with pytest.raises(UsageError, match="event"):
        count_pairs(pd.DataFrame({"id": ["1"], "drug": ["A"]}))


# --------------------------------------------------------------------------- PRR, ROR, IC


@needs_caers
def test_prr_matches_openebgm_including_infinite(reference, caers_counts):
    d = disproportionality(
        reference["N_y"],
        reference["E_y"],
        reference["n_drug"],
        reference["n_event"],
        caers_counts.reports,
    )
    ref = reference["PRR"].to_numpy(dtype=float)
    assert (np.isinf(ref) == np.isinf(d.prr)).all()
    finite = np.isfinite(ref)
    np.testing.assert_allclose(d.prr[finite], ref[finite], rtol=1e-7)


def test_prr_and_ror_intervals_closed_form():
    # a = 20, b = 80, c = 30, d = 870: hand-computed from the 2x2 table
    a, b, c, d = 20, 80, 30, 870
    res = disproportionality([a], [5.0], [a + b], [a + c], [a + b + c + d])
    prr = (a / (a + b)) / (c / (c + d))
    se = math.sqrt(1 / a - 1 / (a + b) + 1 / c - 1 / (c + d))
    z = stats.norm.ppf(0.975)
    assert res.prr[0] == pytest.approx(prr, rel=1e-12)
    assert res.prr_low[0] == pytest.approx(prr * math.exp(-z * se), rel=1e-12)
    assert res.prr_high[0] == pytest.approx(prr * math.exp(z * se), rel=1e-12)
    ror = a * d / (b * c)
    se = math.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
    assert res.ror[0] == pytest.approx(ror, rel=1e-12)
    assert res.ror_low[0] == pytest.approx(ror * math.exp(-z * se), rel=1e-12)
    assert res.ror_high[0] == pytest.approx(ror * math.exp(z * se), rel=1e-12)


def test_ror_woolf_interval_matches_statsmodels():
    sm = pytest.importorskip("statsmodels.stats.contingency_tables")
    table = sm.Table2x2(np.array([[12, 388], [45, 9555]]))
    res = disproportionality([12], [2.0], [400], [57], [10000])
    low, high = table.oddsratio_confint(alpha=0.05)
    assert res.ror[0] == pytest.approx(table.oddsratio, rel=1e-12)
    assert (res.ror_low[0], res.ror_high[0]) == pytest.approx((low, high), rel=1e-10)


def test_ic_and_its_limits_are_gamma_quantiles():
    n = np.array([0, 1, 3, 40])
    e = np.array([0.2, 1.5, 0.7, 12.0])
    ic, low, high = information_component(n, e)
    np.testing.assert_allclose(ic, np.log2((n + 0.5) / (e + 0.5)), rtol=1e-14)
    np.testing.assert_allclose(
        low, np.log2(stats.gamma.ppf(0.025, n + 0.5, scale=1 / (e + 0.5))), rtol=1e-10
    )
    np.testing.assert_allclose(
        high, np.log2(stats.gamma.ppf(0.975, n + 0.5, scale=1 / (e + 0.5))), rtol=1e-10
    )


def test_disproportionality_refuses_inconsistent_margins():
    with pytest.raises(UsageError, match="n_drug"):
        disproportionality([5], [1.0], [3], [10], [100])


# --------------------------------------------------------------------------- MGPS


@needs_caers
def test_squashing_reproduces_openebgm_points(caers_counts):
    ours = squash_openebgm(caers_counts.n, caers_counts.e)
    ref = pd.read_csv(CAERS / "caers_openEBGM_squashed2.csv")
    assert len(ours) == len(ref) == 974
    a = np.array(sorted(zip(ours.n, ours.e, ours.weight, strict=True)))
    b = np.array(sorted(ref[["N", "E", "weight"]].itertuples(index=False, name=None)))
    np.testing.assert_allclose(a, b, rtol=1e-13)


def test_squash_leaves_small_counts_alone():
    s = squash([1, 1, 2], [0.1, 0.2, 0.3])  # fewer than min_pts = 500 points of count 1
    assert s.n.tolist() == [1, 1, 2] and s.weight.tolist() == [1, 1, 1]


@needs_caers
def test_neg_log_likelihood_matches_openebgm(caers_counts, openebgm_prior, fit_json):
    ref = pd.read_csv(CAERS / "caers_openEBGM_squashed2.csv")
    nll = fit_json["negLL"]
    assert neg_log_likelihood(openebgm_prior, ref["N"], ref["E"], ref["weight"]) == pytest.approx(
        nll["squashed2_points_at_theta_squashed2"], abs=2e-6
    )
    assert neg_log_likelihood(openebgm_prior, caers_counts.n, caers_counts.e) == pytest.approx(
        nll["full_data_at_theta_squashed2"], abs=2e-6
    )


def _scipy_negll(prior: Prior, n, e, w) -> float:
    a1, b1, a2, b2, p = prior.as_tuple()
    f1 = stats.nbinom.pmf(n, a1, b1 / (b1 + e)) / stats.nbinom.sf(0, a1, b1 / (b1 + e))
    f2 = stats.nbinom.pmf(n, a2, b2 / (b2 + e)) / stats.nbinom.sf(0, a2, b2 / (b2 + e))
    return -float(np.sum(w * np.log(p * f1 + (1 - p) * f2)))


@settings(max_examples=30, deadline=None)
@given(
    prior=st.builds(
        Prior,
        st.floats(0.05, 30),
        st.floats(0.05, 30),
        st.floats(0.05, 30),
        st.floats(0.05, 30),
        st.floats(0.01, 0.99),
    ),
    seed=st.integers(0, 2**31 - 1),
)
def test_neg_log_likelihood_equals_scipy_truncated_mixture(prior, seed):
    rng = np.random.default_rng(seed)
    n = rng.integers(1, 30, 20)
    e = rng.uniform(0.001, 20, 20)
    w = rng.integers(1, 50, 20)
    assert neg_log_likelihood(prior, n, e, w) == pytest.approx(
        _scipy_negll(prior, n, e, w), rel=1e-9
    )


@needs_caers
def test_prior_fit_is_at_least_as_good_as_openebgm_and_reports_every_start(fit_json):
    ref = pd.read_csv(CAERS / "caers_openEBGM_squashed2.csv")
    fit = fit_prior(ref["N"], ref["E"], ref["weight"])
    assert len(fit.starts) == 5
    assert all(s.converged for s in fit.starts)
    target = fit_json["negLL"]["squashed2_points_at_theta_squashed2"]
    assert fit.neg_log_likelihood <= target + 1e-6
    # the best start's likelihood, recomputed independently
    assert _scipy_negll(fit.prior, ref["N"], ref["E"], ref["weight"]) == pytest.approx(
        fit.neg_log_likelihood, rel=1e-10
    )
    # openEBGM's optimum is among the ends reached (its starts 1, 2, 4, 5 end there)
    theta = fit_json["theta_squashed2"]
    near = [
        s
        for s in fit.starts
        if s.estimate is not None and abs(s.estimate.alpha1 - theta["alpha1"]) < 1e-3
    ]
    assert near and all(abs(s.neg_log_likelihood - target) < 1e-5 for s in near)
    doc = fit.to_json()
    assert doc["converged_starts"] == 5 and len(doc["starts"]) == 5


@needs_caers
def test_scores_given_the_prior_match_openebgm(reference, openebgm_prior):
    scores = posterior_scores(openebgm_prior, reference["N_y"], reference["E_y"])
    np.testing.assert_allclose(scores.ebgm, reference["EBGM"], rtol=1e-4)
    np.testing.assert_allclose(scores.eb05, reference["QUANT_05"], rtol=1e-4)
    np.testing.assert_allclose(scores.eb95, reference["QUANT_95"], rtol=1e-4)
    np.testing.assert_allclose(scores.qn, reference["Qn"], rtol=1e-4)


def test_published_vignette_pair():
    """openEBGM's vignette: REUMOFAN PLUS / WEIGHT INCREASED, N 16, E 0.40644: EBGM 23.26, QUANT_05 15.68."""
    prior = Prior(3.25379356, 0.39988854, 2.02612692, 1.90807970, 0.06534557)
    s = posterior_scores(prior, [16], [0.40643623361144221])
    # openEBGM's bisection stops within 0.005 of the quantile (digits = 2)
    assert float(s.ebgm[0]) == pytest.approx(23.26, abs=0.005)
    assert float(s.eb05[0]) == pytest.approx(15.68, abs=0.006)
    assert float(s.eb95[0]) == pytest.approx(33.48, abs=0.006)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 500),
    e=st.floats(1e-4, 300),
    p=st.floats(0.001, 0.999),
    prob=st.sampled_from([0.05, 0.5, 0.95]),
)
def test_vectorized_quantile_solves_the_mixture_cdf(n, e, p, prob):
    prior = Prior(0.3, 0.2, 3.0, 2.5, p)
    fast = posterior_scores(prior, [n], [e], quantiles=(prob, 0.95)).eb05[0]
    slow = posterior_quantile_bisect(prior, [n], [e], prob)[0]
    assert fast == pytest.approx(slow, rel=1e-8)
    qn = posterior_scores(prior, [n], [e]).qn[0]
    cdf = qn * stats.gamma.cdf(fast, 0.3 + n, scale=1 / (0.2 + e)) + (1 - qn) * stats.gamma.cdf(
        fast, 3.0 + n, scale=1 / (2.5 + e)
    )
    assert cdf == pytest.approx(prob, abs=1e-9)


def test_ebgm_is_the_exponential_of_the_posterior_mean_log():
    prior = Prior(0.5, 0.4, 4.0, 3.0, 0.3)
    n, e = 7, 1.3
    qn = posterior_scores(prior, [n], [e]).qn[0]
    # E[log X] for X ~ gamma(shape s, rate r) by numerical integration (independent of digamma)
    import scipy.integrate as si

    def mean_log(s, r):
        return si.quad(lambda x: math.log(x) * stats.gamma.pdf(x, s, scale=1 / r), 0, np.inf)[0]

    want = math.exp(qn * mean_log(0.5 + n, 0.4 + e) + (1 - qn) * mean_log(4.0 + n, 3.0 + e))
    assert posterior_scores(prior, [n], [e]).ebgm[0] == pytest.approx(want, rel=1e-7)


def test_prior_refuses_impossible_values():
    with pytest.raises(UsageError, match="p"):
        Prior(1, 1, 1, 1, 1.5)
    with pytest.raises(UsageError, match="beta1"):
        Prior(1, -1, 1, 1, 0.5)


def test_prior_fit_needs_enough_points():
    with pytest.raises(AnalysisError, match="at least 5"):
        fit_prior([1, 2], [0.5, 0.5])


# --------------------------------------------------------------------------- the whole pipeline


def _simulated_reports(seed: int = 7, n_reports: int = 4000) -> tuple[pd.DataFrame, set]:
    rng = np.random.default_rng(seed)
    drugs = [f"D{i}" for i in range(40)]
    events = [f"E{j}" for j in range(60)]
    planted = {("D3", "E7"), ("D11", "E2")}
    rows = []
    for r in range(n_reports):
        d = drugs[min(int(rng.zipf(1.6)) - 1, 39)]
        evs = {events[min(int(rng.zipf(1.5)) - 1, 59)] for _ in range(rng.integers(1, 4))}
        for dd, ee in planted:
            if d == dd and rng.random() < 0.4:
                evs.add(ee)
        rows += [(f"R{r}", d, ev) for ev in evs]
    return pd.DataFrame(rows, columns=["id", "drug", "event"]), planted


def test_planted_signals_rank_at_the_top_by_eb05():
    rows, planted = _simulated_reports()
    result = detect_signals(rows)
    top = set(map(tuple, result.table[["drug", "event"]].head(len(planted)).to_numpy()))
    assert top == planted
    assert (np.diff(result.table["EB05"].to_numpy()) <= 0).all()
    assert list(result.table.columns) == [
        "drug",
        "event",
        "N",
        "E",
        "PRR",
        "PRR_low",
        "PRR_high",
        "ROR",
        "ROR_low",
        "ROR_high",
        "IC",
        "IC025",
        "IC975",
        "EBGM",
        "EB05",
        "EB95",
    ]


@needs_caers
def test_detect_signals_with_openebgm_prior_and_an_ibis_table(
    caers_rows, reference, openebgm_prior, tmp_path
):
    import ibis

    caers_rows.to_parquet(tmp_path / "caers.parquet")
    table = ibis.duckdb.connect().read_parquet(tmp_path / "caers.parquet")
    result = detect_signals(table, prior=openebgm_prior)
    assert result.fit is None and result.reports == 3356
    merged = result.table.merge(reference, on=["drug", "event"])
    np.testing.assert_allclose(merged["EBGM_x"], merged["EBGM_y"], rtol=1e-4)
    np.testing.assert_allclose(merged["EB05"], merged["QUANT_05"], rtol=1e-4)
    vignette = merged[(merged["drug"] == "REUMOFAN PLUS") & (merged["event"] == "WEIGHT INCREASED")]
    assert round(float(vignette["EBGM_x"].iloc[0]), 2) == 23.26


def test_auto_squash_follows_openebgm_autosquash_rules():
    # count 1: 5000 points, keep 100, 4900 to squash < 1e4 -> 150 super points, bins of 32 (154 bins);
    # count 2: 800 points, keep 75, 725 < 1e3 -> 75 super points, bins of 9 (81 bins);
    # count 3: 50 points, not more than max(keep_pts) + 1: left alone
    rng = np.random.default_rng(2)
    n = np.concatenate([np.ones(5000), np.full(800, 2), np.full(50, 3)])
    e = rng.uniform(0.01, 1, n.size)
    s = auto_squash(n, e)
    assert int((s.n == 1).sum()) == 154 + 100
    assert int((s.n == 2).sum()) == 81 + 75
    assert int((s.n == 3).sum()) == 50
    for count in (1, 2, 3):
        assert s.weight[s.n == count].sum() == (n == count).sum()
        # the weighted mean of E is kept within each count
        assert np.sum(s.weight[s.n == count] * s.e[s.n == count]) == pytest.approx(
            e[n == count].sum()
        )
    # the kept points are the largest Es
    assert np.sort(s.e[(s.n == 1) & (s.weight == 1)]) == pytest.approx(np.sort(e[n == 1])[-100:])


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 200_000), log_e=st.floats(-9, 8), prob=st.sampled_from([0.05, 0.95]))
def test_quantiles_of_large_and_tiny_counts(n, log_e, prob):
    prior = Prior(1.338, 0.968, 6.645, 11.59, 0.5915)
    e = math.exp(log_e)
    fast = posterior_scores(prior, [n], [e], quantiles=(prob, 0.5)).eb05[0]
    slow = posterior_quantile_bisect(prior, [n], [e], prob)[0]
    assert fast == pytest.approx(slow, rel=1e-8)


def test_detect_signals_refuses_an_unknown_squashing():
    rows, _ = _simulated_reports(n_reports=300)
    with pytest.raises(UsageError, match="squashing"):
        detect_signals(rows, squashing="fast")
