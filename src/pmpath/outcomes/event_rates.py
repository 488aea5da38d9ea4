"""Flaring disease: a treated patient's event rate and event-free time against their untreated rate.

Two questions are asked of the events a patient records before and after the first dose (day 0):
did the rate fall (post/pre rate ratio with an exact conditional confidence interval), and is the
longest event-free stretch after treatment improbable for this patient untreated? The untreated
rate is the gamma-Poisson (empirical Bayes) posterior of the patient's own rate: the cohort's rate
and between-patient spread, updated by the patient's pre-treatment events, which shrinks a
pre-treatment period recorded during a bad spell toward the cohort (regression to the mean).
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from scipy import stats
from scipy.special import gammaln

from pmpath.dossier.vocabulary import DAYS_PER_YEAR, Status
from pmpath.errors import AnalysisError, UsageError

__all__ = [
    "DAYS_PER_YEAR",
    "EventPeriods",
    "EventPlot",
    "EventRateComparison",
    "RatePosterior",
    "RateRatio",
    "UntreatedRate",
    "compare_event_rates",
    "poisson_max_gap_sf",
    "rate_ratio_ci",
    "uniform_max_spacing_sf",
]

_TOLERANCE_DAYS = 1e-9


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class UntreatedRate:
    """The cohort's untreated event rate with its between-patient spread.

    Parameters
    ----------
    rate_per_year
        Cohort mean event rate per person-year (``mu > 0``).
    dispersion
        NB2 dispersion ``alpha``: a patient's own rate is ``mu * Z`` with ``Z ~ Gamma(1/alpha,
        rate=1/alpha)`` (mean 1, variance ``alpha``), so counts over ``t`` years have variance
        ``mu t + alpha (mu t)^2``. ``0`` is a Poisson model: every patient has the cohort's rate.
    period_dispersion
        Optional NB2 dispersion of one recording period's count around the patient's own rate
        (events clustering within periods; see
        :func:`pmpath.outcomes.event_decision.within_patient_dispersion`). ``None``: not known.
        Used by :func:`pmpath.outcomes.event_decision.judge_event_rates`, not by
        :func:`compare_event_rates`.
    """

    rate_per_year: float
    dispersion: float = 0.0
    period_dispersion: float | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.rate_per_year) and self.rate_per_year > 0):
            raise UsageError(
                f"UntreatedRate.rate_per_year: found {self.rate_per_year!r}, expected a positive rate per year"
            )
        if not (math.isfinite(self.dispersion) and self.dispersion >= 0):
            raise UsageError(
                f"UntreatedRate.dispersion: found {self.dispersion!r}, expected a dispersion >= 0 (0 = Poisson)"
            )
        if self.period_dispersion is not None and not (
            math.isfinite(self.period_dispersion) and self.period_dispersion >= 0
        ):
            raise UsageError(
                f"UntreatedRate.period_dispersion: found {self.period_dispersion!r}, expected a dispersion >= 0 or None"
            )

    def posterior(self, pre_events: int = 0, pre_years: float = 0.0) -> RatePosterior:
        """The patient's untreated rate given ``pre_events`` in ``pre_years`` before treatment.

        ``Gamma(shape = 1/alpha + pre_events, rate = 1/(alpha mu) + pre_years)`` (conjugate
        gamma-Poisson update). With ``alpha = 0`` the cohort model says patients do not differ, so
        the patient's own pre-treatment events carry no information about their rate: the
        posterior is the point mass at ``mu`` (the limit of the gamma posterior as ``alpha -> 0``),
        never the patient's own raw rate.
        """
        if pre_events < 0 or pre_years < 0:
            raise UsageError(
                f"found pre_events={pre_events!r}, pre_years={pre_years!r}, expected non-negative numbers"
            )
        if self.dispersion == 0:
            return RatePosterior(shape=math.inf, rate=math.inf, mean=self.rate_per_year)
        shape = 1 / self.dispersion + pre_events
        rate = 1 / (self.dispersion * self.rate_per_year) + pre_years
        return RatePosterior(shape=shape, rate=rate, mean=shape / rate)


@dataclass(frozen=True)
class RatePosterior:
    """A patient's untreated event rate per year: ``Gamma(shape, rate)``, or a point mass at ``mean``
    when ``shape`` is infinite."""

    shape: float
    rate: float
    mean: float

    @property
    def is_point_mass(self) -> bool:
        return math.isinf(self.shape)

    def interval(self, confidence: float = 0.95) -> tuple[float, float]:
        if self.is_point_mass:
            return (self.mean, self.mean)
        lo, hi = stats.gamma.ppf(
            [(1 - confidence) / 2, (1 + confidence) / 2], self.shape, scale=1 / self.rate
        )
        return (float(lo), float(hi))

    def nodes(self) -> tuple[np.ndarray, np.ndarray]:
        """Quadrature nodes (rates per year) and weights summing to 1 for expectations over the rate.

        Works on the posterior's probability scale, ``L = F^-1(u)``, which suits any shape: Gauss-Legendre
        in ``log u`` on ``(1e-15, 1/2]`` (the low rates, where the probability of a long gap lives
        when it is small) and in ``u`` on ``[1/2, 1)``.
        """
        if self.is_point_mass:
            return np.array([self.mean]), np.array([1.0])
        u, w = _probability_nodes()
        return stats.gamma.ppf(u, self.shape, scale=1 / self.rate), w

    def predictive_cdf(self, count: int, years: float) -> float:
        """P(at most ``count`` events in ``years``) for this patient untreated (negative binomial)."""
        if self.is_point_mass:
            return float(stats.poisson.cdf(count, self.mean * years))
        return float(stats.nbinom.cdf(count, self.shape, self.rate / (self.rate + years)))

    def predictive_sf(self, count: int, years: float) -> float:
        """P(at least ``count`` events in ``years``) for this patient untreated."""
        if count <= 0:
            return 1.0
        return 1.0 - self.predictive_cdf(count - 1, years)

    def no_event_probability(self, years: float) -> float:
        if self.is_point_mass:
            return math.exp(-self.mean * years)
        return math.exp(self.shape * (math.log(self.rate) - math.log(self.rate + years)))

    def years_until_no_event_probability(self, probability: float) -> float:
        """Shortest follow-up (years) over which having no event at all has at most ``probability``."""
        if self.is_point_mass:
            return -math.log(probability) / self.mean
        return self.rate * math.expm1(-math.log(probability) / self.shape)


@functools.cache
def _probability_nodes(
    n_low: int = 96, n_high: int = 32, smallest: float = 1e-15
) -> tuple[np.ndarray, np.ndarray]:
    """Nodes ``u`` in (0, 1) and weights for integrals over ``u`` (see :meth:`RatePosterior.nodes`)."""
    x, w = np.polynomial.legendre.leggauss(n_low)
    lo, hi = math.log(smallest), math.log(0.5)
    s = lo + (x + 1) / 2 * (hi - lo)
    u_low, w_low = np.exp(s), w / 2 * (hi - lo) * np.exp(s)
    x, w = np.polynomial.legendre.leggauss(n_high)
    u_high, w_high = 0.5 + (x + 1) / 4, w / 4
    return np.concatenate([u_low, u_high]), np.concatenate([w_low, w_high])


@dataclass(frozen=True)
class EventPeriods:
    """A patient's events as observation periods with counts; day 0 is the first dose.

    A period covers ``[start_day, end_day)`` (end exclusive) and holds ``count`` events somewhere
    inside it. A diary with one row per day gives ``[d, d + 1)``. A zero-length period
    ``[t, t)`` with a positive count records events at the exact time ``t``. Periods may not overlap.
    Time before day 0 is the untreated (pre-treatment) record; from day 0 on, post-treatment.
    Time not covered by any period is unobserved.
    """

    start_day: np.ndarray
    end_day: np.ndarray
    count: np.ndarray

    def __post_init__(self) -> None:
        start = np.asarray(self.start_day, dtype=float).reshape(-1)
        end = np.asarray(self.end_day, dtype=float).reshape(-1)
        count = np.asarray(self.count, dtype=float).reshape(-1)
        if not (start.size == end.size == count.size):
            raise UsageError(
                f"EventPeriods: found {start.size} starts, {end.size} ends and {count.size} counts, expected one of each per period"
            )
        for name, arr in (("start_day", start), ("end_day", end), ("count", count)):
            if not np.all(np.isfinite(arr)):
                raise UsageError(
                    f"EventPeriods.{name}: found non-finite values, expected finite numbers"
                )
        if np.any(count < 0) or np.any(count != np.round(count)):
            raise UsageError(
                f"EventPeriods.count: found {count[(count < 0) | (count != np.round(count))].tolist()}, expected whole numbers >= 0"
            )
        if np.any(end < start):
            i = int(np.flatnonzero(end < start)[0])
            raise UsageError(
                f"EventPeriods: period {i} ends on day {end[i]:g} before it starts on day {start[i]:g}, expected end >= start"
            )
        order = np.lexsort((end, start))
        start, end, count = start[order], end[order], count[order].astype(int)
        _check_overlaps(start, end, count)
        for name, arr in (("start_day", start), ("end_day", end), ("count", count)):
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    @classmethod
    def from_event_times(
        cls,
        event_days: np.ndarray,
        follow_up_days: float,
        *,
        pre_events: int = 0,
        pre_days: float = 0.0,
    ) -> EventPeriods:
        """Exactly timed post-treatment events on ``[0, follow_up_days]``, plus an optional
        pre-treatment period ``[-pre_days, 0)`` with ``pre_events`` events."""
        times = np.sort(np.asarray(event_days, dtype=float).reshape(-1))
        if times.size and (times[0] < 0 or times[-1] > follow_up_days):
            raise UsageError(
                f"event_days: found times from {times[0]:g} to {times[-1]:g}, expected times within [0, {follow_up_days:g}]"
            )
        if pre_events and not pre_days > 0:
            raise UsageError(
                f"pre_events: found {pre_events} events with pre_days={pre_days!r}, expected a positive pre-treatment duration"
            )
        periods: list[tuple[float, float, int]] = (
            [(-pre_days, 0.0, pre_events)] if pre_days > 0 else []
        )
        edges = np.concatenate([[0.0], times, [float(follow_up_days)]])
        periods += [(a, b, 0) for a, b in itertools.pairwise(edges) if b > a]
        values, multiplicity = np.unique(times, return_counts=True)
        periods += [(t, t, int(k)) for t, k in zip(values, multiplicity, strict=True)]
        starts, ends, counts = zip(*periods, strict=True) if periods else ((), (), ())
        return cls(np.array(starts), np.array(ends), np.array(counts))


def _check_overlaps(start: np.ndarray, end: np.ndarray, count: np.ndarray) -> None:
    """Positive-length periods must not overlap; an exact event may not sit strictly inside one."""
    spans = np.flatnonzero(end > start)
    for a, b in itertools.pairwise(spans):
        if start[b] < end[a] - _TOLERANCE_DAYS:
            raise AnalysisError(
                f"event periods overlap: [{start[a]:g}, {end[a]:g}) and [{start[b]:g}, {end[b]:g}), expected each day in at most one period"
            )
    points = np.flatnonzero((end == start) & (count > 0))
    for p in points:
        inside = spans[
            (start[spans] < start[p] - _TOLERANCE_DAYS) & (end[spans] > start[p] + _TOLERANCE_DAYS)
        ]
        if inside.size:
            i = int(inside[0])
            raise AnalysisError(
                f"an event timed at day {start[p]:g} lies inside the period [{start[i]:g}, {end[i]:g}) that already counts its events, expected it at a period boundary"
            )


# --------------------------------------------------------------------------- the longest gap


def uniform_max_spacing_sf(n_points: int, x: float) -> float:
    """P(largest of the ``n_points + 1`` spacings of ``n_points`` uniform points on [0, 1] is >= ``x``).

    ``sum_{k>=1} (-1)^(k+1) C(n+1, k) (1 - k x)_+^n`` (Fisher 1929; David & Nagaraja, *Order
    Statistics*, section 6.4), evaluated in exact rational arithmetic so that large ``n`` does not
    suffer from the alternating sum's cancellation. The spacings include the two end pieces.
    """
    if n_points < 0:
        raise UsageError(f"n_points: found {n_points}, expected a count >= 0")
    if x <= 0:
        return 1.0
    if x > 1:
        return 0.0
    xf = Fraction(x)
    total = Fraction(0)
    for k in range(1, n_points + 2):
        base = 1 - k * xf
        if base < 0 or (base == 0 and n_points > 0):
            break
        total += (-1) ** (k + 1) * math.comb(n_points + 1, k) * base**n_points
    return float(min(max(total, Fraction(0)), Fraction(1)))


def poisson_max_gap_sf(rate: float | np.ndarray, length: float, gap: float) -> float | np.ndarray:
    """P(longest event-free interval of a Poisson process on [0, ``length``] is >= ``gap``).

    The event-free intervals include the one from 0 to the first event and the one from the last
    event to ``length``. This is the exact maximum-spacing distribution mixed over ``N ~
    Poisson(rate * length)`` (conditional on ``N = n`` the ``n + 1`` intervals are uniform spacings,
    see :func:`uniform_max_spacing_sf`); summing the mixture over ``n`` in closed form gives

    ``sum_{k=1}^{floor(length/gap)} (-1)^(k+1) exp(-rate k gap) [r_k^k / k! + r_k^(k-1) / (k-1)!]``,
    ``r_k = rate (length - k gap)``.

    It is not ``exp(-rate * gap)``, the chance of one given window being empty, which ignores that
    the gap could have occurred anywhere in the follow-up.

    Parameters
    ----------
    rate
        Event rate per unit of ``length`` (scalar or array; the result has the same shape).
    length, gap
        Follow-up length and gap length, same unit.
    """
    rates = np.asarray(rate, dtype=float)
    scalar = rates.ndim == 0
    rates = np.atleast_1d(rates)
    if length < 0 or gap < 0 or np.any(rates < 0):
        raise UsageError(
            f"found rate={rate!r}, length={length!r}, gap={gap!r}, expected non-negative numbers"
        )
    if gap <= 0:
        out = np.ones_like(rates)
    elif gap > length * (1 + 1e-12):
        out = np.zeros_like(rates)
    else:
        n_terms = max(1, math.floor(length / gap + 1e-9))
        k = np.arange(1, n_terms + 1, dtype=float)
        r = rates[:, None] * np.clip(length - k * gap, 0, None)
        with np.errstate(divide="ignore", invalid="ignore"):
            log_r = np.log(r)
            log_power = np.where(k == 1, 0.0, (k - 1) * log_r)  # r^(k-1) with 0^0 = 1
            log_terms = -rates[:, None] * k * gap + log_power - gammaln(k) + np.log1p(r / k)
        terms = np.where(np.isneginf(log_power), 0.0, np.exp(log_terms))
        signs = np.where(k % 2 == 1, 1.0, -1.0)
        out = np.sum(signs * terms, axis=1)
        # The alternating sum cancels badly only when many long gaps are expected (the probability
        # is then close to 1); those rates are solved from the renewal equation instead.
        ill = np.flatnonzero(np.sum(terms, axis=1) > 1e4)
        if ill.size:
            out[ill] = _max_gap_sf_blocks(rates[ill], length, gap)
        out = np.clip(out, 0.0, 1.0)
    return float(out[0]) if scalar else out


def _max_gap_sf_blocks(
    rates: np.ndarray, length: float, gap: float, steps: int = 256
) -> np.ndarray:
    """The same probability from the renewal equation of its complement, in positive terms only.

    ``Q(t) = P(no event-free interval >= gap in [0, t])`` is 1 for ``t < gap`` and otherwise
    ``Q(t) = int_{t-gap}^t rate exp(-rate (t - v)) Q(v) dv`` (the last event before ``t`` at
    ``v``; given the first event, the process renews). On block ``k`` (``t = k gap + s``) the part
    of the integral over block ``k - 1`` is ``F(s) = exp(-rate s) int_s^gap rate exp(-rate (gap -
    w)) Q_{k-1}(w) dw``, and the exponential kernel turns the rest into ``Q_k(s) = F(s) + rate
    int_0^s F``. Every step adds positive numbers, so nothing cancels; the trapezoid rule on
    ``steps`` and ``2 steps`` intervals per block combined by Richardson extrapolation of ``log Q``
    (fourth order), each block rescaled to avoid underflow.
    """
    coarse = _log_no_long_gap(rates, length, gap, steps)
    fine = _log_no_long_gap(rates, length, gap, 2 * steps)
    with np.errstate(invalid="ignore"):
        log_q = np.where(np.isfinite(fine) & np.isfinite(coarse), (4 * fine - coarse) / 3, fine)
    return -np.expm1(np.minimum(log_q, 0.0))


def _log_no_long_gap(rates: np.ndarray, length: float, gap: float, steps: int) -> np.ndarray:
    """``log Q(length)`` by the trapezoid rule on ``steps`` intervals per block (see :func:`_max_gap_sf_blocks`)."""
    n_blocks = max(1, math.floor(length / gap + 1e-9))
    remainder = min(max(length - n_blocks * gap, 0.0), gap)
    h = gap / steps
    s = np.linspace(0.0, gap, steps + 1)
    lam = rates[:, None]
    toward_end = np.exp(-lam * (gap - s))  # exp(-rate (gap - w)) on the grid
    from_start = np.exp(-lam * s)
    q = np.ones((rates.size, steps + 1))
    log_scale = np.zeros(rates.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        for _ in range(n_blocks):
            integrand = lam * toward_end * q
            pieces = (integrand[:, 1:] + integrand[:, :-1]) * h / 2
            tail = np.concatenate(
                [np.cumsum(pieces[:, ::-1], axis=1)[:, ::-1], np.zeros((rates.size, 1))], axis=1
            )
            f = from_start * tail
            head = np.concatenate(
                [np.zeros((rates.size, 1)), np.cumsum((f[:, 1:] + f[:, :-1]) * h / 2, axis=1)],
                axis=1,
            )
            q = f + lam * head
            top = q.max(axis=1)
            top = np.where(top > 0, top, 1.0)
            q = q / top[:, None]
            log_scale += np.log(top)
        return np.array([np.interp(remainder, s, np.log(row)) for row in q]) + log_scale


# --------------------------------------------------------------------------- the rate ratio


@dataclass(frozen=True)
class RateRatio:
    """Post/pre rate ratio with its exact conditional confidence interval and one-sided p-value."""

    estimate: float
    lower: float
    upper: float
    p_value: float  # one-sided, H0: rate ratio >= 1
    confidence: float


def rate_ratio_ci(
    pre_events: int, pre_years: float, post_events: int, post_years: float, confidence: float = 0.95
) -> RateRatio:
    """Exact conditional confidence interval of the post/pre Poisson rate ratio.

    Given ``n = pre_events + post_events``, ``post_events ~ Binomial(n, pi)`` with
    ``pi = t2 RR / (t1 + t2 RR)``. The Clopper-Pearson interval of ``pi`` maps to ``RR = pi t1 /
    ((1 - pi) t2)``. The p-value is ``P(Y <= post_events)`` under ``RR = 1``. With no events at all
    the estimate is NaN and the interval ``(0, inf)``.
    """
    if pre_years <= 0 or post_years <= 0:
        raise UsageError(
            f"found pre_years={pre_years!r}, post_years={post_years!r}, expected positive exposures"
        )
    if not 0 < confidence < 1:
        raise UsageError(
            f"confidence: found {confidence!r}, expected a probability between 0 and 1"
        )
    y1, y2 = int(pre_events), int(post_events)
    n = y1 + y2
    tail = (1 - confidence) / 2
    pi_lo = float(stats.beta.ppf(tail, y2, y1 + 1)) if y2 > 0 else 0.0
    pi_hi = float(stats.beta.ppf(1 - tail, y2 + 1, y1)) if y1 > 0 else 1.0

    def to_ratio(pi: float) -> float:
        return math.inf if pi >= 1 else pi / (1 - pi) * pre_years / post_years

    if n == 0:
        estimate = math.nan
    elif y1 == 0:
        estimate = math.inf
    else:
        estimate = (y2 / post_years) / (y1 / pre_years)
    p_value = float(stats.binom.cdf(y2, n, post_years / (pre_years + post_years))) if n else 1.0
    return RateRatio(estimate, to_ratio(pi_lo), to_ratio(pi_hi), p_value, confidence)


# --------------------------------------------------------------------------- the comparison


@dataclass(frozen=True)
class EventPlot:
    """What a report plots: the periods, the longest event-free gap and the rates (per year)."""

    period_start: np.ndarray
    period_end: np.ndarray
    period_count: np.ndarray
    gap_start: float
    gap_end: float
    follow_up_days: float
    cohort_rate_per_year: float
    untreated_rate_per_year: float
    untreated_rate_interval: tuple[float, float]
    pre_rate_per_year: float
    post_rate_per_year: float


@dataclass(frozen=True)
class EventRateComparison:
    """A patient's post-treatment events against their untreated event rate.

    ``gap_probability`` is the probability, for this patient untreated (rate drawn from
    ``posterior``), of an event-free gap at least ``longest_gap_days`` long anywhere in the
    ``follow_up_days`` after the first dose. ``post_count_probability`` is the probability of at
    most ``post_events`` in the post-treatment exposure under the same untreated rate (reported,
    not deciding). ``min_follow_up_days`` is the follow-up over which even no event at all
    would reach ``max_gap_probability``.
    """

    decision: Status
    reason: str
    pre_events: int
    pre_years: float
    post_events: int
    post_years: float
    follow_up_days: float
    pre_rate_per_year: float
    post_rate_per_year: float
    rate_ratio: RateRatio | None
    posterior: RatePosterior
    cohort: UntreatedRate
    longest_gap_days: float
    longest_gap_start: float
    longest_gap_end: float
    gap_probability: float
    post_count_probability: float
    min_follow_up_days: float
    regression_to_mean: bool
    flags: tuple[str, ...]
    plot: EventPlot
    confidence: float
    max_rate_ratio: float
    max_gap_probability: float
    notes: tuple[str, ...] = ()


def _longest_event_free_run(segments: list[tuple[float, float, int]]) -> tuple[float, float]:
    """Longest stretch covered without break by zero-count periods: time known to be event-free.

    A period with events, or time covered by no period, ends a stretch. Where events sit inside a
    multi-day period is unknown, so the period counts as not event-free at all: the gap is never
    overstated (with a daily diary it is understated by less than a day at each end).
    """
    best = (math.nan, math.nan)
    best_len = 0.0
    run: list[float] | None = None
    for s, e, c in sorted(segments, key=lambda p: (p[0], p[1])):
        if c == 0:
            if e <= s:
                continue
            if run is not None and abs(s - run[1]) <= _TOLERANCE_DAYS:
                run[1] = e
            else:
                run = [s, e]
            if run[1] - run[0] > best_len:
                best_len, best = run[1] - run[0], (run[0], run[1])
        else:
            run = None
    return best


def compare_event_rates(
    periods: EventPeriods,
    untreated: UntreatedRate,
    *,
    confidence: float = 0.95,
    max_rate_ratio: float = 0.5,
    max_gap_probability: float = 0.05,
) -> EventRateComparison:
    """Judge whether a patient's events became rarer after treatment than they would be untreated.

    Parameters
    ----------
    periods
        The patient's event record before and after the first dose (day 0).
    untreated
        The cohort's untreated rate and between-patient dispersion.
    confidence
        Two-sided confidence of the rate-ratio interval.
    max_rate_ratio
        Largest acceptable post/pre rate ratio (point estimate).
    max_gap_probability
        Largest acceptable probability of the longest event-free gap under the untreated rate.

    Returns
    -------
    EventRateComparison
        ``decision``:

        * ``"insufficient"`` when there is no post-treatment observation time, or when the
          follow-up is so short that even no event at all would not be improbable untreated
          (``follow_up_days < min_follow_up_days``): the criterion could not be met yet.
        * ``"met"`` when the rate ratio is at most ``max_rate_ratio`` with its upper bound below 1,
          and ``gap_probability <= max_gap_probability``. Without a pre-treatment record there is
          no rate ratio; the decision then rests on the gap alone, against the cohort's rate.
        * ``"not_met"`` otherwise.

    Notes
    -----
    Periods are split at day 0; one that spans day 0 with events in it cannot be attributed and
    is left out of both rates (its post-dose part still breaks event-free stretches). The
    follow-up runs from day 0 to the end of the last period; uncovered time inside it is not
    counted as event-free, which only makes the gap test conservative.
    """
    if not 0 < confidence < 1:
        raise UsageError(
            f"confidence: found {confidence!r}, expected a probability between 0 and 1"
        )
    if not max_rate_ratio > 0:
        raise UsageError(f"max_rate_ratio: found {max_rate_ratio!r}, expected a positive ratio")
    if not 0 < max_gap_probability < 1:
        raise UsageError(
            f"max_gap_probability: found {max_gap_probability!r}, expected a probability between 0 and 1"
        )
    flags: list[str] = []
    pre_events = post_events = 0
    pre_days = post_days = 0.0
    post_segments: list[tuple[float, float, int]] = []
    straddling = 0
    for s, e, c in zip(periods.start_day, periods.end_day, periods.count, strict=True):
        s, e, c = float(s), float(e), int(c)
        if e <= 0 and s < 0:
            pre_events += c
            pre_days += e - s
        elif s >= 0:
            post_events += c
            post_days += e - s
            post_segments.append((s, e, c))
        elif c == 0:  # an event-free period across day 0 splits cleanly
            pre_days += -s
            post_days += e
            post_segments.append((0.0, e, 0))
        else:
            straddling += c
            post_segments.append((0.0, e, c))
    if straddling:
        flags.append(
            f"{straddling} event(s) in a period spanning the first dose could not be attributed to before or after it and were left out of both rates"
        )
    pre_years, post_years = pre_days / DAYS_PER_YEAR, post_days / DAYS_PER_YEAR
    follow_up = max((e for _, e, _ in post_segments), default=0.0)
    covered = sum(e - s for s, e, _ in post_segments)
    if follow_up - covered > 0.5:
        flags.append(
            f"{follow_up - covered:.0f} day(s) after the first dose are covered by no period; they are not counted as event-free"
        )

    prior = untreated.posterior()
    posterior = untreated.posterior(pre_events, pre_years)
    rtm = False
    if pre_years > 0 and prior.predictive_sf(pre_events, pre_years) < (1 - confidence) / 2:
        rtm = True
        flags.append(
            f"regression to the mean: {pre_events} pre-treatment events in {pre_years:.2f} years ({pre_events / pre_years:.3g}/year) "
            f"is beyond the cohort's {confidence:.0%} range for that exposure; the untreated rate is shrunk toward the cohort's "
            f"{untreated.rate_per_year:.3g}/year ({posterior.mean:.3g}/year) rather than taken from the pre-treatment period alone"
        )
    notes: list[str] = []
    if untreated.dispersion == 0:
        notes.append(
            "Poisson cohort model (dispersion 0): the untreated rate is the cohort's; the patient's own pre-treatment events do not change it"
        )
    else:
        notes.append(
            f"untreated rate: gamma-Poisson posterior from the cohort ({untreated.rate_per_year:.3g}/year, dispersion {untreated.dispersion:.3g}) "
            f"and {pre_events} pre-treatment event(s) in {pre_years:.2f} years: mean {posterior.mean:.3g}/year"
        )

    gap_start, gap_end = _longest_event_free_run(post_segments)
    gap = gap_end - gap_start if math.isfinite(gap_start) else 0.0
    if follow_up > 0:
        rates, weights = posterior.nodes()
        gap_p = float(np.sum(weights * poisson_max_gap_sf(rates / DAYS_PER_YEAR, follow_up, gap)))
    else:
        gap_p = math.nan
    min_follow_up = posterior.years_until_no_event_probability(max_gap_probability) * DAYS_PER_YEAR
    post_count_p = posterior.predictive_cdf(post_events, post_years) if post_years > 0 else math.nan
    ratio = (
        rate_ratio_ci(pre_events, pre_years, post_events, post_years, confidence)
        if pre_years > 0 and post_years > 0
        else None
    )
    pre_rate = pre_events / pre_years if pre_years > 0 else math.nan
    post_rate = post_events / post_years if post_years > 0 else math.nan

    gap_text = f"longest event-free gap {gap:.0f} of {follow_up:.0f} days, probability {gap_p:.2g} untreated"
    if post_years <= 0:
        decision = Status.insufficient
        reason = "no observation time after the first dose"
    elif follow_up < min_follow_up:
        decision = Status.insufficient
        reason = (
            f"follow-up of {follow_up:.0f} days is too short: even no event at all would have probability "
            f"{posterior.no_event_probability(follow_up / DAYS_PER_YEAR):.2g} untreated, expected at most {max_gap_probability:g} "
            f"(needs about {math.ceil(min_follow_up)} days)"
        )
    else:
        failed = []
        if ratio is None:
            flags.append(
                "no pre-treatment event record: no rate ratio; judged on the event-free gap alone, against the cohort's rate"
            )
        else:
            if not ratio.estimate <= max_rate_ratio:
                failed.append(
                    f"rate ratio {ratio.estimate:.3g}, expected at most {max_rate_ratio:g}"
                )
            if not ratio.upper < 1:
                failed.append(f"rate ratio upper bound {ratio.upper:.3g}, expected below 1")
        if not gap_p <= max_gap_probability:
            failed.append(f"gap probability {gap_p:.2g}, expected at most {max_gap_probability:g}")
        ratio_text = (
            f"rate ratio {ratio.estimate:.3g} ({confidence:.0%} CI {ratio.lower:.3g}-{ratio.upper:.3g}); "
            if ratio is not None
            else ""
        )
        if failed:
            decision = Status.not_met
            reason = ratio_text + gap_text + ": " + "; ".join(failed)
        else:
            decision = Status.met
            reason = ratio_text + gap_text

    plot = EventPlot(
        period_start=periods.start_day,
        period_end=periods.end_day,
        period_count=periods.count,
        gap_start=gap_start,
        gap_end=gap_end,
        follow_up_days=follow_up,
        cohort_rate_per_year=untreated.rate_per_year,
        untreated_rate_per_year=posterior.mean,
        untreated_rate_interval=posterior.interval(confidence),
        pre_rate_per_year=pre_rate,
        post_rate_per_year=post_rate,
    )
    return EventRateComparison(
        decision=decision,
        reason=reason,
        pre_events=pre_events,
        pre_years=pre_years,
        post_events=post_events,
        post_years=post_years,
        follow_up_days=follow_up,
        pre_rate_per_year=pre_rate,
        post_rate_per_year=post_rate,
        rate_ratio=ratio,
        posterior=posterior,
        cohort=untreated,
        longest_gap_days=gap,
        longest_gap_start=gap_start,
        longest_gap_end=gap_end,
        gap_probability=gap_p,
        post_count_probability=post_count_p,
        min_follow_up_days=min_follow_up,
        regression_to_mean=rtm,
        flags=tuple(flags),
        plot=plot,
        confidence=confidence,
        max_rate_ratio=max_rate_ratio,
        max_gap_probability=max_gap_probability,
        notes=tuple(notes),
    )
