"""Progression of a continuous endpoint in an untreated cohort: a linear mixed model of value on age.

The model, fitted by REML, is

    y_ij = (b0 + u0_i) + (b1 + u1_i) * (age_ij - c) + e_ij,   (u0_i, u1_i) ~ N(0, G),   e_ij ~ N(0, s^2)

on the identity or the log scale, the same model as lme4's ``lmer(y ~ age + (age | subject))``. The
fit minimises lme4's profiled REML criterion on per-subject sufficient statistics
(:mod:`pmpath.natural_history.reml`, milliseconds per fit, seconds for 100,000 subjects); statsmodels'
``MixedLM`` is the fallback when that optimisation does not converge, for cohorts small enough for
it (:data:`FALLBACK_MAX_SUBJECTS`). The fixed-effect covariance is lme4's s^2 (X'V^-1X)^-1.
:class:`GrowthCurve` holds the estimates and gives the population trajectory with the range an
untreated subject's observations are expected to fall in, which later criteria compare a patient with.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import ndtri  # scipy.stats.norm.ppf without its overhead

from pmpath.errors import AnalysisError, ConvergenceError, UsageError
from pmpath.natural_history.reml import fit_reml, subject_codes
from pmpath.natural_history.tables import numeric_table

SCALES = ("identity", "log")
# The profiled-REML engine first; statsmodels' MixedLM with these optimizers, in turn, when it fails.
REML_ENGINE = "profiled-reml/SLSQP"
OPTIMIZERS = ("bfgs", "lbfgs", "powell", "nm")
# A random-effect variance this small relative to the residual variance (over the observed
# spread of age, for the slope) is indistinguishable from zero: the covariance is singular.
_SINGULAR_RATIO = 1e-6
_SINGULAR_CORRELATION = 0.9999
# statsmodels' MixedLM loops over subjects in Python (about 6 ms per subject per optimizer on 2
# cores): above this many subjects the fallback would run for minutes, so it is not tried.
FALLBACK_MAX_SUBJECTS = 2000


@dataclass(frozen=True)
class TrajectoryBand:
    """The population mean trajectory and the range of untreated observations around it, on the endpoint's own scale.

    Attributes
    ----------
    age : numpy.ndarray
        Ages (years) of the grid.
    mean : numpy.ndarray
        Population mean at each age; on the log scale the back-transformed mean, i.e. the population median.
    lower, upper : numpy.ndarray
        Limits of the central ``level`` range of a new untreated subject's observation at that age.
    level : float
        Coverage of the band, e.g. 0.95.
    """

    age: np.ndarray
    mean: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    level: float

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"age": self.age, "mean": self.mean, "lower": self.lower, "upper": self.upper}
        )


@dataclass(frozen=True, eq=False)
class GrowthCurve:
    """A fitted natural-history growth curve for one continuous endpoint (see :func:`fit_longitudinal`).

    Estimates are on the model scale (``scale``): for ``"log"`` the intercept is the mean log value
    at ``age_center`` and the slope the change in log value per year.

    Attributes
    ----------
    endpoint : str
    scale : str
        ``"identity"`` or ``"log"``.
    age_center : float
        Age (years) the intercept refers to.
    fixed_effects : numpy.ndarray
        Shape (2,): population mean at ``age_center`` and slope per year.
    fixed_effects_cov : numpy.ndarray
        Shape (2, 2): their covariance, s^2 (X'V^-1X)^-1 as lme4's ``vcov`` (statsmodels' joint-information
        estimate when the fallback engine was used).
    random_effects_cov : numpy.ndarray
        Shape (2, 2): covariance G of the subject intercepts and slopes; the slope row and column are
        zero when ``random_structure == "intercept"``.
    residual_variance : float
        Within-subject residual variance s^2.
    n_subjects, n_observations : int
    person_years : float
        Sum over subjects of the span between their first and last observed age.
    converged : bool
    random_structure : str
        ``"intercept_and_slope"``, or ``"intercept"`` when the full covariance was singular and the
        model was refitted with random intercepts only.
    optimizer : str
        The engine and optimizer whose fit was kept: ``"profiled-reml/SLSQP"`` (the fast engine of
        :mod:`pmpath.natural_history.reml`) or ``"statsmodels/<method>"`` for the ``MixedLM`` fallback.
    log_likelihood : float
        Restricted (REML) log-likelihood.
    age_range : tuple of float
        Youngest and oldest observed age.
    notes : tuple of str
        What happened on the way (optimizers that failed, the fallback and why).
    """

    endpoint: str
    scale: str
    age_center: float
    fixed_effects: np.ndarray
    fixed_effects_cov: np.ndarray
    random_effects_cov: np.ndarray
    residual_variance: float
    n_subjects: int
    n_observations: int
    person_years: float
    converged: bool
    random_structure: str = "intercept_and_slope"
    optimizer: str = ""
    log_likelihood: float = float("nan")
    age_range: tuple[float, float] = (float("nan"), float("nan"))
    notes: tuple[str, ...] = field(default_factory=tuple)

    # ------------------------------------------------------------------ estimates

    @property
    def intercept(self) -> float:
        """Population mean (model scale) at ``age_center``."""
        return float(self.fixed_effects[0])

    @property
    def slope(self) -> float:
        """Population change per year (model scale)."""
        return float(self.fixed_effects[1])

    @property
    def slope_se(self) -> float:
        return float(np.sqrt(self.fixed_effects_cov[1, 1]))

    @property
    def intercept_se(self) -> float:
        return float(np.sqrt(self.fixed_effects_cov[0, 0]))

    @property
    def slope_relative_se(self) -> float:
        """SE/|slope|: how precisely progression is known; infinite for a slope of exactly zero."""
        return float(self.slope_se / abs(self.slope)) if self.slope != 0 else float("inf")

    def slope_ci(self, level: float = 0.95) -> tuple[float, float]:
        """Wald confidence interval of the slope."""
        z = ndtri(0.5 + level / 2)
        return (self.slope - z * self.slope_se, self.slope + z * self.slope_se)

    def intercept_ci(self, level: float = 0.95) -> tuple[float, float]:
        z = ndtri(0.5 + level / 2)
        return (self.intercept - z * self.intercept_se, self.intercept + z * self.intercept_se)

    @property
    def random_effects_sd(self) -> tuple[float, float]:
        """Standard deviations of the subject intercepts and slopes."""
        return (
            float(np.sqrt(self.random_effects_cov[0, 0])),
            float(np.sqrt(self.random_effects_cov[1, 1])),
        )

    @property
    def random_effects_correlation(self) -> float:
        """Correlation of subject intercepts and slopes; NaN when either variance is zero."""
        sd0, sd1 = self.random_effects_sd
        return (
            float(self.random_effects_cov[0, 1] / (sd0 * sd1))
            if sd0 > 0 and sd1 > 0
            else float("nan")
        )

    @property
    def residual_sd(self) -> float:
        return float(np.sqrt(self.residual_variance))

    @property
    def summary(self) -> pd.DataFrame:
        """Fixed effects with standard errors and 95% confidence intervals (model scale)."""
        lo_i, hi_i = self.intercept_ci()
        lo_s, hi_s = self.slope_ci()
        return pd.DataFrame(
            {
                "coef": [self.intercept, self.slope],
                "se": [self.intercept_se, self.slope_se],
                "lower 95%": [lo_i, lo_s],
                "upper 95%": [hi_i, hi_s],
            },
            index=pd.Index(
                [f"mean at age {self.age_center:g}", "slope per year"], name=self.endpoint
            ),
        )

    # ------------------------------------------------------------------ trajectories

    def _design(self, ages: np.ndarray) -> np.ndarray:
        return np.column_stack([np.ones_like(ages), ages - self.age_center])

    def mean_at(self, ages: np.ndarray | list[float] | float) -> np.ndarray:
        """Population mean trajectory at ``ages`` on the endpoint's own scale (the median when ``scale="log"``)."""
        x = self._design(np.atleast_1d(np.asarray(ages, dtype=float)))
        mean = x @ self.fixed_effects
        return np.exp(mean) if self.scale == "log" else mean

    def band(
        self,
        ages: np.ndarray | list[float],
        level: float = 0.95,
        *,
        include_residual: bool = True,
        include_parameter_uncertainty: bool = True,
    ) -> TrajectoryBand:
        """Population mean and the central ``level`` range of untreated observations at each age.

        The range is marginal over subjects: at age a with x = (1, a - age_center) the model-scale
        variance is x'Gx (between subjects) + s^2 (``include_residual``) + x'Vx (uncertainty of the
        fixed effects, ``include_parameter_uncertainty``), and the limits are mean -/+ z * sd, back-
        transformed with exp on the log scale.

        Parameters
        ----------
        ages : array-like
            Ages in years.
        level : float
            Coverage, between 0 and 1.

        Examples
        --------
        >>> band = curve.band(np.linspace(*curve.age_range, 50))  # doctest: +SKIP
        >>> band.to_frame().head()  # doctest: +SKIP
        """
        if not 0 < level < 1:
            raise UsageError(f"level must be between 0 and 1, found {level}")
        a = np.atleast_1d(np.asarray(ages, dtype=float))
        x = self._design(a)
        mean = x @ self.fixed_effects
        var = np.einsum("ij,jk,ik->i", x, self.random_effects_cov, x)
        if include_residual:
            var = var + self.residual_variance
        if include_parameter_uncertainty:
            var = var + np.einsum("ij,jk,ik->i", x, self.fixed_effects_cov, x)
        half = ndtri(0.5 + level / 2) * np.sqrt(np.maximum(var, 0.0))
        lower, upper = mean - half, mean + half
        if self.scale == "log":
            mean, lower, upper = np.exp(mean), np.exp(lower), np.exp(upper)
        return TrajectoryBand(age=a, mean=mean, lower=lower, upper=upper, level=level)

    def __repr__(self) -> str:
        return (
            f"<GrowthCurve {self.endpoint!r} ({self.scale} scale): slope {self.slope:.4g} "
            f"(SE {self.slope_se:.3g}) per year, {self.n_subjects} subjects, {self.n_observations} observations, "
            f"random {self.random_structure}>"
        )


# ---------------------------------------------------------------------- fitting


@dataclass(frozen=True)
class _Estimates:
    """One engine's REML estimates; ``random_effects_cov`` is 2x2, or 1x1 for a random intercept only."""

    fixed_effects: np.ndarray
    fixed_effects_cov: np.ndarray
    random_effects_cov: np.ndarray
    residual_variance: float
    log_likelihood: float
    converged: bool


@dataclass
class _Attempt:
    optimizer: str
    estimates: _Estimates | None = None
    converged: bool = False
    singular: bool = False
    usable: bool = False
    problem: str = ""


def _singular(cov_re: np.ndarray, scale: float, age_variance: float) -> bool:
    """Whether a random-effect covariance is (numerically) on the boundary, measured against the residual variance."""
    variances = np.diag(cov_re).astype(float)
    spread = np.array([1.0, age_variance])[: len(variances)]
    ratios = variances * spread / scale
    if np.any(ratios < _SINGULAR_RATIO):
        return True
    if len(variances) == 2:
        corr = cov_re[0, 1] / np.sqrt(variances[0] * variances[1])
        return bool(abs(corr) > _SINGULAR_CORRELATION)
    return False


def _judge(out: _Attempt, estimates: _Estimates, age_variance: float) -> _Attempt:
    """Record one engine's estimates and whether they converged, are usable and lie on the boundary."""
    out.estimates = estimates
    out.converged = estimates.converged
    cov_re = estimates.random_effects_cov
    scale = estimates.residual_variance
    if not np.all(np.isfinite(cov_re)) or not np.isfinite(scale) or scale <= 0:
        out.problem = f"{out.optimizer}: non-finite variance estimates"
        return out
    out.singular = _singular(cov_re, scale, age_variance)
    fe_cov = estimates.fixed_effects_cov
    finite_se = bool(np.all(np.isfinite(fe_cov)) and np.all(np.diag(fe_cov) > 0))
    if not out.converged:
        out.problem = f"{out.optimizer}: did not converge"
    elif not finite_se:
        out.problem = f"{out.optimizer}: fixed-effect standard errors are not finite"
    out.usable = out.converged and finite_se
    return out


def _reml_attempt(
    y: np.ndarray, t: np.ndarray, groups: np.ndarray, random_slope: bool, age_variance: float
) -> _Attempt:
    out = _Attempt(REML_ENGINE)
    try:
        fit = fit_reml(t, y, groups, random_slope=random_slope)
    except (AnalysisError, np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:
        out.problem = f"{REML_ENGINE}: {type(exc).__name__}: {exc}"
        return out
    cov_re = fit.random_effects_cov if random_slope else fit.random_effects_cov[:1, :1]
    estimates = _Estimates(
        fixed_effects=fit.fixed_effects,
        fixed_effects_cov=fit.fixed_effects_cov,
        random_effects_cov=cov_re,
        residual_variance=fit.residual_variance,
        log_likelihood=fit.log_likelihood,
        converged=fit.converged,
    )
    return _judge(out, estimates, age_variance)


def _statsmodels_attempt(
    y: np.ndarray,
    x: np.ndarray,
    groups: np.ndarray,
    z: np.ndarray,
    optimizer: str,
    age_variance: float,
) -> _Attempt:
    from statsmodels.regression.mixed_linear_model import MixedLM

    out = _Attempt(f"statsmodels/{optimizer}")
    with warnings.catch_warnings():
        # Convergence is judged from the result below; statsmodels' own warnings would only repeat it.
        warnings.simplefilter("ignore")
        try:
            result = MixedLM(y, x, groups=groups, exog_re=z).fit(reml=True, method=optimizer)
            estimates = _Estimates(
                fixed_effects=np.asarray(result.fe_params, dtype=float)[:2].copy(),
                fixed_effects_cov=np.asarray(result.cov_params(), dtype=float)[:2, :2].copy(),
                random_effects_cov=np.asarray(result.cov_re, dtype=float),
                residual_variance=float(result.scale),
                log_likelihood=float(result.llf),
                converged=bool(result.converged),
            )
        except (np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:
            out.problem = f"{out.optimizer}: {type(exc).__name__}: {exc}"
            return out
    return _judge(out, estimates, age_variance)


def fit_longitudinal(
    data: pd.DataFrame,
    endpoint: str,
    scale: str = "identity",
    age_center: float | None = None,
) -> GrowthCurve:
    """Fit the natural-history growth curve of one continuous endpoint.

    A linear mixed model with a random intercept and a random slope on age per subject, fitted by
    REML: first lme4's profiled criterion minimised by :func:`pmpath.natural_history.reml.fit_reml`;
    when that does not converge and the cohort has at most :data:`FALLBACK_MAX_SUBJECTS` subjects,
    statsmodels' ``MixedLM`` with its optimizers in turn (BFGS, L-BFGS, Powell, Nelder-Mead) until
    one converges with finite standard errors; ``optimizer`` names the engine kept. When the random-effect covariance is singular (a variance indistinguishable from
    zero relative to the residual variance, or a correlation of +/-1), the model is refitted with a
    random intercept only and ``random_structure`` says so.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per observation with columns ``subject``, ``age`` (years) and ``value`` (the endpoint's unit).
    endpoint : str
        Endpoint id, carried into the result and error messages.
    scale : {"identity", "log"}
        Scale the model is fitted on; ``"log"`` fits log(value) and needs every value > 0.
    age_center : float, optional
        Age the intercept refers to; default the mean age of the observations, rounded to whole years.

    Returns
    -------
    GrowthCurve

    Raises
    ------
    AnalysisError
        Missing columns, non-finite numbers, values <= 0 on the log scale, fewer than 2 subjects,
        fewer than 3 observations, or no spread in age.
    ConvergenceError
        When no engine or optimizer converges (the message says what to try next).

    Examples
    --------
    >>> import pandas as pd
    >>> from pmpath.natural_history import fit_longitudinal
    >>> curve = fit_longitudinal(cohort_table, "phe", scale="log")  # doctest: +SKIP
    >>> curve.slope, curve.slope_ci()  # doctest: +SKIP
    """
    if scale not in SCALES:
        raise UsageError(f"scale must be one of {SCALES}, found {scale!r}")
    table = numeric_table(data, endpoint, ("age", "value"))
    if scale == "log":
        bad = table["value"] <= 0
        if bad.any():
            raise AnalysisError(
                f"endpoint {endpoint!r}: scale 'log' needs values > 0, found {int(bad.sum())} value(s) <= 0 "
                f"(smallest {table['value'].min():g}); use scale='identity' or remove them"
            )
    # Subjects as codes in the sorted order of their labels, computed once: sorting millions of
    # labels as Python strings costs seconds and hundreds of megabytes, more than the fit.
    labels = table["subject"].astype(str)
    codes = subject_codes(labels)
    n_subjects = int(codes.max()) + 1
    n_obs = len(table)
    if n_subjects < 2 or n_obs < 3:
        raise AnalysisError(
            f"endpoint {endpoint!r}: found {n_subjects} subject(s) and {n_obs} observation(s), expected at least 2 subjects and 3 observations for a mixed model"
        )
    ages = table["age"].to_numpy()
    age_variance = float(np.var(ages))
    if not age_variance > 0:
        raise AnalysisError(
            f"endpoint {endpoint!r}: every observation is at age {ages[0]:g}, expected a spread of ages to estimate a slope"
        )
    center = float(round(float(np.mean(ages)))) if age_center is None else float(age_center)
    if not np.isfinite(center):
        raise UsageError(f"age_center must be a finite number, found {age_center!r}")

    y = table["value"].to_numpy()
    if scale == "log":
        y = np.log(y)
    x = np.column_stack([np.ones(n_obs), ages - center])
    by_subject = pd.Series(ages).groupby(codes, sort=True)
    person_years = float((by_subject.max() - by_subject.min()).sum())

    def attempt(engine: str, random_slope: bool) -> _Attempt:
        if engine == REML_ENGINE:
            return _reml_attempt(y, x[:, 1], codes, random_slope, age_variance)
        z = x if random_slope else x[:, :1]
        return _statsmodels_attempt(y, x, labels.to_numpy(), z, engine, age_variance)

    notes: list[str] = []
    engines: tuple[str, ...] = (REML_ENGINE, *OPTIMIZERS)
    if n_subjects > FALLBACK_MAX_SUBJECTS:
        engines = (REML_ENGINE,)
    attempts: list[_Attempt] = []
    chosen: _Attempt | None = None
    structure = "intercept_and_slope"
    for engine in engines:
        att = attempt(engine, random_slope=True)
        attempts.append(att)
        if att.usable and not att.singular:
            chosen = att
            break
        if att.usable and att.singular:
            break  # a converged fit on the boundary: other optimizers will find the same boundary
    if chosen is None and any(a.singular for a in attempts):
        structure = "intercept"
        notes.append(
            "the random intercept-and-slope covariance was singular (a variance indistinguishable from zero or a "
            "correlation of +/-1); refitted with a random intercept only"
        )
        for engine in engines:
            att = attempt(engine, random_slope=False)
            attempts.append(att)
            if att.usable:
                chosen = att
                break
    if chosen is not None and structure == "intercept" and chosen.singular:
        notes.append(
            "the random-intercept variance is also indistinguishable from zero: subjects do not differ beyond residual noise"
        )
    failed = [a.problem for a in attempts if a is not chosen and a.problem]
    if failed:
        notes.append("optimizers that failed: " + "; ".join(failed))
    if failed and len(engines) == 1:
        notes.append(
            f"statsmodels' MixedLM fallback not tried: {n_subjects} subjects, above the "
            f"{FALLBACK_MAX_SUBJECTS} it can fit in reasonable time"
        )
    if chosen is None:
        skipped = (
            f"; statsmodels' fallback not tried for {n_subjects} subjects"
            if len(engines) == 1
            else ""
        )
        raise ConvergenceError(
            f"endpoint {endpoint!r}: the linear mixed model did not converge with any optimizer "
            f"({'; '.join(failed) or 'no usable fit'}{skipped}). Try scale='log' if the values are skewed, an age_center "
            f"within the observed ages ({ages.min():g}-{ages.max():g}), checking the data for outliers or unit errors, "
            f"or removing subjects with a single observation."
        )

    result = chosen.estimates
    assert result is not None  # a usable attempt has estimates
    cov_re = np.asarray(result.random_effects_cov, dtype=float)
    if structure == "intercept":
        cov_re = np.array([[cov_re[0, 0], 0.0], [0.0, 0.0]])
    return GrowthCurve(
        endpoint=endpoint,
        scale=scale,
        age_center=center,
        fixed_effects=np.asarray(result.fixed_effects, dtype=float).copy(),
        fixed_effects_cov=np.asarray(result.fixed_effects_cov, dtype=float).copy(),
        random_effects_cov=cov_re,
        residual_variance=float(result.residual_variance),
        n_subjects=n_subjects,
        n_observations=n_obs,
        person_years=person_years,
        converged=bool(result.converged),
        random_structure=structure,
        optimizer=chosen.optimizer,
        log_likelihood=float(result.log_likelihood),
        age_range=(float(ages.min()), float(ages.max())),
        notes=tuple(notes),
    )
