"""Operating characteristics by simulation: untreated patients drawn from the natural-history model
rarely meet criterion 5, patients with a clear true benefit usually do.

The truth of each simulation is known: patients are generated here from the same models the
analyses assume (a linear mixed growth model; gamma-Poisson event rates), 200 per scenario, with
fixed seeds. Bounds: false "met" at most 5% for untreated patients (the nominal one-sided level is
2.5%, and a 5% bound is about two binomial SDs above it), "met" at least 80% for treated ones.
"""

from __future__ import annotations

import numpy as np

from pmpath.outcomes import (
    DAYS_PER_YEAR,
    EventPeriods,
    TrajectoryComparison,
    UntreatedModel,
    UntreatedRate,
    compare_event_rates,
    compare_trajectory,
)

N_PATIENTS = 200

# A progressive disease: score falls 6 points a year from 60 at age 10; subjects differ in level
# (SD 6) and in slope (SD 2); measurement SD 3; the cohort estimated the fixed effects with error.
B = np.array([60.0, -6.0])
VB = np.array([[1.0, 0.05], [0.05, 0.1]])
G = np.array([[36.0, 3.0], [3.0, 4.0]])
S2 = 9.0
MODEL = UntreatedModel(B, VB, G, S2, age_center=10.0)
PRE = np.array([-2.0, -1.5, -1.0, -0.5, 0.0])  # years from first dose
POST = np.array([0.5, 1.0, 1.5, 2.0])


def simulate_trajectories(
    seed: int, benefit: float, select_low: bool = False
) -> list[TrajectoryComparison]:
    """Comparisons for simulated patients; ``benefit`` is added to every post-dose value."""
    rng = np.random.default_rng(seed)
    results: list[TrajectoryComparison] = []
    while len(results) < N_PATIENTS:
        age0 = rng.uniform(6.0, 14.0)
        b_true = rng.multivariate_normal(B, VB)  # the cohort's estimate B missed the truth
        u = rng.multivariate_normal([0.0, 0.0], G)
        ages = age0 + np.concatenate([PRE, POST])
        y = (
            (b_true[0] + u[0])
            + (b_true[1] + u[1]) * (ages - 10.0)
            + rng.normal(0, np.sqrt(S2), ages.size)
        )
        if select_low:
            # enrolled because the baseline was bad: at least one marginal SD below the population
            x = np.array([1.0, age0 - 10.0])
            if y[PRE.size - 1] > B @ x - np.sqrt(x @ (G + VB) @ x + S2):
                continue
        y[PRE.size :] += benefit
        results.append(
            compare_trajectory(
                MODEL,
                ages[: PRE.size],
                y[: PRE.size],
                ages[PRE.size :],
                y[PRE.size :],
                "higher_is_better",
            )
        )
    return results


def test_untreated_trajectories_rarely_meet():
    results = simulate_trajectories(seed=101, benefit=0.0)
    assert sum(r.decision == "met" for r in results) / N_PATIENTS <= 0.05
    # the z test alone is calibrated: its effect estimate is centred on zero, z has SD near 1
    z = np.array([r.z for r in results])
    assert np.mean(np.array([r.p_value for r in results]) < 0.025) <= 0.05
    assert abs(z.mean()) < 3 / np.sqrt(N_PATIENTS) and 0.8 < z.std() < 1.2


def test_untreated_trajectories_selected_at_a_bad_baseline_rarely_meet():
    # Regression to the mean: a last-value comparison would credit the drift back up to treatment;
    # the prediction from all pre-treatment values keeps even the z test alone at its level.
    results = simulate_trajectories(seed=102, benefit=0.0, select_low=True)
    assert sum(r.decision == "met" for r in results) / N_PATIENTS <= 0.05
    assert np.mean(np.array([r.p_value for r in results]) < 0.025) <= 0.05


def test_clear_benefit_trajectories_usually_meet():
    # +15 points at every post-dose visit: about three prediction SDs (4 to 5.3 at these visits).
    results = simulate_trajectories(seed=103, benefit=15.0)
    assert sum(r.decision == "met" for r in results) / N_PATIENTS >= 0.80


# A flaring disease: 24 events a year on average, patients' rates gamma with dispersion 0.3; one year
# of events before the first dose, then a daily diary for a year.
COHORT = UntreatedRate(24.0, 0.3)
PRE_YEARS = 1.0
POST_DAYS = 365


def simulate_flares(seed: int, rate_ratio: float, select_high: bool = False) -> list[str]:
    """Decisions for simulated patients whose post-dose rate is ``rate_ratio`` times their own rate."""
    rng = np.random.default_rng(seed)
    alpha = COHORT.dispersion
    cutoff = np.quantile(
        rng.poisson(COHORT.rate_per_year * rng.gamma(1 / alpha, alpha, 20_000) * PRE_YEARS), 0.8
    )
    decisions = []
    while len(decisions) < N_PATIENTS:
        rate = COHORT.rate_per_year * rng.gamma(1 / alpha, alpha)
        pre_events = rng.poisson(rate * PRE_YEARS)
        if select_high and pre_events < cutoff:
            continue  # enrolled after a bad year: top fifth of the cohort's counts
        times = rng.uniform(
            0, POST_DAYS, rng.poisson(rate * rate_ratio * POST_DAYS / DAYS_PER_YEAR)
        )
        daily = np.bincount(np.floor(times).astype(int), minlength=POST_DAYS)
        days = np.arange(POST_DAYS)
        periods = EventPeriods(
            np.concatenate([[-PRE_YEARS * DAYS_PER_YEAR], days]),
            np.concatenate([[0.0], days + 1]),
            np.concatenate([[pre_events], daily]),
        )
        decisions.append(compare_event_rates(periods, COHORT).decision)
    return decisions


def test_untreated_flares_rarely_meet():
    decisions = simulate_flares(seed=201, rate_ratio=1.0)
    assert decisions.count("met") / N_PATIENTS <= 0.05


def test_untreated_flares_after_a_bad_year_rarely_meet():
    decisions = simulate_flares(seed=202, rate_ratio=1.0, select_high=True)
    assert decisions.count("met") / N_PATIENTS <= 0.05


def test_clear_benefit_flares_usually_meet():
    # A 90% fall in the event rate.
    decisions = simulate_flares(seed=203, rate_ratio=0.1)
    assert decisions.count("met") / N_PATIENTS >= 0.80
