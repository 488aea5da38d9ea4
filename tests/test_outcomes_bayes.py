"""The NUTS models of pmpath.outcomes.bayes against closed forms, a simulation truth and broken runs.

The sampler tests are slow-marked and small (2 chains x 500 draws); each reference is computed
here independently of the code under test (scipy's incomplete beta function, the conjugate normal
posterior, the truth of a simulation).
"""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from scipy import special, stats

from pmpath.errors import AnalysisError, UsageError
from pmpath.outcomes.bayes import (
    PositivePrior,
    SamplerDiagnostics,
    SamplerSettings,
    pool_effects_bayes,
    rate_ratio_posterior,
)
from pmpath.outcomes.event_decision import RatioPrior

SMALL = SamplerSettings(chains=2, warmup=500, draws=500, seed=11, min_ess=200)


# --------------------------------------------------------------------------- fast: settings and priors


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"chains": 0}, "chains"),
        ({"draws": 1}, "draws"),
        ({"warmup": 2.5}, "warmup"),
        ({"seed": -1}, "seed"),
        ({"max_rhat": 1.0}, "max_rhat"),
        ({"min_ess": 0}, "min_ess"),
        ({"target_accept": 1.0}, "target_accept"),
    ],
)
def test_sampler_settings_refuse_what_cannot_work(kwargs, field):
    with pytest.raises(UsageError, match=f"SamplerSettings.{field}: found"):
        SamplerSettings(**kwargs)


def test_positive_prior_validation():
    with pytest.raises(UsageError, match="distribution: found 'gamma'"):
        PositivePrior("gamma")
    with pytest.raises(UsageError, match="median: found None"):
        PositivePrior("lognormal", 0.1)
    with pytest.raises(UsageError, match="only a lognormal prior has a median"):
        PositivePrior("half_normal", 1.0, median=0.3)
    assert PositivePrior("half_cauchy", None).resolved(0.2).scale == 0.2
    assert "median 0.3" in PositivePrior("lognormal", 0.05, 0.3).describe()


def test_diagnostics_name_every_failed_check():
    d = SamplerDiagnostics(
        chains=1, warmup=5, draws=10, seed=1, rhat={"a": 1.2, "b": 1.0}, ess={"a": 3.0, "b": 50.0},
        divergences=2, max_rhat_allowed=1.01, min_ess_required=400,
    )  # fmt: skip
    text = " ".join(d.problems)
    assert not d.converged
    assert "R-hat 1.2 (parameter a)" in text and "effective sample size 3 (parameter a)" in text
    assert "2 divergent" in text
    ok = SamplerDiagnostics(1, 5, 10, 1, {"a": 1.001}, {"a": 900.0}, 0, 1.01, 400)
    assert ok.converged and ok.problems == ()


def test_missing_numpyro_is_an_analysis_error_naming_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "numpyro", None)  # import numpyro raises ImportError
    with pytest.raises(AnalysisError, match="numpyro"):
        pool_effects_bayes([0.1, 0.2], [0.01, 0.01])


def test_bad_inputs_are_refused_before_sampling():
    with pytest.raises(UsageError, match="expected as many"):
        pool_effects_bayes([0.1, 0.2], [0.01])
    with pytest.raises(UsageError, match="direction"):
        pool_effects_bayes([0.1, 0.2], [0.01, 0.01], direction="up")
    with pytest.raises(AnalysisError, match="at least 2"):
        rate_ratio_posterior([1], [0.5], [1], [0.5], [3], [1.0])
    with pytest.raises(UsageError, match="whole numbers"):
        rate_ratio_posterior([1.5], [0.5], [1], [0.5], [3, 4], [1.0, 1.0])


def test_closed_form_default_does_not_import_jax():
    """Importing pmpath and assessing an example with the default (closed-form) plan never loads jax."""
    code = (
        "import sys, pmpath\n"
        "from pmpath.examples import example_path\n"
        "pmpath.assess(example_path('ssaso-cln'))\n"
        "import pmpath.outcomes.bayes\n"
        "assert 'jax' not in sys.modules and 'numpyro' not in sys.modules, sorted(m for m in sys.modules if 'jax' in m)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)


# --------------------------------------------------------------------------- slow: the rate ratio


@pytest.fixture(scope="module")
def big_cohort():
    """400 subjects from a gamma-Poisson model (mu 12 a year, dispersion 0.3): mu is known to ~3.5%."""
    rng = np.random.default_rng(2024)
    years = rng.uniform(1.0, 3.0, 400)
    counts = rng.poisson(12.0 * years * rng.gamma(1 / 0.3, 0.3, years.size))
    return counts, years


@pytest.mark.slow
def test_rate_ratio_matches_closed_form_when_dispersion_is_pinned(big_cohort):
    """Dispersion pinned (lognormal, log-SD 0.005) at its value, a flat prior on log R: the posterior of R
    is closed form. Integrating the patient's rate ``lambda ~ Gamma(s, s/mu)`` (``s = 1/alpha``) out of
    the Poisson likelihood gives ``p(R) ∝ R^(Y2 - 1) (s/mu + t1 + R t2)^-(s + Y1 + Y2)``, so ``R t2 / (s/mu
    + t1)`` is beta-prime ``(Y2, s + Y1)`` and ``P(R < r)`` is an incomplete beta function."""
    counts, years = big_cohort
    alpha = 0.3
    pre, t_pre = np.array([2, 1, 3, 1, 2, 2]), np.full(6, 1 / 12)
    post, t_post = np.array([1, 0, 1, 0, 0, 1, 0, 1, 0]), np.full(9, 1 / 12)
    flat = RatioPrior(1e-9, 1e-9)  # the reference prior's factor vanishes: flat on log R
    res = rate_ratio_posterior(
        pre, t_pre, post, t_post, counts, years, null_ratio=0.8, reference_prior=flat,
        dispersion_prior=PositivePrior("lognormal", 0.005, alpha), settings=SMALL,
    )  # fmt: skip
    assert res.diagnostics.converged, res.diagnostics.problems
    mu = counts.sum() / years.sum()  # the gamma-Poisson MLE of mu is close to the crude rate here
    s, y1, y2, t1, t2 = 1 / alpha, pre.sum(), post.sum(), t_pre.sum(), t_post.sum()
    c = s / mu + t1

    def cdf(r: float) -> float:
        x = r * t2 / c
        return float(special.betainc(y2, s + y1, x / (1 + x)))

    exact = cdf(0.8)
    assert abs(res.probability - exact) < 4 * max(res.probability_mcse, 0.005)
    median = float(stats.betaprime.median(y2, s + y1)) * c / t2
    assert res.median == pytest.approx(median, rel=0.08)
    assert abs(cdf(res.upper) - 0.975) < 0.015 and abs(cdf(res.lower) - 0.025) < 0.015
    assert res.dispersion_median == pytest.approx(alpha, rel=0.01)


@pytest.mark.slow
def test_rate_ratio_is_reproducible_and_learns_the_dispersion(big_cohort):
    """The same seed gives the same draws; a vague dispersion prior is informed by the cohort."""
    counts, years = big_cohort
    pre, t_pre = np.array([2, 1, 3, 1, 2, 2]), np.full(6, 1 / 12)
    post, t_post = np.array([0, 0, 1, 0, 0, 0, 0, 1, 0]), np.full(9, 1 / 12)
    runs = [
        rate_ratio_posterior(pre, t_pre, post, t_post, counts, years, prior_sd=2.0, settings=SMALL)
        for _ in range(2)
    ]
    assert runs[0].probability == runs[1].probability
    np.testing.assert_array_equal(runs[0].draws, runs[1].draws)
    # 400 subjects: the dispersion's 95% interval covers the simulated 0.3 and is far narrower than the prior's
    assert runs[0].dispersion_lower < 0.3 < runs[0].dispersion_upper
    assert runs[0].dispersion_upper - runs[0].dispersion_lower < 0.3


# --------------------------------------------------------------------------- slow: the pooled effect


@pytest.mark.slow
def test_pooled_effect_with_tau_pinned_near_zero_is_the_conjugate_normal():
    """tau ~ half-normal(1e-6): every theta_i is mu, so mu's posterior is the conjugate normal
    (prior N(m0, s0^2), data y_i ~ N(mu, v_i)): precision-weighted mean, SD from the summed precisions."""
    y = np.array([0.3, 0.8, -0.1, 0.5, 0.45])
    v = np.array([0.04, 0.09, 0.16, 0.05, 0.02])
    m0, s0 = 0.0, 1.0
    precision = 1 / s0**2 + np.sum(1 / v)
    mean = (m0 / s0**2 + np.sum(y / v)) / precision
    sd = precision**-0.5
    res = pool_effects_bayes(
        y, v, threshold=0.2, mu_prior_mean=m0, mu_prior_sd=s0,
        tau_prior=PositivePrior("half_normal", 1e-6), settings=SMALL,
    )  # fmt: skip
    assert res.diagnostics.converged, res.diagnostics.problems
    mcse = sd / math.sqrt(res.diagnostics.ess["mu"])
    assert abs(res.mean - mean) < 4 * mcse
    assert res.sd == pytest.approx(sd, rel=0.08)
    assert abs(res.probability - stats.norm.sf(0.2, mean, sd)) < 0.03
    np.testing.assert_allclose(res.shrunk, res.mean, atol=1e-4)  # fully pooled


@pytest.mark.slow
def test_pooled_effect_recovers_a_simulation_truth():
    """40 patients with mu 0.4, tau 0.3: the credible intervals cover the truth, and the shrunk
    effects are nearer each patient's true effect than their own estimates."""
    rng = np.random.default_rng(7)
    k, mu, tau = 40, 0.4, 0.3
    v = rng.uniform(0.02, 0.3, k)
    theta = rng.normal(mu, tau, k)
    y = rng.normal(theta, np.sqrt(v))
    res = pool_effects_bayes(y, v, threshold=0.0, settings=SMALL)
    assert res.diagnostics.converged, res.diagnostics.problems
    assert res.lower < mu < res.upper
    assert res.tau_lower < tau < res.tau_upper
    assert res.probability > 0.99
    assert np.mean((res.shrunk - theta) ** 2) < np.mean((y - theta) ** 2)
    inside = (res.shrunk_lower < theta) & (theta < res.shrunk_upper)
    assert inside.mean() >= 0.85


@pytest.mark.slow
def test_an_unconverged_run_is_flagged():
    """One chain of ten draws after five warmup steps cannot reach 400 effective draws: the
    diagnostics say so, and a caller acting on ``converged`` would refuse it."""
    res = pool_effects_bayes(
        [0.1, 0.9, -0.4], [0.01, 0.02, 0.01], settings=SamplerSettings(chains=1, warmup=5, draws=10)
    )
    d = res.diagnostics
    assert not d.converged
    assert any("effective sample size" in p for p in d.problems)
    assert d.chains == 1 and d.draws == 10


# --------------------------------------------------------------------------- the plan


def test_plan_default_is_closed_form_and_nuts_fields_validate():
    from pydantic import ValidationError

    from pmpath.dossier.model import ImprovementPlan

    plan = ImprovementPlan()
    assert plan.sampler.method.value == "closed_form"
    assert (plan.sampler.chains, plan.sampler.warmup, plan.sampler.draws) == (4, 1000, 1000)
    assert (plan.sampler.max_rhat, plan.sampler.min_ess) == (1.01, 400)
    nuts = ImprovementPlan(
        sampler={"method": "nuts", "chains": 2, "seed": 5},
        dispersion_prior={"distribution": "lognormal", "median": 0.3, "scale": 0.1},
        pooled_prior={
            "mu": {"mean": 0.0, "sd": 2.0},
            "tau": {"distribution": "half_normal", "scale": 0.5},
        },
    )
    assert nuts.sampler.method.value == "nuts" and nuts.pooled_prior.tau.scale == 0.5
    cases = [
        ({"sampler": {"method": "mcmc"}}, "sampler.method"),
        ({"sampler": {"max_rhat": 1.0}}, "sampler.max_rhat"),
        ({"sampler": {"draws": 1}}, "sampler.draws"),
        (
            {"dispersion_prior": {"distribution": "lognormal", "scale": 0.1}},
            "dispersion_prior.median",
        ),
        (
            {"dispersion_prior": {"distribution": "half_normal", "median": 0.2}},
            "dispersion_prior.median",
        ),
        ({"pooled_prior": {"tau": {"scale": -1}}}, "pooled_prior.tau.scale"),
    ]
    for data, where in cases:
        with pytest.raises(ValidationError) as info:
            ImprovementPlan(**data)
        locs = [".".join(str(x) for x in e["loc"]) for e in info.value.errors()]
        assert where in locs, (data, locs)


def _platform_with(improvement: dict):
    from pmpath.dossier import load_dossier
    from pmpath.examples import example_path

    platform = load_dossier(example_path("ssaso-cln")).platform
    plan = platform.analysis_plan.model_copy(
        update={"improvement": platform.analysis_plan.improvement.model_validate(improvement)}
    )
    return platform.model_copy(update={"analysis_plan": plan})


def test_plan_maps_to_the_sampler_and_lets_nuts_take_a_normal_prior_for_rates():
    from pmpath.pathway.criteria.decision_rules import event_rule, sampler_settings, uses_nuts

    base = {"decision": "bayesian", "prior": {"mean": 0.0, "sd": 1.0}}
    closed = _platform_with(base)
    seizures = next(e for e in closed.endpoints if e.kind.value == "count")
    with pytest.raises(AnalysisError, match=r"needs sampler\.method nuts"):
        event_rule(closed, seizures)
    nuts = _platform_with(
        {**base, "sampler": {"method": "nuts", "chains": 3, "draws": 50, "min_ess": 10}}
    )
    assert uses_nuts(nuts) and not uses_nuts(closed)
    assert event_rule(nuts, seizures).decision == "bayesian"
    settings = sampler_settings(nuts)
    assert (settings.chains, settings.draws, settings.min_ess, settings.seed) == (3, 50, 10.0, 1)


# --------------------------------------------------------------------------- slow: the pathway


def _nuts_example(example_copy, sampler: str) -> str:
    root = example_copy("ssaso-cln")
    path = root / "platform.yaml"
    text = path.read_text()
    assert "    decision: frequentist\n" in text
    path.write_text(
        text.replace(
            "    decision: frequentist\n", f"    decision: bayesian\n    sampler: {sampler}\n", 1
        )
    )
    return str(root)


@pytest.mark.slow
def test_pathway_decides_counts_by_nuts_and_reports_its_diagnostics(example_copy):
    import pmpath

    root = _nuts_example(
        example_copy, "{method: nuts, chains: 2, warmup: 300, draws: 300, min_ess: 100}"
    )
    assessment = pmpath.assess(root)
    for patient in assessment.patients:
        verdict = patient.criterion(5)
        primary = verdict.result.primary
        if primary.status.value == "insufficient" and primary.nuts is None:
            continue  # the closed form already found it insufficient
        n = primary.nuts
        assert n is not None and n.diagnostics.chains == 2 and n.diagnostics.draws == 300
        assert primary.posterior_probability == n.probability
        if n.diagnostics.converged:
            met = n.probability >= 0.975 and primary.consistent
            assert primary.status.value == ("met" if met else "not_met")
        else:
            assert primary.status.value == "insufficient" and "did not converge" in primary.reason
        html = verdict.result.to_html()
        assert "NUTS: max split R-hat / min bulk ESS / divergences" in html
    pooled = assessment.platform.pooled_effect
    assert pooled is not None and pooled.hierarchical is not None
    assert pooled.hierarchical.diagnostics is not None
    assert set(pooled.hierarchical.patients) == {p.id for p in pooled.patients}
    assert "Max split R-hat / min bulk ESS / divergences" in pooled.hierarchical.to_html()


@pytest.mark.slow
def test_pathway_never_meets_on_an_unconverged_chain(example_copy):
    import pmpath

    root = _nuts_example(example_copy, "{method: nuts, chains: 1, warmup: 5, draws: 10}")
    assessment = pmpath.assess(root)
    decided = [p.criterion(5).result.primary for p in assessment.patients]
    sampled = [p for p in decided if p.nuts is not None]
    assert sampled
    for p in sampled:
        assert p.status.value == "insufficient"
        assert "did not converge" in p.reason and "effective sample size" in p.reason
    assert assessment.platform.pooled_effect.hierarchical.status.value == "insufficient"
