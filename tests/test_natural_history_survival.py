"""Known-answer tests of the natural-history Kaplan-Meier fit, against a hand computation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from pmpath.errors import AnalysisError
from pmpath.natural_history import fit_survival

# Six subjects: events at ages 1, 2, 3, 5; censored at 2 and 4.
SMALL = pd.DataFrame(
    {"subject": list("abcdef"), "age": [1.0, 2.0, 2.0, 3.0, 4.0, 5.0], "event": [1, 1, 0, 1, 0, 1]}
)


def test_kaplan_meier_by_hand():
    fit = fit_survival(SMALL, "death")
    # S(1) = 5/6; S(2) = 5/6 * 4/5 (5 at risk, the censoring at 2 counts as at risk); S(3) = 2/3 * 2/3;
    # age 4 is censored (no step); S(5) = 0 (1 at risk, 1 event).
    np.testing.assert_allclose(fit.timeline, [0, 1, 2, 3, 4, 5])
    np.testing.assert_allclose(fit.survival, [1, 5 / 6, 2 / 3, 4 / 9, 4 / 9, 0])
    assert fit.median == 3.0  # first age with S <= 0.5
    assert (fit.n_subjects, fit.n_events) == (6, 4)
    assert fit.person_years == pytest.approx(17.0)
    np.testing.assert_allclose(fit.survival_at([0.5, 2.5, 10.0]), [1.0, 2 / 3, 0.0])


def test_log_minus_log_greenwood_interval_by_hand():
    # Kalbfleisch-Prentice interval at age 1: var(log(-log S)) = sum d/(n(n-d)) / log(S)^2,
    # limits S^exp(+/- z sd). One event among 6 at risk: sum = 1/30.
    fit = fit_survival(SMALL, "death")
    s = 5 / 6
    sd = np.sqrt((1 / 30) / np.log(s) ** 2)
    z = stats.norm.ppf(0.975)
    assert fit.ci_lower[1] == pytest.approx(s ** np.exp(z * sd))
    assert fit.ci_upper[1] == pytest.approx(s ** np.exp(-z * sd))


def test_median_not_reached():
    data = pd.DataFrame(
        {"subject": range(5), "age": [1.0, 2.0, 3.0, 4.0, 5.0], "event": [1, 0, 0, 0, 0]}
    )
    fit = fit_survival(data, "death")
    assert not fit.median_reached
    assert fit.median == np.inf


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (
            pd.DataFrame({"subject": [1, 2], "age": [1.0, 2.0], "event": [1, 2]}),
            "1 \\(event\\) or 0",
        ),
        (
            pd.DataFrame({"subject": [1, 1], "age": [1.0, 2.0], "event": [1, 0]}),
            "one row per subject",
        ),
        (pd.DataFrame({"subject": [1, 2], "age": [-1.0, 2.0], "event": [1, 0]}), "negative ages"),
    ],
)
def test_unusable_tables_raise_analysis_error(frame, message):
    with pytest.raises(AnalysisError, match=message):
        fit_survival(frame, "death")
