"""Known-answer tests of the observed quantiles by age that charts of large cohorts show beside a sample."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from pmpath.natural_history import age_quantiles


def test_bins_and_quantiles_equal_pandas_qcut_groups():
    # An independent computation: pandas' equal-count bins (right-closed, as ours) and its quantiles.
    rng = np.random.default_rng(3)
    age = rng.uniform(0.0, 10.0, 4000).round(2)  # rounded: many ties at bin edges
    value = 2.0 * age + rng.normal(0.0, 1.0, age.size)
    q = age_quantiles(age, value, (0.1, 0.5, 0.9))
    assert q is not None and len(q.age) == 20
    bins = pd.qcut(age, 20, duplicates="drop")
    frame = pd.DataFrame({"age": age, "value": value, "bin": bins})
    groups = frame.groupby("bin", observed=True)
    expected = groups["value"].quantile([0.1, 0.5, 0.9]).unstack().to_numpy()
    np.testing.assert_allclose(q.values, expected, rtol=1e-12)
    np.testing.assert_allclose(q.age, groups["age"].median().to_numpy(), rtol=1e-12)
    np.testing.assert_array_equal(q.n_observations, groups.size().to_numpy())
    assert q.n_observations.sum() == age.size
    assert np.all(q.age_start <= q.age) and np.all(q.age <= q.age_end)
    assert np.all(q.age_end[:-1] < q.age_start[1:])  # one age never in two bins


def test_quantiles_of_a_known_distribution():
    # Values N(10, 2^2) whatever the age: each bin's 2.5%, 50% and 97.5% quantiles are near
    # 10 - 1.96 * 2, 10 and 10 + 1.96 * 2 (10,000 observations per bin: sampling error ~0.05).
    rng = np.random.default_rng(4)
    age = rng.uniform(0.0, 18.0, 200_000)
    value = rng.normal(10.0, 2.0, age.size)
    q = age_quantiles(age, value)
    z = stats.norm.ppf(0.975)
    np.testing.assert_allclose(q.quantile(0.025), 10 - 2 * z, atol=0.15)
    np.testing.assert_allclose(q.quantile(0.5), 10.0, atol=0.06)
    np.testing.assert_allclose(q.quantile(0.975), 10 + 2 * z, atol=0.15)
    assert np.all(np.diff(q.age) > 0)


def test_too_few_observations_and_bad_input():
    assert age_quantiles(np.arange(149.0), np.arange(149.0)) is None  # fewer than 3 bins of 50
    q = age_quantiles(np.r_[np.arange(150.0), np.nan], np.r_[np.arange(150.0), 1.0])
    assert q is not None and q.n_observations.sum() == 150  # the non-finite pair left out
    same_age = age_quantiles(np.full(300, 4.0), np.arange(300.0))
    assert same_age is not None and list(same_age.n_observations) == [300]  # ties stay together
    with pytest.raises(ValueError, match="one value per age"):
        age_quantiles(np.arange(3.0), np.arange(4.0))
    with pytest.raises(ValueError, match=r"numbers in \[0, 1\]"):
        age_quantiles(np.arange(300.0), np.arange(300.0), (0.5, 1.5))
    with pytest.raises(ValueError, match="expected one of"):
        q.quantile(0.3)
