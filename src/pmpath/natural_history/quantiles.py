"""Observed quantiles of a continuous endpoint by age, over every observation of a cohort.

A chart of a large cohort can show only a sample of its subjects' trajectories; these quantiles
summarise all of them beside the sample, and set the data's own spread against the growth
model's band.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pmpath.errors import UsageError

# Quantiles matching the model's central 95% band, and the median.
PROBABILITIES = (0.025, 0.5, 0.975)
MAX_BINS = 20
MIN_PER_BIN = 50  # fewer observations than this make a 2.5% quantile mostly noise


@dataclass(frozen=True, eq=False)
class AgeQuantiles:
    """Quantiles of the observed values within age bins of (nearly) equal numbers of observations.

    Attributes
    ----------
    age : numpy.ndarray
        Shape (bins,): median age of each bin's observations (years).
    age_start, age_end : numpy.ndarray
        Shape (bins,): youngest and oldest age in each bin.
    probabilities : tuple of float
        The quantiles computed, e.g. (0.025, 0.5, 0.975).
    values : numpy.ndarray
        Shape (bins, len(probabilities)): the quantiles of the values in each bin (linear
        interpolation, numpy's default).
    n_observations : numpy.ndarray
        Shape (bins,): observations in each bin.
    """

    age: np.ndarray
    age_start: np.ndarray
    age_end: np.ndarray
    probabilities: tuple[float, ...]
    values: np.ndarray
    n_observations: np.ndarray

    def quantile(self, probability: float) -> np.ndarray:
        """The values of one of :attr:`probabilities` across the bins."""
        if probability not in self.probabilities:
            raise UsageError(
                f"probability: found {probability}, expected one of {self.probabilities}"
            )
        return self.values[:, self.probabilities.index(probability)]


def age_quantiles(
    ages: np.ndarray,
    values: np.ndarray,
    probabilities: tuple[float, ...] = PROBABILITIES,
    *,
    max_bins: int = MAX_BINS,
    min_per_bin: int = MIN_PER_BIN,
) -> AgeQuantiles | None:
    """Quantiles of ``values`` in age bins holding about equally many observations.

    The number of bins is ``min(max_bins, n // min_per_bin)``; bin edges are quantiles of the ages,
    so observations of one age always fall in one bin. No sort of the ages: a fraction of a second
    for millions of observations.

    Parameters
    ----------
    ages, values : numpy.ndarray
        One entry per observation; non-finite pairs are left out.
    probabilities : tuple of float
        Quantiles to compute, each between 0 and 1.
    max_bins, min_per_bin : int

    Returns
    -------
    AgeQuantiles or None
        None when there are too few observations for three bins.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> age = rng.uniform(0, 10, 5000)
    >>> q = age_quantiles(age, 2.0 * age + rng.normal(0, 1, 5000))
    >>> len(q.age), bool(np.all(np.diff(q.quantile(0.5)) > 0))
    (20, True)
    """
    if not all(0.0 <= p <= 1.0 for p in probabilities):
        raise UsageError(f"probabilities: found {probabilities}, expected numbers in [0, 1]")
    ages = np.asarray(ages, dtype=float).reshape(-1)
    values = np.asarray(values, dtype=float).reshape(-1)
    if ages.shape != values.shape:
        raise UsageError(
            f"ages and values: found {ages.size} and {values.size} entries, expected one value per age"
        )
    keep = np.isfinite(ages) & np.isfinite(values)
    ages, values = ages[keep], values[keep]
    bins = min(max_bins, ages.size // max(min_per_bin, 1))
    if bins < 3:
        return None
    edges = np.quantile(ages, np.linspace(0.0, 1.0, bins + 1)[1:-1])
    # bin k holds the ages in (edges[k - 1], edges[k]]: ties stay together, and a bin between
    # equal edges stays empty and is left out
    index = np.searchsorted(edges, ages, side="left").astype(np.int16)
    order = np.argsort(index, kind="stable")  # a radix sort of small integers, not a sort of ages
    ages, values = ages[order], values[order]
    counts = np.bincount(index, minlength=bins)
    ends = np.cumsum(counts)[counts > 0]
    starts = ends - counts[counts > 0]
    spans = list(zip(starts, ends, strict=True))
    return AgeQuantiles(
        age=np.array([np.median(ages[a:b]) for a, b in spans]),
        age_start=np.array([ages[a:b].min() for a, b in spans]),
        age_end=np.array([ages[a:b].max() for a, b in spans]),
        probabilities=tuple(float(p) for p in probabilities),
        values=np.vstack([np.quantile(values[a:b], probabilities) for a, b in spans]),
        n_observations=(ends - starts).astype(int),
    )
