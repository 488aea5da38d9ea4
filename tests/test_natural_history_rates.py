"""Known-answer tests of the natural-history event rate (negative binomial, Poisson fallback).

The R values are in tests/fixtures/natural_history/nb_fits.json, written by nb_fits.R beside it
(``MASS::glm.nb(count ~ 1 + offset(log(exposure)))`` on simulated windows with unequal exposures).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from pmpath.errors import AnalysisError
from pmpath.natural_history import fit_event_rate
from pmpath.natural_history.rates import overdispersion_score

Z95 = stats.norm.ppf(0.975)
FIXTURES = Path(__file__).parent / "fixtures" / "natural_history"
R_NB = json.loads((FIXTURES / "nb_fits.json").read_text())["fits"]
NB_WINDOWS = pd.read_csv(FIXTURES / "nb_events.csv")


def windows(counts, exposure, start=1.0) -> pd.DataFrame:
    exposure = np.asarray(exposure, dtype=float)
    return pd.DataFrame(
        {
            "subject": [f"s{i}" for i in range(len(counts))],
            "age_start": start,
            "age_end": start + exposure,
            "count": counts,
        }
    )


def simulate_nb(n: int, rate: float, alpha: float, seed: int) -> pd.DataFrame:
    # gamma(shape 1/alpha, mean rate) subject rates, Poisson counts given the rate: NB2 with Var = mu + alpha mu^2
    rng = np.random.default_rng(seed)
    exposure = rng.uniform(0.5, 3.0, n)
    subject_rate = rng.gamma(1 / alpha, alpha * rate, n)
    return windows(rng.poisson(subject_rate * exposure), exposure)


def test_negative_binomial_recovers_simulated_rate_and_dispersion():
    fit = fit_event_rate(simulate_nb(300, rate=2.0, alpha=0.5, seed=5), "crises")
    assert fit.model == "negative_binomial"
    assert fit.rate_ci[0] < 2.0 < fit.rate_ci[1]
    assert fit.dispersion_ci is not None
    assert fit.dispersion_ci[0] < 0.5 < fit.dispersion_ci[1]
    assert fit.n_subjects == 300


def test_negative_binomial_interval_coverage():
    # Over 200 simulated cohorts the 95% intervals should cover the truth about 95% of the time
    # (binomial SD 1.5%: the window 0.91-0.99 is about +/-2.7 SD).
    covered_rate = covered_alpha = 0
    for seed in range(200):
        fit = fit_event_rate(simulate_nb(150, rate=2.0, alpha=0.5, seed=100 + seed), "crises")
        covered_rate += fit.rate_ci[0] <= 2.0 <= fit.rate_ci[1]
        covered_alpha += (
            fit.dispersion_ci is not None and fit.dispersion_ci[0] <= 0.5 <= fit.dispersion_ci[1]
        )
    assert 0.91 <= covered_rate / 200 <= 0.99
    assert 0.91 <= covered_alpha / 200 <= 0.99


def test_underdispersed_counts_use_the_closed_form_poisson_mle():
    # counts 2, 4, 6 over 1, 2, 3 years: exactly 2 per year everywhere, no overdispersion.
    # Poisson MLE = 12 events / 6 years = 2; SE(log rate) = 1/sqrt(12).
    fit = fit_event_rate(windows([2, 4, 6], [1.0, 2.0, 3.0]), "crises")
    assert fit.model == "poisson"
    assert fit.dispersion == 0.0
    assert any("not identifiable" in n for n in fit.notes)
    assert fit.rate_per_year == pytest.approx(2.0)
    assert fit.log_rate_se == pytest.approx(1 / np.sqrt(12))
    assert fit.rate_ci == pytest.approx(
        (2.0 * np.exp(-Z95 / np.sqrt(12)), 2.0 * np.exp(Z95 / np.sqrt(12)))
    )
    assert (fit.n_events, fit.person_years) == (12, pytest.approx(6.0))


def test_poisson_data_agree_with_total_events_over_total_exposure():
    rng = np.random.default_rng(7)
    exposure = rng.uniform(1.0, 4.0, 200)
    data = windows(rng.poisson(3.0 * exposure), exposure)
    fit = fit_event_rate(data, "seizures")
    mle = data["count"].sum() / exposure.sum()
    assert fit.rate_ci[0] < 3.0 < fit.rate_ci[1]
    if fit.model == "poisson":
        assert fit.rate_per_year == pytest.approx(mle, rel=1e-8)
    else:  # a little chance overdispersion: NB2's rate is then close to, not equal to, the Poisson MLE
        assert fit.dispersion < 0.05
        assert fit.rate_per_year == pytest.approx(mle, rel=0.02)


def test_windows_of_one_subject_are_summed():
    split = pd.DataFrame(
        {
            "subject": ["a", "a", "b", "c"],
            "age_start": [0.0, 1.0, 0.0, 0.0],
            "age_end": [1.0, 2.0, 2.0, 2.0],
            "count": [1, 3, 4, 4],
        }
    )
    fit = fit_event_rate(split, "crises")
    assert fit.n_subjects == 3
    assert fit.rate_per_year == pytest.approx(12 / 6)  # every subject: 4 events in 2 years


def test_no_events_gives_rate_zero_and_the_exact_upper_limit():
    fit = fit_event_rate(windows([0, 0, 0], [2.0, 2.0, 1.0]), "crises")
    assert fit.rate_per_year == 0.0
    # exact Poisson upper 97.5% limit for 0 events: -log(0.025) = 3.689 events, over 5 years
    assert fit.rate_ci == pytest.approx((0.0, -np.log(0.025) / 5.0))


def test_overdispersion_score_sign():
    assert overdispersion_score(np.array([0.0, 0.0, 10.0]), np.ones(3)) > 0
    assert overdispersion_score(np.array([3.0, 3.0, 3.0]), np.ones(3)) < 0


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    counts=st.lists(st.integers(0, 30), min_size=3, max_size=12).filter(lambda c: sum(c) > 0),
    k=st.floats(0.1, 10.0),
)
def test_rate_scales_inversely_with_exposure(counts, k):
    exposure = np.linspace(1.0, 3.0, len(counts))
    base = fit_event_rate(windows(counts, exposure), "x")
    scaled = fit_event_rate(windows(counts, exposure * k), "x")
    assert base.model == scaled.model
    assert scaled.rate_per_year == pytest.approx(base.rate_per_year / k, rel=1e-3)
    assert scaled.dispersion == pytest.approx(base.dispersion, rel=1e-2, abs=1e-6)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (
            pd.DataFrame({"subject": [1], "age_start": [1.0], "age_end": [1.0], "count": [2]}),
            "age_end > age_start",
        ),
        (
            pd.DataFrame({"subject": [1], "age_start": [1.0], "age_end": [2.0], "count": [1.5]}),
            "whole numbers",
        ),
        (pd.DataFrame({"subject": [1], "age_start": [1.0], "count": [1]}), "missing column"),
    ],
)
def test_unusable_tables_raise_analysis_error(frame, message):
    with pytest.raises(AnalysisError, match=message):
        fit_event_rate(frame, "crises")


@pytest.mark.parametrize("cohort", sorted(R_NB))
def test_negative_binomial_against_r_glm_nb(cohort):
    """Rate, dispersion and their standard errors as MASS::glm.nb, on windows summed per subject.

    Tolerances: 1e-7 relative on the rate, alpha and se(log rate) (glm.nb's alternation between the
    GLM and theta.ml stops about 4e-8 from the maximum on the strongly overdispersed cohort b);
    1e-3 on se(theta), which glm.nb evaluates at the means of its last but one iteration.
    """
    r = R_NB[cohort]
    fit = fit_event_rate(NB_WINDOWS[NB_WINDOWS["cohort"] == cohort], cohort)
    assert fit.model == "negative_binomial"
    assert (fit.n_subjects, fit.n_events) == (r["n_subjects"], r["n_events"])
    assert fit.person_years == pytest.approx(r["person_years"], rel=1e-12)
    assert fit.rate_per_year == pytest.approx(r["rate"], rel=1e-7)
    assert fit.dispersion == pytest.approx(r["alpha"], rel=1e-7)
    assert fit.log_rate_se == pytest.approx(r["se_log_rate"], rel=1e-7)
    assert fit.rate_ci == pytest.approx(
        (r["rate"] * np.exp(-Z95 * r["se_log_rate"]), r["rate"] * np.exp(Z95 * r["se_log_rate"])),
        rel=1e-7,
    )
    # alpha = 1 / theta: se(log alpha) = se(theta) / theta
    se_log_alpha = r["se_theta"] / r["theta"]
    assert fit.dispersion_ci == pytest.approx(
        (r["alpha"] * np.exp(-Z95 * se_log_alpha), r["alpha"] * np.exp(Z95 * se_log_alpha)),
        rel=1e-3,
    )


def test_unequal_exposures_weight_subjects_as_negative_binomial_does():
    # With overdispersion the NB2 rate is not total events / total exposure (that is Poisson's):
    # long-followed subjects weigh less than their exposure (weights 1 / (1 + alpha mu)).
    r = R_NB["b"]
    fit = fit_event_rate(NB_WINDOWS[NB_WINDOWS["cohort"] == "b"], "b")
    assert abs(r["rate"] / r["poisson_rate"] - 1) > 0.01
    assert fit.rate_per_year == pytest.approx(r["rate"], rel=1e-7)
