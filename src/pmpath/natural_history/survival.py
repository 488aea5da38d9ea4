"""Age at a milestone (death, loss of ambulation) in an untreated cohort: the Kaplan-Meier estimate.

Ages are from birth and follow-up is assumed to start at birth (no delayed entry): a cohort that
enrolled subjects late over-represents those who survived to enrol, which the fit cannot correct.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pmpath.errors import AnalysisError, UsageError
from pmpath.natural_history.tables import numeric_table


@dataclass(frozen=True, eq=False)
class SurvivalFit:
    """A Kaplan-Meier fit for one time-to-event endpoint (see :func:`fit_survival`).

    Attributes
    ----------
    endpoint : str
    timeline : numpy.ndarray
        Ages (years), starting at 0, at which the estimate steps.
    survival : numpy.ndarray
        Probability of being event-free at each age of ``timeline``.
    ci_lower, ci_upper : numpy.ndarray
        Pointwise confidence limits (Greenwood variance on the log(-log) scale, lifelines' default).
    median : float
        Median age at the event; ``inf`` when the curve never falls to 0.5.
    median_ci : tuple of float
        Confidence interval of the median (``inf`` for an unreached limit).
    n_subjects, n_events : int
    person_years : float
        Sum of ages at event or censoring.
    level : float
        Confidence level.
    """

    endpoint: str
    timeline: np.ndarray
    survival: np.ndarray
    ci_lower: np.ndarray
    ci_upper: np.ndarray
    median: float
    median_ci: tuple[float, float]
    n_subjects: int
    n_events: int
    person_years: float
    level: float = 0.95

    @property
    def median_reached(self) -> bool:
        return bool(np.isfinite(self.median))

    def survival_at(self, ages: np.ndarray | list[float] | float) -> np.ndarray:
        """Event-free probability at ``ages`` (the step function, right-continuous)."""
        a = np.atleast_1d(np.asarray(ages, dtype=float))
        idx = np.searchsorted(self.timeline, a, side="right") - 1
        return np.where(idx >= 0, self.survival[np.clip(idx, 0, None)], 1.0)

    def __repr__(self) -> str:
        median = f"{self.median:.4g}" if self.median_reached else "not reached"
        return f"<SurvivalFit {self.endpoint!r}: median age {median}, {self.n_events} events in {self.n_subjects} subjects>"


def fit_survival(data: pd.DataFrame, endpoint: str, level: float = 0.95) -> SurvivalFit:
    """Kaplan-Meier estimate of the age at an event for one time-to-event endpoint.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per subject with columns ``subject``, ``age`` (years, at the event or censoring)
        and ``event`` (1 = event, 0 = censored).
    endpoint : str
        Endpoint id, carried into the result and error messages.
    level : float
        Confidence level of the pointwise band and of the median's interval.

    Returns
    -------
    SurvivalFit

    Raises
    ------
    AnalysisError
        Missing columns, non-finite numbers, negative ages, events other than 0/1, or a subject with
        more than one row.

    Examples
    --------
    >>> from pmpath.natural_history import fit_survival
    >>> fit = fit_survival(cohort_survival, "death")  # doctest: +SKIP
    >>> fit.median, fit.median_ci  # doctest: +SKIP
    """
    from lifelines import KaplanMeierFitter
    from lifelines.utils import median_survival_times

    if not 0 < level < 1:
        raise UsageError(f"level must be between 0 and 1, found {level}")
    table = numeric_table(data, endpoint, ("age", "event"))
    if (table["age"] < 0).any():
        raise AnalysisError(
            f"endpoint {endpoint!r}: found negative ages, expected ages >= 0 at the event or censoring"
        )
    if not table["event"].isin([0.0, 1.0]).all():
        raise AnalysisError(
            f"endpoint {endpoint!r}: found event values {sorted(set(table['event']) - {0.0, 1.0})}, expected 1 (event) or 0 (censored)"
        )
    dupes = table["subject"][table["subject"].duplicated()].unique()
    if len(dupes):
        raise AnalysisError(
            f"endpoint {endpoint!r}: subject(s) {list(dupes[:5])} have more than one row, expected one row per subject"
        )

    kmf = KaplanMeierFitter(alpha=1 - level)
    kmf.fit(table["age"], event_observed=table["event"].astype(int), label=endpoint)
    sf = kmf.survival_function_
    ci = kmf.confidence_interval_
    median_ci = median_survival_times(ci)
    return SurvivalFit(
        endpoint=endpoint,
        timeline=sf.index.to_numpy(dtype=float),
        survival=sf.iloc[:, 0].to_numpy(dtype=float),
        ci_lower=ci.iloc[:, 0].to_numpy(dtype=float),
        ci_upper=ci.iloc[:, 1].to_numpy(dtype=float),
        median=float(kmf.median_survival_time_),
        median_ci=(float(median_ci.iloc[0, 0]), float(median_ci.iloc[0, 1])),
        n_subjects=len(table),
        n_events=int(table["event"].sum()),
        person_years=float(table["age"].sum()),
        level=level,
    )
