"""Known-answer tests of the natural-history growth curve (linear mixed model on age)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from pmpath.errors import AnalysisError, ConvergenceError
from pmpath.natural_history import GrowthCurve, fit_longitudinal

FIXTURES = Path(__file__).parent / "fixtures" / "natural_history"


def sleepstudy() -> pd.DataFrame:
    raw = pd.read_csv(FIXTURES / "sleepstudy.csv")
    return raw.rename(columns={"Subject": "subject", "Days": "age", "Reaction": "value"})


def simulate(
    n_subjects: int,
    ages: np.ndarray,
    beta: tuple[float, float],
    g: np.ndarray,
    sigma: float,
    center: float,
    seed: int,
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    u = rng.multivariate_normal([0.0, 0.0], g, size=n_subjects)
    rows = []
    for i in range(n_subjects):
        y = (
            beta[0]
            + u[i, 0]
            + (beta[1] + u[i, 1]) * (ages - center)
            + rng.normal(0, sigma, len(ages))
        )
        rows += [(f"s{i}", a, v) for a, v in zip(ages, y, strict=True)]
    return pd.DataFrame(rows, columns=["subject", "age", "value"])


def test_sleepstudy_against_lme4():
    # lme4: lmer(Reaction ~ Days + (Days | Subject), sleepstudy), REML (see fixtures/natural_history/README.md)
    fit = fit_longitudinal(sleepstudy(), "reaction", age_center=0)
    assert fit.random_structure == "intercept_and_slope"
    assert fit.converged
    assert fit.intercept == pytest.approx(251.405, abs=1e-3)
    assert fit.intercept_se == pytest.approx(6.825, abs=1e-3)
    assert fit.slope == pytest.approx(10.467, abs=1e-3)
    assert fit.slope_se == pytest.approx(1.546, abs=1e-3)
    sd_intercept, sd_slope = fit.random_effects_sd
    assert sd_intercept == pytest.approx(24.741, abs=2e-3)
    assert sd_slope == pytest.approx(5.922, abs=2e-3)
    assert fit.random_effects_correlation == pytest.approx(0.066, abs=1e-3)
    assert fit.residual_sd == pytest.approx(25.592, abs=2e-3)
    assert -2 * fit.log_likelihood == pytest.approx(
        1743.6, abs=0.05
    )  # lme4's "REML criterion at convergence"
    assert (fit.n_subjects, fit.n_observations) == (18, 180)
    assert fit.person_years == pytest.approx(18 * 9)  # every subject followed from day 0 to day 9


def test_default_center_is_rounded_mean_age_and_moves_only_the_intercept():
    # Mean of Days is 4.5, which rounds (half to even) to 4; the intercept there is lme4's 251.405 + 4 * 10.467.
    fit = fit_longitudinal(sleepstudy(), "reaction")
    assert fit.age_center == 4.0
    assert fit.slope == pytest.approx(10.467, abs=1e-3)
    assert fit.intercept == pytest.approx(251.405 + 4 * 10.467, abs=5e-3)
    assert fit.random_effects_sd[1] == pytest.approx(5.922, abs=2e-3)


def test_band_is_the_hand_computed_marginal_range():
    g = np.array([[4.0, 0.6], [0.6, 0.25]])
    v = np.array([[0.09, 0.01], [0.01, 0.04]])
    curve = GrowthCurve(
        endpoint="x", scale="identity", age_center=10.0, fixed_effects=np.array([50.0, 2.0]), fixed_effects_cov=v,
        random_effects_cov=g, residual_variance=1.0, n_subjects=30, n_observations=200, person_years=100.0, converged=True,
    )  # fmt: skip
    # at age 12: x = (1, 2); x'Gx = 4 + 2*2*0.6 + 4*0.25 = 7.4; x'Vx = 0.09 + 0.04 + 0.16 = 0.29
    band = curve.band([12.0], level=0.9)
    z = stats.norm.ppf(0.95)
    assert band.mean[0] == pytest.approx(54.0)
    assert band.lower[0] == pytest.approx(54.0 - z * np.sqrt(7.4 + 1.0 + 0.29))
    assert band.upper[0] == pytest.approx(54.0 + z * np.sqrt(7.4 + 1.0 + 0.29))
    narrow = curve.band(
        [12.0], level=0.9, include_residual=False, include_parameter_uncertainty=False
    )
    assert narrow.upper[0] - narrow.mean[0] == pytest.approx(z * np.sqrt(7.4))
    log_curve = dataclasses.replace(curve, scale="log", fixed_effects=np.array([np.log(50.0), 0.1]))
    log_band = log_curve.band([10.0], level=0.9)
    # at the centre x = (1, 0): variance 4 + 1 + 0.09, back-transformed with exp
    assert log_band.mean[0] == pytest.approx(50.0)
    assert log_band.upper[0] == pytest.approx(50.0 * np.exp(z * np.sqrt(5.09)))
    assert log_curve.mean_at(11.0)[0] == pytest.approx(50.0 * np.exp(0.1))


def test_simulated_truth_recovered_and_band_covers_new_subjects():
    truth_g = np.array([[9.0, 0.3], [0.3, 0.25]])
    ages = np.arange(2.0, 12.0, 1.5)
    data = simulate(80, ages, (40.0, 1.5), truth_g, sigma=2.0, center=7.0, seed=11)
    fit = fit_longitudinal(data, "score", age_center=7.0)
    lo, hi = fit.slope_ci()
    assert lo < 1.5 < hi
    lo, hi = fit.intercept_ci()
    assert lo < 40.0 < hi
    assert fit.random_effects_sd[0] == pytest.approx(3.0, rel=0.3)
    assert fit.random_effects_sd[1] == pytest.approx(0.5, rel=0.3)
    assert fit.residual_sd == pytest.approx(2.0, rel=0.1)
    # New untreated subjects from the same truth fall in the 95% band about 95% of the time.
    new = simulate(400, ages, (40.0, 1.5), truth_g, sigma=2.0, center=7.0, seed=12)
    band = fit.band(new["age"].to_numpy(), 0.95)
    inside = np.mean(
        (new["value"].to_numpy() >= band.lower) & (new["value"].to_numpy() <= band.upper)
    )
    assert 0.92 < inside < 0.98


def test_log_scale_fits_log_values():
    g = np.array([[0.04, 0.0], [0.0, 0.0025]])
    data = simulate(
        60, np.arange(0.0, 10.0, 2.0), (np.log(300.0), 0.08), g, sigma=0.1, center=5.0, seed=3
    )
    data["value"] = np.exp(data["value"])
    fit = fit_longitudinal(data, "phe", scale="log", age_center=5.0)
    assert fit.scale == "log"
    lo, hi = fit.slope_ci()
    assert lo < 0.08 < hi
    assert fit.mean_at(5.0)[0] == pytest.approx(np.exp(fit.intercept))
    data.loc[3, "value"] = 0.0
    with pytest.raises(AnalysisError, match="values > 0"):
        fit_longitudinal(data, "phe", scale="log")


def test_singular_slope_variance_falls_back_to_random_intercept():
    # Every subject's own least-squares slope is exactly 2 (the noise is projected off span{1, age}),
    # so the slopes do not vary between subjects: the REML slope variance is on its boundary at 0.
    rng = np.random.default_rng(1)
    ages = np.arange(5.0)
    x = np.column_stack([np.ones(5), ages])
    resid = np.eye(5) - x @ np.linalg.pinv(x)
    rows = []
    for s in range(30):
        y = 10 + rng.normal(0, 3) + 2 * ages + resid @ rng.normal(0, 1, 5)
        rows += [(s, a, v) for a, v in zip(ages, y, strict=True)]
    fit = fit_longitudinal(pd.DataFrame(rows, columns=["subject", "age", "value"]), "score")
    assert fit.random_structure == "intercept"
    assert any("random intercept only" in n for n in fit.notes)
    assert fit.random_effects_cov[1, 1] == 0.0
    assert fit.slope == pytest.approx(2.0, abs=1e-6)  # balanced design: the common slope exactly


def test_no_optimizer_converging_raises_convergence_error_saying_what_to_try(monkeypatch):
    from statsmodels.regression.mixed_linear_model import MixedLM

    def failing_fit(self, *args, **kwargs):
        raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setattr(MixedLM, "fit", failing_fit)
    with pytest.raises(ConvergenceError, match="Try scale='log'") as info:
        fit_longitudinal(sleepstudy(), "reaction")
    assert "lbfgs" in str(info.value) and "nm" in str(info.value)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"subject": [1, 2], "value": [1.0, 2.0]}), "missing column"),
        (
            pd.DataFrame({"subject": [1, 1, 1], "age": [1.0, 2.0, 3.0], "value": [1.0, 2.0, 3.0]}),
            "at least 2 subjects",
        ),
        (
            pd.DataFrame({"subject": [1, 2, 3], "age": [4.0, 4.0, 4.0], "value": [1.0, 2.0, 3.0]}),
            "spread of ages",
        ),
        (
            pd.DataFrame(
                {"subject": [1, 2, 3], "age": [1.0, 2.0, 3.0], "value": [1.0, "n/a", 3.0]}
            ),
            "not finite",
        ),
    ],
)
def test_unusable_tables_raise_analysis_error(frame, message):
    with pytest.raises(AnalysisError, match=message):
        fit_longitudinal(frame, "score")
