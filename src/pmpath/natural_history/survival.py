"""Age at a milestone (death, loss of ambulation) in an untreated cohort: Kaplan-Meier and Weibull fits.

Ages are from birth. A subject who joined the registry late (``entry_age``) is at risk only from
that age on (left truncation, delayed entry): without it, a cohort that enrolled subjects late
over-represents those who survived to enrol. The Kaplan-Meier estimate, its pointwise interval and
the median with its interval follow R's ``survival::survfit(Surv(entry, age, event) ~ 1)`` with its
defaults (``conf.type = "log"``, the midpoint rule of ``quantile.survfit``). The Weibull fit
maximizes the left-truncated likelihood by Newton's method (trust region) on (log scale, log shape)
with the analytic Hessian: it agrees with R's ``survreg`` to about 1e-9, where lifelines'
``WeibullFitter`` stops about 1e-5 away.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from pmpath.errors import AnalysisError, UsageError
from pmpath.natural_history.tables import numeric_table

__all__ = ["SurvivalFit", "WeibullFit", "fit_survival", "km_quantile"]

_TOLERANCE = math.sqrt(np.finfo(float).eps)  # R's quantile.survfit default


@dataclass(frozen=True, eq=False)
class WeibullFit:
    """A Weibull model of the age at the event, S(t) = exp(-(t / scale) ** shape) (see :func:`fit_survival`).

    The parametrization is lifelines' (``lambda_``, ``rho_``); R's ``survreg(..., dist = "weibull")``
    reports ``scale = exp(intercept)`` and ``shape = 1 / survreg scale``. Intervals are Wald intervals
    on the log scale (as R's ``survreg`` estimates log(scale) and log(1 / shape)).

    Attributes
    ----------
    scale, shape : float
        lambda (years) and rho.
    scale_ci, shape_ci : tuple of float
    median : float
        ``scale * log(2) ** (1 / shape)`` (years).
    median_ci : tuple of float
        Delta-method interval of log(median).
    log_likelihood : float
        Maximized (left-truncated) log-likelihood.
    covariance : numpy.ndarray
        2 x 2 covariance of (log scale, log shape).
    level : float
    """

    scale: float
    scale_ci: tuple[float, float]
    shape: float
    shape_ci: tuple[float, float]
    median: float
    median_ci: tuple[float, float]
    log_likelihood: float
    covariance: np.ndarray
    level: float = 0.95

    def survival_at(self, ages: np.ndarray | list[float] | float) -> np.ndarray:
        """Event-free probability at ``ages`` under the fitted Weibull model."""
        a = np.clip(np.atleast_1d(np.asarray(ages, dtype=float)), 0.0, None)
        return np.exp(-((a / self.scale) ** self.shape))

    def __repr__(self) -> str:
        return (
            f"<WeibullFit scale {self.scale:.4g}, shape {self.shape:.4g}, median {self.median:.4g}>"
        )


@dataclass(frozen=True, eq=False)
class SurvivalFit:
    """A Kaplan-Meier fit for one time-to-event endpoint, with a Weibull fit beside it (see :func:`fit_survival`).

    Attributes
    ----------
    endpoint : str
    timeline : numpy.ndarray
        Ages (years), starting at 0, at which the estimate may step (every distinct age at an event or censoring).
    survival : numpy.ndarray
        Probability of being event-free at each age of ``timeline``.
    ci_lower, ci_upper : numpy.ndarray
        Pointwise confidence limits: Greenwood variance of log S, limits ``S * exp(-/+ z se)``, the upper one
        capped at 1 (R's default ``conf.type = "log"``); NaN where S is 0.
    median : float
        Median age at the event; ``inf`` when the curve never falls to 0.5. On a curve that sits exactly at
        0.5 between two ages the median is their midpoint (as R).
    median_ci : tuple of float
        Confidence interval of the median, read off the pointwise limits; a limit is NaN when it is not
        estimable (the upper limit never falls to 0.5 before the curve ends or reaches 0; R's ``NA``).
    n_subjects, n_events : int
    person_years : float
        Sum of the years at risk (age at event or censoring minus age at entry).
    level : float
        Confidence level.
    n_at_risk, n_event : numpy.ndarray or None
        Subjects at risk and events at each age of ``timeline`` (at risk at t: entered before t, not yet out).
    left_truncated : bool
        Whether any subject entered after birth.
    weibull : WeibullFit or None
        The Weibull fit; None when it could not be fitted (no events, an age of 0; see ``notes``).
    notes : tuple of str
    """

    endpoint: str
    timeline: np.ndarray
    survival: np.ndarray
    ci_lower: np.ndarray
    ci_upper: np.ndarray
    median: float
    median_ci: tuple[float, float]
    n_subjects: int
    n_events: int
    person_years: float
    level: float = 0.95
    n_at_risk: np.ndarray | None = None
    n_event: np.ndarray | None = None
    left_truncated: bool = False
    weibull: WeibullFit | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def median_reached(self) -> bool:
        return bool(np.isfinite(self.median))

    def survival_at(self, ages: np.ndarray | list[float] | float) -> np.ndarray:
        """Event-free probability at ``ages`` (the step function, right-continuous)."""
        a = np.atleast_1d(np.asarray(ages, dtype=float))
        idx = np.searchsorted(self.timeline, a, side="right") - 1
        return np.where(idx >= 0, self.survival[np.clip(idx, 0, None)], 1.0)

    def __repr__(self) -> str:
        median = f"{self.median:.4g}" if self.median_reached else "not reached"
        return f"<SurvivalFit {self.endpoint!r}: median age {median}, {self.n_events} events in {self.n_subjects} subjects>"


def km_quantile(
    times: np.ndarray, curve: np.ndarray, p: float = 0.5, tol: float = _TOLERANCE
) -> float:
    """The age at which a survival curve (or one of its limits) first falls to ``1 - p``, as R reads it.

    ``times`` start at the curve's first age (0, where the curve is 1). A curve that sits within ``tol``
    of ``1 - p`` between two steps gives the midpoint of the plateau (at the end of follow-up: the
    midpoint of the plateau's start and the last age); NaN points (a limit where S is 0) are skipped,
    and a curve that never reaches ``1 - p`` gives NaN. This is the rule of R's ``quantile.survfit``.

    Parameters
    ----------
    times : numpy.ndarray
        Increasing ages.
    curve : numpy.ndarray
        Survival (or a pointwise limit) at each age.
    p : float
        Quantile of the event-age distribution (0.5: the median).
    tol : float
        Tolerance of the plateau test.

    Returns
    -------
    float

    Examples
    --------
    >>> km_quantile(np.array([0.0, 1.0, 2.0, 3.0]), np.array([1.0, 0.75, 0.5, 0.25]))
    2.5
    """
    x = np.asarray(times, dtype=float)
    cdf = 1.0 - np.asarray(curve, dtype=float)
    if len(x) == 0 or not np.any(np.isfinite(cdf)) or np.nanmax(cdf) < p:
        return math.nan
    x_last = x[-1]
    # keep the first age of each level (NaN counts as one level, as R's duplicated)
    key = np.where(np.isnan(cdf), np.inf, cdf)
    _, first = np.unique(key, return_index=True)
    first = np.sort(first)
    x, cdf = x[first], cdf[first]
    index = np.arange(len(cdf))
    ok = np.isfinite(cdf)

    def step_index(shift: float) -> int | None:
        # the index of the first level >= p (on the levels sorted by value, as R's approx sorts them)
        values, idx = cdf[ok] + shift, index[ok]
        order = np.argsort(values, kind="stable")
        values, idx = values[order], idx[order]
        if p < values[0] or p > values[-1]:
            return None
        return int(idx[np.searchsorted(values, p, side="left")])

    i1, i2 = step_index(tol), step_index(-tol)
    if p == 0:
        return float(x[0])
    last = cdf[-1]
    if np.isfinite(last) and abs(p - last) < tol and i1 is not None:
        return float((x[i1] + x_last) / 2)
    if i1 is None or i2 is None:
        return math.nan
    return float((x[i1] + x[i2]) / 2)


def _kaplan_meier(entry: np.ndarray, age: np.ndarray, event: np.ndarray):
    times = np.unique(age)
    d = np.bincount(np.searchsorted(times, age), weights=event, minlength=len(times))
    # at risk at t: entry < t <= age, i.e. #(age >= t) - #(entry >= t) (entry < age for every late entrant);
    # a subject followed from birth is at risk from age 0 itself (an event at birth counts, as in R's Surv(age, event))
    late = np.sort(entry[entry > 0])
    out_by = len(age) - np.searchsorted(np.sort(age), times, side="left")
    in_after = len(late) - np.searchsorted(late, times, side="left")
    n = (out_by - in_after).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.cumprod(1.0 - d / n)
        var_log = np.cumsum(np.where(d > 0, d / (n * (n - d)), 0.0))
    if times[0] > 0:
        times = np.concatenate([[0.0], times])
        s, var_log = np.concatenate([[1.0], s]), np.concatenate([[0.0], var_log])
        n = np.concatenate([[float(np.sum(entry <= 0))], n])
        d = np.concatenate([[0.0], d])
    return times, s, var_log, n, d


def _weibull_loglik(theta: np.ndarray, entry: np.ndarray, age: np.ndarray, event: np.ndarray):
    """Left-truncated Weibull log-likelihood, gradient and Hessian in (log scale, log shape)."""
    a, b = theta
    rho = math.exp(b)
    lt = np.log(age) - a
    le = np.where(entry > 0, np.log(np.where(entry > 0, entry, 1.0)) - a, 0.0)
    u = np.exp(rho * lt)
    v = np.where(entry > 0, np.exp(rho * le), 0.0)
    d = event
    ll = float(np.sum(d * (b + (rho - 1) * np.log(age) - rho * a)) - np.sum(u - v))
    g_a = -rho * d.sum() + rho * np.sum(u - v)
    g_b = np.sum(d * (1 + rho * lt)) - rho * np.sum(u * lt - v * le)
    h_aa = -(rho**2) * np.sum(u - v)
    h_ab = g_a + rho**2 * np.sum(u * lt - v * le)
    h_bb = (
        rho * np.sum(d * lt)
        - np.sum(u * rho * lt * (1 + rho * lt))
        + np.sum(v * rho * le * (1 + rho * le))
    )
    return ll, np.array([g_a, g_b]), np.array([[h_aa, h_ab], [h_ab, h_bb]])


def _weibull(
    entry: np.ndarray, age: np.ndarray, event: np.ndarray, level: float
) -> tuple[WeibullFit | None, str | None]:
    if event.sum() == 0:
        return None, "no events: the Weibull model cannot be fitted"
    if np.any(age <= 0):
        return None, "an age of 0 at the event or censoring: the Weibull model cannot be fitted"
    from scipy.optimize import minimize

    def objective(theta):
        ll, g, _ = _weibull_loglik(theta, entry, age, event)
        return -ll, -g

    def hessian(theta):
        return -_weibull_loglik(theta, entry, age, event)[2]

    start = np.array([math.log(float(np.mean(age))), 0.0])
    with np.errstate(over="ignore", invalid="ignore"):
        result = minimize(
            objective, start, jac=True, hess=hessian, method="trust-exact", options={"gtol": 1e-10}
        )
        ll, grad, hess = _weibull_loglik(result.x, entry, age, event)
    if not (np.all(np.isfinite(grad)) and np.max(np.abs(grad)) < 1e-6 * max(1.0, abs(ll))):
        return None, f"the Weibull fit did not converge ({result.message})"
    try:
        cov_log = np.linalg.inv(-hess)
    except np.linalg.LinAlgError:
        cov_log = np.full((2, 2), np.nan)
    if not (np.all(np.isfinite(cov_log)) and np.all(np.diag(cov_log) > 0)):
        return (
            None,
            "the Weibull fit gave no usable standard errors (the information matrix is singular)",
        )
    lam, rho = math.exp(result.x[0]), math.exp(result.x[1])
    z = float(stats.norm.ppf(0.5 + level / 2))
    se_lam, se_rho = np.sqrt(np.diag(cov_log))
    c = math.log(math.log(2))
    # log median = log lambda + c / rho = log lambda + c * exp(-log rho)
    g = np.array([1.0, -c / rho])
    se_med = float(np.sqrt(g @ cov_log @ g))
    median = lam * math.log(2) ** (1 / rho)
    return (
        WeibullFit(
            scale=lam,
            scale_ci=(lam * math.exp(-z * se_lam), lam * math.exp(z * se_lam)),
            shape=rho,
            shape_ci=(rho * math.exp(-z * se_rho), rho * math.exp(z * se_rho)),
            median=median,
            median_ci=(median * math.exp(-z * se_med), median * math.exp(z * se_med)),
            log_likelihood=ll,
            covariance=cov_log,
            level=level,
        ),
        None,
    )


def fit_survival(data: pd.DataFrame, endpoint: str, level: float = 0.95) -> SurvivalFit:
    """Kaplan-Meier and Weibull estimates of the age at an event for one time-to-event endpoint.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per subject with columns ``subject``, ``age`` (years, at the event or censoring)
        and ``event`` (1 = event, 0 = censored), and optionally ``entry_age`` (years, age at entry
        into the registry; missing or empty: followed from birth).
    endpoint : str
        Endpoint id, carried into the result and error messages.
    level : float
        Confidence level of the pointwise band and of the intervals.

    Returns
    -------
    SurvivalFit

    Raises
    ------
    AnalysisError
        Missing columns, non-finite numbers, negative ages, events other than 0/1, a subject with
        more than one row, or an entry age after the age at the event or censoring.

    Notes
    -----
    A subject who entered after birth at the age of the event or censoring has no time at risk and is
    left out of the estimate (R's ``Surv`` sets such a row to ``NA``); the fit says so in ``notes``.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"subject": list("abcd"), "age": [2.0, 4.0, 6.0, 8.0], "event": [1, 1, 0, 1]})
    >>> fit = fit_survival(table, "death")
    >>> fit.survival_at([2.0, 4.0, 8.0])  # 0.5 exactly from age 4 until the last event at 8
    array([0.75, 0.5 , 0.  ])
    >>> fit.median, fit.median_ci[1]  # the plateau's midpoint; the upper limit is not estimable
    (6.0, nan)
    """
    if not 0 < level < 1:
        raise UsageError(f"level must be between 0 and 1, found {level}")
    table = numeric_table(data, endpoint, ("age", "event"))
    if (table["age"] < 0).any():
        raise AnalysisError(
            f"endpoint {endpoint!r}: found negative ages, expected ages >= 0 at the event or censoring"
        )
    if not table["event"].isin([0.0, 1.0]).all():
        raise AnalysisError(
            f"endpoint {endpoint!r}: found event values {sorted(set(table['event']) - {0.0, 1.0})}, expected 1 (event) or 0 (censored)"
        )
    dupes = table["subject"][table["subject"].duplicated()].unique()
    if len(dupes):
        raise AnalysisError(
            f"endpoint {endpoint!r}: subject(s) {list(dupes[:5])} have more than one row, expected one row per subject"
        )
    entry = np.zeros(len(table))
    if "entry_age" in data.columns:
        raw = data["entry_age"].reset_index(drop=True)
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
        bad = raw.notna().to_numpy() & ~np.isfinite(values)
        if bad.any():
            raise AnalysisError(
                f"endpoint {endpoint!r}: column 'entry_age' has {int(bad.sum())} value(s) that are not finite numbers "
                f"(first: {raw.iloc[int(np.flatnonzero(bad)[0])]!r}), expected ages in years or empty"
            )
        entry = np.where(np.isnan(values), 0.0, values)
    age = table["age"].to_numpy(dtype=float)
    event = table["event"].to_numpy(dtype=float)
    if (entry < 0).any():
        raise AnalysisError(
            f"endpoint {endpoint!r}: found negative entry ages, expected entry ages >= 0"
        )
    late = entry > age
    if late.any():
        i = int(np.flatnonzero(late)[0])
        raise AnalysisError(
            f"endpoint {endpoint!r}: subject {table['subject'].iloc[i]!r} entered at age {entry[i]:g}, after "
            f"the age at event or censoring {age[i]:g}; expected entry_age <= age"
        )
    notes: list[str] = []
    empty = (entry == age) & (entry > 0)
    if empty.any():
        notes.append(
            f"{int(empty.sum())} subject(s) entered at the age of their event or censoring: no time at risk, "
            "left out of the estimate"
        )
        entry, age, event = entry[~empty], age[~empty], event[~empty]
    if len(age) == 0:
        raise AnalysisError(
            f"endpoint {endpoint!r}: found no subject with time at risk, expected entry_age < age for at least one subject"
        )

    times, s, var_log, n_risk, n_event = _kaplan_meier(entry, age, event)
    z = float(stats.norm.ppf(0.5 + level / 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        positive = s > 0
        se = np.sqrt(var_log)
        lower = np.where(positive, s * np.exp(-z * se), np.nan)
        upper = np.where(positive, np.minimum(s * np.exp(z * se), 1.0), np.nan)
    median = km_quantile(times, s)
    if math.isnan(median):
        median = math.inf
    weibull, note = _weibull(entry, age, event, level)
    if note:
        notes.append(note)
    return SurvivalFit(
        endpoint=endpoint,
        timeline=times,
        survival=s,
        ci_lower=lower,
        ci_upper=upper,
        median=median,
        median_ci=(km_quantile(times, lower), km_quantile(times, upper)),
        n_subjects=len(table),
        n_events=int(event.sum()),
        person_years=float(np.sum(age - entry)),
        level=level,
        n_at_risk=n_risk,
        n_event=n_event,
        left_truncated=bool(np.any(entry > 0)),
        weibull=weibull,
        notes=tuple(notes),
    )
