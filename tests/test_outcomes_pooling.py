"""Partial pooling of per-patient effects: the DerSimonian-Laird formulas written out by hand, a
simulation with known truth, and the bundled examples' platform summary."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmpath.dossier import load_dossier
from pmpath.errors import UsageError
from pmpath.examples import example_path
from pmpath.outcomes.pooling import pool_effects
from pmpath.pathway import assess_dossier


def _dersimonian_laird(y: np.ndarray, v: np.ndarray) -> tuple[float, float, float]:
    w = 1 / v
    fixed = np.sum(w * y) / np.sum(w)
    q = np.sum(w * (y - fixed) ** 2)
    tau2 = max(0.0, (q - (y.size - 1)) / (np.sum(w) - np.sum(w**2) / np.sum(w)))
    w_re = 1 / (v + tau2)
    mean = np.sum(w_re * y) / np.sum(w_re)
    return float(mean), float(np.sqrt(1 / np.sum(w_re))), float(tau2)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(-5, 5, allow_nan=False), st.floats(0.01, 4.0)),
        min_size=2,
        max_size=10,
    )
)
def test_pooling_agrees_with_the_dersimonian_laird_formulas(rows) -> None:
    y = np.array([r[0] for r in rows])
    v = np.array([r[1] for r in rows])
    out = pool_effects(y, v)
    mean, _se, tau2 = _dersimonian_laird(y, v)
    assert out.mean == pytest.approx(mean, abs=1e-9)
    assert out.tau2 == pytest.approx(tau2, abs=1e-9)
    # partial pooling lies between the patient's own estimate and the mean
    lo, hi = np.minimum(y, out.mean), np.maximum(y, out.mean)
    assert np.all(out.shrunk >= lo - 1e-12) and np.all(out.shrunk <= hi + 1e-12)


def test_the_pooled_interval_covers_the_true_mean_effect() -> None:
    """Truth: per-patient effects N(0.4, 0.1^2), estimated with SE 0.05-0.2, 6 patients a platform."""
    rng = np.random.default_rng(3)
    hits = []
    for _ in range(2000):
        se = rng.uniform(0.05, 0.2, 6)
        y = rng.normal(0.4, 0.1, 6) + rng.normal(0, se)
        out = pool_effects(y, se**2)
        hits.append(out.ci_low <= 0.4 <= out.ci_high)
    # the Hartung-Knapp-Sidik-Jonkman interval keeps (or slightly exceeds) its 95% with 6 patients
    assert 0.93 <= np.mean(hits) <= 0.985


def test_the_random_effects_mean_agrees_with_statsmodels() -> None:
    from statsmodels.stats.meta_analysis import combine_effects

    y = np.array([0.5, 0.36, 0.01, 0.5, 0.2])
    v = np.array([0.045, 0.044, 0.046, 0.048, 0.1]) ** 2
    out = pool_effects(y, v)
    ref = combine_effects(y, v, method_re="chi2")
    assert out.mean == pytest.approx(ref.mean_effect_re, rel=1e-10)
    assert out.tau2 == pytest.approx(ref.tau2, rel=1e-10)
    # HKSJ (modified): se^2 = max(1, q_w / (k - 1)) / sum(w_re)
    w_re = 1 / (v + ref.tau2)
    q_w = np.sum(w_re * (y - ref.mean_effect_re) ** 2) / (y.size - 1)
    assert out.se == pytest.approx(np.sqrt(max(1.0, q_w) / np.sum(w_re)), rel=1e-10)


def test_caller_mistakes() -> None:
    with pytest.raises(UsageError):
        pool_effects([1.0], [0.1])
    with pytest.raises(UsageError):
        pool_effects([1.0, 2.0], [0.1, 0.0])


def test_the_platform_summary_pools_the_examples_patients() -> None:
    assessment = assess_dossier(load_dossier(example_path("abe-ucd")))
    pooled = assessment.platform.pooled_effect
    assert pooled is not None and pooled.n_patients == 4 and pooled.endpoint == "protein_tolerance"
    own = {p.id: p.own.value for p in pooled.patients}
    shrunk = {p.id: p.pooled.value for p in pooled.patients}
    # the non-responder P03 is pulled toward the platform's mean, the responders barely move
    assert own["P03"] < shrunk["P03"] < pooled.estimate.value
    assert pooled.interval.low < pooled.estimate.value < pooled.interval.high
    events = assess_dossier(load_dossier(example_path("ssaso-cln"))).platform.pooled_effect
    assert events is not None and events.estimate.unit == "ratio" and events.estimate.value < 1
