"""Every disproportionality score of every drug-event pair in one call: counts, PRR, ROR, IC and MGPS.

:func:`detect_signals` takes report rows (a :class:`~pmpath.postmarket.reports.SpontaneousReports`, a
DataFrame, an Arrow or an Ibis table), counts the pairs (:mod:`pmpath.postmarket.counts`), fits the
MGPS prior on the squashed pairs (:mod:`pmpath.postmarket.mgps`) unless one is given, and returns a
:class:`SignalTable` whose ``table`` has the columns of ``signals.tsv``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pmpath.errors import AnalysisError, UsageError
from pmpath.postmarket.counts import PairCounts, count_pairs
from pmpath.postmarket.disproportionality import disproportionality
from pmpath.postmarket.mgps import (
    DEFAULT_STARTS,
    Prior,
    PriorFit,
    auto_squash,
    fit_prior,
    posterior_scores,
    squash_openebgm,
)
from pmpath.postmarket.reports import ImportLog, SpontaneousReports

__all__ = ["SIGNAL_COLUMNS", "SQUASHING", "SignalTable", "detect_signals"]

SQUASHING = {
    "auto": auto_squash,
    "two-step": squash_openebgm,
    "none": lambda n, e: None,
}
"""How the prior's points are made from the pairs (see :func:`detect_signals`)."""

SIGNAL_COLUMNS = (
    "drug",
    "event",
    "N",
    "E",
    "PRR",
    "PRR_low",
    "PRR_high",
    "ROR",
    "ROR_low",
    "ROR_high",
    "IC",
    "IC025",
    "IC975",
    "EBGM",
    "EB05",
    "EB95",
)
"""The columns of ``signals.tsv``, in order."""


@dataclass(frozen=True)
class SignalTable:
    """The scores of every observed pair, the prior they used and how they were obtained.

    Attributes
    ----------
    table : pandas.DataFrame
        :data:`SIGNAL_COLUMNS`, one row per pair, sorted by EB05 (largest first), then N.
    prior : Prior
        The MGPS prior the EBGM, EB05 and EB95 used.
    fit : PriorFit or None
        The fit that gave it (``None`` when the prior was given).
    reports : int
        Unique reports counted.
    strata : tuple of str
        The stratum columns of E.
    log : ImportLog
        Problems of the import, when the rows came from :mod:`pmpath.postmarket.reports`.
    timings : dict
        Seconds per step (counting, squashing, prior fit, scores).
    """

    table: pd.DataFrame
    prior: Prior
    fit: PriorFit | None
    reports: int
    strata: tuple[str, ...] = ()
    log: ImportLog = field(default_factory=ImportLog)
    squashed_points: int = 0
    squashing: str = "auto"
    timings: dict[str, float] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.table)

    def to_tsv(self) -> str:
        """``signals.tsv``: every column at full precision (17 significant digits), ``NaN``/``Inf`` as such."""
        return self.table.to_csv(
            sep="\t", index=False, float_format="%.17g", na_rep="NaN", lineterminator="\n"
        )

    def prior_json(self) -> dict:
        """``prior.json``: the hyperparameters, the log-likelihood and every start of the fit."""
        base = {
            "method": "MGPS (DuMouchel 1999): EBGM = exp(E[log lambda | N]), EB05/EB95 the posterior's 5%/95% quantiles",
            "reports": self.reports,
            "pairs": len(self.table),
            "strata": list(self.strata),
            "squashing": _SQUASHING_TEXT[self.squashing],
            "squashed_points": self.squashed_points,
        }
        if self.fit is None:
            base.update({"hyperparameters": self.prior.to_json(), "fitted": False})
        else:
            base.update({"fitted": True, **self.fit.to_json()})
        return base

    def top(self, k: int = 20) -> pd.DataFrame:
        return self.table.head(k)


_SQUASHING_TEXT = {
    "auto": "openEBGM autoSquash (its defaults): every count with more than 101 points binned",
    "two-step": "openEBGM squashData: count 1 (bin 50, keep 100), then count 2 (bin 10, keep 50)",
    "none": "none: the prior fitted on every pair",
}


def _rows_of(reports) -> tuple[object, Sequence[str], ImportLog]:
    if isinstance(reports, SpontaneousReports):
        return reports.rows, reports.strata, reports.log
    return reports, (), ImportLog()


def detect_signals(
    reports,
    *,
    strata: Sequence[str] | None = None,
    prior: Prior | None = None,
    starts: tuple[Prior, ...] = DEFAULT_STARTS,
    squashing: str = "auto",
) -> SignalTable:
    """Count the pairs and score each with PRR, ROR, IC and MGPS (EBGM, EB05, EB95).

    Parameters
    ----------
    reports : SpontaneousReports, pandas.DataFrame, pyarrow.Table or ibis.Table
        One row per report x drug x event (``id``, ``drug``, ``event``, stratum columns).
    strata : sequence of str, optional
        Stratum columns for E (default: those of a ``SpontaneousReports``, else none).
    prior : Prior, optional
        Use this prior instead of fitting one (e.g. openEBGM's, to compare).
    starts : tuple of Prior
        Starting points of the fit (openEBGM's five by default).
    squashing : {"auto", "two-step", "none"}
        The points the prior is fitted on: every count squashed as openEBGM's ``autoSquash``
        (default), openEBGM's two documented ``squashData`` steps (counts 1 and 2, the caers known
        answer's pipeline), or every pair unsquashed.

    Raises
    ------
    pmpath.errors.AnalysisError
        No report rows, or no start of the prior fit converged.
    """
    if squashing not in SQUASHING:
        raise UsageError(f"squashing: found {squashing!r}, expected one of {', '.join(SQUASHING)}")
    rows, own_strata, log = _rows_of(reports)
    strata = tuple(own_strata if strata is None else strata)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    counts: PairCounts = count_pairs(rows, strata)
    timings["counting"] = time.perf_counter() - t0
    if len(counts) == 0:
        raise AnalysisError(
            "reports: found no report with a drug and an event, expected at least one row"
        )
    n, e = counts.n, counts.e
    t0 = time.perf_counter()
    points = SQUASHING[squashing](n, e) if prior is None else None
    timings["squashing"] = time.perf_counter() - t0
    fit = None
    t0 = time.perf_counter()
    if prior is None:
        if points is not None:
            fit = fit_prior(points.n, points.e, points.weight, starts=starts)
        else:
            fit = fit_prior(n, e, starts=starts)
        prior = fit.prior
    timings["prior fit"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    t = counts.table
    d = disproportionality(n, e, t["n_drug"].to_numpy(), t["n_event"].to_numpy(), counts.reports)
    scores = posterior_scores(prior, n, e)
    table = pd.DataFrame(
        {
            "drug": t["drug"].to_numpy(),
            "event": t["event"].to_numpy(),
            "N": n,
            "E": e,
            "PRR": d.prr,
            "PRR_low": d.prr_low,
            "PRR_high": d.prr_high,
            "ROR": d.ror,
            "ROR_low": d.ror_low,
            "ROR_high": d.ror_high,
            "IC": d.ic,
            "IC025": d.ic025,
            "IC975": d.ic975,
            "EBGM": scores.ebgm,
            "EB05": scores.eb05,
            "EB95": scores.eb95,
        }
    )
    order = np.lexsort((table["event"].to_numpy(), table["drug"].to_numpy(), -n, -scores.eb05))
    table = table.iloc[order].reset_index(drop=True)
    timings["scores"] = time.perf_counter() - t0
    return SignalTable(
        table=table,
        prior=prior,
        fit=fit,
        reports=counts.reports,
        strata=strata,
        log=log,
        squashed_points=len(points) if points is not None else 0,
        squashing=squashing,
        timings=timings,
    )
