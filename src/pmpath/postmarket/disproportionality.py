"""Frequentist and Bayesian-shrinkage disproportionality scores of drug-event pairs: PRR, ROR and IC.

Each score is computed from a pair's 2x2 table of unique reports (``N`` with the drug and the
event, ``n_drug`` with the drug, ``n_event`` with the event, ``n_total`` reports) and, for the
information component, from the expected count ``E`` (stratified when strata are given).

- PRR = (a / (a + b)) / (c / (c + d)) with the log-normal 95% interval
  exp(log PRR ± 1.96 sqrt(1/a - 1/(a + b) + 1/c - 1/(c + d))) (Evans et al. 2001).
- ROR = a d / (b c) with Woolf's 95% interval exp(log ROR ± 1.96 sqrt(1/a + 1/b + 1/c + 1/d)).
- IC = log2((N + 0.5) / (E + 0.5)), the shrunk observed-to-expected ratio, with the 2.5% and 97.5%
  limits log2 of the 2.5% and 97.5% quantiles of a gamma distribution with shape N + 0.5 and rate
  E + 0.5 (Norén, Hopstadius and Bate 2013, "Shrinkage observed-to-expected ratios for robust and
  transparent large-scale pattern discovery", Stat Methods Med Res 22:57; the exact gamma quantiles,
  not their approximation).

Here a = N, b = n_drug - N, c = n_event - N and d = n_total - n_drug - n_event + N. A score whose
table has an empty cell in its denominator is infinite (as openEBGM's PRR) and its interval is
undefined (NaN); the IC is always finite.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from pmpath.errors import UsageError

__all__ = ["Disproportionality", "disproportionality", "information_component"]

_Z975 = float(stats.norm.ppf(0.975))


@dataclass(frozen=True)
class Disproportionality:
    """PRR, ROR and IC of every pair, with their intervals, as arrays aligned with the input.

    Attributes
    ----------
    prr, prr_low, prr_high : numpy.ndarray
        Proportional reporting ratio and its log-normal 95% interval.
    ror, ror_low, ror_high : numpy.ndarray
        Reporting odds ratio and its Woolf 95% interval.
    ic, ic025, ic975 : numpy.ndarray
        Information component log2((N + 0.5) / (E + 0.5)) and its 2.5% and 97.5% limits.
    """

    prr: np.ndarray
    prr_low: np.ndarray
    prr_high: np.ndarray
    ror: np.ndarray
    ror_low: np.ndarray
    ror_high: np.ndarray
    ic: np.ndarray
    ic025: np.ndarray
    ic975: np.ndarray


def _as_array(name: str, values, *, integer: bool) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1:
        raise UsageError(f"{name}: found an array of shape {arr.shape}, expected one dimension")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise UsageError(f"{name}: found a negative or non-finite value, expected counts >= 0")
    if integer and np.any(arr != np.round(arr)):
        raise UsageError(f"{name}: found a fractional value, expected whole counts")
    return arr


def information_component(n, e) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """IC = log2((N + 0.5) / (E + 0.5)) and its 2.5% and 97.5% limits (gamma quantiles).

    Examples
    --------
    >>> ic, low, high = information_component([3], [1.0])
    >>> round(float(ic[0]), 6), bool(low[0] < ic[0] < high[0])
    (1.222392, True)
    """
    n = _as_array("N", n, integer=True)
    e = _as_array("E", e, integer=False)
    shape, rate = n + 0.5, e + 0.5
    ic = np.log2(shape / rate)
    low = np.log2(special.gammaincinv(shape, 0.025) / rate)
    high = np.log2(special.gammaincinv(shape, 0.975) / rate)
    return ic, low, high


def disproportionality(n, e, n_drug, n_event, n_total) -> Disproportionality:
    """PRR, ROR (with 95% intervals) and IC (with its 2.5/97.5% limits) of each pair.

    Parameters
    ----------
    n : array_like
        Reports with the drug and the event (N).
    e : array_like
        Expected count (E), stratified or not; only the IC uses it.
    n_drug, n_event : array_like
        Reports with the drug, reports with the event (unique reports, unstratified).
    n_total : int or array_like
        All reports.

    Examples
    --------
    >>> d = disproportionality([10], [2.0], [100], [50], [1000])
    >>> round(float(d.prr[0]), 4), round(float(d.ror[0]), 4)
    (2.25, 2.3889)
    """
    a = _as_array("N", n, integer=True)
    n_drug = _as_array("n_drug", n_drug, integer=True)
    n_event = _as_array("n_event", n_event, integer=True)
    n_total = np.broadcast_to(_as_array("n_total", np.atleast_1d(n_total), integer=True), a.shape)
    if np.any(a > n_drug) or np.any(a > n_event) or np.any(n_drug > n_total):
        raise UsageError(
            "N, n_drug, n_event, n_total: found N above a marginal or a marginal above the total, "
            "expected N <= n_drug, n_event <= n_total"
        )
    b = n_drug - a
    c = n_event - a
    d = n_total - n_drug - n_event + a
    with np.errstate(divide="ignore", invalid="ignore"):
        prr = (a / (a + b)) / (c / (c + d))
        se_prr = np.sqrt(1 / a - 1 / (a + b) + 1 / c - 1 / (c + d))
        ror = (a * d) / (b * c)
        se_ror = np.sqrt(1 / a + 1 / b + 1 / c + 1 / d)
        ok_prr = np.isfinite(prr) & np.isfinite(se_prr) & (prr > 0)
        ok_ror = np.isfinite(ror) & np.isfinite(se_ror) & (ror > 0)
        prr_low = np.where(ok_prr, prr * np.exp(-_Z975 * se_prr), np.nan)
        prr_high = np.where(ok_prr, prr * np.exp(_Z975 * se_prr), np.nan)
        ror_low = np.where(ok_ror, ror * np.exp(-_Z975 * se_ror), np.nan)
        ror_high = np.where(ok_ror, ror * np.exp(_Z975 * se_ror), np.nan)
    ic, ic025, ic975 = information_component(a, e)
    return Disproportionality(prr, prr_low, prr_high, ror, ror_low, ror_high, ic, ic025, ic975)
