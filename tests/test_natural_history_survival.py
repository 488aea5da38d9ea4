"""Known-answer tests of the natural-history Kaplan-Meier and Weibull fits: by hand and against R.

The R values are in tests/fixtures/natural_history/survival_fits.json, written by survival_fits.R
beside it (survival::survfit with conf.type = "log", quantile.survfit, survreg, and a direct
maximization of the left-truncated Weibull likelihood with optim).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from pmpath.errors import AnalysisError
from pmpath.natural_history import fit_survival
from pmpath.natural_history.survival import km_quantile

FIXTURES = Path(__file__).parent / "fixtures" / "natural_history"
R = json.loads((FIXTURES / "survival_fits.json").read_text())
COHORT = pd.read_csv(FIXTURES / "survival_cohort.csv")
Z95 = stats.norm.ppf(0.975)

# Six subjects: events at ages 1, 2, 3, 5; censored at 2 and 4.
SMALL = pd.DataFrame(
    {"subject": list("abcdef"), "age": [1.0, 2.0, 2.0, 3.0, 4.0, 5.0], "event": [1, 1, 0, 1, 0, 1]}
)


def _nan(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _r_data(case: str) -> pd.DataFrame:
    if case == "cohort_truncated":
        return COHORT
    if case == "cohort_from_birth":
        return COHORT.drop(columns="entry_age")
    frame = pd.DataFrame(R["km"][case]["data"])
    return frame.assign(subject=[f"s{i}" for i in range(len(frame))])


def test_kaplan_meier_by_hand():
    fit = fit_survival(SMALL, "death")
    # S(1) = 5/6; S(2) = 5/6 * 4/5 (5 at risk, the censoring at 2 counts as at risk); S(3) = 2/3 * 2/3;
    # age 4 is censored (no step); S(5) = 0 (1 at risk, 1 event).
    np.testing.assert_allclose(fit.timeline, [0, 1, 2, 3, 4, 5])
    np.testing.assert_allclose(fit.survival, [1, 5 / 6, 2 / 3, 4 / 9, 4 / 9, 0])
    assert fit.median == 3.0  # first age with S <= 0.5
    assert (fit.n_subjects, fit.n_events) == (6, 4)
    assert fit.person_years == pytest.approx(17.0)
    assert not fit.left_truncated
    np.testing.assert_allclose(fit.survival_at([0.5, 2.5, 10.0]), [1.0, 2 / 3, 0.0])


def test_log_greenwood_interval_by_hand():
    # R's default conf.type = "log": var(log S) = sum d / (n (n - d)); limits S exp(-/+ z sd), the upper capped at 1.
    fit = fit_survival(SMALL, "death")
    sd1 = np.sqrt(1 / 30)  # one event among 6 at risk
    assert fit.ci_lower[1] == pytest.approx(5 / 6 * np.exp(-Z95 * sd1))
    assert fit.ci_upper[1] == 1.0
    sd3 = np.sqrt(1 / 30 + 1 / 20 + 1 / 6)  # then 1 of 5, then 1 of 3
    assert fit.ci_lower[3] == pytest.approx(4 / 9 * np.exp(-Z95 * sd3))
    # where S is 0 the log interval does not exist (R: NA)
    assert np.isnan(fit.ci_lower[-1]) and np.isnan(fit.ci_upper[-1])


def test_median_not_reached():
    data = pd.DataFrame(
        {"subject": range(5), "age": [1.0, 2.0, 3.0, 4.0, 5.0], "event": [1, 0, 0, 0, 0]}
    )
    fit = fit_survival(data, "death")
    assert not fit.median_reached
    assert fit.median == np.inf
    assert np.isnan(fit.median_ci[0]) and np.isnan(fit.median_ci[1])


@pytest.mark.parametrize("case", list(R["km"]))
def test_kaplan_meier_against_r_survfit(case):
    """Curve, pointwise limits, numbers at risk, median and its limits as survfit / quantile.survfit.

    Tolerance 1e-12 (the arithmetic is the same; R's JSON carries 15 significant digits).
    """
    r = R["km"][case]
    fit = fit_survival(_r_data(case), case)
    # pmpath's timeline starts at age 0 (S = 1 there unless there are events at birth)
    at = slice(0, None) if r["time"][0] == 0 else slice(1, None)
    np.testing.assert_array_equal(fit.timeline[at], r["time"])
    np.testing.assert_allclose(fit.survival[at], r["surv"], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(fit.ci_lower[at], _nan(r["lower"]), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(fit.ci_upper[at], _nan(r["upper"]), rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(fit.n_at_risk[at], r["n_risk"])
    np.testing.assert_array_equal(fit.n_event[at], r["n_event"])
    median = np.inf if r["median"] is None else r["median"]
    assert fit.median == pytest.approx(median, rel=1e-12)
    np.testing.assert_allclose(
        fit.median_ci, _nan([r["median_lower"], r["median_upper"]]), rtol=1e-12
    )


def test_median_on_an_exact_half_plateau_is_its_midpoint():
    # Events at 1, 2, 3, 4: S = 0.5 from age 2 until the step at 3, median 2.5 (R), not 2.
    assert fit_survival(_r_data("plateau"), "x").median == 2.5
    # S = 0.5 from age 2 to the end of follow-up at 4 (censored at 3 and 4): (2 + 4) / 2.
    assert fit_survival(_r_data("plateau_end"), "x").median == 3.0
    assert R["km"]["plateau"]["median"] == 2.5 and R["km"]["plateau_end"]["median"] == 3.0


def test_median_upper_limit_is_not_estimable_when_the_curve_ends_at_zero():
    # SMALL ends at S = 0 (age 5); the upper pointwise limit stays at 1 until then and has no value at 0,
    # so the median's upper limit is not estimable (R: NA), not the last event age 5.
    fit = fit_survival(SMALL, "death")
    assert fit.median_ci[0] == 2.0
    assert np.isnan(fit.median_ci[1])
    assert R["km"]["small"]["median_upper"] is None


def test_left_truncation_changes_the_risk_sets():
    # Entry at 0.5 and 1.5 for the subjects out at 2: at age 1 only 4 subjects are at risk, not 6.
    r = R["km"]["truncated_small"]
    fit = fit_survival(_r_data("truncated_small"), "x")
    assert fit.left_truncated
    assert fit.n_at_risk[1] == 6 - 2 == r["n_risk"][0]
    assert fit.survival[1] == pytest.approx(3 / 4)
    data = _r_data("truncated_small")
    assert fit.person_years == pytest.approx(float((data["age"] - data["entry_age"]).sum()))


def test_left_truncated_curve_agrees_with_lifelines():
    # An independent implementation of delayed entry (lifelines' KaplanMeierFitter(entry=...)).
    from lifelines import KaplanMeierFitter

    fit = fit_survival(COHORT, "death")
    km = KaplanMeierFitter().fit(COHORT["age"], COHORT["event"], entry=COHORT["entry_age"])
    expected = km.survival_function_at_times(fit.timeline[1:]).to_numpy()
    np.testing.assert_allclose(fit.survival[1:], expected, rtol=1e-10)


def test_ignoring_delayed_entry_overstates_survival():
    # The simulated registry (true median 12 * log(2)^(1/1.6) = 9.5): from birth, subjects who
    # died before enrolling are missing, and the median is biased upwards.
    truncated = fit_survival(COHORT, "death")
    naive = fit_survival(COHORT.drop(columns="entry_age"), "death")
    true_median = 12 * np.log(2) ** (1 / 1.6)
    assert truncated.median_ci[0] < true_median < truncated.median_ci[1]
    assert naive.median > truncated.median


def test_empty_or_missing_entry_ages_mean_followed_from_birth():
    with_column = SMALL.assign(entry_age=[0.0, np.nan, None, 0.0, np.nan, 0.0])
    a, b = fit_survival(with_column, "d"), fit_survival(SMALL, "d")
    np.testing.assert_array_equal(a.survival, b.survival)
    assert not a.left_truncated


def test_entry_at_the_age_of_exit_is_left_out_with_a_note():
    data = SMALL.assign(
        entry_age=[0.0, 0.0, 2.0, 0.0, 0.0, 0.0]
    )  # subject c: entry 2, censored at 2
    fit = fit_survival(data, "d")
    reference = fit_survival(SMALL[SMALL["subject"] != "c"], "d")
    np.testing.assert_allclose(fit.survival_at([1, 2, 3, 5]), reference.survival_at([1, 2, 3, 5]))
    assert any("no time at risk" in n for n in fit.notes)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(
    rows=st.lists(
        st.tuples(st.integers(1, 20), st.integers(0, 19), st.booleans()), min_size=1, max_size=25
    )
)
def test_kaplan_meier_matches_brute_force_product_limit(rows):
    # S(t) = prod over event ages u <= t of (1 - d(u) / n(u)), n(u) = #{entry < u <= age}, counted directly.
    entry = np.array([min(e, a - 1) for a, e, _ in rows], dtype=float) / 2
    age = np.array([a for a, _, _ in rows], dtype=float) / 2
    event = np.array([int(x) for _, _, x in rows])
    fit = fit_survival(
        pd.DataFrame({"subject": range(len(rows)), "entry_age": entry, "age": age, "event": event}),
        "x",
    )
    s = 1.0
    for u in np.unique(age):
        n = int(np.sum((entry < u) & (u <= age)))
        d = int(np.sum((age == u) & (event == 1)))
        s *= 1 - d / n
        assert fit.survival_at(u)[0] == pytest.approx(s, abs=1e-12)


@pytest.mark.parametrize(
    ("curve", "expected"),
    [
        ([1.0, 0.75, 0.5, 0.25], 2.5),  # plateau at 0.5 between ages 2 and 3
        ([1.0, 0.75, 0.4, 0.25], 2.0),  # first age below 0.5
        ([1.0, 0.75, 0.75, 0.5], 3.0),  # plateau at the end: (3 + last age 3) / 2
        ([1.0, 0.9, 0.8, 0.7], np.nan),  # not reached
        ([1.0, 0.9, np.nan, np.nan], np.nan),  # a limit that stops (S = 0) before 0.5
    ],
)
def test_km_quantile_rule(curve, expected):
    got = km_quantile(np.array([0.0, 1.0, 2.0, 3.0]), np.array(curve))
    np.testing.assert_equal(got, expected)


@pytest.mark.parametrize("case", ["small", "cohort_from_birth"])
def test_weibull_against_r_survreg(case):
    """survreg(Surv(age, event) ~ 1, dist = "weibull"): lambda = exp(intercept), rho = 1 / scale.

    Tolerance 1e-8 relative: both are converged maximum-likelihood fits (R to its default 1e-9 on the
    log-likelihood).
    """
    r = R["weibull"][case]
    w = fit_survival(_r_data(case), case).weibull
    assert w is not None
    assert w.scale == pytest.approx(r["lambda"], rel=1e-8)
    assert w.shape == pytest.approx(r["rho"], rel=1e-8)
    assert w.median == pytest.approx(r["median"], rel=1e-8)
    assert w.log_likelihood == pytest.approx(r["loglik"], rel=1e-10)
    # covariance of (log lambda, log rho); R's is of (intercept, log sigma) = (log lambda, -log rho)
    flip = np.array([[1.0, -1.0], [-1.0, 1.0]])
    np.testing.assert_allclose(w.covariance, np.array(r["vcov"]) * flip, rtol=1e-7)
    se = np.sqrt(np.diag(w.covariance))
    assert w.scale_ci == pytest.approx(
        (r["lambda"] * np.exp(-Z95 * se[0]), r["lambda"] * np.exp(Z95 * se[0])), rel=1e-8
    )
    assert w.shape_ci[1] == pytest.approx(r["rho"] * np.exp(Z95 * r["se_log_rho"]), rel=1e-7)
    assert w.median_ci[0] == pytest.approx(
        r["median"] * np.exp(-Z95 * r["se_log_median"]), rel=1e-7
    )


@pytest.mark.parametrize("case", ["truncated_small", "cohort_truncated"])
def test_left_truncated_weibull_against_r_likelihood(case):
    """R maximizes the left-truncated likelihood with optim (BFGS then Nelder-Mead) and optimHess.

    Tolerance 1e-6 relative on the estimates and 1e-5 on the standard errors (optim's stopping rule
    and optimHess's finite differences), 1e-9 on the log-likelihood.
    """
    r = R["weibull"][case]
    w = fit_survival(_r_data(case), case).weibull
    assert w is not None
    assert w.scale == pytest.approx(r["lambda"], rel=1e-6)
    assert w.shape == pytest.approx(r["rho"], rel=1e-6)
    assert w.median == pytest.approx(r["median"], rel=1e-6)
    assert w.log_likelihood == pytest.approx(r["loglik"], rel=1e-9)
    se = np.sqrt(np.diag(w.covariance))
    np.testing.assert_allclose(se, [r["se_log_lambda"], r["se_log_rho"]], rtol=1e-5)


def test_truncated_weibull_recovers_the_simulation_truth():
    # survival_fits.R drew event ages from Weibull(shape 1.6, scale 12); entry ages 0-8.
    w = fit_survival(COHORT, "death").weibull
    assert w.shape_ci[0] < 1.6 < w.shape_ci[1]
    assert w.scale_ci[0] < 12.0 < w.scale_ci[1]
    naive = fit_survival(COHORT.drop(columns="entry_age"), "death").weibull
    assert naive.shape_ci[0] > 1.6  # ignoring delayed entry: the shape is biased upwards


def test_weibull_survival_function():
    w = fit_survival(SMALL, "death").weibull
    np.testing.assert_allclose(w.survival_at([0.0, w.median]), [1.0, 0.5])


def test_no_events_gives_no_weibull_fit():
    data = pd.DataFrame({"subject": range(3), "age": [1.0, 2.0, 3.0], "event": [0, 0, 0]})
    fit = fit_survival(data, "death")
    assert fit.weibull is None
    assert any("no events" in n for n in fit.notes)


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
        (
            pd.DataFrame(
                {"subject": [1, 2], "entry_age": [3.0, 0.0], "age": [1.0, 2.0], "event": [1, 0]}
            ),
            "entered at age 3, after the age at event or censoring 1",
        ),
        (
            pd.DataFrame(
                {"subject": [1, 2], "entry_age": ["x", 0.0], "age": [1.0, 2.0], "event": [1, 0]}
            ),
            "entry_age",
        ),
    ],
)
def test_unusable_tables_raise_analysis_error(frame, message):
    with pytest.raises(AnalysisError, match=message):
        fit_survival(frame, "death")


# --------------------------------------------------------------------------- the dossier's entry_age column

DEATH = {
    "id": "death",
    "name": "Death",
    "kind": "time_to_event",
    "unit": "a",
    "direction": "higher_is_better",
    "role": "primary",
}


def _write_cohort(small_dossier, root: Path, death: pd.DataFrame) -> Path:
    platform = small_dossier.platform([DEATH], data_cutoff="2025-06-30")
    subjects = pd.DataFrame({"subject": death["subject"].unique()})
    cohort = small_dossier.cohort(
        platform,
        subjects,
        [("time_to_event", "death.csv", death)],
        provenance={
            "source": "Invented registry",
            "citation": "Doe 2020",
            "collection": "synthetic",
        },
    )
    case = small_dossier.case(first_dose="2025-01-15", age_at_first_dose=4.0)
    return small_dossier.write(root, platform, cohort, case)


def test_loader_passes_entry_ages_to_the_fit(small_dossier, tmp_path):
    from pmpath.dossier import load_dossier

    data = _r_data("truncated_small").assign(endpoint="death")
    data = data[["subject", "entry_age", "age", "event", "endpoint"]]
    loaded = load_dossier(_write_cohort(small_dossier, tmp_path, data))
    table = loaded.cohorts["nh"].time_to_event
    np.testing.assert_allclose(table["entry_age"], data["entry_age"])
    fit = fit_survival(table, "death")
    np.testing.assert_allclose(fit.survival[1:], R["km"]["truncated_small"]["surv"], rtol=1e-12)


def test_loader_reports_an_entry_after_the_exit_with_file_and_line(small_dossier, tmp_path):
    from pmpath.dossier import load_dossier
    from pmpath.errors import DossierError

    data = pd.DataFrame(
        {
            "subject": ["a", "b", "c"],
            "entry_age": [0.0, 5.0, None],
            "age": [3.0, 4.0, 6.0],
            "event": [1, 0, 1],
            "endpoint": "death",
        }
    )
    with pytest.raises(DossierError) as exc:
        load_dossier(_write_cohort(small_dossier, tmp_path, data))
    findings = [f for f in exc.value.findings if f.field == "entry_age"]
    assert len(findings) == 1
    finding = findings[0]
    assert finding.path == "natural_history/death.csv"
    assert finding.line == 3  # header, subject a, subject b
    assert "5, after the age at event or censoring 4" in finding.found
