"""Whole-dossier assessment on the minimal fixture: flags and roles that come from the dossier itself."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import pmpath
from pmpath.pathway import PatientRole, Status

MINIMAL = Path(__file__).parent / "fixtures" / "minimal"


@pytest.fixture
def dossier(tmp_path: Path) -> Path:
    target = tmp_path / "dossier"
    shutil.copytree(MINIMAL, target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_minimal_fixture_cohort_is_too_small_so_the_patient_waits(dossier: Path) -> None:
    a = pmpath.assess(dossier)
    (p,) = a.patients
    # 3 cohort subjects against the default minimum of 20
    assert p.criterion(3).status == Status.not_met
    assert p.role == PatientRole.undecided and not p.success and not p.counts_toward_platform
    assert p.criterion(1).status == Status.met and p.criterion(2).status == Status.met
    assert a.platform.status.value == "collecting" and a.platform.streak == 0
    assert "priority: fatal childhood disease" in [f.message for f in p.flags]


def test_product_with_a_different_component_version_does_not_count(dossier: Path) -> None:
    edit(
        dossier / "patients/P1/case.yaml",
        '{name: lnp, version: "LNP-1"}',
        '{name: lnp, version: "LNP-2"}',
    )
    (p,) = pmpath.assess(dossier).patients
    assert p.role == PatientRole.excluded
    assert any("lnp: version 'LNP-2', platform 'LNP-1'" in f.message for f in p.flags)


def test_plan_fixed_after_first_dose_is_flagged(dossier: Path) -> None:
    edit(dossier / "platform.yaml", "fixed_on: 2025-01-01", "fixed_on: 2026-02-01")
    a = pmpath.assess(dossier)
    assert a.platform.analysis_plan_changed_after_first_dose
    assert any("after the first dose" in f.message for f in a.platform.flags)


def test_plan_hash_changes_with_any_threshold(dossier: Path) -> None:
    before = pmpath.assess(dossier).platform.analysis_plan_sha256
    edit(
        dossier / "platform.yaml",
        "fixed_on: 2025-01-01",
        "fixed_on: 2025-01-01\n  improvement:\n    alpha_one_sided: 0.05",
    )
    assert pmpath.assess(dossier).platform.analysis_plan_sha256 != before


def test_death_before_assessment_is_not_met_on_improvement(dossier: Path) -> None:
    case = dossier / "patients/P1/case.yaml"
    edit(
        case,
        "adverse_events: adverse_events.csv",
        "adverse_events: adverse_events.csv\noutcome: {status: died, date: 2026-01-20}",
    )
    (dossier / "patients/P1/measurements.csv").write_text(
        "study_day,endpoint,value,unit\n-60,protein_tolerance,0.85,g/kg/d\n-30,protein_tolerance,0.86,g/kg/d\n"
    )
    (p,) = pmpath.assess(dossier).patients
    assert p.criterion(5).status == Status.not_met
    assert any(f.message.startswith("died") for f in p.flags)


def test_adverse_events_are_listed_with_study_days(dossier: Path) -> None:
    (p,) = pmpath.assess(dossier).patients
    (ae,) = p.adverse_events
    # onset 2026-01-11, first dose 2026-01-10: study day 2
    assert (ae.study_day, ae.term, ae.serious, ae.relatedness, ae.grade) == (
        2,
        "Infusion reaction",
        False,
        "possible",
        1,
    )
