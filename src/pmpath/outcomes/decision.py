"""Criterion 5 for a progressive (continuous) endpoint: a calibrated decision on the mean deviation of a
treated patient's course from their own predicted untreated course, with its simulator.

The estimand is the mean, over the *counted* post-dose visits (those more than ``onset_days`` after the
first dose), of the deviation of the measured value from the patient's predicted untreated value, in the
direction of benefit, on the model scale (a mean log ratio for a log-scale model). The prediction is the
empirical-Bayes one of :func:`pmpath.outcomes.predict_untreated` (all pre-treatment values, shrunk toward
the cohort), and the estimate's standard error comes from the same joint prediction-error covariance, so
under the natural-history model and no effect ``effect / se`` is standard normal.

The rule (:class:`TrajectoryRule`)
----------------------------------
* ``frequentist`` (default): ``met`` when the one-sided ``1 - alpha`` lower confidence bound of the effect
  exceeds ``mcid`` and the estimates over the earlier and the later half of the counted visits are both in
  the benefit direction (the effect is consistent, not one lucky visit); ``insufficient`` with fewer than
  ``min_counted_visits`` counted visits; ``not_met`` otherwise.
* ``bayesian``: ``met`` when the posterior probability that the effect exceeds ``mcid`` is at least
  ``posterior_threshold`` (normal likelihood ``effect ~ N(true, se^2)`` given the fitted variance
  components, conjugate normal prior), with the same consistency condition. The sceptical-prior
  probability (prior centred on no effect with 5% probability of exceeding ``plausible_effect``) is shown,
  not deciding.
* Regression to the mean. Conditioning on all pre-treatment values removes the bias of selecting a
  patient at a bad value *under the model*, but not a transient dip of the last value (a bad day, an
  intercurrent illness) that the model takes for a lasting deviation: the prediction is pulled toward the
  dip and the untreated rebound reads as benefit (simulated from the abe-ucd cohort, the test alone rejects
  about 7% at a nominal 2.5% after a dip of 1-2 residual SDs). The same analysis is therefore always
  repeated leaving out the last pre-treatment visit (the sensitivity analysis, which a dip of that visit
  cannot bias), and ``met`` needs both analyses to meet the rule whenever treatment followed a bad value:
  the last value is the patient's worst relative to the population's mean course, or lies beyond the
  population band on the harmful side (the flags of
  :func:`pmpath.outcomes.trajectory._regression_to_mean_flags`), or, in addition, the last value lies
  on the harmful side of its prediction from the patient's other pre-treatment values by more than
  half a prediction SD. The first two flags alone miss a third of the dips, and the rule then still
  rejected 3.4%; with the third flag it rejects about 2.7% after a dip and 1.7-2% without one (when a
  flag fires without a dip, the main analysis is exact and the analysis without the last visit
  conservative, as a flagged last value is low for the patient), at a cost of 3-5 points of power
  against the test alone. A threshold of 0 (flag whenever the last value is worse than predicted)
  gives 2.4% and 1.5-1.8%; -1 gives 3.1% and 1.9-2.2%. The measured operating characteristics are in
  ``tests/test_calibration_trajectory.py``.

The algebra is the one of :func:`pmpath.outcomes.trajectory._conditional_moments` (which matches lme4's
conditional modes) in a form that needs only 2x2 matrices per patient: with ``M = G Z'Z + s2 I`` the BLUP
is ``u = M^-1 G Z'r``, its conditional covariance ``C = s2 M^-1 G`` and the loading of the fixed-effect
error on a prediction at design row ``x`` is ``s2 x M^-1`` for the straight line (``Z = X``), and
``x - z' M^-1 G Z'X`` when the fixed design ``X`` (a spline, covariates) differs from the random ``Z``.
:func:`judge_trajectory_batch` applies it to many patients at once (10,000 patients in milliseconds)
and :func:`judge_trajectory` is its ``n = 1`` case with the human-readable result.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy.special import ndtr, ndtri

from pmpath.dossier.vocabulary import DAYS_PER_YEAR, Status
from pmpath.errors import UsageError
from pmpath.formatting import (
    format_interval,
    format_number,
    format_p_value,
    format_percent,
    format_ratio,
)
from pmpath.outcomes.trajectory import (
    Direction,
    TrajectoryPlot,
    UntreatedModel,
    UntreatedPrediction,
    _as_ages,
    _plot,
    _regression_to_mean_flags,
    _sign,
    predict_untreated,
)

__all__ = [
    "DECISION_CODES",
    "NormalPrior",
    "SensitivityAnalysis",
    "TrajectoryJudgement",
    "TrajectoryJudgementBatch",
    "TrajectoryRule",
    "judge_trajectory",
    "judge_trajectory_batch",
    "simulate_trajectory_patients",
]

Decision = Literal["frequentist", "bayesian"]

DECISION_CODES: tuple[Status, ...] = (Status.met, Status.insufficient, Status.not_met)
"""Status of each integer decision code of :class:`TrajectoryJudgementBatch` (0 met, 1 insufficient, 2 not met)."""

_MET, _INSUFFICIENT, _NOT_MET = 0, 1, 2
_SCEPTICAL_TAIL = 0.05  # prior probability of exceeding plausible_effect under the sceptical prior
# flag when the last pre value is over half a prediction SD worse than the others predict
_LAST_PRE_Z = -0.5


# --------------------------------------------------------------------------- the rule


@dataclass(frozen=True)
class NormalPrior:
    """A normal prior on the true effect (model scale, benefit direction); ``sd=None`` is flat."""

    mean: float = 0.0
    sd: float | None = None

    def __post_init__(self) -> None:
        if not np.isfinite(self.mean):
            raise UsageError(f"NormalPrior.mean: found {self.mean!r}, expected a finite number")
        if self.sd is not None and not (np.isfinite(self.sd) and self.sd > 0):
            raise UsageError(
                f"NormalPrior.sd: found {self.sd!r}, expected a positive number or None (flat)"
            )

    @classmethod
    def sceptical(cls, plausible_effect: float) -> NormalPrior:
        """Centred on no effect, with 5% prior probability of exceeding ``plausible_effect``."""
        if not (np.isfinite(plausible_effect) and plausible_effect > 0):
            raise UsageError(
                f"plausible_effect: found {plausible_effect!r}, expected a positive effect (model scale, benefit direction)"
            )
        return cls(0.0, float(plausible_effect / ndtri(1 - _SCEPTICAL_TAIL)))

    def describe(self) -> str:
        if self.sd is None:
            return "flat prior"
        return f"normal prior (mean {format_number(self.mean)}, SD {format_number(self.sd)})"


@dataclass(frozen=True)
class TrajectoryRule:
    """The criterion-5 decision rule for a continuous endpoint (see the module docstring).

    Parameters
    ----------
    decision
        ``"frequentist"`` (lower confidence bound above ``mcid``) or ``"bayesian"`` (posterior
        probability of exceeding ``mcid``).
    alpha_one_sided
        Level of the one-sided lower confidence bound (``1 - alpha`` bound).
    mcid
        Minimal clinically important difference on the model scale, in the benefit direction (for a
        log-scale model a log ratio); at least 0.
    onset_days
        Post-dose visits count only when more than this many days after the first dose.
    prediction_level
        Coverage of the per-visit prediction band (shown) and of the population band of the
        regression-to-the-mean flag.
    min_counted_visits
        Fewer counted visits give ``insufficient``.
    posterior_threshold
        Posterior probability needed by the bayesian rule.
    prior
        Prior of the bayesian rule; the default is flat.
    plausible_effect
        An effect the therapy could plausibly have (model scale, benefit direction), used for the
        sceptical prior; without it there is no sceptical line.
    """

    decision: Decision = "frequentist"
    alpha_one_sided: float = 0.025
    mcid: float = 0.0
    onset_days: float = 0.0
    prediction_level: float = 0.95
    min_counted_visits: int = 2
    posterior_threshold: float = 0.975
    prior: NormalPrior = field(default_factory=NormalPrior)
    plausible_effect: float | None = None

    def __post_init__(self) -> None:
        if self.decision not in ("frequentist", "bayesian"):
            raise UsageError(
                f"TrajectoryRule.decision: found {self.decision!r}, expected 'frequentist' or 'bayesian'"
            )
        if not 0 < self.alpha_one_sided < 0.5:
            raise UsageError(
                f"TrajectoryRule.alpha_one_sided: found {self.alpha_one_sided!r}, expected a level between 0 and 0.5"
            )
        if not (np.isfinite(self.mcid) and self.mcid >= 0):
            raise UsageError(
                f"TrajectoryRule.mcid: found {self.mcid!r}, expected a non-negative effect on the model scale"
            )
        if not (np.isfinite(self.onset_days) and self.onset_days >= 0):
            raise UsageError(
                f"TrajectoryRule.onset_days: found {self.onset_days!r}, expected a non-negative number of days"
            )
        if not 0 < self.prediction_level < 1:
            raise UsageError(
                f"TrajectoryRule.prediction_level: found {self.prediction_level!r}, expected a probability between 0 and 1"
            )
        if (
            isinstance(self.min_counted_visits, bool)
            or int(self.min_counted_visits) != self.min_counted_visits
            or self.min_counted_visits < 1
        ):
            raise UsageError(
                f"TrajectoryRule.min_counted_visits: found {self.min_counted_visits!r}, expected a whole number of at least 1"
            )
        if not 0.5 < self.posterior_threshold < 1:
            raise UsageError(
                f"TrajectoryRule.posterior_threshold: found {self.posterior_threshold!r}, expected a probability between 0.5 and 1"
            )
        if not isinstance(self.prior, NormalPrior):
            raise UsageError(
                f"TrajectoryRule.prior: found {type(self.prior).__name__}, expected a NormalPrior"
            )
        if self.plausible_effect is not None:
            NormalPrior.sceptical(self.plausible_effect)  # validates
            object.__setattr__(self, "plausible_effect", float(self.plausible_effect))
        object.__setattr__(self, "min_counted_visits", int(self.min_counted_visits))

    @property
    def onset_years(self) -> float:
        return self.onset_days / DAYS_PER_YEAR

    @property
    def sceptical_prior(self) -> NormalPrior | None:
        return (
            None if self.plausible_effect is None else NormalPrior.sceptical(self.plausible_effect)
        )


# --------------------------------------------------------------------------- batch algebra


def _as_rows(values: object, n: int | None, name: str) -> np.ndarray:
    """A (k,) or (n, k) array as (n, k) float (a shared schedule is broadcast)."""
    out = np.asarray(values, dtype=float)
    if out.ndim == 1:
        out = out[None, :]
    if out.ndim != 2:
        raise UsageError(f"{name}: found shape {out.shape}, expected (k,) or (n, k)")
    if n is not None and out.shape[0] not in (1, n):
        raise UsageError(f"{name}: found {out.shape[0]} rows, expected {n} (one per patient)")
    if not np.all(np.isfinite(out)):
        raise UsageError(f"{name}: found non-finite entries, expected finite numbers")
    return out


def _inv2(M: np.ndarray) -> np.ndarray:
    """Inverse of a stack of 2x2 matrices (closed form)."""
    det = M[:, 0, 0] * M[:, 1, 1] - M[:, 0, 1] * M[:, 1, 0]
    out = np.empty_like(M)
    out[:, 0, 0] = M[:, 1, 1]
    out[:, 1, 1] = M[:, 0, 0]
    out[:, 0, 1] = -M[:, 0, 1]
    out[:, 1, 0] = -M[:, 1, 0]
    return out / det[:, None, None]


@dataclass(frozen=True)
class _Conditional:
    """Per-patient BLUP quantities: ``u`` (n, 2), ``C`` (n, 2, 2), ``L = s2 M^-1`` (n, 2, 2).

    ``B = M^-1 G Z'X`` (n, 2, p) for a model whose fixed design differs from the random one (a
    spline or covariates; None for the straight line): the BLUP's loading on the fixed-effect error.
    """

    u: np.ndarray
    C: np.ndarray
    L: np.ndarray
    B: np.ndarray | None = None


def _fixed_rows(model: UntreatedModel, ages: np.ndarray) -> np.ndarray:
    """The fixed design at an (n, k) array of ages: shape (n, k, p)."""
    n, k = ages.shape
    return model.design(ages.reshape(-1)).reshape(n, k, model.fixed_effects.size)


def _conditional(
    model: UntreatedModel, pre_ages: np.ndarray, pre_y: np.ndarray, pre_mask: np.ndarray
) -> _Conditional:
    """The BLUP of each patient's random effects from the pre-treatment values where ``pre_mask``."""
    G, s2 = model.random_effects_cov, model.residual_variance
    t = pre_ages - model.age_center
    w = pre_mask.astype(float)
    if model.linear:
        r = (pre_y - (model.fixed_effects[0] + model.fixed_effects[1] * t)) * w
    else:
        r = (pre_y - model.population_mean(pre_ages)) * w
    xtx = np.empty((t.shape[0], 2, 2))
    xtx[:, 0, 0] = w.sum(axis=1)
    xtx[:, 0, 1] = xtx[:, 1, 0] = (w * t).sum(axis=1)
    xtx[:, 1, 1] = (w * t * t).sum(axis=1)
    xtr = np.stack([r.sum(axis=1), (r * t).sum(axis=1)], axis=1)
    M = np.einsum("ij,njk->nik", G, xtx) + s2 * np.eye(2)
    Minv = _inv2(M)
    u = np.einsum("nij,jk,nk->ni", Minv, G, xtr)
    C = s2 * np.einsum("nij,jk->nik", Minv, G)
    C = (C + np.swapaxes(C, 1, 2)) / 2
    B = None
    if not model.linear:
        X = _fixed_rows(model, pre_ages) * w[:, :, None]
        ztx = np.stack([X.sum(axis=1), np.einsum("nk,nkp->np", t, X)], axis=1)  # Z'WX (n, 2, p)
        B = np.einsum("nij,jk,nkp->nip", Minv, G, ztx)
    return _Conditional(u=u, C=C, L=s2 * Minv, B=B)


def _weighted(
    model: UntreatedModel,
    cond: _Conditional,
    post_t: np.ndarray,
    post_y: np.ndarray,
    weights: np.ndarray,
    sign: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Estimate and SE of ``sum_j weights_j * sign * (y_j - predicted_j)`` per patient.

    The variance is ``a' (L Vb L') a + a' C a + s2 |w|^2`` with ``a = sum_j w_j x_j``: fixed-effect
    error, the patient's random-effect error and the residuals, independent parts. When the fixed
    design ``x`` differs from the random one ``z`` (a spline, covariates), ``a = sum_j w_j z_j``, the
    fixed-effect loading is ``sum_j w_j x_j - B' a`` and the prediction ``sum_j w_j x_j' b + a' u``.
    """
    a = np.stack([weights.sum(axis=1), (weights * post_t).sum(axis=1)], axis=1)
    if cond.B is None:
        pred = (weights * post_y).sum(axis=1) - np.einsum(
            "ni,ni->n", a, model.fixed_effects + cond.u
        )
        la = np.einsum("nji,nj->ni", cond.L, a)  # L' a  (L is symmetric only when G is)
    else:
        ax = np.einsum("nm,nmp->np", weights, _fixed_rows(model, post_t + model.age_center))
        pred = (
            (weights * post_y).sum(axis=1)
            - ax @ model.fixed_effects
            - np.einsum("ni,ni->n", a, cond.u)
        )
        la = ax - np.einsum("ni,nip->np", a, cond.B)
    var = (
        np.einsum("ni,ij,nj->n", la, model.fixed_effects_cov, la)
        + np.einsum("ni,nij,nj->n", a, cond.C, a)
        + model.residual_variance * (weights**2).sum(axis=1)
    )
    return sign * pred, np.sqrt(np.clip(var, 0, None))


def _half_weights(counted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Equal weights over the earlier and the later half of each row's counted visits (in column order).

    With an odd count the middle visit is in neither half: the halves are disjoint, two separate looks.
    """
    rank = np.cumsum(counted, axis=1) - 1  # 0-based rank among counted visits
    k = counted.sum(axis=1, keepdims=True)
    half = k // 2
    early = counted & (rank < half)
    late = counted & (rank >= k - half)
    with np.errstate(invalid="ignore", divide="ignore"):
        return early / half, late / half


def _rtm_flags(
    model: UntreatedModel, pre_t: np.ndarray, pre_y: np.ndarray, sign: float, level: float
) -> np.ndarray:
    """Vectorised :func:`~pmpath.outcomes.trajectory._regression_to_mean_flags`: did either fire?

    The last pre-treatment visit is the last column (the caller sorts by age).
    """
    n, k = pre_t.shape
    if k == 0:
        return np.zeros(n, dtype=bool)
    if model.linear:
        harm = -sign * (pre_y - (model.fixed_effects[0] + model.fixed_effects[1] * pre_t))
    else:
        harm = -sign * (pre_y - model.population_mean(pre_t + model.age_center))
    worst = harm[:, -1] >= harm[:, :-1].max(axis=1) if k >= 2 else np.zeros(n, dtype=bool)
    x0, x1 = np.ones(n), pre_t[:, -1]
    if model.linear:
        V = model.random_effects_cov + model.fixed_effects_cov
        var = V[0, 0] * x0 + 2 * V[0, 1] * x1 + V[1, 1] * x1 * x1 + model.residual_variance
    else:
        G = model.random_effects_cov
        x = model.design(pre_t[:, -1] + model.age_center)
        var = (
            G[0, 0] * x0
            + 2 * G[0, 1] * x1
            + G[1, 1] * x1 * x1
            + np.einsum("ni,ij,nj->n", x, model.fixed_effects_cov, x)
            + model.residual_variance
        )
    z = -harm[:, -1] / np.sqrt(var)
    return worst | (z < -ndtri(0.5 + level / 2))


def _last_pre_z(
    model: UntreatedModel, pre_t: np.ndarray, pre_y: np.ndarray, others: np.ndarray, sign: float
) -> np.ndarray:
    """Benefit-signed z of the last pre-treatment value against its prediction from the others.

    NaN without at least two pre-treatment visits.
    """
    n, k = pre_t.shape
    if k < 2:
        return np.full(n, np.nan)
    cond = _conditional(model, pre_t + model.age_center, pre_y, others)
    est, se = _weighted(model, cond, pre_t[:, -1:], pre_y[:, -1:], np.ones((n, 1)), sign)
    return est / se


def _posterior_probability(
    effect: np.ndarray, se: np.ndarray, threshold: float, prior: NormalPrior | None
) -> np.ndarray:
    """``P(true effect > threshold | estimate)`` with ``estimate ~ N(true, se^2)`` and a normal prior."""
    if prior is None:
        return np.full(np.shape(effect), np.nan)
    if prior.sd is None:
        mean, sd = effect, se
    else:
        precision = 1 / se**2 + 1 / prior.sd**2
        mean = (effect / se**2 + prior.mean / prior.sd**2) / precision
        sd = 1 / np.sqrt(precision)
    return ndtr((mean - threshold) / sd)


@dataclass(frozen=True)
class _Analysis:
    effect: np.ndarray
    se: np.ndarray
    lower: np.ndarray
    p: np.ndarray
    posterior: np.ndarray
    sceptical: np.ndarray
    early: np.ndarray
    late: np.ndarray
    passes: np.ndarray  # the rule's inequality and the consistency condition


def _analyse(
    model: UntreatedModel,
    pre_t: np.ndarray,
    pre_y: np.ndarray,
    pre_mask: np.ndarray,
    post_t: np.ndarray,
    post_y: np.ndarray,
    counted: np.ndarray,
    sign: float,
    rule: TrajectoryRule,
) -> _Analysis:
    cond = _conditional(model, pre_t + model.age_center, pre_y, pre_mask)
    k = counted.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        w = counted / k
    w = np.nan_to_num(w)
    effect, se = _weighted(model, cond, post_t, post_y, w, sign)
    we, wl = (np.nan_to_num(x) for x in _half_weights(counted))
    early, _ = _weighted(model, cond, post_t, post_y, we, sign)
    late, _ = _weighted(model, cond, post_t, post_y, wl, sign)
    ok = k[:, 0] > 0
    nan = np.where(ok, 1.0, np.nan)
    effect, se = effect * nan, se * nan
    early = np.where(k[:, 0] >= 2, early, np.nan)
    late = np.where(k[:, 0] >= 2, late, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        lower = effect - ndtri(1 - rule.alpha_one_sided) * se
        p = ndtr(-(effect - rule.mcid) / se)
        posterior = _posterior_probability(effect, se, rule.mcid, rule.prior)
        sceptical = _posterior_probability(effect, se, rule.mcid, rule.sceptical_prior)
        consistent = (early > 0) & (late > 0)
        if rule.decision == "frequentist":
            passes = (lower > rule.mcid) & consistent
        else:
            passes = (posterior >= rule.posterior_threshold) & consistent
    return _Analysis(effect, se, lower, p, posterior, sceptical, early, late, passes)


@dataclass(frozen=True)
class TrajectoryJudgementBatch:
    """:func:`judge_trajectory_batch` for ``n`` patients: arrays of shape (n,), model scale, benefit direction.

    ``decision`` holds codes into :data:`DECISION_CODES` (0 met, 1 insufficient, 2 not met). ``effect``,
    ``se``, ``lower_bound``, ``p_one_sided`` and ``posterior_probability`` are the main analysis (all
    pre-treatment values); the ``sensitivity_*`` arrays leave out the last pre-treatment visit (computed
    for every patient, deciding only where ``regression_to_mean``). ``last_pre_z`` is the benefit-signed
    z of the last pre-treatment value against its prediction from the other ones. ``p_decisive`` is the p-value of the
    test the frequentist rule uses: the main one, or the larger of the two where the flag fires.
    """

    decision: np.ndarray
    effect: np.ndarray
    se: np.ndarray
    p_one_sided: np.ndarray
    lower_bound: np.ndarray
    posterior_probability: np.ndarray
    sceptical_probability: np.ndarray
    effect_early: np.ndarray
    effect_late: np.ndarray
    n_counted: np.ndarray
    regression_to_mean: np.ndarray
    sensitivity_effect: np.ndarray
    sensitivity_se: np.ndarray
    sensitivity_p_one_sided: np.ndarray
    sensitivity_posterior_probability: np.ndarray
    sensitivity_passes: np.ndarray
    last_pre_z: np.ndarray
    p_decisive: np.ndarray

    @property
    def met(self) -> np.ndarray:
        return self.decision == _MET


def _batch(
    model: UntreatedModel,
    pre_ages: object,
    pre_values: object,
    post_ages: object,
    post_values: object,
    direction: Direction,
    rule: TrajectoryRule,
    dosing_ages: object,
) -> tuple[TrajectoryJudgementBatch, _Analysis, _Analysis]:
    sign = _sign(direction)
    if not isinstance(rule, TrajectoryRule):
        raise UsageError(f"rule: found {type(rule).__name__}, expected a TrajectoryRule")
    pre_v = np.asarray(pre_values, dtype=float)
    post_v = np.asarray(post_values, dtype=float)
    n = (pre_v.reshape(1, -1) if pre_v.ndim < 2 else pre_v).shape[0]
    if post_v.ndim == 2:
        n = max(n, post_v.shape[0])
    pre_a = _as_rows(pre_ages, n, "pre_ages")
    post_a = _as_rows(post_ages, n, "post_ages")
    pre_v = _as_rows(pre_v, n, "pre_values")
    post_v = _as_rows(post_v, n, "post_values")
    if pre_v.shape[1] != pre_a.shape[1]:
        raise UsageError(
            f"pre_values: found {pre_v.shape[1]} values per patient for {pre_a.shape[1]} pre_ages, expected one value per age"
        )
    if post_v.shape[1] != post_a.shape[1]:
        raise UsageError(
            f"post_values: found {post_v.shape[1]} values per patient for {post_a.shape[1]} post_ages, expected one value per age"
        )
    dose = np.asarray(dosing_ages, dtype=float).reshape(-1)
    if dose.size not in (1, n) or not np.all(np.isfinite(dose)):
        raise UsageError(
            f"dosing_age(s): found {dose.size} value(s) {dose[:3].tolist()}, expected 1 or {n} finite ages in years"
        )
    shape_pre, shape_post = (n, pre_a.shape[1]), (n, post_a.shape[1])
    pre_a, pre_v = np.broadcast_to(pre_a, shape_pre), np.broadcast_to(pre_v, shape_pre)
    post_a, post_v = np.broadcast_to(post_a, shape_post), np.broadcast_to(post_v, shape_post)
    order = np.argsort(pre_a, axis=1, kind="stable")
    pre_a = np.take_along_axis(pre_a, order, axis=1)
    pre_v = np.take_along_axis(pre_v, order, axis=1)
    order = np.argsort(post_a, axis=1, kind="stable")
    post_a = np.take_along_axis(post_a, order, axis=1)
    post_v = np.take_along_axis(post_v, order, axis=1)
    pre_y = model.to_model_scale(pre_v.reshape(-1), "pre_values").reshape(shape_pre)
    post_y = model.to_model_scale(post_v.reshape(-1), "post_values").reshape(shape_post)
    pre_t, post_t = pre_a - model.age_center, post_a - model.age_center
    counted = post_a > (dose[:, None] + rule.onset_years)

    mask = np.ones(shape_pre, dtype=bool)
    main = _analyse(model, pre_t, pre_y, mask, post_t, post_y, counted, sign, rule)
    if shape_pre[1]:
        mask[:, -1] = False
    sens = _analyse(model, pre_t, pre_y, mask, post_t, post_y, counted, sign, rule)
    rtm = _rtm_flags(model, pre_t, pre_y, sign, rule.prediction_level)
    last_z = _last_pre_z(model, pre_t, pre_y, mask, sign)
    rtm = rtm | (last_z < _LAST_PRE_Z)

    n_counted = counted.sum(axis=1)
    passes = main.passes & (~rtm | sens.passes)
    decision = np.where(passes, _MET, _NOT_MET)
    decision = np.where(n_counted < rule.min_counted_visits, _INSUFFICIENT, decision)
    p_decisive = np.where(rtm, np.fmax(main.p, sens.p), main.p)
    batch = TrajectoryJudgementBatch(
        decision=decision.astype(np.int8),
        effect=main.effect,
        se=main.se,
        p_one_sided=main.p,
        lower_bound=main.lower,
        posterior_probability=main.posterior,
        sceptical_probability=main.sceptical,
        effect_early=main.early,
        effect_late=main.late,
        n_counted=n_counted,
        regression_to_mean=rtm,
        sensitivity_effect=sens.effect,
        sensitivity_se=sens.se,
        sensitivity_p_one_sided=sens.p,
        sensitivity_posterior_probability=sens.posterior,
        sensitivity_passes=sens.passes,
        last_pre_z=last_z,
        p_decisive=p_decisive,
    )
    return batch, main, sens


def judge_trajectory_batch(
    model: UntreatedModel,
    pre_ages: np.ndarray,
    pre_values: np.ndarray,
    post_ages: np.ndarray,
    post_values: np.ndarray,
    direction: Direction,
    rule: TrajectoryRule | None = None,
    *,
    dosing_ages: np.ndarray | float,
) -> TrajectoryJudgementBatch:
    """:func:`judge_trajectory` for many patients sharing one visit-schedule shape, vectorised.

    Parameters
    ----------
    model
        The natural-history growth model.
    pre_ages, pre_values
        (n, k) pre-treatment ages (years) and values (original scale); a (k,) schedule of ages is
        shared by all patients. ``k`` may be 0.
    post_ages, post_values
        (n, m) post-dose ages and values.
    direction
        ``"higher_is_better"`` or ``"lower_is_better"``.
    rule
        The decision rule (default :class:`TrajectoryRule()`).
    dosing_ages
        (n,) ages at the first dose, or one shared age.

    Returns
    -------
    TrajectoryJudgementBatch
        Decision codes and the numbers behind them, one entry per patient.

    Examples
    --------
    >>> m = UntreatedModel(np.array([50.0, -5.0]), np.diag([0.5, 0.05]), np.diag([25.0, 4.0]), 4.0, 10.0)
    >>> rng = np.random.default_rng(1)
    >>> data = simulate_trajectory_patients(m, 1000, rng, pre_offsets_years=[-1, -0.5, 0],
    ...     post_offsets_years=[0.5, 1.0, 1.5], dosing_ages=10.0)
    >>> out = judge_trajectory_batch(m, *data, "higher_is_better", dosing_ages=10.0)
    >>> bool(out.met.mean() < 0.05)
    True
    """
    return _batch(
        model,
        pre_ages,
        pre_values,
        post_ages,
        post_values,
        direction,
        TrajectoryRule() if rule is None else rule,
        dosing_ages,
    )[0]


# --------------------------------------------------------------------------- one patient


@dataclass(frozen=True)
class SensitivityAnalysis:
    """The analysis repeated without the last pre-treatment visit (regression-to-the-mean sensitivity).

    ``deciding`` is True when the regression-to-the-mean flag fired, so that ``met`` needed this
    analysis to meet the rule too (``passes``).
    """

    description: str
    n_pre_used: int
    effect: float
    se: float
    lower_bound: float
    p_one_sided: float
    posterior_probability: float
    passes: bool
    deciding: bool


@dataclass(frozen=True)
class TrajectoryJudgement:
    """One patient's criterion-5 judgement on a continuous endpoint (see :func:`judge_trajectory`).

    Numbers are on the model scale in the benefit direction (for a log-scale model, log ratios:
    ``exp(effect)`` is the ratio of measured to predicted, benefit-signed). ``ci_low``/``ci_high`` are
    the two-sided ``1 - 2 alpha`` interval, whose lower end is ``lower_bound``. ``p_one_sided`` tests
    ``effect <= mcid``. ``effect_early``/``effect_late`` average the earlier and the later half of the
    counted visits (odd count: the middle visit in neither). ``posterior_probability`` is
    ``P(effect > mcid)`` under the rule's prior and ``sceptical_probability`` under the sceptical
    prior (NaN without ``plausible_effect``).
    """

    decision: Status
    reason: str
    estimand: str
    rule: TrajectoryRule
    direction: Direction
    scale: str
    dosing_age: float
    n_pre: int
    counted_ages: np.ndarray
    n_counted: int
    effect: float
    se: float
    lower_bound: float
    ci_low: float
    ci_high: float
    p_one_sided: float
    effect_early: float
    effect_late: float
    consistent: bool
    posterior_probability: float
    sceptical_probability: float
    prediction: UntreatedPrediction
    plot: TrajectoryPlot
    regression_to_mean: bool
    flags: tuple[str, ...]
    sensitivity: SensitivityAnalysis
    notes: tuple[str, ...] = field(default=())

    @property
    def decision_rule(self) -> str:
        """The rule in words (for the typed result's ``decision_rule``)."""
        return _rule_text(self.rule, self.scale)


def _p_text(p: float) -> str:
    text = format_p_value(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def _fmt_effect(x: float, scale: str) -> str:
    return format_ratio(x) if scale == "log" else format_number(x)


def _fmt_interval(lo: float, hi: float, scale: str) -> str:
    if scale == "log":
        return format_interval(float(np.exp(lo)), float(np.exp(hi)), "ratio")
    return format_interval(lo, hi)


def _rule_text(rule: TrajectoryRule, scale: str) -> str:
    mcid = _fmt_effect(rule.mcid, scale)
    if rule.decision == "frequentist":
        core = f"one-sided {format_percent(1 - rule.alpha_one_sided)} lower confidence bound above {mcid}"
    else:
        core = (
            f"posterior probability of an effect above {mcid} at least "
            f"{format_percent(rule.posterior_threshold)} ({rule.prior.describe()})"
        )
    return (
        f"{core}, with the earlier and the later half of the counted visits both in the benefit direction; "
        "after an unusually bad last pre-treatment value, the analysis without it must agree"
    )


def _estimand_text(rule: TrajectoryRule, scale: str) -> str:
    what = "mean log ratio" if scale == "log" else "mean difference"
    after = (
        f"more than {format_number(rule.onset_days)} days after the first dose"
        if rule.onset_days
        else "after the first dose"
    )
    return (
        f"{what}, in the direction of benefit, between the measured values and the patient's own predicted "
        f"untreated values (from all pre-treatment measurements) over the post-dose visits {after}"
    )


def judge_trajectory(
    model: UntreatedModel,
    pre_ages: np.ndarray,
    pre_values: np.ndarray,
    post_ages: np.ndarray,
    post_values: np.ndarray,
    direction: Direction,
    rule: TrajectoryRule | None = None,
    *,
    dosing_age: float,
) -> TrajectoryJudgement:
    """Judge criterion 5 for one patient's continuous endpoint with a calibrated decision rule.

    Parameters
    ----------
    model
        The natural-history growth model.
    pre_ages, pre_values
        Pre-treatment measurements (years, original scale). All are used. May be empty.
    post_ages, post_values
        Post-dose measurements; those more than ``rule.onset_days`` after ``dosing_age`` are counted.
    direction
        ``"higher_is_better"`` or ``"lower_is_better"``.
    rule
        The decision rule (default :class:`TrajectoryRule()`: frequentist, one-sided 2.5%, mcid 0).
    dosing_age
        Age (years) at the first dose.

    Returns
    -------
    TrajectoryJudgement
        The decision with its reason, the estimand, the numbers, the prediction for plots and the
        regression-to-the-mean sensitivity analysis. The numbers equal those of
        :func:`judge_trajectory_batch` for ``n = 1`` (they are computed by it).

    Examples
    --------
    >>> m = UntreatedModel(np.array([50.0, -5.0]), np.diag([0.5, 0.05]), np.diag([25.0, 4.0]), 4.0, 10.0)
    >>> j = judge_trajectory(m, [9.0, 9.5, 10.0], [56.0, 53.0, 50.0], [10.5, 11.0, 11.5],
    ...     [57.0, 55.0, 54.0], "higher_is_better", dosing_age=10.0)
    >>> j.decision.value, j.n_counted
    ('met', 3)
    """
    rule = TrajectoryRule() if rule is None else rule
    pre_ages = _as_ages(pre_ages, "pre_ages")
    post_ages = _as_ages(post_ages, "post_ages")
    pre_values = np.asarray(pre_values, dtype=float).reshape(-1)
    post_values = np.asarray(post_values, dtype=float).reshape(-1)
    batch, main, sens = _batch(
        model,
        pre_ages,
        pre_values,
        post_ages,
        post_values,
        direction,
        rule,
        float(dosing_age),
    )
    sign = _sign(direction)
    order = np.argsort(pre_ages, kind="stable")
    pre_sorted, pre_values_sorted = pre_ages[order], pre_values[order]
    post_order = np.argsort(post_ages, kind="stable")
    post_sorted, post_values_sorted = post_ages[post_order], post_values[post_order]
    prediction = predict_untreated(
        model, pre_sorted, pre_values_sorted, post_sorted, rule.prediction_level
    )
    pre_y = model.to_model_scale(pre_values_sorted, "pre_values")
    flags = tuple(_regression_to_mean_flags(model, pre_sorted, pre_y, sign, rule.prediction_level))
    rtm = bool(batch.regression_to_mean[0])
    last_z = float(batch.last_pre_z[0])
    if last_z < _LAST_PRE_Z:
        flags = (
            *flags,
            f"regression to the mean: the last pre-treatment value (age {format_number(pre_sorted[-1])}) is worse "
            f"than the patient's other pre-treatment values predict ({format_number(abs(last_z))} prediction SD on "
            f"the harmful side); a transient bad value would bias the untreated prediction toward harm",
        )
    counted_ages = post_sorted[post_sorted > float(dosing_age) + rule.onset_years]

    def f(x: np.ndarray) -> float:
        return float(x[0])

    effect, se, lower = f(main.effect), f(main.se), f(main.lower)
    z = ndtri(1 - rule.alpha_one_sided)
    ci_high = effect + z * se
    early, late = f(main.early), f(main.late)
    consistent = bool(early > 0 and late > 0)
    n_counted = int(batch.n_counted[0])
    sensitivity = SensitivityAnalysis(
        description=(
            "the same analysis without the last pre-treatment visit"
            + (f" (age {format_number(pre_sorted[-1])})" if pre_sorted.size else "")
        ),
        n_pre_used=max(int(pre_sorted.size) - 1, 0),
        effect=f(sens.effect),
        se=f(sens.se),
        lower_bound=f(sens.lower),
        p_one_sided=f(sens.p),
        posterior_probability=f(sens.posterior),
        passes=bool(sens.passes[0]),
        deciding=rtm,
    )
    decision = DECISION_CODES[int(batch.decision[0])]
    reason = _reason(
        decision,
        rule,
        model.scale,
        n_counted,
        effect,
        se,
        lower,
        ci_high,
        f(main.p),
        early,
        late,
        f(main.posterior),
        f(main.sceptical),
        sensitivity,
    )
    notes = [prediction.note, *model.notes]
    return TrajectoryJudgement(
        decision=decision,
        reason=reason,
        estimand=_estimand_text(rule, model.scale),
        rule=rule,
        direction=direction,
        scale=model.scale,
        dosing_age=float(dosing_age),
        n_pre=int(pre_sorted.size),
        counted_ages=counted_ages,
        n_counted=n_counted,
        effect=effect,
        se=se,
        lower_bound=lower,
        ci_low=lower,
        ci_high=float(ci_high),
        p_one_sided=f(main.p),
        effect_early=early,
        effect_late=late,
        consistent=consistent,
        posterior_probability=f(main.posterior),
        sceptical_probability=f(main.sceptical),
        prediction=prediction,
        plot=_plot(
            model,
            pre_sorted,
            pre_values_sorted,
            post_sorted,
            post_values_sorted,
            rule.prediction_level,
        ),
        regression_to_mean=rtm,
        flags=flags,
        sensitivity=sensitivity,
        notes=tuple(notes),
    )


def _reason(
    decision: Status,
    rule: TrajectoryRule,
    scale: str,
    n_counted: int,
    effect: float,
    se: float,
    lower: float,
    ci_high: float,
    p: float,
    early: float,
    late: float,
    posterior: float,
    sceptical: float,
    sensitivity: SensitivityAnalysis,
) -> str:
    if decision == Status.insufficient:
        return (
            f"{n_counted} counted post-dose visit(s) (after day {format_number(rule.onset_days)}), "
            f"expected at least {rule.min_counted_visits}"
        )
    level = format_percent(1 - 2 * rule.alpha_one_sided)
    parts = [
        f"mean effect {_fmt_effect(effect, scale)} over {n_counted} counted visits "
        f"(SE {format_number(se)}, {level} CI {_fmt_interval(lower, ci_high, scale)}, "
        f"one-sided {_p_text(p)} against {_fmt_effect(rule.mcid, scale)})"
    ]
    if rule.decision == "bayesian":
        parts.append(
            f"posterior probability of an effect above {_fmt_effect(rule.mcid, scale)} "
            f"{format_percent(posterior)} (needed {format_percent(rule.posterior_threshold)})"
        )
    if np.isfinite(sceptical):
        parts.append(f"under the sceptical prior {format_percent(sceptical)}")
    parts.append(f"earlier half {_fmt_effect(early, scale)}, later half {_fmt_effect(late, scale)}")
    failed = []
    if rule.decision == "frequentist" and not lower > rule.mcid:
        failed.append(
            f"the lower bound {_fmt_effect(lower, scale)} is not above {_fmt_effect(rule.mcid, scale)}"
        )
    if rule.decision == "bayesian" and not posterior >= rule.posterior_threshold:
        failed.append("the posterior probability is below the threshold")
    if not (early > 0 and late > 0):
        failed.append("the two halves are not both in the benefit direction")
    if sensitivity.deciding:
        parts.append(
            f"treatment followed an unusually bad value: without the last pre-treatment visit the effect is "
            f"{_fmt_effect(sensitivity.effect, scale)} (one-sided {_p_text(sensitivity.p_one_sided)}), "
            + ("which agrees" if sensitivity.passes else "which does not meet the rule")
        )
        if not sensitivity.passes:
            failed.append("the analysis without the last pre-treatment visit does not agree")
    text = "; ".join(parts)
    if failed:
        text += ". Not met: " + "; ".join(failed)
    return text


# --------------------------------------------------------------------------- simulation


def _sqrt_psd(G: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh(G)
    return vectors * np.sqrt(np.clip(values, 0, None))


def simulate_trajectory_patients(
    model: UntreatedModel,
    n: int,
    rng: np.random.Generator,
    *,
    pre_offsets_years: np.ndarray,
    post_offsets_years: np.ndarray,
    dosing_ages: np.ndarray | float,
    benefit: np.ndarray | float = 0.0,
    onset_days: float = 0.0,
    dip_sd: float | tuple[float, float] = 0.0,
    quadratic: float = 0.0,
    quadratic_center: float | None = None,
    direction: Direction = "higher_is_better",
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Simulate patients from a natural-history growth model, optionally treated.

    Truth: fixed effects at the model's estimates (its design: straight line or spline, the
    patient's covariates), random effects ``u ~ N(0, G)``, residuals
    ``N(0, s2)``, on the model scale, plus ``quadratic * (age - quadratic_center)^2`` (curvature the
    linear model does not know; ``quadratic_center`` defaults to ``model.age_center``). Post-dose
    values gain ``benefit`` (model scale, benefit direction) times a ramp from 0 at the first dose to
    1 at ``onset_days`` (a step when 0). The last pre-treatment value can carry a transient dip in
    the harmful direction of ``dip_sd`` residual SDs (or uniform on a ``(lo, hi)`` range).

    Parameters
    ----------
    model
        The natural-history growth model.
    n
        Number of patients.
    rng
        Random generator. The dips are drawn last, so one seed gives the same patients with and
        without a dip (and with any ``benefit`` or ``quadratic``, which draw nothing).
    pre_offsets_years, post_offsets_years
        (k,) or (n, k) visit times relative to the first dose, in years (pre <= 0 < post).
    dosing_ages
        (n,) or one age at the first dose, years.
    benefit, onset_days, dip_sd, quadratic, quadratic_center, direction
        See above.

    Returns
    -------
    tuple of numpy.ndarray
        ``(pre_ages, pre_values, post_ages, post_values)``, (n, k) and (n, m), values on the original
        scale (exp of the model scale for a log-scale model), ready for :func:`judge_trajectory_batch`.
    """
    if isinstance(n, bool) or int(n) != n or n < 1:
        raise UsageError(f"n: found {n!r}, expected a positive whole number of patients")
    n = int(n)
    sign = _sign(direction)
    pre_off = _as_rows(pre_offsets_years, n, "pre_offsets_years")
    post_off = _as_rows(post_offsets_years, n, "post_offsets_years")
    dose = np.asarray(dosing_ages, dtype=float).reshape(-1)
    if dose.size not in (1, n):
        raise UsageError(f"dosing_ages: found {dose.size} ages, expected 1 or {n}")
    if np.any(post_off <= 0) or np.any(pre_off > 0):
        raise UsageError(
            "pre_offsets_years/post_offsets_years: expected pre-treatment offsets <= 0 and post-dose offsets > 0"
        )
    if not (np.isfinite(onset_days) and onset_days >= 0):
        raise UsageError(f"onset_days: found {onset_days!r}, expected a non-negative number")
    center = model.age_center if quadratic_center is None else float(quadratic_center)
    pre_off = np.broadcast_to(pre_off, (n, pre_off.shape[1]))
    post_off = np.broadcast_to(post_off, (n, post_off.shape[1]))
    pre_ages = dose[:, None] + pre_off
    post_ages = dose[:, None] + post_off
    ages = np.concatenate([pre_ages, post_ages], axis=1)
    k = pre_ages.shape[1]
    u = rng.standard_normal((n, 2)) @ _sqrt_psd(model.random_effects_cov).T
    t = ages - model.age_center
    if model.linear:
        y = (model.fixed_effects[0] + u[:, :1]) + (model.fixed_effects[1] + u[:, 1:]) * t
    else:
        y = model.population_mean(ages) + u[:, :1] + u[:, 1:] * t
    y = y + rng.standard_normal(y.shape) * np.sqrt(model.residual_variance)
    if quadratic:
        y = y + quadratic * (ages - center) ** 2
    benefit = np.asarray(benefit, dtype=float).reshape(-1, 1)
    if np.any(benefit != 0):
        ramp = (
            np.clip(post_off * DAYS_PER_YEAR / onset_days, 0, 1)
            if onset_days > 0
            else np.ones_like(post_off)
        )
        y[:, k:] += sign * benefit * ramp
    if k and np.any(np.asarray(dip_sd) != 0):
        if np.ndim(dip_sd) == 0:
            dip = np.full(n, float(dip_sd))
        else:
            lo, hi = (float(x) for x in dip_sd)  # type: ignore[union-attr]
            dip = rng.uniform(lo, hi, n)
        last = np.argmax(pre_off, axis=1)
        y[np.arange(n), last] -= sign * dip * np.sqrt(model.residual_variance)
    values = model.to_original_scale(y)
    return pre_ages.copy(), values[:, :k], post_ages.copy(), values[:, k:]
