"""The decision logic of characterize(): which checks apply to which fit, and how they combine."""

from __future__ import annotations

import numpy as np
import pytest

from pmpath.natural_history import GrowthCurve, RateFit, SurvivalFit, characterize

PLAN = {
    "min_subjects": 20,
    "min_person_years": 40.0,
    "max_slope_relative_se": 0.5,
    "min_events": 10,
}


def curve(n_subjects=30, person_years=100.0, slope=2.0, slope_se=0.4) -> GrowthCurve:
    return GrowthCurve(
        endpoint="score", scale="identity", age_center=5.0, fixed_effects=np.array([10.0, slope]),
        fixed_effects_cov=np.diag([1.0, slope_se**2]), random_effects_cov=np.diag([1.0, 0.1]), residual_variance=1.0,
        n_subjects=n_subjects, n_observations=5 * n_subjects, person_years=person_years, converged=True,
    )  # fmt: skip


def rate(n_subjects=30, person_years=100.0, n_events=50) -> RateFit:
    return RateFit(
        "crises", 0.5, (0.4, 0.6), 0.1, 0.3, "negative_binomial", n_subjects, n_events, person_years
    )


def survival(n_subjects=30, n_events=12) -> SurvivalFit:
    t = np.array([0.0, 1.0])
    return SurvivalFit(
        "death", t, np.array([1.0, 0.5]), t, t, 1.0, (1.0, 1.0), n_subjects, n_events, 40.0
    )


def names(c):
    return [check.name for check in c.checks]


def test_growth_curve_passing_all_checks():
    c = characterize(curve(), **PLAN)
    assert c.adequate is True
    assert c.kind == "continuous"
    assert names(c) == ["subjects", "person_years", "slope_relative_se"]
    assert c.checks[2].value == pytest.approx(0.2)  # 0.4 / 2
    assert c.reasons == ()


def test_thresholds_are_inclusive():
    c = characterize(curve(n_subjects=20, person_years=40.0, slope=2.0, slope_se=1.0), **PLAN)
    assert c.adequate is True


@pytest.mark.parametrize(
    ("kwargs", "failing"),
    [
        ({"n_subjects": 19}, "subjects"),
        ({"person_years": 39.9}, "person_years"),
        (
            {"slope": -1.0, "slope_se": 0.6},
            "slope_relative_se",
        ),  # direction does not matter, precision does
    ],
)
def test_growth_curve_each_check_can_fail(kwargs, failing):
    c = characterize(curve(**kwargs), **PLAN)
    assert c.adequate is False
    assert [ch.name for ch in c.checks if ch.passed is False] == [failing]
    assert len(c.reasons) == 1 and c.reasons[0].startswith(failing)


def test_flat_natural_history_fails_the_precision_check():
    # A large, long cohort whose endpoint does not change: SE/|slope| is huge (infinite at exactly 0).
    c = characterize(curve(n_subjects=500, person_years=3000.0, slope=0.0, slope_se=0.05), **PLAN)
    assert c.adequate is False
    assert c.checks[2].value == np.inf and c.checks[2].passed is False


def test_undefined_precision_is_undecided():
    c = characterize(curve(slope_se=float("nan")), **PLAN)
    assert c.adequate is None
    assert "could not be computed" in c.reasons[0]


def test_failure_outranks_undecided():
    c = characterize(curve(n_subjects=3, slope_se=float("nan")), **PLAN)
    assert c.adequate is False


def test_rate_checks_subjects_person_years_and_events():
    assert names(characterize(rate(), **PLAN)) == ["subjects", "person_years", "events"]
    assert characterize(rate(), **PLAN).adequate is True
    assert characterize(rate(n_events=9), **PLAN).adequate is False
    assert characterize(rate(person_years=10.0), **PLAN).adequate is False


def test_survival_checks_subjects_and_events_only():
    c = characterize(survival(), **PLAN)
    assert names(c) == ["subjects", "events"]
    assert c.adequate is True
    assert characterize(survival(n_events=9), **PLAN).adequate is False


def test_other_objects_are_refused():
    with pytest.raises(TypeError, match="GrowthCurve"):
        characterize(object(), **PLAN)
