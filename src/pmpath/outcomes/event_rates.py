"""Flaring disease: a patient's event record and their untreated event rate, the inputs of the event analyses.

:class:`EventPeriods` holds the events a patient recorded before and after the first dose (day 0)
as periods with counts. :class:`UntreatedRate` is the cohort's untreated rate and between-patient
spread; :meth:`UntreatedRate.posterior` updates it with the patient's pre-treatment events to the
gamma-Poisson (empirical Bayes) posterior of the patient's own rate (:class:`RatePosterior`), which
shrinks a pre-treatment period recorded during a bad spell toward the cohort (regression to the
mean). The criterion-5 decision on them is :func:`pmpath.outcomes.judge_event_rates`
(``pmpath.outcomes.event_decision``).
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from pmpath.dossier.vocabulary import DAYS_PER_YEAR
from pmpath.errors import AnalysisError, UsageError

__all__ = [
    "DAYS_PER_YEAR",
    "EventPeriods",
    "RatePosterior",
    "UntreatedRate",
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
        Used by :func:`pmpath.outcomes.event_decision.judge_event_rates`.
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
