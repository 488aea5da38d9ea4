"""Comparability of the external control (criterion 3): the cohort.yaml and case.yaml fields, the flags, the table.

Small dossiers are written by the dossier writer (``write_dossier`` of
``test_criterion3_characterization``) and read back by the real loader. The truths are the
simulation's: every subject of that cohort has six score visits one year apart and one crisis
window, so visits per subject and person-years are known without the code.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from pmpath.dossier import load_dossier
from pmpath.dossier.model import Era, VisitSchedule
from pmpath.errors import DossierError, Finding
from pmpath.pathway.context import AssessmentContext
from pmpath.pathway.criteria.characterization import evaluate
from pmpath.pathway.flags import EXTERNAL_CONTROL_MISMATCH, EXTERNAL_CONTROL_NOT_STATED
from pmpath.pathway.verdict import Status
from test_criterion3_characterization import assess, write_dossier

COMPARABLE = {
    "era": {"first_year": 2015, "last_year": 2023},
    "countries": ["France"],
    "centres": ["Centre A", "Centre B"],
    "assays": {"score": "Motor scale v2, central reader", "crises": "admission records"},
    "visit_schedule": {"kind": "protocol_scheduled", "description": "yearly visits"},
}
SAME_ASSAYS = {"assays": {"score": "motor scale  V2, central reader"}}  # case and spacing differ


def kinds(verdict, kind: str) -> list:
    return [f for f in verdict.flags if f.kind == kind]


def rows(verdict) -> dict[str, tuple[str, str, str]]:
    return {r.field: (r.cohort, r.patient, r.status) for r in verdict.result.comparability}


def score_ages(root: Path) -> tuple[float, float]:
    """The youngest and oldest age the written cohort measured the score at (read from the file)."""
    table = pd.read_csv(root / "natural_history" / "scores.csv")
    return float(table["age"].min()), float(table["age"].max())


@pytest.fixture(scope="module")
def comparable(tmp_path_factory, small_dossier):
    root = write_dossier(
        small_dossier,
        tmp_path_factory.mktemp("comparable"),
        genotype_class="null/null",
        cohort_fields=COMPARABLE,
        case_fields=SAME_ASSAYS,
    )
    return root, *assess(root)


# ---------------------------------------------------------------------- flags


def test_a_comparable_cohort_has_no_mismatch(comparable):
    _, _, verdict = comparable
    assert verdict.status == Status.met
    assert kinds(verdict, EXTERNAL_CONTROL_MISMATCH) == []
    # the cohort names an assay for crises, the patient does not: the one thing not stated
    (info,) = kinds(verdict, EXTERNAL_CONTROL_NOT_STATED)
    assert (info.severity, info.endpoint) == ("info", "crises")
    assert "differs" not in verdict.summary
    table = rows(verdict)
    assert table["era of care"] == ("2015-2023", "first dose 2025", "ok")
    assert table["genotype class"] == ("null/null (40)", "null/null", "ok")
    assert table["assay for score"][2] == "ok"  # case and spacing are not a different assay
    assert table["assay for crises"] == ("admission records", "not stated", "not stated")
    assert table["countries"] == ("France", "", "reported")
    assert table["centres"] == ("Centre A, Centre B", "", "reported")
    assert table["visit schedule"] == ("protocol scheduled: yearly visits", "", "reported")


def test_assay_stated_by_one_side_only_is_an_info_flag(tmp_path, small_dossier):
    _, verdict = assess(
        write_dossier(
            small_dossier,
            tmp_path,
            genotype_class="null/null",
            cohort_fields={**COMPARABLE, "assays": {"score": "Motor scale v2, central reader"}},
            case_fields={"assays": {"score": "motor scale v2, central reader", "crises": "diary"}},
        )
    )
    (info,) = kinds(verdict, EXTERNAL_CONTROL_NOT_STATED)
    assert info.severity == "info" and info.endpoint == "crises"
    assert "assay for crises: not stated" in info.message


def test_age_more_than_a_year_outside_the_observed_ages_is_a_caveat(tmp_path, small_dossier):
    root = write_dossier(small_dossier, tmp_path / "probe", cohort_fields=COMPARABLE)
    lo, hi = score_ages(root)
    for age, mismatch in ((hi + 0.5, False), (hi + 1.5, True), (lo - 1.5, True), (lo - 0.9, False)):
        path = write_dossier(small_dossier, tmp_path / f"age{age}", age_at_first_dose=round(age, 3))
        _, verdict = assess(path)
        flagged = kinds(verdict, EXTERNAL_CONTROL_MISMATCH)
        assert bool(flagged) is mismatch, age
        assert verdict.status == Status.met  # a caveat, not a change of status
        assert verdict.result.age_within_cohort_range is (lo <= round(age, 3) <= hi)
        if mismatch:
            (f,) = flagged
            assert f.is_caveat and f.criterion == 3 and f.endpoint == "score"
            assert "more than 1 year outside" in f.message
            assert "age at first dose" in verdict.summary
            assert "the analysis plan declares no comparability rule" in verdict.summary


def test_no_cohort_subject_of_the_genotype_class_is_a_caveat(tmp_path, small_dossier):
    _, verdict = assess(write_dossier(small_dossier, tmp_path, genotype_class="missense"))
    (f,) = kinds(verdict, EXTERNAL_CONTROL_MISMATCH)
    assert f.is_caveat and "genotype class 'missense'" in f.message
    assert rows(verdict)["genotype class"] == ("null/null (40)", "missense", "mismatch")
    assert verdict.result.cohort_subjects_same_genotype_class == 0


@pytest.mark.parametrize(
    ("era", "status"),
    [
        ((2000, 2014), "mismatch"),
        ((2000, 2015), "ok"),
        ((2035, 2040), "ok"),
        ((2036, 2040), "mismatch"),
    ],
)
def test_an_era_more_than_ten_years_from_the_first_dose_is_a_caveat(
    tmp_path, small_dossier, era, status
):
    first, last = era
    _, verdict = assess(
        write_dossier(
            small_dossier,
            tmp_path,
            first_dose="2025-01-15",
            cohort_fields={"era": {"first_year": first, "last_year": last}},
        )
    )
    assert rows(verdict)["era of care"] == (f"{first}-{last}", "first dose 2025", status)
    flagged = [f for f in kinds(verdict, EXTERNAL_CONTROL_MISMATCH) if "era of care" in f.message]
    assert len(flagged) == (status == "mismatch")


def test_a_different_assay_for_an_endpoint_is_a_caveat(tmp_path, small_dossier):
    _, verdict = assess(
        write_dossier(
            small_dossier,
            tmp_path,
            cohort_fields={"assays": {"score": "Motor scale v2"}},
            case_fields={"assays": {"score": "Motor scale v3 (home video)"}},
        )
    )
    (f,) = kinds(verdict, EXTERNAL_CONTROL_MISMATCH)
    assert f.is_caveat and f.endpoint == "score"
    assert "Motor scale v3 (home video)" in f.message and "Motor scale v2" in f.message
    assert "assay for score" in verdict.summary and verdict.status == Status.met


def test_absent_fields_are_info_flags_not_silence(tmp_path, small_dossier):
    _, verdict = assess(write_dossier(small_dossier, tmp_path))  # no field stated, no genotype
    infos = kinds(verdict, EXTERNAL_CONTROL_NOT_STATED)
    assert all(f.severity == "info" for f in infos)
    assert [f.message.split(":")[0] for f in infos] == [
        "external control, genotype class",
        "external control, era of care",
        "external control, assay for score",
        "external control, countries or centres",
        "external control, visit schedule",
    ]
    assert kinds(verdict, EXTERNAL_CONTROL_MISMATCH) == []


def test_a_clinical_care_schedule_adds_its_assumption(tmp_path, small_dossier):
    _, verdict = assess(
        write_dossier(
            small_dossier, tmp_path, cohort_fields={"visit_schedule": {"kind": "clinical_care"}}
        )
    )
    assert any("clinical need" in a for a in verdict.assumptions)
    assert rows(verdict)["visit schedule"] == ("clinical care", "", "reported")


# ---------------------------------------------------------------------- rules as properties


@given(
    first=st.integers(1900, 2100),
    length=st.integers(0, 50),
    year=st.integers(1850, 2150),
)
def test_era_distance_is_the_nearest_year_of_the_era(first, length, year):
    last = min(first + length, 2100)
    era = Era(first_year=first, last_year=last)
    assert era.years_from(year) == min(abs(year - y) for y in range(first, last + 1))


# ---------------------------------------------------------------------- characterization quality


def test_quality_per_endpoint_matches_the_simulated_design(comparable):
    *_, verdict = comparable
    by_id = {e.endpoint: e for e in verdict.result.endpoints}
    score, crises, death = by_id["score"], by_id["crises"], by_id["death"]
    # six visits one year apart per subject, 40 subjects
    assert (score.visits_per_subject_mean, score.visits_per_subject_median) == (6.0, 6.0)
    assert score.person_years.value == pytest.approx(40 * 5.0)
    assert (crises.visits_per_subject_mean, crises.visits_per_subject_median) == (1.0, 1.0)
    assert death.visits_per_subject_mean is None  # time to event: one row per subject
    # SE/|slope| agrees with the Wald interval it is reported beside
    half_width = (score.slope_interval.high - score.slope_interval.low) / 2
    assert score.slope_relative_se == pytest.approx(
        half_width / 1.959964 / abs(score.slope.value), rel=1e-3
    )
    assert {c.name: c.plan_field for c in verdict.result.checks} == {
        "subjects": "analysis_plan.natural_history.min_subjects",
        "person_years": "analysis_plan.natural_history.min_person_years",
        "slope_relative_se": "analysis_plan.natural_history.max_slope_relative_se",
    }


def test_the_verdict_names_the_threshold_that_failed(tmp_path, small_dossier):
    _, verdict = assess(write_dossier(small_dossier, tmp_path, slope=0.0))
    assert verdict.status == Status.not_met
    assert "fails analysis_plan.natural_history.max_slope_relative_se" in verdict.summary
    assert verdict.result.reasons == [
        r for r in verdict.result.reasons if "analysis_plan.natural_history." in r
    ]


def test_a_fit_that_cannot_run_names_the_threshold_too(tmp_path, small_dossier):
    _, verdict = assess(write_dossier(small_dossier, tmp_path, n_subjects=1))
    assert verdict.status == Status.not_met
    assert "subjects 1 (required >= 20) fails analysis_plan.natural_history.min_subjects" in (
        verdict.summary
    )


# ---------------------------------------------------------------------- the table


class _Cells(HTMLParser):
    """The text of every table's cells, per row, and the captions."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.captions: list[str] = []
        self._cell: list[str] | None = None
        self._in_caption = False

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "caption":
            self._in_caption = True

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None
        elif tag == "caption":
            self._in_caption = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        elif self._in_caption:
            self.captions.append(data)


def test_the_comparability_table_in_html_and_text(tmp_path, small_dossier):
    _, verdict = assess(
        write_dossier(
            small_dossier,
            tmp_path,
            genotype_class="null/null",
            cohort_fields={**COMPARABLE, "era": {"first_year": 1990, "last_year": 2005}},
            case_fields=SAME_ASSAYS,
        )
    )
    cells = _Cells()
    cells.feed(verdict.result.to_html())
    assert "Comparability of the external control" in cells.captions
    assert ["Field", "Cohort", "Patient", "Result", "Rule"] in cells.rows
    era = next(r for r in cells.rows if r and r[0] == "era of care")
    assert era[:4] == ["era of care", "1990-2005", "first dose 2025", "mismatch"]
    assert next(r for r in cells.rows if r and r[0] == "genotype class")[3] == "ok"
    # the endpoint table carries the quality columns
    header = next(r for r in cells.rows if r and r[0] == "Endpoint")
    assert header[4:7] == ["Person-years", "Visits per subject, mean (median)", "SE/|slope|"]
    score = next(r for r in cells.rows if r and r[0] == "Motor score")
    assert score[4:6] == ["200", "6 (6)"]
    text = verdict.result.to_text()
    assert "era of care: 1990-2005 | first dose 2025: mismatch" in text
    assert "6 visits per subject (median 6)" in text


# ---------------------------------------------------------------------- the files


def test_fields_round_trip_through_the_writer_and_loader(comparable):
    root, ctx, _ = comparable
    cohort = ctx.dossier.cohorts["nh"].cohort
    assert cohort.era == Era(first_year=2015, last_year=2023)
    assert cohort.visit_schedule == VisitSchedule(
        kind="protocol_scheduled", description="yearly visits"
    )
    assert cohort.countries == ["France"] and cohort.centres == ["Centre A", "Centre B"]
    assert ctx.dossier.patients[0].case.assays == SAME_ASSAYS["assays"]
    assert "era:\n" in (root / "natural_history" / "cohort.yaml").read_text()


def findings(root: Path) -> list[Finding]:
    with pytest.raises(DossierError) as exc:
        load_dossier(root)
    return exc.value.findings


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


COHORT = "natural_history/cohort.yaml"


@pytest.mark.parametrize(
    ("text", "field", "found", "expected"),
    [
        (
            "    era: {first_year: 2020, last_year: 2010}\n",
            "cohorts.0.era",
            "last_year 2010 before first_year 2020",
            "last_year >= first_year",
        ),
        (
            "    era: {first_year: '2010', last_year: 2020}\n",
            "cohorts.0.era.first_year",
            "'2010'",
            "integer",
        ),
        ("    era: {first_year: 2010}\n", "cohorts.0.era.last_year", "nothing", "required"),
        (
            "    visit_schedule: {kind: weekly}\n",
            "cohorts.0.visit_schedule.kind",
            "weekly",
            "protocol_scheduled",
        ),
        (
            "    assays: {protien: lab A}\n",
            "cohorts.0.assays.protien",
            "unknown endpoint 'protien'",
            "score, crises",
        ),
        ("    countries: France\n", "cohorts.0.countries", "France", "list"),
    ],
)
def test_malformed_cohort_fields_name_file_field_found_expected(
    minimal_dossier, text, field, found, expected
):
    append(minimal_dossier / COHORT, text)
    # (an invalid cohort.yaml also leaves platform.yaml's disease without its cohort: not ours)
    (f,) = [f for f in findings(minimal_dossier) if f.path == COHORT]
    assert (f.path, f.field) == (COHORT, field)
    assert found in f.found and expected in f.expected
    assert f.line is not None


def test_malformed_case_assays_name_file_field_found_expected(minimal_dossier):
    append(minimal_dossier / "patients/p1/case.yaml", "assays:\n  scroe: Motor scale\n")
    (f,) = findings(minimal_dossier)
    assert (f.path, f.field) == ("patients/p1/case.yaml", "assays.scroe")
    assert "unknown endpoint 'scroe'" in f.found and "score" in f.found  # with the suggestion
    assert f.expected == "one of platform.yaml's endpoints: score, crises"
    assert f.line is not None


def test_era_rejects_reversed_years_at_construction():
    with pytest.raises(ValidationError, match="expected last_year >= first_year"):
        Era(first_year=2020, last_year=2019)


# ---------------------------------------------------------------------- the examples


def test_examples_state_every_field_and_flag_only_p02s_ammonia_assay(example_dossiers):
    for name, dossier in example_dossiers.items():
        ctx = AssessmentContext(dossier)
        for patient in dossier.patients:
            verdict = evaluate(ctx, patient)
            assert verdict.status == Status.met, (name, patient.id)
            assert kinds(verdict, EXTERNAL_CONTROL_NOT_STATED) == [], (name, patient.id)
            mismatched = [f.endpoint for f in kinds(verdict, EXTERNAL_CONTROL_MISMATCH)]
            expected = ["ammonia"] if (name, patient.id) == ("abe-ucd", "P02") else []
            assert mismatched == expected, (name, patient.id)
