"""Natural history from a publication: the fits criterion 5 compares with, built from a published summary.

When no patient-level cohort exists, a publication's summary stands in for the fit. Each builder
returns the same frozen result as fitting subjects' data would (:class:`GrowthCurve`,
:class:`RateFit`, :class:`SurvivalFit`), so the patient's counterfactual and the decision rules run
unchanged; what had to be assumed is in the result's ``notes`` (and, for a survival curve, in
:attr:`LiteratureSurvival.assumption`).

- :func:`growth_from_summary`: fixed intercept and slope at a reference age, G from the
  between-subject SDs and correlation, the residual variance from the residual SD. Missing
  standard errors of the fixed effects are approximated by G / n (the sampling covariance of the
  mean of n subjects' true intercepts and slopes): it leaves out the residual error's share, so it
  is a lower bound, and the fit's notes say so.
- :func:`rate_from_summary`: the rate and NB2 dispersion.
- :func:`survival_from_summary`: survival at stated ages interpolated with a constant hazard between
  them (S(0) = 1, log S linear in age), or, from a median alone, an exponential curve
  (a Weibull one when the shape is published).

Plain numbers in, frozen dataclasses out: nothing here knows about dossiers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from pmpath.errors import UsageError
from pmpath.natural_history.growth import GrowthCurve
from pmpath.natural_history.rates import RateFit
from pmpath.natural_history.survival import SurvivalFit

__all__ = [
    "LITERATURE_OPTIMIZER",
    "LiteratureSurvival",
    "growth_from_summary",
    "rate_from_summary",
    "survival_from_summary",
]

LITERATURE_OPTIMIZER = "published summary"
"""The ``optimizer`` of a :class:`GrowthCurve` built from a publication (nothing was fitted)."""

SURVIVAL_GRID_POINTS = 1001  # the comparator curve's ages, from 0 to its last age
# a curve from a median alone runs to this many medians (S = 1/16 for an exponential one)
MEDIAN_CURVE_SPAN = 4.0


def _finite(name: str, value: float, *, low: float | None = None, strict: bool = False) -> float:
    value = float(value)
    bad = not math.isfinite(value) or (
        low is not None and (value <= low if strict else value < low)
    )
    if bad:
        bound = "" if low is None else f" {'>' if strict else '>='} {low:g}"
        raise UsageError(f"{name}: found {value!r}, expected a finite number{bound}")
    return value


def growth_from_summary(
    endpoint: str,
    *,
    reference_age: float,
    intercept: float,
    slope: float,
    sd_intercept: float,
    sd_slope: float,
    correlation: float,
    residual_sd: float,
    n_subjects: int,
    age_range: tuple[float, float],
    scale: str = "identity",
    intercept_se: float | None = None,
    slope_se: float | None = None,
    slope_intercept_cov: float | None = None,
) -> GrowthCurve:
    """A published linear mixed model of a continuous endpoint as a :class:`GrowthCurve`.

    The model is y_ij = b0 + b1 (age_ij - c) + u0i + u1i (age_ij - c) + e_ij with c =
    ``reference_age``, G = [[sd0^2, r sd0 sd1], [r sd0 sd1, sd1^2]] and e_ij ~ N(0, residual_sd^2).
    The fixed effects' covariance is the published one; a missing standard error is approximated
    by the corresponding entry of G / n (a lower bound: it ignores the residual error), a missing
    covariance by r x SE(b0) x SE(b1) (exactly G01 / n when both SEs are approximated). Each
    approximation is in the curve's ``notes``.

    Parameters
    ----------
    endpoint : str
    reference_age : float
        Age (years) the intercept refers to.
    intercept, slope : float
        Population mean at ``reference_age`` and change per year, on ``scale``.
    sd_intercept, sd_slope, correlation : float
        Between-subject SDs of intercepts and slopes and their correlation.
    residual_sd : float
        Within-subject residual SD.
    n_subjects : int
        Subjects the publication fitted.
    age_range : tuple of float
        Youngest and oldest age observed.
    scale : {"identity", "log"}
    intercept_se, slope_se, slope_intercept_cov : float, optional
        The fixed effects' standard errors and sampling covariance, when published.

    Returns
    -------
    GrowthCurve
        With ``optimizer`` :data:`LITERATURE_OPTIMIZER`, ``n_observations`` 0 and ``person_years``
        NaN (a summary does not give them).

    Examples
    --------
    >>> curve = growth_from_summary("score", reference_age=5, intercept=40, slope=-2,
    ...     sd_intercept=6, sd_slope=1, correlation=0.2, residual_sd=3, n_subjects=25,
    ...     age_range=(2, 12))
    >>> round(curve.slope_se, 3), curve.structure
    (0.2, 'correlated')
    """
    if scale not in ("identity", "log"):
        raise UsageError(f"scale: found {scale!r}, expected 'identity' or 'log'")
    b0 = _finite("intercept", intercept)
    b1 = _finite("slope", slope)
    sd0 = _finite("sd_intercept", sd_intercept, low=0)
    sd1 = _finite("sd_slope", sd_slope, low=0)
    r = _finite("correlation", correlation)
    if not -1 <= r <= 1:
        raise UsageError(f"correlation: found {r!r}, expected a number in [-1, 1]")
    sigma = _finite("residual_sd", residual_sd, low=0, strict=True)
    if int(n_subjects) < 1:
        raise UsageError(f"n_subjects: found {n_subjects!r}, expected at least 1")
    lo, hi = (float(a) for a in age_range)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise UsageError(
            f"age_range: found {list(age_range)}, expected [youngest, oldest] with youngest < oldest"
        )
    n = int(n_subjects)
    g = np.array([[sd0**2, r * sd0 * sd1], [r * sd0 * sd1, sd1**2]])
    notes = [f"built from a published summary ({n} subjects): nothing was fitted here"]
    derived = []
    se0 = intercept_se if intercept_se is not None else sd0 / math.sqrt(n)
    se1 = slope_se if slope_se is not None else sd1 / math.sqrt(n)
    if intercept_se is None:
        derived.append("intercept")
    if slope_se is None:
        derived.append("slope")
    if derived:
        notes.append(
            f"standard error of the {' and '.join(derived)} not published: approximated from the "
            "between-subject SD as SD / sqrt(n), a lower bound (the residual error's share is left out)"
        )
    if slope_intercept_cov is not None:
        cov01 = float(slope_intercept_cov)
    else:
        cov01 = r * se0 * se1
        notes.append(
            "sampling covariance of intercept and slope not published: taken as the random-effects "
            "correlation x SE(intercept) x SE(slope)"
        )
    v = np.array([[se0**2, cov01], [cov01, se1**2]])
    if sd1 == 0:
        structure = "intercept_only"
    elif r == 0:
        structure = "uncorrelated"
    else:
        structure = "correlated"
    return GrowthCurve(
        endpoint=endpoint,
        scale=scale,
        age_center=_finite("reference_age", reference_age, low=0),
        fixed_effects=np.array([b0, b1]),
        fixed_effects_cov=v,
        random_effects_cov=g,
        residual_variance=sigma**2,
        n_subjects=n,
        n_observations=0,
        person_years=float("nan"),
        converged=True,
        structure=structure,
        optimizer=LITERATURE_OPTIMIZER,
        age_range=(lo, hi),
        notes=tuple(notes),
    )


def rate_from_summary(
    endpoint: str,
    *,
    rate_per_year: float,
    dispersion: float,
    n_subjects: int,
    person_years: float | None = None,
    n_events: int | None = None,
    rate_ci: tuple[float, float] | None = None,
    level: float = 0.95,
) -> RateFit:
    """A published untreated event rate (negative binomial, NB2 dispersion) as a :class:`RateFit`.

    The interval is the published one; without it, when ``person_years`` is given, a Wald interval
    on the log rate with Var(log rate) = (1 / mu + alpha) / n for n subjects of equal exposure
    (mu = rate x person_years / n, an approximation said in ``notes``); otherwise NaN.
    ``n_events`` defaults to rate x person_years, rounded.

    Examples
    --------
    >>> fit = rate_from_summary("crises", rate_per_year=2.0, dispersion=0.5, n_subjects=40,
    ...     person_years=200)
    >>> fit.model, fit.n_events, round(fit.log_rate_se, 4)
    ('negative_binomial', 400, 0.1225)
    """
    rate = _finite("rate_per_year", rate_per_year, low=0)
    alpha = _finite("dispersion", dispersion, low=0)
    if int(n_subjects) < 1:
        raise UsageError(f"n_subjects: found {n_subjects!r}, expected at least 1")
    n = int(n_subjects)
    notes = [f"built from a published summary ({n} subjects): nothing was fitted here"]
    years = (
        float("nan")
        if person_years is None
        else _finite("person_years", person_years, low=0, strict=True)
    )
    z = float(ndtri(0.5 + level / 2))
    if rate_ci is not None:
        lo, hi = (float(x) for x in rate_ci)
        se = (math.log(hi) - math.log(lo)) / (2 * z) if lo > 0 and hi > 0 else float("nan")
        ci = (lo, hi)
    elif math.isfinite(years) and rate > 0:
        mu = rate * years / n
        se = math.sqrt((1 / mu + alpha) / n)
        ci = (rate * math.exp(-z * se), rate * math.exp(z * se))
        notes.append(
            "interval of the rate not published: Wald on the log rate with Var = (1/mu + alpha) / n, "
            "as if every subject had the mean exposure"
        )
    else:
        se = float("nan")
        ci = (float("nan"), float("nan"))
        notes.append("interval of the rate not published and no person-years to derive it from")
    if n_events is None:
        events = round(rate * years) if math.isfinite(years) else 0
    else:
        events = int(n_events)
    return RateFit(
        endpoint=endpoint,
        rate_per_year=rate,
        rate_ci=ci,
        log_rate_se=se,
        dispersion=alpha,
        model="poisson" if alpha == 0 else "negative_binomial",
        n_subjects=n,
        n_events=events,
        person_years=years,
        level=level,
        notes=tuple(notes),
    )


@dataclass(frozen=True, eq=False)
class LiteratureSurvival(SurvivalFit):
    """A :class:`SurvivalFit` built from a publication (see :func:`survival_from_summary`).

    ``timeline`` and ``survival`` are the comparator curve on a fine grid of ages (what criterion
    5's time-to-event judgement reads); ``points`` the published (age, survival, lower, upper)
    values, with S(0) = 1 first; ``assumption`` the curve's assumption in one sentence.
    """

    points: tuple[tuple[float, float, float | None, float | None], ...] = ()
    assumption: str = ""


def survival_from_summary(
    endpoint: str,
    *,
    n_subjects: int,
    survival_at: Sequence[tuple[float, float, tuple[float, float] | None]] = (),
    median: float | None = None,
    median_ci: tuple[float | None, float | None] | None = None,
    weibull_shape: float | None = None,
    n_events: int | None = None,
    last_age: float | None = None,
) -> LiteratureSurvival:
    """A published survival summary as the untreated comparator curve.

    From ``survival_at`` (age, survival, ci) points: a constant hazard between consecutive stated
    ages (log S linear in age, from S(0) = 1), the curve ending at the last stated age (criterion
    5 holds it there beyond, conservatively). From a ``median`` alone: S(t) = 2^(-t / median)
    (exponential: a constant hazard from birth), or with a published ``weibull_shape`` rho,
    S(t) = exp(-(t / lambda)^rho) with lambda = median / log(2)^(1/rho), up to ``last_age`` (the
    oldest age followed, when known) or else :data:`MEDIAN_CURVE_SPAN` medians. The stated points
    win when both are given.

    Returns
    -------
    LiteratureSurvival
        The curve on :data:`SURVIVAL_GRID_POINTS` ages (a right-continuous step function at that
        resolution), ``ci_lower``/``ci_upper`` NaN (a publication gives limits at its points only).

    Examples
    --------
    >>> s = survival_from_summary("death", n_subjects=30, median=8.0)
    >>> round(float(s.survival_at(8.0)[0]), 3), s.median
    (0.5, 8.0)
    """
    if int(n_subjects) < 1:
        raise UsageError(f"n_subjects: found {n_subjects!r}, expected at least 1")
    n = int(n_subjects)
    points = [(float(a), float(s), ci) for a, s, ci in survival_at]
    notes = [f"built from a published summary ({n} subjects): nothing was fitted here"]
    published: list[tuple[float, float, float | None, float | None]] = [(0.0, 1.0, None, None)]
    if points:
        ages = np.array([a for a, _, _ in points])
        surv = np.array([s for _, s, _ in points])
        if np.any(ages <= 0) or np.any(np.diff(ages) <= 0) or np.any(np.diff(surv) > 0):
            raise UsageError(
                "survival_at: expected ages > 0 in increasing order with non-increasing survival"
            )
        if np.any((surv < 0) | (surv > 1)):
            raise UsageError("survival_at: expected survival probabilities in [0, 1]")
        knots_a = np.concatenate([[0.0], ages])
        knots_s = np.concatenate([[1.0], surv])
        grid = np.linspace(0.0, knots_a[-1], SURVIVAL_GRID_POINTS)
        grid = np.union1d(grid, knots_a)
        with np.errstate(divide="ignore"):
            log_s = np.log(knots_s)
        if np.any(knots_s == 0):
            # log S = -inf from the first zero on: interpolate S itself into that stretch
            first_zero = int(np.argmax(knots_s == 0))
            curve = np.interp(
                grid, knots_a, np.where(np.arange(len(knots_s)) >= first_zero, 0.0, knots_s)
            )
            keep = grid <= knots_a[first_zero - 1]
            curve[keep] = np.exp(np.interp(grid[keep], knots_a[:first_zero], log_s[:first_zero]))
        else:
            curve = np.exp(np.interp(grid, knots_a, log_s))
        assumption = (
            "the published survival at "
            + ", ".join(f"age {a:g}" for a in ages)
            + " interpolated with a constant hazard between the stated ages (from survival 1 at birth)"
        )
        for a, s, ci in points:
            published.append(
                (a, s, None if ci is None else float(ci[0]), None if ci is None else float(ci[1]))
            )
        below = np.flatnonzero(curve <= 0.5)
        med = float(grid[below[0]]) if below.size else float("inf")
        if median is not None:
            med = float(median)
        med_ci = (float("nan"), float("nan")) if median_ci is None else _interval(median_ci)
    elif median is not None:
        m = _finite("median", median, low=0, strict=True)
        end = float(last_age) if last_age is not None else MEDIAN_CURVE_SPAN * m
        grid = np.linspace(0.0, end, SURVIVAL_GRID_POINTS)
        if weibull_shape is None:
            curve = np.exp(-math.log(2) * grid / m)
            assumption = (
                f"an exponential curve through the published median age {m:g} (a constant hazard "
                "from birth; the publication gives no shape)"
            )
        else:
            rho = _finite("weibull_shape", weibull_shape, low=0, strict=True)
            lam = m / math.log(2) ** (1 / rho)
            curve = np.exp(-((grid / lam) ** rho))
            assumption = f"a Weibull curve through the published median age {m:g} with the published shape {rho:g}"
        published.append((m, 0.5, None, None))
        med = m
        med_ci = (float("nan"), float("nan")) if median_ci is None else _interval(median_ci)
    else:
        raise UsageError("found neither survival_at nor median, expected one of them")
    notes.append(f"comparator curve: {assumption}")
    nan = np.full_like(grid, np.nan)
    return LiteratureSurvival(
        endpoint=endpoint,
        timeline=grid,
        survival=curve,
        ci_lower=nan,
        ci_upper=nan.copy(),
        median=med,
        median_ci=med_ci,
        n_subjects=n,
        n_events=0 if n_events is None else int(n_events),
        person_years=float("nan"),
        notes=tuple(notes),
        points=tuple(published),
        assumption=assumption,
    )


def _interval(ci: tuple[float | None, float | None]) -> tuple[float, float]:
    """A published interval with a not-estimable limit (None) as NaN."""
    lo, hi = ci
    return (float("nan") if lo is None else float(lo), float("nan") if hi is None else float(hi))
