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
from pmpath.natural_history.reml import (
    SubjectSums,
    fit_design,
    fit_reml,
    subject_codes,
    subject_effects,
)
from pmpath.natural_history.tables import numeric_table

__all__ = [
    "AGE_SHAPES",
    "DESIGN_ENGINE",
    "FALLBACK_MAX_SUBJECTS",
    "REML_ENGINE",
    "SCALES",
    "SPLINE_DFS",
    "Covariate",
    "GrowthCurve",
    "TrajectoryBand",
    "age_design",
    "fit_longitudinal",
    "natural_spline_basis",
    "spline_knots",
]

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


AGE_SHAPES = ("linear", "spline")
# Degrees of freedom of the natural cubic spline in age compared by AIC (1 is the straight line).
SPLINE_DFS = (1, 2, 3, 4)
DESIGN_ENGINE = "profiled-reml-design/SLSQP"
# Subjects of the linear fit that starts a spline's or covariates' fit (every k-th subject above this).
START_SUBJECTS = 5000


def natural_spline_basis(
    ages: np.ndarray, knots: tuple[float, ...], boundary_knots: tuple[float, float]
) -> np.ndarray:
    """R's ``splines::ns(ages, knots=knots, Boundary.knots=boundary_knots)`` up to an orthogonal change of basis.

    Cubic B-splines on the knots, without the first (the intercept is a separate column), projected
    onto the functions with zero second derivative at both boundary knots (R does the same by a QR
    decomposition, so the two bases span one space and differ by an orthogonal matrix: fitted values,
    the likelihood and the REML criterion agree). Linear beyond the boundary knots, as in R.
    Shape (len(ages), len(knots) + 1).
    """
    from scipy.interpolate import BSpline

    ages = np.asarray(ages, dtype=float)
    lo, hi = boundary_knots
    aknots = np.concatenate([[lo] * 4, np.sort(np.asarray(knots, dtype=float)), [hi] * 4])
    n_basis = len(aknots) - 4
    spline = BSpline(aknots, np.eye(n_basis), 3, extrapolate=True)
    const = spline.derivative(2)(np.array([lo, hi]))[:, 1:]
    q, _ = np.linalg.qr(const.T, mode="complete")
    project = q[:, 2:]
    # one spline whose coefficients are the projection (the first B-spline dropped by a zero row):
    # evaluated at millions of ages it costs a fraction of evaluating every B-spline and projecting
    coefficients = np.vstack([np.zeros((1, project.shape[1])), project])
    basis = BSpline(aknots, coefficients, 3, extrapolate=True)(np.clip(ages, lo, hi))
    slope = spline.derivative(1)
    for outside, knot in ((ages < lo, lo), (ages > hi, hi)):
        if outside.any():
            basis[outside] += np.outer(ages[outside] - knot, slope(knot)[1:] @ project)
    return basis


def age_design(
    ages: np.ndarray,
    center: float,
    df: int = 1,
    knots: tuple[float, ...] = (),
    boundary_knots: tuple[float, float] = (float("nan"), float("nan")),
) -> np.ndarray:
    """Intercept and age columns: (1, age - center) for ``df == 1``, else 1 and a natural cubic spline with ``df`` columns."""
    ages = np.asarray(ages, dtype=float)
    if df == 1:
        return np.column_stack([np.ones_like(ages), ages - center])
    return np.column_stack([np.ones_like(ages), natural_spline_basis(ages, knots, boundary_knots)])


def spline_knots(ages: np.ndarray, df: int) -> tuple[float, ...]:
    """Interior knots of a natural spline with ``df`` degrees of freedom: R's ``ns`` quantiles of ``ages``."""
    if df <= 1:
        return ()
    probs = np.linspace(0.0, 1.0, df + 1)[1:-1]
    return tuple(float(q) for q in np.quantile(np.asarray(ages, dtype=float), probs))


@dataclass(frozen=True)
class Covariate:
    """A fixed-effect covariate of a growth curve: a categorical one by treatment contrasts, a numeric one centred.

    Attributes
    ----------
    name : str
        Column of the cohort table (e.g. ``genotype_class``, ``sex``, ``age_at_onset``).
    levels : tuple of str
        Categories, the first the reference (empty for a numeric covariate).
    center : float
        Cohort mean of a numeric covariate (NaN for a categorical one): the intercept and the
        trajectory refer to it.
    """

    name: str
    levels: tuple[str, ...] = ()
    center: float = float("nan")

    @property
    def categorical(self) -> bool:
        return bool(self.levels)

    @property
    def columns(self) -> tuple[str, ...]:
        if self.categorical:
            return tuple(f"{self.name}[{level}]" for level in self.levels[1:])
        return (self.name,)

    @property
    def reference(self) -> str | float:
        """The value the population trajectory refers to: the reference level, or the cohort mean."""
        return self.levels[0] if self.categorical else self.center

    def design(self, values: pd.Series) -> np.ndarray:
        if self.categorical:
            # each distinct value named once: a cohort's millions of rows hold a few levels
            codes, distinct = pd.factorize(values)
            names = [str(v) for v in distinct]
            unknown = sorted(set(names) - set(self.levels))
            if unknown:
                raise UsageError(
                    f"covariate {self.name!r}: found level(s) {unknown}, expected one of {list(self.levels)}"
                )
            level = np.array([self.levels.index(name) for name in names], dtype=np.intp)[codes]
            return (level[:, None] == np.arange(1, len(self.levels))).astype(float)
        return (pd.to_numeric(values).to_numpy(dtype=float) - self.center)[:, None]

    @classmethod
    def of(cls, name: str, values: pd.Series, endpoint: str) -> Covariate:
        if values.isna().any():
            raise AnalysisError(
                f"endpoint {endpoint!r}: covariate {name!r} has {int(values.isna().sum())} missing value(s), "
                "expected a value on every row (drop those rows or the covariate)"
            )
        if isinstance(values.dtype, pd.CategoricalDtype):
            levels = tuple(str(c) for c in values.cat.categories if (values == c).any())
        elif pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            return cls(name, center=float(values.mean()))
        else:
            levels = tuple(sorted({str(v) for v in pd.unique(values)}))
        if len(levels) < 2:
            raise AnalysisError(
                f"endpoint {endpoint!r}: covariate {name!r} has the single level {levels[0]!r}, expected at least 2"
            )
        return cls(name, levels=levels)


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
        Shape (2,) for the default model (linear in age, no covariates): population mean at
        ``age_center`` and slope per year. Otherwise shape (p,), the coefficients of
        ``fixed_effect_names`` (intercept, the age terms, the covariate contrasts).
    fixed_effects_cov : numpy.ndarray
        Shape (p, p): their covariance, s^2 (X'V^-1X)^-1 as lme4's ``vcov`` (statsmodels' joint-information
        estimate when the fallback engine was used).
    random_effects_cov : numpy.ndarray
        Shape (2, 2): covariance G of the subject intercepts and slopes (at ``age_center``); diagonal
        when ``structure == "uncorrelated"``, the slope row and column zero when ``"intercept_only"``.
    residual_variance : float
        Within-subject residual variance s^2.
    n_subjects, n_observations : int
    person_years : float
        Sum over subjects of the span between their first and last observed age.
    converged : bool
    structure : str
        Random-effects structure of the kept fit: ``"correlated"`` (lme4's ``(age | subject)``),
        ``"uncorrelated"`` (``(age || subject)``, kept when the correlated fit was singular) or
        ``"intercept_only"`` (``(1 | subject)``, when the uncorrelated fit had no slope variance either).
    fallbacks : tuple of str
        Why each step down that ladder was taken, in order; empty for a correlated fit.
    optimizer : str
        The engine and optimizer whose fit was kept: ``"profiled-reml/SLSQP"`` (the fast engine of
        :mod:`pmpath.natural_history.reml`) or ``"statsmodels/<method>"`` for the ``MixedLM`` fallback.
    log_likelihood : float
        Restricted (REML) log-likelihood.
    age_range : tuple of float
        Youngest and oldest observed age.
    notes : tuple of str
        What happened on the way (the fallbacks, optimizers that failed).
    age_shape : str
        ``"linear"`` or ``"spline"`` (a natural cubic spline in age, ``spline_df`` degrees of freedom).
    spline_df : int
        Degrees of freedom of the age shape kept (1 is the straight line).
    spline_knots, boundary_knots : tuple of float
        Interior knots (quantiles of the observed ages, as R's ``ns``) and boundary knots (their range).
    aic_table : tuple of (int, float)
        With ``age_shape="spline"``: each df compared and its AIC (maximum likelihood, correlated
        random intercept and slope), the lowest kept.
    covariates : tuple of Covariate
        Fixed-effect covariates; the population trajectory refers to each one's ``reference``.
    fixed_effect_names : tuple of str
        Names of the elements of ``fixed_effects``.
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
    structure: str = "correlated"
    fallbacks: tuple[str, ...] = ()
    optimizer: str = ""
    log_likelihood: float = float("nan")
    age_range: tuple[float, float] = (float("nan"), float("nan"))
    notes: tuple[str, ...] = field(default_factory=tuple)
    age_shape: str = "linear"
    spline_df: int = 1
    spline_knots: tuple[float, ...] = ()
    boundary_knots: tuple[float, float] = (float("nan"), float("nan"))
    aic_table: tuple[tuple[int, float], ...] = ()
    covariates: tuple[Covariate, ...] = ()
    fixed_effect_names: tuple[str, ...] = ("intercept", "age")

    # ------------------------------------------------------------------ estimates

    @property
    def random_structure(self) -> str:
        """The structure in the older words: ``"intercept_and_slope"``, ``"uncorrelated_intercept_and_slope"`` or ``"intercept"``."""
        return {
            "correlated": "intercept_and_slope",
            "uncorrelated": "uncorrelated_intercept_and_slope",
            "intercept_only": "intercept",
        }[self.structure]

    @property
    def _intercept_contrast(self) -> np.ndarray:
        return self.design([self.age_center])[0]

    @property
    def _slope_contrast(self) -> np.ndarray:
        """The slope per year: beta[1] when linear; for a spline the mean slope over the observed ages."""
        if self.spline_df == 1:
            c = np.zeros(len(self.fixed_effects))
            c[1] = 1.0
            return c
        lo, hi = self.age_range
        ends = self.design([lo, hi])
        return (ends[1] - ends[0]) / (hi - lo)

    @property
    def intercept(self) -> float:
        """Population mean (model scale) at ``age_center`` (for the covariates' reference values)."""
        return float(self._intercept_contrast @ self.fixed_effects)

    @property
    def slope(self) -> float:
        """Population change per year (model scale); with a spline, the mean change per year over ``age_range``."""
        return float(self._slope_contrast @ self.fixed_effects)

    @property
    def slope_se(self) -> float:
        c = self._slope_contrast
        return float(np.sqrt(c @ self.fixed_effects_cov @ c))

    @property
    def intercept_se(self) -> float:
        c = self._intercept_contrast
        return float(np.sqrt(c @ self.fixed_effects_cov @ c))

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

    def design(
        self, ages: np.ndarray | list[float], covariates: dict[str, object] | None = None
    ) -> np.ndarray:
        """Fixed-effect design rows at ``ages``: intercept, the age terms, the covariate contrasts.

        ``covariates`` gives a value per covariate name; a covariate not given takes its
        ``reference`` (reference level, or the cohort mean).
        """
        a = np.atleast_1d(np.asarray(ages, dtype=float))
        x = age_design(a, self.age_center, self.spline_df, self.spline_knots, self.boundary_knots)
        given = dict(covariates or {})
        unknown = sorted(set(given) - {c.name for c in self.covariates})
        if unknown:
            raise UsageError(
                f"covariates: found {unknown}, expected names among {[c.name for c in self.covariates]}"
            )
        parts = [x]
        for cov in self.covariates:
            value = given.get(cov.name, cov.reference)
            parts.append(cov.design(pd.Series([value] * len(a))))
        return np.column_stack(parts)

    def _design(self, ages: np.ndarray) -> np.ndarray:
        return self.design(ages)

    def _random_design(self, ages: np.ndarray) -> np.ndarray:
        return np.column_stack([np.ones_like(ages), ages - self.age_center])

    def mean_at(
        self, ages: np.ndarray | list[float] | float, covariates: dict[str, object] | None = None
    ) -> np.ndarray:
        """Population mean trajectory at ``ages`` on the endpoint's own scale (the median when ``scale="log"``).

        With covariates, for the values in ``covariates`` (the reference of any not given).
        """
        x = self.design(np.atleast_1d(np.asarray(ages, dtype=float)), covariates)
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

        The range is marginal over subjects: at age a with z = (1, a - age_center) and x the
        fixed-effect design row (:meth:`design`: x = z for the default linear model) the model-scale
        variance is z'Gz (between subjects) + s^2 (``include_residual``) + x'Vx (uncertainty of the
        fixed effects, ``include_parameter_uncertainty``), and the limits are mean -/+ z * sd, back-
        transformed with exp on the log scale. With covariates, the band is for their reference values.

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
        z = self._random_design(a)
        mean = x @ self.fixed_effects
        var = np.einsum("ij,jk,ik->i", z, self.random_effects_cov, z)
        if include_residual:
            var = var + self.residual_variance
        if include_parameter_uncertainty:
            var = var + np.einsum("ij,jk,ik->i", x, self.fixed_effects_cov, x)
        half = ndtri(0.5 + level / 2) * np.sqrt(np.maximum(var, 0.0))
        lower, upper = mean - half, mean + half
        if self.scale == "log":
            mean, lower, upper = np.exp(mean), np.exp(lower), np.exp(upper)
        return TrajectoryBand(age=a, mean=mean, lower=lower, upper=upper, level=level)

    def subject_effects(self, data: pd.DataFrame) -> pd.DataFrame:
        """Each subject's predicted deviation from the population (BLUPs, lme4's ``ranef``) given the cohort table.

        u_i = G Z_i'V_i^-1 (y_i - X_i beta) at the fitted estimates, with Z_i = (1, age - age_center)
        on the model scale. ``data`` is the table the curve was fitted to (rows with missing values dropped).

        Returns
        -------
        pandas.DataFrame
            Index ``subject`` (sorted labels), columns ``intercept`` and ``slope`` (model scale per year).
        """
        table = numeric_table(data, self.endpoint, ("age", "value"))
        ages = table["age"].to_numpy()
        y = np.log(table["value"].to_numpy()) if self.scale == "log" else table["value"].to_numpy()
        x = age_design(
            ages, self.age_center, self.spline_df, self.spline_knots, self.boundary_knots
        )
        extra = data.reset_index(drop=True)
        x = np.column_stack([x, *(cov.design(extra[cov.name]) for cov in self.covariates)])
        labels = table["subject"].astype(str)
        codes = subject_codes(labels)
        u = subject_effects(
            y - x @ self.fixed_effects,
            ages - self.age_center,
            codes,
            int(codes.max()) + 1,
            self.random_effects_cov,
            self.residual_variance,
        )
        index = pd.Index(np.asarray(pd.factorize(labels, sort=True)[1]), name="subject")
        return pd.DataFrame(u, index=index, columns=["intercept", "slope"])

    def __repr__(self) -> str:
        return (
            f"<GrowthCurve {self.endpoint!r} ({self.scale} scale): slope {self.slope:.4g} "
            f"(SE {self.slope_se:.3g}) per year, {self.n_subjects} subjects, {self.n_observations} observations, "
            f"random effects {self.structure}>"
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
    structure: str
    estimates: _Estimates | None = None
    converged: bool = False
    boundary: tuple[str, ...] = ()
    usable: bool = False
    problem: str = ""

    @property
    def singular(self) -> bool:
        return bool(self.boundary)


def _boundary(cov_re: np.ndarray, scale: float, age_variance: float) -> tuple[str, ...]:
    """Which parts of a random-effect covariance lie (numerically) on the boundary, measured against the residual variance.

    ``"intercept variance"`` / ``"slope variance"``: a variance indistinguishable from zero (for the
    slope, over the observed spread of age); ``"correlation"``: a correlation of +/-1.
    """
    variances = np.diag(cov_re).astype(float)
    spread = np.array([1.0, age_variance])[: len(variances)]
    ratios = variances * spread / scale
    names = ("intercept variance", "slope variance")
    out = [names[k] for k in range(len(variances)) if ratios[k] < _SINGULAR_RATIO]
    if len(variances) == 2 and not out:
        corr = cov_re[0, 1] / np.sqrt(variances[0] * variances[1])
        if abs(corr) > _SINGULAR_CORRELATION:
            out.append("correlation")
    return tuple(out)


def _judge(out: _Attempt, estimates: _Estimates, age_variance: float) -> _Attempt:
    """Record one engine's estimates and whether they converged, are usable and lie on the boundary."""
    out.estimates = estimates
    out.converged = estimates.converged
    cov_re = estimates.random_effects_cov
    scale = estimates.residual_variance
    if not np.all(np.isfinite(cov_re)) or not np.isfinite(scale) or scale <= 0:
        out.problem = f"{out.optimizer} ({out.structure}): non-finite variance estimates"
        return out
    out.boundary = _boundary(cov_re, scale, age_variance)
    fe_cov = estimates.fixed_effects_cov
    finite_se = bool(np.all(np.isfinite(fe_cov)) and np.all(np.diag(fe_cov) > 0))
    if not out.converged:
        out.problem = f"{out.optimizer} ({out.structure}): did not converge"
    elif not finite_se:
        out.problem = (
            f"{out.optimizer} ({out.structure}): fixed-effect standard errors are not finite"
        )
    out.usable = out.converged and finite_se
    return out


def _engine_attempt(engine: str, structure: str, age_variance: float, fit_once) -> _Attempt:
    """One fit by one of our REML engines, judged the same way whichever engine ran."""
    out = _Attempt(engine, structure)
    try:
        fit = fit_once()
    except (AnalysisError, np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:
        out.problem = f"{engine} ({structure}): {type(exc).__name__}: {exc}"
        return out
    cov_re = (
        fit.random_effects_cov if structure != "intercept_only" else fit.random_effects_cov[:1, :1]
    )
    estimates = _Estimates(
        fixed_effects=fit.fixed_effects,
        fixed_effects_cov=fit.fixed_effects_cov,
        random_effects_cov=cov_re,
        residual_variance=fit.residual_variance,
        log_likelihood=fit.log_likelihood,
        converged=fit.converged,
    )
    return _judge(out, estimates, age_variance)


def _reml_attempt(
    y: np.ndarray, t: np.ndarray, groups: np.ndarray, structure: str, age_variance: float
) -> _Attempt:
    return _engine_attempt(
        REML_ENGINE, structure, age_variance, lambda: fit_reml(t, y, groups, structure=structure)
    )


def _design_attempt(
    y: np.ndarray,
    x: list[np.ndarray],
    t: np.ndarray,
    groups: np.ndarray,
    structure: str,
    age_variance: float,
    start: np.ndarray | None = None,
    sums: SubjectSums | None = None,
) -> _Attempt:
    return _engine_attempt(
        DESIGN_ENGINE,
        structure,
        age_variance,
        lambda: fit_design(x, t, y, groups, structure=structure, start=start, sums=sums),
    )


def _statsmodels_attempt(
    y: np.ndarray,
    x: np.ndarray,
    groups: np.ndarray,
    structure: str,
    optimizer: str,
    age_variance: float,
    t: np.ndarray | None = None,
) -> _Attempt:
    from statsmodels.regression.mixed_linear_model import MixedLM, MixedLMParams

    out = _Attempt(f"statsmodels/{optimizer}", structure)
    zt = np.column_stack([np.ones(len(y)), x[:, 1] if t is None else t])
    z = zt[:, :1] if structure == "intercept_only" else zt
    options: dict[str, object] = {}
    if structure == "uncorrelated":
        # the off-diagonal of G held at its start, 0
        options["free"] = MixedLMParams.from_components(np.ones(x.shape[1]), np.eye(2))
    with warnings.catch_warnings():
        # Convergence is judged from the result below; statsmodels' own warnings would only repeat it.
        warnings.simplefilter("ignore")
        try:
            result = MixedLM(y, x, groups=groups, exog_re=z).fit(
                reml=True, method=optimizer, **options
            )
            estimates = _Estimates(
                fixed_effects=np.asarray(result.fe_params, dtype=float).copy(),
                fixed_effects_cov=np.asarray(result.cov_params(), dtype=float)[
                    : x.shape[1], : x.shape[1]
                ].copy(),
                random_effects_cov=np.asarray(result.cov_re, dtype=float),
                residual_variance=float(result.scale),
                log_likelihood=float(result.llf),
                converged=bool(result.converged),
            )
        except (np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:
            out.problem = f"{out.optimizer} ({structure}): {type(exc).__name__}: {exc}"
            return out
    return _judge(out, estimates, age_variance)


def fit_longitudinal(
    data: pd.DataFrame,
    endpoint: str,
    scale: str = "identity",
    age_center: float | None = None,
    *,
    age_shape: str = "linear",
    spline_df: int | None = None,
    covariates: tuple[str, ...] | list[str] = (),
) -> GrowthCurve:
    """Fit the natural-history growth curve of one continuous endpoint.

    A linear mixed model with a random intercept and a random slope on age per subject, fitted by
    REML: first lme4's profiled criterion minimised by :func:`pmpath.natural_history.reml.fit_reml`;
    when that does not converge and the cohort has at most :data:`FALLBACK_MAX_SUBJECTS` subjects,
    statsmodels' ``MixedLM`` with its optimizers in turn (BFGS, L-BFGS, Powell, Nelder-Mead) until
    one converges with finite standard errors; ``optimizer`` names the engine kept.

    When the correlated fit is singular (a variance indistinguishable from zero relative to the
    residual variance, or a correlation of +/-1), the model is refitted with uncorrelated random
    intercept and slope (lme4's ``(age || subject)``, a diagonal covariance at ``age_center``); when
    that has no slope variance either (or does not converge), with a random intercept only.
    ``structure`` names the fit kept and ``fallbacks`` says why each step was taken.

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
    age_shape : {"linear", "spline"}
        The population trajectory in age: a straight line (default) or a natural cubic spline (R's ``ns``: interior knots at
        quantiles of the observed ages, boundary knots at their range, linear beyond them).
    spline_df : int, optional
        With ``age_shape="spline"``: its degrees of freedom; default chosen by AIC among
        :data:`SPLINE_DFS` (each fitted by maximum likelihood with correlated random intercept and
        slope, as fixed-effect designs must be compared), the chosen one then fitted by REML.
    covariates : sequence of str
        Columns of ``data`` entered as fixed effects (e.g. ``genotype_class``, ``age_at_onset``,
        ``sex``): text, boolean and categorical columns by treatment contrasts against the first
        level (the first category of a pandas Categorical, else the first in sorted order),
        numeric columns centred at their mean. The random effects stay an intercept and a slope in age.

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
    if age_shape not in AGE_SHAPES:
        raise UsageError(f"age_shape must be one of {AGE_SHAPES}, found {age_shape!r}")
    if spline_df is not None and (
        age_shape != "spline" or int(spline_df) != spline_df or spline_df < 1
    ):
        raise UsageError(
            f"spline_df: found {spline_df!r}, expected a whole number >= 1 and age_shape='spline'"
        )
    covariates = tuple(covariates)
    table = numeric_table(data, endpoint, ("age", "value"))
    absent = [c for c in covariates if c not in data.columns]
    if (
        absent
        or len(set(covariates)) < len(covariates)
        or {"subject", "age", "value"} & set(covariates)
    ):
        raise UsageError(
            f"covariates: found {list(covariates)}, expected distinct columns of the table other than "
            f"subject, age and value (missing: {absent}; columns: {list(data.columns)})"
        )
    covariate_values = data[list(covariates)].reset_index(drop=True)
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
    by_subject = pd.Series(ages).groupby(codes, sort=True)
    person_years = float((by_subject.max() - by_subject.min()).sum())
    t = ages - center
    covs = tuple(Covariate.of(c, covariate_values[c], endpoint) for c in covariates)
    cov_columns = [cov.design(covariate_values[cov.name]) for cov in covs]
    boundary = (float(ages.min()), float(ages.max()))

    def design_of(df: int) -> list[np.ndarray]:
        """Column blocks of the design: intercept, age shape, covariates (stacked only where needed)."""
        if df == 1:
            return [np.ones(n_obs), ages - center, *cov_columns]
        knots = spline_knots(ages, df)
        return [np.ones(n_obs), natural_spline_basis(ages, knots, boundary), *cov_columns]

    near: dict[str, np.ndarray | None] = {}
    shared: list[SubjectSums] = []

    def sums() -> SubjectSums:
        """The subjects' sums every design's fit shares, computed once."""
        if not shared:
            shared.append(SubjectSums.of(t, codes, n_subjects))
        return shared[0]

    # a start needs to be near, not exact: on a large cohort the linear fit behind it takes
    # evenly spaced subjects (in the order of their labels), a few seconds fewer per endpoint
    sample = codes % -(-n_subjects // START_SUBJECTS) == 0

    def start_of(structure: str) -> np.ndarray | None:
        """G / s^2 of the fast engine's linear fit: a start near the spline's or covariates' answer."""
        if structure not in near:
            try:
                lin = fit_reml(t[sample], y[sample], codes[sample], structure=structure)
                near[structure] = lin.random_effects_cov / lin.residual_variance
            except (AnalysisError, ConvergenceError, np.linalg.LinAlgError, FloatingPointError):
                near[structure] = None
        return near[structure]

    aic_table: tuple[tuple[int, float], ...] = ()
    df = 1
    chosen_ml = None
    if age_shape == "spline":
        if spline_df is not None:
            df = int(spline_df)
        else:
            rows, fits = [], {}
            for candidate in SPLINE_DFS:
                # each from the previous df's answer, which differs from it in the last digits
                previous = fits[rows[-1][0]] if rows else None
                start = (
                    previous.random_effects_cov / previous.residual_variance
                    if previous is not None and previous.converged
                    else start_of("correlated")
                )
                try:
                    ml = fit_design(
                        design_of(candidate), t, y, codes, reml=False, start=start, sums=sums()
                    )
                except (AnalysisError, ConvergenceError, np.linalg.LinAlgError, FloatingPointError):
                    continue  # too few distinct ages for this many knots
                rows.append((candidate, float(ml.aic)))
                fits[candidate] = ml
            if not rows:
                raise AnalysisError(
                    f"endpoint {endpoint!r}: no natural spline in age with df in {SPLINE_DFS} could be fitted"
                )
            aic_table = tuple(rows)
            df = min(rows, key=lambda r: r[1])[0]
            chosen_ml = fits[df]
    x = design_of(df)
    plain = df == 1 and not covs  # the default model: the fast engine of reml.py applies
    names = (
        ("intercept", "age")
        if df == 1
        else ("intercept", *(f"ns(age, {df})[{k + 1}]" for k in range(df)))
    ) + tuple(col for cov in covs for col in cov.columns)

    def attempt(engine: str, structure: str) -> _Attempt:
        if engine == REML_ENGINE:
            return _reml_attempt(y, t, codes, structure, age_variance)
        if engine == DESIGN_ENGINE:
            start = (
                chosen_ml.random_effects_cov / chosen_ml.residual_variance
                if structure == "correlated" and chosen_ml is not None and chosen_ml.converged
                else start_of(structure)
            )
            return _design_attempt(y, x, t, codes, structure, age_variance, start, sums())
        return _statsmodels_attempt(
            y, np.column_stack(x), labels.to_numpy(), structure, engine, age_variance, t
        )

    engines: tuple[str, ...] = (REML_ENGINE if plain else DESIGN_ENGINE, *OPTIMIZERS)
    if n_subjects > FALLBACK_MAX_SUBJECTS:
        engines = engines[:1]
    attempts: list[_Attempt] = []

    def first_usable(structure: str) -> _Attempt | None:
        """The first engine's usable fit of ``structure``: a converged fit on the boundary is kept too (other optimizers find the same boundary)."""
        for engine in engines:
            att = attempt(engine, structure)
            attempts.append(att)
            if att.usable:
                return att
        return None

    notes: list[str] = []
    fallbacks: list[str] = []
    chosen = first_usable("correlated")
    if (chosen is not None and chosen.singular) or (
        chosen is None and any(a.singular for a in attempts)
    ):
        where = chosen if chosen is not None else next(a for a in attempts if a.singular)
        fallbacks.append(
            f"the correlated random intercept and slope were singular ({' and '.join(where.boundary)} on the "
            "boundary); refitted with uncorrelated random intercept and slope (lme4's (age || subject))"
        )
        chosen = first_usable("uncorrelated")
        if chosen is None or "slope variance" in chosen.boundary:
            why = (
                "the slope variance indistinguishable from zero"
                if chosen is not None
                else "it did not converge"
            )
            fallbacks.append(
                f"the uncorrelated fit was not kept ({why}); refitted with a random intercept only"
            )
            chosen = first_usable("intercept_only")
    if chosen is not None and "intercept variance" in chosen.boundary:
        notes.append(
            "the random-intercept variance is indistinguishable from zero: subjects do not differ in level beyond residual noise"
        )
    notes = fallbacks + notes
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
    if chosen.structure == "intercept_only":
        cov_re = np.array([[cov_re[0, 0], 0.0], [0.0, 0.0]])
    elif chosen.structure == "uncorrelated":
        cov_re = np.diag(np.diag(cov_re))
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
        structure=chosen.structure,
        fallbacks=tuple(fallbacks),
        optimizer=chosen.optimizer,
        log_likelihood=float(result.log_likelihood),
        age_range=(float(ages.min()), float(ages.max())),
        notes=tuple(notes),
        age_shape=age_shape,
        spline_df=df,
        spline_knots=spline_knots(ages, df),
        boundary_knots=boundary if df > 1 else (float("nan"), float("nan")),
        aic_table=aic_table,
        covariates=covs,
        fixed_effect_names=names,
    )
