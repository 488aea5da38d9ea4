"""DuMouchel's multi-item gamma Poisson shrinker (MGPS): squashing, the prior fit, EBGM, EB05 and EB95.

The observed count N of a drug-event pair is Poisson with mean lambda E; lambda has a prior that
mixes two gamma distributions (alpha1, beta1), (alpha2, beta2) with weight P on the first
(DuMouchel 1999, Am Stat 53:177). Pairs with N = 0 are not observed, so the marginal likelihood is
the two-negative-binomial mixture truncated at N* = 1 (DuMouchel and Pregibon 2001), maximized on
data squashed as openEBGM's ``squashData`` squashes it: the points of one count are sorted by E, the
``keep_pts`` largest kept as they are and the others averaged in bins of ``bin_size`` points,
weighted by the bin's size.

Given the prior, the posterior of lambda is again a two-gamma mixture, with shape alpha + N, rate
beta + E and weight Qn on the first component; EBGM = exp(E[log lambda]) and EB05/EB95 are its 5%
and 95% quantiles, solved for every pair at once (safeguarded Newton steps inside the bracket that
the two components' own quantiles give, on the unique (N, E) pairs).

- :func:`squash` (one count), :func:`auto_squash` (every count, openEBGM's ``autoSquash``),
  :func:`squash_openebgm` (the two steps of the caers known answer's pipeline)
- :func:`neg_log_likelihood`, :func:`fit_prior` -> :class:`PriorFit` (every start, each a :class:`PriorStart`)
- :func:`posterior_scores` -> :class:`MGPSScores`; :func:`posterior_quantile_bisect` (the slow exact reference)
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, special

from pmpath.errors import AnalysisError, UsageError
from pmpath.formatting import format_number

__all__ = [
    "DEFAULT_STARTS",
    "MGPSScores",
    "Prior",
    "PriorFit",
    "PriorStart",
    "Squashed",
    "auto_squash",
    "fit_prior",
    "neg_log_likelihood",
    "posterior_quantile_bisect",
    "posterior_scores",
    "squash",
    "squash_openebgm",
]


@dataclass(frozen=True)
class Prior:
    """The two-component gamma mixture prior: (alpha1, beta1) with weight ``p``, (alpha2, beta2)."""

    alpha1: float
    beta1: float
    alpha2: float
    beta2: float
    p: float

    def __post_init__(self) -> None:
        for name in ("alpha1", "beta1", "alpha2", "beta2"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise UsageError(f"prior {name}: found {value!r}, expected a finite number > 0")
        if not (0 < self.p < 1):
            raise UsageError(f"prior p: found {self.p!r}, expected a number in (0, 1)")

    def as_tuple(self) -> tuple[float, float, float, float, float]:
        return (self.alpha1, self.beta1, self.alpha2, self.beta2, self.p)

    def to_json(self) -> dict[str, float]:
        return {
            "alpha1": self.alpha1,
            "beta1": self.beta1,
            "alpha2": self.alpha2,
            "beta2": self.beta2,
            "P": self.p,
        }

    def __str__(self) -> str:
        a1, b1, a2, b2, p = (format_number(v, 4) for v in self.as_tuple())
        return f"alpha1 {a1}, beta1 {b1}, alpha2 {a2}, beta2 {b2}, P {p}"


DEFAULT_STARTS: tuple[Prior, ...] = (
    Prior(0.2, 0.1, 2.0, 4.0, 1 / 3),
    Prior(0.1, 0.1, 10.0, 10.0, 0.2),
    Prior(0.3, 0.5, 6.0, 6.0, 0.5),
    Prior(0.5, 0.3, 12.0, 12.0, 0.8),
    Prior(0.2, 0.2, 5.0, 5.0, 0.4),
)
"""openEBGM's five starting points (its vignette's ``theta_init``)."""


# --------------------------------------------------------------------------- squashing


@dataclass(frozen=True)
class Squashed:
    """Points for the likelihood: counts ``n``, expected counts ``e`` and their ``weight``."""

    n: np.ndarray
    e: np.ndarray
    weight: np.ndarray

    def __len__(self) -> int:
        return int(self.n.size)


def _counts(n, e, weight=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = np.asarray(n, dtype=float)
    e = np.asarray(e, dtype=float)
    if n.shape != e.shape or n.ndim != 1:
        raise UsageError(
            f"N, E: found shapes {n.shape} and {e.shape}, expected two arrays of one length"
        )
    if n.size and (not np.all(np.isfinite(n)) or np.any(n < 0) or np.any(n != np.round(n))):
        raise UsageError(
            "N: found a negative, fractional or missing count, expected whole counts >= 0"
        )
    if n.size and (not np.all(np.isfinite(e)) or np.any(e <= 0)):
        raise UsageError("E: found a missing or non-positive value, expected expected counts > 0")
    w = np.ones_like(n) if weight is None else np.asarray(weight, dtype=float)
    if w.shape != n.shape or (w.size and np.any(~np.isfinite(w) | (w <= 0))):
        raise UsageError("weight: found a missing or non-positive weight, expected weights > 0")
    return n, e, w


def squash(
    n,
    e,
    weight=None,
    *,
    count: int = 1,
    bin_size: int = 50,
    keep_pts: int = 100,
    min_bin: int = 50,
    min_pts: int = 500,
) -> Squashed:
    """Squash the points with ``N == count`` as openEBGM's ``squashData`` does.

    The points of that count are sorted by E; the ``keep_pts`` largest stay as they are and the
    rest are averaged in consecutive bins of ``bin_size`` (the last bin takes the remainder), each
    weighted by the summed weights of its points. Points of other counts pass through. With fewer
    than ``min_pts`` points of that count, or fewer than ``min_bin`` bins, nothing is squashed.

    Examples
    --------
    >>> s = squash([1, 1, 1, 1, 1, 2], [0.1, 0.3, 0.2, 0.4, 9.0, 1.0], count=1, bin_size=2,
    ...            keep_pts=1, min_bin=1, min_pts=1)
    >>> s.n.tolist(), [round(x, 3) for x in s.e.tolist()], s.weight.tolist()
    ([1.0, 1.0, 1.0, 2.0], [0.15, 0.35, 9.0, 1.0], [2.0, 2.0, 1.0, 1.0])
    """
    n, e, w = _counts(n, e, weight)
    if bin_size < 2 or keep_pts < 0:
        raise UsageError(
            f"bin_size, keep_pts: found {bin_size}, {keep_pts}, expected bin_size >= 2, keep_pts >= 0"
        )
    at = n == count
    n_at = int(at.sum())
    n_squash = n_at - keep_pts
    if n_at < min_pts or n_squash < bin_size or math.ceil(n_squash / bin_size) < min_bin:
        return Squashed(n, e, w)
    e_at, w_at = e[at], w[at]
    order = np.argsort(e_at, kind="stable")
    e_at, w_at = e_at[order], w_at[order]
    bins = np.arange(n_squash) // bin_size
    sum_w = np.bincount(bins, weights=w_at[:n_squash])
    mean_e = np.bincount(bins, weights=(e_at * w_at)[:n_squash]) / sum_w
    out_n = np.concatenate([n[~at], np.full(sum_w.size + keep_pts, float(count))])
    out_e = np.concatenate([e[~at], mean_e, e_at[n_squash:]])
    out_w = np.concatenate([w[~at], sum_w, w_at[n_squash:]])
    order = np.argsort(out_n, kind="stable")
    return Squashed(out_n[order], out_e[order], out_w[order])


def auto_squash(
    n,
    e,
    *,
    keep_pts: tuple[int, ...] = (100, 75, 50, 25),
    cut_offs: tuple[float, ...] = (500, 1e3, 1e4, 1e5, 5e5, 1e6, 5e6),
    num_super_pts: tuple[int, ...] = (50, 75, 150, 500, 750, 1e3, 2e3, 5e3),
) -> Squashed:
    """Squash every count as openEBGM's ``autoSquash`` does (its defaults).

    Each count with more than ``max(keep_pts) + 1`` points is squashed in turn (the smallest
    count first): the k-th keeps ``keep_pts[k]`` points (the last value for the rest) and bins the
    others into about ``num_super_pts[j]`` super points, ``j`` the first cut-off above the number
    of points to squash (bins of at least 2).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> n = np.concatenate([np.ones(5000), np.full(800, 2), np.full(50, 3)])
    >>> s = auto_squash(n, rng.uniform(0.01, 1, n.size))
    >>> len(s), int(s.weight.sum())
    (460, 5850)
    """
    n, e, w = _counts(n, e)
    if len(num_super_pts) != len(cut_offs) + 1 or not keep_pts:
        raise UsageError(
            "num_super_pts, cut_offs: found lengths "
            f"{len(num_super_pts)} and {len(cut_offs)}, expected one more super-point count than cut-offs"
        )
    values, sizes = np.unique(n, return_counts=True)
    counts = values[sizes > max(keep_pts) + 1]
    out = Squashed(n, e, w)
    for k, count in enumerate(counts):
        keep = keep_pts[min(k, len(keep_pts) - 1)]
        num = int(np.sum(out.n == count))
        to_squash = num - keep
        j = next((i for i, c in enumerate(cut_offs) if to_squash < c), len(cut_offs))
        bin_size = max(int(to_squash // num_super_pts[j]), 2)
        out = squash(
            out.n,
            out.e,
            out.weight,
            count=int(count),
            bin_size=bin_size,
            keep_pts=keep,
            min_bin=1,
            min_pts=1,
        )
    return out


def squash_openebgm(n, e) -> Squashed:
    """openEBGM's documented two steps: count 1 in bins of 50 keeping 100, then count 2 in bins of 10 keeping 50."""
    first = squash(n, e, count=1, bin_size=50, keep_pts=100)
    return squash(first.n, first.e, first.weight, count=2, bin_size=10, keep_pts=50)


# --------------------------------------------------------------------------- likelihood


def _component_terms(n, e, a, b, log_e=None, lgamma_n1=None):
    """log NB(n; a, b/(b+E)), log(1 - NB(0)) and log b/(b+E) of one gamma component.

    ``log_e`` and ``lgamma_n1`` (log E and log n!) may be given when the same points are
    evaluated many times (the prior fit).
    """
    log_b_e = np.log(b + e)
    log_q = np.log(b) - log_b_e  # log of the NB success probability b / (b + E)
    log_e = np.log(e) if log_e is None else log_e
    lgamma_n1 = special.gammaln(n + 1) if lgamma_n1 is None else lgamma_n1
    log_f = (
        special.gammaln(a + n) - special.gammaln(a) - lgamma_n1 + a * log_q + n * (log_e - log_b_e)
    )
    log_trunc = np.log(-np.expm1(a * log_q))  # log P(N >= 1)
    return log_f, log_trunc, log_q


def _negll_and_grad(x, n, e, w, n_star, log_e=None, lgamma_n1=None):
    """Negative log-likelihood and its gradient in (log a1, log b1, log a2, log b2, logit P)."""
    a1, b1, a2, b2 = np.exp(x[:4])
    p = special.expit(x[4])
    l1, t1, lq1 = _component_terms(n, e, a1, b1, log_e, lgamma_n1)
    l2, t2, lq2 = _component_terms(n, e, a2, b2, log_e, lgamma_n1)
    if n_star == 1:
        l1 = l1 - t1
        l2 = l2 - t2
    c1 = np.log(p) + l1
    c2 = np.log1p(-p) + l2
    mix = np.logaddexp(c1, c2)
    r1 = np.exp(c1 - mix)
    r2 = 1 - r1
    value = -float(np.sum(w * mix))
    grad = np.empty(5)
    for k, (a, b, r, lq) in enumerate(((a1, b1, r1, lq1), (a2, b2, r2, lq2))):
        wr = w * r
        if n_star == 1:
            trunc = 1 / -np.expm1(a * lq)  # 1 / (1 - q^a)
            d_a = special.digamma(a + n) - special.digamma(a) + lq * trunc
            d_b = a * e / (b * (b + e)) * trunc - n / (b + e)
        else:
            d_a = special.digamma(a + n) - special.digamma(a) + lq
            d_b = a * e / (b * (b + e)) - n / (b + e)
        grad[2 * k] = -a * np.sum(wr * d_a)
        grad[2 * k + 1] = -b * np.sum(wr * d_b)
    grad[4] = -np.sum(w * (r1 * (1 - p) - r2 * p))
    return value, grad


def neg_log_likelihood(prior: Prior, n, e, weight=None, *, n_star: int = 1) -> float:
    """The negative log-likelihood of the prior on (weighted) points, truncated at ``n_star`` (0 or 1).

    This is openEBGM's ``negLLsquash`` (``negLL`` with unit weights) for ``n_star = 1``.
    """
    n, e, w = _counts(n, e, weight)
    if n_star not in (0, 1):
        raise UsageError(f"n_star: found {n_star!r}, expected 0 or 1")
    if n_star == 1 and n.size and n.min() < 1:
        raise UsageError("N: found a zero count with n_star = 1, expected every N >= 1")
    x = _to_x(prior)
    return _negll_and_grad(x, n, e, w, n_star)[0]


def _to_x(prior: Prior) -> np.ndarray:
    a1, b1, a2, b2, p = prior.as_tuple()
    return np.array([math.log(a1), math.log(b1), math.log(a2), math.log(b2), math.log(p / (1 - p))])


def _from_x(x) -> Prior:
    a1, b1, a2, b2 = (float(v) for v in np.exp(x[:4]))
    return Prior(a1, b1, a2, b2, float(special.expit(x[4])))


@dataclass(frozen=True)
class PriorStart:
    """One start of the prior fit: where it began and ended, its likelihood and whether it converged."""

    start: Prior
    estimate: Prior | None
    neg_log_likelihood: float
    converged: bool
    iterations: int
    message: str

    def to_json(self) -> dict:
        return {
            "start": self.start.to_json(),
            "estimate": None if self.estimate is None else self.estimate.to_json(),
            "neg_log_likelihood": self.neg_log_likelihood
            if math.isfinite(self.neg_log_likelihood)
            else None,
            "converged": self.converged,
            "iterations": self.iterations,
            "message": self.message,
        }


@dataclass(frozen=True)
class PriorFit:
    """The maximum-likelihood prior: the best converged start, and every start as it ended.

    Attributes
    ----------
    prior : Prior
        The estimate with the smallest negative log-likelihood among the converged starts.
    neg_log_likelihood : float
        Its negative log-likelihood on the fitted points (``points``).
    starts : tuple of PriorStart
        Every start, in the order given.
    points : int
        How many (squashed) points the likelihood had; ``weight`` their summed weight.
    n_star : int
        The truncation (1: pairs with N = 0 are not in the data).
    """

    prior: Prior
    neg_log_likelihood: float
    starts: tuple[PriorStart, ...]
    points: int
    weight: float
    n_star: int = 1
    agreement: float = field(default=float("nan"))
    """The largest relative difference of a converged start's likelihood from the best one's."""

    def to_json(self) -> dict:
        return {
            "model": "two-component gamma mixture (DuMouchel 1999), truncated at N* = "
            f"{self.n_star}",
            "hyperparameters": self.prior.to_json(),
            "neg_log_likelihood": self.neg_log_likelihood,
            "log_likelihood": -self.neg_log_likelihood,
            "points": self.points,
            "weight": self.weight,
            "n_star": self.n_star,
            "converged_starts": sum(s.converged for s in self.starts),
            "starts": [s.to_json() for s in self.starts],
        }

    def __str__(self) -> str:
        converged = sum(s.converged for s in self.starts)
        return (
            f"prior {self.prior}; -log-likelihood {format_number(self.neg_log_likelihood, 10)} on "
            f"{self.points} points; {converged} of {len(self.starts)} starts converged"
        )


def fit_prior(
    n, e, weight=None, *, starts: tuple[Prior, ...] = DEFAULT_STARTS, n_star: int = 1
) -> PriorFit:
    """Fit the two-gamma mixture prior by maximum likelihood from several starts.

    Parameters
    ----------
    n, e, weight : array_like
        The points (usually :func:`squash_openebgm` of every pair's N and E).
    starts : tuple of Prior
        Starting points; every one is run and reported.
    n_star : int
        1 (the default) when pairs with N = 0 are absent from the data, 0 when they are included.

    Raises
    ------
    AnalysisError
        When no start converges to a finite likelihood.
    """
    n, e, w = _counts(n, e, weight)
    if n_star not in (0, 1):
        raise UsageError(f"n_star: found {n_star!r}, expected 0 or 1")
    if n.size < 5:
        raise AnalysisError(
            f"prior fit: found {n.size} points, expected at least 5 drug-event pairs to fit 5 hyperparameters"
        )
    if n_star == 1 and n.min() < 1:
        raise UsageError("N: found a zero count with n_star = 1, expected every N >= 1")
    if not starts:
        raise UsageError("starts: found none, expected at least one starting prior")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        results = [_one_start(start, n, e, w, n_star) for start in starts]
    good = [r for r in results if r.converged and r.estimate is not None]
    if not good:
        messages = "; ".join(r.message for r in results)
        raise AnalysisError(
            f"prior fit: no start of {len(results)} converged ({messages}); "
            "try other starts (starts=...) or check that the data hold enough pairs"
        )
    best = min(good, key=lambda r: r.neg_log_likelihood)
    agreement = max(
        abs(r.neg_log_likelihood - best.neg_log_likelihood) / abs(best.neg_log_likelihood)
        for r in good
    )
    return PriorFit(
        prior=best.estimate,
        neg_log_likelihood=best.neg_log_likelihood,
        starts=tuple(results),
        points=int(n.size),
        weight=float(w.sum()),
        n_star=n_star,
        agreement=agreement,
    )


_BOUND = 20.0  # |log| of a hyperparameter and |logit P|: e^20 is far beyond any fitted prior


def _one_start(start: Prior, n, e, w, n_star) -> PriorStart:
    x0 = _to_x(start)
    scale = max(float(w.sum()), 1.0)
    log_e, lgamma_n1 = np.log(e), special.gammaln(n + 1)

    def fun(x):
        v, g = _negll_and_grad(x, n, e, w, n_star, log_e, lgamma_n1)
        if not math.isfinite(v) or not np.all(np.isfinite(g)):
            return 1e300, np.zeros_like(g)
        return v / scale, g / scale

    with np.errstate(all="ignore"):
        res = optimize.minimize(
            fun,
            x0,
            jac=True,
            method="L-BFGS-B",
            bounds=[(-_BOUND, _BOUND)] * 5,
            options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-10, "maxcor": 20},
        )
        x = res.x
        # A Newton polish from the quasi-Newton end point: the optimum's likelihood to machine precision.
        nit = int(res.nit)
        if not _grad_small(x, n, e, w, n_star, rtol=1e-9):
            x, extra = _newton_polish(x, n, e, w, n_star)
            nit += extra
    value = _negll_and_grad(x, n, e, w, n_star)[0]
    at_bound = bool(np.any(np.abs(x) >= _BOUND - 1e-6))
    finite = math.isfinite(value)
    converged = finite and not at_bound and (res.success or _grad_small(x, n, e, w, n_star))
    message = str(res.message)
    if at_bound:
        message = "a hyperparameter ran to its bound (|log| = 20): a degenerate mixture"
    estimate = _from_x(x) if finite and not at_bound else None
    return PriorStart(
        start=start,
        estimate=estimate,
        neg_log_likelihood=value if finite else float("inf"),
        converged=converged,
        iterations=nit,
        message=message,
    )


def _grad_small(x, n, e, w, n_star, rtol: float = 1e-4) -> bool:
    g = _negll_and_grad(x, n, e, w, n_star)[1]
    return bool(np.max(np.abs(g)) <= rtol * max(float(w.sum()), 1.0))


def _newton_polish(x, n, e, w, n_star, steps: int = 8) -> tuple[np.ndarray, int]:
    """A few Newton steps with a finite-difference Hessian of the analytic gradient, kept if they help."""
    f, g = _negll_and_grad(x, n, e, w, n_star)
    done = 0
    for _ in range(steps):
        h = np.empty((5, 5))
        eps = 1e-6
        for j in range(5):
            dx = np.zeros(5)
            dx[j] = eps
            h[:, j] = (
                _negll_and_grad(x + dx, n, e, w, n_star)[1]
                - _negll_and_grad(x - dx, n, e, w, n_star)[1]
            ) / (2 * eps)
        h = (h + h.T) / 2
        try:
            step = np.linalg.solve(h, -g)
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(step)):
            break
        t = 1.0
        while t > 1e-4:
            x_new = np.clip(x + t * step, -_BOUND, _BOUND)
            f_new, g_new = _negll_and_grad(x_new, n, e, w, n_star)
            if math.isfinite(f_new) and f_new <= f:
                break
            t /= 2
        else:
            break
        improved = f - f_new
        x, f, g = x_new, f_new, g_new
        done += 1
        if improved <= 1e-13 * max(abs(f), 1.0):
            break
    return x, done


# --------------------------------------------------------------------------- posterior


@dataclass(frozen=True)
class MGPSScores:
    """The posterior of each pair under a prior: Qn, EBGM, EB05 and EB95, aligned with the input."""

    qn: np.ndarray
    ebgm: np.ndarray
    eb05: np.ndarray
    eb95: np.ndarray


def _posterior_parts(prior: Prior, n, e):
    a1, b1, a2, b2, p = prior.as_tuple()
    l1 = _component_terms(n, e, a1, b1)[0]
    l2 = _component_terms(n, e, a2, b2)[0]
    c1 = math.log(p) + l1
    c2 = math.log1p(-p) + l2
    qn = np.exp(c1 - np.logaddexp(c1, c2))
    return qn, (a1 + n, b1 + e), (a2 + n, b2 + e)


def _mixture_cdf(x, qn, s1, r1, s2, r2):
    return qn * special.gammainc(s1, r1 * x) + (1 - qn) * special.gammainc(s2, r2 * x)


def _log_gamma_pdf(x, s, r):
    return s * np.log(r) + (s - 1) * np.log(x) - r * x - special.gammaln(s)


def _start_quantile(prob: float, shape, rate) -> np.ndarray:
    """log of a gamma quantile, roughly: Wilson-Hilferty, or the lower-tail power law where it fails."""
    z = special.ndtri(prob)
    base = 1 - 1 / (9 * shape) + z / (3 * np.sqrt(shape))
    wilson = np.log(shape) + 3 * np.log(np.maximum(base, 1e-300))
    tail = (
        math.log(prob) + np.log(shape) + special.gammaln(shape)
    ) / shape  # F(x) ~ (rx)^s / (s G(s))
    return np.where(base > 0.2, wilson, np.minimum(tail, wilson)) - np.log(rate)


class _Mixture:
    """Two-gamma posterior mixtures of many pairs, evaluated only where a component has weight."""

    _NEGLIGIBLE = 1e-16  # a component weighing less than this changes no quantile at 1e-10

    def __init__(self, qn, s1, r1, s2, r2):
        self.w = (qn, 1 - qn)
        self.s = (s1, s2)
        self.r = (r1, r2)
        self.log_norm = tuple(
            s * np.log(r) - special.gammaln(s) for s, r in zip(self.s, self.r, strict=True)
        )
        self.live = tuple(w > self._NEGLIGIBLE for w in self.w)

    def take(self, index) -> _Mixture:
        new = object.__new__(_Mixture)
        new.w = tuple(w[index] for w in self.w)
        new.s = tuple(s[index] for s in self.s)
        new.r = tuple(r[index] for r in self.r)
        new.log_norm = tuple(c[index] for c in self.log_norm)
        new.live = tuple(m[index] for m in self.live)
        return new

    def cdf(self, y):
        """F(e^y)."""
        x = np.exp(y)
        total = np.zeros_like(y)
        for w, s, r, live in zip(self.w, self.s, self.r, self.live, strict=True):
            if live.all():
                total += w * special.gammainc(s, r * x)
            else:
                i = np.nonzero(live)[0]
                total[i] += w[i] * special.gammainc(s[i], r[i] * x[i])
        return total

    def derivatives(self, y):
        """F(e^y) and its first two derivatives in y."""
        x = np.exp(y)
        f = np.zeros_like(y)
        d1 = np.zeros_like(y)
        d2 = np.zeros_like(y)
        for w, s, r, c, live in zip(self.w, self.s, self.r, self.log_norm, self.live, strict=True):
            i = slice(None) if live.all() else np.nonzero(live)[0]
            xi, si, ri, wi = x[i], s[i], r[i], w[i]
            dens = np.exp(c[i] + si * y[i] - ri * xi)  # x f(x)
            f[i] += wi * special.gammainc(si, ri * xi)
            d1[i] += wi * dens
            d2[i] += wi * dens * (si - ri * xi)
        return f, d1, d2


def _mixture_quantile(prob: float, qn, s1, r1, s2, r2, *, tol: float = 1e-10) -> np.ndarray:
    """The ``prob`` quantile of each posterior mixture, all at once.

    Starts from the dominant component's approximate quantile and takes Halley steps on log x,
    keeping the bracket each evaluation gives (the mixture CDF is increasing): a step that would
    leave it bisects, or moves one unit of log x while the bracket is still open on that side.
    Stops when a step is below ``tol`` (relative, in x).
    """
    mix = _Mixture(qn, s1, r1, s2, r2)
    y = np.where(qn >= 0.5, _start_quantile(prob, s1, r1), _start_quantile(prob, s2, r2))
    lo = np.full_like(y, -np.inf)
    hi = np.full_like(y, np.inf)
    active = np.arange(y.size)
    sub = mix
    for _ in range(200):
        if active.size == 0:
            break
        ya, loa, hia = y[active], lo[active], hi[active]
        value, d1, d2 = sub.derivatives(ya)
        f = value - prob
        loa = np.where(f < 0, ya, loa)
        hia = np.where(f > 0, ya, hia)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            denominator = 2 * d1 * d1 - f * d2
            # Halley's step where its curvature correction is mild, Newton's where it is not
            step = np.where(denominator > d1 * d1, -2 * f * d1 / denominator, -f / d1)
        done = (f == 0) | (np.abs(step) <= tol)
        y_new = ya + np.clip(np.nan_to_num(step, nan=0.0), -2.0, 2.0)
        bad = ~done & (~np.isfinite(step) | (y_new <= loa) | (y_new >= hia))
        closed = np.isfinite(loa) & np.isfinite(hia)
        outward = np.where(f < 0, ya + 1.0, ya - 1.0)
        y_new = np.where(bad, np.where(closed, (loa + hia) / 2, outward), y_new)
        y_new = np.where(f == 0, ya, y_new)
        y[active], lo[active], hi[active] = y_new, loa, hia
        keep = ~(done | (closed & (hia - loa <= tol)))
        active = active[keep]
        sub = sub.take(keep)
    else:
        raise AnalysisError(f"posterior {prob:g} quantile: {active.size} pairs did not converge")
    return np.exp(y)


def _unique_pairs(n: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct (N, E) pairs and, for each input pair, the index of its distinct pair."""
    order = np.lexsort((e, n))
    ns, es = n[order], e[order]
    new = np.empty(n.size, dtype=bool)
    new[:1] = True
    new[1:] = (ns[1:] != ns[:-1]) | (es[1:] != es[:-1])
    group = np.cumsum(new) - 1
    inverse = np.empty(n.size, dtype=np.int64)
    inverse[order] = group
    return ns[new], es[new], inverse


def posterior_scores(
    prior: Prior, n, e, *, quantiles: tuple[float, float] = (0.05, 0.95)
) -> MGPSScores:
    """Qn, EBGM and the posterior quantiles (EB05, EB95 by default) of each pair under ``prior``.

    Computed once per distinct (N, E) and vectorized.

    Examples
    --------
    >>> prior = Prior(3.25379356, 0.39988854, 2.02612692, 1.90807970, 0.06534557)
    >>> s = posterior_scores(prior, [16], [0.406436])  # openEBGM's vignette: 23.26, 15.68, 33.48
    >>> round(float(s.ebgm[0]), 1), round(float(s.eb05[0]), 1), round(float(s.eb95[0]), 1)
    (23.3, 15.7, 33.5)
    """
    n, e, _ = _counts(n, e)
    if n.size == 0:
        empty = np.empty(0)
        return MGPSScores(empty, empty, empty, empty)
    un, ue, inverse = _unique_pairs(n, e)
    # blocks of distinct pairs: the quantile iterations' temporaries stay small (the result is the same)
    blocks = [
        _score_block(prior, un[a : a + SCORE_BLOCK], ue[a : a + SCORE_BLOCK], quantiles)
        for a in range(0, un.size, SCORE_BLOCK)
    ]
    qn, ebgm, low, high = (np.concatenate(part) for part in zip(*blocks, strict=True))
    return MGPSScores(qn[inverse], ebgm[inverse], low[inverse], high[inverse])


SCORE_BLOCK = 1 << 16


def _score_block(prior: Prior, un, ue, quantiles):
    qn, (s1, r1), (s2, r2) = _posterior_parts(prior, un, ue)
    log_gm = qn * (special.digamma(s1) - np.log(r1)) + (1 - qn) * (special.digamma(s2) - np.log(r2))
    low = _mixture_quantile(quantiles[0], qn, s1, r1, s2, r2)
    high = _mixture_quantile(quantiles[1], qn, s1, r1, s2, r2)
    return qn, np.exp(log_gm), low, high


def posterior_quantile_bisect(
    prior: Prior, n, e, prob: float, *, tol: float = 1e-10, max_iter: int = 500
) -> np.ndarray:
    """The posterior ``prob`` quantile of each pair by plain bisection on x (the exact, slow reference)."""
    n, e, _ = _counts(n, e)
    qn, (s1, r1), (s2, r2) = _posterior_parts(prior, n, e)
    lo = np.zeros_like(e)
    hi = np.ones_like(e)
    while True:
        grow = _mixture_cdf(hi, qn, s1, r1, s2, r2) < prob
        if not grow.any():
            break
        hi = np.where(grow, hi * 2, hi)
    for _ in range(max_iter):
        mid = (lo + hi) / 2
        below = _mixture_cdf(mid, qn, s1, r1, s2, r2) < prob
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
        if np.max((hi - lo) / hi) < tol:
            break
    return (lo + hi) / 2
