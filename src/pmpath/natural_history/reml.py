"""Profiled REML for the linear growth model, computed from per-subject sufficient statistics in milliseconds.

The model is y_ij = (b0 + u0_i) + (b1 + u1_i) t_ij + e_ij with X_i = Z_i = [1, t_ij],
u_i ~ N(0, s^2 D), D = L L', and e_ij ~ N(0, s^2). As in lme4 (Bates, Maechler, Bolker & Walker
2015, J Stat Softw 67(1), section 3) the fixed effects and s^2 are profiled out and the REML
criterion

    -2 l_R(theta) = sum_i log|M_i| + log|X'V^-1X| + (n - p) (1 + log(2 pi r^2 / (n - p))),
    M_i = I + L' S_i L,  S_i = Z_i'Z_i,  V_i = I + Z_i D Z_i',  r^2 = (y - X b)' V^-1 (y - X b),

is minimised over the relative covariance factor L = [[l11, 0], [l21, l22]], theta = (l11, l21, l22)
with l11, l22 >= 0 (``structure="correlated"``, lme4's ``(t | subject)``); uncorrelated intercept and
slope are L = diag(l11, l22), theta = (l11, l22) (``"uncorrelated"``, lme4's ``(t || subject)``: the
covariance is diagonal in ``t``'s own origin); a random intercept only is L = diag(l11, 0), theta = (l11,)
(``"intercept_only"``).

Every per-subject quantity reduces to 2x2 algebra on statistics computed once: n_i, the mean and
centred sum of squares of t, the subject's own least-squares line c_i and its residual sum of squares
RSS_i. With K_i = Z_i'V_i^-1 Z_i = (I + S_i D)^-1 S_i (written out without cancellation),
X'V^-1X = sum K_i, X'V^-1y = sum K_i c_i and r^2 = sum RSS_i + sum (c_i - b)' K_i (c_i - b), so one
evaluation of the criterion and of its analytic gradient is a few dozen numpy operations over
subjects, not a Python loop over them, and stays accurate when the random effects dwarf the residual.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, sparse

from pmpath.errors import AnalysisError, ConvergenceError, UsageError

__all__ = [
    "STRUCTURES",
    "DesignFit",
    "DesignMoments",
    "RemlFit",
    "SubjectMoments",
    "SubjectSums",
    "fit_design",
    "fit_reml",
    "profiled_deviance",
    "relative_factor",
    "subject_codes",
    "subject_effects",
]

# Number of fixed effects (intercept and slope).
_P = 2
# Projected gradient of the REML criterion (per unit of log theta, or of theta below 1), or else its
# Hessian-scaled gradient, under which a minimum counts as converged; lme4 warns above 0.002 on the
# smaller of its raw and scaled gradients.
_GRADIENT_TOLERANCE = 1e-3
STRUCTURES = ("correlated", "uncorrelated", "intercept_only")
# SLSQP rather than L-BFGS-B: scipy's L-BFGS-B calls (threaded) BLAS on every iteration, which for
# three parameters costs 5-50x more than evaluating the criterion itself.
_SLSQP = {"ftol": 1e-14, "maxiter": 500}
# fit_design's SLSQP stops once a step lowers the criterion by less than this (absolute) and hands
# over to Newton steps, which converge quadratically where SLSQP would creep on for dozens of steps.
_SLSQP_DESIGN = {"ftol": 1e-6, "maxiter": 500}
# Hessian-scaled gradient at which Newton steps stop: the criterion is then within 1e-10 of its
# minimum (half the squared norm), far inside _GRADIENT_TOLERANCE.
_NEWTON_TOLERANCE = 1e-5
# Subjects per block of the criterion's evaluation: a block's arrays (some 20 of them) stay in the
# processor's cache.
_BLOCK = 8192
# Observations per chunk of the design's cross-products (a chunk of every column block stays in cache).
_ROWS = 4096
# Step sizes (in relative variance, s^2 units) tried along a direction in which the covariance can
# still descend when the optimizer has stopped on the boundary.
_ESCAPE_STEPS = tuple(10.0**k for k in range(-4, 5))


@dataclass(frozen=True)
class _Structure:
    """How theta fills L = [[a, 0], [b, c]]: which of (a, b, c) are free, and which are bounded below by 0."""

    name: str
    free: tuple[int, ...]  # indices into (a, b, c)
    lower: np.ndarray  # per element of theta: bounded below by 0

    @property
    def bounds(self) -> tuple[tuple[float | None, None], ...]:
        return tuple((0.0, None) if low else (None, None) for low in self.lower)

    @property
    def random_slope(self) -> bool:
        return self.name != "intercept_only"

    def full(self, theta: np.ndarray) -> tuple[float, float, float]:
        """(a, b, c) of ``theta``, the fixed ones 0."""
        abc = [0.0, 0.0, 0.0]
        for k, v in zip(self.free, theta, strict=True):
            abc[k] = float(v)
        return abc[0], abc[1], abc[2]

    def start(self) -> np.ndarray:
        """lme4's start: L = I on the free elements, 0 for the correlation."""
        return np.array([0.0 if k == 1 else 1.0 for k in self.free])


_STRUCTURES = {
    "correlated": _Structure("correlated", (0, 1, 2), np.array([True, False, True])),
    "uncorrelated": _Structure("uncorrelated", (0, 2), np.array([True, True])),
    "intercept_only": _Structure("intercept_only", (0,), np.array([True])),
}


def _structure(value: str | bool) -> _Structure:
    """The structure named ``value``; ``True``/``False`` mean correlated / intercept only (the older ``random_slope`` flag)."""
    if isinstance(value, bool | np.bool_):
        return _STRUCTURES["correlated" if value else "intercept_only"]
    try:
        return _STRUCTURES[value]
    except (KeyError, TypeError):
        raise UsageError(f"structure: found {value!r}, expected one of {STRUCTURES}") from None


def subject_codes(groups: object) -> np.ndarray:
    """Each observation's subject as a code 0 .. m - 1, in the sorted order of the labels.

    ``groups`` is an array or a pandas Series of labels: integers are sorted as numbers, anything
    else as text. Computed once per fit: sorting millions of string labels costs seconds, more
    than the fit. Codes 0 .. m - 1 that already name every subject are returned as they are.
    """
    import pandas as pd

    values = groups if isinstance(groups, pd.Series | pd.Index) else np.asarray(groups).reshape(-1)
    if values.dtype.kind in "iub":
        ints = np.asarray(values).astype(np.intp, copy=False)
        if ints.size and ints.min() == 0 and np.all(np.bincount(ints) > 0):
            return ints
        _, codes = np.unique(ints, return_inverse=True)
        return np.asarray(codes, dtype=np.intp).reshape(-1)
    codes, _ = pd.factorize(values, sort=True)
    if codes.size and codes.min() < 0:
        raise UsageError(
            "groups: found a missing subject label, expected one label per observation"
        )
    return np.asarray(codes, dtype=np.intp)


@dataclass(frozen=True)
class SubjectMoments:
    """Per-subject sufficient statistics of the growth model, one entry per subject.

    Attributes
    ----------
    n : numpy.ndarray
        Shape (m,): observations per subject.
    t_mean, t_ss : numpy.ndarray
        Shape (m,): mean of t and centred sum of squares sum (t - t_mean)^2.
    coef : numpy.ndarray
        Shape (m, 2): the subject's own least-squares intercept (at t = 0) and slope; slope 0 and
        intercept the mean of y when the subject has a single distinct t.
    rss : numpy.ndarray
        Shape (m,): residual sum of squares about that line.
    n_observations : int
    """

    n: np.ndarray
    t_mean: np.ndarray
    t_ss: np.ndarray
    coef: np.ndarray
    rss: np.ndarray
    n_observations: int

    @classmethod
    def from_data(cls, t: np.ndarray, y: np.ndarray, groups: np.ndarray) -> SubjectMoments:
        """Statistics of one row per observation: covariate ``t``, response ``y``, subject label ``groups``.

        Sums of squares are taken about each subject's means (two passes), so they keep their
        precision whatever the location of t and y.
        """
        t = np.asarray(t, dtype=float)
        y = np.asarray(y, dtype=float)
        if not (t.shape == y.shape == np.shape(groups)) or t.ndim != 1:
            raise UsageError(
                f"t, y and groups must be 1-d and of one length, found shapes {t.shape}, {y.shape}, {np.shape(groups)}"
            )
        codes = subject_codes(groups)
        return cls.from_codes(t, y, codes, int(codes.max()) + 1 if codes.size else 0)

    @classmethod
    def from_codes(cls, t: np.ndarray, y: np.ndarray, codes: np.ndarray, m: int) -> SubjectMoments:
        """As :meth:`from_data`, with subjects given as codes 0 .. m - 1 (see :func:`subject_codes`)."""

        def total(w: np.ndarray) -> np.ndarray:
            return np.bincount(codes, weights=w, minlength=m)

        n = np.bincount(codes, minlength=m).astype(float)
        t_mean, y_mean = total(t) / n, total(y) / n
        tc, yc = t - t_mean[codes], y - y_mean[codes]
        t_ss, ty_ss, y_ss = total(tc * tc), total(tc * yc), total(yc * yc)
        # A subject whose ts are all equal (to rounding) has no slope of its own.
        has_slope = t_ss > 1e-12 * n * np.maximum(1.0, t_mean**2)
        slope = np.divide(ty_ss, t_ss, out=np.zeros(m), where=has_slope)
        t_ss = np.where(has_slope, t_ss, 0.0)
        rss = np.maximum(y_ss - slope * ty_ss, 0.0)
        coef = np.column_stack([y_mean - slope * t_mean, slope])
        return cls(n=n, t_mean=t_mean, t_ss=t_ss, coef=coef, rss=rss, n_observations=len(y))

    @property
    def n_subjects(self) -> int:
        return len(self.n)


@dataclass(frozen=True)
class _Profile:
    deviance: float
    beta: np.ndarray
    xvx: np.ndarray  # X'V^-1X in units of s^2
    r2: float
    gradient: np.ndarray  # d deviance / d theta
    d_relative: np.ndarray  # d deviance / dD, D = L L' (2x2)


def relative_factor(theta: np.ndarray, structure: str | bool = "correlated") -> np.ndarray:
    """The lower-triangular relative covariance factor L of ``theta`` (G = s^2 L L') under ``structure``."""
    a, b, c = _structure(structure).full(np.asarray(theta, dtype=float))
    return np.array([[a, 0.0], [b, c]])


def _blocks(m: int) -> list[slice]:
    """Subjects in blocks of :data:`_BLOCK`: one block (all subjects) for any cohort up to that size."""
    return [slice(i, min(i + _BLOCK, m)) for i in range(0, m, _BLOCK)] or [slice(0, 0)]


def _profile(theta: np.ndarray, mo: SubjectMoments, st: _Structure) -> _Profile:
    # Every 2x2 product is written out element by element: one numpy operation over all subjects per
    # element, several times faster than batched matmul on (m, 2, 2) stacks. The subjects are taken
    # in blocks whose arrays stay in the processor's cache (twice as fast for 100,000 subjects); a
    # cohort of at most _BLOCK subjects is one block, so its numbers do not depend on the blocking.
    a, b, c = st.full(theta)
    d00, d01, d11, det_d = a * a, a * b, b * b + c * c, (a * c) ** 2
    blocks = _blocks(len(mo.n))
    kept = []
    a00 = a01 = a11 = xy0 = xy1 = log_det_m = 0.0
    for block in blocks:
        n, tm, tss = mo.n[block], mo.t_mean[block], mo.t_ss[block]
        s01 = n * tm
        s11 = n * tm * tm + tss
        det_s = n * tss
        # |M_i| = |I + S_i D| = 1 + tr(L'S_iL) + |S_i||D|, with v'S_iv = n (v0 + v1 tm)^2 + v1^2 tss:
        # a sum of non-negative terms.
        det_m = 1.0 + n * (a + b * tm) ** 2 + b * b * tss + c * c * s11 + det_s * det_d
        # K_i = (I + S_i D)^-1 S_i, expanded so that the large terms cancel algebraically, not numerically.
        k00 = (n + d11 * det_s) / det_m
        k01 = (s01 - d01 * det_s) / det_m
        k11 = (s11 + d00 * det_s) / det_m
        c0, c1 = mo.coef[block, 0], mo.coef[block, 1]
        a00 += float(k00.sum())
        a01 += float(k01.sum())
        a11 += float(k11.sum())
        xy0 += float((k00 * c0 + k01 * c1).sum())
        xy1 += float((k01 * c0 + k11 * c1).sum())
        log_det_m += float(np.log(det_m).sum())
        kept.append((k00, k01, k11))
    det_a = a00 * a11 - a01 * a01
    if not (det_a > 0 and a00 > 0):
        raise np.linalg.LinAlgError(f"X'V^-1X is not positive definite (determinant {det_a:g})")
    e00, e01, e11 = a11 / det_a, -a01 / det_a, a00 / det_a
    beta = np.array([e00 * xy0 + e01 * xy1, e01 * xy0 + e11 * xy1])
    # d deviance / dD (beta held at its optimum, which is exact at the profile):
    # H = sum K_i - sum K_i A^-1 K_i - dof/r2 sum h_i h_i' with A = sum K_i; then d/dL = 2 H L.
    quad = kak00 = kak01 = kak11 = hh00 = hh01 = hh11 = 0.0
    for block, (k00, k01, k11) in zip(blocks, kept, strict=True):
        c0, c1 = mo.coef[block, 0], mo.coef[block, 1]
        r0, r1 = c0 - beta[0], c1 - beta[1]
        # h_i = Z_i'V_i^-1 (y_i - X_i beta) = K_i (c_i - beta)
        h0 = k00 * r0 + k01 * r1
        h1 = k01 * r0 + k11 * r1
        quad += float((r0 * h0 + r1 * h1).sum())
        ke00 = k00 * e00 + k01 * e01
        ke01 = k00 * e01 + k01 * e11
        ke10 = k01 * e00 + k11 * e01
        ke11 = k01 * e01 + k11 * e11
        kak00 += float((ke00 * k00 + ke01 * k01).sum())
        kak01 += float((ke00 * k01 + ke01 * k11).sum())
        kak11 += float((ke10 * k01 + ke11 * k11).sum())
        hh00 += float((h0 * h0).sum())
        hh01 += float((h0 * h1).sum())
        hh11 += float((h1 * h1).sum())
    r2 = float(mo.rss.sum() + quad)
    dof = mo.n_observations - _P
    if not r2 > 0:
        raise FloatingPointError(f"penalized residual sum of squares is {r2:g}, expected > 0")
    deviance = log_det_m + float(np.log(det_a)) + dof * (1.0 + np.log(2.0 * np.pi * r2 / dof))
    f = dof / r2
    h_00 = a00 - kak00 - f * hh00
    h_01 = a01 - kak01 - f * hh01
    h_11 = a11 - kak11 - f * hh11
    full = (2.0 * (h_00 * a + h_01 * b), 2.0 * (h_01 * a + h_11 * b), 2.0 * h_11 * c)
    gradient = np.array([full[k] for k in st.free])
    return _Profile(
        deviance=deviance,
        beta=beta,
        xvx=np.array([[a00, a01], [a01, a11]]),
        r2=r2,
        gradient=gradient,
        d_relative=np.array([[h_00, h_01], [h_01, h_11]]),
    )


def profiled_deviance(
    theta: np.ndarray, moments: SubjectMoments, structure: str | bool = "correlated"
) -> tuple[float, np.ndarray]:
    """The profiled REML criterion -2 l_R(theta) and its gradient in theta.

    Parameters
    ----------
    theta : numpy.ndarray
        (l11, l21, l22) for ``"correlated"``, (l11, l22) for ``"uncorrelated"``, (l11,) for ``"intercept_only"``.
    moments : SubjectMoments
    structure : {"correlated", "uncorrelated", "intercept_only"}
        ``True``/``False`` are accepted for correlated / intercept only.

    Returns
    -------
    deviance : float
        sum_i log|M_i| + log|X'V^-1X| + (n - p)(1 + log(2 pi r^2 / (n - p))), lme4's "REML criterion".
    gradient : numpy.ndarray
        Its derivative in each element of ``theta`` (analytic).
    """
    prof = _profile(np.asarray(theta, dtype=float), moments, _structure(structure))
    return prof.deviance, prof.gradient


def _criterion(theta: np.ndarray, mo: SubjectMoments, st: _Structure) -> tuple[float, np.ndarray]:
    prof = _profile(np.asarray(theta, dtype=float), mo, st)
    return prof.deviance, prof.gradient


@dataclass(frozen=True)
class RemlFit:
    """REML estimates of the growth model from :func:`fit_reml`, in the caller's covariate ``t``.

    Attributes
    ----------
    fixed_effects : numpy.ndarray
        Shape (2,): b0 (mean at t = 0) and b1 (slope per unit t).
    fixed_effects_cov : numpy.ndarray
        Shape (2, 2): s^2 (X'V^-1X)^-1.
    random_effects_cov : numpy.ndarray
        Shape (2, 2): G = s^2 L L'; diagonal for ``"uncorrelated"``, slope row and column zero for
        ``"intercept_only"``.
    residual_variance : float
        s^2 = r^2 / (n - p).
    deviance : float
        REML criterion -2 l_R at the estimates.
    converged : bool
        Whether the projected gradient at the minimum, or else the Hessian-scaled gradient, is
        below tolerance (the scaled one as lme4 judges convergence; it matters for large cohorts).
    structure : str
        ``"correlated"``, ``"uncorrelated"`` or ``"intercept_only"``.
    gradient : float
        Largest projected gradient component at the minimum (per unit of log theta, or of theta below 1).
    n_evaluations : int
        Evaluations of the criterion, all starts included.
    message : str
        The optimizer's (SLSQP) message for the kept minimum.
    scaled_gradient : float
        Largest element of the Hessian-scaled gradient at the minimum (see :func:`_scaled_gradient`),
        computed only when ``gradient`` is above tolerance (NaN otherwise).
    """

    fixed_effects: np.ndarray
    fixed_effects_cov: np.ndarray
    random_effects_cov: np.ndarray
    residual_variance: float
    deviance: float
    converged: bool
    structure: str
    gradient: float
    n_evaluations: int
    message: str
    scaled_gradient: float = float("nan")

    @property
    def random_slope(self) -> bool:
        """Whether the subjects have random slopes (correlated or not)."""
        return self.structure != "intercept_only"

    @property
    def log_likelihood(self) -> float:
        """Restricted (REML) log-likelihood, -deviance / 2."""
        return -self.deviance / 2.0


# ---------------------------------------------------------------------- optimisation


def _theta_of(d: np.ndarray, st: _Structure) -> np.ndarray:
    """theta of a positive semi-definite relative covariance ``d`` = L L' (L lower triangular, l11, l22 >= 0).

    Under ``"uncorrelated"`` the off-diagonal of ``d`` is ignored (its diagonal is kept).
    """
    l11 = float(np.sqrt(max(d[0, 0], 0.0)))
    if st.name == "intercept_only":
        return np.array([l11])
    if st.name == "uncorrelated":
        return np.array([l11, float(np.sqrt(max(d[1, 1], 0.0)))])
    l21 = d[1, 0] / l11 if l11 > 0 else float(np.sqrt(max(d[1, 1], 0.0)))
    l22 = float(np.sqrt(max(d[1, 1] - l21 * l21, 0.0)))
    return np.array([l11, l21, l22])


def _moment_start(mo: SubjectMoments, st: _Structure) -> np.ndarray | None:
    """A start from the subjects' own lines: their spread beyond their sampling error, over the residual variance."""
    ok = (mo.n > _P) & (mo.t_ss > 0)
    if ok.sum() < 3:
        return None
    sigma2 = float(mo.rss[ok].sum() / (mo.n[ok] - _P).sum())
    if not sigma2 > 0:
        return None
    n, tm, tss = mo.n[ok], mo.t_mean[ok], mo.t_ss[ok]
    sampling = np.array(
        [
            [np.mean(1.0 / n + tm * tm / tss), np.mean(-tm / tss)],
            [np.mean(-tm / tss), np.mean(1.0 / tss)],
        ]
    )
    d = (np.cov(mo.coef[ok].T) - sigma2 * sampling) / sigma2
    theta = _theta_of(_inside(d), st)
    return theta if np.all(np.isfinite(theta)) else None


def _inside(d: np.ndarray) -> np.ndarray:
    """A positive definite matrix near the symmetric ``d``: its eigenvalues raised to a floor."""
    values, vectors = np.linalg.eigh((d + d.T) / 2.0)
    values = np.maximum(values, 1e-2 * max(float(values.max()), 1e-2))
    return (vectors * values) @ vectors.T


def _projected_gradient(theta: np.ndarray, grad: np.ndarray, lower: np.ndarray) -> float:
    pg = np.where(lower & (theta <= 0.0) & (grad > 0), 0.0, grad)
    # per unit of log theta for theta above 1, so the tolerance does not depend on theta's size
    return float(np.max(np.abs(pg) * np.maximum(np.abs(theta), 1.0)))


@dataclass(frozen=True)
class _Frame:
    """Internal coordinates t_std = (t - center) / spread, and the moments in them."""

    center: float
    spread: float
    moments: SubjectMoments

    @classmethod
    def of(
        cls, t: np.ndarray, y: np.ndarray, codes: np.ndarray, m: int, center: float, spread: float
    ) -> _Frame:
        return cls(center, spread, SubjectMoments.from_codes((t - center) / spread, y, codes, m))

    @property
    def to_t(self) -> np.ndarray:
        """T^-1 with X_std = X_t T^-1: maps coefficients and covariances back to t's units."""
        return np.array([[1.0, -self.center / self.spread], [0.0, 1.0 / self.spread]])

    @property
    def from_t(self) -> np.ndarray:
        return np.array([[1.0, self.center], [0.0, self.spread]])


@dataclass(frozen=True)
class _Minimum:
    frame: _Frame
    theta: np.ndarray
    deviance: float  # in t's units: the frame's criterion + 2 log(spread)
    n_evaluations: int
    message: str

    def relative_cov_t(self, st: _Structure) -> np.ndarray:
        a, b, c = st.full(self.theta)
        lam = np.array([[a, 0.0], [b, c]])
        return self.frame.to_t @ lam @ lam.T @ self.frame.to_t.T


# (criterion, gradient in theta) at theta; raises LinAlgError or FloatingPointError where undefined
Evaluate = Callable[[np.ndarray], tuple[float, np.ndarray]]


def _hessian(evaluate: Evaluate, theta: np.ndarray, st: _Structure, free: np.ndarray) -> np.ndarray:
    """Hessian of the criterion in the ``free`` elements of theta: central differences of the analytic gradient."""
    lower = st.lower
    hess = np.empty((len(free), len(free)))
    for col, k in enumerate(free):
        up, down = theta.copy(), theta.copy()
        h = 1e-5 * max(abs(theta[k]), 1e-2)
        up[k] += h
        down[k] = max(theta[k] - h, 0.0) if lower[k] else theta[k] - h
        hess[:, col] = (evaluate(up)[1][free] - evaluate(down)[1][free]) / (up[k] - down[k])
    return (hess + hess.T) / 2.0


def _scaled_gradient(
    evaluate: Evaluate, theta: np.ndarray, grad: np.ndarray, st: _Structure
) -> float:
    """Largest element of the gradient scaled by the Hessian, L^-1 g with H = L L' (lme4's "scaled gradient").

    Its squared norm g'H^-1g is twice the decrease a Newton step would still bring: a scale-free
    measure of how far the criterion is from its minimum. The raw gradient is not: the criterion
    grows with the number of observations, and with hundreds of thousands of them the last
    digits of its gradient are rounding noise, larger than any fixed tolerance, although no step
    could lower the criterion by more than a millionth. Infinite when the Hessian is not positive
    definite (not at a minimum); parameters on their bound with the gradient pointing outward
    are left out, as in :func:`_projected_gradient`.
    """
    free = np.flatnonzero(~(st.lower & (theta <= 0.0) & (grad > 0)))
    if free.size == 0:
        return 0.0
    try:
        factor = np.linalg.cholesky(_hessian(evaluate, theta, st, free))
        return float(np.max(np.abs(np.linalg.solve(factor, grad[free]))))
    except (np.linalg.LinAlgError, FloatingPointError):
        return float("inf")


def _newton_polish(
    evaluate: Evaluate, theta: np.ndarray, value: float, st: _Structure
) -> tuple[np.ndarray, float, int]:
    """Newton steps on the parameters off the bound, the Hessian from central differences of the gradient.

    A quasi-Newton method can stop early in a narrow curved valley of the criterion (random effects
    much larger than the residual, or variances of very different size); Newton's method does not
    depend on that scaling and converges in a few steps once close. Returns the point, its
    criterion and the number of evaluations spent.
    """
    lower = st.lower
    free = np.flatnonzero(~(lower & (theta <= 0.0)))
    evaluations = 0
    for _ in range(10 if free.size else 0):
        try:
            grad = evaluate(theta)[1]
            evaluations += 1
            if _projected_gradient(theta, grad, lower) < 1e-8:
                break
            hess = _hessian(evaluate, theta, st, free)
            evaluations += 2 * len(free)
            np.linalg.cholesky(hess)
        except (np.linalg.LinAlgError, FloatingPointError):
            break  # not locally convex (or not computable): keep the optimizer's answer
        step = np.zeros_like(theta)
        step[free] = np.linalg.solve(hess, grad[free])
        alpha, improved = 1.0, False
        for _ in range(20):
            trial = theta - alpha * step
            if not np.any(lower & (trial < 0)):
                evaluations += 1
                try:
                    trial_value = evaluate(trial)[0]
                except (np.linalg.LinAlgError, FloatingPointError):
                    trial_value = np.inf
                if trial_value < value:
                    theta, value, improved = trial, trial_value, True
                    break
            alpha /= 2.0
        if not improved or np.max(np.abs(alpha * step)) < 1e-10 * max(1.0, np.max(np.abs(theta))):
            break
    return theta, value, evaluations


@dataclass(frozen=True)
class _Descent:
    theta: np.ndarray
    value: float
    converged: bool  # the Hessian-scaled gradient at theta below _NEWTON_TOLERANCE
    scaled_gradient: float
    evaluations: int


def _newton_descent(
    evaluate: Evaluate, theta: np.ndarray, st: _Structure, max_steps: int = 25
) -> _Descent | None:
    """Damped Newton steps from ``theta``; the Hessian from forward differences of the analytic gradient.

    Each step costs one evaluation per free parameter for the Hessian and one for the trial point
    (whose gradient starts the next step), so from a nearby start a handful of passes over the
    subjects reach the minimum, where a quasi-Newton method needs dozens. Stops converged when the
    Hessian-scaled gradient (lme4's convergence measure, whose squared norm is twice what a further
    Newton step would gain) is below :data:`_NEWTON_TOLERANCE`, or below ``_GRADIENT_TOLERANCE``
    with that gain under the criterion's rounding (1e-12 of its value); gives up (``converged`` False) when
    the Hessian is not positive definite or a step would leave the bounds, which is the case a
    bounded quasi-Newton search handles. None when ``theta`` cannot be evaluated.
    """
    try:
        value, grad = evaluate(theta)
    except (np.linalg.LinAlgError, FloatingPointError):
        return None
    evaluations, scaled = 1, float("inf")
    free = np.arange(len(theta))
    for _ in range(max_steps):
        hess = np.empty((free.size, free.size))
        try:
            for col, k in enumerate(free):
                h = 1e-4 * max(
                    abs(theta[k]), 1e-2
                )  # above the gradient's rounding on millions of rows
                up = theta.copy()
                up[k] += h
                hess[:, col] = (evaluate(up)[1][free] - grad[free]) / h
                evaluations += 1
            factor = np.linalg.cholesky((hess + hess.T) / 2.0)
        except (np.linalg.LinAlgError, FloatingPointError):
            break
        z = np.linalg.solve(factor, grad[free])
        scaled = float(np.max(np.abs(z)))
        # converged when within 1e-10 of the minimum, or (on millions of observations, whose
        # gradient carries rounding noise) within the criterion's own rounding of it
        if scaled < _NEWTON_TOLERANCE or (
            scaled < _GRADIENT_TOLERANCE and z @ z / 2.0 < 1e-12 * max(1.0, abs(value))
        ):
            return _Descent(theta, value, True, scaled, evaluations)
        step = np.linalg.solve(factor.T, np.linalg.solve(factor, grad[free]))
        trial, trial_value, trial_grad = theta, np.inf, grad
        for alpha in 0.5 ** np.arange(12):
            candidate = theta.copy()
            candidate[free] -= alpha * step
            if np.any(st.lower & (candidate < 0)):
                continue
            try:
                candidate_value, candidate_grad = evaluate(candidate)
            except (np.linalg.LinAlgError, FloatingPointError):
                continue
            finally:
                evaluations += 1
            if candidate_value <= value:
                trial, trial_value, trial_grad = candidate, candidate_value, candidate_grad
                break
        if not np.isfinite(trial_value):
            break  # no descent inside the bounds: the minimum may be on one
        theta, value, grad = trial, float(trial_value), trial_grad
    return _Descent(theta, value, False, scaled, evaluations)


def _subject_evaluate(mo: SubjectMoments, st: _Structure) -> Evaluate:
    def evaluate(theta: np.ndarray) -> tuple[float, np.ndarray]:
        prof = _profile(theta, mo, st)
        return prof.deviance, prof.gradient

    return evaluate


def _minimise(frame: _Frame, st: _Structure, starts: list[np.ndarray]) -> _Minimum | None:
    """SLSQP from each start, off the boundary wherever the covariance can still descend, then Newton.

    A minimum over positive semi-definite D = L L' needs the criterion's derivative H in D to be
    positive semi-definite. A bounded search in theta can stop short of that on a bound (l11 or
    l22 = 0, where the gradient in theta can vanish although D could still descend), so when H has
    a negative eigenvalue with eigenvector v the search restarts from the best of D + e v v' over a
    few step sizes e.
    """
    mo = frame.moments
    bounds = st.bounds
    best: optimize.OptimizeResult | None = None
    evaluations = 0

    def run(start: np.ndarray) -> None:
        nonlocal best, evaluations
        try:
            res = optimize.minimize(
                _criterion, start, args=(mo, st), jac=True,
                method="SLSQP", bounds=bounds, options=_SLSQP,
            )  # fmt: skip
        except (np.linalg.LinAlgError, FloatingPointError, ValueError):
            return
        evaluations += int(res.nfev)
        if np.isfinite(res.fun) and (best is None or res.fun < best.fun):
            best = res

    for start in starts:
        run(start)
    for _ in range(4):
        if best is None:
            break
        theta = np.asarray(best.x, dtype=float)
        h = _profile(theta, mo, st).d_relative
        # the directions D may move in: any (correlated), the diagonal (uncorrelated), d00 (intercept only)
        if st.name == "uncorrelated":
            h = np.diag(np.diag(h))
        elif st.name == "intercept_only":
            h = np.diag([h[0, 0], 0.0])
        values, vectors = np.linalg.eigh(h)
        if values[0] >= 0:
            break
        a, b, c = st.full(theta)
        d = np.array([[a * a, a * b], [a * b, b * b + c * c]])
        v = vectors[:, 0]
        lowest, escape = float(best.fun), None
        for step in _ESCAPE_STEPS:
            trial = _theta_of(d + step * np.outer(v, v), st)
            evaluations += 1
            try:
                value = _profile(trial, mo, st).deviance
            except (np.linalg.LinAlgError, FloatingPointError):
                continue
            if value < lowest:
                lowest, escape = value, trial
        if escape is None:
            break
        before = best
        run(escape)
        if best is before:
            break
    if best is None:
        return None
    theta, value, polish = _newton_polish(
        _subject_evaluate(mo, st), np.asarray(best.x, dtype=float), float(best.fun), st
    )
    return _Minimum(
        frame=frame,
        theta=theta,
        deviance=value + 2.0 * np.log(frame.spread),
        n_evaluations=evaluations + polish,
        message=str(best.message),
    )


def _orthogonal_frame(
    t: np.ndarray, y: np.ndarray, codes: np.ndarray, m: int, d_t: np.ndarray, first: _Frame
) -> _Frame | None:
    """Coordinates centred where the fitted subject intercepts and slopes are uncorrelated.

    When subject lines fan out from an age far from the mean age, intercept and slope at the mean
    are almost perfectly correlated and the criterion is a long narrow valley in theta; centred where
    they are uncorrelated (within 3 SDs of the mean) the same model is well conditioned. ``first`` is
    the mean-centred frame; the new spread is the RMS distance of ``t`` from the new centre.
    """
    if not d_t[1, 1] > 0:
        return None
    shift = float(
        np.clip(-d_t[0, 1] / d_t[1, 1] - first.center, -3 * first.spread, 3 * first.spread)
    )
    return _Frame.of(t, y, codes, m, first.center + shift, float(np.hypot(first.spread, shift)))


def fit_reml(
    t: np.ndarray, y: np.ndarray, groups: np.ndarray, *, structure: str | bool = "correlated"
) -> RemlFit:
    """Fit the growth model y = b0 + b1 t + u0_i + u1_i t + e by REML (lme4's profiled criterion).

    ``t`` is centred and scaled internally so the optimisation is well conditioned, and the estimates
    are transformed back to ``t``'s own units and origin. SLSQP with the analytic gradient runs from
    lme4's start theta = (1, 0, 1) and from a method-of-moments start, leaves the boundary where the
    criterion still descends, and finishes with Newton steps; with a random slope it runs again in
    coordinates where the subject intercepts and slopes found are uncorrelated. The lowest criterion wins.

    Parameters
    ----------
    t : numpy.ndarray
        Covariate per observation (age minus the centre).
    y : numpy.ndarray
        Response per observation.
    groups : numpy.ndarray
        Subject label per observation.
    structure : {"correlated", "uncorrelated", "intercept_only"}
        Random intercept and slope with a free correlation (lme4's ``(t | subject)``), uncorrelated
        (``(t || subject)``: the covariance is diagonal at t = 0, so it depends on ``t``'s origin), or
        a random intercept only (``(1 | subject)``). ``True``/``False`` mean correlated / intercept only.

    Returns
    -------
    RemlFit

    Raises
    ------
    AnalysisError
        Fewer than 3 observations, non-finite numbers or no spread in ``t``.
    ConvergenceError
        When the criterion cannot be evaluated from any start.

    Examples
    --------
    >>> import numpy as np
    >>> from pmpath.natural_history.reml import fit_reml
    >>> t = np.tile(np.arange(5.0), 3)
    >>> y = 2.0 + 0.5 * t + np.repeat([-1.0, 0.0, 1.0], 5) + np.tile([0.1, -0.2, 0.0, 0.2, -0.1], 3)
    >>> fit = fit_reml(t, y, np.repeat(["a", "b", "c"], 5), structure="intercept_only")
    >>> bool(fit.converged), round(float(fit.fixed_effects[1]), 6)
    (True, 0.5)
    """
    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    groups = np.asarray(groups)
    if len(y) <= _P:
        raise AnalysisError(
            f"found {len(y)} observation(s), expected at least {_P + 1} to fit a growth model"
        )
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(y))):
        raise AnalysisError("t and y must hold finite numbers, found NaN or infinity")
    spread = float(t.std())
    if not spread > 0:
        raise AnalysisError(f"every observation has t = {t[0]:g}, expected a spread to fit a slope")
    if not (t.shape == y.shape == groups.shape) or t.ndim != 1:
        raise UsageError(
            f"t, y and groups must be 1-d and of one length, found shapes {t.shape}, {y.shape}, {groups.shape}"
        )
    st = _structure(structure)
    codes = subject_codes(groups)
    m = int(codes.max()) + 1
    if st.name == "uncorrelated":
        # diagonal at t = 0: the internal frame may rescale t but must not move its origin
        frame = _Frame.of(t, y, codes, m, 0.0, float(np.sqrt(np.mean(t * t))))
    else:
        frame = _Frame.of(t, y, codes, m, float(t.mean()), spread)
    starts = [st.start()]
    moment = _moment_start(frame.moments, st)
    if moment is not None:
        starts.append(moment)
    best = _minimise(frame, st, starts)
    if best is None:
        raise ConvergenceError(
            "the REML criterion could not be evaluated from any start; check the data for "
            "constant or collinear columns"
        )
    evaluations = best.n_evaluations
    for _ in range(3 if st.name == "correlated" else 0):
        d_t = best.relative_cov_t(st)
        other = _orthogonal_frame(t, y, codes, m, d_t, frame)
        if other is None or abs(other.center - best.frame.center) < 1e-3 * frame.spread:
            break
        again = _minimise(other, st, [_theta_of(other.from_t @ d_t @ other.from_t.T, st)])
        if again is None:
            break
        evaluations += again.n_evaluations
        previous = best.deviance
        # at an equal criterion the better-conditioned frame gives the more accurate answer
        if again.deviance < previous + 1e-9:
            best = again
        if not again.deviance < previous - 1e-9:
            break

    frame, theta = best.frame, best.theta
    mo = frame.moments
    prof = _profile(theta, mo, st)
    sigma2 = prof.r2 / (mo.n_observations - _P)
    to_t = frame.to_t
    beta_cov = to_t @ (sigma2 * np.linalg.inv(prof.xvx)) @ to_t.T
    g = sigma2 * best.relative_cov_t(st)
    if st.name == "uncorrelated":
        g = np.diag(np.diag(g))  # exactly diagonal (the frame only rescales t)
    gradient = _projected_gradient(theta, prof.gradient, st.lower)
    scaled = (
        float("nan")
        if gradient < _GRADIENT_TOLERANCE
        else _scaled_gradient(_subject_evaluate(mo, st), theta, prof.gradient, st)
    )
    return RemlFit(
        fixed_effects=to_t @ prof.beta,
        fixed_effects_cov=(beta_cov + beta_cov.T) / 2.0,
        random_effects_cov=(g + g.T) / 2.0,
        residual_variance=float(sigma2),
        # log|X'V^-1X| in t's units differs from the frame's by 2 log|det T| = 2 log(spread).
        deviance=prof.deviance + 2.0 * np.log(frame.spread),
        converged=bool(gradient < _GRADIENT_TOLERANCE or scaled < _GRADIENT_TOLERANCE),
        structure=st.name,
        gradient=gradient,
        n_evaluations=evaluations,
        message=best.message,
        scaled_gradient=scaled,
    )


# ---------------------------------------------------------------------- any fixed-effect design


@dataclass(frozen=True)
class SubjectSums:
    """Sums over each subject's observations for one grouping and one ``t``, whatever the fixed effects.

    What every fit of one cohort's endpoint shares: :func:`fit_design` computes it, or takes it
    (``sums=``) when several designs are fitted to the same rows, as the AIC choice of a spline does.

    Attributes
    ----------
    codes : numpy.ndarray
        Each observation's subject, 0 .. m - 1.
    ones, times : scipy.sparse.csr_array
        Shape (m, n): subject indicators, and the same with ``t`` in place of 1; ``ones @ w`` sums
        ``w`` over each subject's observations in one pass over ``w``'s rows.
    s00, s01, s11, det_s : numpy.ndarray
        Shape (m,): the elements of Z_i'Z_i (n_i, sum t, sum t^2) and its determinant
        n_i sum (t - mean t_i)^2, from the centred sum (no cancellation).
    """

    codes: np.ndarray
    ones: sparse.csr_array
    times: sparse.csr_array
    s00: np.ndarray
    s01: np.ndarray
    s11: np.ndarray
    det_s: np.ndarray

    @classmethod
    def of(cls, t: np.ndarray, codes: np.ndarray, m: int | None = None) -> SubjectSums:
        t = np.asarray(t, dtype=float)
        codes = np.asarray(codes, dtype=np.intp)
        m = int(codes.max()) + 1 if m is None else m
        s00 = np.bincount(codes, minlength=m).astype(float)
        order = (
            np.arange(len(codes))
            if np.all(codes[1:] >= codes[:-1])
            else np.argsort(codes, kind="stable")
        )
        indptr = np.concatenate([[0], np.cumsum(s00, dtype=np.int64)])
        ones = sparse.csr_array((np.ones(len(codes)), order, indptr), shape=(m, len(codes)))
        times = sparse.csr_array((t[order], order, indptr), shape=(m, len(codes)))
        s01 = np.asarray(times @ np.ones(len(codes)))
        centred = t - (s01 / np.maximum(s00, 1.0))[codes]
        return cls(
            codes=codes,
            ones=ones,
            times=times,
            s00=s00,
            s01=s01,
            s11=np.asarray(times @ t),
            det_s=s00 * np.bincount(codes, weights=centred * centred, minlength=m),
        )

    def scaled(self, spread: float) -> SubjectSums:
        """The sums for t / ``spread``."""
        return SubjectSums(
            codes=self.codes,
            ones=self.ones,
            times=self.times / spread,
            s00=self.s00,
            s01=self.s01 / spread,
            s11=self.s11 / spread**2,
            det_s=self.det_s / spread**2,
        )


@dataclass(frozen=True)
class DesignMoments:
    """Per-subject cross-products of a model with fixed-effect design X (n x p) and random design Z = [1, t].

    Attributes
    ----------
    s00, s01, s11 : numpy.ndarray
        Shape (m,): the elements of Z_i'Z_i (n_i, sum t, sum t^2).
    det_s : numpy.ndarray
        Shape (m,): |Z_i'Z_i| = n_i sum (t - mean t_i)^2, from the centred sum (no cancellation).
    zx0, zx1 : numpy.ndarray
        Shape (m, p): the rows of Z_i'X_i (sum of X's rows; sum of t times X's rows).
    zy0, zy1 : numpy.ndarray
        Shape (m,): Z_i'y_i.
    xx, xy, yy : numpy.ndarray, numpy.ndarray, float
        X'X, X'y and y'y over all observations.
    n_observations : int
    """

    s00: np.ndarray
    s01: np.ndarray
    s11: np.ndarray
    det_s: np.ndarray
    zx0: np.ndarray
    zx1: np.ndarray
    zy0: np.ndarray
    zy1: np.ndarray
    xx: np.ndarray
    xy: np.ndarray
    yy: float
    n_observations: int

    @classmethod
    def from_codes(
        cls,
        x: np.ndarray | Sequence[np.ndarray],
        t: np.ndarray,
        y: np.ndarray,
        codes: np.ndarray,
        m: int,
    ) -> DesignMoments:
        """The moments of design ``x``, or of the design whose column blocks ``x`` lists side by side."""
        return cls.of(SubjectSums.of(t, codes, m), _column_blocks(x), y)

    @classmethod
    def of(cls, sums: SubjectSums, blocks: list[np.ndarray], y: np.ndarray) -> DesignMoments:
        # X'X and X'y over rows taken a few thousand at a time: the blocks side by side stay in the
        # processor's cache, where a product per pair of blocks would read millions of rows each time
        p = sum(block.shape[1] for block in blocks)
        xx, xy = np.zeros((p, p)), np.zeros(p)
        for lo in range(0, len(y), _ROWS):
            rows = np.hstack([block[lo : lo + _ROWS] for block in blocks])
            xx += rows.T @ rows
            xy += rows.T @ y[lo : lo + _ROWS]
        return cls(
            s00=sums.s00,
            s01=sums.s01,
            s11=sums.s11,
            det_s=sums.det_s,
            zx0=np.hstack([np.asarray(sums.ones @ block) for block in blocks]),
            zx1=np.hstack([np.asarray(sums.times @ block) for block in blocks]),
            zy0=np.asarray(sums.ones @ y),
            zy1=np.asarray(sums.times @ y),
            xx=xx,
            xy=xy,
            yy=float(y @ y),
            n_observations=len(y),
        )

    @property
    def p(self) -> int:
        return self.xx.shape[0]


def _design_profile(
    theta: np.ndarray, mo: DesignMoments, st: _Structure, reml: bool
) -> tuple[float, np.ndarray, np.ndarray, float, np.ndarray]:
    """Profiled criterion (-2 l_R with ``reml``, else -2 l_ML), beta, X'V^-1X, r^2 and the gradient in theta.

    With M_i = I + L'S_iL (S_i = Z_i'Z_i), W_i = L M_i^-1 L' and Q_i = I - S_i W_i = (I + S_i D)^-1,
    Z_i'V_i^-1 = Q_i Z_i' (Woodbury, V_i = I + Z_i L L' Z_i'), so X'V^-1X = X'X - sum X_i'Z_i W_i Z_i'X_i,
    and so for X'V^-1y and y'V^-1y. The derivative in D = L L' is H = sum K_i - sum P_i A^-1 P_i'
    (REML only) - (dof / r^2) sum h_i h_i' with K_i = Q_i S_i, P_i = Q_i Z_i'X_i, A = X'V^-1X,
    h_i = Q_i Z_i'y_i - P_i beta and dof = n - p (REML) or n (ML); in L it is 2 H L. Every 2 x 2
    product is written out element by element (one numpy operation over subjects each), every sum
    over subjects of p x p products is a matrix product, and the subjects
    are taken in blocks of :data:`_BLOCK` whose arrays stay in the processor's cache.
    """
    a, b, c = st.full(np.asarray(theta, dtype=float))
    p = mo.p
    zwz, zwy, ywy, log_det_m = np.zeros((p, p)), np.zeros(p), 0.0, 0.0
    k00 = k01 = k11 = 0.0
    kept = []
    for block in _blocks(len(mo.s00)):
        s00, s01, s11 = mo.s00[block], mo.s01[block], mo.s11[block]
        # M = I + L'SL; |M| = 1 + tr(L'SL) + |S||D|, a sum of non-negative terms (|S| from the
        # centred sum: S of a subject with few visits is near rank one)
        m00 = 1.0 + a * a * s00 + 2.0 * a * b * s01 + b * b * s11
        m01 = c * (a * s01 + b * s11)
        m11 = 1.0 + c * c * s11
        det = m00 + m11 - 1.0 + mo.det_s[block] * (a * c) ** 2
        i00, i01, i11 = m11 / det, -m01 / det, m00 / det
        w00 = a * a * i00  # W = L M^-1 L' = D Q
        w01 = a * (b * i00 + c * i01)
        w11 = b * b * i00 + 2.0 * b * c * i01 + c * c * i11
        q00, q01 = 1.0 - (s00 * w00 + s01 * w01), -(s00 * w01 + s01 * w11)  # Q = I - S W
        q10, q11 = -(s01 * w00 + s11 * w01), 1.0 - (s01 * w01 + s11 * w11)
        zx0, zx1, zy0, zy1 = mo.zx0[block], mo.zx1[block], mo.zy0[block], mo.zy1[block]
        p0 = q00[:, None] * zx0 + q01[:, None] * zx1
        p1 = q10[:, None] * zx0 + q11[:, None] * zx1
        g0, g1 = q00 * zy0 + q01 * zy1, q10 * zy0 + q11 * zy1
        dz0 = w00[:, None] * zx0 + w01[:, None] * zx1  # W Z'X
        dz1 = w01[:, None] * zx0 + w11[:, None] * zx1
        zwz += zx0.T @ dz0 + zx1.T @ dz1
        zwy += dz0.T @ zy0 + dz1.T @ zy1
        ywy += float(zy0 @ (w00 * zy0 + w01 * zy1) + zy1 @ (w01 * zy0 + w11 * zy1))
        log_det_m += float(np.log(det).sum())
        k00 += float((q00 * s00 + q01 * s01).sum())
        k01 += float((q00 * s01 + q01 * s11).sum())
        k11 += float((q10 * s01 + q11 * s11).sum())
        kept.append((p0, p1, g0, g1))
    xvx = mo.xx - (zwz + zwz.T) / 2.0
    xvy = mo.xy - zwy
    beta = np.linalg.solve(xvx, xvy)
    r2 = float(mo.yy - ywy - xvy @ beta)
    if not r2 > 0:
        raise FloatingPointError(f"penalized residual sum of squares is {r2:g}, expected > 0")
    n = mo.n_observations
    dof = n - p if reml else n
    dev = log_det_m + dof * (1.0 + np.log(2.0 * np.pi * r2 / dof))
    if reml:
        sign, log_det_x = np.linalg.slogdet(xvx)
        if sign <= 0:
            raise np.linalg.LinAlgError("X'V^-1X is not positive definite")
        dev += log_det_x
    hh00 = hh01 = hh11 = 0.0
    pp = np.zeros((3, p, p))  # sum P_i'P_i by element pair (00, 01, 11), for the REML term
    for p0, p1, g0, g1 in kept:
        h0, h1 = g0 - p0 @ beta, g1 - p1 @ beta
        hh00 += float(h0 @ h0)
        hh01 += float(h0 @ h1)
        hh11 += float(h1 @ h1)
        if reml:
            pp[0] += p0.T @ p0
            pp[1] += p0.T @ p1
            pp[2] += p1.T @ p1
    f = dof / r2
    h = np.array([[k00 - f * hh00, k01 - f * hh01], [k01 - f * hh01, k11 - f * hh11]])
    if reml:
        # sum_i P_i A^-1 P_i' element by element: trace(A^-1 sum P_i(r)'P_i(s))
        a_inv = np.linalg.inv(xvx)
        c00, c01, c11 = (float(np.sum(a_inv * q)) for q in pp)
        h -= np.array([[c00, c01], [c01, c11]])
    lam = np.array([[a, 0.0], [b, c]])
    g = 2.0 * h @ lam
    full = (g[0, 0], g[1, 0], g[1, 1])
    return float(dev), beta, xvx, r2, np.array([full[k] for k in st.free])


@dataclass(frozen=True)
class DesignFit:
    """Estimates of a growth model with any fixed-effect design, from :func:`fit_design`.

    Attributes
    ----------
    fixed_effects : numpy.ndarray
        Shape (p,): coefficients of the columns of X.
    fixed_effects_cov : numpy.ndarray
        Shape (p, p): s^2 (X'V^-1X)^-1.
    random_effects_cov : numpy.ndarray
        Shape (2, 2): G of the subject intercepts and slopes in t (diagonal for ``"uncorrelated"``,
        slope row and column zero for ``"intercept_only"``).
    residual_variance : float
        r^2 / (n - p) by REML, r^2 / n by ML.
    deviance : float
        -2 l_R (lme4's REML criterion) or -2 l_ML (its deviance).
    reml : bool
    structure : str
    converged : bool
        Whether the minimum passed the gradient check: the largest projected analytic gradient per
        unit of log theta, or else the Hessian-scaled gradient, below 1e-3 (as :class:`RemlFit`).
    n_parameters : int
        p + the number of covariance parameters + 1 (s^2): what AIC counts.
    """

    fixed_effects: np.ndarray
    fixed_effects_cov: np.ndarray
    random_effects_cov: np.ndarray
    residual_variance: float
    deviance: float
    reml: bool
    structure: str
    converged: bool
    n_parameters: int

    @property
    def log_likelihood(self) -> float:
        return -self.deviance / 2.0

    @property
    def aic(self) -> float:
        """-2 log-likelihood + 2 x parameters; compares fixed-effect designs only when fitted by ML."""
        return self.deviance + 2.0 * self.n_parameters


def _column_blocks(x: np.ndarray | Sequence[np.ndarray]) -> list[np.ndarray]:
    """``x`` as a list of 2-d float blocks of one length (one block when ``x`` is an array)."""
    blocks = [np.asarray(b, dtype=float) for b in ([x] if isinstance(x, np.ndarray) else x)]
    if not isinstance(x, np.ndarray):
        blocks = [b[:, None] if b.ndim == 1 else b for b in blocks]
    if not blocks or any(b.ndim != 2 or len(b) != len(blocks[0]) for b in blocks):
        raise UsageError(
            f"x: found blocks of shapes {[b.shape for b in blocks]}, expected 2-d blocks with one number of rows"
        )
    return blocks


def _column_rank(gram: np.ndarray) -> int:
    """Column rank of a design from its Gram matrix X'X, with unit-length columns.

    A (p x p) problem instead of an SVD of the (n x p) design, which for millions of rows costs
    seconds; a zero column or columns collinear to 1e-6 in correlation count as rank-deficient.
    """
    d = np.sqrt(np.diag(gram))
    if not np.all(d > 0):
        return int(np.linalg.matrix_rank(gram, hermitian=True))
    eig = np.linalg.eigvalsh(gram / np.outer(d, d))
    return int(np.sum(eig > 1e-12 * gram.shape[0]))


def fit_design(
    x: np.ndarray,
    t: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    *,
    structure: str | bool = "correlated",
    reml: bool = True,
    start: np.ndarray | None = None,
    sums: SubjectSums | None = None,
) -> DesignFit:
    """Fit y = X beta + u0_i + u1_i t + e by REML or ML, X any full-rank fixed-effect design.

    The general form of :func:`fit_reml` (which is faster, for X = [1, t]): splines in age and
    covariates enter X, the random effects stay an intercept and a slope in ``t``. The profiled
    criterion is minimised over theta by SLSQP with its analytic gradient from lme4's start and
    ``start``; Nelder-Mead from the best when the gradient is still above tolerance.

    Parameters
    ----------
    x : numpy.ndarray or sequence of numpy.ndarray
        Shape (n, p): fixed-effect design, full column rank; or its column blocks in order (each
        (n, k) or (n,)), which spares stacking millions of rows into one array.
    t : numpy.ndarray
        Shape (n,): the random slope's covariate (age minus the centre).
    y, groups : numpy.ndarray
        Response and subject label per observation.
    structure : {"correlated", "uncorrelated", "intercept_only"}
    reml : bool
        REML (True, lme4's default) or maximum likelihood (for comparing fixed-effect designs by AIC).
    start : numpy.ndarray, optional
        A further start: the relative covariance G / s^2 (2 x 2, in ``t``'s units) of a nearby
        fit, e.g. :func:`fit_reml`'s on the linear design.
    sums : SubjectSums, optional
        ``SubjectSums.of(t, subject_codes(groups))``, computed once for several designs fitted to
        the same rows (``groups`` is then not read again).

    Returns
    -------
    DesignFit

    Raises
    ------
    AnalysisError
        X not of full column rank, or too few observations.
    ConvergenceError
        When the criterion cannot be evaluated from any start.
    """
    blocks = _column_blocks(x)
    t = np.asarray(t, dtype=float)
    y = np.asarray(y, dtype=float)
    st = _structure(structure)
    n, p = len(blocks[0]), sum(b.shape[1] for b in blocks)
    if n <= p:
        raise AnalysisError(f"found {n} observation(s), expected more than the {p} fixed effects")
    if sums is None:
        sums = SubjectSums.of(t, subject_codes(groups))
    elif len(sums.codes) != n:
        raise UsageError(f"sums: found {len(sums.codes)} observations, expected {n}")
    # t rescaled internally (theta's slope part then has the size of the intercept's)
    spread = float(np.sqrt(np.mean(t * t))) or 1.0
    mo = DesignMoments.of(sums.scaled(spread), blocks, y)
    rank = _column_rank(mo.xx)
    if rank < p:
        raise AnalysisError(
            f"the fixed-effect design has rank {rank}, expected {p} (full column rank): "
            "a covariate is constant or collinear with others"
        )

    def evaluate(theta: np.ndarray) -> tuple[float, np.ndarray]:
        return _design_profile(theta, mo, st, reml)[::4]  # (deviance, gradient)

    def objective(theta: np.ndarray) -> float:
        try:
            return evaluate(theta)[0]
        except (np.linalg.LinAlgError, FloatingPointError):
            return np.inf

    def with_gradient(theta: np.ndarray) -> tuple[float, np.ndarray]:
        try:
            return evaluate(theta)
        except (np.linalg.LinAlgError, FloatingPointError):
            return np.inf, np.zeros_like(theta)

    def gradient_check(theta: np.ndarray) -> float:
        """The smaller of the projected gradient (per unit of log theta above 1) and the Hessian-scaled one.

        As in :func:`fit_reml`: with hundreds of thousands of observations the raw gradient's last
        digits are rounding noise above any fixed tolerance, the scaled one (the Newton decrement) is not.
        """
        grad = with_gradient(theta)[1]
        raw = _projected_gradient(theta, grad, st.lower)
        if raw < _GRADIENT_TOLERANCE:
            return raw
        return min(raw, _scaled_gradient(evaluate, theta, grad, st))

    starts = [st.start()]
    best: tuple[float, np.ndarray] | None = None
    gradient = np.inf
    if start is not None:
        scale_t = np.diag([1.0, spread])  # G in t / spread's units
        near = _theta_of(_inside(scale_t @ np.asarray(start, dtype=float) @ scale_t), st)
        if np.all(np.isfinite(near)):
            # Newton steps straight from the nearby fit's answer: on a large cohort every
            # evaluation is a pass over the subjects, and from there a few steps reach the minimum
            descent = _newton_descent(evaluate, near, st)
            if descent is not None and descent.converged:
                best, gradient = (descent.value, descent.theta), descent.scaled_gradient
            else:
                starts.insert(0, near)
    for k, s0 in enumerate(starts if best is None else []):
        # SLSQP to within a millionth of the criterion, Newton steps from there: quadratic
        # convergence where a quasi-Newton method creeps on for dozens of steps
        res = optimize.minimize(
            with_gradient, s0, jac=True, method="SLSQP", bounds=st.bounds, options=_SLSQP_DESIGN
        )
        if not np.isfinite(res.fun):
            continue
        theta, value = np.asarray(res.x, dtype=float), float(res.fun)
        descent = _newton_descent(evaluate, theta, st)
        if descent is not None and descent.value <= value:
            theta, value = descent.theta, descent.value
        if best is None or value < best[0]:
            best = (value, theta)
            gradient = (
                descent.scaled_gradient
                if descent is not None and descent.converged and descent.theta is theta
                else gradient_check(theta)
            )
        if k == 0 and start is not None and len(starts) > 1 and gradient < _GRADIENT_TOLERANCE:
            # The nearby fit's start reached a converged minimum: lme4's own start is not run as
            # well (it would find the same; on a large cohort each start costs seconds).
            break
    if best is None:
        raise ConvergenceError(
            "the criterion could not be evaluated from any start; check the design for collinear columns"
        )

    value, theta = best
    if not gradient < _GRADIENT_TOLERANCE:
        # Nelder-Mead from the quasi-Newton answer: finite-difference gradients can stall near a bound
        polish = optimize.minimize(
            lambda th: objective(np.where(st.lower, np.abs(th), th)), theta, method="Nelder-Mead",
            options={"xatol": 1e-9, "fatol": 1e-11, "maxiter": 400},
        )  # fmt: skip
        if polish.fun < value:
            theta = np.where(st.lower, np.abs(polish.x), polish.x)
            gradient = gradient_check(theta)
    dev, beta, xvx, r2, _ = _design_profile(theta, mo, st, reml)
    sigma2 = r2 / (n - p if reml else n)
    a, b, c = st.full(theta)
    to_t = np.diag([1.0, 1.0 / spread])
    lam = to_t @ np.array([[a, 0.0], [b, c]])
    g = sigma2 * lam @ lam.T
    if st.name == "uncorrelated":
        g = np.diag(np.diag(g))
    cov = sigma2 * np.linalg.inv(xvx)
    return DesignFit(
        fixed_effects=beta,
        fixed_effects_cov=(cov + cov.T) / 2.0,
        random_effects_cov=(g + g.T) / 2.0,
        residual_variance=float(sigma2),
        deviance=dev,
        reml=reml,
        structure=st.name,
        converged=bool(gradient < _GRADIENT_TOLERANCE),
        n_parameters=p + len(theta) + 1,
    )


def subject_effects(
    residuals: np.ndarray,
    t: np.ndarray,
    codes: np.ndarray,
    m: int,
    random_effects_cov: np.ndarray,
    residual_variance: float,
) -> np.ndarray:
    """BLUPs of the subject intercepts and slopes (in ``t``'s origin), shape (m, 2), subjects as codes 0 .. m - 1.

    u_i = G Z_i' V_i^-1 r_i with V_i = s^2 I + Z_i G Z_i' and r_i = y_i - X_i beta (``residuals``), i.e.
    D (I + Z_i'Z_i D)^-1 Z_i'r_i with D = G / s^2: lme4's ``ranef``. Valid for a singular G.
    """
    z = np.column_stack([np.ones_like(t), t])

    def total(w: np.ndarray) -> np.ndarray:
        return np.bincount(codes, weights=w, minlength=m)

    zz = np.empty((m, 2, 2))
    zr = np.empty((m, 2))
    for r in range(2):
        for c in range(2):
            zz[:, r, c] = total(z[:, r] * z[:, c])
        zr[:, r] = total(z[:, r] * residuals)
    d = np.asarray(random_effects_cov, dtype=float) / residual_variance
    h = np.linalg.solve(np.eye(2) + zz @ d, zr[:, :, None])[:, :, 0]
    return h @ d.T
