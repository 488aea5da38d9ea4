"""Criterion 5 for flaring disease and time to event: a calibrated decision on a patient's event record.

One treated patient's events, recorded on a grid of periods (daily, weekly or monthly diaries,
possibly unequal), are judged against their own untreated course by :func:`judge_event_rates`
under an :class:`EventRule`: an overdispersed (negative binomial or robust) post/pre rate ratio,
the exact probability of the longest event-free run on the recording grid, a closed-form
posterior for the Bayesian rule, and regression-to-the-mean checks with a sensitivity analysis
that leaves out the last pre-treatment period. :func:`judge_event_rates_batch` does the same
algebra for many patients on one grid, and :func:`simulate_event_patients` draws untreated or
treated patients from a cohort's gamma-Poisson model, so decision rules can be calibrated.
:func:`judge_time_to_event` judges an event-free time against a Kaplan-Meier curve.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from pmpath.dossier.vocabulary import DAYS_PER_YEAR, Status
from pmpath.errors import AnalysisError, UsageError
from pmpath.formatting import (
    format_interval,
    format_number,
    format_p_value,
    format_percent,
    format_quantity,
)
from pmpath.outcomes.event_rates import EventPeriods, RatePosterior, UntreatedRate

__all__ = [
    "EventBatchJudgement",
    "EventJudgement",
    "EventJudgementPlot",
    "EventRule",
    "EventSensitivity",
    "OverdispersedRateRatio",
    "RatioPrior",
    "SimulatedEventPatients",
    "TimeToEventJudgement",
    "event_free_run_probability",
    "judge_event_rates",
    "judge_event_rates_batch",
    "judge_time_to_event",
    "longest_run_sf",
    "nb_rate_ratio",
    "robust_rate_ratio",
    "sceptical_prior",
    "simulate_event_patients",
    "within_patient_dispersion",
]

_TOLERANCE_DAYS = 1e-9


# --------------------------------------------------------------------------- the rule


@dataclass(frozen=True)
class RatioPrior:
    """Prior of the post/pre rate ratio ``R``: a beta-prime distribution ``BetaPrime(shape_post, shape_pre)``.

    It is the ratio of independent ``Gamma(shape_post, c)`` and ``Gamma(shape_pre, c)`` rates with
    a vague common scale (``c -> 0``), so with the patient's counts the posterior of ``R`` is again a
    (scaled) beta-prime distribution. ``BetaPrime(a, a)`` has median 1 (no effect). The default
    ``(0.5, 0.5)`` is Jeffreys' prior of the post share of events at equal exposures.
    """

    shape_post: float = 0.5
    shape_pre: float = 0.5

    def __post_init__(self) -> None:
        for name in ("shape_post", "shape_pre"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise UsageError(f"RatioPrior.{name}: found {value!r}, expected a positive shape")

    def cdf(self, ratio: float) -> float:
        """Prior probability that the rate ratio is below ``ratio``."""
        return float(stats.betaprime.cdf(ratio, self.shape_post, self.shape_pre))

    def describe(self) -> str:
        return f"beta-prime({format_number(self.shape_post)}, {format_number(self.shape_pre)}) prior on the rate ratio"


def sceptical_prior(plausible_effect: float, tail: float = 0.05) -> RatioPrior:
    """The sceptical prior: centred on no effect (``BetaPrime(s, s)``, median 1) with probability
    ``tail`` that the relative rate reduction exceeds ``plausible_effect`` (Spiegelhalter et al.,
    *Bayesian Approaches to Clinical Trials and Health-Care Evaluation*, 2004, section 5.5).

    Examples
    --------
    >>> prior = sceptical_prior(0.5)
    >>> round(prior.cdf(0.5), 6)
    0.05
    """
    if not 0 < plausible_effect < 1:
        raise UsageError(
            f"plausible_effect: found {plausible_effect!r}, expected a relative rate reduction between 0 and 1"
        )
    if not 0 < tail < 0.5:
        raise UsageError(f"tail: found {tail!r}, expected a probability between 0 and 0.5")
    r = 1 - plausible_effect
    x = r / (1 + r)

    def gap(log_s: float) -> float:
        s = math.exp(log_s)
        return float(special.betainc(s, s, x)) - tail

    log_s = optimize.brentq(gap, math.log(1e-3), math.log(1e7), xtol=1e-12)
    s = math.exp(log_s)
    return RatioPrior(s, s)


@dataclass(frozen=True)
class EventRule:
    """The plan's decision rule for a count (flaring-disease) primary endpoint.

    Parameters
    ----------
    decision
        ``"frequentist"`` (default) or ``"bayesian"``.
    alpha_one_sided
        Level of the one-sided rate-ratio test (frequentist).
    mcid
        Minimal clinically important relative rate reduction (fraction, ``0 <= mcid < 1``): the
        benefit must exceed it, i.e. the rate ratio be below ``1 - mcid``.
    onset_days
        Counted post-dose periods start on or after this day (a slow-acting therapy is not judged
        on the periods before it can work).
    max_gap_probability
        The frequentist rule's whole budget of false success: the probability that an untreated
        patient is judged ``met``. The rate-ratio route spends ``alpha_one_sided`` of it and the
        event-free-run route the rest (without a pre-treatment record, the run route spends all of it).
    posterior_threshold
        Bayesian: the posterior probability of a rate ratio below ``1 - mcid`` must reach it.
    prior
        Bayesian: the prior of the rate ratio.
    plausible_effect
        The relative rate reduction the therapy is expected to have; sets the sceptical prior
        shown beside the Bayesian result and the effect a platform simulation assumes.
    interval
        ``"negative_binomial"`` (default; NB2 variance with the dispersion below) or ``"robust"``
        (sandwich variance over the periods) for the deciding rate-ratio interval. Both are reported.
    dispersion
        NB2 dispersion of the counts per period within a patient, used by the rate-ratio variance
        and the event-free-run probability: ``"cohort"`` (the cohort's
        :attr:`UntreatedRate.period_dispersion`, estimated from its windows by
        :func:`within_patient_dispersion`; when the cohort model does not give one, its
        between-patient :attr:`UntreatedRate.dispersion`, which does not describe events
        clustering within a patient's periods, and the judgement says so), ``"patient"`` (moment
        estimate from the patient's own periods; noisy with few periods) or a number ``>= 0``.
    """

    decision: Literal["frequentist", "bayesian"] = "frequentist"
    alpha_one_sided: float = 0.025
    mcid: float = 0.0
    onset_days: float = 0.0
    max_gap_probability: float = 0.05
    posterior_threshold: float = 0.975
    prior: RatioPrior = field(default_factory=RatioPrior)
    plausible_effect: float = 0.5
    interval: Literal["negative_binomial", "robust"] = "negative_binomial"
    dispersion: float | Literal["cohort", "patient"] = "cohort"

    def __post_init__(self) -> None:
        if self.decision not in ("frequentist", "bayesian"):
            raise UsageError(
                f"EventRule.decision: found {self.decision!r}, expected 'frequentist' or 'bayesian'"
            )
        if not 0 < self.alpha_one_sided < 0.5:
            raise UsageError(
                f"EventRule.alpha_one_sided: found {self.alpha_one_sided!r}, expected a level between 0 and 0.5"
            )
        if not 0 <= self.mcid < 1:
            raise UsageError(
                f"EventRule.mcid: found {self.mcid!r}, expected a relative rate reduction in [0, 1)"
            )
        if not (math.isfinite(self.onset_days) and self.onset_days >= 0):
            raise UsageError(
                f"EventRule.onset_days: found {self.onset_days!r}, expected a number of days >= 0"
            )
        if not self.alpha_one_sided <= self.max_gap_probability < 1:
            raise UsageError(
                f"EventRule.max_gap_probability: found {self.max_gap_probability!r}, expected a probability "
                f"below 1 and at least alpha_one_sided ({self.alpha_one_sided!r}), of which it is the budget's total"
            )
        if not 0.5 < self.posterior_threshold < 1:
            raise UsageError(
                f"EventRule.posterior_threshold: found {self.posterior_threshold!r}, expected a probability between 0.5 and 1"
            )
        if not isinstance(self.prior, RatioPrior):
            raise UsageError(
                f"EventRule.prior: found {type(self.prior).__name__}, expected a RatioPrior"
            )
        if not 0 < self.plausible_effect < 1:
            raise UsageError(
                f"EventRule.plausible_effect: found {self.plausible_effect!r}, expected a relative rate reduction between 0 and 1"
            )
        if self.interval not in ("negative_binomial", "robust"):
            raise UsageError(
                f"EventRule.interval: found {self.interval!r}, expected 'negative_binomial' or 'robust'"
            )
        d = self.dispersion
        if isinstance(d, str):
            if d not in ("cohort", "patient"):
                raise UsageError(
                    f"EventRule.dispersion: found {d!r}, expected 'cohort', 'patient' or a number >= 0"
                )
        elif not (isinstance(d, int | float) and math.isfinite(d) and d >= 0):
            raise UsageError(
                f"EventRule.dispersion: found {d!r}, expected 'cohort', 'patient' or a number >= 0"
            )

    @property
    def run_level(self) -> float:
        """Threshold of the event-free-run route when a rate ratio is also tested."""
        return self.max_gap_probability - self.alpha_one_sided


# --------------------------------------------------------------------------- the longest event-free run


def _blocks(start: np.ndarray, end: np.ndarray) -> list[np.ndarray]:
    """Indices of the periods split into contiguous blocks (a run cannot cross uncovered time)."""
    if start.size == 0:
        return []
    breaks = np.flatnonzero(start[1:] > end[:-1] + _TOLERANCE_DAYS) + 1
    return np.split(np.arange(start.size), breaks)


def longest_run_sf(
    start_day: np.ndarray,
    end_day: np.ndarray,
    rate_per_day: float | np.ndarray,
    run_days: float,
    period_dispersion: float = 0.0,
) -> np.ndarray:
    """P(the longest run of consecutive event-free periods covers at least ``run_days``), Poisson events.

    Periods ``[start, end)`` (sorted, not overlapping) record event counts; a run is a stretch of
    contiguous periods with no event, and time covered by no period ends a run. For a Poisson
    process with rate ``rate_per_day`` each period is event-free with probability
    ``q_j = exp(-rate * length)``, independently; with ``period_dispersion`` ``a > 0`` the counts
    of a period are negative binomial (NB2, events clustering within periods) and ``q_j = (1 + a
    rate length)^(-1/a)``. Within a contiguous block, the probability of no run of ``run_days`` or
    more is a dynamic programme over the last period with events: ``f_j = (1 - q_j) sum_i f_i
    prod_{i<k<j} q_k`` over earlier breaks ``i`` whose following zero run is shorter than
    ``run_days``, ``O(n^2)`` per rate; blocks multiply.

    Parameters
    ----------
    start_day, end_day
        The periods in days, sorted and disjoint, each of positive length.
    rate_per_day
        Event rate(s) per day.
    run_days
        The run length asked about, in days covered (e.g. the longest run observed).
    period_dispersion
        NB2 dispersion of a period's count given the rate (0: Poisson).

    Returns
    -------
    numpy.ndarray
        One probability per rate.

    Examples
    --------
    >>> edges = np.arange(4) * 30.0  # three monthly periods
    >>> q = np.exp(-0.01 * 30)  # P(a month without events) at 0.01 per day
    >>> p = longest_run_sf(edges[:-1], edges[1:], 0.01, 60.0)[0]
    >>> bool(np.isclose(p, 2 * q**2 - q**3))  # months 1-2 or 2-3 empty
    True
    """
    start = np.asarray(start_day, dtype=float).reshape(-1)
    end = np.asarray(end_day, dtype=float).reshape(-1)
    rates = np.atleast_1d(np.asarray(rate_per_day, dtype=float))
    if np.any(rates < 0):
        raise UsageError("rate_per_day: found negative rates, expected rates >= 0")
    if not (math.isfinite(period_dispersion) and period_dispersion >= 0):
        raise UsageError(
            f"period_dispersion: found {period_dispersion!r}, expected a dispersion >= 0"
        )
    if start.size != end.size or np.any(end <= start):
        raise UsageError("start_day, end_day: expected one end after each start")
    if np.any(start[1:] < end[:-1] - _TOLERANCE_DAYS):
        raise UsageError(
            "start_day, end_day: found overlapping or unsorted periods, expected sorted periods"
        )
    if run_days <= 0:
        return np.ones_like(rates)
    p_no_run = np.ones_like(rates)
    for block in _blocks(start, end):
        lengths = end[block] - start[block]
        cum = np.concatenate([[0.0], np.cumsum(lengths)])  # D_0 = 0, D_j = end of period j
        m = lengths.size
        if cum[-1] < run_days - _TOLERANCE_DAYS:
            continue
        mean = rates[:, None] * lengths[None, :]
        log_q = (
            -np.log1p(period_dispersion * mean) / period_dispersion
            if period_dispersion > 0
            else -mean
        )
        # cum_log_q[:, k] = log prod_{period < k} q: products over zero runs are differences
        cum_log_q = np.concatenate([np.zeros((rates.size, 1)), np.cumsum(log_q, axis=1)], axis=1)
        f = np.zeros((rates.size, m + 1))
        f[:, 0] = 1.0  # a virtual break before the block
        for j in range(1, m + 1):
            # breaks i < j whose zero run i+1..j-1 (days cum[j-1] - cum[i]) is shorter than run_days
            i = np.arange(j)
            i = i[cum[j - 1] - cum[i] < run_days - _TOLERANCE_DAYS]
            stay = np.exp(cum_log_q[:, [j - 1]] - cum_log_q[:, i])
            f[:, j] = -np.expm1(log_q[:, j - 1]) * np.sum(f[:, i] * stay, axis=1)
        i = np.arange(m + 1)
        i = i[cum[m] - cum[i] < run_days - _TOLERANCE_DAYS]
        tail = np.exp(cum_log_q[:, [m]] - cum_log_q[:, i])
        p_no_run *= np.sum(f[:, i] * tail, axis=1)
    return np.clip(1 - p_no_run, 0.0, 1.0)


def event_free_run_probability(
    start_day: np.ndarray,
    end_day: np.ndarray,
    posterior: RatePosterior,
    run_days: float,
    period_dispersion: float = 0.0,
) -> float:
    """:func:`longest_run_sf` integrated over a patient's untreated rate (per year) ``posterior``.

    The posterior is a gamma (or point-mass) distribution, integrated with its quadrature
    :meth:`RatePosterior.nodes`; the result is the predictive probability, for this patient
    untreated, of a run at least ``run_days`` long on the grid.
    """
    if run_days <= 0:
        return 1.0
    rates, weights = posterior.nodes()
    return float(
        np.clip(
            np.sum(
                weights
                * longest_run_sf(
                    start_day, end_day, rates / DAYS_PER_YEAR, run_days, period_dispersion
                )
            ),
            0,
            1,
        )
    )


def _observed_runs(
    start: np.ndarray, end: np.ndarray, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Longest run (days), its start and end for each row of ``counts`` (n, periods) on one grid."""
    n = counts.shape[0]
    best = np.zeros(n)
    best_start = np.full(n, np.nan)
    best_end = np.full(n, np.nan)
    run = np.zeros(n)
    run_start = np.full(n, np.nan)
    prev_end = -np.inf
    for j in range(start.size):
        if start[j] > prev_end + _TOLERANCE_DAYS:
            run[:] = 0.0
        zero = counts[:, j] == 0
        run_start = np.where(zero & (run == 0), start[j], run_start)
        run = np.where(zero, run + (end[j] - start[j]), 0.0)
        longer = run > best + _TOLERANCE_DAYS
        best = np.where(longer, run, best)
        best_start = np.where(longer, run_start, best_start)
        best_end = np.where(longer, end[j], best_end)
        prev_end = end[j]
    return best, best_start, best_end


# --------------------------------------------------------------------------- the rate ratio


@dataclass(frozen=True)
class OverdispersedRateRatio:
    """Post/pre rate ratio with a Wald interval on the log scale from an overdispersed variance.

    ``upper`` is also the one-sided ``1 - (1 - confidence) / 2`` upper bound; ``p_one_sided`` tests
    ``H0: ratio >= null_ratio``.
    """

    estimate: float
    log_se: float
    lower: float
    upper: float
    p_one_sided: float
    confidence: float
    null_ratio: float
    method: str
    dispersion: float


def _as_2d(counts: np.ndarray, exposure: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.atleast_2d(np.asarray(counts, dtype=float))
    t = np.asarray(exposure, dtype=float).reshape(-1)
    if y.shape[1] != t.size:
        raise UsageError(
            f"counts: found {y.shape[1]} periods per patient, expected {t.size} (one per exposure)"
        )
    if np.any(t <= 0):
        raise UsageError(
            "exposure: found a period of length 0 or less, expected positive exposures"
        )
    return y, t


def _nb_log_rate(y: np.ndarray, t: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """NB2 maximum-likelihood log rate of one group of periods and its expected information.

    ``y`` (n, m), ``t`` (m,), ``alpha`` (n,). A group without events gets 0.5 events spread over
    its exposure (Haldane's correction) so that its log rate is finite.
    """
    total = y.sum(axis=1)
    y = np.where((total == 0)[:, None], 0.5 * t[None, :] / t.sum(), y)
    log_r = np.log(y.sum(axis=1) / t.sum())
    a = alpha[:, None]
    for _ in range(50):
        mu = np.exp(log_r)[:, None] * t[None, :]
        score = np.sum((y - mu) / (1 + a * mu), axis=1)
        info = np.sum(mu / (1 + a * mu), axis=1)
        step = score / info
        log_r = log_r + step
        if np.all(np.abs(step) < 1e-12):
            break
    mu = np.exp(log_r)[:, None] * t[None, :]
    return log_r, np.sum(mu / (1 + a * mu), axis=1)


def _wald(
    log_rr: np.ndarray, se: np.ndarray, alpha_one_sided: float, null_ratio: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    z = stats.norm.ppf(1 - alpha_one_sided)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = stats.norm.cdf((log_rr - math.log(null_ratio)) / se)
    return np.exp(log_rr - z * se), np.exp(log_rr + z * se), p


def _nb_arrays(
    pre: np.ndarray, t_pre: np.ndarray, post: np.ndarray, t_post: np.ndarray, alpha: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    lp, ip = _nb_log_rate(pre, t_pre, alpha)
    lq, iq = _nb_log_rate(post, t_post, alpha)
    return lq - lp, np.sqrt(1 / ip + 1 / iq)


def _robust_arrays(
    pre: np.ndarray, t_pre: np.ndarray, post: np.ndarray, t_post: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Poisson log rate ratio with the HC0 sandwich variance over periods (0.5-event correction as above)."""

    def group(y: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        total = y.sum(axis=1)
        y = np.where((total == 0)[:, None], 0.5 * t[None, :] / t.sum(), y)
        r = y.sum(axis=1) / t.sum()
        resid = y - r[:, None] * t[None, :]
        return np.log(r), np.sum(resid**2, axis=1) / (r * t.sum()) ** 2

    lp, vp = group(pre, t_pre)
    lq, vq = group(post, t_post)
    return lq - lp, np.sqrt(vp + vq)


def nb_rate_ratio(
    pre_counts: np.ndarray,
    pre_years: np.ndarray,
    post_counts: np.ndarray,
    post_years: np.ndarray,
    dispersion: float,
    *,
    alpha_one_sided: float = 0.025,
    null_ratio: float = 1.0,
) -> OverdispersedRateRatio:
    """Post/pre rate ratio from a negative binomial (NB2, fixed ``dispersion``) model of the periods.

    The model is the GLM ``log E[y_j] = b0 + b1 post_j + log t_j`` with ``Var y_j = mu_j + dispersion
    mu_j^2``; ``exp(b1)`` is the ratio and its standard error comes from the expected information
    (as statsmodels' ``GLM(family=NegativeBinomial(alpha=dispersion), offset=log t)``). The
    interval has two-sided confidence ``1 - 2 alpha_one_sided``.
    """
    pre, tp = _as_2d(pre_counts, pre_years)
    post, tq = _as_2d(post_counts, post_years)
    if not (math.isfinite(dispersion) and dispersion >= 0):
        raise UsageError(f"dispersion: found {dispersion!r}, expected a number >= 0")
    log_rr, se = _nb_arrays(pre, tp, post, tq, np.full(pre.shape[0], float(dispersion)))
    lo, hi, p = _wald(log_rr, se, alpha_one_sided, null_ratio)
    return OverdispersedRateRatio(
        float(np.exp(log_rr[0])), float(se[0]), float(lo[0]), float(hi[0]), float(p[0]),
        1 - 2 * alpha_one_sided, null_ratio, "negative_binomial", float(dispersion),
    )  # fmt: skip


def robust_rate_ratio(
    pre_counts: np.ndarray,
    pre_years: np.ndarray,
    post_counts: np.ndarray,
    post_years: np.ndarray,
    *,
    alpha_one_sided: float = 0.025,
    null_ratio: float = 1.0,
) -> OverdispersedRateRatio:
    """Post/pre rate ratio of a Poisson model with the sandwich (HC0) variance over periods.

    As statsmodels' ``GLM(family=Poisson(), offset=log t).fit(cov_type="HC0")``; valid whatever
    the clustering of events in periods, but with few periods the variance is itself noisy.
    """
    pre, tp = _as_2d(pre_counts, pre_years)
    post, tq = _as_2d(post_counts, post_years)
    log_rr, se = _robust_arrays(pre, tp, post, tq)
    lo, hi, p = _wald(log_rr, se, alpha_one_sided, null_ratio)
    return OverdispersedRateRatio(
        float(np.exp(log_rr[0])), float(se[0]), float(lo[0]), float(hi[0]), float(p[0]),
        1 - 2 * alpha_one_sided, null_ratio, "robust", math.nan,
    )  # fmt: skip


def _cohort_period_dispersion(untreated: UntreatedRate) -> float:
    if untreated.period_dispersion is not None:
        return float(untreated.period_dispersion)
    return float(untreated.dispersion)


def _patient_dispersion(
    pre: np.ndarray, tp: np.ndarray, post: np.ndarray, tq: np.ndarray
) -> np.ndarray:
    """Moment estimate of the NB2 dispersion from the patient's periods around the two group rates."""
    num = np.zeros(pre.shape[0])
    den = np.zeros(pre.shape[0])
    for y, t in ((pre, tp), (post, tq)):
        if t.size == 0:
            continue
        mu = (y.sum(axis=1) / t.sum())[:, None] * t[None, :]
        num += np.sum((y - mu) ** 2 - y, axis=1)
        den += np.sum(mu**2, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, np.clip(num / den, 0, None), 0.0)


def within_patient_dispersion(windows: pd.DataFrame) -> float:
    """NB2 dispersion of a cohort's counts per window around each subject's own rate.

    :attr:`UntreatedRate.dispersion` (from :func:`pmpath.natural_history.fit_event_rate`) is the
    spread of subjects' total counts; this is the clustering of events within a subject's record,
    what the rate-ratio variance and the event-free-run probability of one patient need. Moment
    estimator: with ``mu_ij = t_ij Y_i / T_i`` (subject ``i``'s rate times window ``j``'s length),
    under per-window NB2 counts ``E[(y_ij - mu_ij)^2] = m_ij (1 - s_ij) + a [m_ij^2 (1 - 2 s_ij) +
    s_ij^2 sum_k m_ik^2]`` (``m`` the true mean, ``s_ij = t_ij / T_i``); the estimate solves the
    summed equation for ``a`` (at least 0), with ``m_ij^2`` estimated by ``s_ij^2 Y_i (Y_i - 1)``.

    Parameters
    ----------
    windows
        Columns ``subject``, ``age_start``, ``age_end`` (years) and ``count``, as the cohort's
        events table of one endpoint.

    Returns
    -------
    float
        The dispersion ``a >= 0``, to pass as ``EventRule(dispersion=a)``.
    """
    missing = {"subject", "age_start", "age_end", "count"} - set(windows.columns)
    if missing:
        raise UsageError(
            f"windows: found columns {sorted(windows.columns)}, expected also {sorted(missing)}"
        )
    t = (windows["age_end"] - windows["age_start"]).to_numpy(dtype=float)
    y = windows["count"].to_numpy(dtype=float)
    if not (np.all(np.isfinite(t)) and np.all(t > 0) and np.all(np.isfinite(y)) and np.all(y >= 0)):
        raise UsageError("windows: expected windows of positive length and counts >= 0")
    subject = windows["subject"].to_numpy()
    _, idx = np.unique(subject, return_inverse=True)
    total_y = np.bincount(idx, weights=y)
    total_t = np.bincount(idx, weights=t)
    share = t / total_t[idx]
    mu = total_y[idx] * share  # fitted mean of the window
    # E[(y - mu)^2] = m (1 - s) + a [m^2 (1 - 2 s) + s^2 sum_k m_k^2] (m the true mean, s = t / T);
    # m_j^2 is estimated by s_j^2 Y (Y - 1), unbiased under Poisson counts
    m2 = share**2 * (total_y * (total_y - 1))[idx]
    sum_m2 = np.bincount(idx, weights=m2)[idx]
    numerator = np.sum((y - mu) ** 2 - mu * (1 - share))
    denominator = np.sum(m2 * (1 - 2 * share) + share**2 * sum_m2)
    if denominator <= 0:
        raise AnalysisError(
            "windows: too few windows per subject to estimate a within-subject dispersion"
        )
    return float(max(numerator / denominator, 0.0))


# --------------------------------------------------------------------------- batch algebra


@dataclass(frozen=True)
class EventBatchJudgement:
    """The rule applied to ``n`` patients on one grid: one entry per patient in each array.

    ``decision`` holds :class:`Status` values as strings. ``rate_route`` and ``run_route`` say which
    frequentist route passed; ``sensitivity_*`` repeat the analysis without the last pre-treatment
    period (NaN or ``""`` without at least two pre-treatment periods).
    """

    decision: np.ndarray
    rate_ratio: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    p_one_sided: np.ndarray
    robust_ci_low: np.ndarray
    robust_ci_high: np.ndarray
    robust_p_one_sided: np.ndarray
    log_se: np.ndarray
    dispersion: np.ndarray
    early_ratio: np.ndarray
    late_ratio: np.ndarray
    consistent: np.ndarray
    run_days: np.ndarray
    run_start: np.ndarray
    run_end: np.ndarray
    run_probability: np.ndarray
    posterior_probability: np.ndarray
    sceptical_posterior_probability: np.ndarray
    rate_route: np.ndarray
    run_route: np.ndarray
    rtm_total: np.ndarray
    rtm_last_worst: np.ndarray
    rtm_last_beyond_cohort: np.ndarray
    sensitivity_decision: np.ndarray
    sensitivity_rate_ratio: np.ndarray
    sensitivity_p_one_sided: np.ndarray
    sensitivity_posterior_probability: np.ndarray
    sensitivity_run_probability: np.ndarray
    pre_events: np.ndarray
    post_events: np.ndarray
    pre_years: float
    post_years: float
    n_counted: int
    n_pre: int

    @property
    def met(self) -> np.ndarray:
        return self.decision == Status.met.value


def _grid(
    start_day: np.ndarray, end_day: np.ndarray, counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    start = np.asarray(start_day, dtype=float).reshape(-1)
    end = np.asarray(end_day, dtype=float).reshape(-1)
    y = np.atleast_2d(np.asarray(counts, dtype=float))
    if not (start.size == end.size == y.shape[1]):
        raise UsageError(
            f"found {start.size} starts, {end.size} ends and {y.shape[1]} counts per patient, expected one of each per period"
        )
    if not (np.all(np.isfinite(start)) and np.all(np.isfinite(end))):
        raise UsageError("start_day, end_day: found non-finite days, expected finite numbers")
    if np.any(end <= start):
        i = int(np.flatnonzero(end <= start)[0])
        raise UsageError(
            f"period {i}: found [{start[i]:g}, {end[i]:g}), expected a period of positive length "
            "(record exactly timed events on a daily grid)"
        )
    if np.any(np.diff(start) < 0) or np.any(start[1:] < end[:-1] - _TOLERANCE_DAYS):
        raise UsageError(
            "start_day, end_day: found unsorted or overlapping periods, expected sorted, disjoint periods"
        )
    if np.any(~np.isfinite(y)) or np.any(y < 0) or np.any(y != np.round(y)):
        raise UsageError(
            "counts: found values that are not whole numbers >= 0, expected event counts"
        )
    return start, end, y


def _run_probabilities(
    untreated: UntreatedRate,
    pre_events: np.ndarray,
    pre_years: float,
    phi_pre: np.ndarray,
    alpha: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    run_days: np.ndarray,
) -> np.ndarray:
    """Exact run probabilities, once per distinct (pre-treatment count, dispersion, observed run).

    The patient's untreated rate is the cohort's gamma prior updated by the pre-treatment record,
    its counts and exposure divided by their overdispersion factor ``phi_pre`` (quasi-likelihood;
    ``phi = 1`` without period dispersion, where the update is the exact conjugate one).
    Dispersions are rounded to 4 decimals, so patient-estimated ones share computations.
    """
    out = np.ones(pre_events.size)
    if start.size == 0:
        return np.full(pre_events.size, np.nan)
    a = np.round(alpha, 4)
    keys = np.round(run_days, 9)
    combos = np.unique(np.column_stack([pre_events, a]), axis=0)
    for y, disp in combos:
        rows = (pre_events == y) & (a == disp)
        phi = float(phi_pre[rows][0])
        posterior = untreated.posterior(y / phi, pre_years / phi)
        rates, weights = posterior.nodes()
        runs = np.unique(keys[rows])
        for r in runs[runs > 0]:
            sf = longest_run_sf(start, end, rates / DAYS_PER_YEAR, float(r), float(disp))
            out[rows & (keys == r)] = min(max(float(np.sum(weights * sf)), 0.0), 1.0)
    return out


def _posterior_ratio_cdf(
    prior: RatioPrior,
    post_events: np.ndarray,
    post_years: float,
    phi_post: np.ndarray,
    pre_events: np.ndarray,
    pre_years: float,
    phi_pre: np.ndarray,
    ratio: float,
) -> np.ndarray:
    """P(R < ratio | data): ``R`` is ``(T_pre'/T_post') G1/G2`` with ``G1/(G1+G2) ~ Beta(a + Y_post', b + Y_pre')``;
    ``'`` marks counts and exposures divided by their overdispersion factor (quasi-likelihood)."""
    k = ratio * (post_years / phi_post) / (pre_years / phi_pre)
    return special.betainc(
        prior.shape_post + post_events / phi_post,
        prior.shape_pre + pre_events / phi_pre,
        k / (1 + k),
    )


def _analyse(
    start: np.ndarray,
    end: np.ndarray,
    y: np.ndarray,
    untreated: UntreatedRate,
    rule: EventRule,
    pre: np.ndarray,
    counted: np.ndarray,
    sceptic: RatioPrior,
) -> dict[str, np.ndarray]:
    """The rule's numbers for every row of ``y`` with pre-treatment periods ``pre`` (a mask)."""
    n = y.shape[0]
    t = (end - start) / DAYS_PER_YEAR
    tp, tq = t[pre], t[counted]
    yp, yq = y[:, pre], y[:, counted]
    pre_years, post_years = float(tp.sum()), float(tq.sum())
    pre_events, post_events = yp.sum(axis=1), yq.sum(axis=1)
    nan = np.full(n, np.nan)
    out: dict[str, np.ndarray] = {}
    has_pre = tp.size > 0
    if isinstance(rule.dispersion, str):
        alpha = (
            np.full(n, _cohort_period_dispersion(untreated))
            if rule.dispersion == "cohort"
            else _patient_dispersion(yp, tp, yq, tq)
        )
    else:
        alpha = np.full(n, float(rule.dispersion))
    null = 1 - rule.mcid
    if has_pre and tq.size:
        log_rr, se = _nb_arrays(yp, tp, yq, tq, alpha)
        lo, hi, p = _wald(log_rr, se, rule.alpha_one_sided, null)
        rlog, rse = _robust_arrays(yp, tp, yq, tq)
        rlo, rhi, rp = _wald(rlog, rse, rule.alpha_one_sided, null)
        with np.errstate(divide="ignore", invalid="ignore"):
            pre_rate = pre_events / pre_years
            half = tq.size // 2
            early = (yq[:, :half].sum(axis=1) / tq[:half].sum()) / pre_rate if half else nan
            late = (yq[:, half:].sum(axis=1) / tq[half:].sum()) / pre_rate
            ratio = (post_events / post_years) / pre_rate
        consistent = (early < 1) & (late < 1)
        mu_p = (np.maximum(pre_events, 0.5) / pre_years)[:, None] * tp[None, :]
        mu_q = (np.maximum(post_events, 0.5) / post_years)[:, None] * tq[None, :]
        phi_p = 1 + alpha * np.sum(mu_p**2, axis=1) / np.sum(mu_p, axis=1)
        phi_q = 1 + alpha * np.sum(mu_q**2, axis=1) / np.sum(mu_q, axis=1)
        post_prob = _posterior_ratio_cdf(
            rule.prior, post_events, post_years, phi_q, pre_events, pre_years, phi_p, null
        )
        sceptical = _posterior_ratio_cdf(
            sceptic, post_events, post_years, phi_q, pre_events, pre_years, phi_p, null
        )
    else:
        log_rr = se = lo = hi = p = rlo = rhi = rp = early = late = ratio = nan
        consistent = np.zeros(n, dtype=bool)
        post_prob = sceptical = nan
        phi_p = np.ones(n)
    runs, run_start, run_end = _observed_runs(start[counted], end[counted], yq)
    run_p = _run_probabilities(
        untreated, pre_events, pre_years, phi_p, alpha, start[counted], end[counted], runs
    )
    deciding_p = p if rule.interval == "negative_binomial" else rp
    if has_pre:
        rate_route = (deciding_p < rule.alpha_one_sided) & consistent
        run_route = (run_p <= rule.run_level) if rule.run_level > 0 else np.zeros(n, dtype=bool)
    else:
        rate_route = np.zeros(n, dtype=bool)
        run_route = run_p <= rule.max_gap_probability
    if rule.decision == "frequentist":
        met = rate_route | run_route
    else:
        met = (
            (post_prob >= rule.posterior_threshold) & consistent
            if has_pre
            else np.zeros(n, dtype=bool)
        )
    decision = np.where(met, Status.met.value, Status.not_met.value).astype(object)
    if tq.size < 2 or (rule.decision == "bayesian" and not has_pre):
        decision[:] = Status.insufficient.value
    out.update(
        decision=decision, rate_ratio=np.asarray(ratio, dtype=float) + np.zeros(n),
        ci_low=lo + np.zeros(n), ci_high=hi + np.zeros(n), p_one_sided=p + np.zeros(n),
        robust_ci_low=rlo + np.zeros(n), robust_ci_high=rhi + np.zeros(n), robust_p_one_sided=rp + np.zeros(n),
        log_se=se + np.zeros(n), dispersion=alpha, early_ratio=early + np.zeros(n), late_ratio=late + np.zeros(n),
        consistent=np.asarray(consistent, dtype=bool), run_days=runs, run_start=run_start, run_end=run_end,
        run_probability=run_p, posterior_probability=post_prob + np.zeros(n),
        sceptical_posterior_probability=sceptical + np.zeros(n), rate_route=np.asarray(rate_route, dtype=bool),
        run_route=np.asarray(run_route, dtype=bool), pre_events=pre_events.astype(int),
        post_events=post_events.astype(int),
    )  # fmt: skip
    out["_pre_years"] = np.array(pre_years)
    out["_post_years"] = np.array(post_years)
    return out


def judge_event_rates_batch(
    start_day: np.ndarray,
    end_day: np.ndarray,
    counts: np.ndarray,
    untreated: UntreatedRate,
    rule: EventRule | None = None,
) -> EventBatchJudgement:
    """Apply ``rule`` to ``n`` patients recorded on one grid of periods (day 0 the first dose).

    Parameters
    ----------
    start_day, end_day
        The periods ``[start, end)`` in days from the first dose, sorted and disjoint, of positive length.
    counts
        Events per patient and period, shape ``(n, periods)``.
    untreated
        The cohort's untreated rate and dispersion.
    rule
        The decision rule (default :class:`EventRule()`).

    Returns
    -------
    EventBatchJudgement
        See :func:`judge_event_rates` for the rule; this is the same algebra, batched.
    """
    rule = rule or EventRule()
    start, end, y = _grid(start_day, end_day, counts)
    pre = end <= _TOLERANCE_DAYS
    counted = start >= rule.onset_days - _TOLERANCE_DAYS
    sceptic = sceptical_prior(rule.plausible_effect)
    main = _analyse(start, end, y, untreated, rule, pre, counted, sceptic)
    n = y.shape[0]
    pre_idx = np.flatnonzero(pre)
    t = (end - start) / DAYS_PER_YEAR
    prior = untreated.posterior()
    if pre_idx.size:
        pre_years = float(t[pre].sum())
        rtm_total = _predictive_sf(prior, main["pre_events"], pre_years) < rule.alpha_one_sided
        last = pre_idx[-1]
        y_last = y[:, last]
        rates = y[:, pre] / t[pre][None, :]
        others = rates[:, :-1]
        rtm_last_worst = (
            (y_last > 0) & (rates[:, -1] >= others.max(axis=1))
            if others.shape[1] >= 1
            else np.zeros(n, dtype=bool)
        )
        rtm_beyond = (
            _predictive_sf(prior, y_last.astype(int), float(t[last])) < rule.alpha_one_sided
        )
    else:
        rtm_total = rtm_last_worst = rtm_beyond = np.zeros(n, dtype=bool)
    if pre_idx.size >= 2:
        pre_wo = pre.copy()
        pre_wo[pre_idx[-1]] = False
        sens = _analyse(start, end, y, untreated, rule, pre_wo, counted, sceptic)
        sens_decision = sens["decision"]
        sens_rr, sens_p = sens["rate_ratio"], sens["p_one_sided"]
        sens_post, sens_run = sens["posterior_probability"], sens["run_probability"]
    else:
        sens_decision = np.full(n, "", dtype=object)
        sens_rr = sens_p = sens_post = sens_run = np.full(n, np.nan)
    pre_years = float(main.pop("_pre_years"))
    post_years = float(main.pop("_post_years"))
    return EventBatchJudgement(
        **main,
        rtm_total=np.asarray(rtm_total, dtype=bool),
        rtm_last_worst=np.asarray(rtm_last_worst, dtype=bool),
        rtm_last_beyond_cohort=np.asarray(rtm_beyond, dtype=bool),
        sensitivity_decision=sens_decision,
        sensitivity_rate_ratio=sens_rr,
        sensitivity_p_one_sided=sens_p,
        sensitivity_posterior_probability=sens_post,
        sensitivity_run_probability=sens_run,
        pre_years=pre_years,
        post_years=post_years,
        n_counted=int(counted.sum()),
        n_pre=int(pre.sum()),
    )


def _predictive_sf(prior: RatePosterior, counts: np.ndarray, years: float) -> np.ndarray:
    """P(at least ``counts`` events in ``years``) under the cohort's prior predictive, vectorised."""
    k = np.asarray(counts, dtype=float)
    if prior.is_point_mass:
        return np.where(k <= 0, 1.0, stats.poisson.sf(k - 1, prior.mean * years))
    return np.where(
        k <= 0, 1.0, stats.nbinom.sf(k - 1, prior.shape, prior.rate / (prior.rate + years))
    )


# --------------------------------------------------------------------------- one patient


@dataclass(frozen=True)
class EventSensitivity:
    """The analysis repeated without the last pre-treatment period (regression to the mean)."""

    decision: Status
    rate_ratio: float
    p_one_sided: float
    posterior_probability: float
    run_probability: float


@dataclass(frozen=True)
class EventJudgementPlot:
    """What a report plots: the periods, the counted window, the longest event-free run and the rates (per year)."""

    period_start: np.ndarray
    period_end: np.ndarray
    period_count: np.ndarray
    counted_from_day: float
    run_start: float
    run_end: float
    cohort_rate_per_year: float
    untreated_rate_per_year: float
    untreated_rate_interval: tuple[float, float]
    pre_rate_per_year: float
    post_rate_per_year: float


@dataclass(frozen=True)
class EventJudgement:
    """Criterion 5 on a count endpoint for one patient: the decision and every number behind it.

    ``effect`` is the relative rate reduction ``1 - rate_ratio`` (``unit`` fraction), ``ci_low`` and
    ``ci_high`` its interval (from the deciding rate-ratio interval). ``ratio_to_untreated`` is the
    post-dose rate over the patient's predicted untreated rate (the posterior mean; descriptive).
    ``run_probability`` is the exact
    probability that an untreated patient's longest event-free run on the same grid is at least as long.
    """

    decision: Status
    reason: str
    estimand: str
    decision_rule: str
    rule: EventRule
    pre_events: int
    pre_years: float
    post_events: int
    post_years: float
    n_counted_periods: int
    rate_ratio: OverdispersedRateRatio | None
    robust_rate_ratio: OverdispersedRateRatio | None
    ratio_to_untreated: float
    effect: float
    ci_low: float
    ci_high: float
    unit: str
    p_one_sided: float
    early_ratio: float
    late_ratio: float
    consistent: bool
    run_days: float
    run_probability: float
    posterior_probability: float
    sceptical_posterior_probability: float
    sceptical: RatioPrior
    rate_route: bool
    run_route: bool
    regression_to_mean: bool
    rtm_flags: tuple[str, ...]
    sensitivity: EventSensitivity | None
    posterior: RatePosterior
    plot: EventJudgementPlot
    flags: tuple[str, ...] = ()


def _periods_for_grid(
    periods: EventPeriods,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """Positive-length periods; a zero-count period spanning day 0 is split there."""
    flags: list[str] = []
    start, end, count = [], [], []
    for s, e, c in zip(periods.start_day, periods.end_day, periods.count, strict=True):
        s, e, c = float(s), float(e), int(c)
        if e <= s:
            if c:
                raise UsageError(
                    f"EventPeriods: found {c} event(s) timed exactly at day {s:g}, expected periods of positive "
                    "length on a recording grid (record exact events on a daily grid)"
                )
            continue
        if s < 0 < e:
            if c:
                flags.append(
                    f"{c} event(s) in the period from day {format_number(s)} to day {format_number(e)} spanning the "
                    "first dose could not be attributed to before or after it; the period is not counted"
                )
                continue
            start += [s, 0.0]
            end += [0.0, e]
            count += [0, 0]
            continue
        start.append(s)
        end.append(e)
        count.append(c)
    return np.array(start), np.array(end), np.array(count), flags


def judge_event_rates(
    periods: EventPeriods, untreated: UntreatedRate, rule: EventRule | None = None
) -> EventJudgement:
    """Judge whether a patient's events became rarer after treatment than they would be untreated.

    The estimand: the ratio of the patient's event rate over the counted post-dose periods (those
    starting on or after ``rule.onset_days``) to their rate over the pre-treatment periods, while on
    treatment. Periods between day 0 and ``onset_days``, or straddling either, are not counted.

    The rule (frequentist, the default) has two routes; ``met`` when either passes:

    * **rate-ratio route**: the one-sided test of ``ratio >= 1 - mcid`` rejects at
      ``alpha_one_sided`` (the upper ``1 - alpha`` bound of the ratio is below ``1 - mcid``),
      from an overdispersed Wald interval on the log ratio (negative binomial per period with the
      rule's ``dispersion``, by default the cohort's within-patient one, or robust), **and** the
      rates over the earlier and the later half of the counted periods are both below the
      pre-treatment rate (consistency);
    * **event-free-run route** ("long periods without symptoms"): the exact probability, for this
      patient untreated, of a run of event-free periods on the same grid at least as long as the
      longest observed is at most ``max_gap_probability - alpha_one_sided``. The untreated rate is
      the gamma-Poisson posterior from the cohort and the patient's pre-treatment events; a
      period is event-free with its negative binomial probability under the same dispersion.

    Calibration (``calibration_events.md``, ``tests/test_calibration_events.py``): on the ssaso-cln
    seizure cohort, six monthly pre-treatment periods (the last the worst) and nine post-dose, an
    untreated patient is judged met 2-3% of the time and an 85% fall in seizure rate 96-99.9%,
    provided the cohort model carries its within-patient dispersion when events cluster within
    periods (:func:`within_patient_dispersion`); the between-patient dispersion in its place lets
    clustered events through (16% false success).

    Why: each route alone is a valid test of no effect, so the union's false-success rate is at
    most the sum of their levels, ``max_gap_probability`` (0.05); the union keeps the rate-ratio
    test's power (an 85% fall in a seizure rate of about five a month is found almost always) and
    adds the run route, which finds benefit in patients whose events are too rare for a precise
    ratio. Requiring both (the rule of dossier schema version 2, with a rate-ratio cut-off)
    protects against false success by blocking real success. Without a pre-treatment record there
    is no ratio; the run route then spends the whole ``max_gap_probability`` against the cohort's
    rate. ``insufficient`` with fewer than two counted periods.

    Bayesian (``decision="bayesian"``): ``met`` when the posterior probability of a ratio below
    ``1 - mcid`` is at least ``posterior_threshold`` and the halves are consistent. With the rule's
    beta-prime prior of the ratio the posterior is a scaled beta-prime distribution (closed form);
    counts and exposures are divided by their NB2 overdispersion factor (quasi-likelihood). The
    sceptical prior (median 1, 5% prior probability of a reduction beyond ``plausible_effect``)
    gives the line shown beside it.

    Regression to the mean: flagged when the whole pre-treatment count, or the last pre-treatment
    period, is beyond the cohort's one-sided ``1 - alpha`` predictive range, or when the last
    period is the worst of the pre-treatment record (treatment started right after the worst
    spell). The analysis without the last pre-treatment period is always reported beside the
    main result (:attr:`EventJudgement.sensitivity`).

    Parameters
    ----------
    periods
        The patient's event record (positive-length periods; exactly timed events are refused).
    untreated
        The cohort's untreated rate and dispersion.
    rule
        The decision rule.

    Returns
    -------
    EventJudgement

    Examples
    --------
    >>> import numpy as np
    >>> edges = np.arange(-6, 10) * 30.4375
    >>> counts = np.array([5, 6, 4, 5, 7, 9] + [1, 0, 1, 0, 0, 1, 0, 0, 1])
    >>> j = judge_event_rates(EventPeriods(edges[:-1], edges[1:], counts), UntreatedRate(60.0, 0.02))
    >>> j.decision.value, j.consistent, j.regression_to_mean
    ('met', True, True)
    """
    rule = rule or EventRule()
    start, end, count, flags = _periods_for_grid(periods)
    if rule.dispersion == "cohort" and untreated.period_dispersion is None:
        flags.append(
            f"the cohort model gives no within-patient dispersion: its between-patient dispersion "
            f"{format_number(untreated.dispersion)} is used per period, which does not describe events clustering "
            "within periods (estimate it from the cohort's windows with within_patient_dispersion)"
        )
    if start.size == 0:
        raise AnalysisError(
            "no event periods of positive length: the event rates cannot be compared"
        )
    batch = judge_event_rates_batch(start, end, count[None, :], untreated, rule)
    b = {
        name: getattr(batch, name)[0]
        for name in batch.__dataclass_fields__
        if isinstance(getattr(batch, name), np.ndarray)
    }
    decision = Status(b["decision"])
    t = (end - start) / DAYS_PER_YEAR
    pre = end <= _TOLERANCE_DAYS
    counted = start >= rule.onset_days - _TOLERANCE_DAYS
    pre_years, post_years = float(t[pre].sum()), float(t[counted].sum())
    pre_events, post_events = int(b["pre_events"]), int(b["post_events"])
    posterior = untreated.posterior(pre_events, pre_years)
    sceptic = sceptical_prior(rule.plausible_effect)
    confidence = 1 - 2 * rule.alpha_one_sided
    if pre.any() and counted.any():
        nb = OverdispersedRateRatio(
            float(b["rate_ratio"]), float(b["log_se"]), float(b["ci_low"]), float(b["ci_high"]), float(b["p_one_sided"]),
            confidence, 1 - rule.mcid, "negative_binomial", float(b["dispersion"]),
        )  # fmt: skip
        robust = OverdispersedRateRatio(
            float(b["rate_ratio"]), math.nan, float(b["robust_ci_low"]), float(b["robust_ci_high"]),
            float(b["robust_p_one_sided"]), confidence, 1 - rule.mcid, "robust", math.nan,
        )  # fmt: skip
        deciding = nb if rule.interval == "negative_binomial" else robust
    else:
        nb = robust = deciding = None
    null = 1 - rule.mcid

    rtm_flags: list[str] = []
    if b["rtm_total"]:
        rtm_flags.append(
            f"{pre_events} pre-treatment events in {format_number(pre_years)} years is beyond the cohort's "
            f"{format_percent(1 - rule.alpha_one_sided)} one-sided range for that exposure"
        )
    if b["rtm_last_worst"]:
        rtm_flags.append("treatment started right after the worst pre-treatment period")
    if b["rtm_last_beyond_cohort"]:
        rtm_flags.append(
            "the last pre-treatment period is beyond the cohort's range for its length"
        )
    sensitivity = None
    if batch.n_pre >= 2:
        sensitivity = EventSensitivity(
            Status(b["sensitivity_decision"]), float(b["sensitivity_rate_ratio"]), float(b["sensitivity_p_one_sided"]),
            float(b["sensitivity_posterior_probability"]), float(b["sensitivity_run_probability"]),
        )  # fmt: skip

    ratio_text = (
        f"rate ratio {format_quantity(deciding.estimate, 'ratio')} ({format_percent(confidence)} CI "
        f"{format_interval(deciding.lower, deciding.upper, 'ratio')}, {deciding.method.replace('_', ' ')}), "
        f"one-sided p {format_p_value(deciding.p_one_sided)} against {format_quantity(null, 'ratio')}"
        if deciding is not None
        else "no pre-treatment record: no rate ratio"
    )
    halves = (
        f"halves {format_quantity(b['early_ratio'], 'ratio')} and {format_quantity(b['late_ratio'], 'ratio')}"
        f" ({'consistent' if b['consistent'] else 'not both below ×1'})"
    )
    run_text = (
        f"longest event-free run {format_number(b['run_days'])} days, probability "
        f"{format_p_value(b['run_probability'])} untreated"
    )
    if int(counted.sum()) < 2:
        reason = f"{int(counted.sum())} counted post-dose period(s) from day {format_number(rule.onset_days)}, expected at least 2"
    elif rule.decision == "bayesian":
        reason = (
            f"posterior probability of a rate ratio below {format_quantity(null, 'ratio')} "
            f"{format_percent(b['posterior_probability'])} (expected at least {format_percent(rule.posterior_threshold)}, "
            f"{rule.prior.describe()}); sceptical prior: {format_percent(b['sceptical_posterior_probability'])}; {halves}"
            if deciding is not None
            else "no pre-treatment record: the Bayesian rate ratio cannot be computed"
        )
    else:
        routes = []
        if b["rate_route"]:
            routes.append("the rate ratio")
        if b["run_route"]:
            routes.append("the event-free run")
        level = rule.run_level if deciding is not None else rule.max_gap_probability
        verdict = (
            f"met on {' and '.join(routes)}"
            if routes
            else f"neither route met (rate ratio: p below {format_number(rule.alpha_one_sided)} with consistent halves; "
            f"run: probability at most {format_number(level)})"
        )
        reason = f"{ratio_text}; {halves}; {run_text}: {verdict}"
    estimand = (
        f"ratio of the event rate over the post-dose periods from day {format_number(rule.onset_days)} to the "
        "pre-treatment rate, while on treatment"
    )
    decision_rule = (
        f"frequentist: met when the one-sided {format_percent(1 - rule.alpha_one_sided)} upper bound of the rate ratio "
        f"is below {format_quantity(null, 'ratio')} with both halves below ×1, or the longest event-free run has "
        f"probability at most {format_number(rule.run_level)} untreated (false success at most "
        f"{format_number(rule.max_gap_probability)})"
        if rule.decision == "frequentist"
        else f"bayesian: met when P(rate ratio < {format_number(null)}) >= {format_number(rule.posterior_threshold)} "
        f"with both halves below ×1; {rule.prior.describe()}"
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        pre_rate = pre_events / pre_years if pre_years > 0 else math.nan
        post_rate = post_events / post_years if post_years > 0 else math.nan
    plot = EventJudgementPlot(
        period_start=start, period_end=end, period_count=count, counted_from_day=float(rule.onset_days),
        run_start=float(b["run_start"]), run_end=float(b["run_end"]), cohort_rate_per_year=untreated.rate_per_year,
        untreated_rate_per_year=posterior.mean, untreated_rate_interval=posterior.interval(confidence),
        pre_rate_per_year=pre_rate, post_rate_per_year=post_rate,
    )  # fmt: skip
    return EventJudgement(
        decision=decision, reason=reason, estimand=estimand, decision_rule=decision_rule, rule=rule,
        pre_events=pre_events, pre_years=pre_years, post_events=post_events, post_years=post_years,
        n_counted_periods=int(counted.sum()), rate_ratio=nb, robust_rate_ratio=robust,
        ratio_to_untreated=post_rate / posterior.mean,
        effect=1 - float(b["rate_ratio"]),
        ci_low=1 - deciding.upper if deciding else math.nan, ci_high=1 - deciding.lower if deciding else math.nan,
        unit="fraction", p_one_sided=deciding.p_one_sided if deciding else math.nan,
        early_ratio=float(b["early_ratio"]), late_ratio=float(b["late_ratio"]), consistent=bool(b["consistent"]),
        run_days=float(b["run_days"]), run_probability=float(b["run_probability"]),
        posterior_probability=float(b["posterior_probability"]),
        sceptical_posterior_probability=float(b["sceptical_posterior_probability"]), sceptical=sceptic,
        rate_route=bool(b["rate_route"]), run_route=bool(b["run_route"]),
        regression_to_mean=bool(rtm_flags), rtm_flags=tuple(rtm_flags), sensitivity=sensitivity,
        posterior=posterior, plot=plot, flags=tuple(flags),
    )  # fmt: skip


# --------------------------------------------------------------------------- simulation


@dataclass(frozen=True)
class SimulatedEventPatients:
    """Simulated patients on one grid: ``counts`` has shape ``(n, periods)``; ``rate_per_year`` is each
    patient's true untreated rate."""

    start_day: np.ndarray
    end_day: np.ndarray
    counts: np.ndarray
    rate_per_year: np.ndarray


def simulate_event_patients(
    untreated: UntreatedRate,
    n: int,
    rng: np.random.Generator,
    *,
    pre_periods: int = 6,
    post_periods: int = 9,
    period_days: float = 30.4375,
    rate_ratio: float = 1.0,
    onset_days: float = 0.0,
    last_pre_worst: bool = True,
    period_dispersion: float | None = None,
) -> SimulatedEventPatients:
    """Draw ``n`` patients from the cohort's gamma-Poisson model, treated from day 0.

    Each patient's untreated rate is ``mu Z`` with ``Z ~ Gamma(1/alpha, 1/alpha)`` (``mu`` when the
    dispersion is 0); counts are Poisson per period. After ``onset_days`` the rate is multiplied by
    ``rate_ratio`` (a period straddling the onset gets the time-weighted mean). With
    ``last_pre_worst`` the pre-treatment periods are reordered so the last has the most events:
    a patient enrolled right after their worst month. With ``period_dispersion`` ``a > 0`` (default:
    :attr:`UntreatedRate.period_dispersion`, or 0 when it is not given) a period's count given the
    patient's rate is negative binomial (NB2 with dispersion ``a``: events cluster within periods,
    as the bundled examples' cohorts and diaries are generated).

    Examples
    --------
    >>> sim = simulate_event_patients(UntreatedRate(60.0, 0.02), 3, np.random.default_rng(0))
    >>> sim.counts.shape, bool(np.all(sim.counts[:, 5] == sim.counts[:, :6].max(axis=1)))
    ((3, 15), True)
    """
    if n < 1 or pre_periods < 0 or post_periods < 0:
        raise UsageError(
            f"found n={n!r}, pre_periods={pre_periods!r}, post_periods={post_periods!r}, expected n >= 1 and counts >= 0"
        )
    if period_dispersion is None:
        period_dispersion = untreated.period_dispersion or 0.0
    if not (math.isfinite(period_dispersion) and period_dispersion >= 0):
        raise UsageError(
            f"period_dispersion: found {period_dispersion!r}, expected a dispersion >= 0"
        )
    if not period_days > 0 or not rate_ratio >= 0 or not onset_days >= 0:
        raise UsageError(
            f"found period_days={period_days!r}, rate_ratio={rate_ratio!r}, onset_days={onset_days!r}, "
            "expected a positive period, a ratio >= 0 and an onset >= 0"
        )
    edges = np.arange(-pre_periods, post_periods + 1) * float(period_days)
    start, end = edges[:-1], edges[1:]
    if untreated.dispersion > 0:
        k = 1 / untreated.dispersion
        rates = untreated.rate_per_year * rng.gamma(k, 1 / k, size=n)
    else:
        rates = np.full(n, untreated.rate_per_year)
    before = np.clip(np.minimum(end, onset_days) - start, 0, None)
    after = (end - start) - before
    weight = np.where(start < 0, end - start, before + rate_ratio * after) / DAYS_PER_YEAR
    mean = rates[:, None] * weight[None, :]
    if period_dispersion > 0:
        mean = rng.gamma(1 / period_dispersion, period_dispersion * mean)
    counts = rng.poisson(mean)
    if last_pre_worst and pre_periods >= 2:
        pre = counts[:, :pre_periods]
        worst = np.argmax(pre, axis=1)
        rows = np.arange(n)
        last = pre[:, -1].copy()
        pre[rows, -1] = pre[rows, worst]
        pre[rows, worst] = last
        counts[:, :pre_periods] = pre
    return SimulatedEventPatients(start, end, counts, rates)


# --------------------------------------------------------------------------- time to event


@dataclass(frozen=True)
class TimeToEventJudgement:
    """Event-free time against the untreated Kaplan-Meier curve.

    ``probability`` is ``S(age_event_free_to) / S(age_at_treatment)``: the chance, untreated, of
    remaining event-free to the observed age given event-free at treatment.
    """

    decision: Status
    reason: str
    probability: float
    survival_at_treatment: float
    survival_at_observed: float
    age_at_treatment: float
    age_event_free_to: float
    max_probability: float
    beyond_curve: bool


def judge_time_to_event(
    survival_ages: np.ndarray,
    survival_probabilities: np.ndarray,
    age_at_treatment: float,
    age_event_free_to: float,
    max_probability: float = 0.05,
) -> TimeToEventJudgement:
    """``met`` when remaining event-free to ``age_event_free_to`` untreated, given event-free at
    ``age_at_treatment``, has probability at most ``max_probability``.

    The curve is a right-continuous step function (a Kaplan-Meier fit's ``timeline`` and
    ``survival``, see :class:`pmpath.natural_history.SurvivalFit`); before its first age it is 1.
    Beyond its last age the curve is held at its last value, which can only overstate the
    probability (conservative), and the result says so.

    Examples
    --------
    >>> j = judge_time_to_event([0, 2, 4, 6], [1.0, 0.8, 0.4, 0.1], 2.5, 6.5, 0.2)
    >>> j.decision.value, round(j.probability, 3)
    ('met', 0.125)
    """
    ages = np.asarray(survival_ages, dtype=float).reshape(-1)
    surv = np.asarray(survival_probabilities, dtype=float).reshape(-1)
    if ages.size == 0 or ages.size != surv.size:
        raise UsageError(
            f"found {ages.size} ages and {surv.size} probabilities, expected a non-empty curve with one probability per age"
        )
    if np.any(np.diff(ages) < 0) or np.any(np.diff(surv) > 1e-12):
        raise UsageError(
            "survival curve: expected increasing ages and non-increasing probabilities"
        )
    if np.any((surv < 0) | (surv > 1)) or not np.all(np.isfinite(ages)):
        raise UsageError("survival_probabilities: expected probabilities in [0, 1] at finite ages")
    if not age_event_free_to >= age_at_treatment:
        raise UsageError(
            f"age_event_free_to: found {age_event_free_to!r}, expected at least age_at_treatment ({age_at_treatment!r})"
        )
    if not 0 < max_probability < 1:
        raise UsageError(
            f"max_probability: found {max_probability!r}, expected a probability between 0 and 1"
        )

    def at(age: float) -> float:
        i = int(np.searchsorted(ages, age, side="right")) - 1
        return 1.0 if i < 0 else float(surv[i])

    s0, s1 = at(age_at_treatment), at(age_event_free_to)
    if s0 <= 0:
        raise AnalysisError(
            f"the untreated curve is 0 at the age at treatment ({format_number(age_at_treatment)}): no untreated patient "
            "is event-free there, so the conditional probability is not defined"
        )
    p = s1 / s0
    beyond = age_event_free_to > ages[-1]
    decision = Status.met if p <= max_probability else Status.not_met
    reason = (
        f"event-free from age {format_number(age_at_treatment)} to {format_number(age_event_free_to)}: probability "
        f"{format_p_value(p)} untreated, expected at most {format_number(max_probability)}"
        + (
            f" (the curve ends at age {format_number(ages[-1])}; held at its last value beyond, conservative)"
            if beyond
            else ""
        )
    )
    return TimeToEventJudgement(decision, reason, p, s0, s1, float(age_at_treatment), float(age_event_free_to),
                                float(max_probability), bool(beyond))  # fmt: skip
