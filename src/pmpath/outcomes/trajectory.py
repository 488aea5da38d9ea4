"""Progressive disease: a treated patient's measured course against their own predicted untreated course.

The untreated course comes from a natural-history linear mixed growth model fitted on a cohort,
``y = x(age, patient's covariates)' b + (u0 + u1 * (age - c)) + e``: the fixed-effect design ``x`` is
``(1, age - c)`` for the straight line, or an intercept and a natural cubic spline in age, followed by
the contrasts of the patient's covariates (genotype class, sex, age at onset); the random effects are
always a subject's intercept and slope on age. The patient's own random effects ``u`` are predicted
from ALL their pre-treatment measurements (empirical Bayes, the BLUP), so a baseline taken during a
bad spell is shrunk toward the population and regression to the mean is not mistaken for a
treatment effect. :meth:`UntreatedModel.from_growth_curve` builds the model of one patient from a
cohort's :class:`~pmpath.natural_history.GrowthCurve`. The criterion-5 decision on this prediction is
:func:`pmpath.outcomes.judge_trajectory` (``pmpath.outcomes.decision``), which also uses the
regression-to-the-mean flags and the plot data built here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from scipy.special import ndtri  # scipy.stats.norm's, without its overhead

from pmpath.errors import AnalysisError, UsageError
from pmpath.formatting import format_number, format_percent
from pmpath.natural_history.growth import age_design

Scale = Literal["identity", "log"]
Direction = Literal["higher_is_better", "lower_is_better"]

__all__ = [
    "TrajectoryPlot",
    "UntreatedModel",
    "UntreatedPrediction",
    "predict_untreated",
]

_GRID_POINTS = 61


@dataclass(frozen=True)
class UntreatedModel:
    """A natural-history linear mixed growth model with random intercept and slope, for one patient.

    The linear constructor ``UntreatedModel(fixed_effects, fixed_effects_cov, random_effects_cov,
    residual_variance, age_center)`` is the straight line ``b0 + b1 * (age - age_center)``. The keyword
    fields generalize the fixed-effect design (:meth:`design`): a natural cubic spline in age
    (``spline_df > 1`` with its knots) and the patient's covariate contrasts (``covariate_row``), so
    that the patient's untreated mean is ``design(ages) @ fixed_effects``. The random design
    (:meth:`random_design`) stays ``(1, age - age_center)``.

    Parameters
    ----------
    fixed_effects
        ``(p,)`` coefficients on the model scale; for the straight line without covariates
        ``[b0, b1]``: the population mean at ``age_center`` and the slope per year.
    fixed_effects_cov
        (p, p) sampling covariance of the fixed-effect estimates.
    random_effects_cov
        (2, 2) covariance ``G`` of the subject's (intercept, slope) deviations. May be singular,
        e.g. ``[[g, 0], [0, 0]]`` for a random-intercept-only model.
    residual_variance
        Variance of a single measurement around the subject's own line (``sigma^2 > 0``).
    age_center
        Age (years) the intercept and the random slope refer to.
    scale
        ``"identity"``: the model describes the values; ``"log"``: it describes their natural log.
    spline_df
        Degrees of freedom of the age terms: 1 is the straight line, more a natural cubic spline
        (:func:`pmpath.natural_history.growth.natural_spline_basis`) with ``spline_knots`` interior
        and ``boundary_knots`` boundary knots.
    spline_knots, boundary_knots
        The spline's knots, as fitted (:attr:`pmpath.natural_history.GrowthCurve.spline_knots`).
    covariate_row
        The patient's covariate contrasts, the design columns after the age terms (constant in
        age); empty without covariates.
    fixed_effect_names
        Names of the elements of ``fixed_effects`` (informative only).
    notes
        What building the model for this patient involved (e.g. a covariate level the cohort never
        had, replaced by the reference level); criterion 5 repeats them.
    """

    fixed_effects: np.ndarray
    fixed_effects_cov: np.ndarray
    random_effects_cov: np.ndarray
    residual_variance: float
    age_center: float
    scale: Scale = "identity"
    spline_df: int = 1
    spline_knots: tuple[float, ...] = ()
    boundary_knots: tuple[float, float] = (float("nan"), float("nan"))
    covariate_row: np.ndarray = field(default_factory=lambda: np.empty(0))
    fixed_effect_names: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        df = self.spline_df
        if isinstance(df, bool) or int(df) != df or df < 1:
            raise UsageError(
                f"UntreatedModel.spline_df: found {df!r}, expected a whole number >= 1 (1 is the straight line)"
            )
        object.__setattr__(self, "spline_df", int(df))
        knots = tuple(float(k) for k in self.spline_knots)
        boundary = tuple(float(b) for b in self.boundary_knots)
        if self.spline_df > 1:
            if len(knots) != self.spline_df - 1:
                raise UsageError(
                    f"UntreatedModel.spline_knots: found {len(knots)} knots, expected spline_df - 1 = {self.spline_df - 1}"
                )
            if (
                len(boundary) != 2
                or not np.all(np.isfinite(boundary))
                or boundary[0] >= boundary[1]
            ):
                raise UsageError(
                    f"UntreatedModel.boundary_knots: found {boundary}, expected two finite ages, the first smaller"
                )
        object.__setattr__(self, "spline_knots", knots)
        object.__setattr__(self, "boundary_knots", boundary)
        row = np.array(self.covariate_row, dtype=float).reshape(-1)
        if not np.all(np.isfinite(row)):
            raise UsageError(
                f"UntreatedModel.covariate_row: found {row.tolist()}, expected finite covariate contrasts"
            )
        row.setflags(write=False)
        object.__setattr__(self, "covariate_row", row)
        p = self.n_age_terms + row.size
        for name, shape in (
            ("fixed_effects", (p,)),
            ("fixed_effects_cov", (p, p)),
            ("random_effects_cov", (2, 2)),
        ):
            value = np.array(getattr(self, name), dtype=float)
            if value.shape != shape:
                raise UsageError(
                    f"UntreatedModel.{name}: found shape {value.shape}, expected {shape}"
                )
            if not np.all(np.isfinite(value)):
                raise UsageError(
                    f"UntreatedModel.{name}: found non-finite entries {value.tolist()}, expected finite numbers"
                )
            if value.ndim == 2:
                if not np.allclose(value, value.T, rtol=1e-8, atol=1e-12):
                    raise UsageError(
                        f"UntreatedModel.{name}: found a non-symmetric matrix {value.tolist()}, expected a covariance matrix"
                    )
                value = (value + value.T) / 2
                smallest = np.linalg.eigvalsh(value).min()
                if smallest < -1e-9 * max(1.0, np.abs(value).max()):
                    raise UsageError(
                        f"UntreatedModel.{name}: found smallest eigenvalue {smallest:g}, expected a positive semi-definite covariance matrix"
                    )
            value.setflags(write=False)
            object.__setattr__(self, name, value)
        if not (np.isfinite(self.residual_variance) and self.residual_variance > 0):
            raise UsageError(
                f"UntreatedModel.residual_variance: found {self.residual_variance!r}, expected a positive number"
            )
        if not np.isfinite(self.age_center):
            raise UsageError(
                f"UntreatedModel.age_center: found {self.age_center!r}, expected a finite age in years"
            )
        if self.scale not in ("identity", "log"):
            raise UsageError(
                f"UntreatedModel.scale: found {self.scale!r}, expected 'identity' or 'log'"
            )
        object.__setattr__(self, "residual_variance", float(self.residual_variance))
        object.__setattr__(self, "age_center", float(self.age_center))
        object.__setattr__(self, "fixed_effect_names", tuple(self.fixed_effect_names))
        object.__setattr__(self, "notes", tuple(self.notes))

    @classmethod
    def from_growth_curve(
        cls, curve: Any, covariates: Mapping[str, object] | None = None
    ) -> UntreatedModel:
        """The untreated model of one patient from a cohort's fitted growth curve.

        Parameters
        ----------
        curve
            A :class:`~pmpath.natural_history.GrowthCurve` (any object with its attributes).
        covariates
            The patient's value of each of the curve's covariates (by name). A covariate not given
            (None), or a category the cohort never had, takes the covariate's reference (reference
            level, or the cohort mean), and ``notes`` says so.

        Returns
        -------
        UntreatedModel
        """
        given = dict(covariates or {})
        values: dict[str, object] = {}
        notes: list[str] = []
        for cov in getattr(curve, "covariates", ()):
            value = given.get(cov.name)
            reference = cov.reference
            shown = format_number(reference) if not cov.categorical else repr(reference)
            if value is None or (isinstance(value, float) and not np.isfinite(value)):
                notes.append(
                    f"covariate {cov.name!r}: not stated for the patient; the untreated prediction uses "
                    f"the cohort's reference {shown}"
                )
                value = reference
            elif cov.categorical and str(value) not in cov.levels:
                notes.append(
                    f"covariate {cov.name!r}: the patient's {str(value)!r} is not among the cohort's levels "
                    f"{list(cov.levels)}; the untreated prediction uses the reference level {shown}"
                )
                value = reference
            elif not cov.categorical:
                value = float(value)  # type: ignore[arg-type]
            values[cov.name] = value
        n_age = 2 if curve.spline_df == 1 else 1 + curve.spline_df
        full = np.asarray(curve.design([curve.age_center], values), dtype=float)[0]
        return cls(
            fixed_effects=np.asarray(curve.fixed_effects, dtype=float),
            fixed_effects_cov=np.asarray(curve.fixed_effects_cov, dtype=float),
            random_effects_cov=np.asarray(curve.random_effects_cov, dtype=float),
            residual_variance=float(curve.residual_variance),
            age_center=float(curve.age_center),
            scale=curve.scale,
            spline_df=int(curve.spline_df),
            spline_knots=tuple(curve.spline_knots),
            boundary_knots=tuple(curve.boundary_knots),
            covariate_row=full[n_age:],
            fixed_effect_names=tuple(getattr(curve, "fixed_effect_names", ())),
            notes=tuple(notes),
        )

    @property
    def n_age_terms(self) -> int:
        """Columns of the design in age: intercept and slope (2), or intercept and ``spline_df`` spline columns."""
        return 2 if self.spline_df == 1 else 1 + self.spline_df

    @property
    def linear(self) -> bool:
        """True for the straight line without covariates (fixed and random designs are the same)."""
        return self.spline_df == 1 and self.covariate_row.size == 0

    def random_design(self, ages: np.ndarray) -> np.ndarray:
        """Rows ``[1, age - age_center]``: the design of the random intercept and slope."""
        ages = np.asarray(ages, dtype=float).reshape(-1)
        return np.column_stack([np.ones_like(ages), ages - self.age_center])

    def design(self, ages: np.ndarray) -> np.ndarray:
        """Fixed-effect design rows at ``ages``: ``[1, age - age_center]`` for the straight line, else the
        intercept and spline columns, followed by the patient's covariate contrasts."""
        ages = np.asarray(ages, dtype=float).reshape(-1)
        if self.linear:
            return self.random_design(ages)
        x = age_design(
            ages, self.age_center, self.spline_df, self.spline_knots, self.boundary_knots
        )
        if self.covariate_row.size:
            x = np.column_stack(
                [x, np.broadcast_to(self.covariate_row, (ages.size, self.covariate_row.size))]
            )
        return x

    def population_mean(self, ages: np.ndarray) -> np.ndarray:
        """The population's (the patient's covariates') mean on the model scale at ``ages``, any shape."""
        ages = np.asarray(ages, dtype=float)
        if self.linear:
            return self.fixed_effects[0] + self.fixed_effects[1] * (ages - self.age_center)
        return (self.design(ages.reshape(-1)) @ self.fixed_effects).reshape(ages.shape)

    def to_model_scale(self, values: np.ndarray, what: str = "values") -> np.ndarray:
        """Measured values -> model scale (their log for a log-scale model)."""
        values = np.asarray(values, dtype=float).reshape(-1)
        if self.scale == "identity":
            return values
        bad = values[~(values > 0)]
        if bad.size:
            raise AnalysisError(
                f"{what}: found {bad[0]!r}, expected positive values for a log-scale model"
            )
        return np.log(values)

    def to_original_scale(self, values: np.ndarray) -> np.ndarray:
        """Model scale -> measured values (exp for a log-scale model; maps a mean to the median)."""
        values = np.asarray(values, dtype=float)
        return np.exp(values) if self.scale == "log" else values


@dataclass(frozen=True)
class UntreatedPrediction:
    """The patient's predicted untreated course at ``ages``, with its prediction band.

    ``mean``, ``sd``, ``lower`` and ``upper`` are on the model scale; ``median_original``,
    ``lower_original`` and ``upper_original`` are back-transformed (for a log-scale model,
    ``exp(mean)`` is the predicted median, not the mean). ``covariance`` is the full joint
    prediction-error covariance of new measurements at ``ages``: the errors are correlated through
    the patient's shared random effects and the shared fixed-effect estimates. ``conditional`` is
    False when there was no pre-treatment measurement and the prediction is the population's
    (marginal) one.
    """

    ages: np.ndarray
    mean: np.ndarray
    sd: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    median_original: np.ndarray
    lower_original: np.ndarray
    upper_original: np.ndarray
    covariance: np.ndarray
    level: float
    scale: Scale
    conditional: bool
    n_pre: int
    random_effects: np.ndarray  # BLUP of (u0, u1)
    random_effects_cov: (
        np.ndarray
    )  # conditional covariance of (u0, u1) given the pre-treatment data
    note: str


@dataclass(frozen=True)
class TrajectoryPlot:
    """What a report plots: observed values and the untreated prediction on a grid, original scale."""

    pre_ages: np.ndarray
    pre_values: np.ndarray
    post_ages: np.ndarray
    post_values: np.ndarray
    grid_ages: np.ndarray
    predicted_median: np.ndarray
    predicted_lower: np.ndarray
    predicted_upper: np.ndarray
    population_median: np.ndarray
    population_lower: np.ndarray
    population_upper: np.ndarray
    level: float


# --------------------------------------------------------------------------- prediction


def _as_ages(values: object, name: str) -> np.ndarray:
    out = np.asarray(values, dtype=float).reshape(-1)
    if not np.all(np.isfinite(out)):
        raise UsageError(
            f"{name}: found non-finite ages {out[~np.isfinite(out)].tolist()}, expected finite ages in years"
        )
    return out


def _check_level(level: float, name: str) -> None:
    if not 0 < level < 1:
        raise UsageError(f"{name}: found {level!r}, expected a probability between 0 and 1")


def _conditional_moments(
    model: UntreatedModel, pre_ages: np.ndarray, pre_y: np.ndarray, ages: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Predicted mean and joint prediction-error covariance at ``ages`` given the pre data (model scale).

    With ``K = G Z' V^-1`` (``V = Z G Z' + s2 I``), the BLUP is ``u_hat = K (y - X b_hat)`` and the
    prediction error of a new measurement ``y_f = X_f b + Z_f u + e_f`` is
    ``(X_f - Z_f K X) (b - b_hat) + Z_f (u - u_hat_b) + e_f``, three independent parts (the
    fixed effects come from the cohort, not from this patient). ``X`` is the fixed design
    (:meth:`UntreatedModel.design`), ``Z`` the random one; for the straight line ``Z = X``.
    """
    G = model.random_effects_cov
    s2 = model.residual_variance
    b = model.fixed_effects
    Xf = model.design(ages)
    Zf = Xf if model.linear else model.random_design(ages)
    if pre_ages.size == 0:
        u = np.zeros(2)
        C = G.copy()
        A = Xf
    else:
        X = model.design(pre_ages)
        Z = X if model.linear else model.random_design(pre_ages)
        V = Z @ G @ Z.T + s2 * np.eye(len(pre_ages))
        K = np.linalg.solve(V, Z @ G).T  # G Z' V^-1 (V and G symmetric)
        u = K @ (pre_y - X @ b)
        C = G - K @ Z @ G
        C = (C + C.T) / 2
        A = Xf - Zf @ K @ X
    mean = Xf @ (b + u) if model.linear else Xf @ b + Zf @ u
    cov = A @ model.fixed_effects_cov @ A.T + Zf @ C @ Zf.T + s2 * np.eye(len(ages))
    return mean, (cov + cov.T) / 2, u, C


def predict_untreated(
    model: UntreatedModel,
    pre_ages: np.ndarray,
    pre_values: np.ndarray,
    post_ages: np.ndarray,
    level: float = 0.95,
) -> UntreatedPrediction:
    """Predict a patient's untreated measurements at ``post_ages`` from all their pre-treatment ones.

    Parameters
    ----------
    model
        The natural-history growth model.
    pre_ages, pre_values
        The patient's pre-treatment measurements (ages in years, values on the original scale).
        All of them are used, not only the last. May be empty: the prediction is then the
        population's (marginal) one.
    post_ages
        Ages (years) to predict at.
    level
        Coverage of the prediction band for a single new measurement.

    Returns
    -------
    UntreatedPrediction
        Mean and SD on the model scale, the band, its back-transform, and the joint covariance.
        The SD combines the conditional variance of the patient's random effects, the residual
        variance and the fixed-effect estimation uncertainty.

    Examples
    --------
    >>> m = UntreatedModel(np.array([50.0, -5.0]), np.diag([0.5, 0.05]), np.diag([25.0, 4.0]), 4.0, 10.0)
    >>> p = predict_untreated(m, [9.0, 9.5, 10.0], [44.0, 42.0, 41.0], [11.0])
    >>> bool(p.mean[0] < 50.0 - 5.0)
    True
    """
    _check_level(level, "level")
    pre_ages = _as_ages(pre_ages, "pre_ages")
    post_ages = _as_ages(post_ages, "post_ages")
    pre_values = np.asarray(pre_values, dtype=float).reshape(-1)
    if pre_values.shape != pre_ages.shape:
        raise UsageError(
            f"pre_values: found {pre_values.size} values for {pre_ages.size} pre_ages, expected one value per age"
        )
    if not np.all(np.isfinite(pre_values)):
        raise UsageError(
            f"pre_values: found non-finite values {pre_values[~np.isfinite(pre_values)].tolist()}, expected finite measurements"
        )
    pre_y = model.to_model_scale(pre_values, "pre_values")
    mean, cov, u, C = _conditional_moments(model, pre_ages, pre_y, post_ages)
    sd = np.sqrt(np.clip(np.diag(cov), 0, None))
    q = ndtri(0.5 + level / 2)
    lower, upper = mean - q * sd, mean + q * sd
    if pre_ages.size:
        note = f"conditional on the patient's {pre_ages.size} pre-treatment measurement(s) (empirical Bayes prediction of their own intercept and slope)"
    else:
        note = "no pre-treatment measurement: the prediction is the population's (marginal) course, not conditioned on the patient"
    return UntreatedPrediction(
        ages=post_ages,
        mean=mean,
        sd=sd,
        lower=lower,
        upper=upper,
        median_original=model.to_original_scale(mean),
        lower_original=model.to_original_scale(lower),
        upper_original=model.to_original_scale(upper),
        covariance=cov,
        level=level,
        scale=model.scale,
        conditional=bool(pre_ages.size),
        n_pre=int(pre_ages.size),
        random_effects=u,
        random_effects_cov=C,
        note=note,
    )


# --------------------------------------------------------------------------- shared with the decision rule


def _sign(direction: str) -> float:
    if direction == "higher_is_better":
        return 1.0
    if direction == "lower_is_better":
        return -1.0
    raise UsageError(
        f"direction: found {direction!r}, expected 'higher_is_better' or 'lower_is_better'"
    )


def _regression_to_mean_flags(
    model: UntreatedModel, pre_ages: np.ndarray, pre_y: np.ndarray, sign: float, level: float
) -> list[str]:
    """Signs that treatment started at an unusually bad moment (what regression to the mean feeds on).

    "Worst" is judged on the deviations from the population's mean course, not on the raw values:
    in a progressive disease the latest raw value is nearly always the worst, which says nothing
    about a bad moment.
    """
    flags: list[str] = []
    if pre_ages.size == 0:
        return flags
    order = np.argsort(pre_ages, kind="stable")
    ages, y = pre_ages[order], pre_y[order]
    harm = -sign * (y - model.population_mean(ages))  # larger = worse than expected
    if y.size >= 2 and harm[-1] >= harm[:-1].max():
        flags.append(
            f"regression to the mean: treatment started at the patient's worst pre-treatment value relative to "
            f"the population's expected course (last of {y.size} pre-treatment measurements); the untreated "
            f"prediction uses all of them, shrunk toward the population, rather than the last value alone"
        )
    # The population (marginal) band at the last pre-treatment age.
    mean, cov, _, _ = _conditional_moments(model, np.empty(0), np.empty(0), ages[-1:])
    q = ndtri(0.5 + level / 2)
    z = sign * (y[-1] - mean[0]) / np.sqrt(cov[0, 0])
    if z < -q:
        flags.append(
            f"regression to the mean: the last pre-treatment value (age {format_number(ages[-1])}) lies beyond the "
            f"population's {format_percent(level)} band on the harmful side ({format_number(abs(z))} SD from the population mean); an untreated patient "
            f"selected at such a value tends to drift back toward the population"
        )
    return flags


def _plot(
    model: UntreatedModel,
    pre_ages: np.ndarray,
    pre_values: np.ndarray,
    post_ages: np.ndarray,
    post_values: np.ndarray,
    level: float,
) -> TrajectoryPlot:
    every = np.concatenate([pre_ages, post_ages])
    grid = np.linspace(every.min(), every.max(), _GRID_POINTS) if every.size else np.empty(0)
    patient = predict_untreated(model, pre_ages, pre_values, grid, level)
    population = predict_untreated(model, np.empty(0), np.empty(0), grid, level)
    return TrajectoryPlot(
        pre_ages=pre_ages,
        pre_values=pre_values,
        post_ages=post_ages,
        post_values=post_values,
        grid_ages=grid,
        predicted_median=patient.median_original,
        predicted_lower=patient.lower_original,
        predicted_upper=patient.upper_original,
        population_median=population.median_original,
        population_lower=population.lower_original,
        population_upper=population.upper_original,
        level=level,
    )
