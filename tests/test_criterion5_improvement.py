"""Criterion 5 end to end: small synthetic dossiers written to tmp_path by the dossier writer (see
conftest.py), read by the real loader, natural history fitted by criterion 3's `cohort_fits`, and
judged by the improvement adapter.

The cohort and the patient are simulated from known models, so whether the patient truly improved
is known: the untreated patient continues the cohort's course, the treated one is 15 points (about
three prediction SDs) above it, or has a tenth of the cohort's event rate.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pmpath.dossier import load_dossier
from pmpath.dossier.vocabulary import DAYS_PER_YEAR, offset_of_study_day
from pmpath.pathway.context import AssessmentContext
from pmpath.pathway.criteria.improvement import evaluate
from pmpath.pathway.verdict import Status
from pmpath.report.plots import criterion_graphics

FIRST_DOSE = "2025-01-10"
AGE_AT_DOSE = 8.0
PRE_DAYS = [-720, -540, -360, -180, -1]  # CDISC study days; -1 is the day before the first dose
POST_DAYS = [90, 180, 270, 365, 450]


def write_dossier(
    small_dossier,
    root: Path,
    *,
    benefit: float = 15.0,
    post_days: list[int] = POST_DAYS,
    outcome: dict | None = None,
    primary: str | tuple[str, ...] = "score",
    rate_ratio: float = 1.0,
) -> Path:
    rng = np.random.default_rng(7)
    endpoints = [
        {
            "id": "score",
            "name": "Motor score",
            "kind": "continuous",
            "unit": "{score}",
            "direction": "higher_is_better",
        },
        {
            "id": "crises",
            "name": "Metabolic crises",
            "kind": "count",
            "unit": "{crises}",
            "direction": "lower_is_better",
        },
    ]
    for e in endpoints:
        primaries = (primary,) if isinstance(primary, str) else primary
        e["role"] = "primary" if e["id"] in primaries else "supportive"
    platform = small_dossier.platform(endpoints, data_cutoff="2026-12-31")

    # cohort: score = 60 - 6 (age - 8) with subject SDs 6 (level) and 2 (slope), noise SD 3;
    # crises at 24 a year with gamma-distributed subject rates (dispersion 0.3)
    subjects = [f"S{i:03d}" for i in range(40)]
    rows, windows = [], []
    for s in subjects:
        start = rng.uniform(4, 10)
        b0, b1 = 60 + rng.normal(0, 6), -6 + rng.normal(0, 2)
        for age in start + np.arange(6.0):
            rows.append(
                (s, round(age, 3), "score", round(b0 + b1 * (age - 8) + rng.normal(0, 3), 3))
            )
        rate = 24 * rng.gamma(1 / 0.3, 0.3)
        windows.append(
            (s, round(start, 3), round(start + 2, 3), "crises", int(rng.poisson(rate * 2)))
        )
    cohort = small_dossier.cohort(
        platform,
        pd.DataFrame({"subject": subjects}),
        [
            ("longitudinal", "scores.csv", pd.DataFrame(rows, columns=["subject", "age", "endpoint", "value"])),
            ("events", "crises.csv", pd.DataFrame(windows, columns=["subject", "age_start", "age_end", "endpoint", "count"])),
        ],
        provenance={"source": "simulation", "collection": "synthetic"},
    )  # fmt: skip

    # the patient: their own untreated course, plus the benefit after the first dose
    measurements = []
    for sd in PRE_DAYS + post_days:
        age = AGE_AT_DOSE + offset_of_study_day(sd) / DAYS_PER_YEAR
        value = 57 - 5.5 * (age - 8) + rng.normal(0, 3) + (benefit if sd > 0 else 0.0)
        measurements.append((sd, "score", round(value, 2), "{score}"))
    # events: the year before in one period, then monthly periods for a year
    events = [(-365, -1, "crises", int(rng.poisson(26)))]
    for m in range(12):
        events.append(
            (1 + 30 * m, 30 * (m + 1), "crises", int(rng.poisson(26 * rate_ratio * 30 / 365.25)))
        )
    tables = {
        "measurements": pd.DataFrame(
            measurements, columns=["study_day", "endpoint", "value", "unit"]
        ),
        "events": pd.DataFrame(
            events, columns=["start_study_day", "end_study_day", "endpoint", "count"]
        ),
        "concomitant": pd.DataFrame(
            [
                (-1000, "medication", "started carnitine long before the first measurement"),
                (100, "diet", "protein liberalized"),
            ],
            columns=["study_day", "kind", "description"],
        ),
    }
    case = small_dossier.case(
        first_dose=FIRST_DOSE,
        age_at_first_dose=AGE_AT_DOSE,
        outcome=outcome,
        product_id="ASO-1",
        batch="B1",
    )
    return small_dossier.write(root, platform, cohort, case, tables)


def verdict_for(root: Path):
    dossier = load_dossier(root)
    return evaluate(AssessmentContext(dossier), dossier.patients[0])


def test_clear_benefit_is_met_with_concomitant_change_named(tmp_path, small_dossier):
    v = verdict_for(write_dossier(small_dossier, tmp_path))
    assert v.number == 5 and v.name == "Clinical improvement"
    assert v.status == Status.met, v.summary
    primary = v.result.primary
    assert primary.endpoint == "score" and primary.n_pre == 5 and primary.n_post == 5
    assert primary.effect.value == pytest.approx(15.0, abs=6.0)
    # only the change after the first measurement (study day -720) is named
    assert len(v.result.concomitant_since_baseline) == 1
    assert any("protein liberalized" in f.message for f in v.flags)
    assert not any("carnitine" in f.message for f in v.flags)
    # the change during the primary endpoint's follow-up bears on the verdict: a caveat, in study days
    (caveat,) = [f for f in v.caveats if f.kind == "concomitant_change"]
    assert caveat.criterion == 5 and caveat.endpoint == "score"
    assert "study day 100" in caveat.message and "study day 100" in v.summary
    assert "concomitant" in v.summary
    trajectory = v.figures[0]
    assert trajectory.kind == "trajectory" and trajectory.role == "primary"
    assert trajectory.concomitant[0].day == 99.0  # study day 100 = day 99 from first dose
    assert v.result.concomitant_since_baseline[0].study_day == 100
    # supportive count endpoint reported, not deciding
    assert [e.endpoint for e in v.result.supportive] == ["crises"]
    assert [(f.kind, f.role, f.endpoint) for f in v.figures[1:]] == [
        ("events", "supportive", "crises")
    ]
    paths = {e.path for e in v.evidence}
    assert {
        "natural_history/cohort.yaml",
        "natural_history/scores.csv",
        "patients/p1/measurements.csv",
        "patients/p1/concomitant.csv",
    } <= paths
    json.dumps(v.model_dump(mode="json"), allow_nan=False)
    graphics = criterion_graphics(v)
    assert graphics.notes == ()
    assert any(c.name == "trajectory" for c in graphics.charts)


def test_untreated_course_is_not_met(tmp_path, small_dossier):
    v = verdict_for(write_dossier(small_dossier, tmp_path, benefit=0.0))
    assert v.status == Status.not_met, v.summary


def test_too_few_post_dose_visits_is_insufficient(tmp_path, small_dossier):
    v = verdict_for(write_dossier(small_dossier, tmp_path, post_days=[90]))
    assert v.status == Status.insufficient
    assert "1 counted post-dose visit" in v.summary


def test_withdrawal_before_assessment_is_not_met(tmp_path, small_dossier):
    outcome = {"status": "withdrew", "date": "2025-05-01", "reason": "family moved"}
    v = verdict_for(write_dossier(small_dossier, tmp_path, post_days=[90], outcome=outcome))
    assert v.status == Status.not_met
    assert "withdrew" in v.summary and "family moved" in v.summary


def test_death_is_not_met_even_with_improvement(tmp_path, small_dossier):
    outcome = {"status": "died", "date": "2026-06-01", "reason": "respiratory failure"}
    v = verdict_for(write_dossier(small_dossier, tmp_path, outcome=outcome))
    assert v.result.primary.status == Status.met
    assert v.result.outcome_status == "died"
    assert v.status == Status.not_met and "died" in v.summary


def test_flaring_primary_endpoint(tmp_path, small_dossier):
    v = verdict_for(write_dossier(small_dossier, tmp_path, primary="crises", rate_ratio=0.05))
    assert v.status == Status.met, v.summary
    primary = v.result.primary
    assert primary.rate_ratio_interval.high < 1 and primary.gap_probability <= 0.05
    assert [(f.kind, f.role, f.endpoint) for f in v.figures] == [
        ("events", "primary", "crises"),
        ("trajectory", "supportive", "score"),
    ]
    (events,) = [f for f in v.figures if f.kind == "events"]
    assert events.untreated_rate_per_year == pytest.approx(primary.untreated_rate.value)
    json.dumps(v.model_dump(mode="json"), allow_nan=False)
    assert criterion_graphics(v).notes == ()
    assert "patients/p1/events.csv" in {e.path for e in v.evidence}


def test_flaring_primary_without_change_is_not_met(tmp_path, small_dossier):
    v = verdict_for(write_dossier(small_dossier, tmp_path, primary="crises", rate_ratio=1.0))
    assert v.status == Status.not_met, v.summary


# --------------------------------------------------------------------------- time to event


def write_survival_dossier(small_dossier, root: Path, *, cutoff: str, event_day: int | None):
    """Loss of walking: the cohort's ages at loss are exponential from age 3 (hazard 0.5 a year),
    so untreated, staying event-free from age 5 to age 5 + t has probability about exp(-0.5 t)."""
    rng = np.random.default_rng(11)
    endpoints = [
        {
            "id": "walking",
            "name": "Loss of independent walking",
            "kind": "time_to_event",
            "unit": "a",
            "direction": "higher_is_better",
            "role": "primary",
        }
    ]
    platform = small_dossier.platform(endpoints, data_cutoff=cutoff)
    subjects = [f"S{i:03d}" for i in range(300)]
    ages = 3 + rng.exponential(2.0, len(subjects))
    censor = rng.uniform(8, 20, len(subjects))
    frame = pd.DataFrame(
        {
            "subject": subjects,
            "age": np.round(np.minimum(ages, censor), 3),
            "event": (ages <= censor).astype(int),
            "endpoint": "walking",
        }
    )
    cohort = small_dossier.cohort(
        platform,
        pd.DataFrame({"subject": subjects}),
        [("time_to_event", "walking.csv", frame)],
        provenance={"source": "simulation", "collection": "synthetic"},
    )
    events = (
        pd.DataFrame(
            [(event_day, event_day, "walking", 1)],
            columns=["start_study_day", "end_study_day", "endpoint", "count"],
        )
        if event_day is not None
        else None
    )
    tables = {"events": events} if events is not None else {}
    case = small_dossier.case(first_dose=FIRST_DOSE, age_at_first_dose=5.0)
    return small_dossier.write(root, platform, cohort, case, tables)


@pytest.mark.parametrize(
    ("cutoff", "event_day", "expected"),
    [
        ("2033-01-10", None, Status.met),  # event-free 8 years: about exp(-4) = 0.018 untreated
        ("2026-01-10", None, Status.not_met),  # 1 year: about exp(-0.5) = 0.61
        ("2033-01-10", 200, Status.not_met),  # the event happened on study day 200
    ],
)
def test_time_to_event_against_the_untreated_curve(
    tmp_path, small_dossier, cutoff, event_day, expected
):
    v = verdict_for(
        write_survival_dossier(small_dossier, tmp_path, cutoff=cutoff, event_day=event_day)
    )
    assert v.status == expected, v.summary
    primary = v.result.primary
    assert primary.kind == "time_to_event" and primary.age_at_treatment.value == 5.0
    if event_day is None:
        years = primary.event_free_to.value - 5.0
        assert primary.probability == pytest.approx(np.exp(-0.5 * years), abs=0.08)
    else:
        assert primary.event_study_day == event_day and primary.probability is None


# --------------------------------------------------------------------------- several primaries


def test_two_primary_endpoints_are_combined_by_holm(tmp_path, small_dossier):
    v = verdict_for(write_dossier(small_dossier, tmp_path, primary=("score", "crises")))
    assert v.status == Status.met, v.summary
    rows = {r.endpoint: r for r in v.result.primaries}
    assert set(rows) == {"score", "crises"}
    assert rows["score"].status == Status.met and "Holm-adjusted p" in rows["score"].reason
    assert rows["crises"].status != Status.met  # no change in crises: judged on its own


def test_holm_turns_a_lone_borderline_success_into_a_failure():
    """p = 0.02 alone meets a one-sided 0.025; with a second primary at p = 0.5 its Holm-adjusted
    p is 0.04, so the combined verdict is not met (Holm 1979: p_(1) is compared with alpha / 2)."""
    from pmpath.dossier.model import Endpoint, ImprovementPlan
    from pmpath.pathway.criteria.improvement import EndpointResult, _combine_primaries

    a = Endpoint(
        id="a",
        name="A",
        kind="continuous",
        unit="{score}",
        direction="higher_is_better",
        role="primary",
    )
    b = Endpoint(
        id="b",
        name="B",
        kind="continuous",
        unit="{score}",
        direction="higher_is_better",
        role="primary",
    )
    results = {
        "a": EndpointResult(a, Status.met, "lower bound above 0", p_one_sided=0.02),
        "b": EndpointResult(b, Status.not_met, "no benefit", p_one_sided=0.5),
    }
    status, _, table = _combine_primaries([a, b], results, ImprovementPlan())
    assert status == Status.not_met
    assert table[0].status == Status.not_met and "0.04" in table[0].reason
    results["a"].p_one_sided = 0.01  # adjusted 0.02 < 0.025: met
    results["a"].reason = "lower bound above 0"
    status, main, _ = _combine_primaries([a, b], results, ImprovementPlan())
    assert status == Status.met and main.endpoint.id == "a"
