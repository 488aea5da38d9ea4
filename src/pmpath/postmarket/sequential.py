"""Sequential monitoring of pre-specified adverse events: Poisson and binomial MaxSPRT with exact critical values.

The maximized sequential probability ratio test (Kulldorff, Davis, Kolczak, Lewis, Lieu and Platt,
*Sequential Analysis* 30:58-78, 2011) as R's ``Sequential`` package defines it, computed exactly by
propagating the distribution of the event count from look to look (no simulation):

- Poisson MaxSPRT: events counted against the number expected under the null hypothesis; time is
  measured in expected events. :func:`critical_value_poisson` (``CV.Poisson`` and, with
  ``group_sizes``, ``CV.G.Poisson``) and :func:`performance_poisson` (``Performance.Poisson``,
  ``Performance.G.Poisson``).
- Binomial MaxSPRT: each event is a case (in the risk window, or exposed) or a control, with ``z``
  controls per case expected under the null (matching ratio), so a case has probability
  ``1 / (1 + z)``; time is measured in events. :func:`critical_value_binomial` (``CV.Binomial``,
  ``CV.G.Binomial``) and :func:`performance_binomial` (``Performance.Binomial``,
  ``Performance.G.Binomial``).

The test signals at the first look where the log-likelihood ratio reaches the critical value and at
least ``min_events`` events (cases) have been observed. Continuous monitoring looks after every
event (Poisson: at every event time; binomial: after each event); group-sequential monitoring looks
after each group.

Numerics. Crossing probabilities are computed on the exact count distribution: Poisson increments
are truncated 12 standard deviations plus 40 above their mean, where the upper tail is below 1e-18
(so probabilities are exact to rounding, about 1e-15); binomial increments are not truncated. For
the continuous Poisson test the type I error is a continuous, decreasing function of the critical
value and is solved for with Brent's method to an absolute tolerance of 1e-12 in the critical
value. For discrete designs (group-sequential Poisson, binomial) the type I error is a step
function of the critical value: every value in an interval ``(lower, upper]`` between two
attainable statistics gives the same alpha. The critical value returned is the smallest one, at a
resolution of 1e-6, above the largest attainable statistic whose alpha exceeds the target (R's
``CV.G.Binomial`` chooses the same way, at a resolution of 1e-5), and
:attr:`CriticalValue.critical_value_max` is the largest value giving the same alpha.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import optimize, special, stats

from pmpath.errors import AnalysisError, UsageError
from pmpath.formatting import format_number, format_percent

__all__ = [
    "CriticalValue",
    "Performance",
    "binomial_critical_counts",
    "binomial_llr",
    "critical_value_binomial",
    "critical_value_poisson",
    "performance_binomial",
    "performance_poisson",
    "poisson_critical_counts",
    "poisson_llr",
]

Method = Literal["poisson", "binomial"]

_CV_RESOLUTION = 1e-6  # a discrete design's critical value is chosen at this resolution
_CV_XTOL = 1e-12  # Brent's method tolerance in the critical value (continuous Poisson)
_NO_SIGNAL = np.iinfo(np.int64).max // 4  # threshold of a look at which no count can signal


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class CriticalValue:
    """The critical value of a MaxSPRT design and the type I error it spends.

    Attributes
    ----------
    method
        ``"poisson"`` or ``"binomial"``.
    continuous
        True for continuous monitoring, False for group sequential.
    critical_value
        The log-likelihood ratio at or above which the test signals.
    critical_value_max
        The largest critical value giving the same alpha (equal to ``critical_value`` for the
        continuous Poisson test, whose alpha varies continuously).
    alpha
        The type I error the critical value attains (at most ``alpha_target``).
    alpha_target
        The significance level asked for.
    looks
        The times of the looks: expected events (Poisson) or events (binomial). For the
        continuous Poisson test, the latest time at which each event count can still signal.
    alpha_spent
        The cumulative type I error spent by each look.
    """

    method: Method
    continuous: bool
    critical_value: float
    critical_value_max: float
    alpha: float
    alpha_target: float
    looks: tuple[float, ...]
    alpha_spent: tuple[float, ...]

    def to_text(self) -> str:
        kind = "continuous" if self.continuous else "group-sequential"
        return (
            f"{kind} {self.method} MaxSPRT: critical value {format_number(self.critical_value, 7)}"
            f" (alpha {format_number(self.alpha, 7)} for target {format_number(self.alpha_target)})"
        )

    def __str__(self) -> str:
        return self.to_text()


@dataclass(frozen=True)
class Performance:
    """Statistical performance of a MaxSPRT design at one relative risk.

    Attributes
    ----------
    relative_risk
        The relative risk the performance is computed at (1: the null hypothesis).
    power
        Probability that the test signals by the end of surveillance.
    signal_time
        Expected time to a signal, given that the test signals (expected events for Poisson,
        events for binomial): R's ``ESignalTime``.
    sample_size
        Expected length of surveillance, ``E[min(signal time, end)]``: R's ``ESampleSize``.
    looks
        Times of the looks (see :attr:`CriticalValue.looks`).
    signal_probability
        Probability of signalling at each look.
    """

    relative_risk: float
    power: float
    signal_time: float
    sample_size: float
    looks: tuple[float, ...]
    signal_probability: tuple[float, ...]

    def to_text(self) -> str:
        return (
            f"relative risk {format_number(self.relative_risk)}: power {format_percent(self.power)},"
            f" expected time to signal {format_number(self.signal_time)},"
            f" expected sample size {format_number(self.sample_size)}"
        )

    def __str__(self) -> str:
        return self.to_text()


# --------------------------------------------------------------------------- statistics


def poisson_llr(observed: np.ndarray | float, expected: np.ndarray | float) -> np.ndarray:
    """Poisson MaxSPRT log-likelihood ratio of ``observed`` events when ``expected`` are expected.

    ``observed * log(observed / expected) - (observed - expected)`` when more events than expected
    were observed, else 0 (the test is one-sided: it looks for excess risk).

    Examples
    --------
    >>> float(poisson_llr(6, 2.0).round(6)), float(poisson_llr(1, 2.0))
    (2.591674, 0.0)
    """
    c = np.asarray(observed, dtype=float)
    u = np.asarray(expected, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = special.xlogy(c, c / u) - (c - u)
    return np.where(c > u, value, 0.0)


def binomial_llr(
    cases: np.ndarray | float, events: np.ndarray | float, matching_ratio: float
) -> np.ndarray:
    """Binomial MaxSPRT log-likelihood ratio of ``cases`` among ``events`` with ``matching_ratio`` controls per case.

    Under the null a case has probability ``p0 = 1 / (1 + z)``; the statistic is the log ratio of
    the binomial likelihood at ``cases / events`` to that at ``p0`` when ``cases / events > p0``,
    else 0.

    Examples
    --------
    >>> float(binomial_llr(10, 25, 3.5).round(6)), float(binomial_llr(1, 10, 1.0))
    (1.985199, 0.0)
    """
    k = np.asarray(cases, dtype=float)
    n = np.asarray(events, dtype=float)
    p0 = 1.0 / (1.0 + matching_ratio)
    with np.errstate(divide="ignore", invalid="ignore"):
        phat = k / n
        value = (
            special.xlogy(k, phat)
            + special.xlogy(n - k, 1.0 - phat)
            - k * math.log(p0)
            - (n - k) * math.log1p(-p0)
        )
    return np.where((n > 0) & (phat > p0), value, 0.0)


# --------------------------------------------------------------------------- checks


def _check_alpha(alpha: float) -> float:
    if not (isinstance(alpha, int | float) and 0 < alpha <= 0.5):
        raise UsageError(f"alpha: found {alpha!r}, expected a number in (0, 0.5]")
    return float(alpha)


def _check_min_events(min_events: int) -> int:
    if (
        isinstance(min_events, bool)
        or not isinstance(min_events, int | np.integer)
        or min_events < 1
    ):
        raise UsageError(f"min_events: found {min_events!r}, expected a positive integer")
    return int(min_events)


def _check_positive(name: str, value: float) -> float:
    if not (isinstance(value, int | float | np.number) and math.isfinite(value) and value > 0):
        raise UsageError(f"{name}: found {value!r}, expected a positive number")
    return float(value)


def _check_rr(rr: float) -> float:
    rr = _check_positive("rr", rr)
    if rr < 1:
        raise UsageError(f"rr: found {rr!r}, expected a relative risk of at least 1")
    return rr


def _poisson_looks(sample_size: float, group_sizes) -> np.ndarray:
    sizes = np.asarray(group_sizes, dtype=float).ravel()
    if sizes.size == 0 or not np.all(np.isfinite(sizes)) or np.any(sizes <= 0):
        raise UsageError(
            f"group_sizes: found {list(np.asarray(group_sizes).ravel())}, expected positive expected counts"
        )
    looks = np.cumsum(sizes)
    if not math.isclose(looks[-1], sample_size, rel_tol=1e-9, abs_tol=1e-12):
        raise UsageError(
            f"group_sizes: found a sum of {format_number(looks[-1], 6)}, expected the sample size"
            f" {format_number(sample_size, 6)}"
        )
    looks[-1] = sample_size
    return looks


def _binomial_looks(max_events: int, group_sizes) -> np.ndarray:
    if group_sizes is None:
        return np.arange(1, max_events + 1, dtype=np.int64)
    raw = np.asarray(group_sizes).ravel()
    if isinstance(group_sizes, int | np.integer) and not isinstance(group_sizes, bool):
        size = int(group_sizes)
        if size < 1 or max_events % size:
            raise UsageError(
                f"group_sizes: found {size}, expected a positive divisor of max_events {max_events}"
            )
        return np.arange(size, max_events + 1, size, dtype=np.int64)
    if raw.size == 0 or not np.all(np.equal(np.mod(raw, 1), 0)) or np.any(raw < 1):
        raise UsageError(
            f"group_sizes: found {list(raw)}, expected positive whole numbers of events"
        )
    looks = np.cumsum(raw.astype(np.int64))
    if looks[-1] != max_events:
        raise UsageError(
            f"group_sizes: found a sum of {int(looks[-1])}, expected max_events {max_events}"
        )
    return looks


# --------------------------------------------------------------------------- crossing engine


@dataclass(frozen=True)
class _Crossing:
    signal: np.ndarray  # probability of signalling at each check
    time_mass: np.ndarray  # E[signal time; signal at check]


def _poisson_sf(k: np.ndarray, mean: float) -> np.ndarray:
    """P(X > k) for X ~ Poisson(mean); 1 for k < 0 (scipy.special.pdtrc, without the overhead of stats)."""
    if mean <= 0:
        return (k < 0).astype(float)
    return np.where(k < 0, 1.0, special.pdtrc(np.maximum(k, 0), mean))


def _poisson_increment(mean: float, length: int) -> np.ndarray:
    """Poisson pmf 0..length-1, cut where the upper tail is negligible."""
    if mean <= 0:
        out = np.zeros(max(length, 1))
        out[0] = 1.0
        return out[:length] if length else out[:0]
    # P(X > mean + 12 sd + 40) is below 1e-18 for every mean (Chernoff bound)
    cut = int(mean + 12.0 * math.sqrt(mean) + 40.0)
    return stats.poisson.pmf(np.arange(min(length, cut)), mean)


def _poisson_crossing(
    times: np.ndarray, thresholds: np.ndarray, rate: float, *, arrival_times: bool
) -> _Crossing:
    """Probabilities that a rate-``rate`` Poisson process first reaches ``thresholds[k]`` by ``times[k]``.

    With ``arrival_times`` the signal happens at the arrival of the threshold-th event (continuous
    MaxSPRT) and ``time_mass`` holds E[arrival time; signal at check k]; otherwise at the check.
    """
    signal = np.zeros(len(times))
    time_mass = np.zeros(len(times))
    q = np.array([1.0])  # P(count = j, no signal yet) at the previous check
    t_prev = 0.0
    for k, (t, c) in enumerate(zip(times, thresholds, strict=True)):
        lam = rate * (t - t_prev)
        c = int(c)
        step = _poisson_increment(lam, c)
        # counts more than len(step) short of c cannot reach it (their chance is below 1e-18)
        j = np.arange(max(0, c - len(step) - 1), len(q))
        need = c - j  # events still needed at this check (<= 0: already enough)
        tail = _poisson_sf(need - 1, lam)  # P(X >= need)
        signal[k] = float(q[j] @ tail)
        if arrival_times:
            tail_next = _poisson_sf(need, lam)  # P(X >= need + 1)
            time_mass[k] = float(q[j] @ (t_prev * tail + need / rate * tail_next))
        else:
            time_mass[k] = t * signal[k]
        q = np.convolve(q[:c], step)[:c]
        t_prev = t
        if q.size == 0:
            break
    return _Crossing(signal, time_mass)


def _binomial_crossing(looks: np.ndarray, thresholds: np.ndarray, p: float) -> _Crossing:
    """Probabilities that the case count among ``looks[k]`` events first reaches ``thresholds[k]`` at look k."""
    signal = np.zeros(len(looks))
    q = np.array([1.0])
    n_prev = 0
    steps: dict[int, np.ndarray] = {}  # the pmf of each group size, computed once
    for k, (n, c) in enumerate(zip(looks, thresholds, strict=True)):
        d = int(n - n_prev)
        step = steps.get(d)
        if step is None:
            step = steps[d] = stats.binom.pmf(np.arange(d + 1), d, p)
        full = np.convolve(q, step)  # cases 0..n
        c = int(min(c, n + 1))
        signal[k] = float(full[c:].sum())
        q = full[:c]
        n_prev = n
        if q.size == 0:
            break
    return _Crossing(signal, signal * looks.astype(float))


# --------------------------------------------------------------------------- Poisson


def _continuous_boundary(
    sample_size: float, cv: float, min_events: int
) -> tuple[np.ndarray, np.ndarray]:
    """Check times and thresholds of the continuous Poisson MaxSPRT.

    The ``c``-th event signals if it arrives by ``mu_c``, the time at which ``c`` observed events
    give a statistic equal to ``cv``: ``mu_c = -c W0(-exp(-1 - cv / c))``. Times are capped at the
    sample size, and from the first ``c`` whose ``mu_c`` reaches it, one last check at the end.
    """
    top = int(sample_size + 10 * math.sqrt(sample_size * (cv + 1)) + 2 * cv + 20)
    while True:
        c = np.arange(min_events, max(top, min_events) + 1, dtype=float)
        mu = -c * special.lambertw(-np.exp(-1.0 - cv / c), 0).real
        for _ in range(2):  # Newton polish near the branch point, where lambertw loses digits
            with np.errstate(divide="ignore", invalid="ignore"):
                step = (c * np.log(c / mu) - c + mu - cv) / (1.0 - c / mu)
                polished = mu - step
            mu = np.where(np.isfinite(polished) & (polished > 0) & (polished < c), polished, mu)
        mu = np.maximum.accumulate(mu)
        reach = np.nonzero(mu >= sample_size)[0]
        if reach.size:
            last = int(reach[0])
            times = np.append(mu[:last], sample_size)
            return times, c[: last + 1].astype(np.int64)
        top *= 2


def _poisson_thresholds(looks: np.ndarray, cv: float, min_events: int) -> np.ndarray:
    """Smallest count at each look whose statistic reaches ``cv`` (and at least ``min_events``)."""
    # n log(n/t) - n + t = cv with n = t x, x > 1: x = exp(1 + W0((cv/t - 1) / e))
    x = np.exp(1.0 + special.lambertw((cv / looks - 1.0) / math.e, 0).real)
    n = np.maximum(np.floor(looks * x).astype(np.int64) - 1, 0)
    for _ in range(64):  # exact integer threshold by comparison with the statistic itself
        low = poisson_llr(n, looks) >= cv
        if not np.any(low & (n > 0)):
            break
        n = np.where(low & (n > 0), n - 1, n)
    for _ in range(64):
        short = poisson_llr(n, looks) < cv
        if not np.any(short):
            break
        n = np.where(short, n + 1, n)
    return np.maximum(n, min_events)


def poisson_critical_counts(
    sample_size: float,
    cv: float,
    *,
    min_events: int = 1,
    group_sizes=None,
) -> tuple[np.ndarray, np.ndarray]:
    """The boundary of a Poisson MaxSPRT as counts: (times, fewest events that signal by each time).

    For continuous monitoring the times are those at which each count stops signalling (the
    ``c``-th event signals if it arrives by the ``c``-th time); for group-sequential monitoring
    they are the looks.

    Examples
    --------
    >>> times, counts = poisson_critical_counts(10, 3.467952, group_sizes=[5, 5])
    >>> times.tolist(), counts.tolist()
    ([5.0, 10.0], [12, 20])
    """
    sample_size = _check_positive("sample_size", sample_size)
    cv = _check_positive("cv", cv)
    min_events = _check_min_events(min_events)
    if group_sizes is None:
        return _continuous_boundary(sample_size, cv, min_events)
    looks = _poisson_looks(sample_size, group_sizes)
    return looks, _poisson_thresholds(looks, cv, min_events)


def _poisson_alpha_continuous(sample_size: float, cv: float, min_events: int) -> float:
    times, thresholds = _continuous_boundary(sample_size, cv, min_events)
    return float(_poisson_crossing(times, thresholds, 1.0, arrival_times=False).signal.sum())


def critical_value_poisson(
    sample_size: float,
    alpha: float = 0.05,
    *,
    min_events: int = 1,
    group_sizes=None,
) -> CriticalValue:
    """Exact critical value of the Poisson MaxSPRT (R: ``CV.Poisson``, ``CV.G.Poisson``).

    Parameters
    ----------
    sample_size
        Length of surveillance in events expected under the null (R's ``SampleSize``).
    alpha
        Significance level, in (0, 0.5].
    min_events
        Fewest observed events for a signal (R's ``M``).
    group_sizes
        Expected events between looks, summing to ``sample_size``, for group-sequential
        monitoring; ``None`` for continuous monitoring.

    Returns
    -------
    CriticalValue

    Raises
    ------
    UsageError
        An argument out of range.
    AnalysisError
        No critical value reaches ``alpha`` (too short a surveillance for ``min_events``).

    Examples
    --------
    >>> round(critical_value_poisson(10, 0.05).critical_value, 6)
    3.467952
    """
    sample_size = _check_positive("sample_size", sample_size)
    alpha = _check_alpha(alpha)
    min_events = _check_min_events(min_events)
    if group_sizes is not None:
        looks = _poisson_looks(sample_size, group_sizes)

        def region(cv: float) -> tuple[np.ndarray, float, float]:
            th = _poisson_thresholds(looks, cv, min_events)
            below = poisson_llr(th - 1, looks)
            below = np.where(th - 1 >= min_events, below, 0.0)
            return th, float(np.max(below)), float(np.min(poisson_llr(th, looks)))

        design = _DiscreteDesign(
            looks=looks,
            region=region,
            alpha_of=lambda th: _poisson_crossing(looks, th, 1.0, arrival_times=False).signal,
            top=None,
            what=f"a surveillance of {format_number(sample_size)} expected events",
        )
        return design.solve("poisson", alpha)
    if stats.poisson.sf(min_events - 1, sample_size) < alpha:
        raise AnalysisError(
            f"no critical value spends alpha {format_number(alpha)}: with at least {min_events} events"
            f" to signal, a surveillance of {format_number(sample_size)} expected events cannot reach it;"
            " lengthen the surveillance or lower min_events"
        )

    def excess(cv: float) -> float:
        return _poisson_alpha_continuous(sample_size, cv, min_events) - alpha

    lo, hi = 1e-9, 4.0
    if excess(lo) < 0:  # even the smallest statistic spends too little: alpha is P(N(T) >= M)
        cv = lo
    else:
        while excess(hi) > 0:
            lo, hi = hi, 2 * hi
        cv = optimize.brentq(excess, lo, hi, xtol=_CV_XTOL, rtol=4 * np.finfo(float).eps)
    times, thresholds = _continuous_boundary(sample_size, cv, min_events)
    signal = _poisson_crossing(times, thresholds, 1.0, arrival_times=False).signal
    return CriticalValue(
        method="poisson",
        continuous=True,
        critical_value=float(cv),
        critical_value_max=float(cv),
        alpha=float(signal.sum()),
        alpha_target=alpha,
        looks=tuple(float(t) for t in times),
        alpha_spent=tuple(float(a) for a in np.cumsum(signal)),
    )


def performance_poisson(
    sample_size: float,
    cv: float,
    *,
    rr: float = 2.0,
    min_events: int = 1,
    group_sizes=None,
) -> Performance:
    """Power, expected time to signal and expected sample size of a Poisson MaxSPRT (R: ``Performance.Poisson``).

    Parameters
    ----------
    sample_size, min_events, group_sizes
        As for :func:`critical_value_poisson`.
    cv
        The critical value.
    rr
        The relative risk (1 gives the type I error).

    Returns
    -------
    Performance
        Times in expected events under the null. For continuous monitoring the signal happens at
        the arrival of the signalling event, whose expected time is exact (the arrival of the m-th
        event in an interval of length d has ``E[T; T <= d] = m / rate * P(Poisson(rate d) > m)``).

    Examples
    --------
    >>> p = performance_poisson(10, 3.467952, rr=2)
    >>> round(p.power, 6), round(p.signal_time, 5), round(p.sample_size, 5)
    (0.685063, 4.13099, 5.97935)
    """
    sample_size = _check_positive("sample_size", sample_size)
    cv = _check_positive("cv", cv)
    rr = _check_rr(rr)
    min_events = _check_min_events(min_events)
    times, thresholds = poisson_critical_counts(
        sample_size, cv, min_events=min_events, group_sizes=group_sizes
    )
    crossing = _poisson_crossing(times, thresholds, rr, arrival_times=group_sizes is None)
    return _performance(rr, times, crossing, sample_size)


def _performance(rr: float, looks: np.ndarray, crossing: _Crossing, end: float) -> Performance:
    power = float(crossing.signal.sum())
    mass = float(crossing.time_mass.sum())
    return Performance(
        relative_risk=rr,
        power=power,
        signal_time=mass / power if power > 0 else math.nan,
        sample_size=mass + (1.0 - power) * end,
        looks=tuple(float(t) for t in looks),
        signal_probability=tuple(float(s) for s in crossing.signal),
    )


# --------------------------------------------------------------------------- binomial


def _binomial_table(looks: np.ndarray, matching_ratio: float, min_events: int) -> np.ndarray:
    """Statistic of k cases (columns 0..N) at each look (rows); -inf where k > n or k < min_events."""
    k = np.arange(int(looks[-1]) + 1)[None, :]
    n = looks[:, None]
    table = binomial_llr(np.minimum(k, n), n, matching_ratio)
    return np.where((k <= n) & (k >= min_events) & (table > 0), table, -np.inf)


def _binomial_thresholds(table: np.ndarray, cv: float) -> np.ndarray:
    reach = table >= cv
    first = np.argmax(reach, axis=1)
    return np.where(reach.any(axis=1), first, _NO_SIGNAL).astype(np.int64)


def binomial_critical_counts(
    max_events: int,
    cv: float,
    *,
    matching_ratio: float,
    min_events: int = 1,
    group_sizes=None,
) -> tuple[np.ndarray, np.ndarray]:
    """The boundary of a binomial MaxSPRT as counts: (looks in events, fewest cases that signal at each).

    A look at which no number of cases signals has the threshold ``looks + 1``.

    Examples
    --------
    >>> looks, cases = binomial_critical_counts(25, 1.985199, matching_ratio=3.5, group_sizes=5)
    >>> looks.tolist(), cases.tolist()
    ([5, 10, 15, 20, 25], [4, 6, 7, 9, 11])
    """
    max_events, matching_ratio, min_events = _binomial_args(max_events, matching_ratio, min_events)
    cv = _check_positive("cv", cv)
    looks = _binomial_looks(max_events, group_sizes)
    th = _binomial_thresholds(_binomial_table(looks, matching_ratio, min_events), cv)
    return looks, np.minimum(th, looks + 1)


def _binomial_args(max_events, matching_ratio, min_events) -> tuple[int, float, int]:
    if (
        isinstance(max_events, bool)
        or not isinstance(max_events, int | np.integer)
        or max_events < 1
    ):
        raise UsageError(
            f"max_events: found {max_events!r}, expected a positive whole number of events"
        )
    matching_ratio = _check_positive("matching_ratio", matching_ratio)
    min_events = _check_min_events(min_events)
    if min_events > max_events:
        raise UsageError(
            f"min_events: found {min_events}, expected at most max_events {int(max_events)}"
        )
    return int(max_events), matching_ratio, min_events


def critical_value_binomial(
    max_events: int,
    alpha: float = 0.05,
    *,
    matching_ratio: float,
    min_events: int = 1,
    group_sizes=None,
) -> CriticalValue:
    """Exact critical value of the binomial MaxSPRT (R: ``CV.Binomial``, ``CV.G.Binomial``).

    Parameters
    ----------
    max_events
        Length of surveillance in events, cases plus controls (R's ``N``).
    alpha
        Significance level, in (0, 0.5].
    matching_ratio
        Controls per case expected under the null (R's ``z``): a case has probability ``1/(1+z)``.
    min_events
        Fewest cases for a signal (R's ``M``).
    group_sizes
        Events between looks: a list summing to ``max_events``, or one size dividing it; ``None``
        for continuous monitoring (a look after every event).

    Returns
    -------
    CriticalValue

    Examples
    --------
    >>> cv = critical_value_binomial(25, 0.05, matching_ratio=3.5, group_sizes=5)
    >>> round(cv.critical_value, 6), round(cv.alpha, 8), round(cv.critical_value_max, 6)
    (1.985199, 0.04775995, 2.175208)
    """
    max_events, matching_ratio, min_events = _binomial_args(max_events, matching_ratio, min_events)
    alpha = _check_alpha(alpha)
    looks = _binomial_looks(max_events, group_sizes)
    table = _binomial_table(looks, matching_ratio, min_events)
    p0 = 1.0 / (1.0 + matching_ratio)
    values = np.unique(table[np.isfinite(table)])
    if values.size == 0:
        raise AnalysisError(
            f"no number of cases can signal with {max_events} events and min_events {min_events}"
        )

    def region(cv: float) -> tuple[np.ndarray, float, float]:
        at = int(np.searchsorted(values, cv, side="left"))  # values[at] is the first >= cv
        lower = float(values[at - 1]) if at > 0 else 0.0
        upper = float(values[at]) if at < values.size else math.inf
        return _binomial_thresholds(table, cv), lower, upper

    design = _DiscreteDesign(
        looks=looks,
        region=region,
        alpha_of=lambda th: _binomial_crossing(looks, th, p0).signal,
        top=float(values[-1]),
        what=f"a surveillance of {max_events} events",
    )
    result = design.solve("binomial", alpha)
    return CriticalValue(
        method=result.method,
        continuous=group_sizes is None,
        critical_value=result.critical_value,
        critical_value_max=result.critical_value_max,
        alpha=result.alpha,
        alpha_target=result.alpha_target,
        looks=result.looks,
        alpha_spent=result.alpha_spent,
    )


def performance_binomial(
    max_events: int,
    cv: float,
    *,
    matching_ratio: float,
    rr: float = 2.0,
    min_events: int = 1,
    group_sizes=None,
) -> Performance:
    """Power, expected time to signal and expected sample size of a binomial MaxSPRT (R: ``Performance.Binomial``).

    Under relative risk ``rr`` a case has probability ``rr / (rr + z)``; times are in events.

    Examples
    --------
    >>> p = performance_binomial(25, 1.985199, matching_ratio=3.5, rr=1, group_sizes=5)
    >>> round(p.power, 8)
    0.04775995
    """
    max_events, matching_ratio, min_events = _binomial_args(max_events, matching_ratio, min_events)
    cv = _check_positive("cv", cv)
    rr = _check_rr(rr)
    looks, thresholds = binomial_critical_counts(
        max_events,
        cv,
        matching_ratio=matching_ratio,
        min_events=min_events,
        group_sizes=group_sizes,
    )
    crossing = _binomial_crossing(looks, thresholds, rr / (rr + matching_ratio))
    return _performance(rr, looks, crossing, float(max_events))


# --------------------------------------------------------------------------- discrete designs


@dataclass(frozen=True)
class _DiscreteDesign:
    """A design whose alpha is a step function of the critical value (integer thresholds at fixed looks).

    ``region(cv)`` gives the thresholds at ``cv`` and the interval ``(lower, upper]`` of critical
    values sharing them; ``alpha_of(thresholds)`` the signal probability at each look under the
    null; ``top`` the largest attainable statistic (``None``: unbounded).
    """

    looks: np.ndarray
    region: Callable[[float], tuple[np.ndarray, float, float]]
    alpha_of: Callable[[np.ndarray], np.ndarray]
    top: float | None
    what: str

    def _no_solution(self, alpha: float) -> AnalysisError:
        return AnalysisError(
            f"no critical value spends at most alpha {format_number(alpha)} with {self.what}"
            " while the test can still signal; lengthen the surveillance or lower min_events"
        )

    def solve(self, method: Method, alpha: float) -> CriticalValue:
        th, _, upper = self.region(1e-12)
        signal = self.alpha_of(th)
        if signal.sum() <= alpha:  # every critical value up to `upper` spends no more than alpha
            return self._result(method, alpha, 0.0, upper, signal)
        lo_upper = upper  # the region of `lo` spends too much; its upper end
        hi_cv = upper
        tried_top = False
        while True:  # find a critical value that spends at most alpha
            if self.top is not None and hi_cv > self.top:
                if tried_top:
                    raise self._no_solution(alpha)
                hi_cv, tried_top = (
                    self.top,
                    True,
                )  # the doubling overshot: the largest statistic last
            th, hi_lower, hi_upper = self.region(hi_cv)
            hi_signal = self.alpha_of(th)
            if hi_signal.sum() <= alpha:
                break
            lo_upper = hi_upper
            hi_cv = 2 * hi_upper + 1
        # Bisection over regions until the region spending too much and the one that does not touch.
        for _ in range(400):
            if hi_lower <= lo_upper or hi_lower - lo_upper < 1e-13:
                break
            mid = 0.5 * (lo_upper + hi_lower)
            th, mid_lower, mid_upper = self.region(mid)
            mid_signal = self.alpha_of(th)
            if mid_signal.sum() > alpha:
                lo_upper = mid_upper
            else:
                hi_lower, hi_upper, hi_signal = mid_lower, mid_upper, mid_signal
        if not np.isfinite(hi_upper):
            raise self._no_solution(alpha)
        return self._result(method, alpha, hi_lower, hi_upper, hi_signal)

    def _result(
        self, method: Method, alpha: float, lower: float, upper: float, signal: np.ndarray
    ) -> CriticalValue:
        cv = (math.floor(lower / _CV_RESOLUTION) + 1) * _CV_RESOLUTION
        if not cv > lower:
            cv = math.nextafter(lower, math.inf)
        if cv > upper:
            cv = 0.5 * (lower + upper) if upper > lower else upper
        return CriticalValue(
            method=method,
            continuous=False,
            critical_value=float(cv),
            critical_value_max=float(upper),
            alpha=float(signal.sum()),
            alpha_target=alpha,
            looks=tuple(float(t) for t in self.looks),
            alpha_spent=tuple(float(a) for a in np.cumsum(signal)),
        )
