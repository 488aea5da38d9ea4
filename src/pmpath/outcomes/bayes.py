"""Bayesian models beyond the closed forms, sampled with NUTS (NumPyro): an event-rate ratio with an
uncertain dispersion, and the hierarchical pooled effect across a platform's patients.

:func:`rate_ratio_posterior` compares a patient's post-dose event rate with their pre-treatment one
when the cohort's negative binomial dispersion is not taken as known: the cohort's subjects and the
patient share one gamma-Poisson model whose dispersion has its own prior, so its uncertainty reaches
the rate ratio. :func:`pool_effects_bayes` is the normal-normal random-effects model of
:func:`pmpath.outcomes.pool_effects` with priors on the mean and the between-patient SD in place of
the DerSimonian-Laird estimate. Both report convergence diagnostics (:class:`SamplerDiagnostics`:
split R-hat, bulk effective sample size, divergent transitions); a caller must not act on a
posterior whose diagnostics fail (:attr:`SamplerDiagnostics.converged`).

jax and numpyro are imported inside the functions, so ``import pmpath`` stays fast and works
without them; the first call enables jax's 64-bit mode for the process (the sampler's
probabilities are compared with closed forms at Monte Carlo precision).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from pmpath.errors import AnalysisError, UsageError
from pmpath.formatting import format_interval, format_number, format_percent
from pmpath.outcomes.event_decision import RatioPrior

_CHAIN_METHOD = (
    "sequential"  # chains one after another in one process: the cores stay free for the caller
)
_JIT_ARGS = (
    True  # the data are arguments: a cached sampler is reused for new data of the same shapes
)

__all__ = [
    "HierarchicalPooledEffect",
    "PositivePrior",
    "RateRatioPosterior",
    "SamplerDiagnostics",
    "SamplerSettings",
    "pool_effects_bayes",
    "rate_ratio_posterior",
]


# --------------------------------------------------------------------------- settings and priors


@dataclass(frozen=True)
class SamplerSettings:
    """How NUTS is run and what its diagnostics must reach.

    Parameters
    ----------
    chains, warmup, draws
        Independent chains, adaptation iterations per chain (discarded) and kept draws per chain.
    seed
        Seed of the sampler's random key: the same seed gives the same draws.
    max_rhat
        Largest acceptable split R-hat of any parameter (Vehtari et al. 2021 recommend 1.01).
    min_ess
        Smallest acceptable bulk effective sample size of any parameter (400 for four chains).
    target_accept
        NUTS's target acceptance probability (higher: smaller steps, fewer divergences).
    """

    chains: int = 4
    warmup: int = 1000
    draws: int = 1000
    seed: int = 1
    max_rhat: float = 1.01
    min_ess: float = 400.0
    target_accept: float = 0.9

    def __post_init__(self) -> None:
        for name, low in (("chains", 1), ("warmup", 1), ("draws", 2)):
            value = getattr(self, name)
            if not (isinstance(value, int) and not isinstance(value, bool) and value >= low):
                raise UsageError(
                    f"SamplerSettings.{name}: found {value!r}, expected a whole number >= {low}"
                )
        if not (isinstance(self.seed, int) and self.seed >= 0):
            raise UsageError(
                f"SamplerSettings.seed: found {self.seed!r}, expected a whole number >= 0"
            )
        if not (math.isfinite(self.max_rhat) and self.max_rhat > 1):
            raise UsageError(
                f"SamplerSettings.max_rhat: found {self.max_rhat!r}, expected a number above 1 (e.g. 1.01)"
            )
        if not (math.isfinite(self.min_ess) and self.min_ess > 0):
            raise UsageError(
                f"SamplerSettings.min_ess: found {self.min_ess!r}, expected a positive number of draws"
            )
        if not 0 < self.target_accept < 1:
            raise UsageError(
                f"SamplerSettings.target_accept: found {self.target_accept!r}, expected a probability between 0 and 1"
            )


@dataclass(frozen=True)
class PositivePrior:
    """Prior of a positive parameter (a dispersion, a between-patient SD).

    ``half_normal`` and ``half_cauchy`` take ``scale``; ``lognormal`` takes ``median`` and ``scale``
    (the SD of the log). A lognormal with a small ``scale`` pins the parameter near ``median``
    (e.g. at a cohort's maximum-likelihood dispersion, which recovers the closed-form analysis).
    ``scale=None`` (half-normal and half-Cauchy only) lets the model choose a scale from the data
    (:func:`pool_effects_bayes`: the median of the patients' standard errors).
    """

    distribution: Literal["half_normal", "half_cauchy", "lognormal"] = "half_normal"
    scale: float | None = 1.0
    median: float | None = None

    def __post_init__(self) -> None:
        if self.distribution not in ("half_normal", "half_cauchy", "lognormal"):
            raise UsageError(
                f"PositivePrior.distribution: found {self.distribution!r}, expected 'half_normal', "
                "'half_cauchy' or 'lognormal'"
            )
        if self.scale is not None and not (math.isfinite(self.scale) and self.scale > 0):
            raise UsageError(
                f"PositivePrior.scale: found {self.scale!r}, expected a positive number"
            )
        if self.distribution == "lognormal":
            if self.median is None or not (math.isfinite(self.median) and self.median > 0):
                raise UsageError(
                    f"PositivePrior.median: found {self.median!r}, expected a positive median for a lognormal prior"
                )
            if self.scale is None:
                raise UsageError(
                    "PositivePrior.scale: found None, expected the SD of the log for a lognormal prior"
                )
        elif self.median is not None:
            raise UsageError(
                f"PositivePrior.median: found {self.median!r} for a {self.distribution} prior, expected none "
                "(only a lognormal prior has a median)"
            )

    def resolved(self, default_scale: float) -> PositivePrior:
        """This prior with ``scale=None`` replaced by ``default_scale``."""
        if self.scale is not None:
            return self
        return PositivePrior(self.distribution, float(default_scale), self.median)

    def describe(self) -> str:
        name = self.distribution.replace("_", "-")
        if self.distribution == "lognormal":
            return f"lognormal (median {format_number(self.median)}, log-SD {format_number(self.scale)})"
        scale = "from the data" if self.scale is None else format_number(self.scale)
        return f"{name} (scale {scale})"

    def _numpyro(self, dist: Any) -> Any:
        if self.distribution == "half_normal":
            return dist.HalfNormal(self.scale)
        if self.distribution == "half_cauchy":
            return dist.HalfCauchy(self.scale)
        return dist.LogNormal(math.log(self.median), self.scale)


# --------------------------------------------------------------------------- diagnostics


@dataclass(frozen=True)
class SamplerDiagnostics:
    """Convergence of a NUTS fit: what was run and how well it mixed.

    ``rhat`` and ``ess`` hold, per sampled parameter, its largest split R-hat and smallest bulk
    effective sample size over its elements (numpyro's ``split_gelman_rubin`` and
    ``effective_sample_size``); ``max_rhat`` and ``min_ess`` are the worst over all parameters.
    """

    chains: int
    warmup: int
    draws: int
    seed: int
    rhat: dict[str, float]
    ess: dict[str, float]
    divergences: int
    max_rhat_allowed: float
    min_ess_required: float

    @property
    def max_rhat(self) -> float:
        return max(self.rhat.values())

    @property
    def min_ess(self) -> float:
        return min(self.ess.values())

    @property
    def problems(self) -> tuple[str, ...]:
        """Each failed check in words; empty when the fit converged."""
        out = []
        worst = max(self.rhat, key=lambda k: self.rhat[k])
        if not self.max_rhat <= self.max_rhat_allowed:
            out.append(
                f"split R-hat {format_number(self.max_rhat, 4)} (parameter {worst}), expected at most "
                f"{format_number(self.max_rhat_allowed, 4)}"
            )
        fewest = min(self.ess, key=lambda k: self.ess[k])
        if not self.min_ess >= self.min_ess_required:
            out.append(
                f"bulk effective sample size {format_number(self.min_ess)} (parameter {fewest}), expected at "
                f"least {format_number(self.min_ess_required)}"
            )
        if self.divergences:
            out.append(f"{self.divergences} divergent transition(s), expected none")
        return tuple(out)

    @property
    def converged(self) -> bool:
        return not self.problems

    def describe(self) -> str:
        """'NUTS, 4 chains x 1000 draws (1000 warmup, seed 1): max R-hat 1.002, min bulk ESS 1850, 0 divergences'."""
        return (
            f"NUTS, {self.chains} chain(s) x {self.draws} draws ({self.warmup} warmup, seed {self.seed}): "
            f"max split R-hat {format_number(self.max_rhat, 4)}, min bulk ESS {format_number(self.min_ess)}, "
            f"{self.divergences} divergence(s)"
        )


def _numpyro() -> tuple[Any, Any, Any, Any]:
    """jax, jax.numpy, numpyro and numpyro.distributions, imported on first use (64-bit mode on)."""
    missing = []
    for name in ("jax", "numpyro"):
        try:
            __import__(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise AnalysisError(
            f"the NUTS sampler needs the package(s) {', '.join(missing)}, which are not installed: "
            "pip install jax numpyro, or set analysis_plan.improvement.sampler.method to closed_form"
        )
    import jax
    import jax.numpy as jnp
    import numpyro
    import numpyro.distributions as dist

    jax.config.update("jax_enable_x64", True)
    return jax, jnp, numpyro, dist


_SAMPLERS: dict[tuple[Any, ...], Any] = {}
"""Compiled samplers by (model, settings): a second patient with data of the same shapes reuses
the compilation (several seconds), which the pathway's many patients would otherwise repeat."""


def _run_nuts(
    model_key: tuple[Any, ...],
    make_model: Callable[[], Callable[..., None]],
    settings: SamplerSettings,
    kwargs: dict[str, Any],
    params: Sequence[str],
) -> tuple[dict[str, np.ndarray], SamplerDiagnostics]:
    """Sample a model with NUTS; the draws by chain ``(chains, draws, ...)`` and diagnostics.

    ``model_key`` names the model's structure (everything ``make_model`` closes over); the data
    are model arguments, so a cached sampler recompiles only for new shapes.
    """
    jax, _, _, _ = _numpyro()
    from numpyro.diagnostics import effective_sample_size, split_gelman_rubin
    from numpyro.infer import MCMC, NUTS

    key = (model_key, settings)
    mcmc = _SAMPLERS.get(key)
    if mcmc is None:
        kernel = NUTS(make_model(), target_accept_prob=settings.target_accept)
        mcmc = MCMC(
            kernel,
            num_warmup=settings.warmup,
            num_samples=settings.draws,
            num_chains=settings.chains,
            chain_method=_CHAIN_METHOD,
            progress_bar=False,
            jit_model_args=_JIT_ARGS,
        )
        if len(_SAMPLERS) >= 32:
            _SAMPLERS.pop(next(iter(_SAMPLERS)))
        _SAMPLERS[key] = mcmc
    try:
        mcmc.run(jax.random.PRNGKey(settings.seed), extra_fields=("diverging",), **kwargs)
    except (RuntimeError, ValueError, FloatingPointError) as exc:
        raise AnalysisError(f"the NUTS sampler failed: {exc}") from exc
    samples = mcmc.get_samples(group_by_chain=True)
    out = {k: np.asarray(samples[k], dtype=float) for k in samples}
    rhat: dict[str, float] = {}
    ess: dict[str, float] = {}
    for name in params:
        x = out[name]
        if not np.all(np.isfinite(x)):
            raise AnalysisError(f"the NUTS sampler gave non-finite draws of {name}")
        r = np.asarray(split_gelman_rubin(x), dtype=float)
        e = np.asarray(effective_sample_size(x), dtype=float)
        # a parameter that does not move at all has R-hat NaN: it has not mixed
        rhat[name] = float(np.max(np.where(np.isfinite(r), r, np.inf)))
        ess[name] = float(np.min(np.where(np.isfinite(e), e, 0.0)))
    diverging = np.asarray(mcmc.get_extra_fields(group_by_chain=True)["diverging"])
    diagnostics = SamplerDiagnostics(
        chains=settings.chains, warmup=settings.warmup, draws=settings.draws, seed=settings.seed,
        rhat=rhat, ess=ess, divergences=int(diverging.sum()),
        max_rhat_allowed=settings.max_rhat, min_ess_required=settings.min_ess,
    )  # fmt: skip
    return out, diagnostics


def _padded(x: np.ndarray, fill: float) -> tuple[np.ndarray, np.ndarray]:
    """``x`` padded with ``fill`` to the next power of two, and the mask of its real entries (fewer
    shapes to compile; the fill must keep the masked terms finite, e.g. an exposure of 1)."""
    n = max(1, 1 << (int(x.size) - 1).bit_length())
    out = np.full(n, float(fill))
    out[: x.size] = x
    mask = np.zeros(n, dtype=bool)
    mask[: x.size] = True
    return out, mask


def _interval(x: np.ndarray, level: float) -> tuple[float, float]:
    lo, hi = np.quantile(x, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


# --------------------------------------------------------------------------- the event-rate ratio


@dataclass(frozen=True)
class RateRatioPosterior:
    """Posterior of a patient's post/pre rate ratio with the cohort's dispersion uncertain (NUTS).

    ``probability`` is ``P(ratio < null_ratio | data)``, the question of the closed-form Bayesian
    event rule (``null_ratio = 1 - mcid``); ``probability_mcse`` its Monte Carlo standard error
    (from the effective sample size of the indicator). ``median``, ``lower`` and ``upper`` are the
    rate ratio's posterior median and equal-tailed ``level`` credible interval; ``dispersion_*``
    the same for the cohort's NB2 dispersion.
    """

    probability: float
    probability_mcse: float
    null_ratio: float
    median: float
    lower: float
    upper: float
    level: float
    dispersion_median: float
    dispersion_lower: float
    dispersion_upper: float
    prior: str
    dispersion_prior: str
    period_dispersion: float
    diagnostics: SamplerDiagnostics
    draws: np.ndarray = field(repr=False)

    def describe(self) -> str:
        return (
            f"P(rate ratio < {format_number(self.null_ratio)}) {format_percent(self.probability)}; rate ratio "
            f"{format_number(self.median)} ({format_percent(self.level)} credible interval "
            f"{format_interval(self.lower, self.upper)}); dispersion {format_number(self.dispersion_median)} "
            f"({format_interval(self.dispersion_lower, self.dispersion_upper)}); {self.diagnostics.describe()}"
        )


def _periods(counts: Any, years: Any, what: str) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(counts, dtype=float).reshape(-1)
    t = np.asarray(years, dtype=float).reshape(-1)
    if y.size != t.size:
        raise UsageError(f"{what}: found {y.size} counts and {t.size} exposures, expected as many")
    if not (np.all(np.isfinite(y)) and np.all(y >= 0) and np.all(y == np.round(y))):
        raise UsageError(
            f"{what}: found counts that are not whole numbers >= 0, expected event counts"
        )
    if not (np.all(np.isfinite(t)) and np.all(t > 0)):
        raise UsageError(
            f"{what}: found an exposure of 0 or less, expected positive exposures in years"
        )
    return y, t


def _indicator_mcse(indicator: np.ndarray) -> float:
    """Monte Carlo SE of a posterior probability from its indicator draws ``(chains, draws)``."""
    from numpyro.diagnostics import effective_sample_size

    p = float(indicator.mean())
    if p in (0.0, 1.0):
        return 0.0
    ess = float(effective_sample_size(indicator.astype(float)))
    return math.sqrt(p * (1 - p) / max(ess, 1.0))


def _rate_ratio_model(
    alpha_prior: PositivePrior,
    normal: tuple[float, float] | None,
    shapes: tuple[float, float],
    period_dispersion: float,
) -> Callable[..., None]:
    """The model of :func:`rate_ratio_posterior` for one prior configuration (data as arguments)."""
    _, jnp, numpyro, dist = _numpyro()
    a, b = shapes

    def model(
        log_crude: Any, yc: Any, tc: Any, yp: Any, tp: Any, mp: Any, yq: Any, tq: Any, mq: Any
    ) -> None:
        log_mu = numpyro.sample("log_mu", dist.Normal(log_crude, 2.5))
        alpha = numpyro.sample("dispersion", alpha_prior._numpyro(dist))
        k = 1.0 / alpha
        mu = jnp.exp(log_mu)
        numpyro.sample("cohort", dist.NegativeBinomial2(mu * tc, k), obs=yc)
        z = numpyro.sample("z", dist.Gamma(k, k))
        if normal is None:
            log_r = numpyro.sample(
                "log_rate_ratio", dist.ImproperUniform(dist.constraints.real, (), ())
            )
            # the BetaPrime(a, b) density of R times the Jacobian R: R^a (1 + R)^-(a + b)
            numpyro.factor("reference_prior", a * log_r - (a + b) * jnp.logaddexp(0.0, log_r))
        else:
            log_r = numpyro.sample("log_rate_ratio", dist.Normal(*normal))
        lam = mu * z
        if period_dispersion > 0:
            c = 1.0 / period_dispersion
            numpyro.sample("pre", dist.NegativeBinomial2(lam * tp, c).mask(mp), obs=yp)
            numpyro.sample(
                "post", dist.NegativeBinomial2(lam * jnp.exp(log_r) * tq, c).mask(mq), obs=yq
            )
        else:
            numpyro.sample("pre", dist.Poisson(lam * tp), obs=yp)
            numpyro.sample("post", dist.Poisson(lam * jnp.exp(log_r) * tq), obs=yq)

    return model


def rate_ratio_posterior(
    pre_counts: Sequence[float],
    pre_years: Sequence[float],
    post_counts: Sequence[float],
    post_years: Sequence[float],
    cohort_counts: Sequence[float],
    cohort_years: Sequence[float],
    *,
    null_ratio: float = 1.0,
    prior_mean: float = 0.0,
    prior_sd: float | None = None,
    reference_prior: RatioPrior | None = None,
    dispersion_prior: PositivePrior | None = None,
    period_dispersion: float = 0.0,
    settings: SamplerSettings | None = None,
    level: float = 0.95,
) -> RateRatioPosterior:
    """Posterior of the post/pre rate ratio, the cohort's negative binomial dispersion uncertain.

    The model (``j`` a cohort subject, ``k`` one of the patient's periods):

    * cohort: ``Y_j ~ NB2(mu T_j, alpha)`` (gamma-Poisson: each subject's rate is ``mu`` times a
      ``Gamma(1/alpha, 1/alpha)`` factor), ``log mu ~ Normal(log(sum Y / sum T), 2.5)``,
      ``alpha ~ dispersion_prior``;
    * patient: untreated rate ``lambda = mu Z``, ``Z ~ Gamma(1/alpha, 1/alpha)``; a pre-treatment
      period's count ``~ Poisson(lambda t_k)``, a counted post-dose one ``~ Poisson(lambda R t_k)``
      (negative binomial NB2 with ``period_dispersion`` when events cluster within periods);
    * ``log R ~ Normal(prior_mean, prior_sd)``, or with ``prior_sd=None`` the closed-form rule's
      beta-prime reference prior of ``R`` (``reference_prior``, default ``BetaPrime(0.5, 0.5)``).

    With the dispersion pinned and the patient's rate prior vague, the posterior of ``R`` is the
    closed-form one of :func:`pmpath.outcomes.judge_event_rates` (Bayesian rule).

    Parameters
    ----------
    pre_counts, pre_years
        The patient's pre-treatment periods: counts and exposures (years).
    post_counts, post_years
        The counted post-dose periods.
    cohort_counts, cohort_years
        Each cohort subject's total count and exposure (years); at least two subjects.
    null_ratio
        The ratio asked about: ``probability = P(R < null_ratio)`` (``1 - mcid``).
    prior_mean, prior_sd
        Normal prior of ``log R`` (the plan's ``prior``); ``prior_sd=None`` uses the reference prior.
    reference_prior
        The beta-prime prior of ``R`` used when ``prior_sd`` is None.
    dispersion_prior
        Prior of ``alpha`` (default half-normal, scale 1).
    period_dispersion
        Known NB2 dispersion of a patient period's count around their rate (0: Poisson).
    settings
        The sampler (default :class:`SamplerSettings()`).
    level
        Coverage of the credible intervals.

    Returns
    -------
    RateRatioPosterior
    """
    yp, tp = _periods(pre_counts, pre_years, "pre_counts, pre_years")
    yq, tq = _periods(post_counts, post_years, "post_counts, post_years")
    yc, tc = _periods(cohort_counts, cohort_years, "cohort_counts, cohort_years")
    if yp.size == 0 or yq.size == 0:
        raise AnalysisError(
            f"found {yp.size} pre-treatment and {yq.size} counted post-dose periods, expected at least one of each "
            "for a rate ratio"
        )
    if yc.size < 2:
        raise AnalysisError(
            f"found {yc.size} cohort subject(s), expected at least 2 to estimate a dispersion"
        )
    if yc.sum() <= 0:
        raise AnalysisError("the cohort recorded no events: its rate cannot be estimated")
    if not (math.isfinite(null_ratio) and null_ratio > 0):
        raise UsageError(f"null_ratio: found {null_ratio!r}, expected a positive ratio")
    if not math.isfinite(prior_mean):
        raise UsageError(f"prior_mean: found {prior_mean!r}, expected a finite log ratio")
    if prior_sd is not None and not (math.isfinite(prior_sd) and prior_sd > 0):
        raise UsageError(f"prior_sd: found {prior_sd!r}, expected a positive SD or None")
    if not (math.isfinite(period_dispersion) and period_dispersion >= 0):
        raise UsageError(
            f"period_dispersion: found {period_dispersion!r}, expected a dispersion >= 0"
        )
    if not 0 < level < 1:
        raise UsageError(f"level: found {level!r}, expected a probability between 0 and 1")
    reference = reference_prior or RatioPrior()
    alpha_prior = dispersion_prior or PositivePrior()
    if alpha_prior.scale is None:
        alpha_prior = alpha_prior.resolved(1.0)
    settings = settings or SamplerSettings()
    _numpyro()
    log_crude = math.log(yc.sum() / tc.sum())
    normal = None if prior_sd is None else (float(prior_mean), float(prior_sd))
    shapes = (reference.shape_post, reference.shape_pre)
    model_key = ("rate_ratio", alpha_prior, normal, shapes, float(period_dispersion))
    if period_dispersion > 0:
        yp_, mp = _padded(yp, 0.0)
        tp_, _ = _padded(tp, 1.0)
        yq_, mq = _padded(yq, 0.0)
        tq_, _ = _padded(tq, 1.0)
    else:  # Poisson periods: the totals are sufficient
        yp_, tp_, mp = np.array([yp.sum()]), np.array([tp.sum()]), np.array([True])
        yq_, tq_, mq = np.array([yq.sum()]), np.array([tq.sum()]), np.array([True])
    data = {
        "log_crude": log_crude, "yc": yc, "tc": tc, "yp": yp_, "tp": tp_, "mp": mp,
        "yq": yq_, "tq": tq_, "mq": mq,
    }  # fmt: skip
    draws, diagnostics = _run_nuts(
        model_key,
        lambda: _rate_ratio_model(alpha_prior, normal, shapes, float(period_dispersion)),
        settings,
        data,
        ("log_mu", "dispersion", "z", "log_rate_ratio"),
    )
    log_r = draws["log_rate_ratio"]
    ratio = np.exp(log_r)
    below = log_r < math.log(null_ratio)
    lo, hi = _interval(ratio, level)
    d_lo, d_hi = _interval(draws["dispersion"], level)
    prior_text = (
        f"normal prior on the log rate ratio (mean {format_number(prior_mean)}, SD {format_number(prior_sd)})"
        if prior_sd is not None
        else reference.describe()
    )
    return RateRatioPosterior(
        probability=float(below.mean()), probability_mcse=_indicator_mcse(below), null_ratio=float(null_ratio),
        median=float(np.median(ratio)), lower=lo, upper=hi, level=level,
        dispersion_median=float(np.median(draws["dispersion"])), dispersion_lower=d_lo, dispersion_upper=d_hi,
        prior=prior_text, dispersion_prior=alpha_prior.describe(), period_dispersion=float(period_dispersion),
        diagnostics=diagnostics, draws=ratio.reshape(-1),
    )  # fmt: skip


# --------------------------------------------------------------------------- the pooled effect


@dataclass(frozen=True)
class HierarchicalPooledEffect:
    """The hierarchical (normal-normal) pooled effect across patients, sampled with NUTS (model scale).

    ``mean``, ``median``, ``sd``, ``lower``, ``upper``: the posterior of the platform's mean effect
    ``mu``; ``probability`` is ``P(mu > threshold)`` (``direction="greater"``) or ``P(mu <
    threshold)`` (``"less"``); ``tau_*`` the between-patient SD; ``shrunk`` and ``shrunk_lower``,
    ``shrunk_upper`` each patient's posterior mean effect ``theta_i`` and its credible interval.
    """

    labels: tuple[str, ...]
    effects: np.ndarray
    variances: np.ndarray
    mean: float
    median: float
    sd: float
    lower: float
    upper: float
    level: float
    threshold: float
    direction: Literal["greater", "less"]
    probability: float
    tau_median: float
    tau_lower: float
    tau_upper: float
    shrunk: np.ndarray
    shrunk_lower: np.ndarray
    shrunk_upper: np.ndarray
    mu_prior: str
    tau_prior: str
    diagnostics: SamplerDiagnostics
    method: str = "hierarchical normal-normal model (non-centred), NUTS; the patients' sampling variances taken as known"


def _pooled_model(
    normal: tuple[float, float] | None, tau_prior: PositivePrior
) -> Callable[..., None]:
    """The model of :func:`pool_effects_bayes` for one prior configuration (data as arguments)."""
    _, _, numpyro, dist = _numpyro()

    def model(y: Any, sd: Any) -> None:
        if normal is None:
            mu = numpyro.sample("mu", dist.ImproperUniform(dist.constraints.real, (), ()))
        else:
            mu = numpyro.sample("mu", dist.Normal(*normal))
        tau = numpyro.sample("tau", tau_prior._numpyro(dist))
        with numpyro.plate("patients", y.shape[0]):
            eta = numpyro.sample("eta", dist.Normal(0.0, 1.0))
            theta = numpyro.deterministic("theta", mu + tau * eta)
            numpyro.sample("y", dist.Normal(theta, sd), obs=y)

    return model


def pool_effects_bayes(
    effects: Sequence[float],
    variances: Sequence[float],
    labels: Sequence[str] | None = None,
    *,
    threshold: float = 0.0,
    direction: Literal["greater", "less"] = "greater",
    mu_prior_mean: float = 0.0,
    mu_prior_sd: float | None = None,
    tau_prior: PositivePrior | None = None,
    settings: SamplerSettings | None = None,
    level: float = 0.95,
) -> HierarchicalPooledEffect:
    """Hierarchical pooling of per-patient effects: ``y_i ~ N(theta_i, v_i)``, ``theta_i ~ N(mu, tau^2)``.

    Non-centred: ``theta_i = mu + tau eta_i`` with ``eta_i ~ N(0, 1)`` (no funnel when ``tau`` is
    small). ``mu ~ Normal(mu_prior_mean, mu_prior_sd)`` (flat with ``mu_prior_sd=None``) and
    ``tau ~ tau_prior`` (default half-Cauchy with the median of the patients' standard errors
    ``sqrt(v_i)`` as scale).

    Parameters
    ----------
    effects, variances
        Per-patient effects and their sampling variances (model scale, as :func:`pool_effects`).
    labels
        Patient ids.
    threshold, direction
        ``probability`` is ``P(mu > threshold)`` or ``P(mu < threshold)``.
    mu_prior_mean, mu_prior_sd
        Normal prior of ``mu``; ``None`` SD is flat.
    tau_prior
        Prior of ``tau``.
    settings
        The sampler.
    level
        Coverage of the credible intervals.

    Returns
    -------
    HierarchicalPooledEffect
    """
    y = np.asarray(effects, dtype=float).reshape(-1)
    v = np.asarray(variances, dtype=float).reshape(-1)
    if y.size != v.size:
        raise UsageError(
            f"effects, variances: found {y.size} and {v.size} values, expected as many"
        )
    if y.size < 2:
        raise UsageError(f"effects: found {y.size}, expected at least two patients to pool")
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(v)) and np.all(v > 0)):
        raise UsageError(
            "effects, variances: expected finite effects and positive finite variances"
        )
    if direction not in ("greater", "less"):
        raise UsageError(f"direction: found {direction!r}, expected 'greater' or 'less'")
    if not math.isfinite(threshold) or not math.isfinite(mu_prior_mean):
        raise UsageError(
            f"found threshold={threshold!r}, mu_prior_mean={mu_prior_mean!r}, expected finite numbers"
        )
    if mu_prior_sd is not None and not (math.isfinite(mu_prior_sd) and mu_prior_sd > 0):
        raise UsageError(f"mu_prior_sd: found {mu_prior_sd!r}, expected a positive SD or None")
    if not 0 < level < 1:
        raise UsageError(f"level: found {level!r}, expected a probability between 0 and 1")
    names = tuple(labels) if labels is not None else tuple(str(i + 1) for i in range(y.size))
    if len(names) != y.size:
        raise UsageError(f"labels: found {len(names)}, expected one per effect ({y.size})")
    prior = (tau_prior or PositivePrior("half_cauchy", None)).resolved(float(np.median(np.sqrt(v))))
    settings = settings or SamplerSettings()
    _numpyro()
    normal = None if mu_prior_sd is None else (float(mu_prior_mean), float(mu_prior_sd))
    draws, diagnostics = _run_nuts(
        ("pooled", normal, prior),
        lambda: _pooled_model(normal, prior),
        settings,
        {"y": y, "sd": np.sqrt(v)},
        ("mu", "tau", "eta"),
    )
    mu = draws["mu"].reshape(-1)
    tau = draws["tau"].reshape(-1)
    theta = draws["theta"].reshape(-1, y.size)
    lo, hi = _interval(mu, level)
    t_lo, t_hi = _interval(tau, level)
    s_lo, s_hi = np.quantile(theta, [(1 - level) / 2, (1 + level) / 2], axis=0)
    beyond = mu > threshold if direction == "greater" else mu < threshold
    mu_text = (
        "flat prior on mu"
        if mu_prior_sd is None
        else f"normal prior on mu (mean {format_number(mu_prior_mean)}, SD {format_number(mu_prior_sd)})"
    )
    return HierarchicalPooledEffect(
        labels=names, effects=y, variances=v, mean=float(mu.mean()), median=float(np.median(mu)),
        sd=float(mu.std(ddof=1)), lower=lo, upper=hi, level=level, threshold=float(threshold),
        direction=direction, probability=float(beyond.mean()), tau_median=float(np.median(tau)),
        tau_lower=t_lo, tau_upper=t_hi, shrunk=theta.mean(axis=0), shrunk_lower=np.asarray(s_lo),
        shrunk_upper=np.asarray(s_hi), mu_prior=mu_text, tau_prior=f"{prior.describe()} prior on tau",
        diagnostics=diagnostics,
    )  # fmt: skip
