"""Treated against untreated control on count tables: per position (or per off-target site) the
background rate, the edit % above background with an interval, a one-sided Fisher's exact test and
Benjamini-Hochberg control over the positions or sites.

Pure statistics on ``(edited, total)`` pairs; the quantifier, the CRISPResso2 importer, the splice
counter and the off-target panel all hand their counts here, so the methods are stated once:

- background rate: the control's ``edited / total``;
- edit % above background: ``treated % - control %`` with the Newcombe (1998, Stat Med 17:873,
  method 10) hybrid score interval for a difference of two independent proportions, built from
  the two Wilson score intervals without continuity correction;
- test: one-sided Fisher's exact test that the treated rate exceeds the control's (the
  hypergeometric upper tail, conditional on both margins);
- multiplicity: Benjamini-Hochberg step-up adjusted p-values (q) over all positions or sites
  compared; a position "differs" when ``q <= alpha`` (default 0.05) and is flagged
  ``not_different`` otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from pmpath.errors import UsageError
from pmpath.formatting import format_number

__all__ = [
    "CountComparison",
    "SiteComparison",
    "benjamini_hochberg",
    "compare_counts",
    "fisher_greater",
    "newcombe_difference",
    "tsv_cell",
    "wilson_interval",
]

INTERVAL_METHOD = "Newcombe hybrid score (Wilson, no continuity correction)"
TEST_METHOD = "one-sided Fisher's exact (treated above control)"
ADJUSTMENT_METHOD = "Benjamini-Hochberg"


def wilson_interval(k: float, n: float, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (no continuity correction).

    >>> lo, hi = wilson_interval(5, 10)
    >>> round(lo, 4), round(hi, 4)
    (0.2366, 0.7634)
    """
    if n <= 0:
        raise UsageError(f"n: found {n!r}, expected a positive number of reads")
    z = float(stats.norm.ppf((1 + confidence) / 2))
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(max(centre - half, 0.0)), float(min(centre + half, 1.0))


def newcombe_difference(
    k1: int, n1: int, k2: int, n2: int, confidence: float = 0.95
) -> tuple[float, float]:
    """Newcombe's hybrid score interval for ``k1/n1 - k2/n2`` (his method 10).

    With Wilson intervals ``(l1, u1)`` and ``(l2, u2)`` and ``d = p1 - p2``, the bounds are
    ``d - sqrt((p1 - l1)**2 + (u2 - p2)**2)`` and ``d + sqrt((u1 - p1)**2 + (p2 - l2)**2)``.

    >>> lo, hi = newcombe_difference(56, 70, 48, 80)
    >>> round(lo, 4), round(hi, 4)
    (0.0524, 0.3339)
    """
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_interval(k1, n1, confidence)
    l2, u2 = wilson_interval(k2, n2, confidence)
    d = p1 - p2
    return (
        float(d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)),
        float(d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)),
    )


def fisher_greater(
    treated_edited: np.ndarray | Sequence[int],
    treated_total: np.ndarray | Sequence[int],
    control_edited: np.ndarray | Sequence[int],
    control_total: np.ndarray | Sequence[int],
) -> np.ndarray:
    """One-sided Fisher's exact p-values that the treated rate exceeds the control's, vectorized.

    For the table ``[[a, b], [c, d]]`` (treated edited/unedited, control edited/unedited) the
    p-value is ``P(X >= a)`` with ``X`` hypergeometric: population ``a + b + c + d``, ``a + c``
    edited, ``a + b`` drawn; the same as ``scipy.stats.fisher_exact(..., alternative="greater")``.
    """
    a = np.asarray(treated_edited, dtype=np.int64)
    n1 = np.asarray(treated_total, dtype=np.int64)
    c = np.asarray(control_edited, dtype=np.int64)
    n2 = np.asarray(control_total, dtype=np.int64)
    p = stats.hypergeom.sf(a - 1, n1 + n2, a + c, n1)
    return np.clip(np.asarray(p, dtype=float), 0.0, 1.0)


def benjamini_hochberg(p_values: np.ndarray | Sequence[float]) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values), in the input's order.

    ``q_(i) = min_{j >= i} min(1, m p_(j) / j)`` over the sorted p-values; reject at level
    ``alpha`` where ``q <= alpha``.

    >>> benjamini_hochberg([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.04, 0.04]
    """
    p = np.asarray(p_values, dtype=float)
    if p.ndim != 1:
        raise UsageError(f"p_values: found shape {p.shape}, expected a flat sequence")
    if p.size == 0:
        return p.copy()
    if np.any(~np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise UsageError("p_values: found a value outside [0, 1], expected probabilities")
    m = p.size
    order = np.argsort(p, kind="stable")
    ranked = p[order] * m / np.arange(1, m + 1)
    q_sorted = np.minimum.accumulate(ranked[::-1])[::-1]
    q = np.empty(m)
    q[order] = np.minimum(q_sorted, 1.0)
    return q


@dataclass(frozen=True)
class SiteComparison:
    """One position or site, treated against control.

    Attributes
    ----------
    label : str
        The position (as text) or site id.
    treated_edited, treated_total, control_edited, control_total : int
    treated_pct : float
        Treated edit %.
    background_pct : float
        Control edit %: the background rate.
    above_background_pct : float
        ``treated_pct - background_pct``, percentage points.
    ci_low, ci_high : float
        Newcombe hybrid score interval of the difference, percentage points.
    p_value : float
        One-sided Fisher's exact (treated above control).
    q_value : float
        Benjamini-Hochberg adjusted over every position or site of the comparison.
    not_different : bool
        True when ``q_value > alpha``: treated and control do not differ.
    """

    label: str
    treated_edited: int
    treated_total: int
    control_edited: int
    control_total: int
    treated_pct: float
    background_pct: float
    above_background_pct: float
    ci_low: float
    ci_high: float
    p_value: float
    q_value: float
    not_different: bool


@dataclass(frozen=True)
class CountComparison:
    """Every position or site of one treated-against-control comparison, and how it was made."""

    sites: tuple[SiteComparison, ...]
    alpha: float
    confidence: float
    interval_method: str = INTERVAL_METHOD
    test_method: str = TEST_METHOD
    adjustment_method: str = ADJUSTMENT_METHOD

    def site(self, label: str) -> SiteComparison:
        for s in self.sites:
            if s.label == str(label):
                return s
        raise UsageError(f"label: found {label!r}, expected one of the compared positions or sites")

    @property
    def different(self) -> tuple[SiteComparison, ...]:
        """The positions or sites where treated exceeds control after BH control."""
        return tuple(s for s in self.sites if not s.not_different)


def _pairs(name: str, pairs: Sequence[tuple[int, int]]) -> np.ndarray:
    arr = np.asarray(pairs, dtype=float).reshape(-1, 2) if len(pairs) else np.zeros((0, 2))
    if len(pairs) and np.asarray(pairs, dtype=object).shape[-1:] != (2,):
        raise UsageError(f"{name}: expected (edited, total) pairs")
    for i, (k, n) in enumerate(arr):
        if not (k == int(k) and n == int(n) and n >= 1 and 0 <= k <= n):
            raise UsageError(
                f"{name}[{i}]: found ({format_number(k)}, {format_number(n)}), expected whole counts with total >= 1 and 0 <= edited <= total"
            )
    return arr.astype(np.int64)


def compare_counts(
    treated: Sequence[tuple[int, int]],
    control: Sequence[tuple[int, int]],
    labels: Sequence[str | int] | None = None,
    *,
    alpha: float = 0.05,
    confidence: float = 0.95,
) -> CountComparison:
    """Compare treated with control at each position or site.

    Parameters
    ----------
    treated, control : sequence of (int, int)
        ``(edited, total)`` per position or site, in the same order.
    labels : sequence of str or int, optional
        Position numbers or site ids; default ``1, 2, ...``.
    alpha : float, default 0.05
        Benjamini-Hochberg level.
    confidence : float, default 0.95
        Coverage of the difference's interval.

    Returns
    -------
    CountComparison

    Examples
    --------
    >>> c = compare_counts([(30, 100), (2, 100)], [(1, 100), (1, 100)], ["10", "11"])
    >>> [(s.label, s.not_different) for s in c.sites]
    [('10', False), ('11', True)]
    """
    if not 0 < alpha < 1:
        raise UsageError(f"alpha: found {alpha!r}, expected between 0 and 1")
    if not 0 < confidence < 1:
        raise UsageError(f"confidence: found {confidence!r}, expected between 0 and 1")
    t = _pairs("treated", treated)
    c = _pairs("control", control)
    if len(t) != len(c):
        raise UsageError(
            f"control: found {len(c)} positions or sites, expected {len(t)} as in treated"
        )
    names = [str(i + 1) for i in range(len(t))] if labels is None else [str(x) for x in labels]
    if len(names) != len(t):
        raise UsageError(f"labels: found {len(names)}, expected {len(t)}")
    p = fisher_greater(t[:, 0], t[:, 1], c[:, 0], c[:, 1]) if len(t) else np.zeros(0)
    q = benjamini_hochberg(p)
    sites = []
    for i, name in enumerate(names):
        (k1, n1), (k2, n2) = t[i], c[i]
        lo, hi = newcombe_difference(int(k1), int(n1), int(k2), int(n2), confidence)
        p1, p2 = 100 * k1 / n1, 100 * k2 / n2
        sites.append(
            SiteComparison(
                name,
                int(k1),
                int(n1),
                int(k2),
                int(n2),
                float(p1),
                float(p2),
                float(p1 - p2),
                100 * lo,
                100 * hi,
                float(p[i]),
                float(q[i]),
                bool(q[i] > alpha),
            )
        )
    return CountComparison(tuple(sites), alpha, confidence)


def tsv_cell(x: object) -> str:
    """One TSV cell of the engagement tables: empty for None, true/false, floats to 10 decimals."""
    if x is None:
        return ""
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, float):
        return repr(round(x, 10))
    return str(x)
