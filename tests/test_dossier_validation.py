"""Validation: each kind of bad input is reported as `file:line: field: found, expected`, all at once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pmpath.dossier import load_dossier
from pmpath.errors import DossierError, Finding, Severity

MINIMAL = Path(__file__).parent / "fixtures" / "minimal"


@pytest.fixture
def dossier(tmp_path: Path) -> Path:
    target = tmp_path / "dossier"
    shutil.copytree(MINIMAL, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def findings(path: Path) -> list[Finding]:
    with pytest.raises(DossierError) as exc:
        load_dossier(path)
    return exc.value.findings


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_minimal_fixture_is_valid(dossier: Path) -> None:
    loaded = load_dossier(dossier)
    assert [p.id for p in loaded.patients] == ["P1"]
    # mg/kg/d in the file is converted to the endpoint's g/kg/d
    assert loaded.patients[0].measurements["value"].tolist() == pytest.approx(
        [0.85, 0.86, 1.20, 1.30]
    )
    # study day 30 is 29 days after the first dose (there is no study day 0)
    assert loaded.patients[0].measurements["day"].tolist() == [-60, -30, 29, 89]


def test_malformed_yaml_names_the_line(dossier: Path) -> None:
    case = dossier / "patients/P1/case.yaml"
    edit(case, "  basis: molecular", "  basis: [molecular")
    (f,) = findings(dossier)
    assert f.path == "patients/P1/case.yaml"
    assert f.line is not None and f.line >= line_of(case, "basis:")
    assert "malformed YAML" in f.message


def test_malformed_csv(dossier: Path) -> None:
    (dossier / "patients/P1/measurements.csv").write_text(
        'study_day,endpoint,value,unit\n-1,"protein_tolerance,0.8,g/kg/d\n'
    )
    fs = findings(dossier)
    assert any(f.path == "patients/P1/measurements.csv" for f in fs)


def test_missing_referenced_file(dossier: Path) -> None:
    (dossier / "patients/P1/engagement.csv").unlink()
    (f,) = findings(dossier)
    assert (f.path, f.field) == ("patients/P1/case.yaml", "engagement")
    assert f.line == line_of(dossier / "patients/P1/case.yaml", "engagement:")
    assert "no file" in f.message


def test_unknown_endpoint(dossier: Path) -> None:
    edit(dossier / "patients/P1/measurements.csv", "-30,protein_tolerance", "-30,protien_tolerance")
    (f,) = findings(dossier)
    assert (f.path, f.line, f.field) == ("patients/P1/measurements.csv", 3, "endpoint")
    assert "unknown endpoint 'protien_tolerance'" in f.message and "protein_tolerance" in f.message


def test_unit_mismatch_is_not_converted_across_quantities(dossier: Path) -> None:
    edit(dossier / "patients/P1/measurements.csv", "0.86,g/kg/d", "0.86,{seizures}/mo")
    (f,) = findings(dossier)
    assert (f.path, f.line, f.field) == ("patients/P1/measurements.csv", 3, "unit")
    assert "for endpoint" in f.message and "'g/kg/d'" in f.message


def test_unknown_unit_in_platform(dossier: Path) -> None:
    platform = dossier / "platform.yaml"
    edit(platform, "unit: g/kg/d", "unit: grams")
    (f,) = findings(dossier)
    assert f.path == "platform.yaml" and f.field == "endpoints.0.unit"
    assert f.line == line_of(platform, "unit: grams")
    assert "UCUM" in f.message


def test_unit_mismatch_in_cohort(dossier: Path) -> None:
    cohort = dossier / "natural_history/cohort.yaml"
    edit(cohort, "units: {protein_tolerance: g/kg/d}", "units: {protein_tolerance: umol/L}")
    (f,) = findings(dossier)
    assert f.path == "natural_history/cohort.yaml" and f.line == line_of(cohort, "umol/L")
    assert "for endpoint" in f.message


def test_dates_out_of_order_and_after_cutoff(dossier: Path) -> None:
    case = dossier / "patients/P1/case.yaml"
    edit(
        case,
        "  - {date: 2026-01-10, dose: 0.5, unit: mg/kg}",
        "  - {date: 2026-01-10, dose: 0.5, unit: mg/kg}\n  - {date: 2026-01-01, dose: 0.5, unit: mg/kg}",
    )
    edit(dossier / "patients/P1/concomitant.csv", "2026-03-01", "2026-08-01")
    edit(dossier / "patients/P1/events.csv", "2026-01-10,2026-06-30", "2026-06-30,2026-01-10")
    fs = findings(dossier)
    messages = {(f.path, f.field): f for f in fs}
    assert (
        "expected doses in date order"
        in messages[("patients/P1/case.yaml", "dosing.1.date")].message
    )
    cutoff = messages[("patients/P1/concomitant.csv", "date")]
    assert cutoff.line == 2 and "data cutoff 2026-06-30" in cutoff.message
    order = messages[("patients/P1/events.csv", "end")]
    assert order.line == 3 and "ends on or after its start" in order.message


def test_negative_counts(dossier: Path) -> None:
    edit(dossier / "natural_history/crises.csv", "S2,1.5,3.0,crises,1", "S2,1.5,3.0,crises,-1")
    edit(dossier / "patients/P1/events.csv", "crises,2", "crises,-2")
    fs = findings(dossier)
    assert {(f.path, f.line, f.field) for f in fs} == {
        ("natural_history/crises.csv", 3, "count"),
        ("patients/P1/events.csv", 2, "count"),
    }
    assert all("expected a value >= 0" in f.message for f in fs)


def test_dosing_date_missing(dossier: Path) -> None:
    case = dossier / "patients/P1/case.yaml"
    edit(case, "  - {date: 2026-01-10, dose: 0.5, unit: mg/kg}", "  - {dose: 0.5, unit: mg/kg}")
    (f,) = findings(dossier)
    assert (f.path, f.field) == ("patients/P1/case.yaml", "dosing.0.date")
    assert f.line == line_of(case, "{dose: 0.5")
    assert "required field" in f.message


def test_no_dosing_at_all(dossier: Path) -> None:
    case = dossier / "patients/P1/case.yaml"
    edit(case, "dosing:\n  - {date: 2026-01-10, dose: 0.5, unit: mg/kg}\n", "")
    (f,) = findings(dossier)
    assert f.field == "dosing" and "required field" in f.message


def test_duplicate_patient_ids(dossier: Path) -> None:
    shutil.copytree(dossier / "patients/P1", dossier / "patients/P1-copy")
    (f,) = findings(dossier)
    assert (
        f.path == "patients/P1-copy/case.yaml"
        and f.field == "id"
        and "patient id 'P1', also in patients/P1/case.yaml" in f.message
    )


def test_therapy_without_invariant_component(dossier: Path) -> None:
    case = dossier / "patients/P1/case.yaml"
    edit(case, '    - {name: editor_mrna, version: "1.0"}\n', "")
    (f,) = findings(dossier)
    assert (f.path, f.field) == ("patients/P1/case.yaml", "therapy.components")
    assert f.line == line_of(case, "components:")
    assert "'editor_mrna'" in f.message


@pytest.mark.parametrize("bad", ["../outside.csv", "/etc/passwd"])
def test_paths_must_stay_inside_the_dossier(dossier: Path, bad: str) -> None:
    case = dossier / "patients/P1/case.yaml"
    edit(case, "measurements: measurements.csv", f"measurements: {bad}")
    (f,) = findings(dossier)
    assert f.field == "measurements" and f.line == line_of(case, "measurements:")
    assert "inside the dossier" in f.message or "relative" in f.message


def test_unknown_field_is_reported_not_ignored(dossier: Path) -> None:
    case = dossier / "patients/P1/case.yaml"
    edit(case, "synthetic: true", "synthetic: true\nmet: true")
    (f,) = findings(dossier)
    assert (
        f.field == "met" and f.line == line_of(case, "met: true") and "unknown field" in f.message
    )


def test_every_problem_is_reported_at_once(dossier: Path) -> None:
    edit(dossier / "patients/P1/measurements.csv", "-30,protein_tolerance", "-30,protien_tolerance")
    edit(dossier / "natural_history/crises.csv", "S2,1.5,3.0,crises,1", "S2,1.5,3.0,crises,-1")
    (dossier / "patients/P1/engagement.csv").unlink()
    assert len(findings(dossier)) == 3


def test_finding_format() -> None:
    f = Finding("patients/P1/case.yaml", 12, "dosing.0.date", "nothing", "this required field")
    assert (
        str(f)
        == "patients/P1/case.yaml:12: dosing.0.date: found nothing, expected this required field"
    )
    w = Finding("a.csv", None, "", "a\u202eb\nc", "x", Severity.warning)
    assert str(w) == "warning: a.csv: found a\\u202eb\\nc, expected x"
